"""Help > Keyboard shortcuts: the window's shortcut table in a dialog that scrolls.

A QMessageBox grows to its text (984 px tall for the ~70 rows), off a 720-px screen; this
dialog is at most 80 % of the available screen and scrolls the table.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

SCREEN_SHARE = 0.8


class ShortcutsDialog(QDialog):
    def __init__(self, html: str, parent=None):
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.browser = QTextBrowser()
        self.browser.setObjectName("shortcutsText")
        self.browser.setOpenLinks(False)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(self._fitting_size())

    def _fitting_size(self) -> QSize:
        """The table's own size, capped at SCREEN_SHARE of the screen the dialog opens on."""
        page = self.browser.document()
        page.setTextWidth(-1)
        want_w = int(page.idealWidth()) + 60
        want_h = int(page.size().height()) + 90
        screen = (self.parentWidget().screen() if self.parentWidget() is not None else self.screen())
        area = screen.availableGeometry()
        return QSize(min(max(want_w, 360), int(area.width() * SCREEN_SHARE)),
                     min(max(want_h, 240), int(area.height() * SCREEN_SHARE)))


def show_shortcuts(window) -> ShortcutsDialog:
    """Open the dialog on `window`'s shortcut table (MainWindow.shortcuts_html), non-modal."""
    dialog = ShortcutsDialog(window.shortcuts_html(), window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
