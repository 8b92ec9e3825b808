"""Every step loop of lstmviz.core.kernels against the reference step() and a plain math.* loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmviz.core import kernels
from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from tests.core.test_cell import reference_loop

QUANTITIES = ("zi", "zf", "zg", "zo", "i", "f", "g", "o", "c", "h")


def loop(variant, params, xs, h0, c0, dtype=np.float64):
    dtype = np.dtype(dtype)
    with np.errstate(over="ignore"):
        if variant == "general":
            return kernels.run_general(params, xs.astype(dtype), h0.astype(dtype), c0.astype(dtype), dtype)
        return kernels.run_fast(params, xs.astype(dtype), h0.astype(dtype), c0.astype(dtype), dtype,
                                variant=variant)


VARIANTS = (*kernels.FAST_VARIANTS, "general")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("proj_size", [None, 3])
def test_each_loop_matches_step_row_by_row(variant, proj_size):
    params = LSTMParams.random(6, 4, seed=3, proj_size=proj_size)
    params.W_g *= 4
    rng = np.random.default_rng(3)
    xs = rng.normal(size=(25, 4)) * 2
    h0, c0 = rng.normal(size=params.h_size), rng.normal(size=6)
    trace = loop(variant, params, xs, h0, c0)
    assert trace.gate_order == kernels.FAST_ORDER
    for t in range(25):
        ref = step(params, xs[t], trace.h_prev(t), trace.c_prev(t))
        for key in QUANTITIES:
            got, want = getattr(trace, key)[t], getattr(ref, key)
            if key.startswith("z"):  # a sum of products, summed in another order by BLAS
                assert np.all(np.abs(got - want) <= 4 * np.spacing(np.abs(want)) + 1e-15), (key, t)
            else:  # gates, c, h: within 1e-15 absolute of the reference, at every step
                assert np.abs(got - want).max() <= 1e-15, (key, t)
        if proj_size:
            assert np.abs(trace.r[t] - ref.r).max() <= 1e-15


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_loop_matches_the_plain_loop(variant):
    params = LSTMParams.random(5, 3, seed=4, proj_size=2)
    rng = np.random.default_rng(4)
    xs = rng.normal(size=(30, 3))
    h0, c0 = rng.normal(size=2), rng.normal(size=5)
    trace = loop(variant, params, xs, h0, c0)
    ref = reference_loop(params, xs, h0, c0)
    for key, value in ref.items():
        np.testing.assert_allclose(getattr(trace, key), value, rtol=1e-12, atol=1e-13, err_msg=key)


def test_the_default_loop_equals_the_general_loop_bit_for_bit():
    # run() picks the fast loop, the what-if reruns the general loop: a rerun without changes
    # must not show a difference.
    for dtype in (np.float64, np.float32):
        for proj_size in (None, 4):
            params = LSTMParams.random(7, 3, seed=5, proj_size=proj_size)
            rng = np.random.default_rng(5)
            xs = rng.normal(size=(40, 3))
            h0, c0 = np.zeros(params.h_size), np.zeros(7)
            fast, general = loop(kernels.DEFAULT_VARIANT, params, xs, h0, c0, dtype), loop(
                "general", params, xs, h0, c0, dtype)
            for key in QUANTITIES:
                same_bits = getattr(fast, key).tobytes() == getattr(general, key).tobytes()
                assert same_bits, (dtype, proj_size, key)


def test_the_default_and_general_loops_agree_on_signed_zeros():
    # i = f = 0 (sigmoid of -800), g < 0 and c_{-1} < 0 make both products of
    # c_t = i * g + f * c_{t-1} -0: the two loops must still write the same bits
    # (tobytes tells -0 from +0, array_equal does not).
    params = LSTMParams.random(4, 2, seed=8)
    params.b_i[...] = params.b_f[...] = -800.0
    params.b_g[...] = -30.0
    xs, h0, c0 = np.zeros((5, 2)), np.zeros(4), np.full(4, -1.0)
    for dtype in (np.float64, np.float32):
        fast = loop(kernels.DEFAULT_VARIANT, params, xs, h0, c0, dtype)
        general = loop("general", params, xs, h0, c0, dtype)
        assert np.all(fast.c == 0.0)
        for key in QUANTITIES:
            assert getattr(fast, key).tobytes() == getattr(general, key).tobytes(), (dtype, key)


@pytest.mark.parametrize("variant", kernels.FAST_VARIANTS)
def test_float32_loops_compute_in_float32(variant):
    params = LSTMParams.random(8, 4, seed=6)
    xs = np.random.default_rng(6).normal(size=(50, 4))
    t32 = loop(variant, params, xs, np.zeros(8), np.zeros(8), np.float32)
    assert all(getattr(t32, k).dtype == np.float32 for k in (*QUANTITIES, "x"))
    ref = reference_loop(params, xs)
    for key in QUANTITIES:
        np.testing.assert_allclose(getattr(t32, key), ref[key], rtol=0, atol=3e-6, err_msg=key)
    # float32 math, not float64 rounded at the end: the float64 loop differs by more than its ulp
    t64 = loop(variant, params, xs, np.zeros(8), np.zeros(8))
    assert not np.array_equal(t32.h, t64.h.astype(np.float32))


@pytest.mark.parametrize("variant", kernels.FAST_VARIANTS)
def test_saturated_gates_are_exact_in_every_loop(variant):
    # z far beyond exp's range: exp(-z) is 0 or inf, and 1 / (1 + inf) = 0 (no NaN, no warning)
    n = 3
    params = LSTMParams.random(n, 1, seed=0).replace(
        b_i=np.full(n, 800.0), b_f=np.full(n, -800.0), b_o=np.full(n, 1e300), b_g=np.full(n, -1e300),
        **{f"U_{g}": np.zeros((n, n)) for g in "ifgo"},
    )
    trace = loop(variant, params, np.zeros((2, 1)), np.zeros(n), np.ones(n))
    assert np.all(trace.i == 1) and np.all(trace.f == 0) and np.all(trace.o == 1) and np.all(trace.g == -1)
    assert np.all(trace.zo == 1e300) and np.all(trace.zg == -1e300)  # recorded z unscaled exactly


def test_exp1_records_z_exactly_where_doubling_overflows():
    n = 2
    params = LSTMParams.random(n, 1, seed=0).replace(b_g=np.full(n, 1.5e308), U_g=np.zeros((n, n)))
    trace = loop("exp1", params, np.zeros((2, 1)), np.zeros(n), np.zeros(n))
    assert np.all(trace.zg == 1.5e308) and np.all(trace.g == 1.0)


def test_run_uses_the_fast_loop_for_projected_cells_and_general_otherwise(monkeypatch):
    calls = []
    real_fast, real_general = kernels.run_fast, kernels.run_general
    def spy(name, real):
        return lambda *a, **k: calls.append(name) or real(*a, **k)

    monkeypatch.setattr(kernels, "run_fast", spy("fast", real_fast))
    monkeypatch.setattr(kernels, "run_general", spy("general", real_general))
    xs = np.zeros((3, 2))
    run(LSTMParams.random(3, 2, seed=0, proj_size=2), xs)
    run(LSTMParams.random(3, 2, seed=0).replace(mask_value=1.0), xs)
    run(LSTMParams.random(3, 2, seed=0).replace(p_f=np.ones(3)), xs)
    run(LSTMParams.random(3, 2, seed=0).replace(recurrent_activation="hard_sigmoid"), xs)
    assert calls == ["fast", "general", "general", "general"]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 9), m=st.integers(1, 5), T=st.integers(1, 12), seed=st.integers(0, 2**31 - 1),
       proj=st.one_of(st.none(), st.integers(1, 9)), variant=st.sampled_from(VARIANTS),
       scale=st.floats(0.1, 8.0))
def test_random_shapes_every_loop_matches_plain_loop(n, m, T, seed, proj, variant, scale):
    params = LSTMParams.random(n, m, seed=seed, proj_size=proj)
    params.W_f *= scale
    params.U_i *= scale
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(T, m)) * scale
    h0, c0 = rng.normal(size=params.h_size), rng.normal(size=n)
    trace = loop(variant, params, xs, h0, c0)
    ref = reference_loop(params, xs, h0, c0)
    for key in (*QUANTITIES, "r") if proj else QUANTITIES:
        np.testing.assert_allclose(getattr(trace, key), ref[key], rtol=1e-11, atol=1e-12, err_msg=key)
