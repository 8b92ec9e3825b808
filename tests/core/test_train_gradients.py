"""Parameter gradients (lstmviz.param_gradients and the trainer's batched path) against
torch.autograd fixtures (scripts/fixtures/train_autograd.py, committed) and against central
finite differences of a plain forward loop written here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.core.activations import activation
from lstmviz.core.cell import run_cell
from lstmviz.core.params import LSTMParams
from lstmviz.core.train.backprop import Cell, backward, forward
from lstmviz.core.train.losses import CLASSIFICATION, REGRESSION, loss_and_gradients
from lstmviz.errors import LstmvizError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "train"
NAMES = [f"{k}_{g}" for k in "WUb" for g in "ifgo"]


def load(name):
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def params_of(data, **extra):
    keys = [*NAMES, *[p for p in ("p_i", "p_f", "p_o") if p in data]]
    rec = str(data["recurrent_activation"]) if "recurrent_activation" in data else "sigmoid"
    return LSTMParams(**{k: data[k] for k in keys}, recurrent_activation=rec, **extra)


@pytest.mark.parametrize("name", ["lstm_dh", "peep_dh_dc", "peep_hardsig_batch"])
def test_param_gradients_match_torch_autograd(name):
    data = load(name)
    params = params_of(data)
    grads = lstmviz.param_gradients(params, data["xs"], data["dloss_dh"], data.get("dloss_dc"),
                                    h0=data["h0"], c0=data["c0"])
    expected = {k[5:]: v for k, v in data.items() if k.startswith("grad_")}
    assert set(grads) == set(expected)
    for key, value in expected.items():
        assert grads[key].shape == value.shape, key
        np.testing.assert_allclose(grads[key], value, rtol=0, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("name, kind", [("readout_mse", REGRESSION), ("readout_ce", CLASSIFICATION)])
def test_readout_loss_and_every_gradient_match_torch(name, kind):
    data = load(name)
    cell = Cell.from_params(params_of(data))
    record = forward(cell, data["xs"])
    T = data["xs"].shape[1]
    if kind == REGRESSION:
        steps, target = np.array([T - 1]), data["target"][None]
    else:
        steps, target = np.arange(T), data["target"].T
    result = loss_and_gradients(kind, record.h, data["V"], data["d"], steps, target)
    assert result.loss == pytest.approx(float(data["loss"]), rel=1e-12)
    np.testing.assert_allclose(result.dV, data["grad_V"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.dd, data["grad_d"], rtol=0, atol=1e-12)
    grads = backward(cell, record, result.dloss_dh).named()
    for key in NAMES:
        np.testing.assert_allclose(grads[key], data[f"grad_{key}"], rtol=0, atol=1e-12, err_msg=key)


# -- finite differences of a plain loop ---------------------------------------------------------
def plain_loss(arrays, xs, h0, c0, dh, dc, rec_name):
    """sum(dh * h) + sum(dc * c) for one sequence, stepped by hand."""
    rec, act = activation(rec_name), np.tanh
    h, c = h0.copy(), c0.copy()
    total = 0.0
    for t in range(xs.shape[0]):
        z = {g: arrays[f"W_{g}"] @ xs[t] + arrays[f"U_{g}"] @ h + arrays[f"b_{g}"] for g in "ifgo"}
        if "p_i" in arrays:
            z["i"] = z["i"] + arrays["p_i"] * c
            z["f"] = z["f"] + arrays["p_f"] * c
        c = rec(z["f"]) * c + rec(z["i"]) * act(z["g"])
        if "p_o" in arrays:
            z["o"] = z["o"] + arrays["p_o"] * c
        h = rec(z["o"]) * act(c)
        total += dh[t] @ h + dc[t] @ c
    return total


def random_cell(rng, n, m, peepholes):
    arrays = {}
    for g in "ifgo":
        arrays[f"W_{g}"] = rng.uniform(-1, 1, (n, m))
        arrays[f"U_{g}"] = rng.uniform(-1, 1, (n, n))
        arrays[f"b_{g}"] = rng.uniform(-1, 1, n)
    if peepholes:
        for g in "ifo":
            arrays[f"p_{g}"] = rng.uniform(-1, 1, n)
    return arrays


@pytest.mark.parametrize("peepholes, rec_name",
                         [(False, "sigmoid"), (True, "sigmoid"), (True, "hard_sigmoid")])
def test_every_gradient_matches_central_differences(peepholes, rec_name):
    rng = np.random.default_rng(7)
    n, m, T, B = 3, 2, 6, 2
    arrays = random_cell(rng, n, m, peepholes)
    xs = rng.normal(size=(B, T, m))
    h0, c0 = rng.normal(scale=0.5, size=(B, n)), rng.normal(scale=0.5, size=(B, n))
    dh, dc = rng.normal(size=(B, T, n)), rng.normal(size=(B, T, n))
    params = LSTMParams(**arrays, recurrent_activation=rec_name)
    grads = lstmviz.param_gradients(params, xs, dh, dc, h0=h0, c0=c0)

    def batch_loss(arr, h0s=h0, c0s=c0):
        return sum(plain_loss(arr, xs[b], h0s[b], c0s[b], dh[b], dc[b], rec_name) for b in range(B))

    eps = 1e-6
    for key, value in arrays.items():
        numeric = np.empty_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = dict(arrays), dict(arrays)
            plus[key], minus[key] = value.copy(), value.copy()
            plus[key][index] += eps
            minus[key][index] -= eps
            numeric[index] = (batch_loss(plus) - batch_loss(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[key], numeric, rtol=0, atol=1e-8, err_msg=key)
    for key, state in (("h0", h0), ("c0", c0)):
        numeric = np.empty_like(state)
        for index in np.ndindex(state.shape):
            plus, minus = state.copy(), state.copy()
            plus[index] += eps
            minus[index] -= eps
            kw_plus = {"h0s": plus} if key == "h0" else {"c0s": plus}
            kw_minus = {"h0s": minus} if key == "h0" else {"c0s": minus}
            numeric[index] = (batch_loss(arrays, **kw_plus) - batch_loss(arrays, **kw_minus)) / (2 * eps)
        np.testing.assert_allclose(grads[key], numeric, rtol=0, atol=1e-8, err_msg=key)


def test_one_sequence_form_uses_the_models_initial_state_and_sums_over_a_batch():
    rng = np.random.default_rng(3)
    params = LSTMParams.random(4, 3, seed=2).replace(h0=rng.normal(size=4), c0=rng.normal(size=4))
    xs = rng.normal(size=(2, 8, 3))
    dh = rng.normal(size=(2, 8, 4))
    one = [lstmviz.param_gradients(params, xs[b], dh[b]) for b in range(2)]
    both = lstmviz.param_gradients(params, xs, dh, h0=params.h0, c0=params.c0)
    for key in NAMES:
        np.testing.assert_allclose(both[key], one[0][key] + one[1][key], rtol=0, atol=1e-12)
    assert one[0]["h0"].shape == (4,) and both["h0"].shape == (2, 4)


def test_batched_forward_equals_the_engine_sequence_by_sequence():
    rng = np.random.default_rng(5)
    params = LSTMParams.random(5, 2, seed=4)
    xs = rng.normal(size=(3, 20, 2))
    for dtype, atol in ((np.float64, 1e-13), (np.float32, 1e-5)):
        record = forward(Cell.from_params(params, dtype), xs)
        assert record.h.dtype == dtype
        for b in range(3):
            trace = run_cell(params, xs[b])
            np.testing.assert_allclose(record.h[:, b], trace.h, rtol=0, atol=atol)
            np.testing.assert_allclose(record.gate("f")[:, b], trace.f, rtol=0, atol=atol)


def test_bad_shapes_are_one_line_errors():
    params = LSTMParams.random(3, 2, seed=0)
    with pytest.raises(LstmvizError, match=r"dloss_dh has shape \(4, 2\), expected \(4, 3\)"):
        lstmviz.param_gradients(params, np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(LstmvizError, match="model expects m = 2"):
        lstmviz.param_gradients(params, np.zeros((4, 5)), np.zeros((4, 3)))
    with pytest.raises(LstmvizError, match="NaN"):
        lstmviz.param_gradients(params, np.zeros((4, 2)), np.full((4, 3), np.nan))
