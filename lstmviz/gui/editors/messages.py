"""Messages for bad input: one line naming the file or field and the problem.

The box is window-modal but opened without a nested event loop, so a message never blocks
the program (or a test); the last few messages are kept in `history` for tests and logs.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

history: deque[str] = deque(maxlen=50)


def show_error(parent: QWidget | None, message: str, title: str = "lstmviz") -> QMessageBox:
    history.append(message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("lstmviz-error")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowModality(Qt.WindowModality.WindowModal if parent is not None else Qt.WindowModality.NonModal)
    box.open()
    return box


def show_info(parent: QWidget | None, message: str, title: str = "lstmviz") -> QMessageBox:
    history.append(message)
    box = QMessageBox(QMessageBox.Icon.Information, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("lstmviz-info")
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
