"""The worked arithmetic behind every part of the cell diagram, with the real numbers. No Qt.

Pure functions from (params, trace, step, component, unit) to plain data: tuples of floats
and small frozen dataclasses. The inspector only formats what these return, and the tests
check the numbers here (for example z_f = (92, 177, 136) in the forget-gate worked example).

Conventions (PyTorch): z = W·x_t + U·h_{t-1} + b; the classic diagram's W·[h_{t-1}, x_t] is
the matrix [U | W] times the stacked vector, the same numbers in another layout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from lstmviz.components import GATE_IDS, Component, component, shapes_summary, term_shapes
from lstmviz.core.activations import activation
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace

# Lay out the whole matrix-vector product when it fits on a page.
MATVEC_MAX_ROWS = 8
MATVEC_MAX_COLS = 12
# Per-unit term lists longer than this show the largest terms and sum the rest.
TERMS_SHOWN = 12
# A unit's worked sum lists every term when it has at most TERMS_ALL of them (W·x, U·h and a
# peephole together); otherwise, unless the learner asks for all, each sum lists its
# TERMS_COLLAPSED largest terms and one row "… k more terms, sum = …" (laying out a rich-text
# table costs ~0.1 ms a row, and n + m = 96 rows is too slow to redo at every step).
TERMS_ALL = 16
TERMS_COLLAPSED = 5

Vector = tuple[float, ...]


# -- plain data ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Term:
    """One product coef * value, e.g. W_f[0, 2] * x_t[2] = 3 * 3 = 9."""

    coef_name: str  # "W_f[0,2]"
    coef: float
    var_name: str  # "x_t[2]"
    value: float
    product: float


@dataclass(frozen=True)
class TermList:
    """The terms of one sum, with the option to show only the largest ones."""

    terms: tuple[Term, ...]
    total: float

    def shown(self, limit: int = TERMS_SHOWN) -> tuple[tuple[Term, ...], int, float]:
        """(terms to show in index order, how many were left out, the sum of those left out)."""
        if len(self.terms) <= limit:
            return self.terms, 0, 0.0
        order = sorted(range(len(self.terms)), key=lambda j: -abs(self.terms[j].product))
        keep = sorted(order[:limit])
        rest = [self.terms[j].product for j in order[limit:]]
        return tuple(self.terms[j] for j in keep), len(rest), float(math.fsum(rest))


@dataclass(frozen=True)
class GateUnit:
    """z_k = Σ_j W[k,j]·x_j + Σ_j U[k,j]·h_j + b_k (+ p_k·c), then a_k = act(z_k)."""

    gate: str
    unit: int
    input_terms: TermList  # W[k, j] * x_t[j]
    recurrent_terms: TermList  # U[k, j] * h_{t-1}[j]
    bias: float
    peephole: Term | None  # p[k] * c_{t-1}[k] (c_t[k] for the output gate), when present
    z: float  # the sum as computed here
    z_recorded: float  # the pre-activation the run recorded (equal up to rounding)
    activation: str  # "sigmoid", "tanh", "hard_sigmoid", ...
    value: float  # act(z)
    value_recorded: float
    distance_to_bound: float | None  # for a saturated sigmoid: 1 - σ(z) or σ(z), computed exactly
    # ONNX clip: the bound, and the sum before it was clipped (z is the clipped value)
    clip: float | None = None
    z_sum: float | None = None
    # ONNX input_forget, for the forget gate: i_t[k], and value = 1 - i_t[k] (z_f is unused)
    coupled_i: float | None = None


def term_count(unit: GateUnit) -> int:
    """How many products a unit's pre-activation sums: m + n, plus one with a peephole."""
    return len(unit.input_terms.terms) + len(unit.recurrent_terms.terms) + (unit.peephole is not None)


def term_limit(unit: GateUnit, expanded: bool = False) -> int | None:
    """How many terms of each sum (W·x, U·h) to list: None for all of them.

    All when the unit has at most TERMS_ALL terms or the learner asked for all (`expanded`);
    otherwise TERMS_COLLAPSED per sum, the largest by |product| (see TermList.shown).
    """
    if expanded or term_count(unit) <= TERMS_ALL:
        return None
    return TERMS_COLLAPSED


@dataclass(frozen=True)
class MatVec:
    """The whole layer for one gate: z = W·x + U·h + b, a = act(z); every unit at once."""

    gate: str
    W: tuple[Vector, ...]  # n rows of m
    U: tuple[Vector, ...]  # n rows of n
    b: Vector
    x: Vector
    h: Vector
    Wx: Vector
    Uh: Vector
    Wx_plus_Uh: Vector  # = W·[h; x] in the concatenated form
    peephole: Vector | None  # p ⊙ c (per unit), when the gate has a peephole
    z: Vector
    a: Vector
    activation: str
    clip: float | None = None  # ONNX clip: z is clip(z_sum, -clip, clip)
    z_sum: Vector | None = None  # W·x + U·h + b (+ p ⊙ c) before the clip
    coupled_i: Vector | None = None  # ONNX input_forget, forget gate: a = 1 - i_t

    def concatenated(self, h_first: bool = True) -> tuple[tuple[Vector, ...], Vector, tuple[str, str]]:
        """The diagram's form: ([U | W] rows, [h; x], block names) or ([W | U], [x; h], ...)."""
        if h_first:
            rows = tuple(u + w for u, w in zip(self.U, self.W))
            return rows, self.h + self.x, ("U", "W")
        rows = tuple(w + u for w, u in zip(self.W, self.U))
        return rows, self.x + self.h, ("W", "U")


@dataclass(frozen=True)
class GateWork:
    gate: str
    unit: GateUnit
    matvec: MatVec | None  # None when the layer is too large to lay out


@dataclass(frozen=True)
class CellUnit:
    """c_t[k] = f[k]·c_{t-1}[k] + i[k]·g[k]."""

    unit: int
    f: float
    c_prev: float
    kept: float  # f * c_prev
    i: float
    g: float
    written: float  # i * g
    c: float  # kept + written (at a masked step: c_{t-1}, carried)
    c_recorded: float
    masked: bool = False  # a masked step: c_t = c_{t-1}; `kept + written` is not used


@dataclass(frozen=True)
class CellWork:
    units: tuple[CellUnit, ...]
    unit: int  # the chosen unit


@dataclass(frozen=True)
class CellPath:
    """The gradient along the cell-state line at step t, unit k (h_{t-1} held fixed):
    ∂c_t[k]/∂c_{t-1}[k] = f_t[k] on the direct path, plus p_i g σ'(i) + p_f c_{t-1} σ'(f)
    when the cell has input/forget peepholes."""

    unit: int
    step: int
    f: float  # f_t[k]
    factor: float  # ∂c_t[k]/∂c_{t-1}[k]
    peephole: float  # factor - f (0 without peepholes)
    survives_from_start: float  # ∏_{s=1..t} f_s[k]: the share of c_0 that reaches c_t on this line
    masked: bool = False  # a masked step carries c: the factor is exactly 1
    input_forget: bool = False  # ONNX f = 1 - i: the peephole part is p_i (g - c_{t-1}) σ'(i)


@dataclass(frozen=True)
class HiddenUnit:
    """h_t[k] = o[k]·tanh(c_t[k])."""

    unit: int
    o: float
    c: float
    tanh_c: float
    h: float  # o * act(c) (r_t of a projected cell)
    h_recorded: float  # the trace's o * act(c): h_t, or r_t of a projected cell


@dataclass(frozen=True)
class ProjectionWork:
    """h_t[j] = sum_k W_hr[j, k]·r_t[k] of a projected (LSTMP) cell, r_t = o·tanh(c_t).

    terms: W_hr[j, k]·r_t[k] for every cell unit k; h their sum; h_recorded the trace's h_t[j].
    """

    row: int  # j, the entry of h_t worked through
    terms: TermList
    h: float
    h_recorded: float
    h_size: int  # p


@dataclass(frozen=True)
class HiddenWork:
    """h = o·tanh(c) per unit; for a projected cell that product is r_t (HiddenUnit.h, with
    h_recorded the trace's r_t), and `projection` works h_t = W_hr r_t through."""

    units: tuple[HiddenUnit, ...]
    unit: int
    activation: str  # the cell activation (tanh)
    projection: ProjectionWork | None = None
    masked: bool = False  # a masked step: h_t = h_{t-1} (carried), o * act(c) not used for it
    carried: Vector = ()  # h_{t-1} = the recorded h_t at a masked step


@dataclass(frozen=True)
class VectorWork:
    """A vector that is an input to this step: x_t, h_{t-1}, c_{t-1}, or [h_{t-1}, x_t]."""

    symbol: str
    values: Vector
    origin: str  # where it comes from, e.g. "h_t of step 2" or "h0 (the initial state)"
    blocks: tuple[tuple[str, int], ...] = field(default=())  # for the concatenation: names, sizes
    names: tuple[str, ...] = field(default=())  # per-entry names (input columns)

    def shown(self, expanded: bool = False) -> tuple[tuple[int, ...], int]:
        """(indices of the entries to list, in order; how many are left out).

        Every entry when there are at most TERMS_ALL or `expanded`; otherwise the
        TERMS_ALL - 4 largest by |value| (ties: the first ones).
        """
        count = len(self.values)
        if expanded or count <= TERMS_ALL:
            return tuple(range(count)), 0
        keep = TERMS_ALL - 4
        order = np.argsort(-np.abs(np.asarray(self.values, dtype=np.float64)), kind="stable")
        return tuple(int(j) for j in np.sort(order[:keep])), count - keep


@dataclass(frozen=True)
class Explanation:
    component: Component
    step: int
    T: int
    n: int
    m: int
    unit: int
    shapes: tuple[tuple[str, str], ...]
    shapes_line: str
    work: GateWork | CellWork | HiddenWork | VectorWork
    cell_path: CellPath | None = None  # for the cell state c: dc_t/dc_{t-1} = f_t
    masked: bool = False  # a masked step: the recorded c_t, h_t are carried from step t-1
    p: int | None = None  # entries of h for a projected (LSTMP) cell; None: h has n
    formula: str = ""  # the component's equation for this cell's variant (variant_formula)
    cell_activation: str = "tanh"
    input_forget: bool = False
    mask_value: float | None = None


# -- helpers -------------------------------------------------------------------------------
def _vec(a) -> Vector:
    return tuple(float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1))


def _rows(a) -> tuple[Vector, ...]:
    return tuple(_vec(row) for row in np.asarray(a, dtype=np.float64))


def _check_step(trace: Trace, step: int) -> int:
    step = int(step)
    if not 0 <= step < trace.T:
        raise IndexError(f"step {step} is not in 0..{trace.T - 1}")
    return step


def _check_unit(n: int, unit: int) -> int:
    unit = int(unit)
    if not 0 <= unit < n:
        raise IndexError(f"unit {unit} is not in 0..{n - 1}")
    return unit


def step_inputs(trace: Trace, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x_t, h_{t-1}, c_{t-1}) as float64 vectors."""
    step = _check_step(trace, step)
    as64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return as64(trace.x[step]), as64(trace.h_prev(step)), as64(trace.c_prev(step))


def distance_to_bound(name: str, z: float) -> float | None:
    """For a sigmoid that looks saturated: the exact gap to 0 or 1, which float64 rounds away.

    σ(92) is 1 to machine precision; 1 - σ(92) = σ(-92) ≈ 1.1e-40.
    """
    if name != "sigmoid":
        return None
    e = math.exp(-abs(z))
    gap = e / (1.0 + e)
    return gap if gap < 1e-4 else None


# -- the work for each kind of component ---------------------------------------------------
def gate_unit(params: LSTMParams, trace: Trace, step: int, gate: str, unit: int) -> GateUnit:
    x, h, c_prev = step_inputs(trace, step)
    k = _check_unit(params.n, unit)
    W, U, b = params.W(gate), params.U(gate), params.b(gate)
    input_terms = tuple(
        Term(f"W_{gate}[{k},{j}]", float(W[k, j]), f"x_t[{j}]", float(x[j]), float(W[k, j] * x[j]))
        for j in range(params.m)
    )
    recurrent_terms = tuple(
        Term(f"U_{gate}[{k},{j}]", float(U[k, j]), f"h_{{t-1}}[{j}]", float(h[j]), float(U[k, j] * h[j]))
        for j in range(params.h_size)
    )
    peephole = None
    p = params.peephole(gate)
    if p is not None:
        if gate == "o":
            c_now = float(trace.c[step][k])
            peephole = Term(f"p_o[{k}]", float(p[k]), f"c_t[{k}]", c_now, float(p[k] * c_now))
        else:
            peephole = Term(
                f"p_{gate}[{k}]", float(p[k]), f"c_{{t-1}}[{k}]", float(c_prev[k]), float(p[k] * c_prev[k])
            )
    sx = math.fsum(t.product for t in input_terms)
    sh = math.fsum(t.product for t in recurrent_terms)
    parts = [sx, sh, float(b[k])] + ([peephole.product] if peephole else [])
    z = z_sum = math.fsum(parts)
    if params.clip is not None:  # ONNX clip: the activation sees z bounded to [-clip, clip]
        z = min(max(z, -params.clip), params.clip)
    name = params.cell_activation if gate == "g" else params.recurrent_activation
    value = float(activation(name)(np.array([z]))[0])
    coupled_i = None
    if gate == "f" and params.input_forget:  # ONNX input_forget: f = 1 - i
        coupled_i = float(gate_unit(params, trace, step, "i", k).value)
        value = 1.0 - coupled_i
    return GateUnit(
        gate=gate,
        unit=k,
        input_terms=TermList(input_terms, sx),
        recurrent_terms=TermList(recurrent_terms, sh),
        bias=float(b[k]),
        peephole=peephole,
        z=z,
        z_recorded=float(trace.preactivation(gate)[step][k]),
        activation=name,
        value=value,
        value_recorded=float(trace.gate(gate)[step][k]),
        distance_to_bound=None if coupled_i is not None else distance_to_bound(name, z),
        clip=params.clip,
        z_sum=z_sum if params.clip is not None else None,
        coupled_i=coupled_i,
    )


def gate_matvec(params: LSTMParams, trace: Trace, step: int, gate: str) -> MatVec:
    x, h, c_prev = step_inputs(trace, step)
    W, U, b = params.W(gate), params.U(gate), params.b(gate)
    Wx, Uh = W @ x, U @ h
    peephole = None
    p = params.peephole(gate)
    if p is not None:
        peephole = _vec(p * (trace.c[step] if gate == "o" else c_prev))
    z_sum = None
    if params.clip is not None:
        z_sum = _vec(Wx + Uh + b + (np.asarray(peephole) if peephole is not None else 0.0))
    coupled = _vec(trace.gate("i")[step]) if gate == "f" and params.input_forget else None
    return MatVec(
        gate=gate,
        W=_rows(W),
        U=_rows(U),
        b=_vec(b),
        x=_vec(x),
        h=_vec(h),
        Wx=_vec(Wx),
        Uh=_vec(Uh),
        Wx_plus_Uh=_vec(Wx + Uh),
        peephole=peephole,
        z=_vec(trace.preactivation(gate)[step]),
        a=_vec(trace.gate(gate)[step]),
        activation=params.cell_activation if gate == "g" else params.recurrent_activation,
        clip=params.clip,
        z_sum=z_sum,
        coupled_i=coupled,
    )


def fits_matvec(n: int, m: int, h_size: int | None = None) -> bool:
    """Whether the n x (h_size + m) product is small enough to lay out (h_size defaults to n)."""
    return n <= MATVEC_MAX_ROWS and (n if h_size is None else h_size) + m <= MATVEC_MAX_COLS


def gate_work(params: LSTMParams, trace: Trace, step: int, gate: str, unit: int) -> GateWork:
    if gate not in GATE_IDS:
        raise KeyError(f"{gate!r} is not a gate (gates: {', '.join(GATE_IDS)})")
    fits = fits_matvec(params.n, params.m, params.h_size)
    matvec = gate_matvec(params, trace, step, gate) if fits else None
    return GateWork(gate, gate_unit(params, trace, step, gate, unit), matvec)


def cell_work(trace: Trace, step: int, unit: int) -> CellWork:
    _, _, c_prev = step_inputs(trace, step)
    k = _check_unit(trace.n, unit)
    masked = bool(trace.mask is not None and trace.mask[step])
    f, i, g = (np.asarray(trace.gate(q)[step], dtype=np.float64) for q in "fig")
    c = np.asarray(trace.c[step], dtype=np.float64)
    kept, written = f * c_prev, i * g
    units = tuple(
        CellUnit(
            unit=j,
            f=float(f[j]),
            c_prev=float(c_prev[j]),
            kept=float(kept[j]),
            i=float(i[j]),
            g=float(g[j]),
            written=float(written[j]),
            c=float(c_prev[j] if masked else kept[j] + written[j]),
            c_recorded=float(c[j]),
            masked=masked,
        )
        for j in range(trace.n)
    )
    return CellWork(units, k)


def cell_path(params: LSTMParams, trace: Trace, step: int, unit: int) -> CellPath:
    """∂c_t/∂c_{t-1} for one unit at one step, with the numbers (lstmviz.core.analysis.gradients)."""
    from lstmviz.core.analysis.gradients import cell_path_factor, forget_product  # (only the c part needs it)

    step = _check_step(trace, step)
    k = _check_unit(trace.n, unit)
    f = float(trace.f[step][k])
    factor = float(cell_path_factor(params, trace, step)[k])
    survives = float(forget_product(trace, step, k)[0])
    masked = bool(trace.mask is not None and trace.mask[step])
    return CellPath(unit=k, step=step, f=f, factor=factor, peephole=0.0 if masked else factor - f,
                    survives_from_start=survives, masked=masked, input_forget=params.input_forget)


def hidden_work(params: LSTMParams, trace: Trace, step: int, unit: int) -> HiddenWork:
    step = _check_step(trace, step)
    k = _check_unit(trace.n, unit)
    o = np.asarray(trace.o[step], dtype=np.float64)
    c = np.asarray(trace.c[step], dtype=np.float64)
    tanh_c = activation(params.cell_activation)(c.copy())
    # o·tanh(c) is h itself, or r for a projected cell (then h = W_hr r, worked below)
    r = np.asarray(trace.h[step] if trace.r is None else trace.r[step], dtype=np.float64)
    units = tuple(
        HiddenUnit(
            unit=j,
            o=float(o[j]),
            c=float(c[j]),
            tanh_c=float(tanh_c[j]),
            h=float(o[j] * tanh_c[j]),
            h_recorded=float(r[j]),
        )
        for j in range(trace.n)
    )
    projection = None
    if params.W_hr is not None and trace.r is not None:
        row = min(k, params.h_size - 1)  # entry j of h_t: the unit's own index where it exists
        weights = params.W_hr[row]
        terms = tuple(
            Term(f"W_hr[{row},{j}]", float(weights[j]), f"r_t[{j}]", float(r[j]), float(weights[j] * r[j]))
            for j in range(trace.n)
        )
        total = math.fsum(t.product for t in terms)
        projection = ProjectionWork(row, TermList(terms, total), total, float(trace.h[step][row]),
                                    params.h_size)
    masked = bool(trace.mask is not None and trace.mask[step])
    carried = _vec(trace.h_prev(step)) if masked else ()
    return HiddenWork(units, k, params.cell_activation, projection, masked, carried)


def vector_work(trace: Trace, step: int, component_id: str, input_names=()) -> VectorWork:
    x, h, c_prev = step_inputs(trace, step)
    before = "the initial state" if step == 0 else f"step {step - 1}"
    if component_id == "x":
        names = tuple(input_names) if len(tuple(input_names)) == trace.m else ()
        return VectorWork("x_t", _vec(x), f"row {step} of the input sequence", names=names)
    if component_id == "h_prev":
        origin = "h0, the initial hidden state" if step == 0 else f"h_t of {before}"
        return VectorWork("h_{t-1}", _vec(h), origin)
    if component_id == "c_prev":
        origin = "c0, the initial cell state" if step == 0 else f"c_t of {before}"
        return VectorWork("c_{t-1}", _vec(c_prev), origin)
    if component_id == "concat":
        return VectorWork(
            "[h_{t-1}, x_t]",
            _vec(h) + _vec(x),
            "h_{t-1} followed by x_t",
            blocks=(("h_{t-1}", trace.h_size), ("x_t", trace.m)),
        )
    raise KeyError(component_id)


def explain(
    params: LSTMParams,
    trace: Trace,
    step: int,
    component_id: str,
    unit: int = 0,
    input_names=(),
) -> Explanation:
    """Everything the inspector shows for one component at one step, for unit `unit`."""
    comp = component(component_id)
    step = _check_step(trace, step)
    n, m = params.n, params.m
    unit = _check_unit(n, unit)
    cid = comp.id
    if comp.is_gate:
        work = gate_work(params, trace, step, cid, unit)
    elif cid in ("mul_f", "mul_i", "add_c", "c"):
        work = cell_work(trace, step, unit)
    elif cid in ("tanh_c", "mul_o", "h"):
        work = hidden_work(params, trace, step, unit)
    else:
        work = vector_work(trace, step, cid, input_names)
    peep = params.has_peepholes
    p = params.h_size if params.projected else None
    return Explanation(
        component=comp,
        step=step,
        T=trace.T,
        n=n,
        m=m,
        unit=unit,
        shapes=tuple(term_shapes(cid, n, m, peep, p)),
        shapes_line=shapes_summary(cid, n, m, peep, p),
        work=work,
        cell_path=cell_path(params, trace, step, unit) if cid == "c" else None,
        masked=bool(trace.mask is not None and trace.mask[step]),
        p=p,
        formula=variant_formula(params, cid),
        cell_activation=params.cell_activation,
        input_forget=params.input_forget,
        mask_value=params.mask_value,
    )


def activation_symbol(name: str) -> str:
    """σ for the logistic sigmoid, else the activation's own name (tanh, hard_sigmoid, relu)."""
    return "σ" if name == "sigmoid" else name


def variant_formula(params: LSTMParams, component_id: str) -> str:
    """The component's equation as this cell computes it: its activations, peepholes, ONNX
    clip and input_forget, and a projection (lstmviz.components holds the standard cell's)."""
    cid = component(component_id).id
    rec, act = activation_symbol(params.recurrent_activation), params.cell_activation
    if cid in GATE_IDS:
        if cid == "f" and params.input_forget:
            return "f_t = 1 − i_t"  # ONNX input_forget: coupled to the input gate
        arg = f"W_{cid}·x_t + U_{cid}·h_{{t-1}} + b_{cid}"
        p = params.peephole(cid)
        if p is not None:
            arg += " + p_o ⊙ c_t" if cid == "o" else f" + p_{cid} ⊙ c_{{t-1}}"
        if params.clip is not None:
            arg = f"clip({arg}, ±{format_number(params.clip)})"
        return f"{cid}_t = {act if cid == 'g' else rec}({arg})"
    if cid in ("mul_f", "mul_i", "add_c", "c"):
        if cid == "mul_i":
            return "i_t ⊙ g_t"
        forget = "(1 − i_t)" if params.input_forget else "f_t"
        if cid == "mul_f":
            return f"{forget} ⊙ c_{{t-1}}" if params.input_forget else "f_t ⊙ c_{t-1}"
        return f"c_t = {forget} ⊙ c_{{t-1}} + i_t ⊙ g_t"
    if cid == "tanh_c":
        return f"{act}(c_t)"
    if cid in ("mul_o", "h"):
        if params.projected:
            return f"h_t = W_hr·r_t,  r_t = o_t ⊙ {act}(c_t)"
        return f"h_t = o_t ⊙ {act}(c_t)"
    return component(cid).formula


# -- what the diagram draws ---------------------------------------------------------------
def step_arrays(trace: Trace, step: int, cell_activation: str = "tanh") -> dict[str, np.ndarray]:
    """Every vector drawn on the diagram at this step, by component id, as float64 arrays
    (what the diagram colors at every step: no per-number Python work)."""
    x, h_prev, c_prev = (np.array(a) for a in step_inputs(trace, step))  # copies: callers keep them
    f, i, g, o = (np.array(trace.gate(q)[step], dtype=np.float64) for q in "figo")
    c = np.array(trace.c[step], dtype=np.float64)
    h = np.array(trace.h[step], dtype=np.float64)
    tanh_c = activation(cell_activation)(c.copy())
    return {
        "x": x,
        "h_prev": h_prev,
        "c_prev": c_prev,
        "f": f,
        "i": i,
        "g": g,
        "o": o,
        "mul_f": f * c_prev,
        "mul_i": i * g,
        "c": c,
        "tanh_c": tanh_c,
        "h": h,
    }


def step_vectors(trace: Trace, step: int, cell_activation: str = "tanh") -> dict[str, Vector]:
    """Every vector drawn on the diagram at this step, by component id (tuples of floats)."""
    return {cid: _vec(a) for cid, a in step_arrays(trace, step, cell_activation).items()}


def step_preactivations(trace: Trace, step: int) -> dict[str, Vector]:
    """z for each gate at this step (for tooltips)."""
    step = _check_step(trace, step)
    return {q: _vec(trace.preactivation(q)[step]) for q in GATE_IDS}


# -- number formatting shared by the inspector, tooltips and the CLI --------------------------
def format_number(value: float, digits: int = 4) -> str:
    """92 for whole numbers, 0.9820 for ordinary ones, 1.1e-40 for tiny ones; − for minus."""
    v = float(value)
    if not math.isfinite(v):
        text = "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    elif v == 0:
        text = "0"
    elif v == int(v) and abs(v) < 1e9:
        text = f"{int(v)}"
    elif abs(v) < 0.01 or abs(v) >= 1e6:
        text = f"{v:.3g}"  # 0.000335, 1.11e-40, 2.5e+07
    else:
        text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")


def format_vector(values, digits: int = 4) -> str:
    return "(" + ", ".join(format_number(v, digits) for v in values) + ")"


# -- what the numbers mean, in words -------------------------------------------------------
def gate_reading(gate: str, value: float, projected: bool = False) -> str:
    """One sentence on what a gate value does to its unit."""
    v = float(value)
    if gate == "f":
        if v >= 0.95:
            return (
                "The forget gate is open (near 1): this unit keeps its memory c_{t-1}, and "
                "the gradient flows back through c almost unchanged."
            )
        if v <= 0.05:
            return (
                "The forget gate is closed (near 0): this unit's memory c_{t-1} is wiped, "
                "and the gradient path back through c is cut."
            )
        return f"The forget gate keeps {v:.0%} of this unit's old memory c_{{t-1}}."
    if gate == "i":
        if v >= 0.95:
            return "The input gate is open (near 1): the candidate g_t is written into this unit."
        if v <= 0.05:
            return "The input gate is closed (near 0): nothing new is written into this unit."
        return f"The input gate writes {v:.0%} of the candidate g_t into this unit."
    if gate == "o":
        # a projected (LSTMP) cell's o gates r_t = o * tanh(c_t); h_t = W_hr r_t mixes the units
        out = "r_t (which W_hr projects to h_t)" if projected else "h_t"
        if v >= 0.95:
            return f"The output gate is open (near 1): {out} shows tanh(c_t) of this unit in full."
        if v <= 0.05:
            short = "r_t" if projected else "h_t"
            return f"The output gate is closed (near 0): this unit's memory is hidden, {short} is near 0."
        return f"The output gate shows {v:.0%} of tanh(c_t) of this unit as {out}."
    return "The candidate g_t, in (-1, 1): the value this unit would store if the input gate lets it in."


def squash_reading(name: str) -> str:
    if name == "tanh":
        return "tanh squashes z into (-1, 1)."
    if name.startswith("hard_sigmoid"):
        alpha = "1/6" if name == "hard_sigmoid_keras3" else "0.2"
        return f"hard_sigmoid is a piecewise-linear σ: clip({alpha}·z + 0.5, 0, 1), flat (saturated) outside."
    if name == "relu":
        return "relu(z) = max(z, 0): 0 for negative z, z itself otherwise (unbounded above)."
    if name == "linear":
        return "linear: the activation is z itself (no squashing)."
    return (
        "σ(z) = 1 / (1 + exp(−z)) squashes z into (0, 1): a dial per unit, 0 blocks, 1 lets "
        "everything through. It is deterministic, not a random draw."
    )


def cell_reading(u: CellUnit) -> str:
    kept = format_number(u.kept, 3)
    written = format_number(u.written, 3)
    return (
        f"Kept {kept} of the old {format_number(u.c_prev, 3)}, wrote {written}: "
        f"the new memory is {format_number(u.c, 3)}."
    )


def format_short(value: float) -> str:
    """At most about 6 characters, for tables with many columns: 53.4, −1.34, 0.966, 0.0034."""
    v = float(value)
    if not math.isfinite(v) or v == 0 or (v == int(v) and abs(v) < 1e5):
        return format_number(v)
    a = abs(v)
    if a >= 1e5 or a < 0.01:
        text = f"{v:.2g}"
    elif a >= 100:
        text = f"{v:.0f}"
    elif a >= 10:
        text = f"{v:.1f}"
    elif a >= 1:
        text = f"{v:.2f}"
    else:
        text = f"{v:.3f}".rstrip("0").rstrip(".")
    return text.replace("-", "−")
