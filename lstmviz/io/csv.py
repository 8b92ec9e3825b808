"""Trace CSV: the schema shared by `lstmviz trace`, lstmviz.write_trace_csv and the window's export.

wide: one row per step t:  t, x_0..x_{m-1}, [zi_*, zf_*, zg_*, zo_*], i_*, f_*, g_*, o_*, c_*, h_*
long: one row per (t, unit):  t, unit, [zi, zf, zg, zo], i, f, g, o, c, h

A projected (LSTMP) trace adds r (= o * tanh(c), before h = W_hr r) just before h: r_* in wide,
an r column in long. Its h has p entries and the gates, c and r have n: unit k selects entry k
of every quantity that has one (units run over 0..max(n, p) - 1), so the wide layout has
h_0..h_{p-1} and the long layout leaves a cell empty where a quantity has no entry k.

Floats are written with Python's shortest round-trip repr, so float() reads back the same bits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from lstmviz.core.trace import PREACTIVATIONS, STATES, Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write

LAYOUTS = ("wide", "long")
ROWS_PER_BLOCK = 2048
FORMAT_VALUES = 8192  # values per repr call in format_rows


class ExportCancelled(Exception):
    """The progress callback asked to stop; nothing was written."""


def format_rows(values: np.ndarray, prefixes: Sequence[str] | None = None) -> str:
    """CSV lines for a 2-D float block, each line optionally prefixed (e.g. 't,')."""
    if values.shape[0] == 0:
        return ""
    # repr of a nested list formats every float in C with the shortest round-trip digits, in
    # one call that holds the GIL: a few thousand values at a time, so that the window's
    # thread gets it back within milliseconds while an export runs in the background (a
    # 2048 x 417 block held it ~0.7 s)
    step = max(1, FORMAT_VALUES // max(1, values.shape[1]))
    text = "\n".join(repr(values[lo:lo + step].tolist())[2:-2].replace("], [", "\n").replace(", ", ",")
                     for lo in range(0, values.shape[0], step))
    if prefixes is None:
        return text + "\n"
    return "".join(f"{p}{line}\n" for p, line in zip(prefixes, text.split("\n")))


def _quantities(preactivations: bool, trace: Trace | None = None) -> tuple[str, ...]:
    states = STATES if trace is None else trace.states
    return (*PREACTIVATIONS, *states) if preactivations else states


def unit_count(trace: Trace) -> int:
    """Units a CSV can select: n, or max(n, p) for a projected trace (see the module docstring)."""
    return max(trace.n, trace.h_size)


def _width(trace: Trace, name: str) -> int:
    return trace.h_size if name == "h" else trace.n


def header(trace: Trace, layout: str, preactivations: bool, units: Sequence[int]) -> str:
    names = _quantities(preactivations, trace)
    if layout == "long":
        return ",".join(("t", "unit", *names))
    cols = ["t", *(f"x_{j}" for j in range(trace.m))]
    for name in names:
        width = _width(trace, name)
        cols.extend(f"{name}_{k}" for k in units if k < width)
    return ",".join(cols)


def iter_trace_csv(
    trace: Trace,
    layout: str = "wide",
    preactivations: bool = False,
    units: Sequence[int] | None = None,
    steps: tuple[int, int] | None = None,
):
    """Yield (text, fraction_done) chunks of the CSV, header first."""
    if layout not in LAYOUTS:
        raise LstmvizError(f"unknown layout {layout!r} (wide or long)")
    count = unit_count(trace)
    units = list(range(count)) if units is None else [int(k) for k in units]
    bad = [k for k in units if not 0 <= k < count]
    if bad or not units:
        raise LstmvizError(f"units {bad or '(none)'} are not in 0..{count - 1}")
    start, stop = (0, trace.T) if steps is None else steps
    if not 0 <= start < stop <= trace.T:
        raise LstmvizError(f"step range {start}..{stop - 1} is not within 0..{trace.T - 1}")
    names = _quantities(preactivations, trace)
    arrays = [trace.quantity(name) for name in names]
    # per quantity: the selected columns it has (all of them: a plain slice, no copy)
    columns = []
    for name in names:
        width = _width(trace, name)
        own = [k for k in units if k < width]
        columns.append(slice(None) if own == list(range(width)) else own)
    ragged = layout == "long" and any(_width(trace, name) < len(units) or
                                      any(k >= _width(trace, name) for k in units) for name in names)
    yield header(trace, layout, preactivations, units) + "\n", 0.0
    rows = ROWS_PER_BLOCK if layout == "wide" else max(1, ROWS_PER_BLOCK * 8 // len(units))
    for lo in range(start, stop, rows):
        hi = min(lo + rows, stop)
        if layout == "wide":
            picked = [a[lo:hi, cols] for a, cols in zip(arrays, columns)]
            block = np.hstack([trace.x[lo:hi], *picked])
            text = format_rows(block, [f"{t}," for t in range(lo, hi)])
        elif not ragged:
            picked = [a[lo:hi, cols] for a, cols in zip(arrays, columns)]
            block = np.stack(picked, axis=-1).reshape(-1, len(names))
            prefixes = [f"{t},{k}," for t in range(lo, hi) for k in units]
            text = format_rows(block, prefixes)
        else:
            # A projected trace: h and the cell quantities have different sizes. Missing
            # entries go in as NaN (a trace never holds one: runs refuse them) and are
            # written as empty cells.
            block = np.full((hi - lo, len(units), len(names)), np.nan)
            for q, (name, array) in enumerate(zip(names, arrays)):
                width = _width(trace, name)
                have = [u for u, k in enumerate(units) if k < width]
                block[:, have, q] = array[lo:hi, [units[u] for u in have]]
            prefixes = [f"{t},{k}," for t in range(lo, hi) for k in units]
            text = format_rows(block.reshape(-1, len(names)), prefixes).replace("nan", "")
        yield text, (hi - start) / (stop - start)


def write_trace_csv(
    trace: Trace,
    path,
    layout: str = "wide",
    preactivations: bool = False,
    units: Sequence[int] | None = None,
    steps: tuple[int, int] | None = None,
    progress: Callable[[float], bool] | None = None,
) -> None:
    """Write atomically; `progress(fraction)` returning False cancels (raises ExportCancelled)."""
    chunks = iter_trace_csv(trace, layout, preactivations, units, steps)
    first = next(chunks)  # validates the options before any file is created
    with atomic_write(path) as handle:
        handle.write(first[0])
        for text, done in chunks:
            handle.write(text)
            if progress is not None and progress(done) is False:
                raise ExportCancelled()
