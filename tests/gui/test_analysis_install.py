"""The Analysis menu: every view opens as a dock on the window's Document, made on first use."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QDockWidget

from lstmviz.gui.analysis import VIEWS, install_analysis, view_class


@pytest.fixture
def window(make_window):
    return make_window("memory-cell")


def test_menu_sits_before_help_and_opens_every_view(qtbot, window):
    from lstmviz.gui.undo import UndoController

    doc = window.document
    if getattr(window, "session", None) is None:  # as install_actions leaves it
        window.session = SimpleNamespace(undo=UndoController(doc, window))
    panels = install_analysis(window, doc)
    assert install_analysis(window, doc) is panels  # once per window
    assert [a.text() for a in window.menuBar().actions()].count("&Analysis") == 1
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles.index("Analysis") == titles.index("Help") - 1
    assert window.menus["analysis"] is panels.menu
    assert not panels.views  # nothing is made before it is asked for
    for spec in VIEWS:
        action = panels.actions[spec.key]
        assert action.shortcut().toString() == spec.shortcut and action.toolTip()
        action.trigger()
        dock = panels.docks[spec.key]
        assert isinstance(dock, QDockWidget) and dock.isVisible()
        view = panels.views[spec.key]
        assert isinstance(view, view_class(spec.key)) and view.document is doc
        assert window.docks[spec.key] is dock
    assert panels.views["whatif"].undo is window.session.undo
    assert panels.views["text"].undo is window.session.undo
    # views stay in step with the Document from their docks
    doc.set_step(9)
    panels.show("memory")
    assert panels.views["memory"].cursors[0].step == 9
    # triggering again shows the same dock
    panels.actions["memory"].trigger()
    assert len([d for d in window.findChildren(QDockWidget) if d.objectName() == "memoryDock"]) == 1


def test_closed_docks_stop_drawing(qtbot, window):
    panels = install_analysis(window, window.document)
    dock = panels.show("saturation")
    view = panels.views["saturation"]
    dock.close()
    count = view.compute_count
    window.document.set_input(window.document.xs * 2.0)
    assert view.compute_count == count
    panels.show("saturation")
    assert view.compute_count == count + 1
