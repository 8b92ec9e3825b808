"""Memory and gradient flow through time: exact backpropagation through a recorded run.

For a target step T and unit k, ``out`` is h_T[k] (``wrt='h'``) or c_T[k] (``wrt='c'``);
with ``unit=None`` it is the sum over all units (so every row is the sum of the per-unit
gradients). :func:`gradient_flow` returns, for every step t = 0..T,

- ``dx[t]``  = d out / d x_t   (m values): how much the input at step t matters for out;
- ``dc[t]``  = d out / d c_t   (n values): the *total* derivative with c_t as a node of the
  graph, through every path that leaves it: the cell path c_t -> c_{t+1}, the hidden state
  h_t = o_t * tanh(c_t) and from there the gates and U of every later step, and the
  peepholes when the cell has them;
- ``dh[t]``  = d out / d h_t   (n values), also total;
- ``dz[t]``  = d out / d z_t   (4n values, gates in PyTorch order 'ifgo'), the pre-activations;
- ``dc_carry[t]`` = the part of dc[t] that flows back along the cell-state line from step t+1
  (h_t held fixed; see :class:`GradientFlow`);
- ``dh0``, ``dc0`` = d out / d h_{-1}, d out / d c_{-1} (the initial state).

and the forget-gate product prod_{s=t+1..T} f_s (``fprod``): how much of c_t survives to c_T
along the direct cell path alone, where dc_T/dc_{T-1} = f_T. The difference between ``dc`` and
the direct path (:meth:`GradientFlow.direct_dc`) is what the other paths add.

The recursion (sigma = recurrent activation, phi = cell activation, ' = derivative):

    dc_t   = carry_t + dh_t * (o_t phi'(c_t) + p_o phi(c_t) sigma'(o_t))
    dz_o,t = dh_t * phi(c_t) sigma'(o_t)
    dz_i,t = dc_t * g_t sigma'(i_t);  dz_f,t = dc_t * c_{t-1} sigma'(f_t);  dz_g,t = dc_t * i_t phi'(g_t)
    carry_{t-1} = dc_t * (f_t + p_i g_t sigma'(i_t) + p_f c_{t-1} sigma'(f_t))
    dh_{t-1} = U^T dz_t;   dx_t = W^T dz_t

Every per-step factor is computed for all steps at once up front; the backward loop then makes
six NumPy calls per step, writing straight into the preallocated result rows, so T = 10 000,
n = 64 takes about 0.1 s (scripts/bench_analysis.py). Derivatives are taken from the recorded
activation values, as autograd does, so any activation in lstmviz.core.activations works
(hard_sigmoid, relu, ...).

Projected (LSTMP) cells, h_t = W_hr r_t with r_t = o_t * phi(c_t): ``dh`` has h_size (p)
columns, and each step first takes dr_t = W_hr^T dh_t, which then stands where dh_t stands in
the recursion above (dc_t = carry_t + dr_t * (...), dz_o = dr_t * ...); dh_{t-1} = U^T dz_t
has p entries. For wrt='h' the unit indexes h (0..p-1), for wrt='c' the cell (0..n-1).
Masked steps (Keras Masking: c_t = c_{t-1}, h_t = h_{t-1}) pass both gradients through
unchanged and their gates get none (dz_t = 0).

Layers of a stack and backward directions: the gradients are with respect to the cell's own
inputs ``trace.x`` (the upstream layer's h, or the sequence read back to front), step t being
the t-th element this cell read; they do not propagate into the upstream layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmviz.core.activations import activation, derivative_from_value
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

WRT = ("h", "c")
DZ_ORDER = "ifgo"


def check_compatible(params: LSTMParams, trace: Trace) -> None:
    """Raise a one-line LstmvizError unless the trace was recorded from a cell of this shape."""
    if trace.n != params.n or trace.m != params.m or trace.h_size != params.h_size:
        sizes = lambda o: f"n = {o.n}, m = {o.m}" + (f", p = {o.h_size}" if o.h_size != o.n else "")  # noqa: E731
        raise LstmvizError(
            f"the trace has {sizes(trace)} but the model has {sizes(params)}"
        )


def resolve_step(trace: Trace, step: int | None, name: str = "step") -> int:
    """The target step: None means the last one; anything outside 0..T-1 is an error."""
    if step is None:
        return trace.T - 1
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise LstmvizError(f"{name} {step!r} is not an integer")
    if not 0 <= step < trace.T:
        raise LstmvizError(f"{name} {step} is not in 0..{trace.T - 1} (the trace has {trace.T} steps)")
    return int(step)


def resolve_unit(n: int, unit: int | None, name: str = "unit") -> int | None:
    if unit is None:
        return None
    if isinstance(unit, bool) or not isinstance(unit, (int, np.integer)):
        raise LstmvizError(f"{name} {unit!r} is not an integer")
    if not 0 <= unit < n:
        raise LstmvizError(f"{name} {unit} is not in 0..{n - 1} (the cell has n = {n} units)")
    return int(unit)


def forget_product(trace: Trace, step: int | None = None, unit: int | None = None) -> np.ndarray:
    """prod_{s=t+1..step} f_s for t = 0..step: the share of c_t that reaches c_step on the
    direct cell path (1 at t = step). Shape (step+1, n), or (step+1,) for one unit.

    Long products underflow to exactly 0, which is the truth to display precision. A masked
    step carries c unchanged: its factor is 1, whatever its (recorded, unused) f.
    """
    step = resolve_step(trace, step)
    unit = resolve_unit(trace.n, unit)
    f = trace.f[1 : step + 1] if unit is None else trace.f[1 : step + 1, unit]
    if trace.mask is not None and trace.mask[1 : step + 1].any():
        carried = trace.mask[1 : step + 1]
        f = np.where(carried[:, None] if unit is None else carried, 1.0, f)
    out = np.ones((step + 1, *f.shape[1:]), dtype=np.float64)
    if step > 0:
        out[:-1] = np.cumprod(np.asarray(f, dtype=np.float64)[::-1], axis=0)[::-1]
    return out


def cell_path_factor(params: LSTMParams, trace: Trace, t: int) -> np.ndarray:
    """The partial derivative dc_t / dc_{t-1} (n values, the Jacobian's diagonal).

    It is f_t on the direct path; with input/forget peepholes it also carries
    p_i g_t sigma'(i_t) + p_f c_{t-1} sigma'(f_t). (h_{t-1} is a separate input of step t.)
    ONNX input_forget (f = 1 - i): p_i (g_t - c_{t-1}) sigma'(i_t), and p_f has no effect;
    ONNX clip: a gate whose z sits at the bound passes no gradient to its peephole.
    """
    check_compatible(params, trace)
    t = resolve_step(trace, t, "t")
    if trace.mask is not None and trace.mask[t]:
        return np.ones(trace.n)  # a masked step carries c: c_t = c_{t-1}
    factor = np.array(trace.f[t], dtype=np.float64)
    d_rec = derivative_from_value(params.recurrent_activation)

    def slope(gate: str) -> np.ndarray:  # d a / d z, 0 where ONNX clip held z at its bound
        d = d_rec(np.asarray(trace.gate(gate)[t], dtype=np.float64))
        if params.clip is not None:
            d = np.where(np.abs(trace.preactivation(gate)[t]) >= params.clip, 0.0, d)
        return d

    c_prev = np.asarray(trace.c_prev(t), dtype=np.float64)
    if params.p_i is not None:
        # c = f c_{t-1} + i g; with input_forget f = 1 - i, so i's peephole also moves f
        through = trace.g[t] - c_prev if params.input_forget else trace.g[t]
        factor += params.p_i * through * slope("i")
    if params.p_f is not None and not params.input_forget:  # (coupled: z_f is unused)
        factor += params.p_f * c_prev * slope("f")
    return factor


@dataclass(frozen=True, eq=False)
class GradientFlow:
    """Exact gradients of out = h_step[unit] (or c_step[unit]) for every t = 0..step.

    Rows are steps 0..step. For ``unit=None`` out is the sum over units.

    ``dc`` is the total derivative: c_t perturbed, everything computed from it changes, h_t
    included. ``dc_carry`` counts only the paths that leave c_t through step t+1 onward, with
    h_t held fixed: the gradient that travels back along the cell-state line into step t
    (torch.nn.LSTM reports this one as the gradient of the c_n it returns). They differ by
    dh_t * d h_t / d c_t; at the last step dc_carry is 0 for wrt='h' and 1 at k for wrt='c'.
    """

    step: int
    unit: int | None
    wrt: str  # 'h' or 'c'
    dx: np.ndarray  # (step+1, m)   d out / d x_t
    dh: np.ndarray  # (step+1, p)   d out / d h_t (total; p = h_size, n without a projection)
    dc: np.ndarray  # (step+1, n)   d out / d c_t (total, all paths)
    dz: np.ndarray  # (step+1, 4n)  d out / d z_t, gates in DZ_ORDER ('ifgo')
    dc_carry: np.ndarray  # (step+1, n) d out / d c_t along the cell-state line (see below)
    dh0: np.ndarray  # (p,) d out / d h_{-1}
    dc0: np.ndarray  # (n,) d out / d c_{-1}
    fprod_units: np.ndarray  # (step+1, n) prod_{s=t+1..step} f_s for every unit
    out_scale: np.ndarray  # (n,) d out / d c_step on the last step itself, per cell unit (see direct_dc)
    projected: bool = False  # the cell has W_hr: for wrt='h', unit indexes h (0..p-1)

    @property
    def steps(self) -> np.ndarray:
        return np.arange(self.step + 1)

    @property
    def fprod(self) -> np.ndarray:
        """(step+1,) the forget product of the chosen unit; for ``unit=None`` the mean over
        units (the average share of a cell state that survives on the direct path); also the
        mean for a projected cell's wrt='h', whose unit is an entry of h, not a cell unit."""
        if self.unit is None or (self.projected and self.wrt == "h"):
            return self.fprod_units.mean(axis=1)
        return self.fprod_units[:, self.unit]

    def dz_gate(self, gate: str) -> np.ndarray:
        """(step+1, n) d out / d z_gate,t for gate in 'ifgo'."""
        n = self.dc.shape[1]
        k = DZ_ORDER.index(gate)
        return self.dz[:, k * n : (k + 1) * n]

    def direct_dc(self) -> np.ndarray:
        """(step+1, n) d out / d c_t along the direct cell path alone (no h, no gates):
        only the target unit's column is non-zero (every column for unit=None), equal to
        fprod times d out / d c_step at the last step (1 for wrt='c'; o phi'(c) [+ peephole]
        for wrt='h'). Compare it with ``dc`` to see what the other paths contribute."""
        direct = self.fprod_units * self.out_scale
        # With a projection, h_step[j] hears every cell unit: no column is zero then.
        if self.unit is not None and not (self.projected and self.wrt == "h"):
            keep = np.zeros(direct.shape[1], dtype=bool)
            keep[self.unit] = True
            direct[:, ~keep] = 0.0
        return direct

    def norm(self, which: str = "dc") -> np.ndarray:
        """(step+1,) Euclidean norm per step of 'dx', 'dc' or 'dh': the decay curve."""
        return np.linalg.norm(self._array(which), axis=1)

    def log_magnitude(self, which: str = "dc", floor: float = 1e-12) -> np.ndarray:
        """(step+1, width) log10 |values| of 'dx', 'dc', 'dh', 'dc_carry' or 'dz', with
        magnitudes below `floor` (and exact zeros) shown as log10(floor): ready for a
        units x time heatmap, where a gradient that decays geometrically is a straight ramp."""
        values = np.abs(self._array(which))
        np.maximum(values, floor, out=values)
        return np.log10(values, out=values)

    def _array(self, which: str) -> np.ndarray:
        if which not in ("dx", "dc", "dh", "dc_carry", "dz"):
            raise LstmvizError(f"{which!r} is not one of dx, dc, dh, dc_carry, dz")
        return getattr(self, which)


def gradient_flow(
    params: LSTMParams,
    trace: Trace,
    step: int | None = None,
    unit: int | None = None,
    wrt: str = "h",
) -> GradientFlow:
    """Backpropagate out = h_step[unit] (or c_step[unit]) through the recorded trace.

    params must be the cell that recorded the trace (same n, m; the trace's x are the cell's own
    inputs, see the module docstring for stacked and reversed layers). Computed in float64
    whatever the trace's dtype. Raises LstmvizError for a step or unit out of range.
    """
    check_compatible(params, trace)
    step = resolve_step(trace, step)
    if wrt not in WRT:
        raise LstmvizError(f"wrt {wrt!r} is not 'h' or 'c'")
    unit = resolve_unit(trace.h_size if wrt == "h" else trace.n, unit)
    S, n, p = step + 1, trace.n, trace.h_size
    f64 = np.float64

    def rows(array: np.ndarray) -> np.ndarray:
        return np.asarray(array[:S], dtype=f64)

    i, f, g, o, c = rows(trace.i), rows(trace.f), rows(trace.g), rows(trace.o), rows(trace.c)
    c_prev = np.empty((S, n))
    c_prev[0] = trace.c0
    c_prev[1:] = c[:-1]
    d_rec = derivative_from_value(params.recurrent_activation)
    d_act = derivative_from_value(params.cell_activation)
    psi = activation(params.cell_activation)(c)  # phi(c_t), what h_t = o_t * phi(c_t) used

    # Per-step factors for every step at once (see the module docstring).
    B = psi * d_rec(o)  # dz_o = dh * B
    A = o * d_act(psi)  # dc += dh * A
    if params.p_o is not None:
        A += params.p_o * B
    G = np.empty((S, 3, n))  # dz_{i,f,g} = dc * G
    np.multiply(g, d_rec(i), out=G[:, 0])
    np.multiply(c_prev, d_rec(f), out=G[:, 1])
    np.multiply(i, d_act(g), out=G[:, 2])
    F = f  # carry_{t-1} = dc_t * F_t
    if params.p_i is not None:
        F = F + params.p_i * G[:, 0]
    if params.p_f is not None:
        F = F + params.p_f * G[:, 1]

    W, U, _ = params.stacked(DZ_ORDER)  # (4n, m), (4n, n)
    Ut = np.ascontiguousarray(U.T)  # (n, 4n): dh_{t-1} = Ut @ dz_t, BLAS gemv
    dz = np.empty((S, 4 * n))
    dz3 = dz[:, : 3 * n].reshape(S, 3, n)  # a view: rows of dz as (i, f, g) blocks
    dzo = dz[:, 3 * n :]
    dh = np.empty((S, p))
    dc = np.empty((S, n))
    carry = np.empty((S, n))  # carry[t]: d out / d c_t through step t+1 onward (h_t held)
    dh0 = np.empty(p)
    dc0 = np.empty(n)
    W_hr = params.W_hr
    Pt = None if W_hr is None else np.ascontiguousarray(W_hr.T)  # (n, p): dr_t = Pt @ dh_t
    dr = np.empty(n)
    masked = np.zeros(S, dtype=bool) if trace.mask is None else np.asarray(trace.mask[:S], dtype=bool)
    width = p if wrt == "h" else n
    target = np.ones(width) if unit is None else np.eye(1, width, unit)[0]
    if wrt == "h":
        dh[step] = target
        carry[step] = 0.0
    else:
        dh[step] = 0.0
        carry[step] = target
    multiply, add, dot = np.multiply, np.add, np.dot
    for t in range(step, -1, -1):
        dh_t, dc_t = dh[t], dc[t]
        dh_prev = dh[t - 1] if t > 0 else dh0
        dc_prev = carry[t - 1] if t > 0 else dc0
        if masked[t]:  # c_t = c_{t-1}, h_t = h_{t-1}: both gradients pass straight through
            dc_t[...] = carry[t]
            dz[t] = 0.0
            dc_prev[...] = dc_t
            dh_prev[...] = dh_t
            continue
        dr_t = dh_t if Pt is None else dot(Pt, dh_t, out=dr)  # dr_t = W_hr^T dh_t (projection)
        multiply(dr_t, A[t], out=dc_t)
        add(dc_t, carry[t], out=dc_t)
        multiply(G[t], dc_t, out=dz3[t])
        multiply(dr_t, B[t], out=dzo[t])
        multiply(dc_t, F[t], out=dc_prev)
        dot(Ut, dz[t], out=dh_prev)
    dx = dz @ W
    if wrt == "c":
        out_scale = np.ones(n)
    elif masked[step]:
        out_scale = np.zeros(n)  # h_step was carried: c_step does not reach it directly
    elif W_hr is None:
        out_scale = A[step].copy()
    else:  # d out / d c_step through h = W_hr r: per cell unit, for the chosen output (or all)
        out_scale = A[step] * (W_hr.sum(axis=0) if unit is None else W_hr[unit])
    return GradientFlow(
        step=step, unit=unit, wrt=wrt, dx=dx, dh=dh, dc=dc, dz=dz, dc_carry=carry, dh0=dh0, dc0=dc0,
        fprod_units=forget_product(trace, step), out_scale=out_scale, projected=W_hr is not None,
    )
