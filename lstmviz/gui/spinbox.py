"""Spin boxes that keep their own arrow keys.

The window's Cell menu binds Up and Down to previous / next unit. A window shortcut takes a
key before the focused widget unless the widget claims it in ShortcutOverride, so Up in a
focused spin box went *down* a unit instead of raising the box's value (issue 10).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox

OWN_KEYS = (Qt.Key.Key_Up, Qt.Key.Key_Down, Qt.Key.Key_PageUp, Qt.Key.Key_PageDown)


def _claims(event) -> bool:
    return (event.type() == QEvent.Type.ShortcutOverride and event.key() in OWN_KEYS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier)


class SpinBox(QSpinBox):
    def event(self, event) -> bool:
        if _claims(event):
            event.accept()
            return True
        return super().event(event)


class DoubleSpinBox(QDoubleSpinBox):
    def event(self, event) -> bool:
        if _claims(event):
            event.accept()
            return True
        return super().event(event)
