"""The QApplication, the window on screen, and the window rendered offscreen to a PNG."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

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


def window_icon():
    from PySide6.QtGui import QIcon

    path = Path(__file__).resolve().parent.parent / "resources" / "icons" / "lstmviz.svg"
    return QIcon(str(path)) if path.exists() else None


def run_window(document) -> int:
    """Show the main window on the Document and run until it is closed."""
    app = ensure_app()
    from lstmviz.gui.main_window import MainWindow

    window = MainWindow(document)
    window.show()
    window.raise_()
    window.activateWindow()
    # Ctrl+C in the terminal closes the window (Qt's loop would otherwise swallow it).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    return int(app.exec())


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
