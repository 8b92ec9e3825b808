"""The window's work with files: open, save, recent files, autosave and recovery, drops.

A Session belongs to one main window and its Document. It never redraws anything: it reads
files in background Jobs (model files off the GUI thread; HDF5 and ONNX in a child process
when lstmviz.io.isolated exists), turns what it read into undoable edits, and writes
documents atomically. Bad input — a malformed file, a model whose m does not match the
sequence — shows one message naming the file and the problem, and the Document stays as it
was.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QWidget

from lstmviz import edits
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.gui import settings as prefs
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.recent import RecentFiles
from lstmviz.gui.undo import UndoController
from lstmviz.gui.workers import Job, describe_error, load_model_file
from lstmviz.io.models import model_file_filter

# Imported when first used, not at start-up (the window paints sooner): lstmviz.autosave,
# lstmviz.gui.export (QtSvg) and lstmviz.io.document_file.
if TYPE_CHECKING:
    from lstmviz.autosave import Autosaver, Recovery
    from lstmviz.gui.export import Exporter
    from lstmviz.io.document_file import DocumentState

AUTOSAVE_ENV = "LSTMVIZ_AUTOSAVE_SECONDS"
SUFFIX = ".lstmviz"  # lstmviz.io.document_file.SUFFIX (a test keeps the two the same)
SEQUENCE_SUFFIXES = (".csv", ".npy")
OPEN_FILTER = model_file_filter()  # the one table: lstmviz.io.models.MODEL_READERS


def file_kind(path) -> str:
    name = Path(path).name.lower()
    if name.endswith(SUFFIX):
        return "document"
    if name.endswith(SEQUENCE_SUFFIXES):
        return "sequence"
    return "model"


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


def interactive() -> bool:
    """False on the offscreen and minimal platforms: nobody can answer a question there."""
    return QGuiApplication.platformName() not in ("offscreen", "minimal")


class Session(QObject):
    opened = Signal(str)  # a file landed in the Document
    saved = Signal(str)
    failed = Signal(str)  # a message was shown

    def __init__(self, window: QWidget, document, *, autosave: bool = True, state_dir=None):
        super().__init__(window)
        self.window, self.document = window, document
        self.undo = UndoController(document, self, report=self.error, widget=window)
        self._exporter: Exporter | None = None  # made on first use (see `exporter`)
        self.loader = Job(self, "load")
        self.saver = Job(self, "save")
        self._recent: RecentFiles | None = None
        self.prompt = interactive()  # ask before throwing away unsaved changes
        self.keep_layout = interactive()  # window layout kept across runs (not in offscreen tests)
        self._queue: list[str] = []
        self._panel_factories: dict = {}
        self._panels: dict = {}
        self._version = 0
        self._closed = False
        for signal in (document.trace_changed, document.source_changed, document.option_changed):
            signal.connect(self._bump)
        # The autosaver (its folder and this window's lock) is made on first use — the first
        # tick, a recovery check, or start_autosave() once the window has been painted.
        self._autosave = autosave
        self._autosave_dir = state_dir
        self._autosaver: Autosaver | None = None
        self.autosave_timer = QTimer(self)
        if autosave:
            # the default interval now; the user's preference (QSettings) in start_autosave()
            seconds = float(os.environ.get(AUTOSAVE_ENV) or prefs.DEFAULTS["autosave/interval_s"])
            self.autosave_timer.setInterval(max(100, int(seconds * 1000)))
            self.autosave_timer.timeout.connect(self.autosave_now)
            self.autosave_timer.start()
        window.installEventFilter(self)
        if isinstance(window, QMainWindow):
            window.setAcceptDrops(True)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- the Input and Weights panels: made when their dock is first shown (or asked for) ----
    def add_lazy_panel(self, key: str, dock, factory, on_made=None) -> None:
        """`dock` shows factory()'s widget; it is made the first time the dock becomes visible
        or the panel is asked for (panel(key)), so hidden tabs cost nothing at start-up."""
        self._panel_factories[key] = (dock, factory, on_made)

        def visible(shown: bool) -> None:
            if shown:
                self.panel(key)

        dock.visibilityChanged.connect(visible)

    def panel(self, key: str):
        """The panel of that dock (made now if it was not yet); None if there is none."""
        if key not in self._panels:
            entry = self._panel_factories.get(key)
            if entry is None:
                return None
            dock, factory, on_made = entry
            widget = factory()
            self._panels[key] = widget
            old = dock.widget()
            dock.setWidget(widget)
            if old is not None and old is not widget:
                old.deleteLater()
            if on_made is not None:
                on_made(widget)
        return self._panels[key]

    @property
    def sequence_panel(self):
        return self.panel("input")

    @property
    def weight_editor(self):
        return self.panel("weights")

    def _disconnect_document(self) -> None:
        doc = self.document
        for signal in (doc.trace_changed, doc.source_changed, doc.option_changed):
            signal.disconnect(self._bump, missing_ok=True)

    # -- messages ----------------------------------------------------------------------------
    def error(self, message: str) -> None:
        self.failed.emit(message)
        show_error(self.window, message)

    def _bump(self, *_args) -> None:
        self._version += 1

    @property
    def exporter(self) -> Exporter:
        """Exports (traces, pictures), made the first time one is asked for."""
        if self._exporter is None:
            from lstmviz.gui.export import Exporter

            self._exporter = Exporter(self.document, self.window, self)
        return self._exporter

    @property
    def autosaver(self) -> Autosaver | None:
        """This window's Autosaver (made, with its lock, on first use); None when autosave is
        off or its folder cannot be used (autosave_error says why)."""
        if self._autosaver is None and self._autosave and not self._closed:
            self._autosave = False  # one attempt
            from lstmviz.autosave import Autosaver

            try:
                self._autosaver = Autosaver(self._autosave_dir, info={"title": self.document.title or ""})
            except LstmvizError as error:  # an unwritable state dir must not stop the window
                self.autosave_error = str(error)
                self.autosave_timer.stop()
        return self._autosaver

    @property
    def recent(self) -> RecentFiles:
        if self._recent is None:
            self._recent = RecentFiles()
        return self._recent

    def start_autosave(self) -> None:
        """Take this window's autosave lock now and read the interval from the preferences
        (the window calls it after its first paint)."""
        if self._closed or self.autosaver is None:
            return
        if not os.environ.get(AUTOSAVE_ENV):
            seconds = float(prefs.get("autosave/interval_s"))
            self.autosave_timer.setInterval(max(100, int(seconds * 1000)))

    def _jobs(self) -> list:
        jobs = [self.loader, self.saver, self.undo.job]
        if self._exporter is not None:
            jobs.append(self._exporter.job)
        return jobs

    @property
    def busy(self) -> bool:
        return any(job.busy for job in self._jobs())

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Process events until no file, trace or export work is pending (tests, shutdown)."""
        from PySide6.QtCore import QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(timeout_ms)
        while (self.busy or self._queue) and not deadline.hasExpired():
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            for job in self._jobs():
                job.wait(5)
        return not self.busy

    # -- open --------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.window, "Open", prefs.last_dir(), OPEN_FILTER)
        if paths:
            self.open_paths(paths)

    def open_paths(self, paths) -> None:
        """Several files at once (a drop): documents, then models, then sequences."""
        order = {"document": 0, "model": 1, "sequence": 2}
        self._queue = sorted((str(p) for p in paths), key=lambda p: order[file_kind(p)])
        self._next()

    def _next(self) -> None:
        if self._queue:
            self.open_path(self._queue.pop(0), _chained=True)

    def _stop_queue(self) -> None:
        self._queue = []

    def open_path(self, path, _chained: bool = False) -> None:
        if not _chained:
            self._queue = []
        path = str(path)
        kind = file_kind(path)
        prefs.remember_dir(path)
        if kind == "document":
            self.open_document(path)
        elif kind == "sequence":
            self.open_sequence(path)
        else:
            self.open_model(path)

    def _failed_to_open(self, error: BaseException) -> None:
        self._stop_queue()
        self.error(describe_error(error))

    def open_model(self, path, layer: str | None = None) -> None:
        name = Path(path).name
        self.loader.start(
            lambda progress: load_model_file(path, layer=layer),
            lambda result: self._model_loaded(path, *result),
            self._failed_to_open,
            label=f"Reading {name}…", parent=self.window, on_cancel=self._stop_queue,
        )

    def _model_loaded(self, path: str, params, sha256) -> None:
        name = Path(path).name
        doc = self.document
        m = doc.xs.shape[1]
        if params.input_size == m:
            edit = edits.set_model(doc, params, text=f"Open model {name}", model_path=path,
                                   model_sha256=sha256)
            self._land(edit, path)
            return
        T = doc.xs.shape[0]
        cols = "column" if m == 1 else "columns"
        message = (f"{path}: the model expects m = {params.input_size} inputs per step but the current "
                   f"sequence has {m} {cols}")
        if self._queue and file_kind(self._queue[0]) == "sequence":
            # A sequence comes next (dropped together): open the model with zeros, then it.
            self._land(edits.set_model(doc, params, xs=np.zeros((T, params.input_size)),
                                       text=f"Open model {name}", model_path=path, model_sha256=sha256), path)
            return
        self._ask_zero_input(path, params, sha256, message)

    def _ask_zero_input(self, path: str, params, sha256, message: str) -> QMessageBox:
        doc = self.document
        T = doc.xs.shape[0]

        def accept() -> None:
            edit = edits.set_model(doc, params, xs=np.zeros((T, params.input_size)),
                                   text=f"Open model {Path(path).name}", model_path=path,
                                   model_sha256=sha256)
            self._land(edit, path)

        return self._offer(
            message,
            f"Open it with an all-zero input of {T} × {params.input_size} instead? You can then "
            "generate or open a matching sequence. Cancel keeps everything as it is.",
            "Use a zero input", accept)

    def _offer(self, message: str, question: str, button: str, accept) -> QMessageBox:
        """The problem, and one way out (without blocking); Cancel changes nothing."""
        from lstmviz.gui.editors import messages

        messages.history.append(message)
        self.failed.emit(message)
        box = QMessageBox(QMessageBox.Icon.Warning, "lstmviz", message, QMessageBox.StandardButton.Cancel,
                          self.window)
        box.setObjectName("lstmviz-error")
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(question)
        use = box.addButton(button, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(_result) -> None:
            if box.clickedButton() is use:
                accept()
            else:
                self._stop_queue()

        box.finished.connect(finished)
        box.open()
        self.offer_box = self.zero_input_box = box
        return box

    def _land(self, edit, path: str) -> None:
        if self.undo.submit(edit):
            self.recent.add(path)
            self.opened.emit(path)
            self._next()
        else:
            self._stop_queue()

    def open_sequence(self, path) -> None:
        from lstmviz.io.sequences import load_sequence

        self.loader.start(
            lambda progress: (load_sequence(path), csv_header(path)),
            lambda loaded: self._sequence_loaded(path, loaded),
            self._failed_to_open,
            label=f"Reading {Path(path).name}…", parent=self.window, on_cancel=self._stop_queue,
        )

    def _sequence_loaded(self, path: str, loaded) -> None:
        xs, names = loaded
        names = tuple(names)[: xs.shape[1]]
        doc = self.document
        m = doc.params.input_size
        name = Path(path).name
        if xs.shape[1] != m:
            cols = "column" if xs.shape[1] == 1 else "columns"
            message = f"{path}: has {xs.shape[1]} {cols} but the model expects m = {m} inputs per step"
            n = doc.params.n

            def accept() -> None:
                params = LSTMParams.random(n, xs.shape[1], seed=0)
                self._land(edits.set_model(doc, params, xs=xs, names=names, input_path=path,
                                           text=f"Open input {name} on a random cell"), path)

            self._offer(message, f"Run it on a random cell instead (n = {n}, m = {xs.shape[1]}, "
                                 "PyTorch's initialisation, seed 0)? Cancel keeps everything as it is.",
                        "Use a random cell", accept)
            return
        try:
            edit = edits.set_input(doc, xs, names, text=f"Open input {name}", input_path=path)
        except LstmvizError as error:
            self._failed_to_open(error.with_source(path))
            return
        self._land(edit, path)

    def open_document(self, path) -> None:
        if not self.confirm_discard("open another document"):
            return

        from lstmviz.io.document_file import read_document

        def work(progress):
            state = read_document(path)
            model = edits.ModelState(state.params, state.xs, state.h0, state.c0)
            trace = edits.compute_trace(model, progress)
            return state, trace

        self.loader.start(work, lambda result: self._document_loaded(path, *result), self._failed_to_open,
                          label=f"Opening {Path(path).name}…", parent=self.window, on_cancel=self._stop_queue)

    def _document_loaded(self, path: str, state: DocumentState, trace) -> None:
        from lstmviz.io.document_file import restore

        try:
            restore(self.document, state, trace)
        except LstmvizError as error:
            self._failed_to_open(error.with_source(path))
            return
        self.undo.clear()
        self.document.set_sources(document_path=str(Path(path).resolve()))
        self.undo.set_saved()
        if self.autosaver is not None:
            self.autosaver.discard()
        self.recent.add(path)
        self.opened.emit(path)
        self._next()

    # -- save --------------------------------------------------------------------------------
    def save(self) -> bool:
        path = getattr(self.document, "document_path", None)
        if not path:
            return self.save_as()
        return self.save_to(path)

    def save_as(self) -> bool:
        current = getattr(self.document, "document_path", None)
        start = current or str(Path(prefs.last_dir()) / f"{self._stem()}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.window, "Save the document", start,
                                              f"lstmviz documents (*{SUFFIX})")
        if not path:
            return False
        return self.save_to(path)

    def _stem(self) -> str:
        import re

        stem = re.sub(r"[^A-Za-z0-9]+", "-", self.document.title or "untitled").strip("-").lower()
        return stem or "untitled"

    def save_to(self, path, synchronous: bool = False) -> bool:
        path = str(path)
        if not path.lower().endswith(SUFFIX):
            path += SUFFIX
        from lstmviz.io.document_file import snapshot, write_document

        state = snapshot(self.document)
        version = self._version

        def landed(_result) -> None:
            unchanged = self._version == version  # nothing changed while it was written
            self.document.set_sources(document_path=str(Path(path).resolve()))
            if unchanged:
                self.undo.set_saved()
                if self.autosaver is not None:
                    self.autosaver.discard()
            self.recent.add(path)
            prefs.remember_dir(path)
            self.saved.emit(path)
            status = getattr(self.window, "statusBar", None)
            if callable(status):
                status().showMessage(f"Saved {path}", 6000)

        self.saver.start(lambda progress: write_document(state, path, progress), landed,
                         lambda error: self.error(describe_error(error)),
                         label=f"Saving {Path(path).name}…", parent=self.window, synchronous=synchronous)
        return True

    # -- autosave and recovery -----------------------------------------------------------------
    def _autosave_state(self) -> DocumentState:
        from lstmviz.io.document_file import snapshot

        state = snapshot(self.document)
        state.meta = {"autosave": {
            "document_path": getattr(self.document, "document_path", None),
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }}
        return state

    def autosave_now(self, background: bool = True) -> bool:
        if self.autosaver is None or self._closed:
            return False
        return self.autosaver.tick(self.document.dirty, self._version, self._autosave_state, background)

    def offer_recovery(self) -> QMessageBox | None:
        """If a window that is gone left unsaved work, offer it back (without blocking)."""
        if self.autosaver is None:
            return None
        from lstmviz.autosave import find_recoverable

        try:
            found = find_recoverable(self.autosaver.directory)
        except OSError:
            return None
        if not found:
            return None
        recovery, others = found[0], found[1:]
        for other in others:
            other.release()  # offered next time
        info = recovery.summary()
        when = _dt.datetime.fromtimestamp(recovery.saved_at).strftime("%Y-%m-%d %H:%M:%S")
        what = f"“{info['title']}”" if info.get("title") else "a document"
        where = f" ({info['document_path']})" if info.get("document_path") else ""
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"lstmviz did not close cleanly. Unsaved changes to {what}{where} were "
                          f"autosaved at {when}.", QMessageBox.StandardButton.NoButton, self.window)
        box.setObjectName("lstmviz-recovery")
        box.setInformativeText("Recover them? Discard deletes the autosave; Later keeps it for next time.")
        recover = box.addButton("Recover", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Later", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(recover)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def finished(_result) -> None:
            clicked = box.clickedButton()
            if clicked is recover:
                self.recover(recovery)
            elif clicked is discard:
                recovery.discard()
            else:
                recovery.release()

        box.finished.connect(finished)
        box.open()
        self.recovery_box = box
        return box

    def recover(self, recovery: Recovery) -> bool:
        """Load an autosave into the Document (it stays unsaved), then keep it safe as ours."""
        from lstmviz.io.document_file import restore

        try:
            state = recovery.read()
            trace = edits.compute_trace(edits.ModelState(state.params, state.xs, state.h0, state.c0))
        except LstmvizError as error:
            recovery.release()
            self.error(f"could not recover the autosave: {error}")
            return False
        self.undo.clear()
        try:
            restore(self.document, state, trace)  # leaves the Document unsaved (dirty)
        except LstmvizError as error:
            recovery.release()
            self.error(f"could not recover the autosave: {error}")
            return False
        original = (state.meta.get("autosave") or {}).get("document_path")
        if original:
            self.document.set_sources(document_path=original)
        self.undo.stack.resetClean()  # nothing on the stack is what is on disk
        if self.autosaver is not None:  # ours first, then the old one goes: never zero copies
            self.autosaver.save(self._autosave_state(), self._version, background=False)
        recovery.discard()
        self.opened.emit(str(recovery.path))
        return True

    def restore_layout(self) -> bool:
        if isinstance(self.window, QMainWindow):
            return prefs.restore_window_state(self.window)
        return False

    # -- close ---------------------------------------------------------------------------------
    def ask_unsaved(self, action: str) -> str:
        """'save', 'discard' or 'cancel' (a blocking question; only asked when interactive)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Unsaved changes",
                          f"The document has unsaved changes. Save them before you {action}?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self.window)
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        answer = box.exec()
        answers = {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}
        return answers.get(QMessageBox.StandardButton(answer), "cancel")

    def confirm_discard(self, action: str) -> bool:
        if not self.document.dirty or not self.prompt:
            return True
        answer = self.ask_unsaved(action)
        if answer == "save":
            if not self.save():
                return False
            self.wait()
            return not self.document.dirty
        return answer == "discard"

    def eventFilter(self, obj, event) -> bool:
        if obj is self.window:
            kind = event.type()
            if kind == QEvent.Type.Close and not self._closed:
                if not self.confirm_discard("close the window"):
                    event.ignore()
                    return True
                self.shutdown()
            elif kind == QEvent.Type.DragEnter or kind == QEvent.Type.DragMove:
                if self._local_paths(event):
                    event.acceptProposedAction()
                    return True
            elif kind == QEvent.Type.Drop:
                paths = self._local_paths(event)
                if paths:
                    event.acceptProposedAction()
                    self.open_paths(paths)
                    return True
        return super().eventFilter(obj, event)

    @staticmethod
    def _local_paths(event) -> list[str]:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return []
        return [url.toLocalFile() for url in mime.urls() if url.isLocalFile()]

    def shutdown(self) -> None:
        """A clean exit: layout kept, jobs dropped, the autosave and the lock removed."""
        if self._closed:
            return
        self._closed = True
        self.autosave_timer.stop()
        for job in self._jobs():
            if job is not self.saver:
                job.cancel(silent=True)
        self.saver.wait(60000)
        if self.keep_layout and isinstance(self.window, QMainWindow):
            try:
                prefs.save_window_state(self.window)
            except RuntimeError:  # the window is already being destroyed
                pass
        if self._autosaver is not None:
            self._autosaver.close()
        self._disconnect_document()
        app = QApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(self.shutdown)
            except (RuntimeError, TypeError):
                pass
