from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstmviz.core.analysis.compare import (
    find_matching_spans,
    greedy_assignment,
    linear_sum_assignment,
    match_span,
    match_units,
    select_span_units,
    trace_difference,
    unit_correlation,
)
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError


def brute_force(cost):
    r, c = cost.shape
    best = None
    if r <= c:
        for cols in itertools.permutations(range(c), r):
            total = cost[np.arange(r), cols].sum()
            best = total if best is None or total < best else best
    else:
        for rows in itertools.permutations(range(r), c):
            total = cost[rows, np.arange(c)].sum()
            best = total if best is None or total < best else best
    return best


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 5), (6, 6), (3, 5), (5, 3), (2, 6)])
@pytest.mark.parametrize("seed", range(6))
def test_assignment_is_optimal(shape, seed):
    rng = np.random.default_rng(seed)
    cost = rng.normal(size=shape)
    if seed % 3 == 0:
        cost = np.round(cost)  # ties
    rows, cols = linear_sum_assignment(cost)
    assert len(rows) == min(shape) and len(set(rows)) == len(rows) and len(set(cols)) == len(cols)
    assert np.all(np.diff(rows) > 0)
    assert cost[rows, cols].sum() == pytest.approx(brute_force(cost))
    rows_max, cols_max = linear_sum_assignment(cost, maximize=True)
    assert cost[rows_max, cols_max].sum() == pytest.approx(-brute_force(-cost))


def test_assignment_larger_and_empty():
    rng = np.random.default_rng(0)
    perm = rng.permutation(40)
    cost = rng.uniform(1, 2, (40, 40))
    cost[np.arange(40), perm] = 0.0  # a unique zero-cost permutation
    rows, cols = linear_sum_assignment(cost)
    np.testing.assert_array_equal(cols, perm)
    empty = linear_sum_assignment(np.zeros((0, 3)))
    assert empty[0].size == 0 and empty[1].size == 0
    with pytest.raises(LstmvizError, match="non-finite"):
        linear_sum_assignment([[np.nan]])


def _permuted_copy(trace: Trace, perm: np.ndarray, flip=None) -> Trace:
    """The same run with units renumbered: unit perm[j] of the copy is unit j of the original."""
    inv = np.argsort(perm)
    n = trace.n
    cols = np.concatenate([k * n + inv for k in range(4)])
    sign = np.ones(n) if flip is None else flip
    return Trace(
        x=trace.x, z=trace.z[:, cols], a=trace.a[:, cols], c=trace.c[:, inv] * sign[inv],
        h=trace.h[:, inv] * sign[inv], h0=trace.h0[inv], c0=trace.c0[inv], gate_order=trace.gate_order,
    )


def test_match_units_recovers_a_permutation():
    params = LSTMParams.random(10, 3, seed=1)
    trace = run(params, np.random.default_rng(0).normal(size=(300, 3)))
    perm = np.random.default_rng(4).permutation(10)
    other = _permuted_copy(trace, perm)
    for method in ("optimal", "greedy"):
        matching = match_units(trace, other, "h", method=method)
        np.testing.assert_array_equal(matching.partner, perm)
        np.testing.assert_allclose(matching.corr, 1.0)
        assert matching.pairs()[0][2] == pytest.approx(1.0)
    flip = np.where(np.arange(10) % 2 == 0, 1.0, -1.0)
    flipped = _permuted_copy(trace, perm, flip)
    matching = match_units(trace, flipped, "c", absolute=True)
    np.testing.assert_array_equal(matching.partner, perm)
    np.testing.assert_allclose(np.abs(matching.corr), 1.0)
    with pytest.raises(LstmvizError, match="method"):
        match_units(trace, other, method="fancy")


def test_unit_correlation_constant_units_and_lengths():
    params = LSTMParams.random(3, 1, seed=0)
    a = run(params, np.zeros((20, 1)) + 0.0)
    b = run(params, np.random.default_rng(0).normal(size=(20, 1)))
    corr = unit_correlation(a, b, "i")  # a settles quickly but not to an exact constant
    assert corr.shape == (3, 3) and np.all(np.abs(corr) <= 1)
    const = Trace(x=a.x, z=np.zeros_like(a.z), a=np.zeros_like(a.a), c=np.zeros_like(a.c),
                  h=np.zeros_like(a.h), h0=a.h0, c0=a.c0)
    assert not unit_correlation(const, b).any()
    with pytest.raises(LstmvizError, match="different lengths"):
        unit_correlation(a, run(params, np.zeros((5, 1))))


def test_greedy_can_be_worse_than_optimal():
    score = np.array([[10.0, 9.0], [9.0, 0.0]])
    g_rows, g_cols = greedy_assignment(score)
    o_rows, o_cols = linear_sum_assignment(score, maximize=True)
    assert score[g_rows, g_cols].sum() == 10.0 and score[o_rows, o_cols].sum() == 18.0


def test_trace_difference_shapes():
    params = LSTMParams.random(3, 1, seed=0)
    a = run(params, np.zeros((8, 1)))
    with pytest.raises(LstmvizError, match="different shape"):
        trace_difference(a, run(params, np.zeros((9, 1))))
    diff = trace_difference(a, a)
    assert diff.first_divergence() is None and diff.summary()["h"] == 0.0


def _synthetic(on_spans: dict[int, list[tuple[int, int]]], T=60, n=5) -> Trace:
    h = np.full((T, n), -0.5)
    for k, spans in on_spans.items():
        for s, e in spans:
            h[s:e, k] = 0.8
    zeros4 = np.zeros((T, 4 * n))
    return Trace(x=np.zeros((T, 1)), z=zeros4, a=zeros4, c=h.copy(), h=h, h0=np.zeros(n), c0=np.zeros(n))


def test_match_view_selects_units_and_finds_spans():
    trace = _synthetic({
        0: [(10, 15), (30, 35), (50, 52)],
        1: [(10, 15), (30, 36), (50, 52)],
        2: [(8, 20), (40, 45)],   # on around the query span too: not selected
        3: [(10, 15), (50, 52)],
        4: [(50, 52)],            # also on at 50..51: makes that match less specific
    })
    units = select_span_units(trace, 10, 15, 0.3, "h")
    assert units == (0, 1, 3)
    assert select_span_units(trace, 10, 15, 0.3, "h", pad_before=0, pad_after=0) == (0, 1, 2, 3)
    result = match_span(trace, 10, 15, 0.3, "h")
    assert result.units == (0, 1, 3)
    spans = [(m.start, m.stop) for m in result.matches]
    # 50..51: all three on and off around it (4 also on: union 4);
    # 30..34/35: only units 0 and 1 (min_overlap defaults to all selected, so it is not listed)
    assert spans[0] == (50, 52)
    best = result.matches[0]
    assert best.on_units == (0, 1, 3, 4) and best.intersection == 3 and best.union == 4
    assert best.jaccard == pytest.approx(0.75) and best.missing == 0 and best.length == 2
    assert all(not (s < 15 and e > 10) for s, e in spans)  # the query span itself is excluded
    partial = find_matching_spans(trace, (0, 1, 3), 0.3, min_overlap=2, exclude=(10, 15))
    found = {(m.start, m.stop): m for m in partial}
    assert (30, 35) in found and found[(30, 35)].intersection == 1 and found[(30, 35)].missing == 2
    assert [(m.start, m.stop) for m in partial][0] == (50, 52)
    assert find_matching_spans(trace, (), 0.3) == []


def test_match_view_bad_input():
    trace = _synthetic({0: [(1, 3)]})
    with pytest.raises(LstmvizError, match="span"):
        select_span_units(trace, 5, 5, 0.3)
    with pytest.raises(LstmvizError, match="threshold"):
        select_span_units(trace, 1, 3, float("nan"))
    with pytest.raises(LstmvizError, match="quantity"):
        select_span_units(trace, 1, 3, 0.3, "q")
    with pytest.raises(LstmvizError, match="units"):
        find_matching_spans(trace, [9], 0.3)
    with pytest.raises(LstmvizError, match="min_overlap"):
        find_matching_spans(trace, [0], 0.3, min_overlap=2)
