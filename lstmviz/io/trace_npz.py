"""Trace .npz: the arrays of a recorded run, for NumPy users. No Qt.

Keys (the same names as the CSV columns): t (steps,), units (k,), x (steps, m), then
i, f, g, o, c, h (steps, k) and, with preactivations, zi, zf, zg, zo; h0 and c0 (k,).
Row r of every array is step t[r]; column j is unit units[j]. A projected (LSTMP) trace adds
r (steps, k), o * tanh(c) before the projection, and its h and h0 keep all p entries of h
(h_t = W_hr r_t mixes every unit, so a unit selection does not apply to them). A masked
trace adds mask (steps,) bool: True where the step was masked.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Sequence

import numpy as np
import numpy.lib.format as npformat

from lstmviz.core.trace import PREACTIVATIONS, Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.csv import ExportCancelled

ROWS_PER_BLOCK = 65536


def _selection(trace: Trace, units, steps) -> tuple[list[int], int, int]:
    units = list(range(trace.n)) if units is None else [int(k) for k in units]
    bad = [k for k in units if not 0 <= k < trace.n]
    if bad or not units:
        raise LstmvizError(f"units {bad or '(none)'} are not in 0..{trace.n - 1}")
    start, stop = (0, trace.T) if steps is None else (int(steps[0]), int(steps[1]))
    if not 0 <= start < stop <= trace.T:
        raise LstmvizError(f"step range {start}..{stop - 1} is not within 0..{trace.T - 1}")
    return units, start, stop


def write_trace_npz(
    trace: Trace,
    path,
    preactivations: bool = False,
    units: Sequence[int] | None = None,
    steps: tuple[int, int] | None = None,
    progress: Callable[[float], bool] | None = None,
) -> None:
    """Write atomically (np.load reads it); progress(fraction) returning False cancels."""
    units, start, stop = _selection(trace, units, steps)
    all_units = units == list(range(trace.n))
    names = (*PREACTIVATIONS, *trace.states) if preactivations else trace.states
    projected = trace.r is not None
    blocks: list[tuple[str, Callable[[int, int], np.ndarray], tuple[int, ...]]] = [
        ("x", lambda lo, hi: trace.x[lo:hi], (stop - start, trace.m)),
    ]
    for name in names:
        arr = trace.quantity(name)
        if name == "h" and projected:
            blocks.append((name, (lambda a: lambda lo, hi: a[lo:hi])(arr), (stop - start, trace.h_size)))
            continue
        blocks.append((name, (lambda a: lambda lo, hi: a[lo:hi] if all_units else a[lo:hi, units])(arr),
                       (stop - start, len(units))))
    total = (stop - start) * len(blocks) or 1
    done = 0
    with atomic_write(path, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED) as zf:
        small = {
            "t": np.arange(start, stop, dtype=np.int64),
            "units": np.asarray(units, dtype=np.int64),
            "h0": np.asarray(trace.h0) if projected else np.asarray(trace.h0)[units],
            "c0": np.asarray(trace.c0)[units],
        }
        if trace.mask is not None:
            small["mask"] = np.asarray(trace.mask[start:stop], dtype=bool)
        for key, value in small.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as out:
                npformat.write_array(out, np.ascontiguousarray(value), allow_pickle=False)
        for key, block, shape in blocks:
            header = {"descr": npformat.dtype_to_descr(trace.dtype), "fortran_order": False, "shape": shape}
            with zf.open(f"{key}.npy", "w", force_zip64=True) as out:
                npformat.write_array_header_2_0(out, header)
                for lo in range(start, stop, ROWS_PER_BLOCK):
                    hi = min(lo + ROWS_PER_BLOCK, stop)
                    out.write(np.ascontiguousarray(block(lo, hi), dtype=trace.dtype).tobytes())
                    done += hi - lo
                    if progress is not None and progress(done / total) is False:
                        raise ExportCancelled()
