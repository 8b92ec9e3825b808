"""Undoable what-if interventions, as plain edit objects in the style of lstmviz/edits.py.

An edit holds the Document's interventions before and after (`interventions(doc, forward)`);
the model state does not change, so `after` / `before` are the Document's current state. The
window's UndoController treats it like any other edit: it computes the replay in the
background (lstmviz.edits.compute_landing) and `land` installs it; `do` / `undo` without a
computed trace rerun on the spot. No Qt here.
"""

from __future__ import annotations

from lstmviz.core.analysis.whatif import BiasOffset, ClampGate, ZeroUnit
from lstmviz.document import CellState
from lstmviz.edits import Edit, current_state
from lstmviz.errors import LstmvizError

INTERVENTION_TYPES = (ClampGate, ZeroUnit, BiasOffset)


class SetInterventions(Edit):
    """Replace the Document's what-if interventions (add one, remove one, clear them)."""

    def __init__(self, doc, interventions, text: str = "Change the what-if interventions"):
        new = tuple(interventions)
        for iv in new:  # refuse now, before anything is pushed
            if not isinstance(iv, INTERVENTION_TYPES):
                raise LstmvizError(f"{iv!r} is not an intervention")
            iv.validate(doc.n, doc.T)
        self.old = tuple(doc.interventions)
        self.new = new
        self.text = text

    def after(self, doc) -> CellState:
        return current_state(doc)  # the model and input stay as they are

    def before(self, doc) -> CellState:
        return current_state(doc)

    def interventions(self, doc, forward: bool) -> tuple:
        return self.new if forward else self.old

    def land(self, doc, state, trace, forward: bool) -> None:
        """`trace`: the run and the replay the window's UndoController computed (None: here)."""
        doc.replace(None if trace is None else state, trace=trace,
                    interventions=self.interventions(doc, forward), dirty=True)

    def do(self, doc, trace=None) -> None:
        self.land(doc, None, trace, True)

    def undo(self, doc, trace=None) -> None:
        self.land(doc, None, trace, False)


def add_intervention(doc, intervention) -> SetInterventions:
    return SetInterventions(doc, (*doc.interventions, intervention), f"What-if: {intervention.describe()}")


def remove_intervention(doc, index: int) -> SetInterventions:
    items = list(doc.interventions)
    if not 0 <= index < len(items):
        raise LstmvizError(f"there is no intervention {index + 1} (there are {len(items)})")
    gone = items.pop(index)
    return SetInterventions(doc, items, f"Remove what-if: {gone.describe()}")


def clear_interventions(doc) -> SetInterventions:
    return SetInterventions(doc, (), "Remove every what-if intervention")


# -- where the interventions act (what the diagram marks and the inspector states) ------------------
def components_of(intervention) -> tuple[str, ...]:
    """The diagram parts an intervention changes: a clamp or a bias offset acts on its gate;
    zeroing a unit sets its c_t and h_t to 0."""
    if isinstance(intervention, ZeroUnit):
        return ("c", "h")
    return (intervention.gate,)


def marks(interventions) -> dict[str, tuple[str, ...]]:
    """{component id: descriptions of the interventions acting on it}, in order."""
    out: dict[str, list[str]] = {}
    for iv in interventions:
        for component in components_of(iv):
            out.setdefault(component, []).append(iv.describe())
    return {key: tuple(value) for key, value in out.items()}


def acting_at(interventions, component: str, unit: int, step: int, T: int) -> tuple:
    """The interventions that change `component` of `unit` at `step` (in a T-step trace)."""
    found = []
    for iv in interventions:
        if component not in components_of(iv):
            continue
        start, stop = iv.step_range(T)
        if not start <= step < stop:
            continue
        if iv.units is not None and unit not in iv.units:
            continue
        found.append(iv)
    return tuple(found)
