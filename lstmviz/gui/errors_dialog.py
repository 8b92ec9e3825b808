"""No silent failure: an exception raised while the window handles an event is logged and shown.

Three ways an exception escapes a view without reaching anyone:
- a Qt virtual override or slot (paintEvent, QUndoCommand.redo, QRunnable.run, a timer, a
  menu action): PySide6 passes it to `sys.excepthook` and carries on;
- a Python thread that dies: `threading.excepthook`;
- a view's Document callback: the signal (lstmviz.document.signals) wraps it in
  EmitLoopError *in the emitter* and stops telling the remaining listeners, so one broken
  view leaves the others showing the old state.
  `lstmviz.gui.binding.bind` (how every view subscribes) catches it per listener and hands it
  to `report_exception`, which calls `sys.excepthook` too.

So everything ends in `sys.excepthook`. `install()` (the real window, `lstmviz.gui.app`) makes
that hook log the traceback (stderr and a log file) and show a dialog with the traceback under
"Details". In the test suite pytest-qt owns `sys.excepthook` during every test and fails the
test on any exception that reached it (tests/conftest.py checks this stays on).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

LOG = logging.getLogger("lstmviz")
LOG_FILE_NAME = "lstmviz-errors.log"
LOG_FILE_MAX_BYTES = 1_000_000

_reporter = None  # the installed _Reporter (one per process)


def report_exception(error: BaseException) -> None:
    """Hand an exception a view caught to whatever owns `sys.excepthook` (never raises)."""
    try:
        sys.excepthook(type(error), error, error.__traceback__)
    except Exception:  # noqa: BLE001 - a broken hook must not break the caller as well
        traceback.print_exception(type(error), error, error.__traceback__)


def log_path() -> Path:
    """Where the window logs unexpected errors: $LSTMVIZ_STATE_DIR or the user log dir."""
    override = os.environ.get("LSTMVIZ_STATE_DIR")
    if override:
        return Path(override) / LOG_FILE_NAME
    import platformdirs

    return Path(platformdirs.user_log_dir("lstmviz", appauthor=False)) / LOG_FILE_NAME


def install() -> None:
    """Log and show every unexpected exception of this process (call once the app exists)."""
    global _reporter
    if _reporter is not None:
        return
    _reporter = Reporter()
    _setup_logging()
    previous_thread_hook = threading.excepthook

    def thread_hook(args) -> None:
        if args.exc_type is SystemExit:
            previous_thread_hook(args)
            return
        _reporter.handle(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = _reporter.handle
    threading.excepthook = thread_hook


def _setup_logging() -> None:
    if LOG.handlers:
        return
    LOG.setLevel(logging.INFO)
    stderr = logging.StreamHandler()
    stderr.setFormatter(logging.Formatter("lstmviz: %(message)s"))
    LOG.addHandler(stderr)
    try:
        from logging.handlers import RotatingFileHandler

        path = log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=LOG_FILE_MAX_BYTES, backupCount=1, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        LOG.addHandler(handler)
    except OSError:  # an unwritable log folder: stderr alone
        pass


def _signature(exc_type, tb) -> tuple:
    """The same error from the same line (a paintEvent failing at every repaint) is one error."""
    frames = traceback.extract_tb(tb)
    last = frames[-1] if frames else None
    return (exc_type.__name__, last.filename if last else "", last.lineno if last else 0)


class Reporter(QObject):
    """Logs at once (any thread); shows the dialog on the GUI thread, one at a time."""

    show_requested = Signal(str, str)  # summary, traceback text (queued to the GUI thread)

    def __init__(self):
        super().__init__()
        self._shown: set[tuple] = set()
        self._dialog = None
        self._more = 0
        self.show_requested.connect(self._show, Qt.ConnectionType.QueuedConnection)

    def handle(self, exc_type, exc_value, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc_value, tb)
            return
        details = "".join(traceback.format_exception(exc_type, exc_value, tb))
        LOG.error("unexpected error (the window may show a stale state):\n%s", details.rstrip())
        key = _signature(exc_type, tb)
        if key in self._shown:
            return  # logged; the user has already seen this one
        self._shown.add(key)
        summary = f"{exc_type.__name__}: {exc_value}" if str(exc_value) else exc_type.__name__
        # a signal, not a direct call: a worker thread must not build widgets, and a dialog
        # opened inside a paint event would run an event loop inside the paint
        self.show_requested.emit(summary, details)

    def _show(self, summary: str, details: str) -> None:
        if self._dialog is not None and self._dialog.isVisible():
            self._more += 1
            self._dialog.setInformativeText(
                f"{self._informative()}\n\n{self._more} more error(s) since; see the log."
            )
            return
        self._more = 0
        parent = QApplication.activeWindow()
        box = QMessageBox(parent)
        box.setObjectName("unexpectedErrorDialog")
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("lstmviz: unexpected error")
        box.setText(f"Something went wrong inside lstmviz:\n{summary[:500]}")
        box.setInformativeText(self._informative())
        box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._closed)
        self._dialog = box
        box.open()

    def _closed(self, *_args) -> None:
        self._dialog = None

    @staticmethod
    def _informative() -> str:
        return (
            "The window may not show everything correctly. Please report this with the "
            f"details below; they were also written to {log_path()}."
        )
