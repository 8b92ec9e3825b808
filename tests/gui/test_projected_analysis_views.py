"""Every analysis view (View menu) on a projected LSTMP cell, whose h has p = 2 entries and
c has n = 6 (tests/fixtures/torch/lstmp_state_dict.pt): a user opens each in the real window,
steps, picks units past p and every gate, switches every quantity, and each view shows
something sensible and raises nothing (an exception in a view fails the test)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QComboBox, QLabel

from lstmviz.gui.analysis import VIEWS
from lstmviz.gui.viewer import Viewer

LSTMP = Path(__file__).resolve().parents[1] / "fixtures" / "torch" / "lstmp_state_dict.pt"
SELECTIONS = ("f", "i", "g", "o", "c", "mul_o", "h", "h_prev")


@pytest.fixture
def viewer(qtbot, tmp_path):
    expected = np.load(str(LSTMP) + ".expected.npz")
    np.save(tmp_path / "x0.npy", expected["x0"])
    v = Viewer(show=False)
    qtbot.addWidget(v.window)
    v.window.resize(1280, 720)
    v.window.show()
    v.open(LSTMP, input=tmp_path / "x0.npy", confirm=False)
    assert (v.document.params.n, v.document.params.h_size) == (6, 2)
    yield v
    v.close()


def labels_text(view) -> str:
    return "\n".join(label.text() for label in view.findChildren(QLabel))


def exercise(v, view, menus: bool = True) -> None:
    """What a user does with a view open: step, pick units (past p too) and parts, and every
    entry of the view's quantity menus."""
    doc = v.document
    boxes = [box for box in view.findChildren(QComboBox) if box.isEnabled()] if menus else []
    for t in (0, 3, doc.T - 1):
        v.set_step(t)
    for unit in (doc.n - 1, 1, 4):
        doc.set_unit(unit)
        v._process()
        for selection in SELECTIONS:
            doc.set_selection(selection)
            v._process()
    for box in boxes:
        for index in range(box.count()):
            box.setCurrentIndex(index)
            v._process()
        box.setCurrentIndex(0)
        v._process()


@pytest.mark.parametrize("key", [spec.key for spec in VIEWS])
def test_every_analysis_view_on_a_projected_cell(viewer, key):
    v, doc = viewer, viewer.document
    v.window.analysis.show(key)
    v._process()
    view = v.window.analysis.view(key)
    exercise(v, view, menus=key != "train")  # (the train view's menus set up a training run)
    doc.set_unit(5)  # a unit of c that h (p = 2) does not have
    doc.set_selection("h")
    v.set_step(4)
    text = labels_text(view)
    assert "nan" not in text.lower().split(), text
    assert getattr(view, "last_message", None) in (None, ""), view.last_message
    if key == "memory":
        assert view.curves is not None and view.readout.text()
    elif key == "saturation":
        assert view.readout.text()
    elif key == "curves":
        assert view.info.text()
    elif key in ("whatif", "compare"):
        box = view.quantity_box
        for quantity, rows in (("h", 2), ("c", 6)):
            box.setCurrentIndex(box.findData(quantity))
            v._process()
            view.refresh_now({"trace"}) if hasattr(view, "refresh_now") else None
            assert view.overlay is not None and view.overlay.rows == rows, quantity
            assert view.overlay.unit == (1 if quantity == "h" else 5)
            assert view.summary.text()
    elif key == "match":
        assert view.quantity_box.count() >= 2
