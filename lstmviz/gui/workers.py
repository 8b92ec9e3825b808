"""Background work for the window: parsing files, running long traces, writing exports.

A Job is one kind of work (loading a file, running a trace, exporting). Each start() bumps
the job's generation; a result that arrives for an older generation is dropped on the GUI
thread, so only the newest request ever lands in the Document (ndv's _request_data).
Work that is still running after half a second gets a progress dialog with Cancel;
cancelling drops the result (and, for work that reports progress, stops it).

The work function runs in QThreadPool and receives `progress(fraction or None) -> bool`;
it returns False once the user cancelled. Nothing here touches the Document from a thread.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from lstmviz.errors import LstmvizError

SHOW_PROGRESS_AFTER_MS = 500
# While background work runs, threads switch the GIL this often (seconds; CPython's default
# is 0.005). A worker computing in small NumPy calls holds the GIL between them, and each
# time the GUI thread comes back from Qt into Python (a slot, an event filter, a pyqtgraph
# paint) it waited up to the whole interval for it: frames of 20-60 ms, up to 300 ms, at
# T = 100 000 while a what-if replay computed (scripts/bench_gui.py (f)). At 0.5 ms the GUI
# thread's median wait measured 0.8 ms instead of 5.3 ms.
JOB_SWITCH_INTERVAL_S = 0.0005
ISOLATED_SUFFIXES = (".h5", ".hdf5", ".keras", ".weights.h5", ".onnx")


class Cancelled(Exception):
    """The user cancelled the work."""


class _SwitchInterval:
    """Lowers the GIL switch interval while any background task runs (JOB_SWITCH_INTERVAL_S)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tasks = 0
        self._default = sys.getswitchinterval()  # (read again as the first task starts)

    def task_started(self) -> None:  # GUI thread
        with self._lock:
            if self._tasks == 0:
                self._default = sys.getswitchinterval()
                sys.setswitchinterval(min(self._default, JOB_SWITCH_INTERVAL_S))
            self._tasks += 1

    def task_ended(self) -> None:  # worker thread, as its task returns
        with self._lock:
            self._tasks = max(0, self._tasks - 1)
            if self._tasks == 0:
                sys.setswitchinterval(self._default)


SWITCH_INTERVAL = _SwitchInterval()


class _Bridge(QObject):
    finished = Signal(int, bool, object)  # generation, ok, result or exception


class _Task(QRunnable):
    def __init__(self, fn, generation: int, bridge: _Bridge, progress):
        super().__init__()
        self.fn, self.generation, self.bridge, self.progress = fn, generation, bridge, progress

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(self.progress)
        except BaseException as error:  # noqa: BLE001 - handed to the GUI thread
            if not isinstance(error, (LstmvizError, Cancelled)):
                error.lstmviz_traceback = traceback.format_exc()
            self._deliver(False, error)
        else:
            self._deliver(True, result)
        finally:
            SWITCH_INTERVAL.task_ended()

    def _deliver(self, ok: bool, value) -> None:
        try:
            self.bridge.finished.emit(self.generation, ok, value)
        except RuntimeError:  # the bridge was deleted: the app is exiting, nobody waits for it
            pass


def describe_error(error: BaseException) -> str:
    """One line for a message box: LstmvizErrors as they are; anything else labelled."""
    if isinstance(error, LstmvizError):
        return str(error)
    if isinstance(error, MemoryError):
        return "not enough memory for this (try a shorter sequence or a smaller model)"
    text = str(error) or type(error).__name__
    return f"unexpected error: {text}"


class Job(QObject):
    """One kind of background work; starting it again supersedes the previous request."""

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, name: str = "job"):
        super().__init__(parent)
        self.name = name
        self.generation = 0
        self._running = 0
        # No parent: every running task holds a reference, so a task that finishes after the
        # window (and this Job) are gone emits on a live object; Qt drops the delivery then.
        self._bridge = _Bridge()
        self._bridge.finished.connect(self._finished)
        self._handlers: dict[int, tuple] = {}
        self._dialog: QProgressDialog | None = None
        self._fraction: float | None = None
        self._cancel = threading.Event()
        self._show_timer = QTimer(self)
        self._show_timer.setSingleShot(True)
        self._show_timer.timeout.connect(self._show_progress)
        self._poll = QTimer(self)
        self._poll.setInterval(100)
        self._poll.timeout.connect(self._update_progress)
        self._label = ""
        self._widget: QWidget | None = None
        self.show_after_ms = SHOW_PROGRESS_AFTER_MS
        self.last_dialog_shown = False
        self._status = None  # a StatusProgress in the window's status line, instead of a dialog
        self._status_label = ""

    def show_progress_in(self, status_bar, label: str, tooltip: str) -> None:
        """Show this job's progress (and Cancel) in `status_bar` instead of a modal dialog:
        for work the window stays usable through (a trace computed in the background)."""
        from lstmviz.gui.status_progress import StatusProgress

        self._status = StatusProgress(label, tooltip, "Stop this and leave everything as it was",
                                      name=f"{self.name}Progress")
        self._status.cancel_button.clicked.connect(self._user_cancelled)
        self._status.hide()
        status_bar.addPermanentWidget(self._status)

    def show_progress_now(self) -> None:
        """Show the progress (and Cancel) of the running work at once, not after show_after_ms."""
        if self.busy and self._status is not None:
            self._show_timer.stop()
            self._show_progress()

    @property
    def busy(self) -> bool:
        return bool(self._handlers)

    def start(
        self,
        fn: Callable[[Callable], object],
        on_done: Callable[[object], None],
        on_error: Callable[[BaseException], None] | None = None,
        *,
        label: str = "Working…",
        parent: QWidget | None = None,
        on_cancel: Callable[[], None] | None = None,
        synchronous: bool = False,
    ) -> int:
        """Run fn(progress) in the pool; on_done(result) on the GUI thread if still current."""
        self._cancel.set()
        self._handlers.pop(self.generation, None)
        self._close_dialog()
        self.generation += 1
        generation = self.generation
        self._cancel = threading.Event()
        cancel = self._cancel
        self._fraction = None

        def progress(fraction: float | None = None) -> bool:
            if fraction is not None:
                self._fraction = float(fraction)
            return not cancel.is_set()

        was_busy = self.busy
        self._handlers[generation] = (on_done, on_error, on_cancel)
        if synchronous:
            try:
                result = fn(progress)
            except BaseException as error:  # noqa: BLE001
                self._finished(generation, False, error)
            else:
                self._finished(generation, True, result)
            return generation
        self._label, self._widget = label, parent
        self._show_timer.start(self.show_after_ms)
        SWITCH_INTERVAL.task_started()
        QThreadPool.globalInstance().start(_Task(fn, generation, self._bridge, progress))
        if not was_busy:
            self.busy_changed.emit(True)
        return generation

    def cancel(self, silent: bool = False) -> None:
        """Drop the current request (its result will be ignored) and stop it if it can."""
        self._cancel.set()
        handlers = self._handlers.pop(self.generation, None)
        self._close_dialog()
        if handlers is not None:
            if not silent and handlers[2] is not None:
                handlers[2]()
            if not self._handlers:
                self.busy_changed.emit(False)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """For tests and shutdown: process events until this job is idle."""
        from PySide6.QtCore import QDeadlineTimer, QEventLoop
        from PySide6.QtWidgets import QApplication

        deadline = QDeadlineTimer(timeout_ms)
        while self.busy and not deadline.hasExpired():
            QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            QThreadPool.globalInstance().waitForDone(5)
        return not self.busy

    # -- GUI thread ----------------------------------------------------------------------------
    def _finished(self, generation: int, ok: bool, value) -> None:
        handlers = self._handlers.pop(generation, None)
        if generation == self.generation:
            self._close_dialog()
        if handlers is None:
            return  # superseded or cancelled: dropped
        on_done, on_error, on_cancel = handlers
        if not self._handlers:
            self.busy_changed.emit(False)
        if ok:
            on_done(value)
            return
        if isinstance(value, Cancelled) or type(value).__name__ == "ExportCancelled":
            if on_cancel is not None:
                on_cancel()
            return
        tb = getattr(value, "lstmviz_traceback", None)
        if tb:
            print(tb, file=sys.stderr)
        if on_error is not None:
            on_error(value)

    def _show_progress(self) -> None:
        if not self.busy or self._dialog is not None:
            return
        if self._status is not None:
            self._status.set_label(self._label)
            self._status.show()
            self._update_progress()
            self._poll.start()
            return
        dialog = QProgressDialog(self._label, "Cancel", 0, 0, self._widget)
        dialog.setWindowTitle("lstmviz")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumWidth(380)
        dialog.canceled.connect(self._user_cancelled)
        self._dialog = dialog
        self.last_dialog_shown = True
        self._update_progress()
        dialog.show()
        self._poll.start()

    def _update_progress(self) -> None:
        if self._status is not None and self._status.isVisible():
            self._status.show_fraction(self._fraction)
        if self._dialog is None:
            return
        if self._fraction is None:
            self._dialog.setRange(0, 0)  # busy: the work cannot say how far it is
        else:
            self._dialog.setRange(0, 1000)
            self._dialog.setValue(int(round(1000 * min(max(self._fraction, 0.0), 1.0))))

    def _user_cancelled(self) -> None:
        self.cancel()

    def _close_dialog(self) -> None:
        self._show_timer.stop()
        self._poll.stop()
        if self._status is not None:
            self._status.hide()
        dialog, self._dialog = self._dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self._user_cancelled)
            dialog.close()
            dialog.deleteLater()

    @property
    def dialog(self) -> QProgressDialog | None:
        return self._dialog


# -- model and file loading -----------------------------------------------------------------
def isolated_loader():
    """lstmviz.io.isolated.load_model_isolated when that module exists, else None."""
    try:
        if importlib.util.find_spec("lstmviz.io.isolated") is None:
            return None
    except (ImportError, ValueError):
        return None
    from lstmviz.io import isolated

    return getattr(isolated, "load_model_isolated", None)


def needs_isolation(path) -> bool:
    """HDF5 and ONNX files (lstmviz.io.models decides when it can)."""
    try:
        from lstmviz.io.models import needs_isolation as decide
    except ImportError:
        return Path(path).name.lower().endswith(ISOLATED_SUFFIXES)
    return bool(decide(path))


def load_model_file(path, layer: str | None = None):
    """(params, sha256) — HDF5 and ONNX files are parsed in a child process when the
    isolated loader exists, so a crafted file can crash only that process."""
    from lstmviz.io.document_file import file_sha256

    if needs_isolation(path):
        loader = isolated_loader()
        if loader is not None:
            params = loader(path, layer=layer)
        else:
            from lstmviz.io.models import load_model

            params = load_model(path, layer=layer)
    else:
        from lstmviz.io.models import load_model

        params = load_model(path, layer=layer)
    try:
        digest = file_sha256(path)
    except OSError:
        digest = None
    return params, digest
