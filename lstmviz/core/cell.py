"""Stepping an LSTM cell: one step from any (h, c), and a recorded run over a sequence.

step() is THE reference implementation of the recurrence: plain, one gate at a time, written
to be read. Everything else that computes a step agrees with it (tests/core checks the fast
loops against it and against independent math.* loops):

- run() / run_cell() validate, prepare the initial state and the mask, and dispatch to the
  loops in lstmviz.core.kernels: the fast loop for sigmoid/tanh cells, the general loop for
  anything else (other activations, peepholes, what-if hooks).
- lstmviz.core.explain recomputes one unit's arithmetic from the recorded trace.

The run is the hot path: at n <= 64 its cost is Python call overhead, not arithmetic (see
docs/benchmarks.md), which is why the kernels look nothing like step().
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstmviz.core import kernels
from lstmviz.core.activations import activation
from lstmviz.core.blas import blas_threads
from lstmviz.core.kernels import PROGRESS_CHUNK, RunCancelled, StepHooks  # noqa: F401 (public here)
from lstmviz.core.params import LSTMParams, describe_nonfinite
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

Progress = Callable[[float], object]
_report = kernels.report


def _scaled(progress: Progress | None, part: int, parts: int) -> Progress | None:
    """Progress of one cell among `parts` cells run one after the other."""
    if progress is None:
        return None
    return lambda fraction: progress((part + fraction) / parts)


@dataclass
class Step:
    """Everything one step computes, per gate in PyTorch's order.

    r: o * tanh(c) before the projection of a projected cell (h = W_hr r), else None.
    masked: the step was masked (c and h carried from the step before; the gates are still
    what x_t, h_{t-1} and c_{t-1} give).
    """

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
    r: np.ndarray | None = None
    masked: bool = False


def is_masked(params: LSTMParams, x: np.ndarray) -> bool:
    """Keras Masking: x_t is masked when it equals mask_value in every column."""
    return params.mask_value is not None and bool(np.all(np.asarray(x) == params.mask_value))


def step(params: LSTMParams, x: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray) -> Step:
    """One step from any state: the reference implementation (and the window's stepper).

    z_k = W_k x + U_k h_{t-1} + b_k (+ p_i, p_f * c_{t-1} with peepholes)
    i, f = rec(z_i), rec(z_f);  g = act(z_g);  c = f * c_{t-1} + i * g
    o = rec(z_o + p_o * c);  r = o * act(c);  h = W_hr r (projected) or r
    clip: z_i, z_f, z_g, z_o (after the peepholes) clipped to [-clip, clip] before the
    activations; input_forget: f = 1 - i.
    A masked step (params.mask_value) computes the same gates but keeps c = c_{t-1} and
    h = h_{t-1}; r is then o * act(c_{t-1}).
    """
    x = np.asarray(x, dtype=np.float64)
    rec = activation(params.recurrent_activation)
    act = activation(params.cell_activation)
    z = {k: params.W(k) @ x + params.U(k) @ h_prev + params.b(k) for k in "ifgo"}
    if params.p_i is not None:
        z["i"] = z["i"] + params.p_i * c_prev
    if params.p_f is not None:
        z["f"] = z["f"] + params.p_f * c_prev
    if params.clip is not None:  # ONNX clips the input of every activation
        z.update({k: np.clip(z[k], -params.clip, params.clip) for k in "ifg"})
    i, g = rec(z["i"]), act(z["g"])
    f = 1.0 - i if params.input_forget else rec(z["f"])  # ONNX input_forget couples f to i
    c = f * c_prev + i * g
    if params.p_o is not None:
        z["o"] = z["o"] + params.p_o * c  # the output peephole looks at the new c_t
    if params.clip is not None:
        z["o"] = np.clip(z["o"], -params.clip, params.clip)
    o = rec(z["o"])
    masked = is_masked(params, x)
    if masked:
        c = np.array(c_prev, dtype=np.float64)
    r = o * act(c)
    h = params.W_hr @ r if params.W_hr is not None else r
    if masked:
        h = np.array(h_prev, dtype=np.float64)
    return Step(z["i"], z["f"], z["g"], z["o"], i, f, g, o, c, h,
                r=r if params.W_hr is not None else None, masked=masked)


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


def _initial(value, params_value, n: int, name: str, dtype, size_name: str = "n") -> np.ndarray:
    if value is None:
        value = params_value
    if value is None:
        return np.zeros(n, dtype=dtype)
    value = np.asarray(value, dtype=np.float64).reshape(-1)
    if value.shape != (n,):
        raise LstmvizError(f"{name} has {value.size} entries, expected {size_name} = {n}")
    problem = describe_nonfinite(name, value)
    if problem:
        raise LstmvizError(problem)
    return value.astype(dtype)


def _cell_count(params: LSTMParams) -> int:
    return 1 + sum(len(directions) for directions in params.upstream)


def sequence_mask(params: LSTMParams, raw: np.ndarray) -> np.ndarray | None:
    """(T,) bool: the steps of the user's sequence `raw` that this cell's Masking hides.

    Keras computes the mask once from the stack's input and hands it to every layer of the
    stack, so a cell inside a stack is masked by the raw sequence, not by the h it reads.
    """
    if params.mask_value is None:
        return None
    mask = np.all(raw == params.mask_value, axis=1)
    return mask[::-1].copy() if params.reverse else mask


def layer_inputs(params: LSTMParams, xs: np.ndarray, dtype=np.float64, progress: Progress | None = None
                 ) -> np.ndarray:
    """The sequence this cell actually reads: upstream layers applied, reversed if backward."""
    xs = check_sequence(xs, params.input_size)
    raw = xs
    parts, part = _cell_count(params), 0
    for directions in params.upstream:
        outputs = []
        for cell in directions:
            inner = xs[::-1] if cell.reverse else xs
            h = run_cell(cell, inner, dtype=dtype, progress=_scaled(progress, part, parts),
                         mask=sequence_mask(cell, raw)).h
            part += 1
            outputs.append(h[::-1] if cell.reverse else h)
        xs = np.concatenate(outputs, axis=1)
    return np.ascontiguousarray(xs[::-1] if params.reverse else xs)


def sequence_length(params: LSTMParams) -> tuple[int | None, str]:
    """The rows ONNX runs of the user's sequence: (L, "") for the cell's own sequence_lens,
    (L, name) when the shortest one is on an upstream layer (ONNX feeds the layers above it
    zeros past row L, which lstmviz does not show), (None, "") when every row runs."""
    best, where = params.sequence_length, ""
    for directions in params.upstream:
        for cell in directions:
            L = cell.sequence_length
            if L is not None and (best is None or L < best):
                best, where = L, cell.name or "a layer below"
    return best, where


def cut_to_sequence_length(params: LSTMParams, xs, label: str = "") -> tuple[np.ndarray, str | None]:
    """xs cut to the rows ONNX runs (see sequence_length), and one line saying so (None when
    nothing was cut). label (the model file's name, say) begins the line."""
    L, where = sequence_length(params)
    if L is None or np.shape(xs)[0] <= L:
        return xs, None
    T = np.shape(xs)[0]
    start = f"{label}: " if label else ""
    cut = np.array(xs[:L])  # a copy: the rows past L are not kept alive by a view
    if where:
        return cut, (f"{start}sequence_lens = {L} on {where}: running the first {L} of {T} rows, "
                        "as ONNX does (past them ONNX feeds the layers above zeros)")
    return cut, f"{start}sequence_lens = {L}: running the first {L} of {T} rows, as ONNX does"


def run(params: LSTMParams, xs, h0=None, c0=None, dtype=np.float64, progress: Progress | None = None
        ) -> Trace:
    """Run the cell over a sequence (T, m) and record everything (see Trace).

    For a layer inside a stack, or the backward direction, the upstream layers run first and
    the trace's x is what this cell really saw. Every row of xs runs, even past an ONNX
    sequence_length: cut xs first with cut_to_sequence_length to get ONNX's Y, Y_h and Y_c
    (the trace then has as many rows as the sequence it was given, always).
    progress(fraction) is called every few thousand steps; when it returns False the run
    stops and raises RunCancelled.
    """
    dtype = np.dtype(dtype)
    mask = None
    if params.upstream or params.reverse:
        raw = check_sequence(xs, params.input_size)
        mask = sequence_mask(params, raw)
        xs = layer_inputs(params, raw, dtype=np.float64, progress=progress)
        parts = _cell_count(params)
        progress = _scaled(progress, parts - 1, parts)
    return run_cell(params, xs, h0=h0, c0=c0, dtype=dtype, progress=progress, mask=mask)


def _prepare(params: LSTMParams, xs, h0, c0, dtype, mask):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise LstmvizError(f"dtype {dtype} is not supported (float64 or float32)")
    xs = check_sequence(xs, params.m)
    h_init = _initial(h0, params.h0, params.h_size, "h0", dtype,
                      "p (the projection size)" if params.W_hr is not None else "n")
    c_init = _initial(c0, params.c0, params.n, "c0", dtype)
    if params.mask_value is not None and mask is None:
        mask = np.all(xs == params.mask_value, axis=1)  # xs is already in this cell's reading order
    elif params.mask_value is not None:
        mask = np.asarray(mask, dtype=bool).reshape(-1)
        if mask.shape != (xs.shape[0],):
            raise LstmvizError(f"mask has {mask.size} entries, expected T = {xs.shape[0]}")
    else:
        mask = None
    x = kernels.cast(xs, dtype, copy=True)  # the trace owns its x: later edits of xs never alias it
    return dtype, x, h_init, c_init, mask


def run_cell(params: LSTMParams, xs, h0=None, c0=None, dtype=np.float64, progress: Progress | None = None,
             mask: np.ndarray | None = None) -> Trace:
    """Run exactly this cell over xs, with no upstream layers and no reversal.

    mask: (T,) bool, the masked steps when the cell has a mask_value (default: the rows of
    xs equal to it in every column); ignored for a cell without one.
    """
    dtype, x, h_init, c_init, mask = _prepare(params, xs, h0, c0, dtype, mask)
    # Finite weights and inputs can still overflow W x + U h + b; inf is a fine pre-activation
    # (every gate saturates correctly), so the products run quietly, and only a NaN made from
    # inf - inf is refused.
    macs = x.shape[0] * 4 * params.n * (params.n + params.m)
    with blas_threads(params.n, macs), np.errstate(over="ignore", invalid="ignore"):
        if kernels.fast_applies(params):
            trace = kernels.run_fast(params, x, h_init, c_init, dtype, progress)
        else:
            trace = kernels.run_general(params, x, h_init, c_init, dtype, progress=progress, mask=mask)
    refuse_nan(trace, params)
    return trace


def refuse_nan(trace: Trace, params: LSTMParams, lo: int = 0, hi: int | None = None) -> None:
    """Refuse a run whose steps [lo, hi) hold a NaN (inf - inf from an overflowing W x + U h + b).

    A streamed rerun (kernels.resume chunk by chunk) calls it on each chunk it computed."""
    t = kernels.first_nan_row(trace, lo, hi)
    if t is not None:
        raise LstmvizError(
            f"the run overflows {trace.dtype.name} at step {t}: W x + U h + b reaches infinity on "
            "both sides and gives NaN (weights or inputs too large; scale them down)",
            source=params.source or None,
        )





def run_with_hooks(params: LSTMParams, xs, h0, c0, hooks: StepHooks, dtype=np.float64,
                   mask: np.ndarray | None = None, progress: Progress | None = None) -> Trace:
    """Run exactly this cell (the general loop) with the hooks applied; no upstream layers.

    mask: the masked steps (a recorded trace's own trace.mask), else computed from xs;
    progress as for run()."""
    dtype, x, h_init, c_init, mask = _prepare(params, xs, h0, c0, dtype, mask)
    with blas_threads(params.n), np.errstate(over="ignore", invalid="ignore"):
        trace = kernels.run_general(params, x, h_init, c_init, dtype, hooks, progress=progress, mask=mask)
    refuse_nan(trace, params)
    return trace
