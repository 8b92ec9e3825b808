"""The parts of the LSTM cell diagram, by id. No Qt.

The Document's `selection` is one of these ids. Every view maps an id to what it shows:
the diagram highlights the box, node or wire; the inspector works through its arithmetic;
a trace panel brings forward the plot of `quantity_for(id)` (one of the Trace quantities
"x", "i", "f", "g", "o", "c", "h").

Formulas use a small plain-text notation: `_t` and `_{t-1}` are subscripts, `·` is a
matrix-vector product and `⊙` the elementwise product. `to_html` renders it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GATE_IDS = ("f", "i", "g", "o")


@dataclass(frozen=True)
class Component:
    id: str
    name: str  # "forget gate"; plain text for menus and titles (subscripts as ₜ, ₜ₋₁)
    symbol: str  # "f_t"
    formula: str  # "f_t = σ(W_f·x_t + U_f·h_{t-1} + b_f)"
    kind: str  # "gate" | "op" | "state" | "input" | "concat"
    quantity: str | None  # the Trace quantity a plot of this component shows
    description: str  # one or two sentences for a learner

    @property
    def is_gate(self) -> bool:
        return self.kind == "gate"


_GATE_TEXT = {
    "f": ("forget gate", "σ", "how much of each unit of c_{t-1} to keep: 1 keeps it, 0 wipes it."),
    "i": ("input gate", "σ", "how much of the candidate g_t to write into each unit of the cell state."),
    "g": (
        "candidate (C̃)",
        "tanh",
        "the new values that could be written into the cell state, in (-1, 1); "
        "the classic diagrams call it C̃_t.",
    ),
    "o": ("output gate", "σ", "how much of each unit of tanh(c_t) to show as the hidden state h_t."),
}


def _gate(gate: str) -> Component:
    name, act, text = _GATE_TEXT[gate]
    return Component(
        id=gate,
        name=name,
        symbol=f"{gate}_t",
        formula=f"{gate}_t = {act}(W_{gate}·x_t + U_{gate}·h_{{t-1}} + b_{gate})",
        kind="gate",
        quantity=gate,
        description=f"A layer of n units with its own weights: {text}",
    )


COMPONENTS: dict[str, Component] = {
    c.id: c
    for c in (
        _gate("f"),
        _gate("i"),
        _gate("g"),
        _gate("o"),
        Component(
            "x",
            "input xₜ",
            "x_t",
            "x_t = row t of the input sequence",
            "input",
            "x",
            "The input at this step: m numbers, one row of the sequence.",
        ),
        Component(
            "h_prev",
            "previous hidden state hₜ₋₁",
            "h_{t-1}",
            "h_{t-1} = h_t of the step before",
            "state",
            "h",
            "What the cell output at the step before (h0 at the first step); it enters every gate.",
        ),
        Component(
            "c_prev",
            "previous cell state cₜ₋₁",
            "c_{t-1}",
            "c_{t-1} = c_t of the step before",
            "state",
            "c",
            "The memory carried along the top line from the step before (c0 at the first step).",
        ),
        Component(
            "concat",
            "concatenation [hₜ₋₁, xₜ]",
            "[h_{t-1}, x_t]",
            "[h_{t-1}, x_t]: n + m numbers",
            "concat",
            None,
            "h_{t-1} and x_t side by side. Every gate reads this same vector, each with its own "
            "weights: W·[h_{t-1}, x_t] is the same number as U·h_{t-1} + W·x_t.",
        ),
        Component(
            "mul_f",
            "forget multiply",
            "f_t ⊙ c_{t-1}",
            "f_t ⊙ c_{t-1}",
            "op",
            "c",
            "Each unit of the old cell state times its forget gate: what is kept.",
        ),
        Component(
            "mul_i",
            "input multiply",
            "i_t ⊙ g_t",
            "i_t ⊙ g_t",
            "op",
            "c",
            "Each unit of the candidate times its input gate: what is written.",
        ),
        Component(
            "add_c",
            "cell update",
            "c_t",
            "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t",
            "op",
            "c",
            "The new cell state: what was kept plus what was written, unit by unit.",
        ),
        Component(
            "tanh_c",
            "tanh of the cell state",
            "tanh(c_t)",
            "tanh(c_t)",
            "op",
            "c",
            "Squashes the cell state into (-1, 1) before the output gate picks from it.",
        ),
        Component(
            "mul_o",
            "output multiply",
            "o_t ⊙ tanh(c_t)",
            "h_t = o_t ⊙ tanh(c_t)",
            "op",
            "h",
            "The hidden state: each unit of tanh(c_t) times its output gate.",
        ),
        Component(
            "c",
            "cell state cₜ",
            "c_t",
            "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t",
            "state",
            "c",
            "The memory line: it goes on to the next step as c_{t-1}. Same size n as h_t.",
        ),
        Component(
            "h",
            "hidden state hₜ",
            "h_t",
            "h_t = o_t ⊙ tanh(c_t)",
            "state",
            "h",
            "The cell's output at this step; it also goes on to the next step as h_{t-1}. "
            "Same size n as c_t.",
        ),
    )
}

COMPONENT_IDS = tuple(COMPONENTS)


def component(component_id: str) -> Component:
    try:
        return COMPONENTS[component_id]
    except KeyError:
        raise KeyError(
            f"unknown component {component_id!r} (components: {', '.join(COMPONENT_IDS)})"
        ) from None


def quantity_for(component_id: str) -> str | None:
    """The Trace quantity ("x", "i", "f", "g", "o", "c", "h") that shows this component."""
    comp = COMPONENTS.get(component_id)
    return comp.quantity if comp else None


def vector_size(component_id: str, n: int, m: int) -> int:
    """How many numbers the component's output has."""
    if component_id == "x":
        return m
    if component_id == "concat":
        return n + m
    return n


def term_shapes(component_id: str, n: int, m: int, peepholes: bool = False,
                p: int | None = None) -> list[tuple[str, str]]:
    """(term, shape) for every term of the component, e.g. [("W_f", "3x3"), ("b_f", "3"), ...].

    p: the size of h for a projected (LSTMP) cell (h_t = W_hr·r_t); None when h has n entries."""
    comp = component(component_id)
    hp = n if p is None else p  # entries of h_t and h_{t-1}
    if comp.is_gate:
        g = comp.id
        shapes = [(f"W_{g}", f"{n}x{m}"), (f"U_{g}", f"{n}x{hp}"), (f"b_{g}", f"{n}")]
        if peepholes and g != "g":
            shapes.append((f"p_{g}", f"{n}"))
        shapes += [
            ("x_t", f"{m}"),
            ("h_{t-1}", f"{hp}"),
            ("[h_{t-1}, x_t]", f"{hp + m}"),
            (f"[U_{g} | W_{g}] (Colah's W_{g})", f"{n}x{hp + m}"),
            (f"z_{g}, {g}_t", f"{n}"),
        ]
        return shapes
    if comp.id == "x":
        return [("x_t", f"{m}")]
    if comp.id == "concat":
        return [("h_{t-1}", f"{hp}"), ("x_t", f"{m}"), ("[h_{t-1}, x_t]", f"{hp + m}")]
    if p is not None and comp.id in ("mul_o", "h"):
        return [("o_t", f"{n}"), ("tanh(c_t)", f"{n}"), ("r_t = o_t ⊙ tanh(c_t)", f"{n}"),
                ("W_hr", f"{p}x{n}"), ("h_t = W_hr·r_t", f"{p}")]
    if p is not None and comp.id == "h_prev":
        return [("h_{t-1}", f"{p}")]
    if comp.id in ("mul_f",):
        return [("f_t", f"{n}"), ("c_{t-1}", f"{n}"), ("f_t ⊙ c_{t-1}", f"{n}")]
    if comp.id in ("mul_i",):
        return [("i_t", f"{n}"), ("g_t", f"{n}"), ("i_t ⊙ g_t", f"{n}")]
    if comp.id in ("add_c", "c"):
        return [("f_t, c_{t-1}, i_t, g_t", f"{n}"), ("c_t", f"{n}")]
    if comp.id == "tanh_c":
        return [("c_t", f"{n}"), ("tanh(c_t)", f"{n}")]
    if comp.id in ("mul_o", "h"):
        return [("o_t", f"{n}"), ("tanh(c_t)", f"{n}"), ("h_t", f"{n}")]
    if comp.id == "h_prev":
        return [("h_{t-1}", f"{n}")]
    if comp.id == "c_prev":
        return [("c_{t-1}", f"{n}")]
    return []


def shapes_summary(component_id: str, n: int, m: int, peepholes: bool = False,
                   p: int | None = None) -> str:
    """One line for a tooltip: "W_f: 3x3, U_f: 3x3, b_f: 3; [h_{t-1}, x_t]: 6" (p: see term_shapes)."""
    comp = component(component_id)
    hp = n if p is None else p
    if comp.is_gate:
        g = comp.id
        params = f"W_{g}: {n}x{m}, U_{g}: {n}x{hp}, b_{g}: {n}"
        if peepholes and g != "g":
            params += f", p_{g}: {n}"
        return f"{params}; [h_{{t-1}}, x_t]: {hp + m}; {g}_t: {n}"
    return ", ".join(f"{term}: {shape}" for term, shape in term_shapes(component_id, n, m, p=p))


_SUB = re.compile(r"_(\{[^}]*\}|[A-Za-z0-9]+)")


def to_html(text: str) -> str:
    """Plain formula notation to rich text: x_t -> x<sub>t</sub>, h_{t-1} -> h<sub>t−1</sub>."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def sub(match: re.Match) -> str:
        body = match.group(1)
        if body.startswith("{"):
            body = body[1:-1]
        return f"<sub>{body.replace('-', '−')}</sub>"

    return _SUB.sub(sub, text)
