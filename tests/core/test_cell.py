"""The engine against independent references: a plain loop written here, and torch fixtures."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.presets import forget_worked, input_worked

FIXTURES = Path(__file__).parent.parent / "fixtures" / "engine"


def reference_loop(params, xs, h0=None, c0=None, rec="sigmoid", act="tanh", mask_value=None):
    """Textbook LSTM, one unit at a time, with math.* only: no shared code with lstmviz.

    Also LSTMP (params.W_hr: h = W_hr r, r = o * tanh(c)) and Keras masking (a row equal to
    mask_value everywhere keeps c and h; its gates are still computed).
    """
    import math

    def sig(v):
        if rec == "hard_sigmoid":
            return min(1.0, max(0.0, 0.2 * v + 0.5))
        return 1.0 / (1.0 + math.exp(-v)) if v > -700 else 0.0

    n, m = params.n, params.m
    P = params.W_hr.tolist() if params.W_hr is not None else None
    p = len(P) if P is not None else n
    h = list(h0) if h0 is not None else [0.0] * p
    c = list(c0) if c0 is not None else [0.0] * n
    out = {k: [] for k in ("zi", "zf", "zg", "zo", "i", "f", "g", "o", "c", "r", "h")}
    for x in xs:
        x = [float(v) for v in x]
        masked = mask_value is not None and all(v == mask_value for v in x)
        z = {}
        for gate in "ifgo":
            W, U, b = params.W(gate), params.U(gate), params.b(gate)
            z[gate] = [
                math.fsum([W[k, j] * x[j] for j in range(m)] + [U[k, j] * h[j] for j in range(p)] + [b[k]])
                for k in range(n)
            ]
        for gate, pp in (("i", params.p_i), ("f", params.p_f)):
            if pp is not None:
                z[gate] = [z[gate][k] + pp[k] * c[k] for k in range(n)]
        i = [sig(v) for v in z["i"]]
        f = [sig(v) for v in z["f"]]
        g = [math.tanh(v) for v in z["g"]]
        c_new = [f[k] * c[k] + i[k] * g[k] for k in range(n)]
        if params.p_o is not None:
            z["o"] = [z["o"][k] + params.p_o[k] * c_new[k] for k in range(n)]
        o = [sig(v) for v in z["o"]]
        if not masked:
            c = c_new
        r = [o[k] * math.tanh(c[k]) for k in range(n)]
        if not masked:
            h = [math.fsum(P[j][k] * r[k] for k in range(n)) for j in range(p)] if P is not None else r
        for key, value in (("i", i), ("f", f), ("g", g), ("o", o), ("c", c), ("r", r), ("h", h)):
            out[key].append(list(value))
        for gate in "ifgo":
            out["z" + gate].append(z[gate])
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("n,m,T,seed", [(1, 1, 4, 0), (3, 2, 9, 1), (7, 5, 12, 2)])
@pytest.mark.parametrize("peepholes", [False, True])
def test_run_matches_plain_loop(n, m, T, seed, peepholes):
    rng = np.random.default_rng(seed)
    params = LSTMParams.random(n, m, seed=seed)
    params.W_f *= 3  # bigger weights so some gates saturate
    if peepholes:
        params = params.replace(p_i=rng.normal(size=n), p_f=rng.normal(size=n), p_o=rng.normal(size=n))
    xs = rng.normal(size=(T, m))
    h0, c0 = rng.normal(size=n), rng.normal(size=n)
    trace = run(params, xs, h0=h0, c0=c0)
    ref = reference_loop(params, xs, h0, c0)
    del ref["r"]
    assert trace.r is None and trace.mask is None
    for key, value in ref.items():
        np.testing.assert_allclose(getattr(trace, key), value, rtol=1e-12, atol=1e-13, err_msg=key)
    np.testing.assert_array_equal(trace.x, xs)


def test_hard_sigmoid_general_path():
    params = LSTMParams.random(4, 3, seed=5).replace(recurrent_activation="hard_sigmoid")
    xs = np.random.default_rng(5).normal(size=(10, 3)) * 4
    trace = run(params, xs)
    ref = reference_loop(params, xs, rec="hard_sigmoid")
    np.testing.assert_allclose(trace.h, ref["h"], rtol=1e-12, atol=1e-14)
    assert ((trace.i == 0) | (trace.i == 1)).any(), "hard sigmoid should clip some gates"


def test_float32_run_close_to_float64():
    params = LSTMParams.random(16, 8, seed=3)
    xs = np.random.default_rng(3).normal(size=(200, 8))
    t64, t32 = run(params, xs), run(params, xs, dtype=np.float32)
    assert t32.h.dtype == np.float32 and t32.a.dtype == np.float32
    np.testing.assert_allclose(t32.h, t64.h, atol=1e-5)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("torch_*.npz")), ids=lambda p: p.stem)
def test_matches_torch_fixture(path):
    with np.load(path, allow_pickle=False) as fx:
        fx = dict(fx)
    b = fx["bias_ih"] + fx["bias_hh"]
    params = LSTMParams.from_stacked(fx["weight_ih"], fx["weight_hh"], b, order="ifgo")
    trace = run(params, fx["xs"], h0=fx["h0"], c0=fx["c0"])
    np.testing.assert_allclose(trace.h, fx["h"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(trace.c[-1], fx["c_T"], rtol=0, atol=1e-12)


def test_step_matches_run_rows():
    params = LSTMParams.random(6, 4, seed=9)
    xs = np.random.default_rng(9).normal(size=(15, 4))
    trace = run(params, xs)
    for t in range(15):
        s = step(params, xs[t], trace.h_prev(t), trace.c_prev(t))
        for key in ("zi", "zf", "zg", "zo", "i", "f", "g", "o", "c", "h"):
            np.testing.assert_allclose(getattr(s, key), getattr(trace, key)[t], rtol=1e-13, atol=1e-15)


def test_forget_gate_worked_example_is_exact():
    preset = forget_worked()
    trace = run(preset.params, preset.xs)
    assert trace.zf[0].tolist() == [92.0, 177.0, 136.0]
    assert trace.f[0].tolist() == [1.0, 1.0, 1.0]


def test_input_gate_worked_example_is_exact():
    preset = input_worked()
    trace = run(preset.params, preset.xs)
    assert trace.zi[0].tolist() == [22.0, 43.0, 64.0]  # the thread's 42 and 62 were a slip


@settings(max_examples=60, deadline=None)
@given(scale=st.floats(min_value=1.0, max_value=1e300), sign=st.sampled_from([-1.0, 1.0]),
       dtype=st.sampled_from([np.float64, np.float32]))
def test_gates_stay_in_range_for_huge_preactivations(scale, sign, dtype):
    n = 3
    if dtype == np.float32:
        scale = min(scale, 3e38)
    params = LSTMParams.random(n, 1, seed=0).replace(
        **{f"b_{g}": np.full(n, sign * scale) for g in "ifgo"},
        **{f"U_{g}": np.zeros((n, n)) for g in "ifgo"},
    )
    trace = run(params, np.zeros((3, 1)), dtype=dtype)  # filterwarnings=error: no overflow warning
    for gate in "ifo":
        a = trace.gate(gate)
        assert np.all((a >= 0) & (a <= 1))
    assert np.all(np.abs(trace.g) <= 1)
    assert np.all(np.isfinite(trace.h))


def test_wrong_shape_names_array_and_shapes():
    params = LSTMParams.random(3, 2, seed=0)
    arrays = params.arrays()
    arrays["U_g"] = np.zeros((3, 4))
    with pytest.raises(LstmvizError, match=r"U_g has shape \(3, 4\), expected \(3, 3\)"):
        LSTMParams(**arrays)


def test_nan_weight_is_refused_with_its_position():
    arrays = LSTMParams.random(3, 2, seed=0).arrays()
    arrays["W_f"][2, 1] = np.nan
    with pytest.raises(LstmvizError, match=r"W_f\[2, 1\] is NaN"):
        LSTMParams(**arrays)


def test_nonfinite_input_is_refused_with_row_and_column():
    params = LSTMParams.random(3, 2, seed=0)
    xs = np.zeros((5, 2))
    xs[3, 1] = np.inf
    with pytest.raises(LstmvizError, match=r"row 4, column 2"):
        run(params, xs)


def test_input_width_must_match_model():
    params = LSTMParams.random(3, 2, seed=0)
    with pytest.raises(LstmvizError, match="3 columns but the model expects m = 2"):
        run(params, np.zeros((4, 3)))


def test_concatenated_form_equals_split_form():
    params = LSTMParams.random(4, 3, seed=2)
    x, h = np.arange(3.0), np.arange(4.0) - 1
    for gate in "ifgo":
        split = params.W(gate) @ x + params.U(gate) @ h
        np.testing.assert_allclose(params.concatenated(gate) @ np.r_[h, x], split)
        np.testing.assert_allclose(params.concatenated(gate, h_first=False) @ np.r_[x, h], split)


def test_float32_refuses_values_it_cannot_hold():
    params = LSTMParams.random(3, 1, seed=0).replace(b_f=np.full(3, 1e300))
    with pytest.raises(LstmvizError, match="do not fit in float32"):
        run(params, np.zeros((2, 1)), dtype=np.float32)


def test_overflowing_products_run_quietly_and_saturate():
    # finite weights and inputs whose product overflows float64: z = inf, gates exactly 1
    params = LSTMParams.random(3, 1, seed=0).replace(W_i=np.full((3, 1), 1e308))
    trace = run(params, np.array([[10.0], [0.5]]))  # filterwarnings=error: no overflow warning
    assert np.all(np.isinf(trace.zi[0])) and np.all(trace.i[0] == 1.0)
    assert np.all(np.isfinite(trace.h))


@pytest.mark.parametrize("peepholes", [False, True])
def test_overflow_into_nan_is_refused_with_its_step(peepholes):
    # W x = +inf and U h0 = -inf: z_i = NaN at step 0, which must not reach the trace
    params = LSTMParams.random(3, 1, seed=0).replace(
        W_i=np.full((3, 1), 1e308), U_i=np.full((3, 3), -1.7e308), source="big.npz"
    )
    if peepholes:
        params = params.replace(p_f=np.zeros(3))
    with pytest.raises(LstmvizError, match=r"^big.npz: the run overflows float64 at step 0"):
        run(params, np.array([[10.0], [0.0]]), h0=np.ones(3))


def test_progress_is_reported_and_does_not_change_the_result():
    from lstmviz.core.cell import PROGRESS_CHUNK

    params = LSTMParams.random(4, 2, seed=8)
    xs = np.random.default_rng(8).normal(size=(2 * PROGRESS_CHUNK + 5, 2))
    seen = []
    trace = run(params, xs, progress=lambda fraction: seen.append(fraction))
    assert np.array_equal(trace.h, run(params, xs).h)
    assert len(seen) == 3 and seen == sorted(seen) and seen[-1] == 1.0
    peep = params.replace(p_f=np.ones(4))  # the general loop reports too
    seen.clear()
    run(peep, xs, progress=lambda fraction: seen.append(fraction))
    assert len(seen) == 3 and seen[-1] == 1.0


def test_progress_returning_false_stops_the_run():
    from lstmviz.core.cell import PROGRESS_CHUNK, RunCancelled

    params = LSTMParams.random(4, 2, seed=8)
    xs = np.zeros((5 * PROGRESS_CHUNK, 2))
    calls = []

    def stop(fraction):
        calls.append(fraction)
        return False

    with pytest.raises(RunCancelled):
        run(params, xs, progress=stop)
    assert calls == [0.2]  # stopped after the first chunk, not at the end


def test_progress_of_a_stacked_layer_covers_every_cell():
    from lstmviz.core.cell import PROGRESS_CHUNK

    lower = LSTMParams.random(3, 2, seed=1)
    upper = LSTMParams.random(4, 3, seed=2).replace(upstream=((lower,),))
    xs = np.random.default_rng(1).normal(size=(PROGRESS_CHUNK + 1, 2))
    seen = []
    run(upper, xs, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 1.0
    assert any(f <= 0.5 for f in seen) and len(seen) == 4  # two chunks for each of the two cells
