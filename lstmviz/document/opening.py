"""Every way into a Document, without Qt: what a file is, the state it leads to, and the
size-mismatch question as data.

The window's controller (lstmviz.gui.controller) and the command line both go through here,
so File > Open, a drop, a recent file, a preset, a .lstmviz document, a recovered autosave,
`lstmviz open FILE` and `lstmviz.Viewer.open` all build the same state the same way. An
`Opening` is the whole new cell state (and, for documents and presets, the view state),
checked, ready to be applied in one transition (Document.replace) and one undo step, or a
`Mismatch` that must be resolved first.

The size mismatch, the same everywhere:
  * a model whose input size m differs from the open sequence's columns: open a sequence
    file, a generated input (a sine wave per column), a zero input, or cancel;
  * a sequence whose column count differs from the model's m: open a model file, a random
    cell of the current size, or cancel (the sequence is what was asked for, so the model
    is the part to replace).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmviz.core.cell import check_sequence, cut_to_sequence_length, sequence_length
from lstmviz.core.params import LSTMParams
from lstmviz.document.document import kept_initial_state
from lstmviz.document.state import CellState, Sources, ViewState, default_units, from_file_state
from lstmviz.errors import LstmvizError

DEFAULT_T = 60  # steps of the input made up for a model opened without one
RANDOM_N = 4  # units of the cell made up for a sequence opened without a model (command line)
DOCUMENT_SUFFIX = ".lstmviz"

# -- what a file is ----------------------------------------------------------------------------


def sequence_suffixes() -> tuple[str, ...]:
    from lstmviz.io.models import SEQUENCE_SUFFIXES

    return tuple(SEQUENCE_SUFFIXES)


def model_suffixes() -> tuple[str, ...]:
    from lstmviz.io.models import MODEL_SUFFIXES

    return tuple(dict.fromkeys(MODEL_SUFFIXES))


def file_kind(path) -> str:
    """"document", "sequence" or "model". Anything that is neither a document nor a sequence
    goes to the model readers, whose detect_format (lstmviz.io.models) tells the format by
    its content or says in one line why it cannot be read."""
    from lstmviz.io.paths import suffix_of

    name = str(path).lower()
    if name.endswith(DOCUMENT_SUFFIX):
        return "document"
    if suffix_of(path) in sequence_suffixes():
        return "sequence"
    return "model"


def open_filter() -> str:
    """The file dialog's filter, from the readers' one table (lstmviz.io.models)."""
    from lstmviz.io.models import model_file_filter

    return model_file_filter()


def layer_choices(path) -> list:
    """The LSTM layers (one per direction) of a model file, as `lstmviz inspect` lists them
    (lstmviz.io.layers.LayerInfo: name, m, n, direction, ...)."""
    from lstmviz.io.models import inspect_model, needs_isolation

    if needs_isolation(path):
        try:
            from lstmviz.io.isolated import inspect_model_isolated
        except ImportError:  # pragma: no cover - the module is part of lstmviz
            pass
        else:
            return list(inspect_model_isolated(path))
    return list(inspect_model(path))


def describe_layer(info) -> str:
    direction = f", {info.direction}" if info.direction else ""
    problem = f" — cannot be shown: {'; '.join(info.unsupported)}" if info.unsupported else ""
    return f"{info.name}: m = {info.m} inputs, n = {info.n} units{direction}{problem}"


# -- the mismatch question ---------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    key: str
    label: str


OPEN_SEQUENCE = Choice("sequence", "Open a sequence file…")
GENERATED_INPUT = Choice("generated", "Use a generated input")
ZERO_INPUT = Choice("zero", "Use a zero input")
OPEN_MODEL = Choice("model", "Open a model file…")
RANDOM_CELL = Choice("random", "Use a random cell")
CANCEL = Choice("cancel", "Cancel")


@dataclass(frozen=True)
class Mismatch:
    """The model's m and the sequence's columns differ: what happened and the ways out."""

    message: str  # names the file and both sizes
    question: str
    choices: tuple[Choice, ...]
    default: Choice = CANCEL  # what a script (confirm=False) gets when it says nothing

    def choice(self, key: str) -> Choice:
        for choice in self.choices:
            if choice.key == key:
                return choice
        raise LstmvizError(f"{key!r} is not an answer to: {self.message} "
                           f"(answers: {', '.join(c.key for c in self.choices)})")


@dataclass(frozen=True)
class Opening:
    """What opening one file (or a preset) leads to."""

    path: str | None
    kind: str  # "model", "sequence", "document", "preset", "recovery"
    text: str  # the undo step's name
    message: str  # for the status bar
    cell: CellState | None = None  # None while `mismatch` is unresolved
    view: ViewState | None = None  # documents and presets set the view too
    interventions: tuple | None = None  # documents set the what-if too (None: keep)
    dirty: bool = True
    mismatch: Mismatch | None = None
    cut: str | None = None  # the input was cut to an ONNX sequence_lens: the line saying so
    # what a mismatch is resolved with
    _params: LSTMParams | None = field(default=None, repr=False)
    _xs: np.ndarray | None = field(default=None, repr=False)
    _names: tuple[str, ...] = field(default=(), repr=False)
    _current: CellState | None = field(default=None, repr=False)
    _sha256: str | None = field(default=None, repr=False)

    @property
    def ready(self) -> bool:
        return self.cell is not None

    def resolve(self, key: str, *, xs=None, names=(), input_path=None, params: LSTMParams | None = None,
                model_path=None, sha256=None) -> Opening | None:
        """The Opening once the mismatch is answered; None for cancel. "sequence" takes the
        sequence read from `input_path` as xs, "model" the model read from `model_path`."""
        if self.mismatch is None:
            return self
        choice = self.mismatch.choice(key)
        current = self._current
        if choice is CANCEL:
            return None
        if self.kind == "model":
            params_ = self._params
            L = sequence_length(params_)[0]  # an input made up here is made as long as ONNX runs
            T = current.T if L is None else min(current.T, L)
            if choice is OPEN_SEQUENCE:
                if xs is None:
                    raise LstmvizError("no sequence was given to open with the model")
                xs = np.asarray(xs)
                if xs.ndim != 2 or xs.shape[1] != params_.input_size:
                    raise LstmvizError(
                        f"has {xs.shape[-1]} columns but {Path(self.path).name} expects "
                        f"m = {params_.input_size} inputs per step", source=str(input_path))
                return _model_opening(current, params_, self.path, self._sha256, xs=xs, names=tuple(names),
                                      input_path=input_path, note=f"on {Path(str(input_path)).name}")
            if choice is GENERATED_INPUT:
                return _model_opening(current, params_, self.path, self._sha256,
                                      xs=generated_input(params_.input_size, T),
                                      note=f"on a generated sine input ({T} × {params_.input_size})")
            return _model_opening(current, params_, self.path, self._sha256,
                                  xs=np.zeros((T, params_.input_size)),
                                  note=f"on an all-zero input ({T} × {params_.input_size})")
        # a sequence of the wrong width
        xs_ = self._xs
        if choice is OPEN_MODEL:
            if params is None:
                raise LstmvizError("no model was given to run the sequence on")
            if params.input_size != xs_.shape[1]:
                raise LstmvizError(
                    f"the model expects m = {params.input_size} inputs per step but "
                    f"{Path(self.path).name} has {xs_.shape[1]} columns", source=str(model_path))
            opened = _model_opening(current, params, model_path, sha256, xs=xs_, names=self._names,
                                    input_path=self.path, note=f"on {Path(self.path).name}")
            return opened
        n = current.n
        cell = random_cell(n, xs_.shape[1])
        name = Path(self.path).name
        return Opening(
            self.path, "sequence", f"Open input {name} on a random cell",
            f"Opened the sequence {name} on a random cell (n = {n}, m = {xs_.shape[1]}, seed 0).",
            cell=CellState(cell, xs_, None, None, self._names,
                           Sources(input_path=str(self.path),
                                   title=f"Random cell (n = {n}, seed 0) on {name}")).check())


def _columns(count: int) -> str:
    return f"{count} column" + ("" if count == 1 else "s")


def model_title(path, params: LSTMParams) -> str:
    """What the title bar and the diagram header call a model: its file and its layer."""
    name = Path(str(path)).name
    return name + (f" ({params.name})" if params.name else "")


def _model_opening(current: CellState, params: LSTMParams, path, sha256, xs=None, names=None,
                   input_path=None, note: str = "") -> Opening:
    keep_input = xs is None
    new_input_path = None if input_path is None else str(input_path)
    sources = Sources(
        model_path=None if path is None else str(path), model_sha256=sha256,
        input_path=current.sources.input_path if keep_input else new_input_path,
        title=model_title(path, params) if path is not None else (params.name or ""),
        layer_name=params.name or None,
    )
    if keep_input:
        xs, names = current.xs, current.input_names
    h0, c0 = kept_initial_state(current, params)
    name = Path(str(path)).name
    xs, cut = cut_to_sequence_length(params, check_sequence(xs, params.input_size), name)
    cell = CellState(params, xs, h0, c0, tuple(names or ()), sources).check()
    note = note or "on the current input"
    sizes = f"n = {params.n}, m = {params.m}"
    if params.projected:  # LSTMP: h has p entries, not n
        sizes += f", p = {params.h_size}"
    message = f"Opened the model {name} ({sizes}) {note}"
    # the status line names the file once: "...on x.csv: sequence_lens = 4: running ..."
    message += f": {cut.removeprefix(name + ': ')}." if cut else "."
    return Opening(str(path), "model", f"Open model {name}",
                   " ".join(filter(None, (message, notes_line(params, cut)))), cell=cell, cut=cut)


def notes_line(params: LSTMParams, cut: str | None = None, most: int = 3, width: int = 80) -> str:
    """The reader's notes (what it changed or could not apply), short, for the status line:
    the first `most`, each cut at `width` characters; "" when there are none. The
    sequence_lens note is left out when `cut` already says what it did."""
    notes = [n for n in params.notes if not (cut and n.startswith("sequence_lens = "))]
    if not notes:
        return ""
    shown = [n if len(n) <= width else n[: width - 1].rsplit(" ", 1)[0] + "…" for n in notes[:most]]
    more = f"; {len(notes) - most} more (lstmviz inspect lists them)" if len(notes) > most else ""
    return "Notes: " + "; ".join(shown) + more + "."


def open_model(current: CellState, params: LSTMParams, path, sha256: str | None = None) -> Opening:
    """A model read from `path` into the current state: ready when its m matches the open
    sequence, else an Opening with a Mismatch (sequence file / generated / zero / cancel)."""
    if params.input_size == current.xs.shape[1]:
        return _model_opening(current, params, path, sha256)
    T, m = current.xs.shape
    message = (f"{path}: the model expects m = {params.input_size} inputs per step but the current "
               f"sequence has {_columns(m)}")
    mismatch = Mismatch(
        message,
        f"Open it on a sequence file with {params.input_size} columns, on a generated sine input or on "
        f"an all-zero input of {T} × {params.input_size}? Cancel keeps everything as it is.",
        (OPEN_SEQUENCE, GENERATED_INPUT, ZERO_INPUT, CANCEL), default=ZERO_INPUT)
    return Opening(str(path), "model", f"Open model {Path(path).name}", message, mismatch=mismatch,
                   _params=params, _current=current, _sha256=sha256)


def open_sequence(current: CellState, xs: np.ndarray, names, path) -> Opening:
    """A sequence read from `path`: ready when its columns match the model, else a Mismatch
    (model file / random cell / cancel)."""
    names = tuple(names)[: xs.shape[1]]
    name = Path(path).name
    m = current.params.input_size
    if xs.shape[1] == m:
        sources = current.sources.replace(input_path=str(path))
        model = Path(current.sources.model_path).name if current.sources.model_path else ""
        cut_xs, cut = cut_to_sequence_length(current.params, check_sequence(xs, m), model)
        cell = current.replace(xs=cut_xs, input_names=names, sources=sources).check()
        return Opening(str(path), "sequence", f"Open input {name}",
                       f"Opened the sequence {name} ({xs.shape[0]} steps)." + (f" {cut}." if cut else ""),
                       cell=cell, cut=cut)
    message = f"{path}: has {_columns(xs.shape[1])} but the model expects m = {m} inputs per step"
    mismatch = Mismatch(
        message,
        f"Run it on a model file with m = {xs.shape[1]}, or on a random cell (n = {current.n}, "
        f"m = {xs.shape[1]}, PyTorch's initialisation, seed 0)? Cancel keeps everything as it is.",
        (OPEN_MODEL, RANDOM_CELL, CANCEL), default=RANDOM_CELL)
    return Opening(str(path), "sequence", f"Open input {name}", message, mismatch=mismatch,
                   _xs=xs, _names=names, _current=current)


def open_document(file_state, path, *, recovered_from: str | None = None) -> Opening:
    """A .lstmviz document read by lstmviz.io.document_file.read_document: its model, input,
    view and what-if, saved (or, for a recovered autosave, unsaved with its original path)."""
    if recovered_from is not None:
        cell, view, interventions = from_file_state(file_state, document_path=recovered_from or None)
        return Opening(str(path), "recovery", "Recover unsaved work", "Recovered the autosaved work.",
                       cell=cell.check(), view=view, interventions=interventions, dirty=True)
    resolved = str(Path(path).resolve())
    cell, view, interventions = from_file_state(file_state, document_path=resolved)
    name = Path(path).name
    return Opening(str(path), "document", f"Open document {name}", f"Opened {name}.",
                   cell=cell.check(), view=view, interventions=interventions, dirty=False)


def preset_state(preset) -> tuple[CellState, ViewState]:
    """A preset as a fresh, untitled document: no file behind it."""
    cell = CellState(preset.params, preset.xs, None, None, tuple(preset.input_names),
                     Sources(title=preset.title, preset_name=preset.name)).check()
    n, T = preset.params.n, cell.T
    view = ViewState(step=min(preset.step, T - 1), selection=preset.select,
                     unit=min(preset.unit, n - 1), units=default_units(n))
    return cell, view


def open_preset(name: str) -> Opening:
    from lstmviz.presets import load_preset

    preset = load_preset(name)
    cell, view = preset_state(preset)
    return Opening(None, "preset", f"Preset: {preset.title}", f"Preset: {preset.title}",
                   cell=cell, view=view, interventions=(), dirty=False)


# -- inputs and cells made up --------------------------------------------------------------------
def generated_input(m: int, T: int = DEFAULT_T) -> np.ndarray:
    """Something to run a model on when no input was given: a sine wave per column."""
    t = np.arange(T, dtype=np.float64)[:, None]
    j = np.arange(m, dtype=np.float64)[None, :]
    return np.sin(2.0 * np.pi * t / (16.0 + 6.0 * j) + 0.7 * j)


def random_cell(n: int, m: int) -> LSTMParams:
    params = LSTMParams.random(n, m, seed=0)
    params.source = "random"
    return params


# -- the starting Document of `lstmviz open` / `lstmviz screenshot` (no window yet) -----------------
def initial_document(file=None, model=None, input=None, preset=None, layer=None, step=None, select=None,
                     unit=None, report=None):
    """The Document a window starts on, from the command line's arguments. The same Openings
    as in the window; with no window to ask, a model without --input gets a generated input
    and an --input of the wrong width is an error naming the file. report(line) is told
    when the input was cut to an ONNX sequence_lens."""
    from lstmviz.document.document import Document
    from lstmviz.io.models import load_model
    from lstmviz.io.sequences import load_sequence
    from lstmviz.presets import DEFAULT_PRESET

    if file is not None and file_kind(file) == "document":
        others = [f"--{name} {value}" for name, value in (("model", model), ("input", input),
                                                            ("preset", preset), ("layer", layer))
                  if value is not None]
        if others:
            raise LstmvizError(f"a document holds its model and input: open it without {', '.join(others)}",
                               source=str(file))
        from lstmviz.edits import compute_trace
        from lstmviz.io.document_file import read_document

        opened = open_document(read_document(file), file)
        doc = Document(opened.cell, view=opened.view, trace=compute_trace(opened.cell))
        doc.replace(interventions=opened.interventions, dirty=False)
        apply_view_args(doc, step=step, select=select, unit=unit)
        return doc
    if file is not None:
        if file_kind(file) == "sequence":
            if input is not None:
                raise LstmvizError(f"two input sequences given: {file} and --input {input}")
            input = file
        else:
            if model is not None:
                raise LstmvizError(f"two models given: {file} and --model {model}")
            model = file
    if model is not None and preset is not None:
        raise LstmvizError("give a model file or --preset, not both")

    start_cell, start_view = preset_state(_load_preset(preset or DEFAULT_PRESET))
    if model is not None:
        params = load_model(model, layer=layer)
        sha = _sha256(model)
        if input is not None:
            xs = load_sequence(input)
            if xs.shape[1] != params.input_size:
                raise LstmvizError(f"has {xs.shape[1]} columns but {Path(model).name} expects "
                                   f"m = {params.input_size} inputs per step", source=str(input))
            opened = _model_opening(start_cell, params, model, sha, xs=xs, names=_header(input),
                                    input_path=input)
        else:
            opened = open_model(start_cell, params, model, sha)
            if opened.mismatch is not None:
                opened = opened.resolve(GENERATED_INPUT.key)
        if report is not None and opened.cut:
            report(opened.cut)
        doc = Document(opened.cell)
    elif input is not None:
        xs = load_sequence(input)
        if preset is None:
            cell = random_cell(RANDOM_N, xs.shape[1])
            name = Path(input).name
            doc = Document(CellState(cell, xs, None, None, _header(input),
                                     Sources(input_path=str(input),
                                             title=f"Random cell (n = {RANDOM_N}, seed 0) on {name}")))
        else:
            if xs.shape[1] != start_cell.m:
                raise LstmvizError(f"has {xs.shape[1]} columns but the {preset} preset expects "
                                   f"m = {start_cell.m} inputs per step", source=str(input))
            opened = open_sequence(start_cell, xs, _header(input), input)
            doc = Document(opened.cell, view=start_view)
    else:
        doc = Document(start_cell, view=start_view)
    apply_view_args(doc, step=step, select=select, unit=unit)
    doc.mark_saved()
    return doc


def live_document(params: LSTMParams, input=None):  # noqa: A002 - as initial_document's
    """The Document lstmviz.show opens on a live framework object, built as initial_document
    builds one for `lstmviz FILE --layer K`: the whole cell, with its upstream layers, its
    activations, clip, masking and projection (nothing is lost in a file hand-over); `input`
    a sequence file, an array (T, m), or None for a generated input."""
    from lstmviz.document.document import Document
    from lstmviz.io.sequences import load_sequence

    names: tuple[str, ...] = ()
    input_path = None
    if input is None:
        xs = generated_input(params.input_size)
    elif isinstance(input, (str, Path)) or hasattr(input, "__fspath__"):
        input_path = str(input)
        xs, names = load_sequence(input), _header(input)
    else:
        xs = np.asarray(input, dtype=np.float64)
        if xs.ndim == 1 and params.input_size == 1:
            xs = xs[:, None]
    if xs.ndim != 2 or xs.shape[1] != params.input_size:
        raise LstmvizError(f"the input has shape {xs.shape} but {params.name or 'the model'} expects "
                           f"m = {params.input_size} inputs per step", source=input_path)
    title = params.name or params.source or "live model"
    sources = Sources(input_path=input_path, title=title, layer_name=params.name or None)
    cell = CellState(params, check_sequence(xs, params.input_size, input_path), None, None,
                     tuple(names), sources).check()
    doc = Document(cell)
    doc.mark_saved()
    return doc


def _load_preset(name):
    from lstmviz.presets import load_preset

    return load_preset(name)


def _sha256(path) -> str | None:
    from lstmviz.io.document_file import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return None


def _header(path) -> tuple[str, ...]:
    return csv_header(path)


def csv_header(path) -> tuple[str, ...]:
    """The column names of a CSV's header row (none for .npy or a file without one)."""
    if not str(path).lower().endswith(".csv"):
        return ()
    import csv

    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader([handle.readline(4096)]), [])
    except (OSError, UnicodeDecodeError):
        return ()
    cells = [c.strip() for c in first]
    try:
        [float(c) for c in cells]
        return ()  # numbers: no header
    except ValueError:
        pass
    return tuple(c if c != f"x_{j}" else "" for j, c in enumerate(cells))



def apply_view_args(doc, step=None, select=None, unit=None) -> None:
    """--step, --select, --unit checked against the Document (each names the option)."""
    from lstmviz.components import COMPONENT_IDS

    if step is not None:
        if not 0 <= int(step) < doc.T:
            raise LstmvizError(f"--step {step} is not in 0..{doc.T - 1} (the sequence has {doc.T} steps)")
        doc.set_step(int(step))
    if select is not None:
        if select not in COMPONENT_IDS:
            raise LstmvizError(f"--select {select!r} is not a component ({', '.join(COMPONENT_IDS)})")
        doc.set_selection(select)
    if unit is not None:
        doc.set_unit(int(unit))
