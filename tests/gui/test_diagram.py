"""The cell diagram: every part can be hovered and clicked, and it draws the current step."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QHelpEvent, QImage
from PySide6.QtWidgets import QGraphicsItem, QToolTip

from lstmviz.components import COMPONENT_IDS, COMPONENTS
from lstmviz.core.params import LSTMParams
from lstmviz.gui.diagram import CellDiagram
from lstmviz.gui.diagram.items import ColumnItem, DiagramItem, WireItem


def plain(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@pytest.fixture
def diagram(qtbot, make_document):
    def make(name="memory-cell", size=(1000, 640)):
        doc = make_document(name)
        view = CellDiagram(doc)
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        return view

    return make


def click_point(view: CellDiagram, item: DiagramItem) -> QPoint:
    """A point in the viewport where `item` is the topmost diagram part."""
    if isinstance(item, WireItem):
        path = item._path
        candidates = [path.pointAtPercent(p / 20) for p in range(1, 20)]
    else:
        rect = item.shape().boundingRect() if not isinstance(item, ColumnItem) else item.cell_rect(0)
        candidates = [
            QPointF(rect.left() + rect.width() * fx / 6, rect.top() + rect.height() * fy / 6)
            for fy in (3, 2, 4, 1, 5)
            for fx in (3, 2, 4, 1, 5)
        ]
    for scene_point in candidates:
        pos = view.mapFromScene(item.mapToScene(scene_point))
        top = next((i for i in view.items(pos) if isinstance(i, DiagramItem)), None)
        if top is item:
            return pos
    raise AssertionError(f"no clickable point on {item.component} {type(item).__name__}")


def test_every_component_is_on_the_diagram(diagram):
    view = diagram()
    assert set(view.component_ids()) == set(COMPONENT_IDS)
    kinds = {cid: {type(i).__name__ for i in view.items_for(cid)} for cid in COMPONENT_IDS}
    assert all("BoxItem" in kinds[g] for g in "figo")
    assert all("NodeItem" in kinds[op] for op in ("mul_f", "mul_i", "add_c", "tanh_c", "mul_o"))
    assert all(
        "WireItem" in kinds[w] for w in ("c_prev", "h_prev", "x", "concat", "c", "h", "f", "i", "g", "o")
    )
    # every vector on the diagram has a column of colored cells
    for cid in ("x", "h_prev", "c_prev", "f", "i", "g", "o", "mul_f", "mul_i", "c", "tanh_c", "h"):
        assert "ColumnItem" in kinds[cid]
    for items in map(view.items_for, COMPONENT_IDS):
        for item in items:
            assert item.acceptHoverEvents()
            assert item.acceptedMouseButtons() & Qt.MouseButton.LeftButton
            # a column changes at every step: drawn each time; the rest is cached (see below)
            cached = item.cacheMode() != QGraphicsItem.CacheMode.NoCache
            assert cached == (not isinstance(item, ColumnItem))


def _viewport_pixels(view) -> np.ndarray:
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)[..., :3].astype(int)


def test_cached_parts_look_as_the_vectors_they_cache(diagram, qtbot):
    # The static parts are drawn from pixmaps made at screen resolution: after a few steps, a
    # hover and a zoom the picture is the one the same items draw as vectors, uncached.
    view = diagram()
    doc = view.document
    doc.set_selection("f")
    for step in (1, 2, min(3, doc.T - 1)):
        doc.set_step(step)
    for zoom in (1.0, 0.6):
        view.fit()
        view.scale(zoom, zoom)
        qtbot.wait(10)
        cached = _viewport_pixels(view)
        items = [(item, item.cacheMode()) for item in view.scene().items()]
        for item, _mode in items:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        vectors = _viewport_pixels(view)
        for item, mode in items:
            item.setCacheMode(mode)
        assert np.abs(cached - vectors).max() <= 8


def test_clicking_every_item_selects_its_component(diagram, qtbot):
    view = diagram()
    doc = view.document
    for cid in COMPONENT_IDS:
        for item in view.items_for(cid):
            doc.set_selection("h" if cid != "h" else "f")
            qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=click_point(view, item))
            assert doc.selection == cid, f"clicking {type(item).__name__} of {cid} selected {doc.selection}"
            assert item.is_highlighted


def test_clicking_a_cell_picks_the_unit(diagram, qtbot):
    view = diagram("forget-worked")
    doc = view.document
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point("g", unit=2))
    assert (doc.selection, doc.unit) == ("g", 2)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point("c", unit=1))
    assert (doc.selection, doc.unit) == ("c", 1)
    assert view.column("c")._unit == 1 and view.column("g")._unit is None
    # x_t has m entries, not units: clicking one selects x and leaves the unit alone
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point("x", unit=0))
    assert (doc.selection, doc.unit) == ("x", 1)


def test_hover_tooltip_names_formula_and_shapes(diagram, qtbot):
    view = diagram("forget-worked")
    tip = plain(view.tooltip_for("f"))
    assert "forget gate" in tip
    assert "ft = σ(Wf·xt + Uf·ht−1 + bf)" in tip
    assert "Wf: 3x3, Uf: 3x3, bf: 3; [ht−1, xt]: 6" in tip
    assert "zf = (92, 177, 136)" in tip
    # a real hover: a tooltip event on the viewport over the forget gate box
    box = next(i for i in view.items_for("f") if type(i).__name__ == "BoxItem")
    pos = click_point(view, box)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    view.viewportEvent(event)
    assert "forget gate" in plain(QToolTip.text())
    # a cell's tooltip is its value
    column = view.column("f")
    pos = view.view_point("f", unit=1)
    view.viewportEvent(QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos)))
    assert "ft[1] = 1" in plain(QToolTip.text())
    assert "ft[2] = 1" in plain(column.cell_tooltip(2))
    QToolTip.hideText()


def test_cells_follow_the_step(diagram):
    view = diagram("memory-cell")
    doc = view.document
    for step in (0, 3, 14, doc.T - 1):
        doc.set_step(step)
        for cid, quantity in (("f", "f"), ("i", "i"), ("c", "c"), ("h", "h")):
            column = view.column(cid)
            values = getattr(doc.trace, quantity)[step]
            assert [column.value(k) for k in range(doc.n)] == pytest.approx(list(values))
        assert view.column("c_prev").value(0) == pytest.approx(doc.trace.c_prev(step)[0])
        assert view.column("x")._texts[1] == ("1" if doc.xs[step, 1] == 1 else "0")
        assert f"t = {step} " in view._title._text
    # numbers are written for n <= 8 and colored by value
    column = view.column("f")
    assert column.show_numbers and column._texts[0] and column._fills[0].isValid()


def test_diagram_rebuilds_for_another_model_size(diagram):
    view = diagram("memory-cell")
    doc = view.document
    params = LSTMParams.random(12, 5, seed=1)
    doc.set_model_and_input(params, np.zeros((7, 5)))
    assert view.column("f").count == 12 and view.column("x").count == 5
    assert not view.column("f").show_numbers  # > 8 units: colors only, value on hover
    assert view.column("x").show_numbers
    doc.set_selection("o")
    assert all(i.is_highlighted for i in view.items_for("o"))


def test_the_whole_cell_stays_in_view_when_resized(diagram, qtbot):
    view = diagram("forget-worked", size=(600, 400))
    small = view.transform().m11()
    for size in ((1600, 1000), (700, 300)):
        view.resize(*size)
        qtbot.wait(10)
        visible = view.mapToScene(view.viewport().rect()).boundingRect()
        assert visible.contains(view.sceneRect().adjusted(2, 2, -2, -2))
    view.resize(1600, 1000)
    qtbot.wait(10)
    assert view.transform().m11() > small * 1.5  # it scales up: drawn as vectors, not a bitmap


def test_diagram_renders_at_high_dpi(diagram):
    from PySide6.QtGui import QImage, QPainter

    view = diagram("forget-worked")
    scene = view.scene()
    image = QImage(2000, 1300, QImage.Format.Format_ARGB32)
    image.setDevicePixelRatio(2.0)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    scene.render(painter, QRectF(0, 0, 1000, 650))
    painter.end()
    # the yellow of a gate box is there at full resolution
    yellow = sum(
        1
        for x in range(0, 2000, 7)
        for y in range(0, 1300, 7)
        if image.pixelColor(x, y).name() == COMPONENT_COLOR
    )
    assert yellow > 50


COMPONENT_COLOR = "#ffe078"  # style.GATE_FILL


def test_components_have_names_for_every_id():
    for cid in COMPONENT_IDS:
        assert COMPONENTS[cid].name and COMPONENTS[cid].formula


def test_an_input_forget_cell_draws_its_forget_box_as_one_minus_i(qtbot):
    from lstmviz.document import Document
    from lstmviz.gui.diagram.items import BoxItem

    doc = Document(LSTMParams.random(3, 2, seed=1), np.zeros((5, 2)))
    view = CellDiagram(doc)
    qtbot.addWidget(view)

    def forget_symbol():
        return next(item.symbol for item in view._items["f"] if isinstance(item, BoxItem))

    assert forget_symbol() == "σ"
    coupled = LSTMParams.random(3, 2, seed=1).replace(input_forget=True)
    doc.set_params(coupled)  # an ONNX cell with input_forget = 1: f = 1 - i
    assert forget_symbol() == "1−i"
    np.testing.assert_allclose(doc.trace.f, 1.0 - doc.trace.i, atol=1e-15)


@pytest.mark.parametrize("projected", [False, True])
def test_the_what_if_banner_never_runs_over_the_c_t_and_h_t_labels(diagram, qtbot, projected):
    """With four interventions, each described with its units and steps, the banner under
    the title ran over the h_t label and wire at the top right and into c_t: it now ends
    before them (a summary, elided), with the whole text in its tooltip."""
    from lstmviz.core.analysis.whatif import BiasOffset, ClampGate, ZeroUnit
    from lstmviz.gui.diagram.items import LabelItem, StaticText

    view = diagram("memory-cell")
    doc = view.document
    if projected:
        doc.set_params(LSTMParams.random(4, 3, seed=2, proj_size=2))
    labels = [item for cid in ("c", "h") for item in view.items_for(cid)
              if isinstance(item, LabelItem) and item.text in ("c_t", "h_t")]
    assert len(labels) == 3  # c_t, h_t at the right, h_t at the top
    rising_h = [item for item in view.items_for("h") if isinstance(item, WireItem)]
    banner = view._whatif_note
    assert isinstance(banner, StaticText)
    one = [ClampGate("f", 1.0, units=(0,), steps=(2, 9))]
    four = [*one, ZeroUnit(units=(1,), steps=(4, 8)), BiasOffset("o", -0.5, units=(0, 1), steps=(10, 20)),
            ClampGate("i", 0.0, steps=(3, 11))]
    for interventions in (four, one):
        doc.set_interventions(interventions)
        qtbot.wait(1)
        rect = banner.sceneBoundingRect()
        assert rect.width() > 100
        for label in labels:
            assert not rect.intersects(label.sceneBoundingRect()), (label.text, rect, len(interventions))
        for wire in rising_h:
            assert not wire.shape().intersects(banner.mapToItem(wire, banner.shape())), len(interventions)
        assert banner.shown_text.startswith("What-if on")
        for iv in interventions:  # every word is still there: in the banner or its tooltip
            assert iv.describe() in banner.shown_text + banner.toolTip()
        if interventions is four:
            assert banner.shown_text.startswith("What-if on, 4 interventions: f = 1; h = c = 0; b_o - 0.5")
            assert "unit 0, steps 2..8" in banner.toolTip()
