"""The trace panels: they follow the Document, scrub it, and show lines or heatmaps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.gui.panels import TracePanels
from lstmviz.gui.panels.data import BASE

Qt = QtCore.Qt


@pytest.fixture
def panels(qtbot, make_document):
    def make(document=None, size=(1100, 900)):
        doc = document if document is not None else make_document("random-sine")
        widget = TracePanels(doc)
        qtbot.addWidget(widget)
        widget.resize(*size)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return make


def random_document(T=300, n=24, m=5, seed=3) -> Document:
    rng = np.random.default_rng(seed)
    return Document(LSTMParams.random(n, m, seed=seed), rng.standard_normal((T, m)))


def send_mouse(widget, kind, pos: QtCore.QPointF, buttons=Qt.MouseButton.LeftButton) -> None:
    """A mouse event the way a user makes it (QTest cannot hold a button while moving)."""
    from PySide6.QtGui import QMouseEvent

    types = {"press": QtCore.QEvent.Type.MouseButtonPress, "move": QtCore.QEvent.Type.MouseMove,
             "release": QtCore.QEvent.Type.MouseButtonRelease}
    button = Qt.MouseButton.NoButton if kind == "move" else Qt.MouseButton.LeftButton
    held = Qt.MouseButton.NoButton if kind == "release" else buttons
    global_pos = QtCore.QPointF(widget.mapToGlobal(pos.toPoint()))
    event = QMouseEvent(types[kind], pos, global_pos, button, held, Qt.KeyboardModifier.NoModifier)
    QtWidgets.QApplication.sendEvent(widget, event)


def viewport_point(panels: TracePanels, name: str, t: float, y_fraction: float = 0.5) -> QtCore.QPointF:
    """Where step t of plot `name` is, in the plots view's viewport coordinates."""
    vb = panels.plot(name).vb
    rect = vb.viewRect()
    view_point = QtCore.QPointF(t, rect.top() + y_fraction * rect.height())
    return QtCore.QPointF(panels.view.mapFromScene(vb.mapViewToScene(view_point)))


def test_default_stack_and_fixed_ranges(panels):
    widget = panels()
    assert widget.shown == BASE
    lo, hi = widget.plot("f").vb.viewRange()[1]
    assert lo < 0.0 < 1.0 < hi and hi - lo < 1.2  # [0, 1] with a little padding
    lo, hi = widget.plot("g").vb.viewRange()[1]
    assert lo < -1.0 and 1.0 < hi and hi - lo < 2.4


def test_panels_follow_set_step(panels, qtbot):
    widget = panels()
    doc = widget.document
    doc.set_step(123)
    assert all(widget.plot(name).cursor.step == 123 for name in widget.shown)
    doc.set_option("trace_animation", "grow")
    doc.set_step(50)
    for name in widget.shown:
        plot = widget.plot(name)
        assert plot.cursor.step == 50
        assert plot.mask.isVisible() and plot.mask._edge == 50.5


def test_clicking_a_plot_scrubs(panels, qtbot):
    widget = panels()
    doc = widget.document
    target = viewport_point(widget, "h", 77)
    qtbot.mouseClick(widget.view.viewport(), Qt.MouseButton.LeftButton, pos=target.toPoint())
    assert abs(doc.step - 77) <= 1


def test_dragging_the_cursor_sets_the_step(panels, qtbot):
    widget = panels()
    doc = widget.document
    doc.set_step(40)
    qtbot.wait(10)
    viewport = widget.view.viewport()
    start = viewport_point(widget, "c", 40, 0.3)
    send_mouse(viewport, "press", start)
    for t in (60, 90, 130):
        send_mouse(viewport, "move", viewport_point(widget, "c", t, 0.35))
        QtWidgets.QApplication.processEvents()
    send_mouse(viewport, "release", viewport_point(widget, "c", 130, 0.35))
    assert abs(doc.step - 130) <= 1
    # the time range did not pan: the drag went to the cursor, not to the view
    lo, hi = widget.time_range()
    assert lo <= 0 and hi >= doc.T - 1


def test_selecting_units_changes_the_curves(panels):
    widget = panels()
    doc = widget.document
    lines = widget.plot("f").lines
    assert lines.labels == doc.units and lines.rows.shape == (len(doc.units), doc.T)
    doc.set_unit(5)
    doc.set_units((1, 5))
    assert lines.labels == (1, 5)
    np.testing.assert_allclose(lines.rows[1], doc.trace.f[:, 5], rtol=1e-6)
    # the unit list shows the Document's choice, and checking an item edits it
    assert widget.units.checked() == (1, 5)
    widget.units.list.item(2).setCheckState(Qt.CheckState.Checked)
    assert doc.units == (1, 2, 5)
    assert widget.plot("c").lines.labels == (1, 2, 5)


def test_the_inspectors_unit_is_always_plotted(panels):
    """The unit the inspector works through is drawn even when it is not among the selected
    units (issue 10: the brackets preset selected unit 5 but plotted units 0 and 1)."""
    widget = panels()
    doc = widget.document
    doc.set_units((0, 1))
    doc.set_unit(5)
    for name in ("c", "h", "f"):
        lines = widget.plot(name).lines
        assert lines.labels == (0, 1, 5)
        np.testing.assert_allclose(lines.rows[2], doc.trace.quantity(name)[:, 5], rtol=1e-6)
    doc.set_unit(1)  # back inside the selection: unit 5 is no longer drawn
    assert widget.plot("c").lines.labels == (0, 1)
    doc.set_units(())
    assert widget.plot("c").lines.labels == (1,) or widget.plot("c").mode == "heatmap"


def test_many_units_become_a_heatmap_of_n_by_T(panels):
    doc = random_document(T=300, n=24)
    widget = panels(doc)
    doc.set_units(range(20))  # more than a few units: auto draws heatmaps
    for name in widget.shown:
        plot = widget.plot(name)
        assert plot.mode == "heatmap"
        assert plot.heatmap.image.shape == (doc.n, doc.T)
        assert plot.heatmap.image.dtype == np.uint8
        assert plot.colorbar is not None and plot.colorbar.isVisible()
    # a gate's codes follow its values on the fixed [0, 1] scale
    codes = widget.plot("f").heatmap.image
    np.testing.assert_allclose(codes / 255.0, doc.trace.f.T, atol=1 / 255 + 1e-6)
    doc.set_units((0, 1))
    assert widget.plot("f").mode == "lines"
    doc.set_option("trace_display", "heatmap")
    assert widget.plot("f").mode == "heatmap"


def test_a_heatmap_longer_than_a_quantize_block_codes_every_step(panels, monkeypatch):
    # codes are made in blocks of steps (a bounded scratch for 10^6-step traces): with blocks
    # of 64 steps, a 300-step trace crosses four block edges and every step keeps its value
    monkeypatch.setattr("lstmviz.gui.panels.data.QUANTIZE_CHUNK", 64)
    doc = random_document(T=300, n=24)
    widget = panels(doc)
    doc.set_option("trace_display", "heatmap")
    codes = widget.plot("f").heatmap.image
    assert codes.shape == (doc.n, doc.T)
    np.testing.assert_allclose(codes / 255.0, doc.trace.f.T, atol=1 / 255 + 1e-6)
    c = widget.plot("c")  # a data range symmetric around zero: the code of 0 is the middle
    lo, hi = c.colorbar.levels()
    expected = np.clip((doc.trace.c.T - lo) / (hi - lo) * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(c.heatmap.image, expected)


def test_linked_zoom(panels, qtbot):
    widget = panels()
    widget.plot("i").vb.setXRange(20, 60, padding=0)
    for name in widget.shown:
        lo, hi = widget.plot(name).vb.viewRange()[0]
        assert lo == pytest.approx(20, abs=0.5) and hi == pytest.approx(60, abs=0.5)
    assert widget.time_range() == pytest.approx((20, 60), abs=0.5)
    widget.fit()
    assert widget.time_range() == pytest.approx((-0.5, widget.document.T - 0.5))


def test_follow_keeps_a_window_of_fixed_width(panels):
    doc = random_document(T=2000, n=4)
    widget = panels(doc)
    doc.set_option("trace_window", 100)
    doc.set_option("trace_follow", True)
    for step in (10, 700, 1999):
        doc.set_step(step)
        lo, hi = widget.time_range()
        assert hi - lo == pytest.approx(100)
        assert lo <= step <= hi


def test_selection_brings_the_plot_forward(panels, qtbot):
    widget = panels(size=(1000, 300))  # too short for every plot: the stack scrolls
    doc = widget.document
    doc.set_selection("c")
    qtbot.wait(20)
    doc.set_selection("o")
    assert widget.highlighted == "o" and widget.plot("o").highlighted
    assert not widget.plot("c").highlighted
    qtbot.waitUntil(lambda: widget.plot_visible("o"))
    doc.set_selection("c")
    qtbot.waitUntil(lambda: widget.plot_visible("c"))
    assert not widget.plot_visible("o")


def test_extra_quantities_on_request(panels):
    widget = panels()
    doc = widget.document
    widget.set_time_range(10, 90)
    doc.set_option("trace_show_x", True)
    assert widget.time_range() == pytest.approx((10, 90))  # showing a plot keeps the zoom
    assert widget.plot("x").vb.viewRange()[0] == pytest.approx([10, 90])
    doc.set_option("trace_show_z", True)
    assert widget.shown[0] == "x" and {"zi", "zf", "zg", "zo"} <= set(widget.shown)
    assert widget.shown.index("zf") + 1 == widget.shown.index("f")
    assert widget.plot("x").lines.rows.shape == (doc.m, doc.T)
    doc.set_option("trace_show_z", False)
    assert "zf" not in widget.shown
    # the toolbar shows the Document's options and edits them
    assert widget.toolbar.show_x.isChecked() and not widget.toolbar.show_z.isChecked()
    widget.toolbar.show_x.setChecked(False)
    assert doc.option("trace_show_x") is False and "x" not in widget.shown


def test_hover_reads_step_unit_and_value(panels, qtbot):
    widget = panels()
    doc = widget.document
    doc.set_units((3,))
    plot = widget.plot("f")
    vb = plot.vb
    value = float(doc.trace.f[100, 3])
    scene = vb.mapViewToScene(QtCore.QPointF(100, value))
    assert plot.value_at_scene_pos(scene) == (100, 3, pytest.approx(value, rel=1e-6))
    widget._hovering = True  # as after the mouse entered the plots
    widget._on_hover((scene,))
    text = widget.toolbar.readout.text()
    assert "t = <b>100</b>" in text and "unit 3" in text


def test_a_new_trace_reloads_the_plots(panels):
    widget = panels()
    doc = widget.document
    before = widget.plot("c").lines.rows.copy()
    params = doc.params.replace(W_f=doc.params.W_f * 0.0)
    doc.set_params(params)
    after = widget.plot("c").lines.rows
    assert after.shape == before.shape and not np.allclose(after, before)
    doc.set_input(doc.xs[:50])
    assert widget.plot("c").lines.rows.shape[1] == 50
    assert widget.time_range() == pytest.approx((-0.5, 49.5))


def test_grab_renders(panels, tmp_path):
    widget = panels()
    widget.document.set_step(60)
    path = tmp_path / "panels.png"
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 5000


def test_diagram_parts_bring_their_quantity_forward(panels):
    widget = panels()
    doc = widget.document
    doc.set_selection("mul_o")  # the product o * tanh(c) is h
    assert widget.highlighted == "h"
    doc.set_selection("concat")  # no plot of its own: nothing is highlighted
    assert widget.highlighted is None
    assert not any(widget.plot(name).highlighted for name in widget.shown)


def test_a_model_of_another_size(panels):
    widget = panels()
    doc = widget.document
    doc.set_model_and_input(LSTMParams.random(3, 1, seed=5))
    assert widget.units.list.count() == 3
    assert widget.plot("o").lines.rows.shape == (3, doc.T)
    assert widget.units.checked() == doc.units == (0, 1, 2)


def test_heatmap_hover_reads_the_row(panels):
    doc = random_document(T=120, n=6)
    widget = panels(doc)
    doc.set_option("trace_display", "heatmap")
    plot = widget.plot("c")
    scene = plot.vb.mapViewToScene(QtCore.QPointF(30, 4))
    t, row, value = plot.value_at_scene_pos(scene)
    assert (t, row) == (30, 4) and value == pytest.approx(float(doc.trace.c[30, 4]))


def test_following_moves_every_plot_to_the_window_and_draws_its_steps(panels, qtbot):
    """Follow mode sets each plot's range directly (not through pyqtgraph's link): every plot
    shows the same steps as the time axis, the window puts the step at 3/4 of its width, and
    the lines drawn are the trace's own values at exactly those steps."""
    doc = random_document(T=3000, n=4)
    widget = panels(doc)
    doc.set_option("trace_window", 200)
    doc.set_option("trace_follow", True)
    lines = widget.plot("c").lines
    values = doc.trace.quantity("c")[:, list(lines.labels)]
    for step in (1000, 1001, 1002, 2990):
        doc.set_step(step)
        qtbot.wait(1)
        lo = min(max(step - 150.0, -0.5), doc.T - 0.5 - 200)
        assert widget.time_range() == pytest.approx((lo, lo + 200), abs=1e-9)
        for name in widget.shown:
            assert widget.plot(name).vb.viewRange()[0] == pytest.approx([lo, lo + 200], abs=1e-9)
        # what the c plot strokes: one point per step, from just before the window to just
        # after it (200 steps on ~1000 pixels are drawn unbinned), each the trace's value
        first, last = max(int(np.floor(lo)) - 1, 0), min(int(np.ceil(lo + 200)) + 1, doc.T - 1)
        for j, path in enumerate(lines._build_paths()):
            xs = np.array([path.elementAt(k).x for k in range(path.elementCount())])
            ys = np.array([path.elementAt(k).y for k in range(path.elementCount())])
            np.testing.assert_array_equal(xs, np.arange(first, last + 1))
            np.testing.assert_allclose(ys, values[first:last + 1, j], rtol=1e-6)


def test_plots_out_of_line_with_the_time_axis_still_follow_through_the_link(panels, qtbot):
    doc = random_document(T=3000, n=4)
    widget = panels(doc)
    doc.set_option("trace_window", 200)
    doc.set_option("trace_follow", True)
    widget._footer_box.setContentsMargins(0, 0, 40, 0)  # as while a scroll bar comes or goes
    qtbot.waitUntil(lambda: widget.time_vb.width() < widget.plot("c").vb.width())
    assert not widget._lined_up([widget.plot(name).vb for name in widget.shown])
    doc.set_step(1500)
    lo, hi = widget.time_range()
    assert hi - lo == pytest.approx(200)
    # pyqtgraph's link maps the range by screen position: the wider plots show more steps
    c_lo, c_hi = widget.plot("c").vb.viewRange()[0]
    assert c_lo == pytest.approx(lo) and c_hi > hi


def _axis_pair(qtbot):
    import pyqtgraph as pg

    from lstmviz.gui.panels.plot import StepAxis, TimeViewBox, style_axis

    class PyqtgraphDrawn(StepAxis):
        """StepAxis's ticks and labels, through pyqtgraph's own generateDrawSpecs and paint."""

        def _fast_specs_apply(self):
            return False

    made = []
    for cls in (StepAxis, PyqtgraphDrawn):
        widget = pg.GraphicsLayoutWidget()
        vb, axis = TimeViewBox(), cls("bottom")
        axis.linkToView(vb)
        axis.enableAutoSIPrefix(False)
        style_axis(axis)
        widget.addItem(vb, 0, 0)
        widget.addItem(axis, 1, 0)
        widget.resize(1200, 70)
        qtbot.addWidget(widget)
        widget.show()
        made.append((widget, vb, axis))
    qtbot.waitExposed(made[0][0])
    return made


def test_the_time_axis_draws_what_pyqtgraph_would(qtbot):
    """StepAxis builds pyqtgraph's tick specs by a faster route and draws them its own way:
    the specs and the pixels must be pyqtgraph's, at any range and zoom."""
    import pyqtgraph as pg
    from PySide6 import QtGui

    (fast_widget, fast_vb, fast), (ref_widget, ref_vb, ref) = _axis_pair(qtbot)

    def specs(axis, generate):
        picture = QtGui.QPicture()
        painter = QtGui.QPainter(picture)
        try:
            line, ticks, texts = generate(axis, painter)
        finally:
            painter.end()
        return ((line[0].color().rgba(), line[1].x(), line[1].y(), line[2].x(), line[2].y()),
                [(pen.color().rgba(), a.x(), a.y(), b.x(), b.y()) for pen, a, b in ticks],
                [(rect.getRect(), int(flags), text) for rect, flags, text in texts])

    rng = np.random.default_rng(5)
    for width in (3.0, 37.0, 200.0, 5000.0, 99_999.0):
        for lo in rng.uniform(-0.5, 100_000, size=4):
            for vb in (fast_vb, ref_vb):
                vb.setXRange(lo, lo + width, padding=0)
            qtbot.wait(1)
            expected = specs(fast, pg.AxisItem.generateDrawSpecs)
            assert len(expected[1]) > 0
            assert specs(fast, type(fast).generateDrawSpecs) == expected
            ticks = pg.AxisItem.tickValues(fast, lo, lo + width, 1100)
            assert fast._linear_tick_values(lo, lo + width, 1100) == ticks
            assert fast_widget.grab().toImage() == ref_widget.grab().toImage()


def _line_pixels(widget: TracePanels, name: str, rgb) -> tuple[float, float]:
    """(the viewport column (mean x) of the highest pixel of colour `rgb` in plot `name`,
    the fraction of the plot's columns with a pixel of that colour), as painted through the
    view's item caches."""
    image = widget.view.viewport().grab().toImage()
    vb = widget.plot(name).vb
    box = widget.view.mapFromScene(vb.sceneBoundingRect()).boundingRect().adjusted(3, 3, -3, -3)
    wanted = QtGui.QColor(*rgb).rgb()
    peak, columns = None, set()
    for y in range(box.top(), box.bottom()):
        xs = [x for x in range(box.left(), box.right()) if image.pixel(x, y) == wanted]
        if xs and peak is None:
            peak = float(np.mean(xs))
        columns.update(xs)
    assert peak is not None, "no pixel of the line's colour in the plot"
    return peak, len(columns) / (box.right() - box.left())


def test_the_lines_scroll_with_the_follow_window(panels, qtbot):
    """The pixels: after each follow step, the highest point of unit 0's c line is drawn where
    the trace's largest c in the window is (before, the lines' cache was blitted in place and
    the lines stood still while the axis and the cursor moved), and the line reaches across
    the plot (the steps scrolled in at the right are drawn)."""
    from lstmviz.colors import unit_color

    doc = random_document(T=3000, n=3)
    widget = panels(doc, size=(1100, 900))
    doc.set_units((0,))
    doc.set_unit(0)
    doc.set_option("trace_window", 200)
    doc.set_option("trace_follow", True)
    c = doc.trace.quantity("c")[:, 0]
    vb = widget.plot("c").vb
    for step in [1000, *range(1001, 1031, 3), 1500, 1501]:
        if step == 1001:
            doc.set_step(1000)
        for s in range(doc.step + 1, step + 1) if step - doc.step < 10 else (step,):
            doc.set_step(s)
            qtbot.wait(1)
        lo, hi = widget.time_range()
        visible = np.arange(int(np.ceil(lo)), int(np.floor(hi)) + 1)
        peak = visible[np.argmax(c[visible])]
        expected = widget.view.mapFromScene(vb.mapViewToScene(QtCore.QPointF(peak, c[peak]))).x()
        peak, covered = _line_pixels(widget, "c", unit_color(0))
        assert peak == pytest.approx(expected, abs=3.0), step
        assert covered > 0.97, step  # the line runs across the whole plot, new steps too


@pytest.mark.parametrize("T", [1, 2047, 2048, 5000])
def test_trace_rows_are_the_chosen_columns_transposed_in_float32(T):
    """The blocked gather (GATHER_ROWS rows at a time) against a column-by-column copy."""
    from lstmviz.core.cell import run
    from lstmviz.gui.panels.data import trace_rows, trace_rows_between

    params = LSTMParams.random(5, 3, seed=2)
    trace = run(params, np.random.default_rng(2).normal(size=(T, 3)))
    for name, rows in (("h", [4, 0, 2]), ("f", [1]), ("x", None), ("c", [])):
        values = trace.quantity(name)
        columns = range(values.shape[1]) if rows is None else rows
        expected = np.array([values[:, u] for u in columns], dtype=np.float32).reshape(len(columns), T)
        got = trace_rows(trace, name, rows)
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, expected)
        lo, hi = T // 3, T - T // 4
        np.testing.assert_array_equal(trace_rows_between(trace, name, rows, lo, hi), expected[:, lo:hi])
