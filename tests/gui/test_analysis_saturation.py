"""The saturation view: one dot per unit and gate, clicking one selects the unit everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstmviz.core.analysis import gate_saturation
from lstmviz.gui.analysis.saturation import SaturationView


@pytest.fixture
def saturation(qtbot, make_document):
    doc = make_document("random-sine")
    view = SaturationView(doc)
    qtbot.addWidget(view)
    view.resize(960, 620)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_dots_are_the_saturation_fractions(saturation):
    doc, view = saturation
    expected = gate_saturation(doc.trace)
    for gate in "ifo":
        spots = view.columns[gate].scatter.points()
        assert len(spots) == doc.n
        by_unit = {int(p.data()): (p.pos().x(), p.pos().y()) for p in spots}
        for k in range(doc.n):
            assert by_unit[k] == pytest.approx((expected.left[gate][k], expected.right[gate][k]))
        heights = view.columns[gate].bars.opts["height"]
        assert np.sum(heights) == pytest.approx(1.0)


def test_clicking_a_dot_selects_its_unit(qtbot, make_document):
    doc = make_document("brackets")  # a trained model: its dots spread out
    view = SaturationView(doc)
    qtbot.addWidget(view)
    view.resize(960, 620)
    view.show()
    qtbot.waitExposed(view)
    sat = view.saturation

    def alone(gate, k):  # no other dot within reach
        left, right = sat.left[gate], sat.right[gate]
        return all(abs(left[k] - left[j]) + abs(right[k] - right[j]) > 0.05 for j in range(doc.n) if j != k)

    gate, target = next((g, k) for g in "fio" for k in range(doc.n) if k != doc.unit and alone(g, k))
    pos = view.dot_position(gate, target)
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert doc.unit == target
    assert target in doc.units
    # the selected unit is drawn big
    sizes = {int(p.data()): p.size() for p in view.columns[gate].scatter.points()}
    assert sizes[target] > sizes[(target + 1) % doc.n]
    assert f"unit {target}" in view.readout.text()


def test_shift_click_toggles_the_plotted_units(saturation):
    doc, view = saturation
    doc.set_units((0, 1, 2))
    view.select_unit(1, toggle=True)
    assert doc.units == (0, 2)
    view.select_unit(5, toggle=True)
    assert doc.units == (0, 2, 5) and doc.unit == 5


def test_thresholds_recount(saturation):
    doc, view = saturation
    count = view.compute_count
    view.set_thresholds(0.3, 0.6)
    assert view.compute_count == count + 1
    expected = gate_saturation(doc.trace, 0.3, 0.6)
    np.testing.assert_allclose(view.saturation.left["o"], expected.left["o"])
    assert view.columns["i"].left_line.value() == pytest.approx(0.3)
    view._line_moved("right", 0.8)
    assert view.right_box.value() == pytest.approx(0.8)
    # a left threshold above the right one pushes the right one along
    view.left_box.setValue(0.9)
    assert view.right_box.value() >= 0.9


def test_follows_the_trace_and_not_the_step(saturation):
    doc, view = saturation
    count = view.compute_count
    doc.set_step(50)
    doc.set_selection("o")
    assert view.compute_count == count
    doc.set_input(doc.xs * 3.0)
    assert view.compute_count == count + 1
    np.testing.assert_allclose(view.saturation.right["f"], gate_saturation(doc.trace).right["f"])
    doc.set_unit(3)
    assert "unit 3" in view.readout.text()


def _label_in_viewport(view, axis, viewport):
    """The drawn rect of an axis's title (less its text margins), in the scroll viewport."""
    from PySide6.QtCore import QPoint

    label = axis.label
    m = label.document().documentMargin()
    rect = view.view.mapFromScene(label.sceneBoundingRect().adjusted(m, m, -m, -m)).boundingRect()
    return rect.translated(view.view.viewport().mapTo(viewport, QPoint(0, 0)))


@pytest.mark.parametrize("size, rows", [((889, 278), ("scatter",)), ((1049, 408), ("scatter", "hist"))])
def test_the_axis_titles_are_in_view_in_the_default_dock(qtbot, make_document, size, rows):
    """In the bottom dock at 1280 x 720 (889 x 278 inside) the scatters' x-axis titles were under
    the dock's edge, and at 1440 x 900 (1049 x 408) the histograms' were."""
    from lstmviz.gui.analysis import _scrolling, common

    doc = make_document("brackets")
    view = SaturationView(doc)
    scroll = _scrolling(view)
    qtbot.addWidget(scroll)
    scroll.resize(*size)
    scroll.show()
    qtbot.waitExposed(scroll)
    qtbot.wait(50)
    viewport = scroll.viewport()
    for col in view.columns.values():
        plots = {"scatter": col.scatter_plot, "hist": col.hist_plot}
        for row in rows:
            plot = plots[row]
            rect = _label_in_viewport(view, plot.getAxis("bottom"), viewport)
            assert viewport.rect().contains(rect), (col.gate, row, rect, viewport.rect())
            assert common.title_fits(plot)
    if len(rows) == 2:
        assert scroll.verticalScrollBar().maximum() == 0  # the whole view, unscrolled


def test_a_long_run_is_counted_off_the_gui_thread(qtbot, make_document, monkeypatch):
    """At T = 100 000, n = 64 the counts and histograms took ~0.4-1.2 s on the GUI thread at
    every new trace and threshold. A long run is counted in the background now; the dots that
    land are gate_saturation's own fractions for the thresholds set last."""
    import threading

    import lstmviz.gui.analysis.saturation as saturation_module

    monkeypatch.setattr(saturation_module, "IN_BACKGROUND_FROM", 1)  # (this short run too)
    threads = []
    real = saturation_module.gate_saturation

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(saturation_module, "gate_saturation", recorded)
    doc = make_document("random-sine")
    view = SaturationView(doc)
    qtbot.addWidget(view)
    view.resize(960, 620)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: not view.computing and view.saturation is not None, timeout=5000)
    view.set_thresholds(0.2, 0.7)
    assert view.computing and "Counting over" in view.readout.text()
    view.set_thresholds(0.3, 0.6)  # changed again before it landed: the last one is shown
    qtbot.waitUntil(lambda: not view.computing, timeout=5000)
    assert threads and all(thread is not threading.main_thread() for thread in threads)
    expected = real(doc.trace, 0.3, 0.6)
    for gate in "ifo":
        by_unit = {int(p.data()): (p.pos().x(), p.pos().y()) for p in view.columns[gate].scatter.points()}
        for k in range(doc.n):
            assert by_unit[k] == pytest.approx((expected.left[gate][k], expected.right[gate][k]))
    assert "Counting" not in view.readout.text()
