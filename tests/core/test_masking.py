"""Keras Masking: a step whose x_t equals mask_value in every column keeps c and h.

Checked against the plain math.* loop of test_cell.py (which carries the state the way
Keras's LSTM does at a masked step); the Keras fixture itself is tested with the readers.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from tests.core.test_cell import reference_loop


def masked_sequence(T, m, rows, value=0.0, seed=0):
    xs = np.random.default_rng(seed).normal(size=(T, m))
    xs[list(rows)] = value
    return xs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("proj_size", [None, 2])
def test_masked_steps_carry_the_state(dtype, proj_size):
    params = LSTMParams.random(4, 3, seed=3, proj_size=proj_size).replace(mask_value=0.0)
    xs = masked_sequence(9, 3, [0, 3, 4, 8])
    xs[6, 1] = 0.0  # one column equal to the mask value is not enough
    trace = run(params, xs, dtype=dtype)
    assert trace.mask.tolist() == [True, False, False, True, True, False, False, False, True]
    assert np.all(trace.h[0] == 0) and np.all(trace.c[0] == 0)  # masked before any input: h0, c0
    for t in (3, 4, 8):
        assert np.array_equal(trace.h[t], trace.h[t - 1]) and np.array_equal(trace.c[t], trace.c[t - 1])
    assert not np.array_equal(trace.h[6], trace.h[5])
    ref = reference_loop(params, xs, mask_value=0.0)
    tol = dict(rtol=1e-12, atol=1e-13) if dtype == np.float64 else dict(rtol=0, atol=2e-5)
    for key, value in ref.items():
        if key == "r" and proj_size is None:
            continue
        np.testing.assert_allclose(getattr(trace, key), value, **tol, err_msg=key)


def test_gates_at_a_masked_step_are_what_the_step_would_compute():
    params = LSTMParams.random(3, 2, seed=1).replace(mask_value=-1.0)
    xs = masked_sequence(5, 2, [2], value=-1.0, seed=1)
    masked, unmasked = run(params, xs), run(params.replace(mask_value=None), xs)
    assert unmasked.mask is None
    for key in ("zi", "zf", "zg", "zo", "i", "f", "g", "o"):  # same inputs up to step 2
        np.testing.assert_array_equal(getattr(masked, key)[:3], getattr(unmasked, key)[:3])
    assert not np.allclose(masked.c[2], unmasked.c[2])
    s = step(params, xs[2], masked.h[1], masked.c[1])
    assert s.masked and np.array_equal(s.c, masked.c[1]) and np.array_equal(s.h, masked.h[1])
    np.testing.assert_allclose(s.f, masked.f[2], rtol=1e-13)


def test_no_mask_value_masks_nothing():
    params = LSTMParams.random(3, 2, seed=1)
    trace = run(params, np.zeros((3, 2)))
    assert trace.mask is None and not np.array_equal(trace.h[1], trace.h[0])


def test_mask_value_must_be_finite():
    with pytest.raises(LstmvizError, match="mask_value is nan"):
        LSTMParams.random(3, 2, seed=1).replace(mask_value=float("nan"))


def test_a_stack_is_masked_by_the_users_sequence():
    # Keras hands the Masking layer's mask to every LSTM of the stack: the upper layer carries
    # its state at the steps where the raw input is masked, although its own input (the lower
    # layer's h, carried too) never equals the mask value.
    lower = LSTMParams.random(3, 2, seed=1).replace(mask_value=0.0)
    upper = LSTMParams.random(4, 3, seed=2).replace(mask_value=0.0, upstream=((lower,),))
    xs = masked_sequence(6, 2, [2, 3], seed=2)
    trace = run(upper, xs)
    assert trace.mask.tolist() == [False, False, True, True, False, False]
    assert np.array_equal(trace.h[3], trace.h[1]) and np.array_equal(trace.c[3], trace.c[1])
    lower_h = reference_loop(lower, xs, mask_value=0.0)["h"]
    ref = reference_loop(upper.replace(upstream=(), mask_value=None), lower_h)
    # the same upper cell run by hand, carrying at the raw sequence's masked steps
    np.testing.assert_allclose(trace.h[:2], ref["h"][:2], rtol=1e-12, atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 5), m=st.integers(1, 3), T=st.integers(1, 10), seed=st.integers(0, 2**31 - 1),
       proj=st.booleans(), peepholes=st.booleans(), data=st.data())
def test_random_masks_match_plain_loop(n, m, T, seed, proj, peepholes, data):
    rows = data.draw(st.sets(st.integers(0, T - 1)))
    rng = np.random.default_rng(seed)
    params = LSTMParams.random(n, m, seed=seed, proj_size=2 if proj else None).replace(mask_value=0.5)
    if peepholes:
        params = params.replace(p_i=rng.normal(size=n), p_f=rng.normal(size=n), p_o=rng.normal(size=n))
    xs = masked_sequence(T, m, rows, value=0.5, seed=seed)
    trace = run(params, xs)
    ref = reference_loop(params, xs, mask_value=0.5)
    assert trace.mask.tolist() == [t in rows for t in range(T)]
    for key in ("i", "o", "c", "h"):
        np.testing.assert_allclose(getattr(trace, key), ref[key], rtol=1e-12, atol=1e-13, err_msg=key)


@pytest.mark.parametrize("proj_size", [None, 2])
@pytest.mark.parametrize("wrt", ["h", "c"])
def test_gradients_through_masked_steps_match_finite_differences(proj_size, wrt):
    from lstmviz.core.analysis.gradients import forget_product, gradient_flow
    from tests.core.test_projection import finite_difference

    params = LSTMParams.random(3, 2, seed=4, proj_size=proj_size).replace(mask_value=0.0)
    xs = masked_sequence(7, 2, [1, 4, 6], seed=4)  # the target step 6 is masked too
    h0 = np.random.default_rng(4).normal(size=params.h_size)
    c0 = np.random.default_rng(5).normal(size=3)

    def out(xs_, c0_=c0):
        keep = xs_.copy()
        keep[[1, 4, 6]] = 0.0  # perturb only the unmasked entries: the mask stays as it is
        tr = run(params, keep, h0=h0, c0=c0_)
        return (tr.h[6] if wrt == "h" else tr.c[6])[1]

    trace = run(params, xs, h0=h0, c0=c0)
    flow = gradient_flow(params, trace, step=6, unit=1, wrt=wrt)
    expected = finite_difference(out, xs)
    expected[[1, 4, 6]] = 0.0  # a masked input changes nothing
    np.testing.assert_allclose(flow.dx, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(flow.dc0, finite_difference(lambda v: out(xs, v), c0), rtol=1e-6, atol=1e-9)
    assert np.all(flow.dz[[1, 4, 6]] == 0)
    fp = forget_product(trace, 6)
    np.testing.assert_allclose(fp[3], trace.f[5], rtol=1e-15)  # steps 4 and 6 carry: factor 1
