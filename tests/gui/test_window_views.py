"""The window's views agree with each other and fit the screen (issue 10 item 7)."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from lstmviz.gui.analysis import VIEWS

SMALL_SCREEN = (1280, 720)


def settle(qtbot, times: int = 3) -> None:
    for _ in range(times):
        QApplication.processEvents()
    qtbot.wait(5)


def test_no_analysis_view_makes_the_window_bigger_than_a_small_screen(qtbot, make_window):
    """Saturation and Activation curve used to grow a 1280-px window to 1711 and 1507 px (their
    docks' minimum widths); memory and what-if grew it past 720 px in height."""
    window = make_window("brackets")
    window.resize(*SMALL_SCREEN)
    settle(qtbot)
    for spec in VIEWS:
        window.analysis.show(spec.key)
        settle(qtbot)
        assert (window.width(), window.height()) == SMALL_SCREEN, spec.key
        hint = window.minimumSizeHint()
        assert hint.width() <= SMALL_SCREEN[0] and hint.height() <= SMALL_SCREEN[1], spec.key
    # and every view is still reachable: it scrolls inside its dock when the dock is small
    for spec in VIEWS:
        scroll = window.analysis.docks[spec.key].widget()
        assert scroll.widget() is window.analysis.views[spec.key]


def test_right_hand_views_fit_the_inspectors_width(qtbot, make_window):
    """The views docked beside the inspector read without a horizontal scroll bar at 460 px."""
    window = make_window("brackets")
    for key in [spec.key for spec in VIEWS if spec.area == "right"]:
        view = window.analysis.view(key)
        assert view.minimumSizeHint().width() <= 460, key


def test_the_shortcuts_dialog_scrolls_on_a_small_screen(qtbot, make_window):
    from lstmviz.gui.shortcuts_dialog import SCREEN_SHARE, ShortcutsDialog

    window = make_window("memory-cell")
    dialog = ShortcutsDialog(window.shortcuts_html(), window)
    qtbot.addWidget(dialog)
    dialog.show()
    settle(qtbot)
    area = window.screen().availableGeometry()
    assert dialog.height() <= area.height() * SCREEN_SHARE + 1
    assert dialog.width() <= area.width() * SCREEN_SHARE + 1
    bar = dialog.browser.verticalScrollBar()
    assert bar.maximum() > 0  # more rows than fit: it scrolls
    assert "Keyboard shortcuts" == dialog.windowTitle()
    assert "Ctrl+O" in dialog.browser.toPlainText()


@pytest.mark.parametrize("first, then", [("memory-cell", "brackets"), ("memory-cell", "forget-worked")])
def test_the_traces_plot_the_inspectors_unit_after_a_preset_switch(qtbot, make_window, first, then):
    window = make_window(first)
    window.load_preset(then)
    settle(qtbot)
    doc = window.document
    for name in ("c", "h", "i", "f", "g", "o"):
        plot = window.traces.plot(name)
        if plot.mode == "lines":
            assert doc.unit in plot.lines.labels, (name, doc.unit, plot.lines.labels)
    assert window.inspector.unit_box.value() == doc.unit


def test_up_in_the_unit_box_goes_up(qtbot, make_window):
    """The Cell menu binds Up to 'previous unit'; in the focused unit box Up must raise k."""
    window = make_window("random-sine")
    doc = window.document
    window.activateWindow()
    box = window.inspector.unit_box
    box.setFocus()
    doc.set_unit(3)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert doc.unit == 4 and box.value() == 4
    qtbot.keyClick(box, Qt.Key.Key_Down)
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert doc.unit == 2
    # elsewhere Up and Down still step through the units
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Down)
    assert doc.unit == 3


def test_menus_write_t_minus_1_not_latex(qtbot, make_window):
    window = make_window("memory-cell")
    window.install_editors()
    texts = []
    for top in window.menuBar().actions():
        menu = top.menu()
        if menu is None:
            continue
        menu.aboutToShow.emit()
        for act in menu.actions():
            texts.append(act.text())
            if menu is window.menus.get("analysis") or menu is window.menus.get("cell"):
                texts += [act.toolTip(), act.statusTip()]
    assert any("cₜ₋₁" in t for t in texts)
    raw = [t for t in texts if re.search(r"_\{|_t\b|_\d", t)]
    assert raw == []


def test_the_highlight_frame_goes_when_the_selection_moves(qtbot, make_document):
    """The plot frame is a 3-px border half outside its ViewBox: its old pixels stayed on
    screen after the highlight moved. Read the window's backing store, not a fresh render."""
    from lstmviz.gui.panels import TracePanels
    from lstmviz.gui.panels.plot import HIGHLIGHT

    doc = make_document("random-sine")
    panels = TracePanels(doc)
    qtbot.addWidget(panels)
    panels.resize(1000, 900)
    panels.show()
    qtbot.waitExposed(panels)
    settle(qtbot)

    def frame_pixels(name: str) -> int:
        vb = panels.plot(name).vb
        rect = panels.view.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        origin = panels.view.viewport().mapTo(panels, rect.topLeft())
        image = QApplication.primaryScreen().grabWindow(panels.winId()).toImage()
        count = 0
        for dy in range(-3, 4):
            for y in (origin.y() + dy, origin.y() + rect.height() + dy):
                for x in range(0, rect.width(), 3):
                    c = image.pixelColor(origin.x() + x, y)
                    if all(abs(a - b) < 30 for a, b in zip((c.red(), c.green(), c.blue()), HIGHLIGHT)):
                        count += 1
        return count

    doc.set_selection("f")
    settle(qtbot)
    assert frame_pixels("f") > 100
    doc.set_selection("c")
    settle(qtbot)
    assert frame_pixels("f") == 0
    assert frame_pixels("c") > 100


def test_an_active_what_if_is_marked_on_the_diagram_and_stated_by_the_inspector(qtbot, make_window):
    from lstmviz.core.analysis.whatif import ClampGate, ZeroUnit

    window = make_window("random-sine")
    doc = window.document
    doc.set_selection("f")
    doc.set_unit(2)
    doc.set_step(10)
    settle(qtbot)
    assert window.diagram.whatif_marks() == {} and window.diagram.whatif_note == ""
    assert "What-if" not in window.inspector.plain_text()

    doc.set_interventions([ClampGate("f", 1.0, units=(2,))])
    settle(qtbot)
    marks = window.diagram.whatif_marks()
    assert set(marks) == {"f"} and "f = 1" in marks["f"]
    assert "What-if on: f = 1 (unit 2, every step)" in window.diagram.whatif_note
    text = window.inspector.plain_text()
    assert "What-if is on: f = 1 (unit 2, every step). It changes what is shown here." in text
    assert "the rerun uses" in text and "f[2] = 1" in text.replace("ₜ", "").replace("t[", "[")
    assert "a what-if intervention?" not in text  # no guessing when the Document knows
    # the bold headline is the value the rerun uses (1), the plain formula's value beside it
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    at = next(i for i, line in enumerate(lines) if line.endswith("= what-if = 1"))
    assert lines[at + 1].startswith("without it: σ("), lines[at - 1 : at + 3]

    doc.set_unit(3)  # a unit the clamp does not touch: still on, but not acting here
    settle(qtbot)
    text = window.inspector.plain_text()
    assert "It does not act on this part, unit and step directly" in text
    assert "the rerun uses" not in text

    doc.set_interventions([ZeroUnit(units=(1,), steps=(5, 8))])
    settle(qtbot)
    assert set(window.diagram.whatif_marks()) == {"c", "h"}
    doc.set_interventions([])
    settle(qtbot)
    assert window.diagram.whatif_marks() == {} and window.diagram.whatif_note == ""
    assert "What-if" not in window.inspector.plain_text()


def test_the_whole_layer_fits_the_inspector_of_a_small_screen(qtbot, make_window):
    """A 5-unit cell's U (5x5) · h = U h row was ~435 px wide in the ~350 px the inspector
    shows at 1280 x 720: its result sat behind a sideways scroll. Such a row now breaks
    after its "=", and nothing scrolls sideways."""
    import numpy as np

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document

    params = LSTMParams.random(5, 3, seed=2)
    doc = Document(params, np.random.default_rng(2).normal(size=(40, 3)), title="n = 5")
    window = make_window(document=doc)
    window.resize(*SMALL_SCREEN)
    doc.set_selection("f")
    doc.set_step(3)
    settle(qtbot, 6)
    browser = window.inspector.browser
    assert "The whole layer at once" in browser.toPlainText()
    assert browser.horizontalScrollBar().maximum() == 0


def test_the_what_if_panel_shows_all_its_controls_on_a_small_screen(qtbot, make_window):
    """At 1280 x 720 the What-if view was laid out 550 px tall in its ~290 px dock (the plot
    canvas's size hint counted): Add, Remove, Clear and Undo were below the visible part."""
    window = make_window("memory-cell")
    window.resize(*SMALL_SCREEN)
    settle(qtbot)
    dock = window.analysis.show("whatif")
    settle(qtbot, 6)
    view, scroll = window.analysis.views["whatif"], dock.widget()
    assert scroll.verticalScrollBar().maximum() == 0, (view.height(), scroll.viewport().height())
    visible = scroll.viewport().rect()
    for button in (view.add_button, view.remove_button, view.clear_button, view.undo_button,
                   view.redo_button, *view.quick_buttons.values()):
        corner = button.mapTo(scroll.viewport(), button.rect().bottomRight())
        assert visible.contains(corner), button.text()


@pytest.mark.parametrize("size", [SMALL_SCREEN, (1440, 900)])
def test_the_analysis_views_titles_and_axis_titles_are_readable_in_their_docks(qtbot, make_window, size):
    """A new user at 1280 x 720: the Memory view's legend was drawn over "step t", the Activation
    curve's title ran off its plot, and the Saturation scatters' x-axis titles were under the
    dock's edge."""
    from lstmviz.gui.analysis import common

    window = make_window("brackets")
    window.resize(*size)
    settle(qtbot)
    for key in ("memory", "saturation", "curves"):
        window.analysis.show(key)
        settle(qtbot, 6)
        qtbot.wait(30)
        view = window.analysis.views[key]
        viewport = window.analysis.docks[key].widget().viewport()
        plots = [item for item in view.view.ci.items if hasattr(item, "titleLabel")]
        assert plots, key
        for plot in plots:
            if plot.titleLabel.isVisible():
                assert common.title_fits(plot), (key, common.title_text(plot))
        if key == "saturation":
            plots = [col.scatter_plot for col in view.columns.values()]
        elif key == "memory":
            plots = [view.heat_plot]
        for plot in plots:
            label = plot.getAxis("bottom").label
            m = label.document().documentMargin()
            rect = view.view.mapFromScene(label.sceneBoundingRect().adjusted(m, m, -m, -m)).boundingRect()
            rect.translate(view.view.viewport().mapTo(viewport, rect.topLeft()) - rect.topLeft())
            assert viewport.rect().contains(rect), (key, rect, viewport.rect())
        window.analysis.docks[key].hide()
        settle(qtbot)
