"""The QApplication, the window on screen, and the window rendered offscreen to a PNG."""

from __future__ import annotations

import gc
import os
import signal
import sys

from lstmviz.errors import LstmvizError


def ensure_app():
    """The running QApplication, or a new one named lstmviz."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("lstmviz")
        app.setApplicationDisplayName("lstmviz")
        app.setOrganizationName("lstmviz")
        app.setDesktopFileName("lstmviz")
        icon = window_icon()
        if icon is not None:
            app.setWindowIcon(icon)
    return app


def after_first_paint(window, callback) -> None:
    """Run callback() once, soon after `window` is first painted (start-up work nobody sees:
    the autosave lock, the recovery question). A window deleted first never runs it."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    hook = getattr(window, "_lstmviz_first_paint", None)
    if hook is None:

        class _FirstPaint(QObject):
            def __init__(self, parent):
                super().__init__(parent)
                self.callbacks: list = []
                self.painted = False

            def eventFilter(self, obj, event) -> bool:
                if not self.painted and obj is self.parent() and event.type() == QEvent.Type.Paint:
                    self.painted = True
                    obj.removeEventFilter(self)
                    QTimer.singleShot(0, self, self.run)  # after this paint pass
                return False

            def run(self) -> None:
                callbacks, self.callbacks = self.callbacks, []
                for callback in callbacks:
                    callback()

        hook = _FirstPaint(window)
        window.installEventFilter(hook)
        window._lstmviz_first_paint = hook
    hook.callbacks.append(callback)
    if hook.painted:
        QTimer.singleShot(0, hook, hook.run)


_collection_held = False  # once per process: for its first window
_frozen_for = None  # that window: its long-lived objects are kept out of the collector's passes
# ... and at most this long, should that window never be painted (a failed build, a test)
COLLECTION_HELD_MAX_MS = 5000


def hold_garbage_collection(window) -> None:
    """Start-up: no cyclic garbage collection from now until `window` is first painted.
    Building the first window makes ~100 000 objects that live as long as it does (pyqtgraph,
    the views), and the collector's passes over them (~30 ms, one of them a full pass) would
    delay the first paint; the pass it owes runs once the window is up."""
    global _collection_held
    if _collection_held or not gc.isenabled():  # (someone else's choice: left as it is)
        return
    from PySide6.QtCore import QTimer

    _collection_held = True
    gc.disable()
    held = True

    def resume() -> None:
        nonlocal held
        if held:
            held = False
            gc.enable()
            keep_out_of_collection(window)

    global _frozen_for
    _frozen_for = window
    after_first_paint(window, resume)
    QTimer.singleShot(COLLECTION_HELD_MAX_MS, resume)


def keep_out_of_collection(window) -> None:
    """Move the objects alive now out of the cyclic collector's sight (gc.freeze), for the
    first window only: they live as long as it does (its views, pyqtgraph's items, ~75 000
    objects), and a full pass over them took 40-60 ms, a frame dropped in the middle of a
    rerun or of playback now and then (bench_gui (e): the longest frames were those passes).
    Garbage made later is collected as before. Called again once the editors are installed."""
    if window is _frozen_for and gc.isenabled():
        gc.freeze()


def window_icon():
    from PySide6.QtGui import QIcon

    from lstmviz.resources_path import resource

    path = resource("icons", "lstmviz.svg")
    return QIcon(str(path)) if path.exists() else None


def run_window(document, then=None, message: str | None = None) -> int:
    """Show the main window on the Document and run until it is closed; then(window), if
    given, runs once the window is shown (e.g. to open a file in the background). message:
    for the status line instead of the greeting (what opening the files said)."""
    app = ensure_app()
    from lstmviz.gui import errors_dialog
    from lstmviz.gui.main_window import MainWindow

    errors_dialog.install()  # no silent failure: every unexpected exception is logged and shown
    window = MainWindow(document)
    if message:
        window.statusBar().showMessage(message, 15000)
    _restore_geometry(window)  # before show: no jump (the docks follow once editing is installed)
    window.show()
    window.raise_()
    window.activateWindow()
    if then is not None:
        then(window)
    # Ctrl+C in the terminal closes the window (Qt's loop would otherwise swallow it).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return int(app.exec())


def _restore_geometry(window) -> None:
    """The window's size and place from the last clean exit (lstmviz.gui.settings)."""
    from PySide6.QtCore import QByteArray

    from lstmviz.gui import settings as prefs

    try:
        geometry = prefs.settings().value("window/geometry")
    except Exception:  # pragma: no cover - unreadable settings: the default size
        return
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)


def render_window(document, path, size=(1280, 800), scale: float = 1.0) -> tuple[int, int]:
    """Render the main window offscreen on the Document and save it as a PNG.

    Returns the image size in pixels (the window size times `scale`).
    """
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if scale != 1.0:
            os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"
    app = ensure_app()
    from lstmviz.gui.main_window import MainWindow

    window = MainWindow(document)
    try:
        window.resize(*size)
        window.show()
        if (window.width(), window.height()) != tuple(size):
            print(
                f"lstmviz: the window cannot be smaller than {window.minimumSizeHint().width()}x"
                f"{window.minimumSizeHint().height()}; drawn at {window.width()}x{window.height()}",
                file=sys.stderr,
            )
        for _ in range(4):
            app.processEvents()
        window.diagram.fit()
        app.processEvents()
        image = window.grab()
        if not image.save(str(path), "PNG"):
            raise LstmvizError("could not write the image", source=str(path))
        return image.width(), image.height()
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
