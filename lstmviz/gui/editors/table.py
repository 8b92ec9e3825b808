"""A QTableView for editing numbers inside a window full of single-key shortcuts.

The main window steps with Left/Right and selects gates with plain letters; while a table
has the focus, arrow keys move between cells and typed characters start an edit instead.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QTableView

NAVIGATION = {
    Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_Home,
    Qt.Key.Key_End, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown, Qt.Key.Key_Tab, Qt.Key.Key_Backtab,
    Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_F2, Qt.Key.Key_Space,
}



class EditorTable(QTableView):
    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            plain = mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier)
            if plain and (event.key() in NAVIGATION or event.text().isprintable() and event.text()):
                event.accept()
                return True
        return super().event(event)
