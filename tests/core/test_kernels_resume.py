"""Resuming a run in place (kernels.allocate / resume): what a streamed rerun after an edit does.

The window reruns the cell chunk by chunk into the trace it shows; every chunking must give
the numbers one run gives, and those must agree with the reference step() loop.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmviz.core import kernels
from lstmviz.core.cell import refuse_nan, run, step
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

RECORDED = ("z", "a", "c", "h")


def recorded(trace):
    return (*RECORDED, "r") if trace.r is not None else RECORDED


def assert_same_run(got, want):
    for key in recorded(want):
        assert np.array_equal(getattr(got, key), getattr(want, key)), key


def assert_matches_step(params, trace, rows=None):
    """Each recorded row against step() from the recorded state before it (float64 math)."""
    rows = range(trace.T) if rows is None else rows
    for t in rows:
        ref = step(params, trace.x[t], trace.h_prev(t).astype(np.float64), trace.c_prev(t).astype(np.float64))
        for key in ("i", "f", "g", "o", "c", "h", *(("r",) if trace.r is not None else ())):
            assert np.abs(getattr(trace, key)[t] - getattr(ref, key)).max() <= 1e-15, (key, t)


def chunked(params, trace, bounds):
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        kernels.resume(params, trace, lo, hi)


def cells():
    base = LSTMParams.random(16, 16, seed=7)
    return {
        "plain": base,
        "projected": LSTMParams.random(16, 16, seed=8, proj_size=5),
        "peepholes": base.replace(p_i=np.full(16, 0.3), p_f=np.full(16, -0.2), p_o=np.full(16, 0.5)),
        "masked": base.replace(mask_value=0.0),
        "masked_projected": LSTMParams.random(16, 16, seed=9, proj_size=4).replace(mask_value=0.0),
        "clip_input_forget": base.replace(clip=0.7, input_forget=True),
        "hard_sigmoid": base.replace(recurrent_activation="hard_sigmoid"),
    }


def sequence(T, m, seed=0):
    xs = np.random.default_rng(seed).normal(size=(T, m))
    xs[[3, 4, 40, T - 1]] = 0.0  # masked rows for the masked cells
    return xs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(cells()))
def test_any_chunking_gives_one_runs_numbers(name, dtype):
    params = cells()[name]
    xs = sequence(203, params.m)  # z blocks of z_block_rows(16, 16) = 256 rows and fewer
    whole = run(params, xs, dtype=dtype)
    assert kernels.resumable(whole, params)
    rng = np.random.default_rng(1)
    for _ in range(3):
        bounds = [0, *sorted(rng.choice(np.arange(1, 203), size=rng.integers(1, 12), replace=False)), 203]
        trace = run(params, xs, dtype=dtype)
        trace.a[...] = trace.c[...] = trace.z[...] = np.nan  # nothing of the old rows may leak
        trace.h[...] = np.nan
        chunked(params, trace, bounds)
        assert_same_run(trace, whole)
    if dtype == np.float64:
        assert_matches_step(params, whole)


@pytest.mark.parametrize("proj_size", [None, 3])
def test_chunks_across_many_z_blocks(proj_size):
    # n = m = 128: z is computed in blocks of 64 rows, so chunks start and stop inside blocks
    params = LSTMParams.random(128, 128, seed=2, proj_size=proj_size)
    assert kernels.z_block_rows(128, 128) == 64
    xs = np.random.default_rng(2).normal(size=(300, 128)) * 0.5  # |z| small enough for 1e-15 on g
    whole = run(params, xs)
    trace = run(params, xs)
    trace.z[...] = np.nan
    chunked(params, trace, [0, 1, 2, 17, 63, 64, 65, 128, 200, 201, 299, 300])
    assert_same_run(trace, whole)
    assert_matches_step(params, whole, rows=range(0, 300, 13))


def test_an_edit_rewrites_the_rows_given_and_leaves_the_rest_of_the_old_run():
    before = LSTMParams.random(6, 3, seed=4)
    after = before.replace(U_f=before.U_f * 3, b_o=before.b_o + 1)
    xs = np.random.default_rng(4).normal(size=(60, 3))
    trace, old, new = run(before, xs), run(before, xs), run(after, xs)
    kernels.resume(after, trace, 0, 25)
    for key in recorded(trace):
        assert np.array_equal(getattr(trace, key)[:25], getattr(new, key)[:25]), key
        assert np.array_equal(getattr(trace, key)[25:], getattr(old, key)[25:]), key  # stale rows
    kernels.resume(after, trace, 25, 60)
    assert_same_run(trace, new)
    assert_matches_step(after, trace)


def test_a_start_in_the_middle_continues_from_the_recorded_state():
    params = LSTMParams.random(5, 2, seed=5, proj_size=3)
    xs = np.random.default_rng(5).normal(size=(40, 2))
    whole = run(params, xs, h0=np.ones(3), c0=-np.ones(5))
    trace = run(params.replace(b_i=params.b_i - 2), xs, h0=np.ones(3), c0=-np.ones(5))
    kernels.resume(params, trace, 0, 13)  # rows [0, 13) right, [13, 40) another cell's
    kernels.resume(params, trace, 13, 40)
    assert_same_run(trace, whole)
    # a start in the middle of a right run rewrites the same numbers
    kernels.resume(params, trace, 27, 31)
    assert_same_run(trace, whole)
    assert_matches_step(params, trace)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("first, second", [("peepholes", "plain"), ("plain", "peepholes"),
                                           ("plain", "hard_sigmoid"), ("clip_input_forget", "plain")])
def test_a_trace_of_one_loop_is_resumed_by_the_other(first, second, dtype):
    # turning peepholes on switches from the fast to the general loop on the same arrays
    a, b = cells()[first], cells()[second]
    assert kernels.fast_applies(a) != kernels.fast_applies(b)
    xs = sequence(80, 16)
    trace = run(a, xs, dtype=dtype)
    assert kernels.resumable(trace, b)
    kernels.resume(b, trace, 0, 30)
    kernels.resume(b, trace, 30, 80)
    assert_same_run(trace, run(b, xs, dtype=dtype))
    if dtype == np.float64:
        assert_matches_step(b, trace)


def test_the_general_and_fast_loops_resume_each_others_rows_to_the_bit():
    params = LSTMParams.random(16, 16, seed=7, proj_size=6)
    xs = sequence(90, 16)
    whole = run(params, xs)
    general = kernels.prepare(params, np.float64, fast=False)
    trace = run(params.replace(b_g=params.b_g * 0), xs)
    kernels.resume(params, trace, 0, 33, prepared=general)
    kernels.resume(params, trace, 33, 61)  # the fast loop, from the general loop's row 32
    kernels.resume(params, trace, 61, 90, prepared=general)
    assert_same_run(trace, whole)


def test_masked_cells_keep_the_state_when_resumed():
    params = cells()["masked_projected"]
    xs = sequence(50, 16)
    whole = run(params, xs)
    assert whole.mask[[3, 4, 40, 49]].all()
    trace = run(params, xs)
    chunked(params, trace, [0, 4, 5, 40, 41, 50])
    assert_same_run(trace, whole)
    assert np.array_equal(trace.h[4], trace.h[2]) and np.array_equal(trace.c[40], trace.c[39])
    assert_matches_step(params, trace)


def test_allocate_then_resume_is_a_run():
    params = LSTMParams.random(4, 2, seed=6)
    xs = np.random.default_rng(6).normal(size=(30, 2))
    trace = kernels.allocate(params, xs.copy(), np.zeros(4), np.zeros(4), np.float64)
    assert kernels.resumable(trace, params) and trace.T == 30
    kernels.resume(params, trace, 0, 30)
    assert_same_run(trace, run(params, xs))


def test_what_is_not_resumable():
    params = LSTMParams.random(4, 2, seed=6)
    xs = np.random.default_rng(6).normal(size=(10, 2))
    trace = run(params, xs)
    copied = Trace(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in vars(trace).items()})
    assert not kernels.resumable(copied, params)  # loaded or hand-made: other arrays
    assert not kernels.resumable(trace, LSTMParams.random(5, 2, seed=6))
    assert not kernels.resumable(trace, LSTMParams.random(4, 3, seed=6))
    assert not kernels.resumable(trace, LSTMParams.random(4, 2, seed=6, proj_size=3))
    assert not kernels.resumable(trace, params.replace(mask_value=0.0))  # no mask recorded
    assert not kernels.resumable(run(params.replace(mask_value=0.0), xs), params)
    assert not kernels.resumable(run(LSTMParams.random(4, 2, seed=6, proj_size=4), xs), params)
    with pytest.raises(ValueError):
        kernels.resume(params, copied, 0, 10)
    with pytest.raises(ValueError):
        kernels.resume(params, trace, 5, 11)


def test_an_overflow_is_found_chunk_by_chunk_with_the_run_message():
    # i = g = o = 1 at every step, so h >= tanh(1) > 0 and U_f h = -inf from step 1 on (f = 0);
    # at step 12 W_f x = +inf too: z_f = inf - inf = NaN
    n = 3
    params = LSTMParams.random(n, 1, seed=0)
    zero, big = np.zeros((n, n)), np.full(n, 50.0)
    wild = params.replace(W_i=np.zeros((n, 1)), W_g=np.zeros((n, 1)), W_o=np.zeros((n, 1)),
                          U_i=zero, U_g=zero, U_o=zero, b_i=big, b_g=big, b_o=big,
                          W_f=np.full((n, 1), 1e308), U_f=np.full((n, n), -1.7e308))
    xs = np.zeros((20, 1))
    xs[12] = 10.0
    with pytest.raises(LstmvizError, match="at step 12") as whole_error:
        run(wild, xs)
    trace = run(params, xs)
    kernels.resume(wild, trace, 0, 10)
    assert kernels.first_nan_row(trace, 0, 10) is None
    refuse_nan(trace, wild, 0, 10)
    kernels.resume(wild, trace, 10, 20)
    assert kernels.first_nan_row(trace, 10, 20) == 12
    with pytest.raises(LstmvizError) as chunk_error:
        refuse_nan(trace, wild, 10, 20)
    assert str(chunk_error.value) == str(whole_error.value)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 9), m=st.integers(1, 40), T=st.integers(1, 70), seed=st.integers(0, 2**31 - 1),
       proj=st.one_of(st.none(), st.integers(1, 9)), cuts=st.lists(st.integers(1, 69), max_size=8),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_random_shapes_and_chunkings(n, m, T, seed, proj, cuts, dtype):
    params = LSTMParams.random(n, m, seed=seed, proj_size=proj)
    xs = np.random.default_rng(seed).normal(size=(T, m))
    whole = run(params, xs, dtype=dtype)
    trace = run(params.replace(b_o=params.b_o + 1), xs, dtype=dtype)
    chunked(params, trace, sorted({0, T, *(c for c in cuts if c < T)}))
    assert_same_run(trace, whole)


@pytest.mark.parametrize("n", [300, 520])  # the sizes where U is kept row-major / column-major
def test_large_cells_fast_and_general_loops_agree_to_the_bit(n):
    params = LSTMParams.random(n, 3, seed=3)
    xs = np.random.default_rng(3).normal(size=(4, 3))
    fast = run(params, xs)
    general = run(params, xs)
    kernels.resume(params, general, 0, 4, prepared=kernels.prepare(params, np.float64, fast=False))
    assert_same_run(general, fast)
    assert_matches_step(params, fast)
