"""The Qt-free application layer: the Document and its typed state, and every way in.

    document.py   Document: one Snapshot (cell state + view state + derived trace), changed
                  by one transition and announced after it
    state.py      the frozen records: Sources, CellState, ViewOptions, ViewState, Snapshot
    opening.py    file kinds, building a new state from a model / sequence / document /
                  preset, and the size-mismatch question as data

Edits (lstmviz.edits), presets (lstmviz.presets) and autosave (lstmviz.autosave) belong to the
same layer and stay top-level modules.
"""

from lstmviz.document.document import Document, kept_initial_state
from lstmviz.document.state import (
    DEFAULT_OPTIONS,
    CellState,
    ComputedRun,
    Snapshot,
    Sources,
    ViewOptions,
    ViewState,
    fitting_interventions,
)

__all__ = ["DEFAULT_OPTIONS", "CellState", "ComputedRun", "Document", "Snapshot", "Sources", "ViewOptions",
           "ViewState", "fitting_interventions", "kept_initial_state"]
