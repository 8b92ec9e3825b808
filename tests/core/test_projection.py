"""LSTMP (PyTorch proj_size): h_t = W_hr (o_t * tanh(c_t)), c of size n and h of size p.

Checked against the plain math.* loop of test_cell.py and against torch.nn.LSTM(proj_size=p)
outputs saved by scripts/fixtures/engine.py.
"""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from tests.core.test_cell import reference_loop

FIXTURES = Path(__file__).parent.parent / "fixtures" / "engine"


def projected(n, m, p, seed, peepholes=False):
    rng = np.random.default_rng(seed)
    params = LSTMParams.random(n, m, seed=seed, proj_size=p)
    params.W_f *= 3
    if peepholes:
        params = params.replace(p_i=rng.normal(size=n), p_f=rng.normal(size=n), p_o=rng.normal(size=n))
    return params


def test_shapes_and_sizes():
    params = LSTMParams.random(5, 3, seed=0, proj_size=2)
    assert params.n == 5 and params.h_size == 2 and params.m == 3
    assert params.U_f.shape == (5, 2) and params.W_hr.shape == (2, 5)
    assert "W_hr" in params.arrays()
    trace = run(params, np.zeros((4, 3)))
    assert trace.c.shape == (4, 5) and trace.h.shape == (4, 2) and trace.r.shape == (4, 5)
    assert trace.n == 5 and trace.h_size == 2 and trace.f.shape == (4, 5)
    plain = LSTMParams.random(5, 3, seed=0)
    assert plain.h_size == 5 and run(plain, np.zeros((2, 3))).h_size == 5


def test_wrong_shapes_are_named():
    arrays = LSTMParams.random(4, 3, seed=0, proj_size=2).arrays()
    bad = dict(arrays, U_g=np.zeros((4, 4)))
    with pytest.raises(LstmvizError, match=r"U_g has shape \(4, 4\), expected \(4, 2\) \(n=4, m=3, p=2\)"):
        LSTMParams(**bad)
    with pytest.raises(LstmvizError, match=r"W_hr has shape \(2, 3\), expected \(p, n\) = \(p, 4\)"):
        LSTMParams(**dict(arrays, W_hr=np.zeros((2, 3))))
    with pytest.raises(LstmvizError, match=r"h0 has shape \(4,\), expected \(2,\)"):
        LSTMParams(**arrays, h0=np.zeros(4))
    params = LSTMParams(**arrays)
    with pytest.raises(LstmvizError, match="h0 has 4 entries, expected p"):
        run(params, np.zeros((2, 3)), h0=np.zeros(4))
    with pytest.raises(LstmvizError, match="c0 has 2 entries, expected n = 4"):
        run(params, np.zeros((2, 3)), c0=np.zeros(2))


@pytest.mark.parametrize("n,m,p,T,seed", [(1, 1, 1, 4, 0), (4, 2, 2, 9, 1), (3, 5, 6, 12, 2)])
@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_run_matches_plain_loop(n, m, p, T, seed, peepholes, dtype):
    rng = np.random.default_rng(seed)
    params = projected(n, m, p, seed, peepholes)
    xs = rng.normal(size=(T, m))
    h0, c0 = rng.normal(size=p), rng.normal(size=n)
    trace = run(params, xs, h0=h0, c0=c0, dtype=dtype)
    ref = reference_loop(params, xs, h0, c0)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=0, atol=2e-5)
    assert trace.h.dtype == dtype and trace.r.dtype == dtype
    for key, value in ref.items():
        np.testing.assert_allclose(getattr(trace, key), value, **tol, err_msg=key)


def test_step_is_the_reference_for_projected_rows():
    params = projected(5, 3, 2, 7)
    xs = np.random.default_rng(7).normal(size=(10, 3))
    trace = run(params, xs)
    for t in range(10):
        s = step(params, xs[t], trace.h_prev(t), trace.c_prev(t))
        np.testing.assert_allclose(s.r, trace.r[t], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(s.h, trace.h[t], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(s.c, trace.c[t], rtol=1e-13, atol=1e-15)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), m=st.integers(1, 4), p=st.integers(1, 6), T=st.integers(1, 8),
       seed=st.integers(0, 2**31 - 1), peepholes=st.booleans())
def test_random_shapes_match_plain_loop(n, m, p, T, seed, peepholes):
    params = projected(n, m, p, seed, peepholes)
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, m)) * 2
    h0, c0 = rng.normal(size=p), rng.normal(size=n)
    trace = run(params, xs, h0=h0, c0=c0)
    ref = reference_loop(params, xs, h0, c0)
    for key in ("i", "f", "g", "o", "c", "r", "h", "zo"):
        np.testing.assert_allclose(getattr(trace, key), ref[key], rtol=1e-12, atol=1e-13, err_msg=key)
    assert np.array_equal(trace.h, trace.r @ params.W_hr.T) or np.allclose(
        trace.h, trace.r @ params.W_hr.T, rtol=1e-14, atol=1e-15)


def finite_difference(f, value, eps=1e-6):
    """Central differences of the scalar f at every entry of value."""
    grad = np.empty_like(value)
    for index in np.ndindex(value.shape):
        up, down = value.copy(), value.copy()
        up[index] += eps
        down[index] -= eps
        grad[index] = (f(up) - f(down)) / (2 * eps)
    return grad


@pytest.mark.parametrize("p", [2, 5])
@pytest.mark.parametrize("wrt,unit", [("h", 1), ("h", None), ("c", 2)])
def test_gradients_of_a_projected_cell_match_finite_differences(p, wrt, unit):
    from lstmviz.core.analysis.gradients import gradient_flow

    params = projected(4, 3, p, 11, peepholes=True)
    rng = np.random.default_rng(11)
    xs, h0, c0 = rng.normal(size=(6, 3)), rng.normal(size=p), rng.normal(size=4)
    T = 5

    def out(xs_, h0_=h0, c0_=c0):
        tr = run(params, xs_, h0=h0_, c0=c0_)
        value = tr.h[T] if wrt == "h" else tr.c[T]
        return value.sum() if unit is None else value[unit]

    flow = gradient_flow(params, run(params, xs, h0=h0, c0=c0), step=T, unit=unit, wrt=wrt)
    assert flow.dh.shape == (T + 1, p) and flow.dc.shape == (T + 1, 4) and flow.dh0.shape == (p,)
    tol = dict(rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(flow.dx, finite_difference(out, xs)[: T + 1], **tol)
    np.testing.assert_allclose(flow.dh0, finite_difference(lambda v: out(xs, h0_=v), h0), **tol)
    np.testing.assert_allclose(flow.dc0, finite_difference(lambda v: out(xs, c0_=v), c0), **tol)
    assert flow.direct_dc().shape == (T + 1, 4) and np.isfinite(flow.fprod).all()


def test_analyses_accept_h_and_c_of_different_sizes():
    from lstmviz.core.analysis.compare import trace_difference
    from lstmviz.core.analysis.saturation import gate_saturation
    from lstmviz.core.analysis.whatif import ClampGate, ZeroUnit, rerun

    params = projected(5, 2, 3, 12)
    xs = np.random.default_rng(12).normal(size=(20, 2))
    trace = run(params, xs)
    same = rerun(params, trace)
    for key in ("i", "c", "r", "h"):
        assert np.array_equal(getattr(same, key), getattr(trace, key)), key
    lesion = rerun(params, trace, [ZeroUnit(units=[4], steps=(5, 20)), ClampGate("f", 1.0, units=[0])])
    assert np.all(lesion.c[5:, 4] == 0) and np.all(lesion.r[5:, 4] == 0) and lesion.h.shape == (20, 3)
    np.testing.assert_allclose(lesion.h[7], params.W_hr @ lesion.r[7], rtol=1e-13)
    diff = trace_difference(trace, lesion)
    # f = 1 changes nothing at step 0, where c_{-1} = 0
    assert diff.first_divergence("c") == 1 and diff.first_divergence("h") == 1
    assert gate_saturation(trace) is not None


def test_explain_works_the_projection_through():
    from lstmviz.core.explain import explain

    params = projected(3, 2, 2, 13)
    xs = np.random.default_rng(13).normal(size=(4, 2))
    trace = run(params, xs)
    gate = explain(params, trace, 2, "f", unit=1).work
    assert len(gate.unit.recurrent_terms.terms) == 2  # U_f is n x p: p recurrent terms
    assert gate.unit.z == pytest.approx(trace.zf[2, 1], rel=1e-14)
    for unit in range(3):
        work = explain(params, trace, 2, "h", unit=unit).work
        assert work.units[unit].h == pytest.approx(trace.r[2, unit], rel=1e-14)
        proj = work.projection
        assert proj.row == min(unit, 1) and proj.h_size == 2 and len(proj.terms.terms) == 3
        assert proj.h == pytest.approx(proj.h_recorded, rel=1e-13, abs=1e-15)
        assert proj.h_recorded == trace.h[2, proj.row]
    concat = explain(params, trace, 1, "concat").work
    assert concat.blocks == (("h_{t-1}", 2), ("x_t", 2)) and len(concat.values) == 4


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("lstmp_*.npz")), ids=lambda p: p.stem)
def test_matches_torch_lstm_with_proj_size(path):
    # saved by scripts/fixtures/engine.py from torch.nn.LSTM(m, n, proj_size=p) itself
    with np.load(path, allow_pickle=False) as fx:
        fx = dict(fx)
    b = fx["bias_ih"] + fx["bias_hh"]
    params = LSTMParams.from_stacked(fx["weight_ih"], fx["weight_hh"], b, order="ifgo", W_hr=fx["weight_hr"])
    assert params.h_size == fx["h0"].size < params.n
    trace = run(params, fx["xs"], h0=fx["h0"], c0=fx["c0"])
    np.testing.assert_allclose(trace.h, fx["h"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.c[-1], fx["c_T"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.h[-1], fx["h_T"], rtol=0, atol=1e-12)
    # float32 math: float32 rounding, which these wide weights amplify step by step
    t32 = run(params, fx["xs"], h0=fx["h0"], c0=fx["c0"], dtype=np.float32)
    np.testing.assert_allclose(t32.h[:5], fx["h"][:5], rtol=0, atol=2e-5)
    np.testing.assert_allclose(t32.h, fx["h"], rtol=0, atol=1e-3)


def test_there_are_lstmp_fixtures():
    assert len(sorted(FIXTURES.glob("lstmp_*.npz"))) == 3
