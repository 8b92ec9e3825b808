"""Help > About: the versions (with Qt's runtime version) and "Copy to clipboard"."""

from __future__ import annotations

import numpy
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication

from lstmviz.gui.about_dialog import AboutDialog


def test_about_shows_the_versions_and_copies_them(qtbot):
    dialog = AboutDialog()
    qtbot.addWidget(dialog)
    shown = dialog.facts_view.toPlainText()
    lines = shown.splitlines()
    assert lines[0].startswith("lstmviz ")
    assert f"Qt {qVersion()}" in lines
    assert f"PySide6 {pyside_version}" in lines and f"NumPy {numpy.__version__}" in lines
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == shown


def test_help_about_opens_the_dialog(make_window, monkeypatch):
    window = make_window()
    opened = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: opened.append(self.facts) or 0)
    action = next(a for a in window.menus["help"].actions() if a.objectName() == "actionAbout")
    action.trigger()
    assert len(opened) == 1 and opened[0].startswith("lstmviz ") and f"Qt {qVersion()}" in opened[0]
