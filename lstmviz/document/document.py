"""The observable model that the window and the CLI share. No Qt.

A Document holds one Snapshot (lstmviz.document.state): the cell state (params, input,
initial state, names, sources), the view state (step, selection, unit, units, options) and
the trace derived from them. Every change goes the same way: the new Snapshot is built,
checked and its trace computed first; then it is installed at once; only then is it
announced — `state_changed(old, new)` first, then the fine signals (params_changed,
input_changed, source_changed, interventions_changed, trace_changed, step_changed, ...)
for what differs. So no listener can ever read params, input and trace that disagree, and a
refused change (LstmvizError) leaves the Document exactly as it was.

With `stream_reruns` on (the window sets it), a change of the cell on a long sequence is
installed at once and its trace computed afterwards, a few milliseconds per
`advance_rerun()` call (lstmviz.document.rerun): meanwhile `state.computed` says how many
leading rows of the trace are runs of the new cell, the rest is the previous run (stale), and
`trace_progress(computed)` announces each step forward; `trace_changed` comes once the whole
trace is the new cell's. Right after such a change is announced, its rows through the step on
screen are computed (within `landing_budget`) and announced as a second transition, so the
first paint after an edit shows the new values there. Off (scripts, the CLI, tests), every
change computes its trace first.

Views subscribe to the signals and change the Document only through its methods.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lstmviz.core.cell import check_sequence, run
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.document.signals import Signal
from lstmviz.document.state import (
    CellState,
    ComputedRun,
    Snapshot,
    Sources,
    ViewOptions,
    ViewState,
    default_units,
    fitting_interventions,
)
from lstmviz.errors import LstmvizError

if TYPE_CHECKING:
    from lstmviz.document.rerun import Rerun

_KEEP = object()  # "leave this part of the state as it is"
# Work (CellState.cost) below this is computed at once even when reruns stream: ~10 ms here.
STREAM_COST_MIN = 4_000 * 4 * 8 * 9
# Right after a streamed change lands, its rows up to the step on screen are computed if that
# takes at most this long: the first paint after an edit then shows the new values there
# (at t = 0: 64 rows, ~1 ms).
LANDING_BUDGET_S = 0.004


class Document:
    state_changed = Signal(object, object)  # (old Snapshot, new Snapshot), before the fine ones
    params_changed = Signal(object)  # LSTMParams
    input_changed = Signal(object)  # ndarray (T, m)
    trace_changed = Signal(object)  # Trace, once it is all a run of the current cell
    trace_progress = Signal(int)  # rows of the trace computed so far for the cell (T: done)
    step_changed = Signal(int)
    selection_changed = Signal(str)  # a diagram component id, e.g. "f", "c", "h"
    unit_changed = Signal(int)  # the unit the inspector works through
    units_changed = Signal(tuple)  # the units drawn as lines in the panels
    option_changed = Signal(str, object)
    source_changed = Signal()  # model/input file names, title, input names
    dirty_changed = Signal(bool)
    interventions_changed = Signal(tuple)  # what-if interventions (lstmviz.core.analysis.whatif)

    def __init__(self, params: LSTMParams | CellState, xs=None, *, title: str = "", input_names=(),
                 view: ViewState | None = None, trace: Trace | None = None):
        if isinstance(params, CellState):
            cell = params.check()
        else:
            cell = CellState(params, xs, input_names=tuple(input_names), sources=Sources(title=title)).check()
        if trace is None:
            trace = run(cell.params, cell.xs, h0=cell.h0, c0=cell.c0)
        _check_trace(cell, trace)
        view = (view or ViewState(units=default_units(cell.n))).fitted(cell.n, trace.T)
        self._state = Snapshot(cell, view, trace, trace, (), False)
        self._batch_depth = 0
        self._pending_old: Snapshot | None = None
        self.stream_reruns = False
        self.stream_cost_min = STREAM_COST_MIN
        self.landing_budget = LANDING_BUDGET_S
        # True while a streamed change is announced whose rows through the step on screen are
        # computed and announced right after (Document._land)
        self.landing = False
        self._rerun: Rerun | None = None
        self._holds: set[object] = set()  # tokens of readers of the trace (hold_trace)
        self._complete_cell = cell  # the last cell whose run is whole: a failed rerun goes back

    @classmethod
    def from_preset(cls, preset) -> Document:
        from lstmviz.document.opening import preset_state

        cell, view = preset_state(preset)
        return cls(cell, view=view)

    # -- read ------------------------------------------------------------------------------
    @property
    def state(self) -> Snapshot:
        return self._state

    @property
    def cell(self) -> CellState:
        return self._state.cell

    @property
    def view(self) -> ViewState:
        return self._state.view

    @property
    def sources(self) -> Sources:
        return self._state.cell.sources

    params = property(lambda self: self._state.cell.params)
    xs = property(lambda self: self._state.cell.xs)
    h0 = property(lambda self: self._state.cell.h0)
    c0 = property(lambda self: self._state.cell.c0)
    input_names = property(lambda self: self._state.cell.input_names)
    trace: Trace = property(lambda self: self._state.trace)
    baseline_trace: Trace = property(lambda self: self._state.baseline_trace)
    interventions = property(lambda self: self._state.interventions)
    dirty = property(lambda self: self._state.dirty)
    step = property(lambda self: self._state.view.step)
    selection = property(lambda self: self._state.view.selection)
    unit = property(lambda self: self._state.view.unit)
    units = property(lambda self: self._state.view.units)
    options: ViewOptions = property(lambda self: self._state.view.options)
    title = property(lambda self: self._state.cell.sources.title)
    model_path = property(lambda self: self._state.cell.sources.model_path)
    model_sha256 = property(lambda self: self._state.cell.sources.model_sha256)
    input_path = property(lambda self: self._state.cell.sources.input_path)
    document_path = property(lambda self: self._state.cell.sources.document_path)
    preset_name = property(lambda self: self._state.cell.sources.preset_name)
    layer_name = property(lambda self: self._state.cell.sources.layer_name)

    @property
    def T(self) -> int:
        return self._state.trace.T

    @property
    def n(self) -> int:
        return self._state.cell.params.n

    @property
    def m(self) -> int:
        return self._state.cell.params.m

    def option(self, key: str) -> Any:
        return self._state.view.options.get(key)

    @property
    def rerunning(self) -> bool:
        """A rerun is in progress: rows [computed_steps, T) of the trace are stale."""
        return self._rerun is not None

    @property
    def rerun_seconds_left(self) -> float | None:
        """Seconds of compute the rerun in progress still needs (its speed so far); None when
        none runs or it has not been timed yet."""
        return None if self._rerun is None else self._rerun.seconds_left

    @property
    def computed_steps(self) -> int:
        return self._state.computed_steps

    def stale(self, step: int | None = None) -> bool:
        """Row `step` (the current step when None) of the trace is not yet the current cell's."""
        return self._state.stale(self.step if step is None else step)

    # -- the one transition ----------------------------------------------------------------
    def replace(self, cell: CellState | None = None, *, view: ViewState | None = None,
                trace: Trace | ComputedRun | None = None, interventions=_KEEP,
                dirty: bool | None = None) -> None:
        """Install a new state at once. `cell` None keeps the cell; `trace`, when given, is
        run(cell) computed elsewhere (a background thread), or a ComputedRun holding it and its
        what-if replay (used when its interventions are the ones installed), else it runs here when the cell
        changed (or, with stream_reruns, is rewritten in steps afterwards). `view` None keeps
        the view (fitted to the new sizes). The what-if `interventions` that no longer fit are
        dropped. A changed cell marks the document unsaved unless `dirty` says otherwise. On
        any error nothing changes."""
        computed_run = trace if isinstance(trace, ComputedRun) else None
        if computed_run is not None:
            trace = computed_run.trace
        if (self._rerun is not None and trace is None and interventions is not _KEEP
                and tuple(interventions)):
            self.finish_rerun()  # what-if reruns from the whole baseline
        old = self._state
        cell = old.cell if cell is None else cell.check(old.cell)
        computed_changed = not cell.same_run(old.cell)
        wanted = old.interventions if interventions is _KEEP else tuple(interventions)
        rerun, computed = (None, None) if computed_changed else (self._rerun, old.computed)
        if trace is not None:
            _check_trace(cell, trace)
            baseline = trace
            rerun, computed = None, None
        elif computed_changed:
            rerun = self._streamed(old, cell, wanted)
            if rerun is not None:
                baseline = old.baseline_trace
                computed = None if rerun.done else rerun.computed
                rerun = None if rerun.done else rerun
            else:
                baseline = run(cell.params, cell.xs, h0=cell.h0, c0=cell.c0)
        else:
            baseline = old.baseline_trace
        # asked for explicitly: refuse those that do not fit; kept ones are dropped quietly
        fitting = fitting_interventions(wanted, baseline.n, baseline.T, refuse=interventions is not _KEEP)
        if not fitting:
            shown = baseline
        elif fitting == old.interventions and baseline is old.baseline_trace:
            shown = old.trace
        elif (computed_run is not None and computed_run.shown is not None
              and computed_run.interventions == fitting):
            shown = computed_run.shown
        else:
            shown = _rerun(cell.params, baseline, fitting)
        view = (old.view if view is None else view).fitted(cell.n, shown.T)
        if dirty is None:
            dirty = old.dirty or computed_changed or trace is not None or fitting != old.interventions
        self._rerun = rerun
        self.landing = rerun is not None and computed_changed and self._lands(rerun, view.step)
        try:
            self._install(Snapshot(cell, view, shown, baseline, fitting, bool(dirty), computed))
        finally:
            landing, self.landing = self.landing, False
        if landing:
            self._land(rerun)

    def _lands(self, rerun: Rerun, step: int) -> bool:
        return (not self._batch_depth and self.landing_budget > 0 and step >= rerun.computed)

    def _land(self, rerun: Rerun) -> None:
        """Right after a streamed change is announced (with `landing` True: a view that shows
        one step may wait for this): compute its rows through the step on screen, for at most
        `landing_budget`, and announce them, a second whole transition, so the first paint
        after an edit already shows the new values there."""
        if rerun is not self._rerun or not self._state.stale(self.step):
            self.trace_progress.emit(self.computed_steps)  # (a listener changed it meanwhile)
            return
        try:
            rerun.advance(self.landing_budget, until=self.step + 1)
        except LstmvizError:  # not computed: the first advance_rerun meets it again, goes back
            self.trace_progress.emit(self.computed_steps)
            return
        self._installed_progress(rerun)

    def streams(self, cell: CellState) -> bool:
        """True when replace(cell) would install `cell` at once and rewrite the trace in
        steps: streaming on, a long run, no what-if, no held trace, and a trace that can be
        rewritten in place for it."""
        old = self._state
        if (not self.stream_reruns or self._holds or old.interventions
                or cell.cost() <= self.stream_cost_min):
            return False
        from lstmviz.document.rerun import plan  # only an edit of a long run gets this far

        return plan(old.cell, cell, old.baseline_trace) is not None

    def _streamed(self, old: Snapshot, cell: CellState, wanted: tuple) -> Rerun | None:
        """The rerun that rewrites the current trace for `cell` in steps, or None when the
        trace is computed at once (see `streams`)."""
        if (not self.stream_reruns or self._holds or wanted or old.interventions
                or cell.cost() <= self.stream_cost_min):
            return None
        from lstmviz.document.rerun import Rerun, plan  # only an edit of a long run gets this far

        how = plan(old.cell, cell, old.baseline_trace)
        if how is None:
            return None
        return Rerun.start(cell, old.baseline_trace, how, old.computed_steps, self._rerun)

    # -- a rerun in steps --------------------------------------------------------------------
    def advance_rerun(self, budget: float = 0.010) -> bool:
        """Compute the rerun in progress for about `budget` seconds; True once the trace is
        whole (or no rerun was in progress). An overflow raises LstmvizError after going
        back to the last cell whose run was whole (its rerun then starts)."""
        rerun = self._rerun
        if rerun is None:
            return True
        # stop early once the step on screen is computed: it is shown a frame sooner
        until = self.step + 1 if self._state.stale(self.step) else None
        try:
            rerun.advance(budget, until)
        except LstmvizError:
            self._rerun = None
            self.replace(self._complete_cell)
            raise
        return self._installed_progress(rerun)

    def _installed_progress(self, rerun: Rerun) -> bool:
        state = self._state
        if rerun.done:
            self._rerun = None
            whole = dataclasses.replace(state.trace)  # a new Trace object: trace_changed
            self._install(dataclasses.replace(state, trace=whole, baseline_trace=whole, computed=None))
        else:
            self._install(dataclasses.replace(state, computed=rerun.computed))
        return rerun.done

    def finish_rerun(self) -> None:
        """Compute the rest of a rerun in progress now (raising as advance_rerun does)."""
        error = None
        while self._rerun is not None:
            try:
                self.advance_rerun(0.25)
            except LstmvizError as failure:
                error = failure
        if error is not None:
            raise error

    def cancel_rerun(self) -> None:
        """Go back to the last cell whose run was whole (its rerun starts from row 0)."""
        if self._rerun is not None:
            self.replace(self._complete_cell)

    def hold_trace(self) -> Callable[[], None]:
        """For a reader of the whole trace that runs while the window does (an export in a
        thread): finishes a rerun in progress, and until the returned function is called
        (from any thread; calling it again does nothing) later changes compute a new trace
        instead of rewriting this one in place."""
        self.finish_rerun()
        token = object()
        self._holds.add(token)
        return lambda: self._holds.discard(token)

    @contextmanager
    def batch(self) -> Iterator[Document]:
        """Several changes announced as one: listeners hear of the end state only."""
        if self._batch_depth == 0:
            self._pending_old = self._state
        self._batch_depth += 1
        try:
            yield self
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                old, self._pending_old = self._pending_old, None
                if old is not self._state:
                    self._announce(old, self._state)

    def _install(self, new: Snapshot) -> None:
        old = self._state
        if _cheap_equal(old, new):
            return
        self._state = new
        if new.computed is None:
            self._complete_cell = new.cell
        if self._batch_depth == 0:
            self._announce(old, new)

    def _announce(self, old: Snapshot, new: Snapshot) -> None:
        self.state_changed.emit(old, new)
        oc, nc = old.cell, new.cell
        if nc.params is not oc.params:
            self.params_changed.emit(nc.params)
        if nc.xs is not oc.xs:
            self.input_changed.emit(nc.xs)
        if nc.sources != oc.sources or nc.input_names != oc.input_names:
            self.source_changed.emit()
        if new.interventions != old.interventions:
            self.interventions_changed.emit(new.interventions)
        if (old.computed is not None or new.computed is not None) and (
                old.computed != new.computed or new.trace is not old.trace):
            self.trace_progress.emit(new.computed_steps)
        if new.trace is not old.trace:
            self.trace_changed.emit(new.trace)
        ov, nv = old.view, new.view
        if nv.step != ov.step:
            self.step_changed.emit(nv.step)
        if nv.selection != ov.selection:
            self.selection_changed.emit(nv.selection)
        if nv.unit != ov.unit:
            self.unit_changed.emit(nv.unit)
        if nv.units != ov.units:
            self.units_changed.emit(nv.units)
        if nv.options != ov.options:
            for key in nv.options.keys():
                if getattr(nv.options, key) != getattr(ov.options, key):
                    self.option_changed.emit(key, getattr(nv.options, key))
        if new.dirty != old.dirty:
            self.dirty_changed.emit(new.dirty)

    # -- write: model and data (each reruns the trace) -------------------------------------
    def set_cell(self, cell: CellState, trace: Trace | None = None) -> None:
        """Replace the model, input, initial state, names and sources at once (undo, open)."""
        self.replace(cell, trace=trace)

    def set_params(self, params: LSTMParams) -> None:
        self.set_model_and_input(params, self.xs if params.input_size == self.params.input_size else None)

    def set_input(self, xs) -> None:
        xs = check_sequence(xs, self.params.input_size)
        self.replace(self.cell.replace(xs=xs))

    def set_model_and_input(self, params: LSTMParams, xs=None) -> None:
        """Replace the model (and the input); on any error the Document stays as it was."""
        if xs is None:
            if params.input_size != self.params.input_size:
                raise LstmvizError(
                    f"the model expects m = {params.input_size} inputs per step but the current "
                    f"sequence has {self.xs.shape[1]} columns; open a matching sequence"
                )
            xs = self.xs
        h0, c0 = kept_initial_state(self.cell, params)
        self.replace(self.cell.replace(params=params, xs=check_sequence(xs, params.input_size), h0=h0, c0=c0))

    def set_state(self, params: LSTMParams, xs, h0=None, c0=None, *, trace: Trace | None = None,
                  input_names=None, sources: dict | None = None) -> None:
        """Replace the model, the input and the initial state at once; `sources` sets those
        fields of Sources exactly (a dict of Sources field names)."""
        cell = self.cell
        names = cell.input_names if input_names is None else tuple(input_names)
        src = cell.sources.replace(**sources) if sources else cell.sources
        self.replace(CellState(params, xs, h0, c0, names, src), trace=trace)

    def set_initial_state(self, h0=None, c0=None) -> None:
        self.replace(self.cell.replace(h0=h0, c0=c0))

    def set_interventions(self, interventions) -> None:
        """What-if: rerun the trace with these interventions (ClampGate, ZeroUnit, BiasOffset of
        lstmviz.core.analysis.whatif, applied in order); () goes back to the plain run.
        `baseline_trace` keeps the run without them. They stay on when the model or input
        changes (those that no longer fit are dropped). On an error nothing changes."""
        interventions = tuple(interventions)
        if interventions == self.interventions:
            return
        self.replace(interventions=interventions, dirty=True)

    def set_sources(self, model_path=None, input_path=None, title: str | None = None,
                    model_sha256: str | None = None, document_path=None) -> None:
        """Name where the state came from (None leaves a field as it is)."""
        changes = {key: (str(value) if key.endswith("path") else value) for key, value in (
            ("model_path", model_path), ("input_path", input_path), ("title", title),
            ("model_sha256", model_sha256), ("document_path", document_path)) if value is not None}
        if changes:
            self.replace(self.cell.replace(sources=self.sources.replace(**changes)), dirty=self.dirty)

    # -- write: view state -----------------------------------------------------------------
    def set_view(self, view: ViewState) -> None:
        self.replace(view=view, dirty=self.dirty)

    def set_step(self, step: int) -> None:
        step = int(min(max(int(step), 0), self.T - 1))
        if step != self.step:
            self.set_view(self.view.replace(step=step))

    def next_step(self, wrap: bool = True) -> int:
        """The step after the current one (the playback timer asks for this)."""
        nxt = self.step + 1
        if nxt >= self.T:
            nxt = 0 if wrap else self.T - 1
        self.set_step(nxt)
        return self.step

    def set_selection(self, component: str) -> None:
        if component != self.selection:
            self.set_view(self.view.replace(selection=str(component)))

    def set_unit(self, unit: int) -> None:
        unit = int(unit)
        if not 0 <= unit < self.n:
            raise LstmvizError(f"unit {unit} is not in 0..{self.n - 1}")
        if unit != self.unit:
            self.set_view(self.view.replace(unit=unit))

    def set_units(self, units) -> None:
        units = tuple(sorted({int(k) for k in units if 0 <= int(k) < self.n}))
        if units != self.units:
            self.set_view(self.view.replace(units=units))

    def set_option(self, key: str, value: Any) -> None:
        if self.options.get(key) != value:
            self.set_view(self.view.replace(options=self.options.with_value(key, value)))

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self.dirty:
            self.replace(dirty=dirty)

    def mark_saved(self) -> None:
        self._set_dirty(False)


def kept_initial_state(cell: CellState, params: LSTMParams):
    """The document's own h0/c0 when they still fit the cell `params` (h0 has h_size entries,
    p for a projected cell; c0 has n), else None."""
    h0 = cell.h0 if cell.h0 is not None and cell.h0.shape == (params.h_size,) else None
    c0 = cell.c0 if cell.c0 is not None and cell.c0.shape == (params.n,) else None
    return h0, c0


def _check_trace(cell: CellState, trace: Trace) -> None:
    if trace.T != cell.xs.shape[0] or trace.n != cell.params.n:
        raise LstmvizError("the precomputed trace does not match the parameters and input")


def _cheap_equal(old: Snapshot, new: Snapshot) -> bool:
    return (old.cell is new.cell and old.view == new.view and old.trace is new.trace
            and old.baseline_trace is new.baseline_trace and old.interventions == new.interventions
            and old.dirty == new.dirty and old.computed == new.computed)


def _rerun(params, trace, interventions):
    # Imported on first use: what-if is rarely on, and start-up should not pay for it.
    from lstmviz.core.analysis.whatif import rerun

    return rerun(params, trace, interventions)


__all__ = ["CellState", "Document", "Snapshot", "Sources", "ViewOptions", "ViewState"]
