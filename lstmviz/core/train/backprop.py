"""Exact gradients of every parameter of an LSTM cell: batched backpropagation through time.

For a batch of B sequences of T steps, the loss is anything whose derivative with respect to the
recorded states is known: the caller passes ``dloss_dh[t]`` = d loss / d h_t and optionally
``dloss_dc[t]`` = d loss / d c_t (the *external* part only, e.g. a readout y = V h + d), and
:func:`backward` returns d loss / d theta for W, U, b of every gate, the peepholes and the
initial state, summed over the batch. :func:`param_gradients` is the public one-sequence (or
batched) form on :class:`~lstmviz.core.params.LSTMParams`.

It is the recursion of :mod:`lstmviz.core.analysis.gradients` (same factors, same notation:
sigma = recurrent activation, phi = cell activation, derivatives taken from the recorded values)
with every row widened to a batch and the external gradient injected at every step:

    dh_t   = dloss_dh[t] + U^T dz_{t+1}
    dc_t   = dloss_dc[t] + carry_t + dh_t * (o_t phi'(c_t) + p_o phi(c_t) sigma'(o_t))
    dz_o,t = dh_t * phi(c_t) sigma'(o_t)
    dz_i,t = dc_t * g_t sigma'(i_t);  dz_f,t = dc_t * c_{t-1} sigma'(f_t);  dz_g,t = dc_t * i_t phi'(g_t)
    carry_{t-1} = dc_t * (f_t + p_i g_t sigma'(i_t) + p_f c_{t-1} sigma'(f_t))

and then, for all steps at once (one matrix product each):

    dW = sum_t dz_t^T x_t     dU = sum_t dz_t^T h_{t-1}     db = sum_t dz_t
    dp_i = sum dz_i c_{t-1}   dp_f = sum dz_f c_{t-1}       dp_o = sum dz_o c_t
    dh0 = U^T dz_0            dc0 = carry_{-1}

The one-sequence form records the forward pass with lstmviz's own engine
(:func:`lstmviz.core.cell.run_cell`), so the gradients belong to exactly the cell the window
shows. Training needs the forward pass for B sequences at once, which the engine does not do:
:func:`forward` is that batched pass (time-major arrays (T, B, .)); the tests check it against
``run_cell`` sequence by sequence. Internally the gates are stacked in the order 'oifg': the
three sigmoid gates are one contiguous block (one tanh call serves all four gates, as in the
engine's fast path) and the three gates driven by dc_t (i, f, g) are another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lstmviz.core.activations import activation, derivative_from_value
from lstmviz.core.blas import blas_threads
from lstmviz.core.cell import check_sequence, run_cell
from lstmviz.core.params import GATES, PEEPHOLES, LSTMParams
from lstmviz.errors import LstmvizError

ORDER = "oifg"  # internal gate order: sigmoid gates first (o, i, f), and i, f, g contiguous for dc
SIGMOID_GATES = 3


@dataclass
class Cell:
    """The arrays of one cell, stacked in ORDER, in one dtype: what forward/backward work on."""

    W: np.ndarray  # (4n, m)
    U: np.ndarray  # (4n, n)
    b: np.ndarray  # (4n,)
    p_i: np.ndarray | None = None
    p_f: np.ndarray | None = None
    p_o: np.ndarray | None = None
    recurrent_activation: str = "sigmoid"
    cell_activation: str = "tanh"

    @property
    def n(self) -> int:
        return self.U.shape[1]

    @property
    def m(self) -> int:
        return self.W.shape[1]

    @property
    def has_peepholes(self) -> bool:
        return self.p_i is not None or self.p_f is not None or self.p_o is not None

    @property
    def fast(self) -> bool:
        return (self.recurrent_activation == "sigmoid" and self.cell_activation == "tanh"
                and not self.has_peepholes)

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray], dtype=np.float64,
                    recurrent_activation: str = "sigmoid", cell_activation: str = "tanh") -> Cell:
        """From arrays named like LSTMParams' (W_i .. b_o, optional p_i p_f p_o)."""
        dtype = np.dtype(dtype)

        def stack(kind):
            return np.ascontiguousarray(np.concatenate([arrays[f"{kind}_{g}"] for g in ORDER]), dtype=dtype)

        peep = {k: None if arrays.get(k) is None else np.asarray(arrays[k], dtype=dtype) for k in PEEPHOLES}
        return cls(stack("W"), stack("U"), stack("b"), **peep,
                   recurrent_activation=recurrent_activation, cell_activation=cell_activation)

    @classmethod
    def from_params(cls, params: LSTMParams, dtype=np.float64) -> Cell:
        return cls.from_arrays(params.arrays(), dtype, params.recurrent_activation, params.cell_activation)


@dataclass
class Record:
    """A batched forward pass, time-major: everything the backward pass needs."""

    x: np.ndarray  # (T, B, m)
    a: np.ndarray  # (T, B, 4, n) gate values in ORDER (o, i, f, g)
    c: np.ndarray  # (T, B, n)
    h: np.ndarray  # (T, B, n)
    psi: np.ndarray  # (T, B, n) phi(c_t), the squashed cell state h_t = o_t * psi_t
    h0: np.ndarray  # (B, n)
    c0: np.ndarray  # (B, n)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def B(self) -> int:
        return self.x.shape[1]

    def gate(self, gate: str) -> np.ndarray:
        """(T, B, n) values of gate in 'ifgo'."""
        return self.a[:, :, ORDER.index(gate)]


def _initial_batch(value, B: int, n: int, dtype, name: str) -> np.ndarray:
    if value is None:
        return np.zeros((B, n), dtype=dtype)
    value = np.asarray(value, dtype=dtype)
    if value.shape == (n,):
        return np.broadcast_to(value, (B, n)).copy()
    if value.shape != (B, n):
        raise LstmvizError(f"{name} has shape {value.shape}, expected ({n},) or ({B}, {n})")
    return value.copy()


def forward(cell: Cell, xs: np.ndarray, h0=None, c0=None) -> Record:
    """Run B sequences at once: xs (B, T, m) -> a time-major Record in the cell's dtype."""
    dtype = cell.W.dtype
    xs = np.asarray(xs, dtype=dtype)
    if xs.ndim != 3 or xs.shape[2] != cell.m:
        raise LstmvizError(f"a batch of inputs has shape {xs.shape}, expected (B, T, {cell.m})")
    B, T, _ = xs.shape
    n = cell.n
    x = np.ascontiguousarray(xs.transpose(1, 0, 2))
    h_init = _initial_batch(h0, B, n, dtype, "h0")
    c_init = _initial_batch(c0, B, n, dtype, "c0")
    a = np.empty((T, B, 4, n), dtype=dtype)
    c = np.empty((T, B, n), dtype=dtype)
    h = np.empty((T, B, n), dtype=dtype)
    psi = np.empty((T, B, n), dtype=dtype)
    with blas_threads(n), np.errstate(over="ignore", invalid="ignore"):
        if cell.fast:
            _forward_fast(cell, x, h_init, c_init, a, c, h, psi)
        else:
            _forward_general(cell, x, h_init, c_init, a, c, h, psi)
    if not (np.isfinite(c[-1]).all() and np.isfinite(h[-1]).all()):
        raise LstmvizError("the run overflows: the cell state or h became NaN or infinite "
                           "(weights too large)")
    return Record(x=x, a=a, c=c, h=h, psi=psi, h0=h_init, c0=c_init)


def _forward_fast(cell, x, h_init, c_init, a, c, h, psi) -> None:
    """sigmoid/tanh without peepholes: sigmoid(z) = (1 + tanh(z/2)) / 2, so the sigmoid rows of
    W, U, b are halved once and one tanh call computes all four gates of a step."""
    T, B, _ = x.shape
    n = cell.n
    dtype = cell.W.dtype
    scale = np.ones(4 * n, dtype=dtype)
    scale[: SIGMOID_GATES * n] = 0.5
    W = cell.W * scale[:, None]
    Ut = np.ascontiguousarray((cell.U * scale[:, None]).T)  # (n, 4n): z += h_prev @ Ut
    b = cell.b * scale
    z = (x.reshape(T * B, -1) @ W.T).reshape(T, B, 4 * n)
    z += b
    a2 = a.reshape(T, B, 4 * n)
    buf = np.empty((B, 4 * n), dtype=dtype)
    tmp = np.empty((B, n), dtype=dtype)
    half = dtype.type(0.5)
    dot, tanh, multiply, add = np.dot, np.tanh, np.multiply, np.add
    h_prev, c_prev = h_init, c_init
    for t in range(T):
        zt, at = z[t], a2[t]
        dot(h_prev, Ut, out=buf)
        add(zt, buf, out=zt)
        tanh(zt, out=at)
        sig = at[:, : SIGMOID_GATES * n]
        multiply(sig, half, out=sig)
        add(sig, half, out=sig)
        ct, ht = c[t], h[t]
        multiply(at[:, 2 * n : 3 * n], c_prev, out=ct)  # f * c_{t-1}
        multiply(at[:, n : 2 * n], at[:, 3 * n :], out=tmp)  # i * g
        add(ct, tmp, out=ct)
        tanh(ct, out=psi[t])
        multiply(at[:, :n], psi[t], out=ht)  # o * tanh(c_t)
        h_prev, c_prev = ht, ct


def _forward_general(cell, x, h_init, c_init, a, c, h, psi) -> None:
    """Any activations, peepholes: p_i, p_f look at c_{t-1}, p_o at the new c_t."""
    T, B, _ = x.shape
    n = cell.n
    rec = activation(cell.recurrent_activation)
    act = activation(cell.cell_activation)
    z = (x.reshape(T * B, -1) @ cell.W.T).reshape(T, B, 4, n)
    z += cell.b.reshape(4, n)
    Ut = np.ascontiguousarray(cell.U.T)
    h_prev, c_prev = h_init, c_init
    for t in range(T):
        zt, at = z[t], a[t]
        zt += (h_prev @ Ut).reshape(B, 4, n)
        if cell.p_i is not None:
            zt[:, 1] += cell.p_i * c_prev
        if cell.p_f is not None:
            zt[:, 2] += cell.p_f * c_prev
        rec(zt[:, 1:3], out=at[:, 1:3])
        act(zt[:, 3], out=at[:, 3])
        np.multiply(at[:, 2], c_prev, out=c[t])
        c[t] += at[:, 1] * at[:, 3]
        if cell.p_o is not None:
            zt[:, 0] += cell.p_o * c[t]
        rec(zt[:, 0], out=at[:, 0])
        act(c[t], out=psi[t])
        np.multiply(at[:, 0], psi[t], out=h[t])
        h_prev, c_prev = h[t], c[t]


@dataclass
class Gradients:
    """d loss / d theta summed over the batch, stacked in ORDER, plus the initial state per
    sequence and the pre-activation gradients (for the memory view)."""

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    p_i: np.ndarray | None
    p_f: np.ndarray | None
    p_o: np.ndarray | None
    dh0: np.ndarray  # (B, n)
    dc0: np.ndarray  # (B, n)
    dz: np.ndarray  # (T, B, 4, n) in ORDER

    def named(self) -> dict[str, np.ndarray]:
        """Split into arrays named like LSTMParams' (W_i .. b_o, p_* when the cell has them)."""
        n = self.U.shape[1]
        out = {}
        for kind, stacked in (("W", self.W), ("U", self.U), ("b", self.b)):
            for k, gate in enumerate(ORDER):
                out[f"{kind}_{gate}"] = stacked[k * n : (k + 1) * n]
        for key in PEEPHOLES:
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return {key: out[key] for key in (*_NAMED_ORDER, *PEEPHOLES) if key in out}


_NAMED_ORDER = tuple(f"{kind}_{gate}" for kind in ("W", "U", "b") for gate in GATES)


def backward(cell: Cell, rec: Record, dloss_dh: np.ndarray | None, dloss_dc: np.ndarray | None = None
             ) -> Gradients:
    """The gradients of sum_t (dloss_dh[t] . h_t + dloss_dc[t] . c_t), both (T, B, n) time-major
    (None: zero), through a recorded batch."""
    T, B = rec.T, rec.B
    n = cell.n
    dtype = rec.c.dtype
    d_rec = derivative_from_value(cell.recurrent_activation)
    d_act = derivative_from_value(cell.cell_activation)
    o, i, f, g = (rec.a[:, :, k] for k in range(4))
    c_prev = np.empty_like(rec.c)
    c_prev[0] = rec.c0
    c_prev[1:] = rec.c[:-1]
    # Per-step factors for every step at once (see the module docstring).
    Bo = rec.psi * d_rec(o)  # dz_o = dh * Bo
    A = o * d_act(rec.psi)  # dc += dh * A
    if cell.p_o is not None:
        A += cell.p_o * Bo
    G = np.empty((T, B, 3, n), dtype=dtype)  # dz_{i,f,g} = dc * G (ORDER's slots 1..3)
    np.multiply(g, d_rec(i), out=G[:, :, 0])
    np.multiply(c_prev, d_rec(f), out=G[:, :, 1])
    np.multiply(i, d_act(g), out=G[:, :, 2])
    F = f
    if cell.p_i is not None:
        F = F + cell.p_i * G[:, :, 0]
    if cell.p_f is not None:
        F = F + cell.p_f * G[:, :, 1]
    dz = np.empty((T, B, 4, n), dtype=dtype)  # in ORDER: o, i, f, g
    dz_flat = dz.reshape(T, B, 4 * n)
    U = cell.U  # (4n, n): dh_{t-1} = dz_t @ U
    dh = np.zeros((B, n), dtype=dtype)
    dc = np.empty((B, n), dtype=dtype)
    carry = np.zeros((B, n), dtype=dtype)
    tmp = np.empty((B, n), dtype=dtype)
    multiply, add, dot = np.multiply, np.add, np.dot
    with blas_threads(n):
        for t in range(T - 1, -1, -1):
            if dloss_dh is not None:
                add(dh, dloss_dh[t], out=dh)
            multiply(dh, A[t], out=dc)
            add(dc, carry, out=dc)
            if dloss_dc is not None:
                add(dc, dloss_dc[t], out=dc)
            dzt = dz[t]
            multiply(G[t], dc[:, None, :], out=dzt[:, 1:])
            multiply(dh, Bo[t], out=dzt[:, 0])
            multiply(dc, F[t], out=carry)
            dot(dz_flat[t], U, out=tmp)
            dh, tmp = tmp, dh
    x2 = rec.x.reshape(T * B, -1)
    dz2 = dz_flat.reshape(T * B, 4 * n)
    dW = dz2.T @ x2
    dU = dz_flat[0].T @ rec.h0
    if T > 1:
        dU += dz_flat[1:].reshape((T - 1) * B, 4 * n).T @ rec.h[:-1].reshape((T - 1) * B, n)
    db = dz2.sum(axis=0)
    p_i = None if cell.p_i is None else np.einsum("tbn,tbn->n", dz[:, :, 1], c_prev)
    p_f = None if cell.p_f is None else np.einsum("tbn,tbn->n", dz[:, :, 2], c_prev)
    p_o = None if cell.p_o is None else np.einsum("tbn,tbn->n", dz[:, :, 0], rec.c)
    return Gradients(W=dW, U=dU, b=db, p_i=p_i, p_f=p_f, p_o=p_o, dh0=dh, dc0=carry, dz=dz)


def _record_from_run(params: LSTMParams, xs: np.ndarray, h0, c0) -> Record:
    """One sequence recorded by the engine, as a batch of one."""
    trace = run_cell(params, xs, h0=h0, c0=c0)
    a = np.stack([trace.gate(g) for g in ORDER], axis=1)[:, None]  # (T, 1, 4, n)
    psi = activation(params.cell_activation)(np.asarray(trace.c, dtype=np.float64))
    return Record(x=np.asarray(trace.x)[:, None], a=a, c=np.asarray(trace.c)[:, None],
                  h=np.asarray(trace.h)[:, None], psi=psi[:, None],
                  h0=np.asarray(trace.h0)[None], c0=np.asarray(trace.c0)[None])


def _check_upstream(params: LSTMParams) -> None:
    if params.upstream or params.reverse:
        raise LstmvizError(
            "parameter gradients are for one cell on its own input; this layer is part of a stack "
            "or reads backwards (take the gradients of each cell with its own inputs)"
        )


def param_gradients(params: LSTMParams, xs, dloss_dh, dloss_dc=None, h0=None, c0=None
                    ) -> dict[str, np.ndarray]:
    """d/d theta of sum_t (dloss_dh[t] . h_t + dloss_dc[t] . c_t), in float64.

    One sequence: xs (T, m), dloss_dh and dloss_dc (T, n). A batch: xs (B, T, m), dloss_dh and
    dloss_dc (B, T, n); the parameter gradients are summed over the batch. h0, c0: (n,) (or
    (B, n) for a batch); by default the model's own initial state, else zeros.

    Returns arrays named like the parameters: W_i .. W_o (n, m), U_i .. U_o (n, n), b_i .. b_o
    (n,), p_i p_f p_o when the cell has peepholes, and h0, c0 ((n,), or (B, n) for a batch).
    """
    _check_upstream(params)
    xs = np.asarray(xs, dtype=np.float64)
    batched = xs.ndim == 3
    n = params.n
    if not batched:
        xs = check_sequence(xs, params.m)
    T = xs.shape[-2]
    lead = xs.shape[:-1]

    def grad_input(value, name):
        if value is None:
            return None
        value = np.asarray(value, dtype=np.float64)
        if value.shape != (*lead, n):
            raise LstmvizError(f"{name} has shape {value.shape}, expected {(*lead, n)}")
        if not np.isfinite(value).all():
            raise LstmvizError(f"{name} holds NaN or infinity")
        return value[:, None] if not batched else np.ascontiguousarray(value.transpose(1, 0, 2))

    dh_ext = grad_input(dloss_dh, "dloss_dh")
    dc_ext = grad_input(dloss_dc, "dloss_dc")
    if dh_ext is None and dc_ext is None:
        raise LstmvizError("give dloss_dh or dloss_dc")
    if h0 is None:
        h0 = params.h0
    if c0 is None:
        c0 = params.c0
    cell = Cell.from_params(params)
    if batched:
        if xs.shape[2] != params.m or T == 0:
            raise LstmvizError(f"a batch of inputs has shape {xs.shape}, expected (B, T >= 1, {params.m})")
        rec = forward(cell, xs, h0, c0)
    else:
        rec = _record_from_run(params, xs, h0, c0)
    grads = backward(cell, rec, dh_ext, dc_ext)
    out = grads.named()
    out["h0"] = grads.dh0 if batched else grads.dh0[0]
    out["c0"] = grads.dc0 if batched else grads.dc0[0]
    return out
