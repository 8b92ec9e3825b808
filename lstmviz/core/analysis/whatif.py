"""What-if: rerun a recorded trace with interventions and see what changes.

Interventions are small frozen dataclasses (hashable, comparable, with to_dict/from_dict), so
they can go on an undo stack and into a saved document:

- :class:`ClampGate`  -- force a gate's activation to a value (f = 1: keep everything,
  f = 0: forget everything, i = 0: write nothing) for some units and steps;
- :class:`ZeroUnit`   -- set a unit's h and c to 0 after the step (a lesion);
- :class:`BiasOffset` -- add a constant to a gate's pre-activation (its bias) for some units
  (and optionally only some steps).

``units=None`` means every unit; ``steps=None`` every step, else a half-open range
(start, stop). :func:`rerun` replays the cell on the trace's own inputs ``trace.x`` from its
``h0, c0``, applying the interventions in order (a later clamp wins where two overlap; zeroing
is applied last in a step). The new trace records z as computed (with bias offsets) and the
activations as used (clamped), so a clamped gate shows its forced value and its z shows what it
would have been. For a layer of a stack, the upstream layers are not rerun: trace.x is kept.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from lstmviz.core.cell import StepHooks, run_with_hooks
from lstmviz.core.params import GATES, LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

ORDER = "ifog"  # the gate order of the traces rerun() records (the engine's FAST_ORDER)


def _units(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    try:
        units = tuple(sorted({int(k) for k in value}))
    except (TypeError, ValueError):
        raise LstmvizError(f"units {value!r} must be unit indices") from None
    if not units:
        raise LstmvizError("units is empty (use None for every unit)")
    if units[0] < 0:
        raise LstmvizError(f"unit {units[0]} is negative")
    return units


def _steps(value) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        start, stop = (int(v) for v in value)
    except (TypeError, ValueError):
        raise LstmvizError(f"steps {value!r} must be a (start, stop) pair") from None
    if not 0 <= start < stop:
        raise LstmvizError(f"steps ({start}, {stop}) is not a non-empty range start < stop, start >= 0")
    return start, stop


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise LstmvizError(f"{name} {value!r} is not a number")
    if not math.isfinite(value):
        raise LstmvizError(f"{name} {value} is not finite")
    return float(value)


def _gate(value) -> str:
    if value not in GATES:
        raise LstmvizError(f"gate {value!r} is not one of i, f, g, o")
    return value


def _describe_where(units, steps) -> str:
    who = "all units" if units is None else ("unit " if len(units) == 1 else "units ") + ", ".join(
        map(str, units)
    )
    when = "every step" if steps is None else f"steps {steps[0]}..{steps[1] - 1}"
    return f"{who}, {when}"


class _Intervention(ABC):
    kind: ClassVar[str] = ""
    units: tuple[int, ...] | None
    steps: tuple[int, int] | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", _units(self.units))
        object.__setattr__(self, "steps", _steps(self.steps))

    def validate(self, n: int, T: int) -> None:
        """A one-line LstmvizError if a unit or step lies outside a cell with n units, T steps."""
        if self.units is not None and self.units[-1] >= n:
            raise LstmvizError(f"{self.describe()}: unit {self.units[-1]} is not in 0..{n - 1}")
        if self.steps is not None and self.steps[1] > T:
            raise LstmvizError(
                f"{self.describe()}: steps go to {self.steps[1] - 1}, the trace ends at {T - 1}"
            )

    def step_range(self, T: int) -> tuple[int, int]:
        return (0, T) if self.steps is None else self.steps

    def unit_index(self, n: int) -> np.ndarray:
        return np.arange(n) if self.units is None else np.array(self.units, dtype=np.intp)

    def to_dict(self) -> dict:
        out = {"kind": self.kind}
        for key, value in self.__dict__.items():
            out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: dict):
        data = dict(data)
        kind = data.pop("kind", cls.kind)
        if kind != cls.kind:
            raise LstmvizError(f"intervention kind {kind!r} is not {cls.kind!r}")
        try:
            return cls(**data)
        except TypeError as error:
            raise LstmvizError(f"bad {cls.kind} intervention {data!r} ({error})") from None

    @abstractmethod
    def describe(self) -> str: ...


@dataclass(frozen=True)
class ClampGate(_Intervention):
    """Force gate `gate` (i, f, g or o) to `value` for `units` at `steps`."""

    gate: str
    value: float
    units: tuple[int, ...] | None = None
    steps: tuple[int, int] | None = None
    kind: ClassVar[str] = "clamp"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "gate", _gate(self.gate))
        object.__setattr__(self, "value", _number("clamp value", self.value))

    def describe(self) -> str:
        return f"{self.gate} = {self.value:g} ({_describe_where(self.units, self.steps)})"


@dataclass(frozen=True)
class ZeroUnit(_Intervention):
    """Set h and c of `units` to 0 at the end of each step in `steps` (the next step sees 0)."""

    units: tuple[int, ...] | None = None
    steps: tuple[int, int] | None = None
    kind: ClassVar[str] = "zero"

    def describe(self) -> str:
        return f"h = c = 0 ({_describe_where(self.units, self.steps)})"


@dataclass(frozen=True)
class BiasOffset(_Intervention):
    """Add `delta` to gate `gate`'s bias (its pre-activation z) for `units` at `steps`."""

    gate: str
    delta: float
    units: tuple[int, ...] | None = None
    steps: tuple[int, int] | None = None
    kind: ClassVar[str] = "bias"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "gate", _gate(self.gate))
        object.__setattr__(self, "delta", _number("bias offset", self.delta))

    def describe(self) -> str:
        return f"b_{self.gate} {'+' if self.delta >= 0 else '-'} {abs(self.delta):g} " \
               f"({_describe_where(self.units, self.steps)})"


Intervention = ClampGate | ZeroUnit | BiasOffset
KINDS: dict[str, type] = {cls.kind: cls for cls in (ClampGate, ZeroUnit, BiasOffset)}


def intervention_from_dict(data: dict) -> Intervention:
    """Any intervention from its to_dict() form (dispatching on 'kind')."""
    if not isinstance(data, dict):
        raise LstmvizError(f"an intervention must be a mapping, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in KINDS:
        raise LstmvizError(f"unknown intervention kind {kind!r} (known: {', '.join(KINDS)})")
    return KINDS[kind].from_dict(data)


def interventions_to_list(interventions) -> list[dict]:
    return [iv.to_dict() for iv in interventions]


def interventions_from_list(items) -> tuple[Intervention, ...]:
    return tuple(intervention_from_dict(item) for item in items)


def rerun(params: LSTMParams, trace: Trace, interventions=(), progress=None) -> Trace:
    """Replay the cell on trace.x from trace.h0, trace.c0 with the interventions applied.

    Returns a new Trace (same dtype, gate_order 'ifgo'); with no interventions it equals
    lstmviz.core.cell.run on the same inputs (to rounding). Correctness over speed: a general
    loop, about 0.2 s for T = 10 000, n = 64 (scripts/bench_analysis.py). progress(fraction)
    as for lstmviz.core.cell.run (False stops it: RunCancelled).
    """
    from lstmviz.core.analysis.gradients import check_compatible

    check_compatible(params, trace)
    interventions = tuple(interventions)
    for iv in interventions:
        if not isinstance(iv, (ClampGate, ZeroUnit, BiasOffset)):
            raise LstmvizError(f"{iv!r} is not an intervention")
        iv.validate(trace.n, trace.T)
    T, n = trace.T, trace.n
    bias, clamps, zeros = [], [], []
    for iv in interventions:
        start, stop = iv.step_range(T)
        units = iv.unit_index(n)
        if isinstance(iv, BiasOffset):
            bias.append((start, stop, iv.gate, units, iv.delta))
        elif isinstance(iv, ClampGate):
            clamps.append((start, stop, iv.gate, units, iv.value))
        else:
            zeros.append((start, stop, units))
    # The engine's general loop, with the interventions as step hooks: one recurrence to trust.
    # trace.x is already what this cell reads (upstream layers applied, reversed if backward).
    return run_with_hooks(
        params, trace.x, trace.h0, trace.c0, StepHooks(tuple(bias), tuple(clamps), tuple(zeros)),
        dtype=trace.dtype, mask=trace.mask, progress=progress,
    )


def difference(before: Trace, after: Trace):
    """after - before, per quantity (see lstmviz.core.analysis.compare.TraceDifference)."""
    from lstmviz.core.analysis.compare import trace_difference

    return trace_difference(before, after)
