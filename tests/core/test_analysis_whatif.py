from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lstmviz.core.analysis.whatif import (
    BiasOffset,
    ClampGate,
    ZeroUnit,
    difference,
    intervention_from_dict,
    interventions_from_list,
    interventions_to_list,
    rerun,
)
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError


def _sig(z):
    return 1.0 / (1.0 + math.exp(-z))


def _hard(z):
    return min(1.0, max(0.0, 0.2 * z + 0.5))


def plain_rerun(params, xs, h0, c0, interventions):
    """Unit by unit, step by step, with Python floats: the reference for rerun()."""
    rec = _hard if params.recurrent_activation == "hard_sigmoid" else _sig
    T, n = xs.shape[0], params.n
    h, c = list(map(float, h0)), list(map(float, c0))
    hs, cs, gates = [], [], []

    def active(iv, t, k):
        return (iv.steps is None or iv.steps[0] <= t < iv.steps[1]) and (iv.units is None or k in iv.units)

    for t in range(T):
        z = {}
        for g in "ifgo":
            z[g] = []
            for k in range(n):
                v = float(params.b(g)[k])
                v += sum(params.W(g)[k, j] * xs[t, j] for j in range(xs.shape[1]))
                v += sum(params.U(g)[k, j] * h[j] for j in range(n))
                for iv in interventions:
                    if isinstance(iv, BiasOffset) and iv.gate == g and active(iv, t, k):
                        v += iv.delta
                z[g].append(v)
        if params.p_i is not None:
            for k in range(n):
                z["i"][k] += params.p_i[k] * c[k]
                z["f"][k] += params.p_f[k] * c[k]
        a = {g: [rec(v) for v in z[g]] for g in "ifo"}
        a["g"] = [math.tanh(v) for v in z["g"]]
        for iv in interventions:
            if isinstance(iv, ClampGate) and iv.gate != "o":
                for k in range(n):
                    if active(iv, t, k):
                        a[iv.gate][k] = iv.value
        c = [a["f"][k] * c[k] + a["i"][k] * a["g"][k] for k in range(n)]
        if params.p_o is not None:
            a["o"] = [rec(z["o"][k] + params.p_o[k] * c[k]) for k in range(n)]
        for iv in interventions:
            if isinstance(iv, ClampGate) and iv.gate == "o":
                for k in range(n):
                    if active(iv, t, k):
                        a["o"][k] = iv.value
        h = [a["o"][k] * math.tanh(c[k]) for k in range(n)]
        for iv in interventions:
            if isinstance(iv, ZeroUnit):
                for k in range(n):
                    if active(iv, t, k):
                        c[k] = h[k] = 0.0
        hs.append(h)
        cs.append(c)
        gates.append([a[g][k] for g in "ifgo" for k in range(n)])
    return np.array(hs), np.array(cs), np.array(gates)


def _cell(n=4, m=2, seed=0, peepholes=False, recurrent="sigmoid"):
    params = LSTMParams.random(n, m, seed=seed)
    changes = {"recurrent_activation": recurrent}
    if peepholes:
        rng = np.random.default_rng(seed)
        changes.update(p_i=rng.uniform(-1, 1, n), p_f=rng.uniform(-1, 1, n), p_o=rng.uniform(-1, 1, n))
    return params.replace(**{k: v * 3 for k, v in params.arrays().items()}, **changes)


INTERVENTIONS = [
    (),
    (ClampGate("f", 1.0, units=[1], steps=(3, 9)),),
    (ClampGate("f", 0.0),),
    (ClampGate("i", 0.0, units=(0, 2)), ClampGate("o", 0.5, steps=(0, 4))),
    (ZeroUnit(units=3, steps=(5, 6)), BiasOffset("f", -2.5, units=[0, 1])),
    (BiasOffset("g", 1.0, steps=(2, 7)), ClampGate("g", -0.3, units=[2], steps=(4, 12)), ZeroUnit(units=[0])),
]


@pytest.mark.parametrize(
    "interventions", INTERVENTIONS, ids=lambda ivs: "+".join(iv.kind for iv in ivs) or "none"
)
@pytest.mark.parametrize(
    "cell", [dict(), dict(peepholes=True, recurrent="hard_sigmoid")], ids=["std", "peep-hard"]
)
def test_matches_a_plain_loop(interventions, cell):
    params = _cell(**cell)
    rng = np.random.default_rng(1)
    xs, h0, c0 = rng.normal(size=(12, 2)), rng.normal(size=4), rng.normal(size=4)
    trace = run(params, xs, h0=h0, c0=c0)
    new = rerun(params, trace, interventions)
    hs, cs, gates = plain_rerun(params, xs, h0, c0, interventions)
    np.testing.assert_allclose(new.h, hs, atol=1e-12)
    np.testing.assert_allclose(new.c, cs, atol=1e-12)
    for j, g in enumerate("ifgo"):
        np.testing.assert_allclose(new.gate(g), gates[:, j * 4 : (j + 1) * 4], atol=1e-12)
    if not interventions:
        for name in ("i", "f", "g", "o", "c", "h", "zf", "zo"):
            np.testing.assert_allclose(new.quantity(name), trace.quantity(name), atol=1e-12)


def test_clamp_forget_keeps_memory_and_difference():
    params = _cell()
    xs = np.random.default_rng(2).normal(size=(30, 2))
    trace = run(params, xs)
    hold = [ClampGate("f", 1.0, units=[2], steps=(10, 30)), ClampGate("i", 0.0, units=[2], steps=(10, 30))]
    keep = rerun(params, trace, hold)
    # with f = 1 and i = 0 the cell state of unit 2 is frozen after step 9
    np.testing.assert_allclose(keep.c[10:, 2], trace.c[9, 2], atol=1e-15)
    diff = difference(trace, keep)
    assert diff.first_divergence("c") == 10
    assert diff.max_abs("c")[2] > 0 and diff.delta("h").shape == (30, 4)
    assert diff.per_step("c")[:10].max() == 0.0
    assert set(diff.summary()) == {"i", "f", "g", "o", "c", "h"}
    # float32 traces stay float32
    t32 = run(params, xs, dtype=np.float32)
    assert rerun(params, t32, [ZeroUnit()]).h.dtype == np.float32
    assert not rerun(params, t32, [ZeroUnit()]).h.any()


def test_interventions_are_values_for_an_undo_stack_and_a_document():
    ivs = (ClampGate("f", 1, units=[3, 1, 3], steps=[2, 5]), ZeroUnit(units=4), BiasOffset("o", -1.5))
    assert ivs[0].units == (1, 3) and ivs[0].steps == (2, 5) and ivs[0].value == 1.0
    assert ivs[0] == ClampGate("f", 1.0, units=(1, 3), steps=(2, 5))
    assert len({*ivs, *ivs}) == 3  # hashable
    with pytest.raises(AttributeError):
        ivs[0].value = 0.0  # frozen
    data = json.loads(json.dumps(interventions_to_list(ivs)))
    assert data[0] == {"kind": "clamp", "gate": "f", "value": 1.0, "units": [1, 3], "steps": [2, 5]}
    assert interventions_from_list(data) == ivs
    assert intervention_from_dict(ivs[2].to_dict()) == ivs[2]
    assert ivs[0].describe() == "f = 1 (units 1, 3, steps 2..4)"
    assert ZeroUnit().describe() == "h = c = 0 (all units, every step)"
    assert ivs[2].describe() == "b_o - 1.5 (all units, every step)"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ClampGate("x", 1.0), "gate 'x'"),
        (lambda: ClampGate("f", float("inf")), "clamp value inf is not finite"),
        (lambda: ZeroUnit(units=[]), "units is empty"),
        (lambda: ZeroUnit(steps=(4, 2)), "steps"),
        (lambda: BiasOffset("f", "a"), "bias offset 'a' is not a number"),
        (lambda: intervention_from_dict({"kind": "nope"}), "unknown intervention kind 'nope'"),
        (lambda: intervention_from_dict({"kind": "zero", "colour": 1}), "bad zero intervention"),
    ],
)
def test_bad_interventions(make, message):
    with pytest.raises(LstmvizError, match=message):
        make()


def test_out_of_range_for_the_trace():
    params = _cell()
    trace = run(params, np.zeros((5, 2)))
    with pytest.raises(LstmvizError, match="unit 7 is not in 0..3"):
        rerun(params, trace, [ZeroUnit(units=7)])
    with pytest.raises(LstmvizError, match="the trace ends at 4"):
        rerun(params, trace, [ClampGate("f", 0.0, steps=(2, 9))])
    with pytest.raises(LstmvizError, match="not an intervention"):
        rerun(params, trace, ["f=0"])


def test_long_run_applies_clamps_only_inside_their_steps():
    params = LSTMParams.random(64, 8, seed=0)
    trace = run(params, np.random.default_rng(0).normal(size=(10_000, 8)))
    interventions = [ClampGate("f", 1.0, units=[1, 2], steps=(100, 5000)), ZeroUnit(units=3, steps=(50, 60))]
    after = rerun(params, trace, interventions)
    assert (after.f[100:5000, [1, 2]] == 1.0).all() and (after.h[50:60, 3] == 0).all()
    np.testing.assert_array_equal(after.h[:50], trace.h[:50])
