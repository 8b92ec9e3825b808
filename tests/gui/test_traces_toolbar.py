"""The strip above the trace plots flows onto more rows when the Traces dock is narrow: it
shares the window's width with the Inspector (the bottom-right corner belongs to the right
dock area), and a one-row strip of ~870 px kept the Inspector from being dragged wider than
~390 px at 1280 x 720 (found by a new-user tester: a 5 x 5 cell's [U | W] needs ~500)."""

from __future__ import annotations

import pytest
from PySide6 import QtWidgets
from PySide6.QtCore import QRect, Qt

from lstmviz.gui.main_window import MainWindow
from lstmviz.gui.panels.toolbar import PanelsToolbar

CONTROL_TYPES = (QtWidgets.QLabel, QtWidgets.QAbstractButton, QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox)


def controls(toolbar) -> list[QtWidgets.QWidget]:
    """Every label and control in the strip (not the parts inside a spin box or combo box)."""
    found = []
    for w in toolbar.findChildren(QtWidgets.QWidget):
        if not isinstance(w, CONTROL_TYPES):
            continue
        parent, inner = w.parentWidget(), False
        while parent is not None and parent is not toolbar:
            inner = inner or isinstance(parent, CONTROL_TYPES)
            parent = parent.parentWidget()
        if not inner:
            found.append(w)
    return found


def assert_all_shown(toolbar) -> None:
    inside = toolbar.rect()
    rects: list[tuple[str, QRect]] = []
    for w in controls(toolbar):
        name = getattr(w, "text", lambda: "")() or type(w).__name__
        assert w.isVisible(), name
        rect = QRect(w.mapTo(toolbar, w.rect().topLeft()), w.size())
        assert inside.contains(rect), (name, rect, inside)
        if w is not toolbar.readout:
            hint = w.sizeHint()
            assert w.width() >= hint.width() and w.height() >= min(hint.height(), toolbar.height()), name
        for other, seen in rects:
            assert not rect.intersects(seen), (name, other)
        rects.append((name, rect))
    assert len(rects) >= 10  # Show: xₜ z | Draw: Auto | Playback: Moving cursor Follow steps Fit, read-out


def test_the_inspector_can_be_widened_to_600_px_at_1280_x_720(qtbot, make_document):
    window = MainWindow(make_document("memory-cell"))
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window._editors_installed, timeout=2000)  # (which sizes the docks)
    qtbot.wait(20)
    dock = window.docks["inspector"]
    window.resizeDocks([dock], [600], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: dock.width() >= 590, timeout=2000)
    toolbar = window.traces.toolbar
    qtbot.waitUntil(lambda: toolbar.height() >= toolbar.heightForWidth(toolbar.width()), timeout=2000)
    assert window.docks["traces"].width() < toolbar.sizeHint().width()  # (so it did wrap)
    assert_all_shown(toolbar)


@pytest.mark.parametrize("width", [200, 330, 480, 700, 1000, 1400])
def test_the_strip_wraps_without_cutting_or_overlapping(qtbot, width):
    toolbar = PanelsToolbar()
    qtbot.addWidget(toolbar)
    toolbar.set_readout("t = <b>12</b> &nbsp;unit 3&nbsp; h = <b>−0.1234</b>")
    width = max(width, toolbar.minimumSizeHint().width())
    toolbar.resize(width, toolbar.heightForWidth(width))
    toolbar.show()
    qtbot.waitExposed(toolbar)
    assert_all_shown(toolbar)
    one_row = toolbar.sizeHint().height()
    assert (toolbar.height() == one_row) == (width >= toolbar.sizeHint().width())
    assert toolbar.minimumSizeHint().width() < 260
