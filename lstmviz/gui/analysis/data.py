"""What the analysis views draw, prepared without Qt (the 'resolve' step of ndv).

The views call the analyses in lstmviz.core.analysis through these functions and get back
small frozen records of plain arrays, scaled for display (log floors, color scales, text);
they only hand those to pyqtgraph. Nothing here imports Qt, so it is tested like core.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmviz.core.analysis import gradient_flow
from lstmviz.core.analysis.activation_curves import CURVE_GATES, activation_curve, gate_activation_name
from lstmviz.core.analysis.gradients import GradientFlow
from lstmviz.core.colormap import diverging_rgb
from lstmviz.core.text import Vocabulary, load_model_vocabulary
from lstmviz.errors import LstmvizError

# Values below this are drawn at this height on a log axis (it is float64's resolution next
# to 1: a gradient this small is zero for every practical purpose).
LOG_FLOOR = 1e-16
# A log color scale covers this many powers of ten below the largest value.
LOG_DECADES = 8


# -- memory and gradient flow ------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class MemoryCurves:
    """The memory view's curves for out = h_T[k] (or c_T[k]), for steps t = 0..T."""

    target: int
    unit: int | None
    wrt: str
    steps: np.ndarray  # (T+1,) 0..T
    fprod: np.ndarray  # (T+1,) prod_{s=t+1..T} f_s of unit k (the mean over units for k = None)
    dc: np.ndarray  # (T+1,) |d out / d c_t[k]|, all paths (the norm over units for k = None)
    dc_direct: np.ndarray  # (T+1,) the same along the cell-state line alone
    dx: np.ndarray  # (T+1,) || d out / d x_t ||
    heat: np.ndarray  # (n, T+1) d out / d c_t, signed, in [-1, 1] (see heat_log)
    heat_max: float  # the largest |d out / d c_t| (what +-1 stands for)
    flow: GradientFlow
    out_unit: int | None = None  # the entry of h_T (or c_T) that is `out`: unit, or p - 1 (below)

    def at(self, t: int) -> dict[str, float] | None:
        """The curves' values at step t, or None after the target."""
        if not 0 <= t <= self.target:
            return None
        return {"fprod": float(self.fprod[t]), "dc": float(self.dc[t]),
                "dc_direct": float(self.dc_direct[t]), "dx": float(self.dx[t])}


def memory_curves(params, trace, target: int, unit: int | None, wrt: str = "h") -> MemoryCurves:
    """Backpropagate once (lstmviz.core.analysis.gradient_flow) and shape it for the view."""
    # h of a projected (LSTMP) cell has p < n entries: for a unit k >= p, out is h_T[p - 1]
    # (the curves of d out / d c_t still follow cell unit k)
    out_unit = unit if unit is None or wrt != "h" else min(unit, trace.h_size - 1)
    flow = gradient_flow(params, trace, step=target, unit=out_unit, wrt=wrt)
    if unit is None:
        dc = np.linalg.norm(flow.dc, axis=1)
        direct = np.linalg.norm(flow.direct_dc(), axis=1)
    else:
        dc = np.abs(flow.dc[:, unit])
        direct = np.abs(flow.direct_dc()[:, unit])
    heat_max = float(np.abs(flow.dc).max()) if flow.dc.size else 0.0
    return MemoryCurves(
        target=flow.step, unit=unit, wrt=wrt, steps=flow.steps.astype(np.float64), fprod=flow.fprod,
        dc=dc, dc_direct=direct, dx=flow.norm("dx"), heat=np.ascontiguousarray(flow.dc.T),
        heat_max=heat_max, flow=flow, out_unit=out_unit,
    )


def log_safe(values: np.ndarray) -> np.ndarray:
    """values with anything below LOG_FLOOR raised to it (zeros would vanish on a log axis)."""
    return np.maximum(np.asarray(values, dtype=np.float64), LOG_FLOOR)


def heat_image(values: np.ndarray, vmax: float, log: bool = False, decades: int = LOG_DECADES) -> np.ndarray:
    """Signed values as float32 in [-1, 1] for a diverging lookup table.

    Linear: v / vmax. Log: the sign times how many of the top `decades` powers of ten |v|
    reaches (|v| = vmax -> 1, |v| = vmax * 10^-decades or less -> 0), so a gradient that
    decays exponentially stays visible far back in time.
    """
    values = np.asarray(values, dtype=np.float64)
    if not vmax > 0:
        return np.zeros(values.shape, dtype=np.float32)
    if not log:
        return np.clip(values / vmax, -1.0, 1.0).astype(np.float32)
    mag = np.abs(values) / vmax
    with np.errstate(divide="ignore"):
        level = np.log10(mag, out=np.full(mag.shape, -np.inf), where=mag > 0)
    scaled = np.clip(1.0 + level / float(decades), 0.0, 1.0)
    return (np.sign(values) * scaled).astype(np.float32)


# -- activation curves -------------------------------------------------------------------------
# Diagram selections that stand for a gate's curve: the gates themselves, and the parts of the
# cell that squash c (the tanh in h = o * tanh(c)).
SELECTION_GATES = {"i": "i", "f": "f", "g": "g", "o": "o", "c": "c", "tanh_c": "c", "mul_o": "c",
                   "h": "c", "mul_f": "f", "mul_i": "i", "add_c": "c"}


def curve_gate(selection: str, fallback: str = "f") -> str:
    """The gate whose curve to show for a diagram selection (fallback when none fits)."""
    gate = SELECTION_GATES.get(selection, fallback)
    return gate if gate in CURVE_GATES else "f"


def curve_range(params, trace, gate: str, unit: int, half_width: float = 6.0, margin: float = 1.0):
    """An activation curve over a z range covering every z the unit's gate took in the run
    (and at least +-half_width), so the axis does not jump as the step moves."""
    z = trace.c[:, unit] if gate == "c" else trace.preactivation(gate)[:, unit]
    finite = np.asarray(z, dtype=np.float64)
    lo = min(-half_width, float(finite.min()) - margin)
    hi = max(half_width, float(finite.max()) + margin)
    name = gate_activation_name(params, gate)
    return activation_curve(name, lo, hi, num=481)


# -- text --------------------------------------------------------------------------------------
def vocabulary_for(doc) -> Vocabulary | None:
    """The characters the Document's model reads: the vocabulary file beside the model
    (model.vocab.json), else the input names when each is one distinct character (the
    bracket preset names its columns by character), else None."""
    path = doc.model_path
    if path:
        try:
            vocab = load_model_vocabulary(path)
        except LstmvizError:
            vocab = None
        if vocab is not None and vocab.size == doc.m:
            return vocab
    names = tuple(doc.input_names)
    if len(names) == doc.m and names and all(isinstance(c, str) and len(c) == 1 for c in names) \
            and len(set(names)) == len(names):
        return Vocabulary(names, unknown=" " if " " in names else None)
    return None


def is_one_hot(xs: np.ndarray) -> bool:
    xs = np.asarray(xs)
    return bool(xs.ndim == 2 and xs.size and np.all((xs == 0) | (xs == 1)) and np.all(xs.sum(axis=1) == 1))


def decoded_text(doc, vocab: Vocabulary | None) -> str | None:
    """The Document's input read back as text, or None when it is not one-hot characters."""
    if vocab is None or vocab.size != doc.m or not is_one_hot(doc.xs):
        return None
    return vocab.decode(doc.xs)


def text_colors(trace, quantity: str, unit: int) -> tuple[np.ndarray, float]:
    """(T, 3) uint8 background colors of the characters for unit k's c or h, and the value
    that full color stands for (1 for h, the largest |c| of the unit, at least 1, for c)."""
    values = np.asarray(trace.quantity(quantity)[:, unit], dtype=np.float64)
    vmax = 1.0 if quantity == "h" else max(1.0, float(np.abs(values).max()))
    return diverging_rgb(values, vmax), vmax


def unit_values(trace, quantity: str, unit: int) -> np.ndarray:
    return np.asarray(trace.quantity(quantity)[:, unit], dtype=np.float64)


# -- units typed by the user -----------------------------------------------------------------------
def parse_units(text: str, n: int) -> tuple[int, ...] | None:
    """'all' (or empty) -> None (every unit); '3', '0-3, 7' -> sorted unit indices."""
    text = text.strip().lower()
    if text in ("", "all", "*"):
        return None
    units: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise LstmvizError(f"units: {part!r} is not a unit number or a range like 0-3") from None
        if a > b:
            a, b = b, a
        if a < 0 or b >= n:
            raise LstmvizError(f"units: {part} is outside 0..{n - 1}")
        units.update(range(a, b + 1))
    if not units:
        return None
    return tuple(sorted(units))


def format_units(units) -> str:
    """(0, 1, 2, 3, 7) -> '0-3, 7'; None -> 'all'."""
    if units is None:
        return "all"
    units = sorted(int(k) for k in units)
    parts, start, prev = [], None, None
    for k in units:
        if start is None:
            start = prev = k
        elif k == prev + 1:
            prev = k
        else:
            parts.append(f"{start}" if start == prev else f"{start}-{prev}")
            start = prev = k
    if start is not None:
        parts.append(f"{start}" if start == prev else f"{start}-{prev}")
    return ", ".join(parts)


# -- what-if and compare -----------------------------------------------------------------------------
DIFF_TOL = 1e-6  # smaller differences are not called a change (they are invisible on any plot)

@dataclass(frozen=True, eq=False)
class Overlay:
    """One quantity of two runs of the same shape, for an overlay and a difference heatmap."""

    quantity: str
    unit: int  # the unit of A shown: k, or the last entry of h when k >= p (projected cell)
    before: np.ndarray  # (T,) unit k in run A (the baseline, or the current model)
    after: np.ndarray  # (T,) unit k (or its partner) in run B
    delta: np.ndarray  # (T,) after - before
    heat: np.ndarray  # (n, T) float32 in [-1, 1]: (B - A) / heat_max, all units
    heat_max: float
    first_divergence: int | None  # first step where some unit differs by more than DIFF_TOL
    largest: tuple[int, int, float] | None  # (unit, step, after - before) of the largest |change|
    partner: int = -1  # the unit of B shown (unit when not given)

    @property
    def rows(self) -> int:
        """Entries of the quantity: n, or p for h of a projected cell (the heatmap's rows)."""
        return int(self.heat.shape[0])

    @property
    def changed(self) -> bool:
        return self.largest is not None


def overlay(before_trace, after_trace, quantity: str, unit: int, partner: int | None = None) -> Overlay:
    """A's unit k against B's unit `partner` (default k), and B - A for every unit.

    One pass over the (T, n) difference for its largest value, the first step that differs
    and the heatmap (at T = 100 000, n = 64 the earlier three passes took ~0.15-0.6 s)."""
    from lstmviz.core.analysis import trace_difference

    trace_difference(before_trace, after_trace)  # (checks the shapes)
    a, b = before_trace.quantity(quantity), after_trace.quantity(quantity)
    delta_all = np.subtract(b, a, dtype=np.float64)  # (T, n)
    j = unit if partner is None else partner
    # h of a projected (LSTMP) cell has p < n entries: unit k >= p shows the last one
    unit, j = min(unit, a.shape[1] - 1), min(j, b.shape[1] - 1)
    before = np.asarray(a[:, unit], dtype=np.float64)
    after = np.asarray(b[:, j], dtype=np.float64)
    per_step = np.abs(delta_all).max(axis=1) if delta_all.size else np.zeros(len(delta_all))
    heat_max = float(per_step.max()) if per_step.size else 0.0
    largest = first = None
    if heat_max > DIFF_TOL:
        t = int(np.argmax(per_step))
        k = int(np.argmax(np.abs(delta_all[t])))
        largest = (k, t, float(delta_all[t, k]))
        first = int(np.argmax(per_step > DIFF_TOL))
    return Overlay(
        quantity=quantity, unit=unit, before=before, after=after, delta=after - before,
        heat=_linear_heat(delta_all, heat_max), heat_max=heat_max,
        first_divergence=first, largest=largest, partner=j,
    )


def _linear_heat(delta_tn: np.ndarray, vmax: float) -> np.ndarray:
    """heat_image(delta_tn.T, vmax) in float32 throughout (the same values to float32's
    rounding), transposed last: (n, T) for a row-major image."""
    if not vmax > 0:
        return np.zeros(delta_tn.T.shape, dtype=np.float32)
    scaled = np.multiply(delta_tn, 1.0 / vmax, dtype=np.float32)
    np.clip(scaled, -1.0, 1.0, out=scaled)
    return np.ascontiguousarray(scaled.T)


def intervention_spans(interventions, T: int) -> list[tuple[int, int]]:
    """[start, stop) of each intervention's steps, merged, for shading the time axis."""
    spans = sorted(iv.step_range(T) for iv in interventions)
    merged: list[list[int]] = []
    for start, stop in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(a, b) for a, b in merged]


def check_second_model(doc, params) -> None:
    """LstmvizError unless `params` has the Document's model's shape (n and m)."""
    if params.n != doc.n or params.input_size != doc.params.input_size:
        raise LstmvizError(
            f"model B has n = {params.n}, m = {params.input_size} but the current model has "
            f"n = {doc.n}, m = {doc.params.input_size}: compare models of the same shape"
        )


def second_run(doc, params):
    """The run of another model of the same shape on the Document's input (and initial state)."""
    from lstmviz.core.cell import run

    check_second_model(doc, params)
    return run(params, doc.xs, h0=doc.h0, c0=doc.c0)


def span_text(text: str | None, start: int, stop: int, context: int = 0) -> str:
    """The characters of steps [start, stop) (with `context` more on each side), made visible."""
    if text is None:
        return ""
    from lstmviz.core.text import display_name

    a, b = max(0, start - context), min(len(text), stop + context)
    return "".join(display_name(ch) if ch in "\n\t\r" else ch for ch in text[a:b])
