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
:func:`forward` is that batched pass (stored feature-major, see :class:`Record`); the tests check it against
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
    """A batched forward pass: everything the backward pass needs.

    Stored feature-major, batch last: (T, 4, n, B) gates, (T, n, B) states, so that every
    gate's block of a step is one contiguous (n, B) array (a gate slice of a (B, 4n) row block
    is strided, and NumPy's elementwise calls on it cost about twice as much). The
    properties give time-major (T, B, .) views.
    """

    x: np.ndarray  # (T, B, m) time-major
    aT: np.ndarray  # (T, 4, n, B) gate values in ORDER (o, i, f, g)
    cT: np.ndarray  # (T, n, B)
    hT: np.ndarray  # (T, n, B)
    psiT: np.ndarray  # (T, n, B) phi(c_t), the squashed cell state: h_t = o_t * psi_t
    h0T: np.ndarray  # (n, B)
    c0T: np.ndarray  # (n, B)

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def B(self) -> int:
        return self.x.shape[1]

    @property
    def h(self) -> np.ndarray:
        """(T, B, n) h_t (a view)."""
        return self.hT.transpose(0, 2, 1)

    @property
    def c(self) -> np.ndarray:
        """(T, B, n) c_t (a view)."""
        return self.cT.transpose(0, 2, 1)

    def gate(self, gate: str) -> np.ndarray:
        """(T, B, n) values of gate in 'ifgo' (a view)."""
        return self.aT[:, ORDER.index(gate)].transpose(0, 2, 1)


def _initial_batch(value, B: int, n: int, dtype, name: str) -> np.ndarray:
    """(n, B) from None (zeros), (n,) or (B, n)."""
    if value is None:
        return np.zeros((n, B), dtype=dtype)
    value = np.asarray(value, dtype=dtype)
    if value.shape == (n,):
        return np.repeat(value[:, None], B, axis=1)
    if value.shape != (B, n):
        raise LstmvizError(f"{name} has shape {value.shape}, expected ({n},) or ({B}, {n})")
    return np.ascontiguousarray(value.T)


def forward(cell: Cell, xs: np.ndarray, h0=None, c0=None) -> Record:
    """Run B sequences at once: xs (B, T, m) -> a Record in the cell's dtype."""
    dtype = cell.W.dtype
    xs = np.asarray(xs, dtype=dtype)
    if xs.ndim != 3 or xs.shape[2] != cell.m:
        raise LstmvizError(f"a batch of inputs has shape {xs.shape}, expected (B, T, {cell.m})")
    B, T, _ = xs.shape
    n = cell.n
    x = np.ascontiguousarray(xs.transpose(1, 0, 2))
    h_init = _initial_batch(h0, B, n, dtype, "h0")
    c_init = _initial_batch(c0, B, n, dtype, "c0")
    a = np.empty((T, 4, n, B), dtype=dtype)
    c = np.empty((T, n, B), dtype=dtype)
    h = np.empty((T, n, B), dtype=dtype)
    psi = np.empty((T, n, B), dtype=dtype)
    with blas_threads(n), np.errstate(over="ignore", invalid="ignore"):
        if cell.fast:
            _forward_fast(cell, x, h_init, c_init, a, c, h, psi)
        else:
            _forward_general(cell, x, h_init, c_init, a, c, h, psi)
    if not (np.isfinite(c[-1]).all() and np.isfinite(h[-1]).all()):
        raise LstmvizError("the run overflows: the cell state or h became NaN or infinite "
                           "(weights too large)")
    return Record(x=x, aT=a, cT=c, hT=h, psiT=psi, h0T=h_init, c0T=c_init)


def _projected(W: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """W x_t + b for every step at once, as (T, 4n, B)."""
    z = np.matmul(W, np.ascontiguousarray(x.transpose(0, 2, 1)))  # (4n, m) @ (T, m, B); m is small
    z += b[:, None]
    return z


def _forward_fast(cell, x, h_init, c_init, a, c, h, psi) -> None:
    """sigmoid/tanh without peepholes: sigmoid(z) = (1 + tanh(z/2)) / 2, so the sigmoid rows of
    W, U, b are halved once and one tanh call computes all four gates of a step."""
    T = x.shape[0]
    n = cell.n
    dtype = cell.W.dtype
    scale = np.ones(4 * n, dtype=dtype)
    scale[: SIGMOID_GATES * n] = 0.5
    U = np.ascontiguousarray(cell.U * scale[:, None])  # (4n, n): z_t += U h_{t-1}
    z = _projected(cell.W * scale[:, None], cell.b * scale, x)
    a2 = a.reshape(T, 4 * n, -1)
    buf = np.empty_like(z[0])
    tmp = np.empty_like(c[0])
    half = dtype.type(0.5)
    dot, tanh, multiply, add = np.dot, np.tanh, np.multiply, np.add
    h_prev, c_prev = h_init, c_init
    for t in range(T):
        zt, at, at4 = z[t], a2[t], a[t]
        dot(U, h_prev, out=buf)
        add(zt, buf, out=zt)
        tanh(zt, out=at)
        sig = at[: SIGMOID_GATES * n]
        multiply(sig, half, out=sig)
        add(sig, half, out=sig)
        ct, ht = c[t], h[t]
        multiply(at4[2], c_prev, out=ct)  # f * c_{t-1}
        multiply(at4[1], at4[3], out=tmp)  # i * g
        add(ct, tmp, out=ct)
        tanh(ct, out=psi[t])
        multiply(at4[0], psi[t], out=ht)  # o * tanh(c_t)
        h_prev, c_prev = ht, ct


def _forward_general(cell, x, h_init, c_init, a, c, h, psi) -> None:
    """Any activations, peepholes: p_i, p_f look at c_{t-1}, p_o at the new c_t."""
    T = x.shape[0]
    n = cell.n
    rec = activation(cell.recurrent_activation)
    act = activation(cell.cell_activation)
    z = _projected(cell.W, cell.b, x).reshape(T, 4, n, -1)
    U = cell.U
    peep = {k: None if getattr(cell, k) is None else getattr(cell, k)[:, None] for k in ("p_i", "p_f", "p_o")}
    h_prev, c_prev = h_init, c_init
    for t in range(T):
        zt, at = z[t], a[t]
        zt += (U @ h_prev).reshape(4, n, -1)
        if peep["p_i"] is not None:
            zt[1] += peep["p_i"] * c_prev
        if peep["p_f"] is not None:
            zt[2] += peep["p_f"] * c_prev
        rec(zt[1:3], out=at[1:3])
        act(zt[3], out=at[3])
        np.multiply(at[2], c_prev, out=c[t])
        c[t] += at[1] * at[3]
        if peep["p_o"] is not None:
            zt[0] += peep["p_o"] * c[t]
        rec(zt[0], out=at[0])
        act(c[t], out=psi[t])
        np.multiply(at[0], psi[t], out=h[t])
        h_prev, c_prev = h[t], c[t]


@dataclass
class Gradients:
    """d loss / d theta summed over the batch, stacked in ORDER, and the initial state per
    sequence."""

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray
    p_i: np.ndarray | None
    p_f: np.ndarray | None
    p_o: np.ndarray | None
    dh0: np.ndarray  # (B, n)
    dc0: np.ndarray  # (B, n)

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


def _feature_major(value: np.ndarray | None, dtype) -> np.ndarray | None:
    return None if value is None else np.ascontiguousarray(np.asarray(value, dtype=dtype).transpose(0, 2, 1))


def backward(cell: Cell, rec: Record, dloss_dh: np.ndarray | None, dloss_dc: np.ndarray | None = None
             ) -> Gradients:
    """The gradients of sum_t (dloss_dh[t] . h_t + dloss_dc[t] . c_t), both (T, B, n) time-major
    (None: zero), through a recorded batch."""
    T, B = rec.T, rec.B
    n = cell.n
    dtype = rec.cT.dtype
    dh_ext = _feature_major(dloss_dh, dtype)
    dc_ext = _feature_major(dloss_dc, dtype)
    d_rec = derivative_from_value(cell.recurrent_activation)
    d_act = derivative_from_value(cell.cell_activation)
    o, i, f, g = (rec.aT[:, k] for k in range(4))
    c_prev = np.empty_like(rec.cT)
    c_prev[0] = rec.c0T
    c_prev[1:] = rec.cT[:-1]
    # Per-step factors for every step at once (see the module docstring).
    Bo = rec.psiT * d_rec(o)  # dz_o = dh * Bo
    A = o * d_act(rec.psiT)  # dc += dh * A
    if cell.p_o is not None:
        A += cell.p_o[:, None] * Bo
    G = np.empty((T, 3, n, B), dtype=dtype)  # dz_{i,f,g} = dc * G (ORDER's slots 1..3)
    np.multiply(g, d_rec(i), out=G[:, 0])
    np.multiply(c_prev, d_rec(f), out=G[:, 1])
    np.multiply(i, d_act(g), out=G[:, 2])
    F = f
    if cell.p_i is not None:
        F = F + cell.p_i[:, None] * G[:, 0]
    if cell.p_f is not None:
        F = F + cell.p_f[:, None] * G[:, 1]
    dz = np.empty((T, 4, n, B), dtype=dtype)  # in ORDER: o, i, f, g
    dz_flat = dz.reshape(T, 4 * n, B)
    Ut = np.ascontiguousarray(cell.U.T)  # (n, 4n): dh_{t-1} = U^T dz_t
    dh = np.zeros((n, B), dtype=dtype)
    dc = np.empty((n, B), dtype=dtype)
    carry = np.zeros((n, B), dtype=dtype)
    tmp = np.empty((n, B), dtype=dtype)
    multiply, add, dot = np.multiply, np.add, np.dot
    with blas_threads(n):
        for t in range(T - 1, -1, -1):
            if dh_ext is not None:
                add(dh, dh_ext[t], out=dh)
            multiply(dh, A[t], out=dc)
            add(dc, carry, out=dc)
            if dc_ext is not None:
                add(dc, dc_ext[t], out=dc)
            dzt = dz[t]
            multiply(G[t], dc, out=dzt[1:])
            multiply(dh, Bo[t], out=dzt[0])
            multiply(dc, F[t], out=carry)
            dot(Ut, dz_flat[t], out=tmp)
            dh, tmp = tmp, dh
    # Sums over steps and sequences: a batched matrix product per step, summed (cheaper than
    # transposing dz to put batch-and-time on one axis).
    dW = np.matmul(dz_flat, rec.x).sum(axis=0)  # sum_t (4n, B) @ (B, m)
    dU = dz_flat[0] @ rec.h0T.T
    if T > 1:
        dU += np.matmul(dz_flat[1:], rec.hT[:-1].transpose(0, 2, 1)).sum(axis=0)
    db = dz_flat.sum(axis=(0, 2))
    p_i = None if cell.p_i is None else np.einsum("tnb,tnb->n", dz[:, 1], c_prev)
    p_f = None if cell.p_f is None else np.einsum("tnb,tnb->n", dz[:, 2], c_prev)
    p_o = None if cell.p_o is None else np.einsum("tnb,tnb->n", dz[:, 0], rec.cT)
    return Gradients(W=dW, U=dU, b=db, p_i=p_i, p_f=p_f, p_o=p_o, dh0=dh.T.copy(), dc0=carry.T.copy())


def _record_from_run(params: LSTMParams, xs: np.ndarray, h0, c0) -> Record:
    """One sequence recorded by the engine, as a batch of one."""
    trace = run_cell(params, xs, h0=h0, c0=c0)
    a = np.stack([trace.gate(g) for g in ORDER], axis=1)[:, :, :, None]  # (T, 4, n, 1)
    c = np.asarray(trace.c, dtype=np.float64)
    psi = activation(params.cell_activation)(c)
    return Record(x=np.asarray(trace.x)[:, None], aT=a, cT=c[:, :, None], hT=np.asarray(trace.h)[:, :, None],
                  psiT=psi[:, :, None], h0T=np.asarray(trace.h0)[:, None], c0T=np.asarray(trace.c0)[:, None])


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
