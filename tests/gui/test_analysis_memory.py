"""The memory and gradient view follows the Document and computes only when it must."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtGui
from PySide6.QtCore import QPointF, Qt

from lstmviz.core.analysis import forget_product, gradient_flow
from lstmviz.gui.analysis.memory import MemoryView


def click_at(qtbot, layout_widget, plot, x: float, y: float) -> None:
    """A left click where the data point (x, y) of `plot` is drawn."""
    scene = plot.getViewBox().mapViewToScene(QPointF(x, y))
    pos = layout_widget.mapFromScene(scene)
    qtbot.mouseClick(layout_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


@pytest.fixture
def memory(qtbot, make_document):
    doc = make_document("memory-cell")
    view = MemoryView(doc)
    qtbot.addWidget(view)
    view.resize(900, 560)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_draws_the_forget_product_and_gradients_of_the_last_step(memory):
    doc, view = memory
    assert view.target == doc.T - 1
    cv = view.curves
    assert cv is not None and cv.target == doc.T - 1 and cv.unit == doc.unit
    np.testing.assert_allclose(cv.fprod, forget_product(doc.trace, doc.T - 1, doc.unit))
    flow = gradient_flow(doc.params, doc.trace, doc.T - 1, doc.unit, "h")
    np.testing.assert_allclose(cv.dc, np.abs(flow.dc[:, doc.unit]))
    x, y = view.fprod_curve.getData()
    assert len(x) == doc.T
    # the heatmap covers every unit and every step up to T
    assert view.heat.image.shape == (doc.n, doc.T)
    # the forget gate of unit k is drawn on the same time axis
    fx, fy = view.forget_curve.getData()
    np.testing.assert_allclose(fy, doc.trace.f[:, doc.unit])


def test_step_moves_only_the_cursor(memory):
    doc, view = memory
    count = view.compute_count
    for t in (5, 17, 30):
        doc.set_step(t)
        assert all(c.step == t for c in view.cursors)
        assert f"t = {t}" in view.readout.text()
    assert view.compute_count == count


def test_unit_trace_target_and_wrt_recompute(memory):
    doc, view = memory
    count = view.compute_count
    doc.set_unit(1)
    assert view.compute_count == count + 1 and view.curves.unit == 1
    assert view.unit_box.value() == 1
    view.set_target(20)
    assert view.curves.target == 20 and view.target_box.value() == 20
    view.set_wrt("c")
    assert view.curves.wrt == "c"
    np.testing.assert_allclose(view.curves.fprod, forget_product(doc.trace, 20, 1))
    before = view.compute_count
    doc.set_input(doc.xs * 0.5)
    assert view.compute_count == before + 1
    # the same key again does not recompute
    view.mark("data")
    assert view.compute_count == before + 1


def test_target_follows_a_shorter_input_and_the_current_step(memory):
    doc, view = memory
    doc.set_step(12)
    view.here_button.click()
    assert view.target == 12
    doc.set_input(doc.xs[:8])
    assert view.target == 7 and view.curves.target == 7
    view.last_button.click()
    doc.set_input(np.vstack([doc.xs, doc.xs]))
    assert view.target == doc.T - 1


def test_clicking_a_time_moves_the_step(qtbot, memory):
    doc, view = memory
    click_at(qtbot, view.view, view.decay_plot, 9.0, -3.0)
    assert doc.step == 9
    click_at(qtbot, view.view, view.heat_plot, 27.2, 0.0)
    assert doc.step == 27


def test_hidden_view_catches_up_when_shown(qtbot, memory):
    doc, view = memory
    view.hide()
    count = view.compute_count
    doc.set_unit(1)
    doc.set_step(4)
    assert view.compute_count == count
    view.show()
    qtbot.waitExposed(view)
    assert view.compute_count == count + 1 and view.curves.unit == 1
    assert view.cursors[0].step == 4


def test_log_toggle_and_sum_over_units(memory):
    doc, view = memory
    view.log_box.setChecked(False)
    assert not view.decay_plot.getAxis("left").logMode
    view.sum_box.setChecked(True)
    assert view.curves.unit is None
    assert not view.unit_box.isEnabled()
    assert view.unit_box_item.isVisible() is False


def _in_scroll(qtbot, view, width: int, height: int):
    """The view as a dock holds it (lstmviz.gui.analysis._scrolling), at a dock's size."""
    from lstmviz.gui.analysis import _scrolling

    scroll = _scrolling(view)
    qtbot.addWidget(scroll)
    scroll.resize(width, height)
    scroll.show()
    qtbot.waitExposed(scroll)
    qtbot.wait(50)
    return scroll


def _rect_in(widget, ancestor):
    from PySide6.QtCore import QPoint, QRect

    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def _on_screen(canvas, item, within):
    """A graphics item's drawn rect (less its text margins), in `within`'s coordinates."""
    rect = item.sceneBoundingRect()
    document = getattr(item, "document", None)
    if document is not None:
        m = document().documentMargin()
        rect = rect.adjusted(m, m, -m, -m)
    on_canvas = canvas.mapFromScene(rect).boundingRect()
    return on_canvas.translated(canvas.viewport().mapTo(within, on_canvas.topLeft()) - on_canvas.topLeft())


@pytest.mark.parametrize("size", [(889, 278), (1049, 408), (560, 600)])  # 1280 x 720, 1440 x 900, narrow
def test_every_caption_and_axis_title_is_inside_the_dock_and_apart(qtbot, make_document, size):
    """In the 290-px bottom dock of a 1280 x 720 window the legend was drawn over the heatmap's
    "step t" (the view laid out 14 px shorter than it needed), the rotated "share / gradient"
    ran over three plots, and the log decades' labels were squashed together."""
    doc = make_document("brackets")
    view = MemoryView(doc)
    scroll = _in_scroll(qtbot, view, *size)
    viewport = scroll.viewport()
    canvas = view.view
    canvas_rect = _rect_in(canvas, viewport)
    for label in (view.legend, view.readout):
        rect = _rect_in(label, viewport)
        assert not rect.intersects(canvas_rect), (label.objectName(), rect, canvas_rect)
        assert label.heightForWidth(label.width()) <= rect.height() + 1  # not cut
    step_t = canvas.mapFromScene(view.heat_plot.getAxis("bottom").label.sceneBoundingRect()).boundingRect()
    margin = view.heat_plot.getAxis("bottom").label.document().documentMargin()
    assert step_t.bottom() - margin <= canvas.viewport().height() + 1  # inside its canvas
    if size[1] < 500:  # the bottom dock: the whole view in view, no scrolling to read it
        assert scroll.verticalScrollBar().maximum() == 0
        for widget in (view.legend, view.readout, view.hint, canvas):
            rect = _rect_in(widget, viewport)
            assert viewport.rect().contains(rect), (widget.objectName(), rect, viewport.rect())
        assert viewport.rect().contains(_on_screen(canvas, view.heat_plot.getAxis("bottom").label, viewport))
    assert view.notes_beside == (size[0] >= 760)
    for key, fitted in view.y_labels.items():
        assert fitted.label_fits(), (key, fitted.shown)
    assert view.y_labels["forget"].shown  # every plot keeps a y label at 1280 x 720
    for plot in (view.forget_plot, view.decay_plot, view.heat_plot):
        assert common_title_fits(plot)
    # the decade labels of the log axis are apart by half a line at least
    axis = view.decay_plot.getAxis("left")
    image = QtGui.QImage(100, 100, QtGui.QImage.Format.Format_ARGB32)
    painter = QtGui.QPainter(image)
    specs = axis.generateDrawSpecs(painter)
    painter.end()
    rects = sorted((rect for rect, _flags, text in specs[2] if text), key=lambda r: r.top())
    assert len(rects) >= 2
    for upper, lower in zip(rects, rects[1:]):
        assert lower.top() - upper.bottom() >= 6, (upper, lower)


def common_title_fits(plot):
    from lstmviz.gui.analysis import common

    return common.title_fits(plot)


def test_a_long_backward_pass_runs_off_the_gui_thread(qtbot, make_document, monkeypatch):
    """At T = 100 000 the backward pass took ~3 s on the GUI thread, at every unit picked with
    this view open. A long one now runs in the background; the readout says so, and what
    lands is gradient_flow's own result for the unit picked last."""
    import threading

    import lstmviz.gui.analysis.memory as memory_module

    monkeypatch.setattr(memory_module, "IN_BACKGROUND_FROM", 1)  # (this short run too)
    threads = []
    real = memory_module.memory_curves

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(memory_module, "memory_curves", recorded)
    doc = make_document("memory-cell")
    view = MemoryView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: not view.computing and view.curves is not None, timeout=5000)
    assert doc.unit == 0
    doc.set_unit(1)
    assert view.computing and "Computing the gradient" in view.readout.text()
    doc.set_unit(0)  # back before it landed: the curves shown are unit 0's again, at once
    assert not view.computing and "Computing" not in view.readout.text()
    doc.set_unit(1)
    qtbot.waitUntil(lambda: not view.computing, timeout=5000)
    assert threads and all(thread is not threading.main_thread() for thread in threads)
    flow = gradient_flow(doc.params, doc.trace, step=view.target, unit=1)
    np.testing.assert_allclose(view.curves.dc, np.abs(flow.dc[:, 1]))
    assert view.curves.unit == 1 and "Computing" not in view.readout.text()
