"""The Document's state as frozen records (no Qt, no files).

    Sources      where the model and input came from and what the window calls them
    CellState    what a trace is computed from: params, input, initial state, names, Sources
    ViewOptions  the typed view options (one definition: the panels and the inspector read it)
    ViewState    step, selection, unit, units, options
    Snapshot     all of it plus the derived trace: what `Document.state_changed` hands over
    ComputedRun  a run and its what-if replay computed elsewhere, for Document.replace

Every change to a Document is a new Snapshot built and checked completely before it is
installed (lstmviz.document.document), so the records are never half-changed. Undoable edits
(lstmviz.edits) store CellStates; a .lstmviz file (lstmviz.io.document_file.DocumentState) is
converted to and from these records at the boundary, in `to_file_state` / `from_file_state`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.view_options import OPTION_RULES, check_option


@dataclass(frozen=True)
class Sources:
    """Where the state came from; None when there is no such file."""

    model_path: str | None = None
    model_sha256: str | None = None  # of the model file when it was opened
    input_path: str | None = None
    document_path: str | None = None  # the .lstmviz file it was opened from / saved to
    title: str = ""
    preset_name: str | None = None
    layer_name: str | None = None  # which LSTM layer of the model file

    def replace(self, **changes) -> Sources:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class CellState:
    """What a trace is computed from, plus where it came from."""

    params: LSTMParams
    xs: np.ndarray
    h0: np.ndarray | None = None  # None: the params' own initial state (or zeros)
    c0: np.ndarray | None = None
    input_names: tuple[str, ...] = ()
    sources: Sources = field(default_factory=Sources)

    @property
    def T(self) -> int:
        return int(self.xs.shape[0])

    @property
    def n(self) -> int:
        return self.params.n

    @property
    def m(self) -> int:
        return self.params.input_size

    def replace(self, **changes) -> CellState:
        return dataclasses.replace(self, **changes)

    def same_run(self, other: CellState) -> bool:
        """Both compute the same trace: the same arrays (identity, as the Document tells)."""
        return (self.params is other.params and self.xs is other.xs and self.h0 is other.h0
                and self.c0 is other.c0)

    def cost(self) -> int:
        """A rough measure of the work of a trace (steps x per-step size)."""
        n = self.params.n
        layers = 1 + sum(len(d) for d in self.params.upstream)
        return self.T * layers * (4 * n * (n + self.params.m) + 40)

    def check(self, checked: CellState | None = None) -> CellState:
        """The same state with its arrays checked (float64, finite, the right shapes); raises
        LstmvizError naming what is wrong. `checked`: a state checked before, whose input
        array, when it is this one's too and the input size is the same, is not scanned again
        (a weight edit on 10^5 steps would spend 7 ms on it)."""
        from lstmviz.core.cell import check_sequence

        if (checked is not None and self.xs is checked.xs
                and self.params.input_size == checked.params.input_size):
            xs = self.xs
        else:
            xs = check_sequence(self.xs, self.params.input_size)
        h0 = None if self.h0 is None else np.asarray(self.h0, dtype=np.float64)
        c0 = None if self.c0 is None else np.asarray(self.c0, dtype=np.float64)
        p = self.params.h_size  # h0 has p entries for a projected (LSTMP) cell, c0 has n
        for name, vector, size in (("h0", h0, p), ("c0", c0, self.params.n)):
            if vector is not None and vector.shape != (size,):
                what = f"n = {self.params.n} units" if size == self.params.n else f"h of size p = {size}"
                raise LstmvizError(f"the initial state {name} has shape {vector.shape}, the cell has "
                                   f"{what}")
        names = tuple(str(s) for s in self.input_names)[: xs.shape[1]]
        if xs is self.xs and h0 is self.h0 and c0 is self.c0 and names == self.input_names:
            return self
        return dataclasses.replace(self, xs=xs, h0=h0, c0=c0, input_names=names)


@dataclass(frozen=True)
class ViewOptions:
    """How the views draw the state (saved in documents)."""

    concat_h_first: bool = True  # inspector: W . [h_{t-1}, x_t] (True) or W . [x_t, h_{t-1}]
    show_concat: bool = False  # inspector: also lay a gate out in the concatenated form W . [..]
    playback_fps: float = 10.0
    trace_animation: str = "cursor"  # during playback: the whole trace with a moving cursor | "grow"
    trace_follow: bool = False  # scroll the time axis with the cursor ...
    trace_window: int = 200  # ... showing this many steps
    trace_display: str = "auto"  # a few units as lines, many as heatmaps | "lines" | "heatmap"
    trace_show_x: bool = False  # also plot the input x_t
    trace_show_z: bool = False  # also plot the pre-activations z_i, z_f, z_g, z_o

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def get(self, key: str) -> Any:
        if key not in self.keys():
            raise LstmvizError(f"no view option {key!r} (options: {', '.join(self.keys())})")
        return getattr(self, key)

    def with_value(self, key: str, value: Any) -> ViewOptions:
        """A copy with one option changed, the value checked against the option's rule (the
        one a document file is read with: OPTION_RULES); a number beyond its range is taken
        to the nearest bound, as the window's controls do."""
        default = self.get(key)
        kind, *allowed = OPTION_RULES[key]
        if kind in (int, float):
            if isinstance(value, (bool, np.bool_)) or not isinstance(
                    value, (int, float, np.integer, np.floating)) or not np.isfinite(value):
                raise LstmvizError(f"view option {key}: {value!r} is not a number")
            low, high = allowed
            value = type(default)(min(max(value, low), high))
            if kind is int:
                value = int(round(value))
        problem = check_option(key, bool(value) if isinstance(value, np.bool_) else value,
                               f"view option {key}")
        if problem:
            raise LstmvizError(problem)
        return dataclasses.replace(self, **{key: bool(value) if kind is bool else value})

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in self.keys()}

    @classmethod
    def from_dict(cls, values: dict) -> ViewOptions:
        """Options as a document stored them; unknown keys and unusable values are skipped
        (a document from another version still opens)."""
        options = cls()
        for key, value in (values or {}).items():
            if key in cls.keys():
                try:
                    options = options.with_value(key, value)
                except LstmvizError:
                    pass
        return options


DEFAULT_OPTIONS = ViewOptions()


def default_units(n: int) -> tuple[int, ...]:
    return tuple(range(min(n, 8)))


@dataclass(frozen=True)
class ViewState:
    """What the views are showing of the state."""

    step: int = 0
    selection: str = "f"  # a diagram component id, e.g. "f", "c", "h"
    unit: int = 0  # the unit the inspector works through
    units: tuple[int, ...] = ()  # the units drawn as lines in the panels; () = the first few
    options: ViewOptions = field(default_factory=ViewOptions)

    def replace(self, **changes) -> ViewState:
        return dataclasses.replace(self, **changes)

    def fitted(self, n: int, T: int) -> ViewState:
        """The same view kept inside a cell of n units and a trace of T steps."""
        step = min(max(int(self.step), 0), max(T - 1, 0))
        unit = min(max(int(self.unit), 0), n - 1)
        units = tuple(sorted({int(k) for k in self.units if 0 <= int(k) < n}))
        if not units and self.units:  # none of them is left: the first few
            units = default_units(n)
        if (step, unit, units) == (self.step, self.unit, self.units):
            return self
        return dataclasses.replace(self, step=step, unit=unit, units=units)


def fitting_interventions(interventions, n: int, T: int, refuse: bool = False) -> tuple:
    """The what-if interventions that fit a cell of n units over T steps; the others are
    dropped, or, with `refuse`, raise their LstmvizError (they were asked for explicitly)."""
    fitting = []
    for iv in interventions:
        try:
            iv.validate(n, T)
        except LstmvizError:
            if refuse:
                raise
            continue
        fitting.append(iv)
    return tuple(fitting)


@dataclass(frozen=True, eq=False)
class ComputedRun:
    """A cell's run and its what-if replay, computed off the GUI thread (lstmviz.edits.
    compute_landing) so that installing them is only installing: `shown` is
    whatif.rerun(cell.params, trace, interventions), None when there are no interventions."""

    trace: Trace
    interventions: tuple = ()
    shown: Trace | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything a Document holds at one moment. Invariant (checked when built by the
    Document): trace and baseline_trace are runs of cell (rows [0, computed) of them while a
    rerun is in progress); view is inside them."""

    cell: CellState
    view: ViewState
    trace: Trace
    baseline_trace: Trace  # the run without the what-if interventions
    interventions: tuple = ()
    dirty: bool = False
    # Rows [0, computed) of trace are runs of cell; the rest still hold the previous cell's run
    # while a rerun is being computed in steps (lstmviz.document.rerun). None: all of it.
    computed: int | None = None

    @property
    def complete(self) -> bool:
        return self.computed is None

    @property
    def computed_steps(self) -> int:
        return self.trace.T if self.computed is None else self.computed

    def stale(self, step: int) -> bool:
        """True when row `step` of the trace is not yet a run of this cell."""
        return self.computed is not None and step >= self.computed

    @property
    def consistent(self) -> bool:
        c, t = self.cell, self.trace
        return (c.params.n == t.n and c.xs.shape[0] == t.T and c.xs.shape[1] == c.params.input_size
                and self.baseline_trace.T == t.T and 0 <= self.view.step < t.T
                and 0 <= self.view.unit < c.params.n)


# -- a .lstmviz file's record <-> these records (lstmviz.io.document_file knows nothing of them)
def to_file_state(snapshot: Snapshot, meta: dict | None = None):
    from lstmviz.io.document_file import DocumentState

    cell, view, src = snapshot.cell, snapshot.view, snapshot.cell.sources
    return DocumentState(
        params=cell.params, xs=cell.xs, h0=cell.h0, c0=cell.c0, input_names=cell.input_names,
        title=src.title, model_path=src.model_path, model_sha256=src.model_sha256,
        input_path=src.input_path, preset=src.preset_name, step=view.step,
        selection=view.selection, unit=view.unit, units=view.units,
        options=view.options.as_dict(), interventions=snapshot.interventions, meta=dict(meta or {}),
    )


def from_file_state(state, document_path: str | None = None) -> tuple[CellState, ViewState, tuple]:
    """(cell, view, interventions) of a DocumentState read from a file."""
    sources = Sources(model_path=state.model_path, model_sha256=state.model_sha256,
                      input_path=state.input_path, document_path=document_path,
                      title=state.title or "", preset_name=state.preset)
    cell = CellState(state.params, state.xs, state.h0, state.c0, tuple(state.input_names), sources)
    view = ViewState(step=int(state.step), selection=state.selection or "f", unit=int(state.unit),
                     units=tuple(state.units), options=ViewOptions.from_dict(state.options))
    return cell, view, tuple(state.interventions)
