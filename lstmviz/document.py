"""The observable model that the window and the CLI share. No Qt.

Views subscribe to the signals and change the Document only through its setters; the
Document reruns the trace when the parameters, the input or the initial state change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from psygnal import Signal

from lstmviz.core.cell import check_sequence, run
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

DEFAULT_OPTIONS: dict[str, Any] = {
    "concat_h_first": True,  # inspector: W . [h_{t-1}, x_t] (True) or W . [x_t, h_{t-1}]
    "show_concat": False,  # inspector: also lay a gate out in the concatenated form W . [..]
    "playback_fps": 10.0,
    # trace panels (lstmviz.gui.panels)
    "trace_animation": "cursor",  # during playback: "cursor" (whole trace, moving cursor) | "grow"
    "trace_follow": False,  # scroll the time axis with the cursor ...
    "trace_window": 200,  # ... showing this many steps
    "trace_display": "auto",  # "auto" (a few units as lines, many as heatmaps) | "lines" | "heatmap"
    "trace_show_x": False,  # also plot the input x_t
    "trace_show_z": False,  # also plot the pre-activations z_i, z_f, z_g, z_o
}


class Document:
    params_changed = Signal(object)  # LSTMParams
    input_changed = Signal(object)  # ndarray (T, m)
    trace_changed = Signal(object)  # Trace
    step_changed = Signal(int)
    selection_changed = Signal(str)  # a diagram component id, e.g. "f", "c", "h"
    unit_changed = Signal(int)  # the unit the inspector works through
    units_changed = Signal(tuple)  # the units drawn as lines in the panels
    option_changed = Signal(str, object)
    source_changed = Signal()  # model/input file names, title
    dirty_changed = Signal(bool)
    interventions_changed = Signal(tuple)  # what-if interventions (lstmviz.core.analysis.whatif)

    def __init__(self, params: LSTMParams, xs, *, title: str = "", input_names=()):
        self._params = params
        self._xs = check_sequence(xs, params.input_size)
        self._h0: np.ndarray | None = None
        self._c0: np.ndarray | None = None
        self._trace = run(params, self._xs)
        self._baseline_trace = self._trace  # the run without the what-if interventions
        self._interventions: tuple = ()
        self._step = 0
        self._selection = "f"
        self._unit = 0
        self._units: tuple[int, ...] = tuple(range(min(params.n, 8)))
        self._options = dict(DEFAULT_OPTIONS)
        self.title = title
        self.input_names = tuple(input_names)
        self.model_path: str | None = None
        self.input_path: str | None = None
        self.model_sha256: str | None = None  # of the model file when it was opened
        self.document_path: str | None = None  # the .lstmviz file this was opened from / saved to
        self._dirty = False

    @classmethod
    def from_preset(cls, preset) -> Document:
        doc = cls(preset.params, preset.xs, title=preset.title, input_names=preset.input_names)
        doc._selection = preset.select
        doc._step = min(preset.step, doc.T - 1)
        doc._unit = min(getattr(preset, "unit", 0), doc.n - 1)
        doc.preset_name = preset.name
        return doc

    # -- read ------------------------------------------------------------------------------
    params = property(lambda self: self._params)
    xs = property(lambda self: self._xs)
    trace: Trace = property(lambda self: self._trace)
    step = property(lambda self: self._step)
    selection = property(lambda self: self._selection)
    unit = property(lambda self: self._unit)
    units = property(lambda self: self._units)
    options = property(lambda self: dict(self._options))
    h0 = property(lambda self: self._h0)
    c0 = property(lambda self: self._c0)
    dirty = property(lambda self: self._dirty)
    interventions = property(lambda self: self._interventions)
    baseline_trace: Trace = property(lambda self: self._baseline_trace)

    @property
    def T(self) -> int:
        return self._trace.T

    @property
    def n(self) -> int:
        return self._params.n

    @property
    def m(self) -> int:
        return self._params.m

    def option(self, key: str) -> Any:
        return self._options.get(key, DEFAULT_OPTIONS.get(key))

    # -- write: model and data (each reruns the trace) -------------------------------------
    def set_params(self, params: LSTMParams) -> None:
        self.set_model_and_input(params, self._xs if params.input_size == self._params.input_size else None)

    def set_input(self, xs) -> None:
        xs = check_sequence(xs, self._params.input_size)
        trace = run(self._params, xs, h0=self._h0, c0=self._c0)
        self._xs = xs
        self.input_changed.emit(xs)
        self._apply_trace(trace)

    def set_model_and_input(self, params: LSTMParams, xs=None) -> None:
        """Replace the model (and the input); on any error the Document stays as it was."""
        if xs is None:
            if params.input_size != self._params.input_size:
                raise LstmvizError(
                    f"the model expects m = {params.input_size} inputs per step but the current "
                    f"sequence has {self._xs.shape[1]} columns; open a matching sequence"
                )
            xs = self._xs
        xs = check_sequence(xs, params.input_size)
        h0 = self._h0 if self._h0 is not None and self._h0.shape == (params.n,) else None
        c0 = self._c0 if self._c0 is not None and self._c0.shape == (params.n,) else None
        trace = run(params, xs, h0=h0, c0=c0)
        input_changed = xs is not self._xs
        self._params, self._xs, self._h0, self._c0 = params, xs, h0, c0
        self._unit = min(self._unit, params.n - 1)
        self._units = tuple(k for k in self._units if k < params.n) or tuple(range(min(params.n, 8)))
        self.params_changed.emit(params)
        if input_changed:
            self.input_changed.emit(xs)
        self._apply_trace(trace)

    def set_state(self, params: LSTMParams, xs, h0=None, c0=None, *, trace: Trace | None = None,
                  input_names=None, sources: dict | None = None) -> None:
        """Replace the model, the input and the initial state at once (undo, documents).

        h0/c0 None: from the params (or zeros). `trace`, when given, is run(params, xs, h0, c0)
        computed elsewhere (a background thread); otherwise it runs here. `sources` sets
        model_path / model_sha256 / input_path exactly (None clears). On any error nothing
        changes.
        """
        xs = check_sequence(xs, params.input_size)
        h0 = None if h0 is None else np.asarray(h0, dtype=np.float64)
        c0 = None if c0 is None else np.asarray(c0, dtype=np.float64)
        if trace is None:
            trace = run(params, xs, h0=h0, c0=c0)
        elif trace.T != xs.shape[0] or trace.n != params.n:
            raise LstmvizError("the precomputed trace does not match the parameters and input")
        params_changed, input_changed = params is not self._params, xs is not self._xs
        self._params, self._xs, self._h0, self._c0 = params, xs, h0, c0
        if input_names is not None:
            self.input_names = tuple(input_names)
        self._unit = min(self._unit, params.n - 1)
        self._units = tuple(k for k in self._units if k < params.n) or tuple(range(min(params.n, 8)))
        sources_changed = False
        for key, value in (sources or {}).items():
            if key in ("model_path", "model_sha256", "input_path") and getattr(self, key) != value:
                setattr(self, key, value)
                sources_changed = True
        if params_changed:
            self.params_changed.emit(params)
        if input_changed:
            self.input_changed.emit(xs)
        if sources_changed:
            self.source_changed.emit()
        self._apply_trace(trace)

    def set_initial_state(self, h0=None, c0=None) -> None:
        trace = run(self._params, self._xs, h0=h0, c0=c0)
        self._h0 = None if h0 is None else np.asarray(h0, dtype=np.float64)
        self._c0 = None if c0 is None else np.asarray(c0, dtype=np.float64)
        self._apply_trace(trace)

    def _apply_trace(self, trace: Trace) -> None:
        self._baseline_trace = trace
        dropped = False
        if self._interventions:  # what-if stays on: rerun the new run with the interventions that fit
            keep = []
            for iv in self._interventions:
                try:
                    iv.validate(trace.n, trace.T)
                    keep.append(iv)
                except LstmvizError:
                    dropped = True
            self._interventions = tuple(keep)
            if keep:
                trace = _rerun(self._params, trace, self._interventions)
        self._trace = trace
        if dropped:
            self.interventions_changed.emit(self._interventions)
        self._set_dirty(True)
        # Clamp the step before anyone hears of the shorter trace, so no listener ever reads a
        # step past its end; step_changed follows once the trace is announced.
        clamped = self._step >= trace.T
        if clamped:
            self._step = trace.T - 1
        self.trace_changed.emit(trace)
        if clamped:
            self.step_changed.emit(self._step)

    def set_interventions(self, interventions) -> None:
        """What-if: rerun the trace with these interventions (ClampGate, ZeroUnit, BiasOffset of
        lstmviz.core.analysis.whatif, applied in order); () goes back to the plain run.
        `baseline_trace` keeps the run without them. They stay on when the model or input
        changes (those that no longer fit are dropped). On an error nothing changes."""
        interventions = tuple(interventions)
        if interventions == self._interventions:
            return
        base = self._baseline_trace
        trace = _rerun(self._params, base, interventions) if interventions else base
        self._interventions = interventions
        self._trace = trace
        self._set_dirty(True)
        self.interventions_changed.emit(interventions)
        self.trace_changed.emit(trace)

    # -- write: view state -----------------------------------------------------------------
    def set_step(self, step: int) -> None:
        step = int(min(max(int(step), 0), self.T - 1))
        if step != self._step:
            self._step = step
            self.step_changed.emit(step)

    def next_step(self, wrap: bool = True) -> int:
        """The step after the current one (the playback timer asks for this)."""
        nxt = self._step + 1
        if nxt >= self.T:
            nxt = 0 if wrap else self.T - 1
        self.set_step(nxt)
        return self._step

    def set_selection(self, component: str) -> None:
        if component != self._selection:
            self._selection = component
            self.selection_changed.emit(component)

    def set_unit(self, unit: int) -> None:
        unit = int(unit)
        if not 0 <= unit < self.n:
            raise LstmvizError(f"unit {unit} is not in 0..{self.n - 1}")
        if unit != self._unit:
            self._unit = unit
            self.unit_changed.emit(unit)

    def set_units(self, units) -> None:
        units = tuple(sorted({int(k) for k in units if 0 <= int(k) < self.n}))
        if units != self._units:
            self._units = units
            self.units_changed.emit(units)

    def set_option(self, key: str, value: Any) -> None:
        if self._options.get(key) != value:
            self._options[key] = value
            self.option_changed.emit(key, value)

    def set_sources(self, model_path=None, input_path=None, title: str | None = None,
                    model_sha256: str | None = None, document_path=None) -> None:
        if model_path is not None:
            self.model_path = str(model_path)
        if input_path is not None:
            self.input_path = str(input_path)
        if model_sha256 is not None:
            self.model_sha256 = model_sha256
        if document_path is not None:
            self.document_path = str(document_path)
        if title is not None:
            self.title = title
        self.source_changed.emit()

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    def mark_saved(self) -> None:
        self._set_dirty(False)


def _rerun(params, trace, interventions):
    # Imported on first use: what-if is rarely on, and start-up should not pay for it.
    from lstmviz.core.analysis.whatif import rerun

    return rerun(params, trace, interventions)
