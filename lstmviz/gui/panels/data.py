"""What the trace panels show, and the display-only array work they need. No Qt here.

Quantities and their value ranges, the per-pixel min/max envelope that keeps a 100 000-step
line cheap to draw, and the uint8 quantisation that feeds a heatmap's lookup table. None of
this is LSTM math (that lives in lstmviz.core); it only prepares recorded numbers for drawing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstmviz.core.trace import Trace


@dataclass(frozen=True)
class Quantity:
    name: str  # the Trace.quantity() key, also the diagram component id for c h i f g o
    symbol: str  # as drawn in the plot's title, HTML allowed
    title: str
    per_unit: bool = True  # False for x: its rows are the m inputs, not the n units


QUANTITIES: dict[str, Quantity] = {
    q.name: q
    for q in (
        Quantity("x", "x<sub>t</sub>", "input", per_unit=False),
        Quantity("c", "c<sub>t</sub>", "cell state"),
        Quantity("h", "h<sub>t</sub>", "hidden state"),
        Quantity("zi", "z<sub>i</sub>", "input gate pre-activation"),
        Quantity("i", "i<sub>t</sub>", "input gate"),
        Quantity("zf", "z<sub>f</sub>", "forget gate pre-activation"),
        Quantity("f", "f<sub>t</sub>", "forget gate"),
        Quantity("zg", "z<sub>g</sub>", "candidate pre-activation"),
        Quantity("g", "g<sub>t</sub>", "candidate (C&#771;<sub>t</sub>)"),
        Quantity("zo", "z<sub>o</sub>", "output gate pre-activation"),
        Quantity("o", "o<sub>t</sub>", "output gate"),
    )
}
BASE = ("c", "h", "i", "f", "g", "o")
PREACTIVATIONS = ("zi", "zf", "zg", "zo")
# Top to bottom: the input, the states, then each gate with its pre-activation just above it.
ORDER = tuple(QUANTITIES)

_UNIT_INTERVAL = ("sigmoid", "hard_sigmoid", "hard_sigmoid_keras3")
_SYMMETRIC = ("tanh",)


def shown_quantities(show_x: bool, show_z: bool) -> tuple[str, ...]:
    """The plots in stack order."""
    keep = set(BASE)
    if show_x:
        keep.add("x")
    if show_z:
        keep.update(PREACTIVATIONS)
    return tuple(name for name in ORDER if name in keep)


def _bounds(activation: str) -> tuple[float, float] | None:
    if activation in _UNIT_INTERVAL:
        return (0.0, 1.0)
    if activation in _SYMMETRIC:
        return (-1.0, 1.0)
    return None


def fixed_range(name: str, recurrent_activation: str, cell_activation: str) -> tuple[float, float] | None:
    """The value range an activation guarantees ([0, 1] for sigmoid gates, [-1, 1] for tanh)."""
    if name in ("i", "f", "o"):
        return _bounds(recurrent_activation)
    if name == "g":
        return _bounds(cell_activation)
    if name == "h":
        gate, act = _bounds(recurrent_activation), _bounds(cell_activation)
        if gate is None or act is None:
            return None
        lo, hi = min(0.0, act[0] * gate[1]), max(0.0, act[1] * gate[1])
        return (lo, hi)
    return None


def data_range(values: np.ndarray) -> tuple[float, float]:
    """min and max of finite values, widened to a non-empty interval."""
    if values.size == 0:
        return (-1.0, 1.0)
    lo, hi = float(np.min(values)), float(np.max(values))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return (-1.0, 1.0)
        lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-12:
        pad = max(abs(lo) * 0.1, 0.5)
        return (lo - pad, hi + pad)
    return (lo, hi)


@dataclass(frozen=True)
class ColorScale:
    colormap: str  # a lstmviz.colors colormap name
    lo: float
    hi: float


def color_scale(name: str, values: np.ndarray, fixed: tuple[float, float] | None) -> ColorScale:
    """Heatmap levels: the activation's range when it is known, else symmetric around zero."""
    if fixed is not None:
        lo, hi = fixed
        return ColorScale("sequential" if lo >= 0.0 else "diverging", lo, hi)
    lo, hi = data_range(values)
    if lo >= 0.0:
        return ColorScale("sequential", 0.0, hi)
    bound = max(abs(lo), abs(hi))
    return ColorScale("diverging", -bound, bound)


# Steps per block when gathering a plot's columns: the block's rows stay in cache between the
# gather and the transposed float32 write (in one pass each over the whole trace, both read
# 100 000 rows 3 KB apart: 6.7 vs 3.3 ms per plot at T = 100 000, n = 64, measured here).
GATHER_ROWS = 2048


def _transposed_f32(values: np.ndarray, rows) -> np.ndarray:
    """values (T, width) -> (k, T) float32 C-contiguous of the columns `rows` (None: all)."""
    T = values.shape[0]
    index = None if rows is None else np.asarray(rows, dtype=np.intp)
    out = np.empty((values.shape[1] if index is None else index.size, T), dtype=np.float32)
    for lo in range(0, T, GATHER_ROWS):
        hi = min(lo + GATHER_ROWS, T)
        block = values[lo:hi] if index is None else values[lo:hi, index]
        out[:, lo:hi] = block.T
    return out


def trace_rows(trace: Trace, name: str, rows=None) -> np.ndarray:
    """(k, T) float32 C-contiguous copy of the chosen units (or inputs) of one quantity."""
    return _transposed_f32(trace.quantity(name), rows)


def trace_rows_between(trace: Trace, name: str, rows, lo: int, hi: int) -> np.ndarray:
    """trace_rows for steps [lo, hi) only: (k, hi - lo) float32."""
    return _transposed_f32(trace.quantity(name)[lo:hi], rows)


QUANTIZE_CHUNK = 1 << 16  # steps per block: the float32 scratch stays a few MB at any T


def quantize(values_tk: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(T, k) floats -> (k, T) uint8 codes 0..255 for a 256-entry lookup table."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    T, k = values_tk.shape
    codes = np.empty((k, T), dtype=np.uint8)
    # in blocks of steps: one (k, T) float32 scratch would be 4x the codes (256 MB for a
    # 10^6-step heatmap of 64 units, at the moment a trace is loaded)
    tmp = np.empty((k, min(T, QUANTIZE_CHUNK)), dtype=np.float32)
    for start in range(0, T, QUANTIZE_CHUNK):
        stop = min(start + QUANTIZE_CHUNK, T)
        block = tmp[:, : stop - start]
        np.subtract(values_tk[start:stop].T, lo, out=block, casting="unsafe")
        block *= scale
        block += 0.5
        np.clip(block, 0.0, 255.0, out=block)
        np.nan_to_num(block, copy=False, nan=0.0)
        codes[:, start:stop] = block  # (float -> uint8: truncation, as astype did)
    return codes


def envelope(rows: np.ndarray, x0: float, x1: float, pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """The points that draw rows (k, T) between steps x0 and x1 on `pixels` pixel columns.

    When there are more steps than two per pixel, each bin of steps becomes its minimum and
    its maximum at the bin's centre (a peak envelope: a one-step spike stays visible at any
    zoom). Bins are aligned to multiples of their width so panning does not shimmer.
    Returns xs (N,) float64 and ys (k, N) float32.
    """
    k, T = rows.shape
    if T == 0 or pixels <= 0:
        return np.empty(0), np.empty((k, 0), dtype=np.float32)
    t0 = max(0, int(math.floor(x0)) - 1)
    t1 = min(T, int(math.ceil(x1)) + 2)
    if t1 <= t0:
        t0, t1 = max(0, min(t0, T - 1)), min(T, max(t0, 0) + 1)
    span = t1 - t0
    if span <= 2 * pixels:
        return np.arange(t0, t1, dtype=np.float64), rows[:, t0:t1]
    width = int(math.ceil(span / pixels))
    t0 -= t0 % width
    nbins = (t1 - t0) // width
    cut = t0 + nbins * width
    block = rows[:, t0:cut].reshape(k, nbins, width)
    lo, hi = block.min(axis=2), block.max(axis=2)
    centres = t0 + (np.arange(nbins) + 0.5) * width - 0.5
    if cut < t1:  # a last, partial bin
        tail = rows[:, cut:t1]
        lo = np.concatenate([lo, tail.min(axis=1, keepdims=True)], axis=1)
        hi = np.concatenate([hi, tail.max(axis=1, keepdims=True)], axis=1)
        centres = np.append(centres, (cut + t1 - 1) / 2.0)
    ys = np.empty((k, 2 * lo.shape[1]), dtype=rows.dtype)
    ys[:, 0::2] = lo
    ys[:, 1::2] = hi
    return np.repeat(centres, 2), ys
