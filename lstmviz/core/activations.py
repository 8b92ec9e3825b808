"""Elementwise activation functions and their derivatives, by name.

The LSTM gates use a "recurrent" activation (sigmoid by default, hard_sigmoid in old Keras);
the candidate g and the output squashing of c use the cell activation (tanh by default).
Every function is written so that it never overflows or warns for any finite input.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid_unguarded(x: Array, out: Array | None = None) -> Array:
    """1 / (1 + exp(-x)), the same operations as the fast step loop (lstmviz.core.kernels), so
    the reference step() and every loop agree to the bit. exp(-x) overflows to inf for
    x < -709 (float64), which gives exactly 0: correct, but NumPy warns; callers that run
    under np.errstate(over="ignore") (the step loops) use this one directly."""
    out = np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1.0
    np.reciprocal(out, out=out)
    return out


def sigmoid(x: Array, out: Array | None = None) -> Array:
    # exp's overflow (x below -709) is the right answer, 1 / (1 + inf) = 0: no warning for it.
    # Unlike 0.5 * (1 + tanh(x / 2)), it keeps its relative precision for very negative x
    # (sigmoid(-40) = 4.2e-18, not 0).
    with np.errstate(over="ignore"):
        return sigmoid_unguarded(x, out)


def d_sigmoid_from_value(y: Array) -> Array:
    return y * (1.0 - y)


def tanh(x: Array, out: Array | None = None) -> Array:
    return np.tanh(x, out=out)


def d_tanh_from_value(y: Array) -> Array:
    return 1.0 - y * y


def _hard_sigmoid(alpha: float, beta: float):
    def f(x: Array, out: Array | None = None) -> Array:
        out = np.multiply(x, alpha, out=out)
        out += beta
        np.clip(out, 0.0, 1.0, out=out)
        return out

    def d_from_value(y: Array) -> Array:
        # The derivative is alpha inside the linear band and 0 where it clips.
        return np.where((y > 0.0) & (y < 1.0), alpha, 0.0).astype(y.dtype, copy=False)

    return f, d_from_value


# Keras 2 and ONNX's HardSigmoid (alpha=0.2, beta=0.5); Keras 3 changed it to relu6(x+3)/6.
hard_sigmoid, d_hard_sigmoid_from_value = _hard_sigmoid(0.2, 0.5)
hard_sigmoid_keras3, d_hard_sigmoid_keras3_from_value = _hard_sigmoid(1.0 / 6.0, 0.5)


def relu(x: Array, out: Array | None = None) -> Array:
    return np.maximum(x, 0.0, out=out)


def d_relu_from_value(y: Array) -> Array:
    return (y > 0.0).astype(y.dtype)


def linear(x: Array, out: Array | None = None) -> Array:
    if out is None:
        return np.array(x, copy=True)
    out[...] = x
    return out


def d_linear_from_value(y: Array) -> Array:
    return np.ones_like(y)


# name -> (function(x, out=None), derivative expressed through the function's value y)
ACTIVATIONS: dict[str, tuple[Callable[..., Array], Callable[[Array], Array]]] = {
    "sigmoid": (sigmoid, d_sigmoid_from_value),
    "tanh": (tanh, d_tanh_from_value),
    "hard_sigmoid": (hard_sigmoid, d_hard_sigmoid_from_value),
    "hard_sigmoid_keras3": (hard_sigmoid_keras3, d_hard_sigmoid_keras3_from_value),
    "relu": (relu, d_relu_from_value),
    "linear": (linear, d_linear_from_value),
}


def activation(name: str) -> Callable[..., Array]:
    return ACTIVATIONS[name][0]


def derivative_from_value(name: str) -> Callable[[Array], Array]:
    return ACTIVATIONS[name][1]
