"""Closing an analysis dock tabbed with the Inspector brings the Inspector forward, not
whichever tab Qt picks (a new-user tester closed the Activation curve and got the Weights
table). The same for a bottom dock tabbed with the Traces."""

from __future__ import annotations

import pytest

from lstmviz.gui.analysis import install_analysis


def current_tab(window, dock):
    """The dock of the tab group (dock's) that is in front."""
    group = [dock, *window.tabifiedDockWidgets(dock)]
    shown = [d for d in group if not d.isHidden() and not d.visibleRegion().isEmpty()]
    return shown[0] if len(shown) == 1 else shown


@pytest.mark.parametrize("key, anchor", [("curves", "inspector"), ("compare", "traces")])
def test_closing_an_analysis_dock_raises_the_window_s_own(qtbot, make_window, key, anchor):
    window = make_window("memory-cell")
    window.install_editors()  # (the Input and Weights docks, tabbed with the Inspector)
    qtbot.wait(20)
    panels = install_analysis(window, window.document)
    own = window.docks[anchor]
    if anchor == "inspector":
        window.docks["weights"].show()
        window.docks["weights"].raise_()
    dock = panels.show(key)
    qtbot.wait(20)
    assert own in window.tabifiedDockWidgets(dock) and current_tab(window, own) is dock
    dock.close()
    qtbot.waitUntil(lambda: current_tab(window, own) is own, timeout=1000)
    # (and it stays so)
    qtbot.wait(30)
    assert current_tab(window, own) is own


def test_a_floating_dock_closing_leaves_the_tabs_alone(qtbot, make_window):
    window = make_window("memory-cell")
    window.install_editors()
    qtbot.wait(20)
    panels = install_analysis(window, window.document)
    dock = panels.show("curves")
    dock.setFloating(True)
    qtbot.wait(20)
    weights = window.docks["weights"]
    weights.show()
    weights.raise_()
    qtbot.wait(20)
    assert current_tab(window, weights) is weights
    dock.close()
    qtbot.wait(30)
    assert current_tab(window, weights) is weights


def test_closing_and_deleting_the_window_with_an_analysis_dock_open_raises_nothing(qtbot, make_document):
    """Tearing the window down hides its docks too: the raise-on-close hook ran on a deleted
    MainWindow and surfaced "unexpected error" at every exit with a view open."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from lstmviz.gui.main_window import MainWindow

    window = MainWindow(make_document("memory-cell"))  # (not qtbot's: this test deletes it)
    window.show()
    qtbot.waitExposed(window)
    window.install_editors()
    window.session.prompt = False
    panels = install_analysis(window, window.document)
    panels.show("curves")
    panels.show("compare")
    qtbot.wait(20)
    with qtbot.captureExceptions() as caught:
        window.deleteLater()  # (deleted while shown, as at the end of a script or of the app)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qtbot.wait(20)
    assert caught == []
