"""Gradient flow: against central finite differences written here, and against torch.autograd
fixtures (scripts/fixtures/autograd.py; committed, so no torch is needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstmviz.core.activations import activation
from lstmviz.core.analysis.gradients import cell_path_factor, forget_product, gradient_flow
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "autograd"


# -- a plain forward pass that lets a test nudge x_t, c_t or h_t --------------------------------
def forward(params, xs, h0, c0, nudge=None):
    """Returns (hs, cs) lists; nudge = (kind, t, j, eps) adds eps to x_t[j], c_t[j] or h_t[j]
    right after it is computed (for x: before step t reads it)."""
    rec = activation(params.recurrent_activation)
    act = activation(params.cell_activation)
    h, c = np.array(h0, dtype=float), np.array(c0, dtype=float)
    xs = np.array(xs, dtype=float)
    if nudge and nudge[0] == "x":
        xs[nudge[1], nudge[2]] += nudge[3]
    if nudge and nudge[0] in ("h0", "c0"):
        (h if nudge[0] == "h0" else c)[nudge[2]] += nudge[3]
    hs, cs = [], []
    for t in range(xs.shape[0]):
        z = {g: params.W(g) @ xs[t] + params.U(g) @ h + params.b(g) for g in "ifgo"}
        if params.p_i is not None:
            z["i"] = z["i"] + params.p_i * c
        if params.p_f is not None:
            z["f"] = z["f"] + params.p_f * c
        c = rec(z["f"]) * c + rec(z["i"]) * act(z["g"])
        if nudge and nudge[0] == "c" and nudge[1] == t:
            c = c.copy()
            c[nudge[2]] += nudge[3]
        if params.p_o is not None:
            z["o"] = z["o"] + params.p_o * c
        h = rec(z["o"]) * act(c)
        if nudge and nudge[0] == "h" and nudge[1] == t:
            h = h.copy()
            h[nudge[2]] += nudge[3]
        hs.append(h)
        cs.append(c)
    return hs, cs


def numeric(params, xs, h0, c0, step, unit, wrt, kind, t, j, eps=1e-5):
    def out(sign):
        hs, cs = forward(params, xs[: step + 1], h0, c0, (kind, t, j, sign * eps))
        v = (hs if wrt == "h" else cs)[step]
        return v.sum() if unit is None else v[unit]

    return (out(1) - out(-1)) / (2 * eps)


def random_cell(n, m, seed, peepholes=False, recurrent="sigmoid", cell="tanh", scale=0.9):
    rng = np.random.default_rng(seed)
    arrays = {}
    for g in "ifgo":
        arrays[f"W_{g}"] = rng.uniform(-scale, scale, (n, m))
        arrays[f"U_{g}"] = rng.uniform(-scale, scale, (n, n))
        arrays[f"b_{g}"] = rng.uniform(-scale, scale, n)
    if peepholes:
        for g in "ifo":
            arrays[f"p_{g}"] = rng.uniform(-scale, scale, n)
    return LSTMParams(**arrays, recurrent_activation=recurrent, cell_activation=cell)


CELLS = [
    pytest.param(dict(), id="standard"),
    pytest.param(dict(peepholes=True), id="peepholes"),
    pytest.param(dict(recurrent="hard_sigmoid"), id="hard_sigmoid"),
    pytest.param(dict(peepholes=True, recurrent="hard_sigmoid_keras3"), id="peep-hard-keras3"),
    pytest.param(dict(cell="relu", scale=0.5), id="relu-cell"),
]


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(("step", "unit", "wrt"), [(7, 1, "h"), (7, 2, "c"), (4, None, "h"), (7, None, "c")])
def test_matches_finite_differences(cell, step, unit, wrt):
    n, m, T = 3, 2, 8
    params = random_cell(n, m, seed=step * 10 + (9 if unit is None else unit) + 100 * (wrt == 'c'), **cell)
    rng = np.random.default_rng(5)
    xs, h0, c0 = rng.normal(size=(T, m)), rng.normal(size=n) * 0.5, rng.normal(size=n) * 0.5
    trace = run(params.replace(h0=h0, c0=c0), xs)
    flow = gradient_flow(params, trace, step=step, unit=unit, wrt=wrt)
    assert flow.dx.shape == (step + 1, m) and flow.dc.shape == (step + 1, n)
    for t in range(step + 1):
        for j in range(m):
            expect = numeric(params, xs, h0, c0, step, unit, wrt, "x", t, j)
            assert flow.dx[t, j] == pytest.approx(expect, abs=1e-8), ("dx", t, j)
        for j in range(n):
            expect_c = numeric(params, xs, h0, c0, step, unit, wrt, "c", t, j)
            assert flow.dc[t, j] == pytest.approx(expect_c, abs=1e-8), ("dc", t, j)
            expect_h = numeric(params, xs, h0, c0, step, unit, wrt, "h", t, j)
            assert flow.dh[t, j] == pytest.approx(expect_h, abs=1e-8), ("dh", t, j)
    for j in range(n):
        for name, value in (("h0", flow.dh0[j]), ("c0", flow.dc0[j])):
            expect = numeric(params, xs, h0, c0, step, unit, wrt, name, 0, j)
            assert value == pytest.approx(expect, abs=1e-8), (name, j)


def _fixture_params(data) -> LSTMParams:
    activation_name = str(data["recurrent_activation"])
    if str(data["kind"]) == "torch":
        return LSTMParams.from_stacked(
            data["weight_ih"], data["weight_hh"], data["bias_ih"] + data["bias_hh"], order="ifgo",
            recurrent_activation=activation_name,
        )
    keys = [k for k in data.files if k[:2] in ("W_", "U_", "b_", "p_")]
    return LSTMParams(**{k: data[k] for k in keys}, recurrent_activation=activation_name)


FIXTURE_FILES = sorted(FIXTURES.glob("*.npz"))


def test_fixtures_exist():
    assert len(FIXTURE_FILES) >= 4


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.stem for p in FIXTURE_FILES])
def test_matches_torch_autograd(path):
    with np.load(path) as data:
        params = _fixture_params(data)
        trace = run(params, data["xs"], h0=data["h0"], c0=data["c0"])
        for j, (step, unit, wrt) in enumerate(data["cases"].tolist()):
            flow = gradient_flow(params, trace, step=step, unit=None if unit < 0 else unit,
                                 wrt="hc"[wrt])
            np.testing.assert_allclose(flow.dx, data[f"dx_{j}"], rtol=0, atol=1e-8)
            np.testing.assert_allclose(flow.dc, data[f"dc_{j}"], rtol=0, atol=1e-8)
            np.testing.assert_allclose(flow.dh, data[f"dh_{j}"], rtol=0, atol=1e-8)
            np.testing.assert_allclose(flow.dh0, data[f"dh0_{j}"], rtol=0, atol=1e-8)
            np.testing.assert_allclose(flow.dc0, data[f"dc0_{j}"], rtol=0, atol=1e-8)
            if f"dc_carry_{j}" in data.files:
                np.testing.assert_allclose(flow.dc_carry, data[f"dc_carry_{j}"], rtol=0, atol=1e-8)


def test_sum_over_units_is_the_sum_of_units():
    params = random_cell(4, 3, seed=2)
    trace = run(params, np.random.default_rng(0).normal(size=(20, 3)))
    for wrt in "hc":
        total = gradient_flow(params, trace, unit=None, wrt=wrt)
        parts = [gradient_flow(params, trace, unit=k, wrt=wrt) for k in range(4)]
        for name in ("dx", "dc", "dh", "dz", "dc_carry", "dh0", "dc0"):
            np.testing.assert_allclose(getattr(total, name), sum(getattr(p, name) for p in parts), atol=1e-12)
        np.testing.assert_allclose(total.fprod, total.fprod_units.mean(axis=1))


def test_forget_product_and_direct_path():
    params = random_cell(3, 2, seed=3)
    trace = run(params, np.random.default_rng(1).normal(size=(15, 2)))
    step, k = 11, 1
    fp = forget_product(trace, step, k)
    for t in range(step + 1):
        expect = 1.0
        for s in range(t + 1, step + 1):
            expect *= trace.f[s, k]
        assert fp[t] == pytest.approx(expect, rel=1e-14)
    assert forget_product(trace, step).shape == (step + 1, 3)
    flow = gradient_flow(params, trace, step, k, "c")
    np.testing.assert_allclose(flow.fprod, fp)
    direct = flow.direct_dc()
    assert direct[step, k] == 1.0 and not direct[:, [0, 2]].any()
    np.testing.assert_allclose(direct[:, k], fp)
    # dc_t/dc_{t-1} is f_t on the direct path (no peepholes)
    np.testing.assert_array_equal(cell_path_factor(params, trace, 5), trace.f[5])
    # with wrt='h' the direct path is scaled by dh_T/dc_T = o_T tanh'(c_T)
    flow_h = gradient_flow(params, trace, step, k, "h")
    scale = trace.o[step, k] * (1 - np.tanh(trace.c[step, k]) ** 2)
    np.testing.assert_allclose(flow_h.direct_dc()[:, k], fp * scale)
    assert flow_h.dc[step, k] == pytest.approx(scale)


def test_forget_gate_closed_cuts_the_gradient():
    """f near 0 at one step: almost nothing of c before it reaches c_T on the direct path."""
    zero = np.zeros((1, 1))
    params = LSTMParams(
        W_i=zero, U_i=zero, b_i=np.array([0.0]), W_f=np.array([[-40.0]]), U_f=zero, b_f=np.array([20.0]),
        W_g=np.array([[1.0]]), U_g=zero, b_g=np.array([0.0]), W_o=zero, U_o=zero, b_o=np.array([0.0]),
    )
    xs = np.zeros((10, 1))
    xs[5] = 1.0  # f_5 = sigmoid(-20): the memory is wiped at step 5
    trace = run(params, xs)
    flow = gradient_flow(params, trace, wrt="c", unit=0)
    assert flow.fprod[4] < 1e-8 and flow.fprod[5] > 0.99
    assert abs(flow.dc[4, 0]) < 1e-8 and flow.dc[6, 0] > 0.99


def test_cell_path_factor_with_peepholes():
    params = random_cell(3, 2, seed=4, peepholes=True)
    rng = np.random.default_rng(2)
    xs, c0 = rng.normal(size=(6, 2)), rng.normal(size=3)
    trace = run(params, xs, c0=c0)
    t, eps = 3, 1e-6
    factor = cell_path_factor(params, trace, t)
    # nudge c_{t-1} holding h_{t-1} fixed: step t alone
    from lstmviz.core.cell import step as one_step

    for j in range(3):
        c_plus, c_minus = trace.c[t - 1].copy(), trace.c[t - 1].copy()
        c_plus[j] += eps
        c_minus[j] -= eps
        up = one_step(params, xs[t], trace.h[t - 1], c_plus).c[j]
        down = one_step(params, xs[t], trace.h[t - 1], c_minus).c[j]
        assert factor[j] == pytest.approx((up - down) / (2 * eps), abs=1e-8)


def test_float32_trace_and_accessors():
    params = random_cell(4, 3, seed=6)
    xs = np.random.default_rng(3).normal(size=(30, 3))
    f64 = gradient_flow(params, run(params, xs), 20, 2)
    f32 = gradient_flow(params, run(params, xs, dtype=np.float32), 20, 2)
    assert f32.dx.dtype == np.float64
    np.testing.assert_allclose(f32.dx, f64.dx, atol=1e-5)
    assert f64.dz_gate("o").shape == (21, 4)
    np.testing.assert_allclose(f64.dz_gate("f"), f64.dz[:, 4:8])
    assert f64.norm("dc").shape == (21,)
    logs = f64.log_magnitude("dc", floor=1e-10)
    assert logs.shape == (21, 4) and logs.min() >= -10.0
    np.testing.assert_allclose(logs[20, 2], np.log10(abs(f64.dc[20, 2])))
    with pytest.raises(LstmvizError, match="'zz'"):
        f64.log_magnitude("zz")
    np.testing.assert_array_equal(f64.steps, np.arange(21))


def test_bad_arguments():
    params = random_cell(3, 2, seed=7)
    trace = run(params, np.zeros((5, 2)))
    for kwargs, text in [
        (dict(step=5), "step 5 is not in 0..4"),
        (dict(step=-1), "step -1 is not in 0..4"),
        (dict(unit=3), "unit 3 is not in 0..2"),
        (dict(wrt="x"), "wrt 'x'"),
        (dict(step=1.5), "not an integer"),
    ]:
        with pytest.raises(LstmvizError, match=text.replace("(", r"\(").replace(".", r"\.")):
            gradient_flow(params, trace, **kwargs)
    with pytest.raises(LstmvizError, match="n = 4"):
        gradient_flow(random_cell(4, 2, seed=1), trace)


def test_long_run_gives_finite_gradients():
    """T = 10 000, n = 64 stays finite (its speed is measured by scripts/bench_analysis.py, not here)."""
    params = LSTMParams.random(64, 8, seed=0)
    trace = run(params, np.random.default_rng(0).normal(size=(10_000, 8)))
    flow = gradient_flow(params, trace, unit=5)
    assert np.isfinite(flow.dx).all() and np.abs(flow.dx).max() > 0


def test_reverse_direction_is_with_respect_to_what_the_cell_read():
    """A backward-direction cell reads the sequence back to front: trace.x is that reversed
    sequence, and row t of dx belongs to the t-th element it read."""
    forward_cell = random_cell(3, 2, seed=8)
    backward_cell = forward_cell.replace(reverse=True)
    xs = np.random.default_rng(4).normal(size=(9, 2))
    trace = run(backward_cell, xs)
    np.testing.assert_array_equal(trace.x, xs[::-1])
    got = gradient_flow(backward_cell, trace, unit=1)
    expect = gradient_flow(forward_cell, run(forward_cell, xs[::-1]), unit=1)
    np.testing.assert_allclose(got.dx, expect.dx, atol=1e-15)
