from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.analysis.saturation import gate_histogram, gate_histograms, gate_saturation
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError


def _trace(recurrent="sigmoid", T=200, n=6, seed=0):
    params = LSTMParams.random(n, 3, seed=seed).replace(recurrent_activation=recurrent)
    # wide weights so that gates saturate both ways
    params = params.replace(**{k: v * 6 for k, v in params.arrays().items()})
    return run(params, np.random.default_rng(seed).normal(size=(T, 3)))


def plain_count(trace, gate, left, right, start=0, stop=None):
    stop = trace.T if stop is None else stop
    lefts, rights = [], []
    for k in range(trace.n):
        lo = hi = 0
        for t in range(start, stop):
            value = float(trace.gate(gate)[t, k])
            lo += value < left
            hi += value > right
        lefts.append(lo / (stop - start))
        rights.append(hi / (stop - start))
    return lefts, rights


@pytest.mark.parametrize("recurrent", ["sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize(("left", "right"), [(0.1, 0.9), (0.3, 0.6), (0.5, 0.5)])
def test_matches_a_plain_count(recurrent, left, right):
    trace = _trace(recurrent)
    sat = gate_saturation(trace, left, right)
    assert sat.gates == ("i", "f", "o")
    for gate in "ifo":
        lefts, rights = plain_count(trace, gate, left, right)
        np.testing.assert_array_equal(sat.left[gate], lefts)
        np.testing.assert_array_equal(sat.right[gate], rights)
        assert (sat.left[gate] > 0).any() and (sat.right[gate] > 0).any()
    rows = sat.rows()
    assert len(rows) == 3 * trace.n and rows[0][:2] == ("i", 0) and rows[-1][:2] == ("o", trace.n - 1)
    np.testing.assert_array_equal(sat.table()[:, 0], [r[2] for r in rows])
    np.testing.assert_array_equal(sat.saturated("f"), sat.left["f"] + sat.right["f"])


def test_step_range_and_exact_thresholds():
    trace = _trace(T=50)
    sat = gate_saturation(trace, steps=(10, 30))
    lefts, rights = plain_count(trace, "f", 0.1, 0.9, 10, 30)
    np.testing.assert_array_equal(sat.left["f"], lefts)
    assert sat.steps == (10, 30)
    # hard_sigmoid clips to exactly 0 and 1: strictly below 0.0 never counts
    hard = _trace("hard_sigmoid")
    assert not gate_saturation(hard, 0.0, 1.0).left["f"].any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(left=0.95, right=0.9), "left threshold 0.95 is above the right threshold 0.9"),
        (dict(left=float("nan")), "left threshold nan is not a finite number"),
        (dict(right="x"), "right threshold 'x' is not a number"),
        (dict(gates=("x",)), "gates"),
        (dict(steps=(5, 5)), "step range"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(LstmvizError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gate_saturation(_trace(T=20), **kwargs)


def test_histograms():
    trace = _trace()
    hists = gate_histograms(trace, bins=10)
    assert tuple(hists) == ("i", "f", "o")
    for gate, hist in hists.items():
        assert hist.counts.sum() == trace.T * trace.n
        assert hist.edges[0] == 0.0 and hist.edges[-1] == 1.0 and hist.counts.shape == (10,)
        expect, _ = np.histogram(trace.gate(gate), bins=10, range=(0, 1))
        np.testing.assert_array_equal(hist.counts, expect)
        assert hist.fractions.sum() == pytest.approx(1.0)
        assert hist.centers[0] == pytest.approx(0.05)
    g = gate_histogram(trace, "g", bins=4, units=[0, 2])
    assert g.edges[0] == -1.0 and g.counts.sum() == trace.T * 2
    with pytest.raises(LstmvizError, match="bins"):
        gate_histogram(trace, "f", bins=0)
    with pytest.raises(LstmvizError, match="units"):
        gate_histogram(trace, "f", units=[99])
