"""The step loops behind run(): the same recurrence as lstmviz.core.cell.step(), made fast.

cell.step() is the reference; every loop here computes the same numbers (tests/core checks
them against step() and against plain math.* loops written in the tests). The loops differ
in how they spend NumPy calls, which at n <= 64 cost more than the arithmetic (~0.3 us per
call, docs/benchmarks.md):

- run_general: any activations, peepholes, a projection, masking, ONNX clip and
  input_forget, and what-if hooks.
- run_fast: sigmoid/tanh cells without peepholes or masking (the common case), projected
  or not, with about ten in-place calls per step on preallocated rows.

The default fast loop ("exp") and run_general make the same floating-point operations in the
same order, so their traces are identical to the bit (a what-if rerun, which uses the general
loop, shows no difference where nothing was changed); step() matches them within 1e-15
(absolute) for the gates, c and h, and z to a few ulp: it adds W x, U h and b in another
order than one matrix product over all steps does (tests/core/test_kernels.py).

Both project the inputs with matrix products (z = x W^T + b, in fixed blocks of rows), then
add U h_{t-1} step by step. Each loop line carries the equation it computes.

Resuming in place (a streamed rerun after an edit): allocate() makes a trace in the one
layout both loops write, resumable(trace, params) says whether resume(params, trace, start,
stop) can continue it, and resume computes steps [start, stop) from the recorded state before
start, in place, with the fast loop or the general one as the cell needs. Any chunking gives
the same bits as one run (tests/core/test_kernels_resume.py); first_nan_row finds an overflow
in a chunk (cell.refuse_nan raises run()'s error for it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from lstmviz.core.activations import activation, sigmoid_unguarded
from lstmviz.core.blas import blas_threads
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

# Steps between progress reports (about 30 ms at n = 64): the inner loop stays untouched.
PROGRESS_CHUNK = 4096

Progress = Callable[[float], object]


class RunCancelled(Exception):
    """The progress callback returned False: the run stopped and nothing was recorded."""


def report(progress: Progress | None, fraction: float) -> None:
    if progress is not None and progress(min(fraction, 1.0)) is False:
        raise RunCancelled()


@dataclass(frozen=True)
class StepHooks:
    """Changes to the recurrence at chosen steps (what-if, lstmviz.core.analysis.whatif).

    Steps are [start, stop) ranges, units index arrays, gates one of "i" "f" "g" "o".
    bias: (start, stop, gate, units, delta) added to the gate's z;
    clamps: (start, stop, gate, units, value) forced onto the gate's values;
    zeros: (start, stop, units) whose c and h (r and c for a projected cell, so that h =
    W_hr r no longer hears them) are set to 0 at the end of the step.
    """

    bias: tuple = ()
    clamps: tuple = ()
    zeros: tuple = ()


# Internal gate order of the loops: the three sigmoid gates first, so one call covers them.
FAST_ORDER = "ifog"


def cast(values: np.ndarray, dtype: np.dtype, copy: bool = False) -> np.ndarray:
    """values as dtype (C-contiguous), refusing values the dtype cannot hold."""
    if dtype != values.dtype and values.size:
        limit = np.finfo(dtype).max
        if np.abs(values).max() > limit:
            raise LstmvizError(
                f"weights or inputs up to {np.abs(values).max():.3g} do not fit in {dtype.name} "
                f"(largest {limit:.3g}); run in float64"
            )
    if copy:
        return np.array(values, dtype=dtype, order="C", copy=True)
    return np.ascontiguousarray(values, dtype=dtype)


# -- the trace layout both loops write, and resuming a run in place ---------------------------
#
# One block per trace: block row t + 1 = [i f o g (4n) | c_t (n) | h_t or r_t (n)], row 0
# holds c_{-1} (and h_{-1}); a projected cell's h (p columns) has its own (T + 1, p) rows
# with h_{-1} in row 0. The trace's a, c, h (r) are views of those rows, so step t - 1's c
# and h always sit just above step t's: a loop can start at any row, and g_t and c_{t-1} lie
# at a constant distance (both loops pair them with one strided view per step, _unit_pairs).


def z_block_rows(n: int, m: int) -> int:
    """Rows of x per matrix product when computing z = x W^T + b (a power of two, 64 .. 256).

    OpenBLAS's dgemm/sgemm sum a row's products in an order that depends on how many rows
    the call has (and where the row sits in it): measured here, no fixed chunk multiple gives
    the same bits. So z is always computed in these fixed blocks, block k = rows [kB, kB + B)
    of the trace, whatever range a caller asks for: the same call on the same rows gives the
    same bits, and a run resumed in any chunking equals one run to the bit. Each block reads
    all of W, so few rows per block waste the product on reading W (AVX2, n = 256 float64:
    11 us a row in blocks of 8, 7.6 in blocks of 64; n = 1024: 145 vs 59 us); ~2^22 multiply-
    adds per block, at least 64 rows, at most 256 (the edge block a short resumed chunk
    computes whole stays cheap).
    """
    rows = (1 << 22) // max(1, 4 * n * m)
    return 1 << max(6, min(8, rows.bit_length() - 1)) if rows else 64


def _input_products(x: np.ndarray, W: np.ndarray, b: np.ndarray, z: np.ndarray, lo: int, hi: int) -> None:
    """z[lo:hi] = x[lo:hi] W^T + b, computed in the fixed blocks of z_block_rows."""
    T, n4 = z.shape
    B = z_block_rows(n4 // 4, x.shape[1])
    edge = None
    for first in range((lo // B) * B, hi, B):
        last = min(first + B, T)
        if lo <= first and last <= hi:
            np.matmul(x[first:last], W.T, out=z[first:last])
        else:  # a block only partly asked for: compute it whole, keep the rows asked for
            if edge is None or edge.shape[0] != last - first:
                edge = np.empty((last - first, n4), dtype=z.dtype)
            np.matmul(x[first:last], W.T, out=edge)
            keep_lo, keep_hi = max(lo, first), min(hi, last)
            z[keep_lo:keep_hi] = edge[keep_lo - first : keep_hi - first]
    z[lo:hi] += b


def allocate(params: LSTMParams, x: np.ndarray, h_init: np.ndarray, c_init: np.ndarray,
             dtype: np.dtype, mask: np.ndarray | None = None) -> Trace:
    """An unfilled Trace (rows uninitialised, np.empty) in the layout resume() writes.

    x is the trace's own (T, m) input in dtype (kept, not copied); h_init, c_init the state
    before step 0 (kept as trace.h0, c0); mask (T,) bool or None, kept as trace.mask.
    """
    dtype = np.dtype(dtype)
    T, n, p = x.shape[0], params.n, params.h_size
    z = np.empty((T, 4 * n), dtype=dtype)
    block = np.empty((T + 1, 6 * n), dtype=dtype)
    a, c, last = block[1:, : 4 * n], block[1:, 4 * n : 5 * n], block[1:, 5 * n :]
    if params.W_hr is None:
        h, r = last, None
    else:
        h, r = np.empty((T + 1, p), dtype=dtype)[1:], last
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER, r=r, mask=mask)


def _address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def _rows_of(view: np.ndarray, base_shape: tuple[int, int], column: int, dtype) -> np.ndarray | None:
    """The (T + 1, width) array whose rows 1.. `view` is, from `column` on; else None."""
    base = view.base
    if (not isinstance(base, np.ndarray) or base.shape != base_shape or base.dtype != dtype
            or not base.flags.c_contiguous or view.dtype != dtype):
        return None
    item = dtype.itemsize
    if view.strides != (base_shape[1] * item, item):
        return None
    if _address(view) != _address(base) + (base_shape[1] + column) * item:
        return None
    return base


def _layout(trace: Trace):
    """(block, h_rows) of a trace allocate() made, else None (h_rows is block for an unprojected cell)."""
    try:
        T, n, p, dtype = trace.T, trace.n, trace.h_size, trace.dtype
    except (AttributeError, IndexError):
        return None
    if dtype not in (np.float32, np.float64) or trace.gate_order != FAST_ORDER or n == 0:
        return None
    shape = (T + 1, 6 * n)
    if trace.a.shape != (T, 4 * n) or trace.c.shape != (T, n):
        return None
    block = _rows_of(trace.a, shape, 0, dtype)
    if block is None or _rows_of(trace.c, shape, 4 * n, dtype) is not block:
        return None
    if trace.r is None:
        if p != n or _rows_of(trace.h, shape, 5 * n, dtype) is not block:
            return None
        h_rows = block
    else:
        if trace.r.shape != (T, n) or _rows_of(trace.r, shape, 5 * n, dtype) is not block:
            return None
        h_rows = _rows_of(trace.h, (T + 1, p), 0, dtype)
        if h_rows is None:
            return None
    z, x = trace.z, trace.x
    if (z.shape != (T, 4 * n) or z.dtype != dtype or not z.flags.c_contiguous or x.ndim != 2
            or x.shape[0] != T or x.dtype != dtype or not x.flags.c_contiguous):
        return None
    if np.shape(trace.h0) != (p,) or np.shape(trace.c0) != (n,):
        return None
    return block, h_rows


def resumable(trace: Trace, params: LSTMParams) -> bool:
    """True when resume(params, trace, ...) can write into this trace: it was made by
    allocate() (run(), run_cell(), run_fast(), run_general() all use it) for a cell of the
    same shape (n, m, h_size, projected or not), its dtype float32/float64, and it has a
    mask exactly when params has a mask_value. Loaded or hand-made Traces give False."""
    return _resumable_layout(trace, params) is not None


def _resumable_layout(trace: Trace, params: LSTMParams):
    layout = _layout(trace)
    if layout is None:
        return None
    if trace.n != params.n or trace.m != params.m or trace.h_size != params.h_size:
        return None
    if trace.projected != (params.W_hr is not None):
        return None
    if (params.mask_value is None) != (trace.mask is None):
        return None
    if trace.mask is not None:
        mask = trace.mask
        if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != (trace.T,):
            return None
    return layout


@dataclass(frozen=True, eq=False)
class Prepared:
    """The weights of one cell cast (and, for the fast loop, scaled) for a dtype.

    prepare() makes one; pass it to resume() to skip redoing it for every chunk (it copies
    W, U, b: ~10 ms at n = 1024). Invalid once params change.
    """

    fast: bool
    dtype: np.dtype
    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    W_hr: np.ndarray | None
    one_exp: bool = False
    variant: str = "exp"  # "exp", "exp1", "tanh" (fast) or "general"


def prepare(params: LSTMParams, dtype, fast: bool | None = None, variant: str = "exp") -> Prepared:
    """The weights for resume() (fast: fast_applies(params) unless forced; False always works)."""
    dtype = np.dtype(dtype)
    fast = fast_applies(params) if fast is None else fast
    W_hr = None if params.W_hr is None else _column_major(cast(params.W_hr, dtype))
    if not fast:
        # FAST_ORDER, like the fast loops: the same row order gives the same bits from BLAS.
        W, U, b = (cast(arr, dtype) for arr in params.stacked(FAST_ORDER))
        return Prepared(False, dtype, W, _column_major(U), b, W_hr, variant="general")
    if variant not in FAST_VARIANTS:
        raise ValueError(f"unknown fast-loop variant {variant!r}")
    if variant == "tanh":
        # Halve the sigmoid rows so one tanh serves all four gates: sigmoid(z) = (1 + tanh(z/2))/2.
        W, U, b = _scaled_stacked(params, (0.5, 0.5, 0.5, 1.0), dtype)
        return Prepared(True, dtype, W, _column_major(U), b, W_hr, variant="tanh")
    one_exp = variant == "exp1"
    # i, f, o rows negated (the loop needs exp(-z)); g rows as they are, or times -2 when g
    # goes through the same exp: tanh(z) = 2 / (1 + exp(-2z)) - 1.
    W, U, b = _scaled_stacked(params, (-1.0, -1.0, -1.0, -2.0 if one_exp else 1.0), dtype)
    return Prepared(True, dtype, W, _column_major(U), b, W_hr, one_exp=one_exp,
                    variant="exp1" if one_exp else "exp")


# U h per step reads all of U (4n x h_size) and, projected, W_hr. Which OpenBLAS gemv kernel
# streams it faster depends on the size: on this AVX2 EPYC (loaded, min of many runs) the
# column-major one (dgemv_n) took 2.4 vs 2.9 us at n = 64, 1.0 vs 2.3 ms at n = 1024 float32,
# but lost at n = 256 (~10% in the loop). Both loops use the same layout, so they stay equal
# to the bit.
def _column_major_pays(rows: int) -> bool:
    return rows <= 4 * 128 or rows >= 4 * 512


def _column_major(matrix: np.ndarray) -> np.ndarray:
    if _column_major_pays(max(matrix.shape)):
        return np.asfortranarray(matrix)
    return np.ascontiguousarray(matrix)


def resume(params: LSTMParams, trace: Trace, start: int, stop: int, prepared: Prepared | None = None
           ) -> None:
    """Compute steps [start, stop) of the run in place, into a trace resumable() accepts.

    Step start continues from h_{start-1} = trace.h[start - 1] and c_{start-1} = trace.c[start - 1]
    (trace.h0, c0 when start == 0), reads trace.x and trace.mask, and overwrites rows
    [start, stop) of z (recomputed: x W^T + b, then + U h per step), a, c, h (and r); the rows
    after stop are untouched. Runs in any chunking give the same bits as one run (see
    z_block_rows). The fast loop when fast_applies(params), else the general loop; prepared:
    prepare(params, trace.dtype) made once for many calls. NaN is not refused here (see
    first_nan_row).
    """
    layout = _resumable_layout(trace, params)
    if layout is None:
        raise ValueError("this trace was not made by allocate() for a cell of this shape")
    if not 0 <= start <= stop <= trace.T:
        raise ValueError(f"steps [{start}, {stop}) are not within the trace's T = {trace.T}")
    prepared = prepare(params, trace.dtype) if prepared is None else prepared
    if prepared.dtype != trace.dtype:
        raise ValueError(f"weights prepared for {prepared.dtype.name}, the trace is {trace.dtype.name}")
    # Finite weights can still overflow W x + U h + b; inf is a fine pre-activation (every
    # gate saturates), so the loops run quietly (cell.run_cell refuses only NaN).
    with blas_threads(params.n), np.errstate(over="ignore", invalid="ignore"):
        _resume_rows(params, prepared, trace, start, stop, layout=layout)


def _resume_rows(params, prepared: Prepared, trace: Trace, lo: int, hi: int, hooks=None, layout=None) -> None:
    if lo >= hi:
        return
    block, h_rows = _layout(trace) if layout is None else layout
    n = trace.n
    if lo == 0:
        block[0, 4 * n : 5 * n] = trace.c0
        h_rows[0, -trace.h_size :] = trace.h0
    if not prepared.fast:
        _general_rows(params, prepared, trace, block, h_rows, lo, hi, hooks or StepHooks())
    elif prepared.variant == "tanh":
        _fast_tanh_rows(prepared, trace, block, h_rows, lo, hi)
    else:
        _fast_exp_rows(params, prepared, trace, block, h_rows, lo, hi)


def first_nan_row(trace: Trace, lo: int = 0, hi: int | None = None, rows: int = 4096) -> int | None:
    """The first step in [lo, hi) whose c, h or r holds a NaN, else None.

    A NaN in any gate reaches c or r (and h) at the same step, so scanning those is enough.
    """
    hi = trace.T if hi is None else min(hi, trace.T)
    for first in range(lo, hi, rows):
        last = min(first + rows, hi)
        bad = np.isnan(trace.c[first:last]).any(axis=1) | np.isnan(trace.h[first:last]).any(axis=1)
        if trace.r is not None:
            bad |= np.isnan(trace.r[first:last]).any(axis=1)
        if bad.any():
            return first + int(np.argmax(bad))
    return None


def _in_chunks(params, prepared, trace, progress, hooks=None) -> Trace:
    T = trace.T
    chunk = T if progress is None else PROGRESS_CHUNK
    layout = _layout(trace)
    for lo in range(0, T, chunk):
        hi = min(lo + chunk, T)
        _resume_rows(params, prepared, trace, lo, hi, hooks, layout)
        report(progress, hi / T)
    return trace


def run_general(params: LSTMParams, x: np.ndarray, h_init: np.ndarray, c_init: np.ndarray,
                dtype: np.dtype, hooks: StepHooks | None = None, progress: Progress | None = None,
                mask: np.ndarray | None = None) -> Trace:
    """Any activations, peepholes, projection, mask and hooks; a little slower, same recording.

    x is the trace's own (T, m) input in dtype; mask a (T,) bool array or None.
    """
    trace = allocate(params, x, h_init, c_init, dtype, mask)
    return _in_chunks(params, prepare(params, dtype, fast=False), trace, progress, hooks)


def _general_rows(params, w: Prepared, trace: Trace, block, h_rows, lo: int, hi: int,
                  hooks: StepHooks) -> None:
    n, dtype = trace.n, w.dtype
    U, W_hr = w.U, w.W_hr
    # the loop runs under np.errstate(over="ignore") (resume, cell.run_cell): no guard per call
    rec_name = params.recurrent_activation
    rec = sigmoid_unguarded if rec_name == "sigmoid" else activation(rec_name)
    act = activation(params.cell_activation)
    p_i, p_f, p_o = (
        None if p is None else p.astype(dtype) for p in (params.p_i, params.p_f, params.p_o)
    )
    clip = None if params.clip is None else dtype.type(params.clip)
    input_forget, one = params.input_forget, dtype.type(1.0)
    z, a, c, h, r = trace.z, trace.a, trace.c, trace.h, trace.r
    _input_products(trace.x, w.W, w.b, z, lo, hi)  # z_t = W x_t + b; U h_{t-1} comes per step

    def columns(gate, units):
        return FAST_ORDER.index(gate) * n + np.asarray(units, dtype=np.intp)

    for start, stop, gate, units, delta in hooks.bias:
        first, last = max(start, lo), min(stop, hi)
        if first < last:
            z[first:last, columns(gate, units)] += dtype.type(delta)
    # o is clamped after the output gate is computed (it may peep at the new c); i, f, g before c.
    clamps_gates = [(s, e, columns(g, u), dtype.type(v)) for s, e, g, u, v in hooks.clamps if g != "o"]
    clamps_out = [(s, e, columns(g, u), dtype.type(v)) for s, e, g, u, v in hooks.clamps if g == "o"]
    zeros = hooks.zeros
    masked = np.zeros(trace.T, dtype=bool) if trace.mask is None else trace.mask
    h_prev, c_prev = h_rows[lo, -trace.h_size :], block[lo, 4 * n : 5 * n]
    zi, zf, zo, zg = (slice(k * n, (k + 1) * n) for k in range(4))  # FAST_ORDER: i f o g
    # an unprojected cell computes r_t straight into h_t (r is not recorded then)
    r_rows = h if r is None else r
    if_t, gc_t = _unit_pairs(block[lo + 1 : hi + 1], n)
    for t, ift, gct in zip(range(lo, hi), if_t, gc_t):
        zt, at, ct, ht, rt = z[t], a[t], c[t], h[t], r_rows[t]
        zt += U @ h_prev  # z_t = W x_t + U h_{t-1} + b
        if p_i is not None:
            zt[zi] += p_i * c_prev  # z_i += p_i * c_{t-1}
        if p_f is not None:
            zt[zf] += p_f * c_prev  # z_f += p_f * c_{t-1}
        if clip is not None:  # ONNX clip: the activations see z in [-clip, clip]
            np.clip(zt[: 2 * n], -clip, clip, out=zt[: 2 * n])
            np.clip(zt[zg], -clip, clip, out=zt[zg])
        rec(zt[: 2 * n], out=at[: 2 * n])  # i, f = sigma(z_i), sigma(z_f)
        if input_forget:
            np.subtract(one, at[zi], out=at[zf])  # ONNX input_forget: f = 1 - i
        act(zt[zg], out=at[zg])  # g = tanh(z_g)
        for start, stop, cols, value in clamps_gates:
            if start <= t < stop:
                at[cols] = value
        np.vecdot(ift, gct, ct)  # c_t = i * g + f * c_{t-1} (as the fast loop: same bits)
        if p_o is not None:
            zt[zo] += p_o * ct  # z_o += p_o * c_t: the output peephole looks at the new c_t
        if clip is not None:
            np.clip(zt[zo], -clip, clip, out=zt[zo])
        rec(zt[zo], out=at[zo])  # o = sigma(z_o)
        for start, stop, cols, value in clamps_out:
            if start <= t < stop:
                at[cols] = value
        if masked[t]:
            ct[...] = c_prev  # a masked step carries c: c_t = c_{t-1}
        act(ct, out=rt)
        np.multiply(at[zo], rt, out=rt)  # r_t = o * tanh(c_t)
        for start, stop, units in zeros:
            if start <= t < stop:
                ct[units] = 0.0
                rt[units] = 0.0
        if W_hr is not None:
            np.dot(W_hr, rt, out=ht)  # h_t = W_hr r_t (projection)
        if masked[t]:
            ht[...] = h_prev  # a masked step carries h: h_t = h_{t-1}
        h_prev, c_prev = ht, ct


# The fast loop's variants (scripts/bench_engine.py times each and reports its error against
# step(); docs/benchmarks.md has the figures):
#   "exp":   sigmoid(z) = 1 / (1 + exp(-z)) over i, f, o in one exp, tanh for g; the cell
#            update as one np.vecdot of [i, f] with [g, c_{t-1}]; the gates computed straight
#            into the record (no copy). The default.
#   "exp1":  like "exp", but g through the same exp call: tanh(z) = 2 sigmoid(2z) - 1
#            (projected or not), the divisions for all four gates in one call. Not the
#            default: the general loop computes g by tanh, so a what-if rerun would differ
#            in the last bits (and where -2 z_g is subnormal, halving it back can round).
#   "tanh":  the earlier loop: one tanh over all four gates, sigmoid(z) = (1 + tanh(z/2)) / 2,
#            computed in a work row and copied into the record.
FAST_VARIANTS = ("exp", "exp1", "tanh")
DEFAULT_VARIANT = "exp"


def fast_applies(params: LSTMParams) -> bool:
    """The fast loops cover sigmoid/tanh cells without peepholes, masking, clip or
    input_forget (with or without a projection); anything else runs the general loop."""
    return (params.recurrent_activation == "sigmoid" and params.cell_activation == "tanh"
            and not params.has_peepholes and params.mask_value is None
            and params.clip is None and not params.input_forget)


def _scaled_stacked(params: LSTMParams, scales: tuple[float, float, float, float], dtype):
    """(W, U, b) in FAST_ORDER with each gate's rows multiplied by its scale.

    The scales are powers of two (and signs), so W x + U h + b comes out exactly scaled:
    the loops fold -z or z/2 into the weights instead of spending a call per step on it.
    """
    W, U, b = params.stacked(FAST_ORDER)
    n = params.n
    for k, scale in enumerate(scales):
        if scale != 1.0:
            rows = slice(k * n, (k + 1) * n)
            W[rows] *= scale
            U[rows] *= scale
            b[rows] *= scale
    return tuple(cast(v, dtype) for v in (W, U, b))


def run_fast(params: LSTMParams, x: np.ndarray, h_init: np.ndarray, c_init: np.ndarray,
             dtype: np.dtype, progress: Progress | None = None, variant: str = DEFAULT_VARIANT) -> Trace:
    """A sigmoid/tanh cell without peepholes (optionally projected): see FAST_VARIANTS."""
    prepared = prepare(params, dtype, fast=True, variant=variant)
    trace = allocate(params, x, h_init, c_init, dtype)
    return _in_chunks(params, prepared, trace, progress)


def _unit_pairs(rows: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per step, (n, 2) views [i, f] and [g_t, c_{t-1}] of block rows (c_{t-1} one row up).

    np.vecdot over their last axis is c_t = i * g + f * c_{t-1} in one call (instead of a
    multiply and an add): NumPy sums the two products in a plain loop from 0 (no FMA, the
    strides are not BLAS-able), so both loops that use it get the same bits. Starting from
    +0, it writes +0 where both products are -0 (a multiply and an add gave -0): a sign of
    zero only, and the same in both loops (tests/core/test_kernels.py).
    """
    width, item = 6 * n, rows.itemsize
    if_t = as_strided(rows, shape=(rows.shape[0], n, 2), strides=(width * item, item, n * item))
    gc_t = as_strided(rows[:, 3 * n :], shape=(rows.shape[0], n, 2),
                      strides=(width * item, item, (n - width) * item))
    return if_t, gc_t


def _fast_exp_rows(params, w: Prepared, trace: Trace, block, h_rows, lo: int, hi: int) -> None:
    n, dtype, one_exp = trace.n, w.dtype, w.one_exp
    U, W_hr = w.U, w.W_hr
    z = trace.z
    _input_products(trace.x, w.W, w.b, z, lo, hi)  # z_t = W x_t + b for these t (scaled rows)
    rows = block[lo + 1 : hi + 1]
    if_t, gc_t = _unit_pairs(rows, n)
    z_t, a_t, c_t, r_t = z[lo:hi], rows[:, : 4 * n], rows[:, 4 * n : 5 * n], rows[:, 5 * n :]
    g_t, o_t = rows[:, 3 * n : 4 * n], rows[:, 2 * n : 3 * n]
    h_prev = h_rows[lo, -trace.h_size :]
    buf = np.empty(4 * n, dtype=dtype)
    tmp = np.empty(n, dtype=dtype)
    dot, exp, tanh, multiply, add, subtract, divide, reciprocal, vecdot = (
        np.dot, np.exp, np.tanh, np.multiply, np.add, np.subtract, np.divide, np.reciprocal, np.vecdot)
    # Constants as arrays (of the loop's dtype), outputs positional: a scalar operand costs a
    # ufunc call ~0.3 us more than an array does (measured), out= as a keyword a little more too.
    ones = np.ones(4 * n, dtype=dtype)
    one_s, one_g = ones[: 3 * n], ones[:n]
    # Each loop zips exactly the row views it uses: every extra iterator costs ~0.1 us a step.
    if one_exp:
        # 1 / (1 + e) for i, f, o and 2 / (1 + e) for g in one divide: 2 / x is exactly
        # 2 * (1 / x), so this is 2 sigmoid(2 z_g) - 1 to the bit, one call fewer.
        numerators = np.concatenate([one_s, np.full(n, 2.0, dtype=dtype)])
        # One loop for both kinds of cell (a per-step `if` costs ~0.1 us; exp1 is not the
        # default, so it is not worth the two copies the default loop keeps).
        h_out = trace.h[lo:hi] if W_hr is not None else r_t
        for zt, at, gt, ift, gct, ct, ot, rt, ht in zip(z_t, a_t, g_t, if_t, gc_t, c_t, o_t, r_t, h_out):
            dot(U, h_prev, buf)  # -U h_{t-1} (-2 U_g h_{t-1} for g)
            add(zt, buf, zt)  # -z_t for i, f, o; -2 z_g for g
            exp(zt, at)  # exp(-z), exp(-2 z_g)
            add(at, ones, at)  # 1 + exp(-z)
            divide(numerators, at, at)  # i, f, o = sigmoid(z); 2 sigmoid(2 z_g) for g
            subtract(gt, one_g, gt)  # g = 2 sigmoid(2 z_g) - 1 = tanh(z_g)
            vecdot(ift, gct, ct)  # c_t = i * g + f * c_{t-1}
            tanh(ct, tmp)  # tanh(c_t)
            multiply(ot, tmp, rt)  # r_t = o * tanh(c_t) (h_t itself without a projection)
            if W_hr is not None:
                dot(W_hr, rt, ht)  # h_t = W_hr r_t
            h_prev = ht
        z[lo:hi, : 3 * n] *= dtype.type(-1.0)  # undo the folded signs and scales: exact
        z[lo:hi, 3 * n :] *= dtype.type(-0.5)
        _unscale_overflowed(params, trace, lo, hi)
        return
    views = (z_t, a_t[:, : 3 * n], z_t[:, : 3 * n], z_t[:, 3 * n :], g_t, if_t, gc_t, c_t, o_t, r_t)
    # Two copies of the step on purpose: a per-step `if W_hr` costs ~0.1 us of the ~6 us.
    if W_hr is None:
        for zt, at_s, zt_s, zt_g, gt, ift, gct, ct, ot, ht in zip(*views):
            dot(U, h_prev, buf)  # -U h_{t-1} for i, f, o; U_g h_{t-1} for g
            add(zt, buf, zt)  # -z_t for i, f, o; z_g for g
            exp(zt_s, at_s)  # exp(-z) for i, f, o
            add(at_s, one_s, at_s)  # 1 + exp(-z)
            reciprocal(at_s, at_s)  # i, f, o = sigmoid(z)
            tanh(zt_g, gt)  # g = tanh(z_g)
            vecdot(ift, gct, ct)  # c_t = i * g + f * c_{t-1}
            tanh(ct, tmp)  # tanh(c_t)
            multiply(ot, tmp, ht)  # h_t = o * tanh(c_t)
            h_prev = ht
    else:
        for zt, at_s, zt_s, zt_g, gt, ift, gct, ct, ot, rt, ht in zip(*views, trace.h[lo:hi]):
            dot(U, h_prev, buf)  # -U h_{t-1} for i, f, o; U_g h_{t-1} for g
            add(zt, buf, zt)  # -z_t for i, f, o; z_g for g
            exp(zt_s, at_s)  # exp(-z) for i, f, o
            add(at_s, one_s, at_s)  # 1 + exp(-z)
            reciprocal(at_s, at_s)  # i, f, o = sigmoid(z)
            tanh(zt_g, gt)  # g = tanh(z_g)
            vecdot(ift, gct, ct)  # c_t = i * g + f * c_{t-1}
            tanh(ct, tmp)  # tanh(c_t)
            multiply(ot, tmp, rt)  # r_t = o * tanh(c_t)
            dot(W_hr, rt, ht)  # h_t = W_hr r_t
            h_prev = ht
    z[lo:hi, : 3 * n] *= dtype.type(-1.0)  # undo the folded signs: exact


def _unscale_overflowed(params, trace: Trace, lo: int, hi: int) -> None:
    """Where -2 z_g overflowed to infinity although z_g itself is finite, recompute z_g."""
    n, dtype = trace.n, trace.dtype
    zg = trace.z[lo:hi, 3 * n :]
    rows = np.flatnonzero(np.isinf(zg).any(axis=1))
    if not rows.size:
        return
    W_g, U_g, b_g = (cast(params.W("g"), dtype), cast(params.U("g"), dtype), cast(params.b("g"), dtype))
    for t in rows + lo:
        zg[t - lo] = (W_g @ trace.x[t] + b_g) + U_g @ trace.h_prev(t)


def _fast_tanh_rows(w: Prepared, trace: Trace, block, h_rows, lo: int, hi: int) -> None:
    """The earlier fast loop: one tanh over the four gates per step (sigmoid rows halved)."""
    n, dtype = trace.n, w.dtype
    U, W_hr = w.U, w.W_hr
    z = trace.z
    _input_products(trace.x, w.W, w.b, z, lo, hi)  # z_t = W x_t + b for these t (sigmoid rows halved)
    buf = np.empty(4 * n, dtype=dtype)
    tmp = np.empty(n, dtype=dtype)
    # The gates are computed in one work row whose views are made once, then copied into the
    # record: cheaper than slicing each recorded row five times (measured ~11% per step).
    work = np.empty(4 * n, dtype=dtype)
    w_sig, w_i, w_f, w_o, w_g = work[: 3 * n], work[:n], work[n : 2 * n], work[2 * n : 3 * n], work[3 * n :]
    h_prev, c_prev = h_rows[lo, -trace.h_size :], block[lo, 4 * n : 5 * n]
    dot, tanh, multiply, add, copyto = np.dot, np.tanh, np.multiply, np.add, np.copyto
    half = dtype.type(0.5)
    r_rows = trace.h[lo:hi] if trace.r is None else trace.r[lo:hi]
    for zt, at, ct, rt, ht in zip(z[lo:hi], trace.a[lo:hi], trace.c[lo:hi], r_rows, trace.h[lo:hi]):
        dot(U, h_prev, out=buf)  # U h_{t-1}
        add(zt, buf, out=zt)  # z_t = W x_t + U h_{t-1} + b (sigmoid rows halved)
        tanh(zt, out=work)  # tanh(z/2) for i, f, o; tanh(z) = g
        multiply(w_sig, half, out=w_sig)
        add(w_sig, half, out=w_sig)  # sigmoid(z) = (1 + tanh(z/2)) / 2 for i, f, o
        multiply(w_f, c_prev, out=ct)  # f * c_{t-1}
        multiply(w_i, w_g, out=tmp)  # i * g
        add(ct, tmp, out=ct)  # c_t = f * c_{t-1} + i * g
        tanh(ct, out=tmp)
        multiply(w_o, tmp, out=rt)  # h_t (r_t) = o * tanh(c_t)
        if W_hr is not None:
            dot(W_hr, rt, out=ht)  # h_t = W_hr r_t
        copyto(at, work)  # record i, f, o, g
        h_prev, c_prev = ht, ct
    z[lo:hi, : 3 * n] *= 2.0
