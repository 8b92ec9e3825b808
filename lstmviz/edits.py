"""Undoable changes to a Document, as plain objects (no Qt).

Each edit knows the model state it leads to (`after`) and the one it came from (`before`);
`do` and `undo` apply them through Document setters. The window wraps edits in
QUndoCommands (lstmviz/gui/undo.py) and, for long sequences, computes the trace of
`after(doc)` in a background thread first, then applies it with `apply_state(..., trace)`.

Edits are made against the document as it is when they are created and replayed in stack
order, so an edit may store only what it changes (one cell of a 1 000 000-step input is two
numbers, not two copies of the sequence).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from lstmviz.core.cell import check_sequence, cut_to_sequence_length, run
from lstmviz.core.params import GATES, PEEPHOLES, WEIGHT_KEYS, LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.document import CellState, ComputedRun, fitting_interventions, kept_initial_state
from lstmviz.errors import LstmvizError


def current_state(doc) -> CellState:
    return doc.cell


def compute_trace(state: CellState, progress=None) -> Trace:
    """The trace a state leads to (safe to call from a worker thread). progress(fraction)
    returning False stops the run (lstmviz.core.cell.RunCancelled)."""
    return run(state.params, state.xs, h0=state.h0, c0=state.c0, progress=progress)


def compute_landing(state: CellState, interventions=(), progress=None, baseline: Trace | None = None
                    ) -> Trace | ComputedRun:
    """Everything installing `state` with these what-if `interventions` needs, computed here
    (a worker thread) so that Document.replace only installs it: the run (`baseline`, when
    it is the state's run already) and, with interventions, their replay. Without
    interventions the run itself."""
    fitting = fitting_interventions(interventions, state.n, state.T)
    if not fitting:
        return baseline if baseline is not None else compute_trace(state, progress)
    from lstmviz.core.analysis.whatif import rerun

    # The replay is the general loop with hooks, about twice the fast run's time per step.
    share = 0.0 if baseline is not None else 1 / 3

    def scaled(lo: float, width: float):
        return None if progress is None else (lambda fraction: progress(lo + width * fraction))

    if baseline is None:
        baseline = compute_trace(state, scaled(0.0, share))
    shown = rerun(state.params, baseline, fitting, progress=scaled(share, 1.0 - share))
    return ComputedRun(baseline, fitting, shown)


def apply_state(doc, state: CellState, trace: Trace | None = None) -> None:
    doc.set_cell(state, trace)


class Edit(ABC):
    """Base: subclasses give `text` and `after`/`before` (the state from the document now)."""

    text = "Edit"

    @abstractmethod
    def after(self, doc) -> CellState: ...

    @abstractmethod
    def before(self, doc) -> CellState: ...

    def interventions(self, doc, forward: bool) -> tuple:
        """The what-if interventions in force once this edit lands (forward) or is undone:
        most edits keep the Document's."""
        return tuple(doc.interventions)

    def land(self, doc, state: CellState, trace: Trace | None, forward: bool) -> None:
        """Put the state this edit computed (after() when forward, else before()) into the
        Document in one transition; edits that also change the view override this."""
        apply_state(doc, state, trace)

    def do(self, doc, trace: Trace | None = None) -> None:
        self.land(doc, self.after(doc), trace, True)

    def undo(self, doc, trace: Trace | None = None) -> None:
        self.land(doc, self.before(doc), trace, False)


class StateEdit(Edit):
    """From one whole state to another (model opened, input generated, weights randomised)."""

    def __init__(self, before: CellState, after: CellState, text: str, note: str | None = None):
        self._before, self._after, self.text = before, after, text
        self.note = note  # a line for the status bar (the input was cut to an ONNX sequence_lens)

    def after(self, doc) -> CellState:
        return self._after

    def before(self, doc) -> CellState:
        return self._before


def set_input(doc, xs, names=None, text: str = "Change the input", input_path=None) -> StateEdit:
    """Replace the input sequence (generated, loaded, pasted). Checked against the model now."""
    before = current_state(doc)
    xs, cut = _cut(doc.params, check_sequence(xs, doc.params.input_size), before)
    names = tuple(names) if names is not None else ()
    sources = before.sources.replace(input_path=None if input_path is None else str(input_path))
    after = before.replace(xs=xs, input_names=names, sources=sources)
    return StateEdit(before, after, text, note=cut)


def _cut(params: LSTMParams, xs, state: CellState, model_path=None):
    """xs cut to the model's ONNX sequence_lens, and the line saying so (or None)."""
    path = model_path if model_path is not None else state.sources.model_path
    return cut_to_sequence_length(params, xs, Path(str(path)).name if path else "")


def set_params(doc, params: LSTMParams, text: str = "Change the weights") -> StateEdit:
    """New parameters for the same input (their m must match the sequence)."""
    before = current_state(doc)
    if params.input_size != doc.xs.shape[1]:
        raise LstmvizError(
            f"the model expects m = {params.input_size} inputs per step but the current "
            f"sequence has {doc.xs.shape[1]} columns"
        )
    h0, c0 = kept_initial_state(before, params)
    xs, cut = _cut(params, before.xs, before)
    after = before.replace(params=params, h0=h0, c0=c0, **({"xs": xs} if cut else {}))
    return StateEdit(before, after, text, note=cut)


def set_model(doc, params: LSTMParams, xs=None, text: str = "Open a model", model_path=None,
              model_sha256=None, names=None, input_path=None) -> StateEdit:
    """A model from a file (and, when its m differs, a new input for it)."""
    before = current_state(doc)
    sources = before.sources
    if xs is not None:
        sources = sources.replace(input_path=None if input_path is None else str(input_path))
    if xs is None:
        if params.input_size != doc.xs.shape[1]:
            raise LstmvizError(
                f"the model expects m = {params.input_size} inputs per step but the current "
                f"sequence has {doc.xs.shape[1]} columns",
                source=None if model_path is None else str(model_path),
            )
        xs, names = doc.xs, before.input_names if names is None else names
    xs, cut = _cut(params, check_sequence(xs, params.input_size), before, model_path)
    h0, c0 = kept_initial_state(before, params)
    if model_path is not None:
        sources = sources.replace(model_path=str(model_path), model_sha256=model_sha256)
    after = CellState(params, xs, h0, c0, tuple(names or ()), sources)
    return StateEdit(before, after, text, note=cut)


def set_initial_state(doc, h0=None, c0=None, text: str = "Change the initial state") -> StateEdit:
    before = current_state(doc)
    return StateEdit(before, before.replace(h0=h0, c0=c0), text)


def parse_number(text, field_name: str) -> float:
    """A finite float from what the user typed, or an error naming the field."""
    if isinstance(text, (int, float, np.floating, np.integer)) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip()
        if not raw:
            raise LstmvizError(f"{field_name}: empty; type a number")
        try:
            value = float(raw.replace("\u2212", "-"))
        except ValueError:
            raise LstmvizError(f"{field_name}: {raw!r} is not a number") from None
    if not np.isfinite(value):
        raise LstmvizError(f"{field_name}: {value} is not a finite number")
    return value


class SetInputValue(Edit):
    """One value of the input sequence: x_t[j] = value."""

    def __init__(self, doc, row: int, col: int, value):
        T, m = doc.xs.shape
        if not (0 <= row < T and 0 <= col < m):
            raise LstmvizError(f"input cell ({row}, {col}) is outside the {T} x {m} sequence")
        name = input_column_name(doc, col)
        self.row, self.col = int(row), int(col)
        self.new = parse_number(value, f"input t = {row}, {name}")
        self.old = float(doc.xs[row, col])
        self.text = f"Set input t = {row}, {name} = {self.new:g}"

    def _with(self, doc, value: float) -> CellState:
        state = current_state(doc)
        xs = state.xs.copy()
        xs[self.row, self.col] = value
        return state.replace(xs=xs)

    def after(self, doc) -> CellState:
        return self._with(doc, self.new)

    def before(self, doc) -> CellState:
        return self._with(doc, self.old)


def input_column_name(doc, col: int) -> str:
    names = doc.input_names
    name = names[col] if col < len(names) and names[col] else ""
    return f"x_{col}" + (f" ({name})" if name and name != f"x_{col}" else "")


WEIGHT_LABELS = {"W": "W", "U": "U", "b": "b", "p": "p"}


def weight_key(kind: str, gate: str) -> str:
    """'W', 'f' -> 'W_f'; peepholes are 'p' with gate i, f or o."""
    key = f"{kind}_{gate}"
    if key not in WEIGHT_KEYS and key not in PEEPHOLES:
        raise LstmvizError(f"no weight {key} (W, U, b per gate {', '.join(GATES)}; p for i, f, o)")
    return key


class SetWeight(Edit):
    """One entry of W, U, b or a peephole of one gate."""

    def __init__(self, doc, key: str, index, value):
        array = getattr(doc.params, key, None)
        if array is None:
            raise LstmvizError(f"the model has no {key}")
        index = tuple(int(i) for i in np.atleast_1d(index))
        if len(index) != array.ndim or any(not 0 <= i < s for i, s in zip(index, array.shape)):
            raise LstmvizError(f"{key}{list(index)} is outside its shape {array.shape}")
        where = f"{key}[{', '.join(map(str, index))}]"
        self.key, self.index = key, index
        self.new = parse_number(value, where)
        self.old = float(array[index])
        self.text = f"Set {where} = {self.new:g}"

    def _with(self, doc, value: float) -> CellState:
        state = current_state(doc)
        array = getattr(state.params, self.key).copy()
        array[self.index] = value
        return state.replace(params=state.params.replace(**{self.key: array}))

    def after(self, doc) -> CellState:
        return self._with(doc, self.new)

    def before(self, doc) -> CellState:
        return self._with(doc, self.old)


def randomized(params: LSTMParams, seed: int, forget_bias_one: bool = False) -> LSTMParams:
    """PyTorch's initialisation (uniform +-1/sqrt(n)) for W, U, b; peepholes likewise when the
    cell has them; activations, initial state and upstream layers kept."""
    fresh = LSTMParams.random(params.n, params.m, seed=int(seed),
                              forget_bias=1.0 if forget_bias_one else None)
    changes = {key: getattr(fresh, key) for key in WEIGHT_KEYS}
    if params.has_peepholes:
        rng = np.random.default_rng([int(seed), 1])
        bound = 1.0 / np.sqrt(params.n)
        for key in PEEPHOLES:
            if getattr(params, key) is not None:
                changes[key] = rng.uniform(-bound, bound, params.n)
    note = " (forget-gate bias 1)" if forget_bias_one else ""
    return params.replace(**changes, name=f"random n={params.n} m={params.m} seed={seed}{note}")


def randomize_weights(doc, seed: int, forget_bias_one: bool = False) -> StateEdit:
    note = ", forget-gate bias 1" if forget_bias_one else ""
    return set_params(doc, randomized(doc.params, seed, forget_bias_one),
                      text=f"Randomise the weights (seed {seed}{note})")


def set_peepholes(doc, enabled: bool) -> StateEdit:
    """Add zero peephole weights p_i, p_f, p_o (the trace does not change until edited), or
    remove them."""
    params = doc.params
    if enabled:
        changes = {key: getattr(params, key) if getattr(params, key) is not None
                   else np.zeros(params.n) for key in PEEPHOLES}
        text = "Add peephole connections"
    else:
        changes = dict.fromkeys(PEEPHOLES)
        text = "Remove peephole connections"
    return set_params(doc, params.replace(**changes), text=text)
