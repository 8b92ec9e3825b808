"""The step loops behind run(): the same recurrence as lstmviz.core.cell.step(), made fast.

cell.step() is the reference; every loop here computes the same numbers (tests/core checks
them against step() and against plain math.* loops written in the tests). The loops differ
in how they spend NumPy calls, which at n <= 64 cost more than the arithmetic (~0.3 us per
call, docs/benchmarks.md):

- run_general: any activations, peepholes, a projection, masking and what-if hooks.
- run_fast: sigmoid/tanh cells without peepholes (the common case), optionally projected
  or masked, with few in-place calls per step on preallocated rows.

Both project every input with one matrix product up front (z = x W^T + b for all steps),
then add U h_{t-1} step by step. Each loop line carries the equation it computes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstmviz.core.activations import activation
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace

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


def cast(values: np.ndarray, dtype: np.dtype, copy: bool = False) -> np.ndarray:
    """values as dtype (C-contiguous), refusing values the dtype cannot hold."""
    from lstmviz.errors import LstmvizError

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
    W, U, b = (cast(arr, dtype) for arr in params.stacked("ifgo"))
    W_hr = None if params.W_hr is None else cast(params.W_hr, dtype)
    rec = activation(params.recurrent_activation)
    act = activation(params.cell_activation)
    p_i, p_f, p_o = (
        None if p is None else p.astype(dtype) for p in (params.p_i, params.p_f, params.p_o)
    )
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)  # z_t = W x_t + b for every t at once; U h_{t-1} comes per step
    z += b
    hooks = hooks or StepHooks()

    def columns(gate, units):
        return "ifgo".index(gate) * n + np.asarray(units, dtype=np.intp)

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
    zi, zf, zg, zo = (slice(k * n, (k + 1) * n) for k in range(4))
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
            rec(zt[: 2 * n], out=at[: 2 * n])  # i, f = sigma(z_i), sigma(z_f)
            act(zt[zg], out=at[zg])  # g = tanh(z_g)
            for start, stop, cols, value in clamps_gates:
                if start <= t < stop:
                    at[cols] = value
            np.multiply(at[zf], c_prev, out=ct)  # c_t = f * c_{t-1}
            ct += at[zi] * at[zg]  #              + i * g
            if p_o is not None:
                zt[zo] += p_o * ct  # z_o += p_o * c_t: the output peephole looks at the new c_t
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
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order="ifgo", r=r, mask=mask)


# Internal gate order of the fast path: the three sigmoid gates first, so one call covers them.
FAST_ORDER = "ifog"


def fast_applies(params: LSTMParams) -> bool:
    return (params.recurrent_activation == "sigmoid" and params.cell_activation == "tanh"
            and not params.has_peepholes and params.W_hr is None and params.mask_value is None)


def run_fast(params: LSTMParams, x: np.ndarray, h_init: np.ndarray, c_init: np.ndarray,
             dtype: np.dtype, progress: Progress | None = None) -> Trace:
    """sigmoid/tanh, no peepholes: one tanh over the four gates per step."""
    T, n = x.shape[0], params.n
    W, U, b = params.stacked(FAST_ORDER)
    # Halve the sigmoid rows so one tanh serves all four gates: sigmoid(z) = (1 + tanh(z/2))/2.
    # Scaling by 0.5 is exact in binary floating point, so the doubled z recorded at the end
    # is the same number an unscaled product would give.
    W[: 3 * n] *= 0.5
    U[: 3 * n] *= 0.5
    b[: 3 * n] *= 0.5
    W, U, b = (cast(v, dtype) for v in (W, U, b))
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)  # z_t = W x_t + b for every t (sigmoid rows halved)
    z += b
    a = np.empty((T, 4 * n), dtype=dtype)
    c = np.empty((T, n), dtype=dtype)
    h = np.empty((T, n), dtype=dtype)
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
        for zt, at, ct, ht in zip(z[lo:hi], a[lo:hi], c[lo:hi], h[lo:hi]):
            dot(U, h_prev, out=buf)  # U h_{t-1}
            add(zt, buf, out=zt)  # z_t = W x_t + U h_{t-1} + b (sigmoid rows halved)
            tanh(zt, out=work)  # tanh(z/2) for i, f, o; tanh(z) = g
            multiply(w_sig, half, out=w_sig)
            add(w_sig, half, out=w_sig)  # sigma(z) = (1 + tanh(z/2)) / 2 for i, f, o
            multiply(w_f, c_prev, out=ct)  # f * c_{t-1}
            multiply(w_i, w_g, out=tmp)  # i * g
            add(ct, tmp, out=ct)  # c_t = f * c_{t-1} + i * g
            tanh(ct, out=tmp)
            multiply(w_o, tmp, out=ht)  # h_t = o * tanh(c_t)
            copyto(at, work)  # record i, f, o, g
            h_prev, c_prev = ht, ct
        report(progress, hi / T)
    z[:, : 3 * n] *= 2.0
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER)
