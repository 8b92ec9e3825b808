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

Both project every input with one matrix product up front (z = x W^T + b for all steps),
then add U h_{t-1} step by step. Each loop line carries the equation it computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from lstmviz.core.activations import activation, sigmoid_unguarded
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


def run_general(params: LSTMParams, x: np.ndarray, h_init: np.ndarray, c_init: np.ndarray,
                dtype: np.dtype, hooks: StepHooks | None = None, progress: Progress | None = None,
                mask: np.ndarray | None = None) -> Trace:
    """Any activations, peepholes, projection, mask and hooks; a little slower, same recording.

    x is the trace's own (T, m) input in dtype; mask a (T,) bool array or None.
    """
    T, n = x.shape[0], params.n
    # FAST_ORDER, like the fast loops: BLAS sums a matrix's rows in blocks, so the same row
    # order gives the same bits (float32 kernels differ on the remainder rows otherwise).
    W, U, b = (cast(arr, dtype) for arr in params.stacked(FAST_ORDER))
    W_hr = None if params.W_hr is None else cast(params.W_hr, dtype)
    # the loop runs under np.errstate(over="ignore") (cell.run_cell): no guard per call
    rec_name = params.recurrent_activation
    rec = sigmoid_unguarded if rec_name == "sigmoid" else activation(rec_name)
    act = activation(params.cell_activation)
    p_i, p_f, p_o = (
        None if p is None else p.astype(dtype) for p in (params.p_i, params.p_f, params.p_o)
    )
    clip = None if params.clip is None else dtype.type(params.clip)
    input_forget, one = params.input_forget, dtype.type(1.0)
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)  # z_t = W x_t + b for every t at once; U h_{t-1} comes per step
    z += b
    hooks = hooks or StepHooks()

    def columns(gate, units):
        return FAST_ORDER.index(gate) * n + np.asarray(units, dtype=np.intp)

    for start, stop, gate, units, delta in hooks.bias:
        z[start:stop, columns(gate, units)] += dtype.type(delta)
    # o is clamped after the output gate is computed (it may peep at the new c); i, f, g before c.
    clamps_gates = [(lo, hi, columns(g, u), dtype.type(v)) for lo, hi, g, u, v in hooks.clamps if g != "o"]
    clamps_out = [(lo, hi, columns(g, u), dtype.type(v)) for lo, hi, g, u, v in hooks.clamps if g == "o"]
    zeros = hooks.zeros
    a = np.empty((T, 4 * n), dtype=dtype)
    c = np.empty((T, n), dtype=dtype)
    h = np.empty((T, params.h_size), dtype=dtype)
    r = None if W_hr is None else np.empty((T, n), dtype=dtype)
    r_work = np.empty(n, dtype=dtype)
    masked = np.zeros(T, dtype=bool) if mask is None else mask
    h_prev, c_prev = h_init, c_init
    zi, zf, zo, zg = (slice(k * n, (k + 1) * n) for k in range(4))  # FAST_ORDER: i f o g
    chunk = T if progress is None else PROGRESS_CHUNK
    for lo in range(0, T, chunk):
        for t in range(lo, min(lo + chunk, T)):
            zt, at, ct, ht = z[t], a[t], c[t], h[t]
            rt = r_work if r is None else r[t]
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
            np.multiply(at[zf], c_prev, out=ct)  # c_t = f * c_{t-1}
            ct += at[zi] * at[zg]  #              + i * g
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
            else:
                ht[...] = rt  # h_t = r_t
            if masked[t]:
                ht[...] = h_prev  # a masked step carries h: h_t = h_{t-1}
            h_prev, c_prev = ht, ct
        report(progress, min(lo + chunk, T) / T)
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER, r=r, mask=mask)


# The fast loop's variants (scripts/bench_engine.py times each and reports its error against
# step(); docs/benchmarks.md has the figures):
#   "exp":   sigmoid(z) = 1 / (1 + exp(-z)) over i, f, o in one exp, tanh for g; the cell
#            update as one multiply of [i, f] by [g, c_{t-1}]; the gates computed straight
#            into the record (no copy). The default.
#   "exp1":  like "exp", but g through the same exp call: tanh(z) = 2 sigmoid(2z) - 1
#            (cells without a projection; a projected cell runs "exp").
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
    if variant == "tanh":
        return _run_fast_tanh(params, x, h_init, c_init, dtype, progress)
    if variant not in FAST_VARIANTS:
        raise ValueError(f"unknown fast-loop variant {variant!r}")
    # exp1 has no projected loop of its own: a projected cell runs "exp"
    one_exp = variant == "exp1" and params.W_hr is None
    return _run_fast_exp(params, x, h_init, c_init, dtype, progress, one_exp=one_exp)


def _run_fast_exp(params, x, h_init, c_init, dtype, progress, one_exp: bool) -> Trace:
    T, n, p = x.shape[0], params.n, params.h_size
    # i, f, o rows negated (the loop needs exp(-z)); g rows as they are, or times -2 when g
    # goes through the same exp: tanh(z) = 2 / (1 + exp(-2z)) - 1.
    W, U, b = _scaled_stacked(params, (-1.0, -1.0, -1.0, -2.0 if one_exp else 1.0), dtype)
    W_hr = None if params.W_hr is None else cast(params.W_hr, dtype)
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)  # z_t = W x_t + b for every t at once (scaled rows)
    z += b
    # One block per step: row t + 1 = [i f o g (4n) | c_t (n) | h_t or r_t (n)], row 0 holds
    # c_{-1} (and h_{-1}). Then g_t and c_{t-1} sit at a constant distance, and one strided
    # (2, n) view per step pairs them for the cell update; the trace's a, c, h (r) are views.
    width = 6 * n
    block = np.empty((T + 1, width), dtype=dtype)
    block[0, 4 * n : 5 * n] = c_init
    a, c, last = block[1:, : 4 * n], block[1:, 4 * n : 5 * n], block[1:, 5 * n :]
    if W_hr is None:
        block[0, 5 * n :] = h_init
        h, r, h_prev = last, None, block[0, 5 * n :]
    else:
        h_rows = np.empty((T + 1, p), dtype=dtype)
        h_rows[0] = h_init
        h, r, h_prev = h_rows[1:], last, h_rows[0]
    item = block.itemsize
    if_rows = as_strided(block[1:], shape=(T, 2, n), strides=(width * item, n * item, item))
    gc_rows = as_strided(block[1:, 3 * n :], shape=(T, 2, n),
                         strides=(width * item, (n - width) * item, item))
    buf = np.empty(4 * n, dtype=dtype)
    tmp = np.empty(n, dtype=dtype)
    pair = np.empty((2, n), dtype=dtype)
    ig, fc = pair[0], pair[1]
    dot, exp, tanh, multiply, add, subtract, reciprocal = (
        np.dot, np.exp, np.tanh, np.multiply, np.add, np.subtract, np.reciprocal)
    one, two = dtype.type(1.0), dtype.type(2.0)
    # Each loop zips exactly the row views it uses: every extra iterator costs ~0.1 us a step.
    chunk = T if progress is None else PROGRESS_CHUNK
    for lo in range(0, T, chunk):
        hi = min(lo + chunk, T)
        z_t, a_t, c_t, r_t = z[lo:hi], a[lo:hi], c[lo:hi], last[lo:hi]
        g_t, o_t = a[lo:hi, 3 * n :], a[lo:hi, 2 * n : 3 * n]
        if_t, gc_t = if_rows[lo:hi], gc_rows[lo:hi]
        if one_exp:
            for zt, at, gt, ift, gct, ct, ot, ht in zip(z_t, a_t, g_t, if_t, gc_t, c_t, o_t, r_t):
                dot(U, h_prev, out=buf)  # -U h_{t-1} (-2 U_g h_{t-1} for g)
                add(zt, buf, out=zt)  # -z_t for i, f, o; -2 z_g for g
                exp(zt, out=at)  # exp(-z), exp(-2 z_g)
                add(at, one, out=at)  # 1 + exp(-z)
                reciprocal(at, out=at)  # i, f, o = sigmoid(z); sigmoid(2 z_g) for g
                multiply(gt, two, out=gt)
                subtract(gt, one, out=gt)  # g = 2 sigmoid(2 z_g) - 1 = tanh(z_g)
                multiply(ift, gct, out=pair)  # [i * g, f * c_{t-1}]
                add(ig, fc, out=ct)  # c_t = f * c_{t-1} + i * g
                tanh(ct, out=tmp)  # tanh(c_t)
                multiply(ot, tmp, out=ht)  # h_t = o * tanh(c_t)
                h_prev = ht
            continue
        rows = (z_t, a[lo:hi, : 3 * n], z[lo:hi, : 3 * n], z[lo:hi, 3 * n :], g_t, if_t, gc_t, c_t, o_t, r_t)
        # Two copies of the step on purpose: a per-step `if W_hr` costs ~0.1 us of the ~6 us.
        if W_hr is None:
            for zt, at_s, zt_s, zt_g, gt, ift, gct, ct, ot, ht in zip(*rows):
                dot(U, h_prev, out=buf)  # -U h_{t-1} for i, f, o; U_g h_{t-1} for g
                add(zt, buf, out=zt)  # -z_t for i, f, o; z_g for g
                exp(zt_s, out=at_s)  # exp(-z) for i, f, o
                add(at_s, one, out=at_s)  # 1 + exp(-z)
                reciprocal(at_s, out=at_s)  # i, f, o = sigmoid(z)
                tanh(zt_g, out=gt)  # g = tanh(z_g)
                multiply(ift, gct, out=pair)  # [i * g, f * c_{t-1}]
                add(ig, fc, out=ct)  # c_t = f * c_{t-1} + i * g
                tanh(ct, out=tmp)  # tanh(c_t)
                multiply(ot, tmp, out=ht)  # h_t = o * tanh(c_t)
                h_prev = ht
        else:
            for zt, at_s, zt_s, zt_g, gt, ift, gct, ct, ot, rt, ht in zip(*rows, h[lo:hi]):
                dot(U, h_prev, out=buf)  # -U h_{t-1} for i, f, o; U_g h_{t-1} for g
                add(zt, buf, out=zt)  # -z_t for i, f, o; z_g for g
                exp(zt_s, out=at_s)  # exp(-z) for i, f, o
                add(at_s, one, out=at_s)  # 1 + exp(-z)
                reciprocal(at_s, out=at_s)  # i, f, o = sigmoid(z)
                tanh(zt_g, out=gt)  # g = tanh(z_g)
                multiply(ift, gct, out=pair)  # [i * g, f * c_{t-1}]
                add(ig, fc, out=ct)  # c_t = f * c_{t-1} + i * g
                tanh(ct, out=tmp)  # tanh(c_t)
                multiply(ot, tmp, out=rt)  # r_t = o * tanh(c_t)
                dot(W_hr, rt, out=ht)  # h_t = W_hr r_t
                h_prev = ht
        report(progress, hi / T)
    z[:, : 3 * n] *= -1.0  # undo the folded signs and scales: exact
    if one_exp:
        z[:, 3 * n :] *= -0.5
        _unscale_overflowed(params, z, x, h, h_init, dtype)
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER, r=r)


def _unscale_overflowed(params, z, x, h, h_init, dtype) -> None:
    """Where -2 z_g overflowed to infinity although z_g itself is finite, recompute z_g."""
    n = params.n
    zg = z[:, 3 * n :]
    rows = np.flatnonzero(np.isinf(zg).any(axis=1))
    if not rows.size:
        return
    W_g, U_g, b_g = (cast(params.W("g"), dtype), cast(params.U("g"), dtype), cast(params.b("g"), dtype))
    for t in rows:
        h_prev = h_init if t == 0 else h[t - 1]
        zg[t] = (W_g @ x[t] + b_g) + U_g @ h_prev


def _run_fast_tanh(params, x, h_init, c_init, dtype, progress) -> Trace:
    """The earlier fast loop: one tanh over the four gates per step."""
    T, n = x.shape[0], params.n
    # Halve the sigmoid rows so one tanh serves all four gates: sigmoid(z) = (1 + tanh(z/2))/2.
    # Scaling by 0.5 is exact in binary floating point, so the doubled z recorded at the end
    # is the same number an unscaled product would give.
    W, U, b = _scaled_stacked(params, (0.5, 0.5, 0.5, 1.0), dtype)
    W_hr = None if params.W_hr is None else cast(params.W_hr, dtype)
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)  # z_t = W x_t + b for every t (sigmoid rows halved)
    z += b
    a = np.empty((T, 4 * n), dtype=dtype)
    c = np.empty((T, n), dtype=dtype)
    h = np.empty((T, params.h_size), dtype=dtype)
    r = None if W_hr is None else np.empty((T, n), dtype=dtype)
    buf = np.empty(4 * n, dtype=dtype)
    tmp = np.empty(n, dtype=dtype)
    # The gates are computed in one work row whose views are made once, then copied into the
    # record: cheaper than slicing each recorded row five times (measured ~11% per step).
    work = np.empty(4 * n, dtype=dtype)
    w_sig, w_i, w_f, w_o, w_g = work[: 3 * n], work[:n], work[n : 2 * n], work[2 * n : 3 * n], work[3 * n :]
    h_prev, c_prev = h_init, c_init
    dot, tanh, multiply, add, copyto = np.dot, np.tanh, np.multiply, np.add, np.copyto
    half = dtype.type(0.5)
    chunk = T if progress is None else PROGRESS_CHUNK
    for lo in range(0, T, chunk):
        hi = min(lo + chunk, T)
        r_rows = h[lo:hi] if r is None else r[lo:hi]
        for zt, at, ct, rt, ht in zip(z[lo:hi], a[lo:hi], c[lo:hi], r_rows, h[lo:hi]):
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
        report(progress, hi / T)
    z[:, : 3 * n] *= 2.0
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER, r=r)
