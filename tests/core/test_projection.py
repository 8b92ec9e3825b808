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
