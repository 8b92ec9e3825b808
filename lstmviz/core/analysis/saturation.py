"""Gate saturation (Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding recurrent
networks", fig. 4): for each unit and each sigmoid gate, the fraction of steps on which the
gate is left-saturated (value < left, default 0.1: nearly closed) and right-saturated
(value > right, default 0.9: nearly open). A forget gate that is right-saturated most of the
time is a unit that remembers; one left-saturated most of the time resets every step.

A view draws one scatter per gate (left on x, right on y, one dot per unit) and, from
:func:`gate_histograms`, the distribution of each gate's values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

SIGMOID_GATES = ("i", "f", "o")
DEFAULT_LEFT = 0.1
DEFAULT_RIGHT = 0.9


def check_thresholds(left: float, right: float) -> tuple[float, float]:
    """Both finite and left <= right, or a one-line LstmvizError naming the threshold."""
    for name, value in (("left", left), ("right", right)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise LstmvizError(f"{name} threshold {value!r} is not a number")
        if not math.isfinite(value):
            raise LstmvizError(f"{name} threshold {value} is not a finite number")
    if left > right:
        raise LstmvizError(f"left threshold {left} is above the right threshold {right}")
    return float(left), float(right)


def _step_range(trace: Trace, steps: tuple[int, int] | None) -> tuple[int, int]:
    if steps is None:
        return 0, trace.T
    start, stop = (int(v) for v in steps)
    if not 0 <= start < stop <= trace.T:
        raise LstmvizError(f"step range {start}..{stop - 1} is not within 0..{trace.T - 1}")
    return start, stop


def _check_gates(gates) -> tuple[str, ...]:
    gates = tuple(gates)
    bad = [g for g in gates if g not in "ifgo" or len(g) != 1]
    if bad or not gates:
        raise LstmvizError(f"gates {bad or '(none)'} are not among i, f, g, o")
    return gates


@dataclass(frozen=True, eq=False)
class GateSaturation:
    """Per gate, (n,) fractions of steps with value < left_threshold and > right_threshold."""

    left: dict[str, np.ndarray]
    right: dict[str, np.ndarray]
    left_threshold: float
    right_threshold: float
    steps: tuple[int, int]  # [start, stop) of the steps counted

    @property
    def gates(self) -> tuple[str, ...]:
        return tuple(self.left)

    @property
    def n(self) -> int:
        return int(next(iter(self.left.values())).shape[0])

    def saturated(self, gate: str) -> np.ndarray:
        """(n,) fraction of steps saturated either way."""
        return self.left[gate] + self.right[gate]

    def rows(self) -> list[tuple[str, int, float, float]]:
        """(gate, unit, left, right) for every gate, then every unit: the CLI's CSV rows."""
        return [
            (gate, k, float(self.left[gate][k]), float(self.right[gate][k]))
            for gate in self.gates
            for k in range(self.n)
        ]

    def table(self) -> np.ndarray:
        """(len(gates) * n, 2) array [left, right], rows in the order of :meth:`rows`."""
        return np.concatenate([np.column_stack((self.left[g], self.right[g])) for g in self.gates])


def gate_saturation(
    trace: Trace,
    left: float = DEFAULT_LEFT,
    right: float = DEFAULT_RIGHT,
    gates=SIGMOID_GATES,
    steps: tuple[int, int] | None = None,
) -> GateSaturation:
    """Fractions of steps (all steps, or steps [start, stop)) with gate < left and gate > right,
    per unit. Strict inequalities: a value exactly at a threshold is not saturated."""
    left, right = check_thresholds(left, right)
    gates = _check_gates(gates)
    start, stop = _step_range(trace, steps)
    count = stop - start
    lefts, rights = {}, {}
    for gate in gates:
        values = trace.gate(gate)[start:stop]
        lefts[gate] = np.count_nonzero(values < left, axis=0) / count
        rights[gate] = np.count_nonzero(values > right, axis=0) / count
    return GateSaturation(lefts, rights, left, right, (start, stop))


@dataclass(frozen=True, eq=False)
class GateHistogram:
    """counts[j] values fell in [edges[j], edges[j+1]) (the last bin includes its right edge)."""

    gate: str
    counts: np.ndarray  # (bins,) int
    edges: np.ndarray  # (bins + 1,)

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self.edges[:-1] + self.edges[1:])

    @property
    def fractions(self) -> np.ndarray:
        total = self.counts.sum()
        return self.counts / total if total else np.zeros(self.counts.shape)


def gate_histogram(
    trace: Trace,
    gate: str,
    bins: int = 20,
    units=None,
    steps: tuple[int, int] | None = None,
    value_range: tuple[float, float] | None = None,
) -> GateHistogram:
    """Histogram of one gate's values over steps and units (all, or the given units).

    value_range defaults to (0, 1) for i, f, o and (-1, 1) for g, widened to the data when
    an activation such as relu goes beyond it.
    """
    (gate,) = _check_gates((gate,))
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise LstmvizError(f"bins {bins!r} is not a positive integer")
    start, stop = _step_range(trace, steps)
    values = trace.gate(gate)[start:stop]
    if units is not None:
        units = [int(k) for k in units]
        bad = [k for k in units if not 0 <= k < trace.n]
        if bad or not units:
            raise LstmvizError(f"units {bad or '(none)'} are not in 0..{trace.n - 1}")
        values = values[:, units]
    if value_range is None:
        lo, hi = (-1.0, 1.0) if gate == "g" else (0.0, 1.0)
        lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
    else:
        lo, hi = (float(v) for v in value_range)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise LstmvizError(f"histogram range {value_range!r} is not an increasing pair of numbers")
    counts, edges = np.histogram(values, bins=int(bins), range=(lo, hi))
    return GateHistogram(gate, counts, edges)


def gate_histograms(
    trace: Trace, bins: int = 20, gates=SIGMOID_GATES, steps: tuple[int, int] | None = None
) -> dict[str, GateHistogram]:
    """One :class:`GateHistogram` per gate (all units, all steps or steps [start, stop))."""
    return {gate: gate_histogram(trace, gate, bins=bins, steps=steps) for gate in _check_gates(gates)}
