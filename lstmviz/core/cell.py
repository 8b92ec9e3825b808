"""Stepping an LSTM cell: one step from any (h, c), and a recorded run over a sequence.

The run is the hot path. It projects every input with one matrix product up front, then per
step makes a handful of in-place NumPy calls on preallocated rows; at n <= 64 the cost is
Python call overhead, not arithmetic (see docs/benchmarks.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstmviz.core.activations import activation
from lstmviz.core.blas import blas_threads
from lstmviz.core.params import LSTMParams, describe_nonfinite
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

# Internal gate order of the fast path: the three sigmoid gates first, so one call covers them.
FAST_ORDER = "ifog"
# Steps between progress reports (about 30 ms at n = 64): the inner loop stays untouched.
PROGRESS_CHUNK = 4096

Progress = Callable[[float], object]


class RunCancelled(Exception):
    """The progress callback returned False: the run stopped and nothing was recorded."""


def _report(progress: Progress | None, fraction: float) -> None:
    if progress is not None and progress(min(fraction, 1.0)) is False:
        raise RunCancelled()


def _scaled(progress: Progress | None, part: int, parts: int) -> Progress | None:
    """Progress of one cell among `parts` cells run one after the other."""
    if progress is None:
        return None
    return lambda fraction: progress((part + fraction) / parts)


@dataclass
class Step:
    """Everything one step computes, per gate in PyTorch's order."""

    zi: np.ndarray
    zf: np.ndarray
    zg: np.ndarray
    zo: np.ndarray
    i: np.ndarray
    f: np.ndarray
    g: np.ndarray
    o: np.ndarray
    c: np.ndarray
    h: np.ndarray


def step(params: LSTMParams, x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> Step:
    """One step from any state: the window uses it to step from an edited (h, c)."""
    x = np.asarray(x, dtype=np.float64)
    rec = activation(params.recurrent_activation)
    act = activation(params.cell_activation)
    z = {k: params.W(k) @ x + params.U(k) @ h_prev + params.b(k) for k in "ifgo"}
    if params.p_i is not None:
        z["i"] = z["i"] + params.p_i * c_prev
    if params.p_f is not None:
        z["f"] = z["f"] + params.p_f * c_prev
    i, f, g = rec(z["i"]), rec(z["f"]), act(z["g"])
    c = f * c_prev + i * g
    if params.p_o is not None:
        z["o"] = z["o"] + params.p_o * c  # the output peephole looks at the new c_t
    o = rec(z["o"])
    h = o * act(c)
    return Step(z["i"], z["f"], z["g"], z["o"], i, f, g, o, c, h)


def check_sequence(xs, m: int, source: str | None = None) -> np.ndarray:
    """A (T, m) float array, or an error that names the problem (and the file)."""
    xs = np.asarray(xs, dtype=np.float64)
    if xs.ndim == 1 and m == 1:
        xs = xs[:, None]
    if xs.ndim != 2:
        raise LstmvizError(f"input sequence has shape {xs.shape}, expected (T, {m})", source=source)
    if xs.shape[0] == 0:
        raise LstmvizError("input sequence is empty (no steps)", source=source)
    if xs.shape[1] != m:
        raise LstmvizError(
            f"input has {xs.shape[1]} columns but the model expects m = {m} inputs per step",
            source=source,
        )
    problem = describe_nonfinite("x", xs)
    if problem:
        row, col = (int(v) for v in np.argwhere(~np.isfinite(xs))[0])
        raise LstmvizError(f"input row {row + 1}, column {col + 1} ({problem})", source=source)
    return xs


def _initial(value, params_value, n: int, name: str, dtype) -> np.ndarray:
    if value is None:
        value = params_value
    if value is None:
        return np.zeros(n, dtype=dtype)
    value = np.asarray(value, dtype=np.float64).reshape(-1)
    if value.shape != (n,):
        raise LstmvizError(f"{name} has {value.size} entries, expected n = {n}")
    problem = describe_nonfinite(name, value)
    if problem:
        raise LstmvizError(problem)
    return value.astype(dtype)


def _cell_count(params: LSTMParams) -> int:
    return 1 + sum(len(directions) for directions in params.upstream)


def layer_inputs(params: LSTMParams, xs: np.ndarray, dtype=np.float64, progress: Progress | None = None
                 ) -> np.ndarray:
    """The sequence this cell actually reads: upstream layers applied, reversed if backward."""
    xs = check_sequence(xs, params.input_size)
    parts, part = _cell_count(params), 0
    for directions in params.upstream:
        outputs = []
        for cell in directions:
            inner = xs[::-1] if cell.reverse else xs
            h = run_cell(cell, inner, dtype=dtype, progress=_scaled(progress, part, parts)).h
            part += 1
            outputs.append(h[::-1] if cell.reverse else h)
        xs = np.concatenate(outputs, axis=1)
    return np.ascontiguousarray(xs[::-1] if params.reverse else xs)


def run(params: LSTMParams, xs, h0=None, c0=None, dtype=np.float64, progress: Progress | None = None
        ) -> Trace:
    """Run the cell over a sequence (T, m) and record everything (see Trace).

    For a layer inside a stack, or the backward direction, the upstream layers run first and
    the trace's x is what this cell really saw. progress(fraction) is called every few
    thousand steps; when it returns False the run stops and raises RunCancelled.
    """
    dtype = np.dtype(dtype)
    if params.upstream or params.reverse:
        xs = layer_inputs(params, xs, dtype=np.float64, progress=progress)
        parts = _cell_count(params)
        progress = _scaled(progress, parts - 1, parts)
    return run_cell(params, xs, h0=h0, c0=c0, dtype=dtype, progress=progress)


def run_cell(params: LSTMParams, xs, h0=None, c0=None, dtype=np.float64, progress: Progress | None = None
             ) -> Trace:
    """Run exactly this cell over xs, with no upstream layers and no reversal."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise LstmvizError(f"dtype {dtype} is not supported (float64 or float32)")
    xs = check_sequence(xs, params.m)
    n = params.n
    h_init = _initial(h0, params.h0, n, "h0", dtype)
    c_init = _initial(c0, params.c0, n, "c0", dtype)
    fast = (
        params.recurrent_activation == "sigmoid"
        and params.cell_activation == "tanh"
        and not params.has_peepholes
    )
    # Finite weights and inputs can still overflow W x + U h + b; inf is a fine pre-activation
    # (every gate saturates correctly), so the products run quietly, and only a NaN made from
    # inf - inf is refused.
    with blas_threads(n), np.errstate(over="ignore", invalid="ignore"):
        if fast:
            trace = _run_fast(params, xs, h_init, c_init, dtype, progress)
        else:
            trace = _run_general(params, xs, h_init, c_init, dtype, progress=progress)
    _refuse_nan(trace, params)
    return trace


def _refuse_nan(trace: Trace, params: LSTMParams, rows: int = 4096) -> None:
    """A NaN in any gate reaches c or h at the same step, so scanning those two is enough."""
    for lo in range(0, trace.T, rows):
        bad = np.isnan(trace.c[lo : lo + rows]).any(axis=1) | np.isnan(trace.h[lo : lo + rows]).any(axis=1)
        if bad.any():
            t = lo + int(np.argmax(bad))
            raise LstmvizError(
                f"the run overflows {trace.dtype.name} at step {t}: W x + U h + b reaches infinity on "
                "both sides and gives NaN (weights or inputs too large; scale them down)",
                source=params.source or None,
            )


def _cast(values: np.ndarray, dtype: np.dtype, copy: bool = False) -> np.ndarray:
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


def _run_fast(params, xs, h_init, c_init, dtype, progress: Progress | None = None) -> Trace:
    T, n = xs.shape[0], params.n
    W, U, b = params.stacked(FAST_ORDER)
    # Halve the sigmoid rows so one tanh serves all four gates: sigmoid(z) = (1 + tanh(z/2))/2.
    # Scaling by 0.5 is exact in binary floating point, so the doubled z recorded at the end
    # is the same number an unscaled product would give.
    W[: 3 * n] *= 0.5
    U[: 3 * n] *= 0.5
    b[: 3 * n] *= 0.5
    W, U, b = (_cast(v, dtype) for v in (W, U, b))
    x = _cast(xs, dtype, copy=True)  # the trace owns its x: later edits of xs never alias it
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)
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
            dot(U, h_prev, out=buf)
            add(zt, buf, out=zt)
            tanh(zt, out=work)
            multiply(w_sig, half, out=w_sig)
            add(w_sig, half, out=w_sig)
            multiply(w_f, c_prev, out=ct)
            multiply(w_i, w_g, out=tmp)
            add(ct, tmp, out=ct)
            tanh(ct, out=tmp)
            multiply(w_o, tmp, out=ht)
            copyto(at, work)
            h_prev, c_prev = ht, ct
        _report(progress, hi / T)
    z[:, : 3 * n] *= 2.0
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order=FAST_ORDER)


@dataclass(frozen=True)
class StepHooks:
    """Changes to the recurrence at chosen steps (what-if, lstmviz.core.analysis.whatif).

    Steps are [start, stop) ranges, units index arrays, gates one of "i" "f" "g" "o".
    bias: (start, stop, gate, units, delta) added to the gate's z;
    clamps: (start, stop, gate, units, value) forced onto the gate's values;
    zeros: (start, stop, units) whose c and h are set to 0 at the end of the step.
    """

    bias: tuple = ()
    clamps: tuple = ()
    zeros: tuple = ()


def run_with_hooks(params: LSTMParams, xs, h0, c0, hooks: StepHooks, dtype=np.float64) -> Trace:
    """Run exactly this cell (the general loop) with the hooks applied; no upstream layers."""
    dtype = np.dtype(dtype)
    xs = check_sequence(xs, params.m)
    n = params.n
    h_init = _initial(h0, params.h0, n, "h0", dtype)
    c_init = _initial(c0, params.c0, n, "c0", dtype)
    with blas_threads(n), np.errstate(over="ignore", invalid="ignore"):
        trace = _run_general(params, xs, h_init, c_init, dtype, hooks)
    _refuse_nan(trace, params)
    return trace


def _run_general(params, xs, h_init, c_init, dtype, hooks: StepHooks | None = None,
                 progress: Progress | None = None) -> Trace:
    """Any activations and peepholes (and what-if hooks); a little slower, same recording."""
    T, n = xs.shape[0], params.n
    W, U, b = (_cast(arr, dtype) for arr in params.stacked("ifgo"))
    rec = activation(params.recurrent_activation)
    act = activation(params.cell_activation)
    p_i, p_f, p_o = (
        None if p is None else p.astype(dtype) for p in (params.p_i, params.p_f, params.p_o)
    )
    x = _cast(xs, dtype, copy=True)
    z = np.empty((T, 4 * n), dtype=dtype)
    np.matmul(x, W.T, out=z)
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
    h = np.empty((T, n), dtype=dtype)
    tmp = np.empty(n, dtype=dtype)
    h_prev, c_prev = h_init, c_init
    zi, zf, zg, zo = (slice(k * n, (k + 1) * n) for k in range(4))
    chunk = T if progress is None else PROGRESS_CHUNK
    for lo in range(0, T, chunk):
        for t in range(lo, min(lo + chunk, T)):
            zt, at, ct, ht = z[t], a[t], c[t], h[t]
            zt += U @ h_prev
            if p_i is not None:
                zt[zi] += p_i * c_prev
            if p_f is not None:
                zt[zf] += p_f * c_prev
            rec(zt[: 2 * n], out=at[: 2 * n])
            act(zt[zg], out=at[zg])
            for start, stop, cols, value in clamps_gates:
                if start <= t < stop:
                    at[cols] = value
            np.multiply(at[zf], c_prev, out=ct)
            ct += at[zi] * at[zg]
            if p_o is not None:
                zt[zo] += p_o * ct  # the output peephole looks at the new c_t
            rec(zt[zo], out=at[zo])
            for start, stop, cols, value in clamps_out:
                if start <= t < stop:
                    at[cols] = value
            act(ct, out=tmp)
            np.multiply(at[zo], tmp, out=ht)
            for start, stop, units in zeros:
                if start <= t < stop:
                    ct[units] = 0.0
                    ht[units] = 0.0
            h_prev, c_prev = ht, ct
        _report(progress, min(lo + chunk, T) / T)
    return Trace(x=x, z=z, a=a, c=c, h=h, h0=h_init, c0=c_init, gate_order="ifgo")
