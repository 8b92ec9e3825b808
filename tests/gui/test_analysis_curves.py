"""The activation-curve view follows the selected gate, unit and step."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.analysis import activation_point
from lstmviz.gui.analysis.curves import ActivationCurveView


@pytest.fixture
def curves(qtbot, make_document):
    doc = make_document("memory-cell")
    view = ActivationCurveView(doc)
    qtbot.addWidget(view)
    view.resize(800, 520)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_marks_the_current_z_with_value_and_slope(curves):
    doc, view = curves
    assert view.gate == "f" == doc.selection
    point = activation_point(doc.params, doc.trace, "f", doc.unit, doc.step)
    x, y = view.now_dot.getData()
    assert (x[0], y[0]) == pytest.approx((point.z, point.value))
    assert view.now_deriv.getData()[1][0] == pytest.approx(point.derivative)
    assert view.bound_line.value() == pytest.approx(0.25)
    assert "σ′ ≤ 0.25" in view.bound_label.toPlainText()
    # the curve covers every z the gate took, so the marker never leaves it
    z = doc.trace.zf[:, doc.unit]
    cx, cy = view.value_curve.getData()
    assert cx[0] <= z.min() and cx[-1] >= z.max()


def test_follows_selection_unit_and_step(curves):
    doc, view = curves
    count = view.compute_count
    doc.set_step(10)
    assert view.compute_count == count  # a step moves the marker only
    assert list(view.path.steps) == list(range(0, 11))
    doc.set_selection("g")
    assert view.gate == "g" and view.gate_box.currentData() == "g"
    assert view.bound_line.value() == pytest.approx(1.0)  # tanh' <= 1
    assert "tanh′ ≤ 1" in view.bound_label.toPlainText()
    doc.set_selection("h")  # the tanh inside h = o tanh(c)
    assert view.gate == "c"
    doc.set_selection("x")  # no curve for the input: keep the last one
    assert view.gate == "c"
    doc.set_unit(1)
    assert view.unit_box.value() == 1
    point = activation_point(doc.params, doc.trace, "c", 1, 10)
    assert view.now_dot.getData()[0][0] == pytest.approx(point.z)
    assert f"{point.derivative_bound:g}" in view.info.text() or "maximum 1" in view.info.text()


def test_path_length_and_gate_box_write_the_document(curves):
    doc, view = curves
    doc.set_step(30)
    view.steps_box.setValue(5)
    assert list(view.path.steps) == [26, 27, 28, 29, 30]
    np.testing.assert_allclose(view.path_dots.getData()[0], doc.trace.zf[26:31, doc.unit])
    view.gate_box.setCurrentIndex(view.gate_box.findData("o"))
    assert doc.selection == "o"


def test_saturated_gate_is_called_saturated(curves):
    doc, view = curves
    doc.set_selection("o")  # b_o = 8: the output gate is open and flat
    assert "saturated" in view.info.text()


@pytest.mark.parametrize("width", [460, 390, 260])
def test_a_long_title_fits_its_plot_or_is_elided_with_the_whole_in_its_tooltip(qtbot, make_document, width):
    """At 1280 x 720 the dock beside the inspector is ~390 px: the title ran off the plot's right
    edge ("…tanh(c) and its"). It wraps onto two lines, and what still does not fit ends in "…"."""
    from lstmviz.gui.analysis import common

    doc = make_document("memory-cell")
    doc.set_selection("c")
    view = ActivationCurveView(doc)
    qtbot.addWidget(view)
    view.resize(width, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(5)
    plot = view.plot
    full = common.title_full_text(plot)
    assert "and its slope" in full
    assert common.title_fits(plot), common.title_text(plot)
    label = plot.titleLabel
    assert label.rect().right() <= plot.getViewBox().geometry().right() + 1
    shown = common.title_text(plot)
    if shown != full:
        assert shown.endswith(common.ELLIPSIS) and full.startswith(shown[:-1].rstrip())
        assert label.toolTip() == full
    else:
        assert label.toolTip() == ""
    if width >= 390:
        assert shown == full  # on two lines: the whole title
    view.resize(1000, 600)  # wider again: the whole title comes back
    qtbot.wait(5)
    QtWidgets = pytest.importorskip("PySide6.QtWidgets")
    QtWidgets.QApplication.processEvents()
    assert common.title_text(plot) == full and common.title_fits(plot)
