from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.analysis.activation_curves import (
    activation_at,
    activation_curve,
    activation_point,
    gate_activation_name,
    z_path,
)
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "hard_sigmoid", "hard_sigmoid_keras3", "relu", "linear"])
def test_curve_values_and_derivative_bounds(name):
    curve = activation_curve(name, -8, 8, 1601)
    assert curve.z.shape == curve.value.shape == curve.derivative.shape == (1601,)
    assert curve.derivative.max() == pytest.approx(curve.derivative_bound, rel=1e-6)
    # the derivative is the slope of the curve (away from kinks)
    slope = np.gradient(curve.value, curve.z)
    smooth = np.abs(np.gradient(curve.derivative, curve.z)) < 1.0
    np.testing.assert_allclose(curve.derivative[smooth][5:-5], slope[smooth][5:-5], atol=2e-3)


def test_activation_at():
    assert activation_at("sigmoid", 0.0) == (0.5, 0.25)
    assert activation_at("tanh", 0.0) == (0.0, 1.0)
    value, deriv = activation_at("sigmoid", 20.0)
    assert value == pytest.approx(1.0) and deriv < 1e-8  # saturated: the gradient dies
    values, derivs = activation_at("tanh", np.array([-1.0, 0.0, 1.0]))
    np.testing.assert_allclose(derivs, 1 - np.tanh([-1.0, 0.0, 1.0]) ** 2)
    with pytest.raises(LstmvizError, match="activation 'softplus'"):
        activation_at("softplus", 0.0)
    with pytest.raises(LstmvizError, match="curve range"):
        activation_curve("tanh", 1, 1)


def test_point_and_path_follow_the_trace():
    params = LSTMParams.random(3, 2, seed=0)
    trace = run(params, np.random.default_rng(0).normal(size=(30, 2)))
    point = activation_point(params, trace, "f", 1, 12)
    assert point.z == trace.zf[12, 1] and point.activation == "sigmoid"
    assert point.value == pytest.approx(trace.f[12, 1], abs=1e-15)
    assert point.derivative == pytest.approx(trace.f[12, 1] * (1 - trace.f[12, 1]))
    assert 0 < point.gradient_share <= 1
    c_point = activation_point(params, trace, "c", 2, 5)
    assert c_point.activation == "tanh" and c_point.value == pytest.approx(np.tanh(trace.c[5, 2]))
    path = z_path(params, trace, "g", 0, 12, last=5)
    np.testing.assert_array_equal(path.steps, np.arange(8, 13))
    np.testing.assert_array_equal(path.z, trace.zg[8:13, 0])
    np.testing.assert_allclose(path.value, trace.g[8:13, 0], atol=1e-15)
    assert z_path(params, trace, "i", 0, 2, last=10).steps.tolist() == [0, 1, 2]
    curve = path.curve()
    assert curve.z[0] <= min(-6, path.z.min()) and curve.z[-1] >= max(6, path.z.max())
    assert gate_activation_name(params.replace(recurrent_activation="hard_sigmoid"), "o") == "hard_sigmoid"
    for args, message in [(("x", 0, 0), "gate 'x'"), (("f", 3, 0), "unit 3"), (("f", 0, 30), "step 30")]:
        with pytest.raises(LstmvizError, match=message):
            activation_point(params, trace, *args)
    with pytest.raises(LstmvizError, match="last"):
        z_path(params, trace, "f", 0, 3, last=0)
