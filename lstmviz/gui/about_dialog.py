"""Help > About: what lstmviz is, and the versions a bug report needs, with "Copy to clipboard".

The facts come from lstmviz.about (Qt-free, shared with `lstmviz --version`); this dialog
adds Qt's runtime version, which is only known once Qt is loaded.
"""

from __future__ import annotations

from PySide6.QtCore import qVersion
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from lstmviz.about import about_text, lstmviz_version

BLURB = (
    "<p>See inside an LSTM cell: the classic diagram, alive, with the real numbers of every "
    "gate at every step.</p>"
    "<p>Notation as in PyTorch: z = W x<sub>t</sub> + U h<sub>t−1</sub> + b; the diagram's "
    "W·[h<sub>t−1</sub>, x<sub>t</sub>] is [U | W] side by side.</p>"
)


class AboutDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About lstmviz")
        self.facts = about_text(qt_runtime=qVersion())
        title = QLabel(f"<h3>lstmviz {lstmviz_version()}</h3>{BLURB}")
        title.setWordWrap(True)
        self.facts_view = QPlainTextEdit(self.facts)
        self.facts_view.setReadOnly(True)
        self.facts_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.facts_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = QPushButton("&Copy to clipboard")
        self.copy_button.setToolTip("The versions above, to paste into a bug report")
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.facts_view)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self.facts)
        self.copy_button.setText("Copied")


def show_about(parent=None) -> None:
    dialog = AboutDialog(parent)
    try:
        dialog.exec()
    finally:
        dialog.deleteLater()
