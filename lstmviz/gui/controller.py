"""The window's one way in: every file, preset and recovery goes through WindowController.

File > Open, a drop anywhere in the window, Open Recent, the Presets menu, the text view's
brackets button, Cell > Layer, `lstmviz open FILE` (the window starts empty-handed on it
only when it is a preset) and `lstmviz.Viewer.open` all call `open(...)` /
`apply_preset(...)` here. The controller

  * asks before discarding unsaved work (documents, presets, recovery replace everything);
  * reads files in the background (lstmviz.gui.workers.Job), asks which LSTM layer when a
    model file holds several, and asks the size-mismatch question of
    lstmviz.document.opening (the same question everywhere);
  * pushes the whole new state as ONE undo step (lstmviz.gui.undo), computed before it
    lands, so the Document changes in one transition;
  * reports an error in a dialog naming the file, and changes nothing then.

`confirm=False` (scripts, lstmviz.Viewer) answers every question without a dialog: the
unsaved work is replaced (it stays on the undo stack), the model file's first layer is
taken unless `layer` is given, and a size mismatch is resolved with `input` when given,
else with the question's default (a zero input for a model, a random cell for a sequence).
The dialogs themselves are the methods of `Questions`, which tests replace.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from lstmviz.document import opening
from lstmviz.edits import Edit
from lstmviz.errors import LstmvizError
from lstmviz.gui import settings as prefs
from lstmviz.gui.workers import describe_error, load_model_file


class OpeningEdit(Edit):
    """One undo step for an Opening: the new cell (and view and what-if) and back."""

    def __init__(self, doc, opened: opening.Opening, keeps_clean: bool = False):
        self.text = opened.text
        self.opened = opened
        self._before = doc.state
        self._keeps_clean = keeps_clean  # (lands unsaved-free: no "*" flicker before set_saved)

    def after(self, doc):
        return self.opened.cell

    def before(self, doc):
        return self._before.cell

    def _asked(self, forward: bool):
        """The what-if interventions this step installs explicitly, None to keep the Document's."""
        if not forward:
            return self._before.interventions
        o = self.opened
        return () if o.interventions is None and o.kind == "preset" else o.interventions

    def interventions(self, doc, forward: bool) -> tuple:
        asked = self._asked(forward)  # (so their replay is computed in the background too)
        return tuple(doc.interventions) if asked is None else tuple(asked)

    def land(self, doc, state, trace, forward: bool) -> None:
        interventions = self._asked(forward)
        kwargs = {} if interventions is None else {"interventions": interventions}
        if forward:
            o = self.opened
            dirty = o.dirty if o.view is not None else (False if self._keeps_clean else None)
            doc.replace(state, view=o.view, trace=trace, dirty=dirty, **kwargs)
        else:
            doc.replace(state, view=self._before.view, trace=trace, dirty=True, **kwargs)


class Questions:
    """The dialogs the controller asks (blocking).

    `answers` scripts them: {"mismatch": "zero", "layer": "l1", "open_file": path}, a value
    or a callable taking what the dialog would show. Where nobody can answer (the offscreen
    and minimal platforms) and no answer is scripted, a question is recorded in `asked` and
    answered "cancel", so a test never hangs on an invisible dialog."""

    def __init__(self, parent: QWidget):
        self.parent = parent
        self.answers: dict = {}
        self.asked: list[tuple[str, object]] = []

    def _scripted(self, kind: str, subject):
        from lstmviz.gui.editors.session import interactive

        self.asked.append((kind, subject))
        if kind in self.answers:
            answer = self.answers[kind]
            return True, answer(subject) if callable(answer) else answer
        if not interactive():
            return True, None
        return False, None

    def mismatch(self, mismatch: opening.Mismatch) -> str:
        done, answer = self._scripted("mismatch", mismatch)
        if done:
            return answer or opening.CANCEL.key
        box = QMessageBox(QMessageBox.Icon.Warning, "lstmviz", mismatch.message,
                          QMessageBox.StandardButton.NoButton, self.parent)
        box.setObjectName("lstmviz-mismatch")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(mismatch.question)
        buttons = {}
        for choice in mismatch.choices:
            role = (QMessageBox.ButtonRole.RejectRole if choice is opening.CANCEL
                    else QMessageBox.ButtonRole.AcceptRole)
            buttons[box.addButton(choice.label, role)] = choice.key
        box.exec()
        return buttons.get(box.clickedButton(), opening.CANCEL.key)

    def layer(self, path: str, infos: list) -> str | None:
        done, answer = self._scripted("layer", infos)
        if done:
            return answer
        labels = [opening.describe_layer(info) for info in infos]
        label, ok = QInputDialog.getItem(
            self.parent, "Which LSTM layer?",
            f"{Path(path).name} holds {len(infos)} LSTM layers (one per direction). Show which one?",
            labels, 0, False)
        if not ok:
            return None
        return infos[labels.index(label)].name

    def open_file(self, title: str, file_filter: str) -> str | None:
        done, answer = self._scripted("open_file", title)
        if done:
            return None if answer is None else str(answer)
        path, _ = QFileDialog.getOpenFileName(self.parent, title, prefs.last_dir(), file_filter)
        return path or None


class WindowController(QObject):
    opened = Signal(str)  # a file (or preset name) landed in the Document
    failed = Signal(str)  # an error was shown

    def __init__(self, session):
        super().__init__(session)
        self.session = session
        self.document = session.document
        self.window = session.window
        self.questions = Questions(session.window)
        self._queue: list[str] = []
        self._pair: tuple[str, str] | None = None  # a dropped model and sequence, opened last
        self.last_message = ""
        self.dialogs = True  # errors in a dialog (lstmviz.Viewer turns it off: it raises them)

    # -- reporting ---------------------------------------------------------------------------
    def error(self, message: str, path=None) -> None:
        if path is not None and str(path) not in message and Path(str(path)).name not in message:
            message = f"{path}: {message}"
        self._stop()
        self.failed.emit(message)
        if self.dialogs:
            self.session.error(message)

    def _status(self, message: str) -> None:
        self.last_message = message
        status = getattr(self.window, "statusBar", None)
        if callable(status):
            status().showMessage(message, 10000)

    def _pause(self) -> None:
        playback = getattr(self.window, "playback", None)
        if playback is not None:
            playback.pause()

    # -- entry points ------------------------------------------------------------------------
    def open_dialog(self) -> None:
        path = self.questions.open_file("Open a document, a model or a sequence", opening.open_filter())
        if path:
            self.open(path)

    def open_paths(self, paths, confirm: bool = True) -> None:
        """Several files at once (a drop): documents, then models, then sequences; a model
        followed by a sequence opens on that sequence."""
        order = {"document": 0, "model": 1, "sequence": 2}
        paths = sorted((str(p) for p in paths), key=lambda p: order[opening.file_kind(p)])
        if not paths:
            return
        models = [p for p in paths if opening.file_kind(p) == "model"]
        sequences = [p for p in paths if opening.file_kind(p) == "sequence"]
        if models and sequences:  # the last model and the first sequence: one step
            model, sequence = models[-1], sequences[0]
            rest = [p for p in paths if p not in (model, sequence)]
            if rest:  # documents and other models first, the pair last
                self._queue = [*rest[1:]]
                self._pair = (model, sequence)
                self.open(rest[0], confirm=confirm, _chained=True)
                return
            self.open(model, input=sequence, confirm=confirm, _chained=True)
            return
        self._queue = paths[1:]
        self.open(paths[0], confirm=confirm, _chained=True)

    def _next(self) -> None:
        if self._queue:
            self.open(self._queue.pop(0), _chained=True)
        elif self._pair is not None:
            (model, sequence), self._pair = self._pair, None
            self.open(model, input=sequence, _chained=True)

    def open(self, path, layer: str | None = None, input=None, confirm: bool = True,
             _chained: bool = False) -> bool:
        """Open a document, a model or a sequence (File > Open). Returns False when it was
        refused at once; the reading itself may still be under way (session.wait())."""
        if not _chained:
            self._queue, self._pair = [], None
        self._pause()
        path = str(path)
        kind = opening.file_kind(path)
        prefs.remember_dir(path)
        if kind == "document":
            if input is not None or layer is not None:
                self.error("a document holds its model and input: open it without input or layer", path)
                return False
            return self._open_document(path, confirm)
        if kind == "sequence":
            if input is not None:
                self.error(f"two input sequences given: {path} and {input}")
                return False
            return self._read_sequence(path, confirm)
        return self._read_model(path, layer, input, confirm)

    def apply_preset(self, name: str, confirm: bool = True) -> bool:
        self._pause()
        try:
            opened = opening.open_preset(name)
        except LstmvizError as error:
            self.error(str(error))
            return False
        if confirm and not self.session.confirm_discard("switch to a preset"):
            return False
        return self._land(opened, name)

    def switch_layer(self, name: str, confirm: bool = True) -> bool:
        """Cell > Layer: another layer of the open model file, on the current input."""
        path = self.document.model_path
        if not path:
            self.error("no model file is open: the Layer menu lists the layers of an opened model")
            return False
        return self.open(path, layer=name, confirm=confirm)

    def recover(self, recovery) -> bool:
        """Load an autosave (it stays unsaved, with its original document path)."""
        try:
            file_state = recovery.read()
            original = (file_state.meta.get("autosave") or {}).get("document_path") or ""
            opened = opening.open_document(file_state, recovery.path, recovered_from=original)
        except LstmvizError as error:
            recovery.release()
            self.error(f"could not recover the autosave: {error}")
            return False
        if not self._land(opened, str(recovery.path), recent=False):
            recovery.release()
            return False
        self.session.undo.stack.resetClean()  # nothing on the stack is what is on disk
        return True

    # -- reading -----------------------------------------------------------------------------
    def _read_model(self, path: str, layer, input, confirm: bool) -> bool:
        name = Path(path).name

        def work(progress):
            if layer is None and confirm:
                infos = _loadable_layers(path)
                if len(infos) > 1:
                    return ("choose", infos)
            params, sha = load_model_file(path, layer=layer)
            xs = names = None
            if input is not None:
                xs, names = _read_sequence_file(input)
            return ("loaded", params, sha, xs, names)

        def done(result) -> None:
            if result[0] == "choose":
                chosen = self.questions.layer(path, result[1])
                if chosen is not None:
                    self._read_model(path, chosen, input, confirm)
                else:
                    self._queue = []
                return
            _, params, sha, xs, names = result
            self._model_read(path, params, sha, xs, names, input, confirm)

        self.session.loader.start(work, done, lambda error: self.error(describe_error(error), path),
                                  label=f"Reading {name}…", parent=self.window, on_cancel=self._stop)
        return True

    def _stop(self) -> None:
        self._queue, self._pair = [], None

    def _model_read(self, path, params, sha, xs, names, input, confirm: bool) -> None:
        try:
            opened = opening.open_model(self.document.cell, params, path, sha)
            if xs is not None:
                opened = (opened if opened.mismatch is not None else
                          opening.Opening(path, "model", opened.text, opened.message,
                                          mismatch=opening.Mismatch("", "", (opening.OPEN_SEQUENCE,)),
                                          _params=params, _current=self.document.cell, _sha256=sha))
                opened = opened.resolve("sequence", xs=xs, names=names or (), input_path=input)
            opened = self._resolve(opened, confirm)
        except LstmvizError as error:
            self.error(str(error), input if xs is not None else path)
            return
        if opened is not None:
            self._land(opened, path)

    def _read_sequence(self, path: str, confirm: bool) -> bool:
        self.session.loader.start(
            lambda progress: _read_sequence_file(path),
            lambda loaded: self._sequence_read(path, *loaded, confirm),
            lambda error: self.error(describe_error(error), path),
            label=f"Reading {Path(path).name}…", parent=self.window, on_cancel=self._stop)
        return True

    def _sequence_read(self, path, xs, names, confirm: bool) -> None:
        try:
            opened = self._resolve(opening.open_sequence(self.document.cell, xs, names, path), confirm)
        except LstmvizError as error:
            self.error(str(error), path)
            return
        if opened is not None:
            self._land(opened, path)

    def _open_document(self, path: str, confirm: bool) -> bool:
        if confirm and not self.session.confirm_discard("open another document"):
            self._queue = []
            return False
        from lstmviz.edits import compute_landing
        from lstmviz.io.document_file import read_document

        current = tuple(self.document.interventions)

        def work(progress):
            opened = opening.open_document(read_document(path), path)
            # the document's own what-if replayed here too, not on the GUI thread as it lands
            wanted = current if opened.interventions is None else opened.interventions
            return opened, compute_landing(opened.cell, wanted, progress)

        def done(result) -> None:
            opened, trace = result
            if self._land(opened, path, trace=trace):
                self.session.undo.set_saved()
                if self.session.autosaver is not None:
                    self.session.autosaver.discard()

        self.session.loader.start(work, done, lambda error: self.error(describe_error(error), path),
                                  label=f"Opening {Path(path).name}…", parent=self.window,
                                  on_cancel=self._stop)
        return True

    def _resolve(self, opened: opening.Opening, confirm: bool) -> opening.Opening | None:
        """The Opening with its size mismatch answered (None: cancelled)."""
        mismatch = opened.mismatch
        if mismatch is None:
            return opened
        key = self.questions.mismatch(mismatch) if confirm else mismatch.default.key
        if key == opening.OPEN_SEQUENCE.key:
            filt = f"Input sequences ({' '.join('*' + s for s in opening.sequence_suffixes())})"
            seq = self.questions.open_file("Open a sequence for the model", filt)
            if not seq:
                return None
            xs, names = _read_sequence_file(seq)
            return opened.resolve(key, xs=xs, names=names, input_path=seq)
        if key == opening.OPEN_MODEL.key:
            filt = f"Models ({' '.join('*' + s for s in opening.model_suffixes())})"
            model = self.questions.open_file("Open a model for the sequence", filt)
            if not model:
                return None
            params, sha = load_model_file(model)
            return opened.resolve(key, params=params, model_path=model, sha256=sha)
        return opened.resolve(key)

    # -- landing: one undo step -----------------------------------------------------------------
    def _land(self, opened: opening.Opening, path: str, trace=None, recent: bool = True) -> bool:
        # A model or a sequence opened into an unchanged document leaves nothing unsaved (its
        # files are on disk): asking "Save changes?" on the next preset only puzzled (a
        # new-user helper). Not when it goes into a saved .lstmviz, which no longer holds it.
        saved = (opened.kind in ("model", "sequence") and not self.document.dirty
                 and opened.cell is not None and opened.cell.sources.document_path is None)
        edit = OpeningEdit(self.document, opened, keeps_clean=saved)
        undo = self.session.undo
        if not undo.submit(edit, trace=trace, supersede=True, saved=saved):
            self._queue = []
            return False
        if recent and opened.kind != "preset":
            self.session.recent.add(path)
        self._status(opened.message)
        self.opened.emit(path)
        self.session.opened.emit(path)
        self._next()
        return True

    # -- for views that read a second model (the compare view) ------------------------------------
    def read_model(self, path, on_loaded: Callable, parent: QWidget | None = None,
                   synchronous: bool = False, job=None) -> None:
        """Read a model file the way File > Open does (layer question included) and hand
        on_loaded(params, title) the result, without touching the Document."""
        name = Path(str(path)).name
        job = job or self.session.loader

        def work(progress):
            infos = _loadable_layers(path)
            if len(infos) > 1 and not synchronous:
                return ("choose", infos)
            return ("loaded", *load_model_file(path))

        def done(result, layer=None) -> None:
            if result[0] == "choose":
                chosen = self.questions.layer(str(path), result[1])
                if chosen is None:
                    return
                job.start(lambda progress: ("loaded", *load_model_file(path, layer=chosen)), done,
                          lambda error: self.error(describe_error(error), path),
                          label=f"Reading {name}…", parent=parent or self.window)
                return
            params = result[1]
            on_loaded(params, opening.model_title(path, params))

        job.start(work, done, lambda error: self.error(describe_error(error), path),
                  label=f"Reading {name}…", parent=parent or self.window, synchronous=synchronous)


def _loadable_layers(path) -> list:
    """The layers to choose from; none when the file cannot even be listed (reading it
    then reports the problem, from the reader that would load it)."""
    try:
        return [info for info in opening.layer_choices(path) if info.loadable]
    except LstmvizError:
        return []


def _read_sequence_file(path):
    from lstmviz.io.sequences import load_sequence

    xs = load_sequence(path)
    return xs, tuple(opening.csv_header(path))[: xs.shape[1]]


def controller_of(widget) -> WindowController | None:
    """The controller of the main window a widget is in (None outside one)."""
    window = widget.window() if widget is not None else None
    session = getattr(window, "session", None) if window is not None else None
    return getattr(session, "controller", None)
