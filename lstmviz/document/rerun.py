"""A rerun that lands at once and is computed a few milliseconds at a time (no Qt).

An edit on a long sequence would otherwise freeze the window for the whole run (3.5 s at
T = 100 000 on an AVX2 machine). Instead the Document installs the new cell at once together
with the trace it already has, and marks how much of that trace belongs to the new cell:
rows [0, computed) are runs of the new cell; rows [computed, T) still hold the previous run
(stale). `Rerun.advance` then rewrites the next rows in place, for about `budget` seconds per
call, so the window can paint between calls.

In place is what makes it cheap: no second copy of a half-gigabyte trace, no copy of the
stale rows, and rows before the first changed input are never recomputed. The price is that
a trace's arrays change under whoever holds them during a rerun: the Document's `hold_trace`
keeps reruns off a trace that a background export is reading (they then run at once).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lstmviz.core.blas import blas_threads
from lstmviz.core.cell import layer_inputs, sequence_mask
from lstmviz.core.kernels import Prepared, first_nan_row, prepare, resumable, resume, z_block_rows
from lstmviz.core.trace import Trace
from lstmviz.document.state import CellState
from lstmviz.errors import LstmvizError

# Rows of the first chunk, before the loop has measured its own speed here.
FIRST_CHUNK = 64
MIN_CHUNK = 16
# A tick ends rather than start a chunk of fewer rows than this: a call costs about as much
# as 7 rows (measured: 64-row chunks take 1.11x one whole run, 1024-row ones 1.03x).
TAIL_ROWS = 64
MAX_CHUNK = 65_536


@dataclass(frozen=True)
class Plan:
    """How a trace (a run of one cell) is rewritten for another: from row `first` on, after
    writing `input_rows` of the new cell input `x_new` into it (None: the input is the same)."""

    first: int
    x_new: np.ndarray | None = None
    input_rows: np.ndarray | None = None


def plan(cell: CellState, new: CellState, trace: Trace) -> Plan | None:
    """How `trace` (a run of `cell`) becomes a run of `new`: Plan(first=T) when nothing
    changes; None when it cannot be rewritten in place (another size or layout, or an input
    that reaches this cell only through upstream layers, which would all run again)."""
    params = new.params
    if trace.T != new.T or not resumable(trace, params) or trace.dtype != np.float64:
        return None
    same = params is cell.params and new.h0 is cell.h0 and new.c0 is cell.c0
    if new.xs is cell.xs:
        return Plan(trace.T if same else 0)
    if params.upstream:
        return None
    x_new = layer_inputs(params, new.xs)
    rows = np.flatnonzero(np.any(x_new != trace.x, axis=1))
    first = int(rows[0]) if rows.size else trace.T
    return Plan(first if same else 0, x_new, rows)


@dataclass
class Rerun:
    """Rows [computed, T) of `trace` still to be computed for `cell`."""

    cell: CellState
    trace: Trace
    computed: int
    rows_per_second: float = 0.0
    last_rows: int = FIRST_CHUNK  # rows the last advance computed, in all its chunks
    prepared: Prepared | None = None  # the cell's weights as the loops want them, made once

    @classmethod
    def start(cls, cell: CellState, trace: Trace, how: Plan, computed: int,
              previous: Rerun | None = None) -> Rerun:
        """Begin (or restart, when rows [0, computed) are already runs of the cell before)
        rewriting `trace` for `cell` as `how` says; the changed input rows (and their mask)
        are written into the trace now."""
        if how.input_rows is not None and how.input_rows.size:
            trace.x[how.input_rows] = how.x_new[how.input_rows]
            if trace.mask is not None:
                mask = sequence_mask(cell.params, np.asarray(cell.xs))
                trace.mask[how.input_rows] = mask[how.input_rows]
        prepared = prepare(cell.params, trace.dtype)
        if previous is None:
            return cls(cell, trace, min(how.first, computed), prepared=prepared)
        return cls(cell, trace, min(how.first, computed), previous.rows_per_second, previous.last_rows,
                   prepared)

    @property
    def done(self) -> bool:
        return self.computed >= self.trace.T

    @property
    def seconds_left(self) -> float | None:
        """The compute still to do, in seconds at the speed measured so far (None before a
        chunk has been timed)."""
        if not self.rows_per_second:
            return None
        return (self.trace.T - self.computed) / self.rows_per_second

    def advance(self, budget: float, until: int | None = None) -> int:
        """Compute rows for about `budget` seconds (at least one chunk), stopping early once
        row `until` - 1 is computed (the step on screen: it is shown a frame sooner); the new
        `computed`. An overflow to NaN raises LstmvizError naming the step, as a whole run
        would."""
        with blas_threads(self.trace.n):  # (once for all the chunks)
            return self._advance(budget, until)

    def _advance(self, budget: float, until: int | None) -> int:
        T, params, trace = self.trace.T, self.cell.params, self.trace
        block = z_block_rows(trace.n, trace.x.shape[1])
        deadline = time.perf_counter() + budget
        first = True
        lo_was = self.computed
        # a chunk grows to at most twice what the last advance computed: one advance is then
        # one call (each ends on a z block and starts with the caches of the paint before it)
        cap = 2 * max(self.last_rows, block)
        while self.computed < T:
            now = time.perf_counter()
            left = deadline - now
            if not first and until is not None and lo_was < until <= self.computed:
                break
            if not self.rows_per_second:
                rows = FIRST_CHUNK
            else:  # a little under the measured speed
                rows = min(int(0.9 * self.rows_per_second * max(left, 0.0)), cap)
            if not first and rows < max(TAIL_ROWS, block // 2):
                break  # not worth another call (and its z block): end a little early
            first = False
            lo = self.computed
            hi = min(T, lo + min(max(rows, MIN_CHUNK), MAX_CHUNK))
            if hi < T and (hi // block) * block > lo:
                # end on a block of z (kernels.z_block_rows): a chunk ending inside one computes
                # that block's input products whole, and the next chunk does so again
                hi = (hi // block) * block
            resume(params, trace, lo, hi, self.prepared)
            spent = time.perf_counter() - now
            rate = (hi - lo) / max(spent, 1e-6)
            self.rows_per_second = rate if not self.rows_per_second else 0.5 * (self.rows_per_second + rate)
            bad = first_nan_row(trace, lo, hi)
            if bad is not None:
                raise LstmvizError(
                    f"the run overflows {trace.dtype.name} at step {bad}: W x + U h + b reaches infinity "
                    "on both sides and gives NaN (weights or inputs too large; scale them down)",
                    source=params.source or None,
                )
            self.computed = hi
        self.last_rows = max(MIN_CHUNK, self.computed - lo_was)
        return self.computed
