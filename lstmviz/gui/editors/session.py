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

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMainWindow, QMessageBox, QWidget

from lstmviz.document.opening import csv_header  # noqa: F401 (tests use it from here)
from lstmviz.errors import LstmvizError
from lstmviz.gui import settings as prefs
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.recent import RecentFiles
from lstmviz.gui.undo import UndoController
from lstmviz.gui.workers import Job, describe_error

# Imported when first used, not at start-up (the window paints sooner): lstmviz.autosave,
# lstmviz.gui.export (QtSvg) and lstmviz.io.document_file.
if TYPE_CHECKING:
    from lstmviz.autosave import Autosaver, Recovery
    from lstmviz.gui.export import Exporter
    from lstmviz.io.document_file import DocumentState

_DRAG_KINDS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)
AUTOSAVE_ENV = "LSTMVIZ_AUTOSAVE_SECONDS"
SUFFIX = ".lstmviz"  # lstmviz.io.document_file.SUFFIX (a test keeps the two the same)

def file_kind(path) -> str:
    from lstmviz.document.opening import file_kind as kind

    return kind(path)


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
        from lstmviz.gui.rerun import RerunDriver

        # edits on long sequences land at once and their trace streams in between frames
        self.rerun = RerunDriver(document, window, cancel=self.undo.cancel_rerun, report=self.error,
                                 restoring=lambda: self.undo.restoring)
        status = getattr(window, "statusBar", None)
        if callable(status):  # an edit that cannot stream (what-if on...): still no dialog
            self.undo.notify = lambda message: status().showMessage(message, 8000)
            self.undo.job.show_progress_in(
                status(), "Running the cell",
                "The edited cell is being run over the sequence in the background; the window "
                "shows the run before the edit until it is done")
        self._exporter: Exporter | None = None  # made on first use (see `exporter`)
        self.loader = Job(self, "load")
        self.saver = Job(self, "save")
        self._recent: RecentFiles | None = None
        self.prompt = interactive()  # ask before throwing away unsaved changes
        self.keep_layout = interactive()  # window layout kept across runs (not in offscreen tests)
        self._controller = None
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
        self.watch_drops()
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
            status = getattr(self.window, "statusBar", None)
            if callable(status):  # a long CSV takes a while: the window stays usable meanwhile
                self._exporter.job.show_progress_in(
                    status(), "Exporting",
                    "The file is written in the background from the trace as it was when the "
                    "export started; later edits do not change it")
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
        traces = getattr(self.window, "traces", None)
        return (self.document.rerunning or any(job.busy for job in self._jobs())
                or bool(getattr(traces, "catching_up", False)))

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Process events until no file, trace or export work is pending, no rerun is
        streaming in and the trace plots hold the whole trace (tests, shutdown,
        lstmviz.Viewer: a screenshot after it shows what the Document holds)."""
        from PySide6.QtCore import QDeadlineTimer, QEventLoop

        deadline = QDeadlineTimer(timeout_ms)
        while self.busy and not deadline.hasExpired():
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            for job in self._jobs():
                job.wait(5)
        return not self.busy

    # -- open: every way in goes through the WindowController (lstmviz.gui.controller) --------
    @property
    def controller(self):
        if self._controller is None:
            from lstmviz.gui.controller import WindowController

            self._controller = WindowController(self)
        return self._controller

    def open_dialog(self) -> None:
        self.controller.open_dialog()

    def open_paths(self, paths) -> None:
        self.controller.open_paths(paths)

    def open_path(self, path, layer: str | None = None) -> None:
        self.controller.open(path, layer=layer)

    # -- save --------------------------------------------------------------------------------
    def save(self) -> bool:
        path = self.document.document_path
        if not path:
            return self.save_as()
        return self.save_to(path)

    def save_as(self) -> bool:
        current = self.document.document_path
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
        from lstmviz.document.files import snapshot
        from lstmviz.io.document_file import write_document

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
        from lstmviz.document.files import snapshot

        return snapshot(self.document, meta={"autosave": {
            "document_path": self.document.document_path,
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }})

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
        if not self.controller.recover(recovery):
            return False
        if self.autosaver is not None:  # ours first, then the old one goes: never zero copies
            self.autosaver.save(self._autosave_state(), self._version, background=False)
        recovery.discard()
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
        kind = event.type()
        if obj is self.window and kind == QEvent.Type.Close and not self._closed:
            if not self.confirm_discard("close the window"):
                event.ignore()
                return True
            self.shutdown()
        elif kind in _DRAG_KINDS and (obj is self.window or obj.property("lstmvizDrops")):
            if kind == QEvent.Type.DragEnter or kind == QEvent.Type.DragMove:
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

    def watch_drops(self) -> None:
        """Files dropped anywhere in the window open: the graphics views (the cell diagram,
        the trace plots) take drops themselves and would swallow them, so they are watched
        too. Called again when views are added (analysis docks)."""
        from PySide6.QtWidgets import QAbstractScrollArea

        for area in self.window.findChildren(QAbstractScrollArea):
            viewport = area.viewport()
            if viewport.property("lstmvizDrops"):
                continue
            viewport.setProperty("lstmvizDrops", True)
            viewport.setAcceptDrops(True)
            viewport.installEventFilter(self)

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
