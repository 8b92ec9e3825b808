"""Activation curves: why a sigmoid, and what saturation does to the gradient.

For a gate and unit, the curve of the gate's activation (sigmoid, tanh, or whatever the model
uses), the current z with its value and derivative, and the path z took over the last steps.
The derivative bounds (sigmoid' <= 0.25, tanh' <= 1) are what a view annotates: at a
saturated z the derivative is nearly 0 and so is the gradient that flows through the gate.

'c' is accepted as a pseudo-gate: the squashing phi(c_t) inside h_t = o_t * phi(c_t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstmviz.core.activations import ACTIVATIONS, activation, derivative_from_value
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

CURVE_GATES = ("i", "f", "g", "o", "c")

# The largest value each activation's derivative takes (where it is attained).
DERIVATIVE_BOUNDS = {
    "sigmoid": 0.25,
    "tanh": 1.0,
    "hard_sigmoid": 0.2,
    "hard_sigmoid_keras3": 1.0 / 6.0,
    "relu": 1.0,
    "linear": 1.0,
}


def _check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise LstmvizError(f"activation {name!r} is not supported ({', '.join(sorted(ACTIVATIONS))})")
    return name


def gate_activation_name(params: LSTMParams, gate: str) -> str:
    """The activation a gate goes through: the recurrent one for i, f, o; the cell one for g
    and for c (the phi in h = o * phi(c))."""
    if gate in ("i", "f", "o"):
        return params.recurrent_activation
    if gate in ("g", "c"):
        return params.cell_activation
    raise LstmvizError(f"gate {gate!r} is not one of {', '.join(CURVE_GATES)}")


def activation_at(name: str, z) -> tuple[np.ndarray | float, np.ndarray | float]:
    """(value, derivative) of activation `name` at z (a number or an array)."""
    _check_activation(name)
    scalar = np.ndim(z) == 0
    z = np.atleast_1d(np.asarray(z, dtype=np.float64))  # the activations write into arrays
    value = activation(name)(z)
    deriv = derivative_from_value(name)(value)
    if scalar:
        return float(value[0]), float(deriv[0])
    return value, np.asarray(deriv, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class ActivationCurve:
    name: str
    z: np.ndarray
    value: np.ndarray
    derivative: np.ndarray

    @property
    def derivative_bound(self) -> float:
        return DERIVATIVE_BOUNDS[self.name]


def activation_curve(name: str, lo: float = -6.0, hi: float = 6.0, num: int = 241) -> ActivationCurve:
    """`num` samples of activation `name` and its derivative on [lo, hi]."""
    _check_activation(name)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise LstmvizError(f"curve range [{lo}, {hi}] is not an increasing pair of finite numbers")
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 2:
        raise LstmvizError(f"num {num!r} must be an integer >= 2")
    z = np.linspace(lo, hi, int(num))
    value, deriv = activation_at(name, z)
    return ActivationCurve(name, z, value, deriv)


def _gate_z(params: LSTMParams, trace: Trace, gate: str, unit: int) -> np.ndarray:
    if gate == "c":
        return trace.c[:, unit]
    return trace.preactivation(gate)[:, unit]


def _check(params: LSTMParams, trace: Trace, gate: str, unit: int, step: int) -> str:
    from lstmviz.core.analysis.gradients import check_compatible, resolve_step, resolve_unit

    check_compatible(params, trace)
    name = gate_activation_name(params, gate)
    if resolve_unit(trace.n, unit) is None:
        raise LstmvizError("unit is required")
    resolve_step(trace, step)
    return name


@dataclass(frozen=True, eq=False)
class ActivationPoint:
    """Where one gate of one unit sits on its curve at one step."""

    gate: str
    unit: int
    step: int
    activation: str
    z: float
    value: float
    derivative: float

    @property
    def derivative_bound(self) -> float:
        return DERIVATIVE_BOUNDS[self.activation]

    @property
    def gradient_share(self) -> float:
        """derivative / its maximum: 1 at the steepest point, near 0 when saturated."""
        return self.derivative / self.derivative_bound


def activation_point(params: LSTMParams, trace: Trace, gate: str, unit: int, step: int) -> ActivationPoint:
    """z, value and derivative of `gate` (i, f, g, o, or c) for `unit` at `step`.

    value is recomputed from the recorded z (for the gates it equals the recorded activation).
    """
    name = _check(params, trace, gate, unit, step)
    z = float(_gate_z(params, trace, gate, unit)[step])
    value, deriv = activation_at(name, z)
    return ActivationPoint(gate, int(unit), int(step), name, z, value, deriv)


@dataclass(frozen=True, eq=False)
class ZPath:
    """The path z took over steps[0]..steps[-1] (the last one is the current step)."""

    gate: str
    unit: int
    activation: str
    steps: np.ndarray  # (K,) int
    z: np.ndarray
    value: np.ndarray
    derivative: np.ndarray

    def curve(self, margin: float = 1.0, min_half_width: float = 6.0, num: int = 241) -> ActivationCurve:
        """The activation curve over a z range that covers this path (and at least +-6)."""
        lo = min(-min_half_width, float(self.z.min()) - margin)
        hi = max(min_half_width, float(self.z.max()) + margin)
        return activation_curve(self.activation, lo, hi, num)


def z_path(params: LSTMParams, trace: Trace, gate: str, unit: int, step: int, last: int = 20) -> ZPath:
    """z of `gate` for `unit` at the `last` steps ending at `step` (fewer near the start)."""
    name = _check(params, trace, gate, unit, step)
    if isinstance(last, bool) or not isinstance(last, (int, np.integer)) or last < 1:
        raise LstmvizError(f"last {last!r} must be a positive integer")
    start = max(0, step - int(last) + 1)
    steps = np.arange(start, step + 1)
    z = np.array(_gate_z(params, trace, gate, unit)[start : step + 1], dtype=np.float64)
    value, deriv = activation_at(name, z)
    return ZPath(gate, int(unit), name, steps, z, value, deriv)
