"""Analysis views: memory and gradient flow, gate saturation, activation curves, what-if,
comparing two models, LSTMVis's span matching, and text colored by a unit.

`install_analysis(window, document)` is the one call the main window makes: it adds an
Analysis menu whose entries open each view as a dock (created the first time it is asked
for, so an unused view costs nothing). Every view is a QWidget on the Document alone:

    memory.MemoryView            d h_T[k] / d c_t, d x_t and the forget-gate product
    saturation.SaturationView    Karpathy's saturation scatter and histograms
    curves.ActivationCurveView   the gate's sigmoid or tanh, z now and its recent path
    whatif.WhatIfView            clamp, zero, offset; rerun; before / after (undoable)
    compare.CompareView          a second model (or a snapshot) against the current one
    match.MatchView              select a span and a threshold; find where those units fire
    text.TextView                type text; each character colored by a unit's c or h

Views compute nothing themselves: they call lstmviz.core.analysis through the Qt-free
lstmviz.gui.analysis.data and draw what it returns.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["VIEWS", "AnalysisPanels", "install_analysis"]


@dataclass(frozen=True)
class ViewSpec:
    key: str
    menu_text: str
    title: str
    target: str  # "module:Class" under lstmviz.gui.analysis
    shortcut: str
    area: str  # "bottom" or "right"
    tip: str
    wants_undo: bool = False


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec("memory", "&Memory and gradient flow", "Memory and gradient", "memory:MemoryView",
             "Alt+1", "bottom",
             "How much of c_t survives to the last step T (the forget-gate product) and the exact "
             "gradients of unit k's h at T with respect to c_t and x_t, with the forget gate alongside"),
    ViewSpec("saturation", "Gate &saturation", "Saturation", "saturation:SaturationView",
             "Alt+2", "bottom",  # three gates side by side: too wide beside the inspector
             "How often each unit's i, f, o gates sit near 0 or near 1 (Karpathy et al. 2015); "
             "click a dot to select its unit"),
    ViewSpec("curves", "&Activation curve", "Activation curve", "curves:ActivationCurveView",
             "Alt+3", "right",
             "The selected gate's sigmoid or tanh with z now, its value and slope, and z's recent path"),
    ViewSpec("whatif", "&What-if: clamp, zero, offset", "What-if", "whatif:WhatIfView", "Alt+4", "bottom",
             "Clamp a gate (f = 1, f = 0, i = 0, …), zero a unit or offset a bias, rerun, and compare "
             "before and after (undoable)", wants_undo=True),
    ViewSpec("compare", "&Compare with another model", "Compare", "compare:CompareView", "Alt+5", "bottom",
             "A second model of the same shape, or the current one before your edits: traces overlaid, "
             "differences, units matched by correlation"),
    ViewSpec("match", "Match s&pans (LSTMVis)", "Match spans", "match:MatchView", "Alt+6", "bottom",
             "Select a span of steps and a threshold: the units on there become the selection, and "
             "other spans where they switch on are listed"),
    ViewSpec("text", "&Text: type and color characters", "Text", "text:TextView", "Alt+7", "bottom",
             "Type text as the input of a character model; each character colored by the selected "
             "unit's c or h; hover to step", wants_undo=True),
    ViewSpec("train", "T&rain an LSTM live", "Train", "lstmviz.gui.train.view:TrainView", "Alt+8", "bottom",
             "Train a small LSTM on a memory task and watch its gates learn; forget bias 0 vs 1 side by "
             "side; a scrubber over the checkpoints", wants_undo=True),
)
SPECS = {spec.key: spec for spec in VIEWS}


def view_class(key: str):
    module, _, name = SPECS[key].target.partition(":")
    if not module.startswith("lstmviz."):  # a module of this package; else a full module path
        module = f"lstmviz.gui.analysis.{module}"
    return getattr(importlib.import_module(module), name)


def _undo_controller(window):
    session = getattr(window, "session", None)
    return getattr(session, "undo", None)


class AnalysisPanels:
    """The analysis docks of one window, made on first use."""

    def __init__(self, window, document):
        from PySide6.QtWidgets import QMenu

        self.window, self.document = window, document
        self.docks: dict = {}
        self.views: dict = {}
        self.actions: dict = {}
        self.menu: QMenu | None = None

    def view(self, key: str):
        """The view (made and docked, hidden, if it did not exist yet)."""
        if key not in self.views:
            self._make(key)
        return self.views[key]

    def show(self, key: str):
        """Open the view's dock (making it the first time) and bring it to the front."""
        first = key not in self.views
        self.view(key)
        dock = self.docks[key]
        dock.show()
        dock.raise_()
        if first:  # room to read it: the plots need more than the trace panels' strip
            from PySide6.QtCore import Qt

            window = self.window
            if SPECS[key].area == "bottom":
                # half the window, but leave the diagram 400 px (a 720-px screen)
                height = max(dock.height(), min(int(window.height() * 0.5), window.height() - 400))
                window.resizeDocks([dock], [height], Qt.Orientation.Vertical)
            else:
                window.resizeDocks([dock], [max(dock.width(), 460)], Qt.Orientation.Horizontal)
        return dock

    def _make(self, key: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QDockWidget

        from lstmviz.gui.style import plain_math

        spec = SPECS[key]
        window = self.window
        cls = view_class(key)
        kwargs = {"undo": _undo_controller(window)} if spec.wants_undo else {}
        view = cls(self.document, **kwargs)
        dock = QDockWidget(spec.title, window)
        dock.setObjectName(f"{key}Dock")
        dock.setToolTip(plain_math(spec.tip))
        dock.setWidget(_scrolling(view))
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        areas = Qt.DockWidgetArea
        area = areas.RightDockWidgetArea if spec.area == "right" else areas.BottomDockWidgetArea
        dock.hide()
        window.addDockWidget(area, dock)
        session = getattr(window, "session", None)  # files dropped on the new view open too
        if session is not None:
            session.watch_drops()
        docks = getattr(window, "docks", None)
        anchor = None
        if isinstance(docks, dict):
            anchor = docks.get("inspector" if spec.area == "right" else "traces")
            docks.setdefault(key, dock)
        # tab it with the panel already in that corner (the last analysis dock there, else the
        # window's own), so opening a view never squeezes the diagram
        same_area = [self.docks[k] for k in self.docks if SPECS[k].area == spec.area]
        partner = same_area[-1] if same_area else anchor
        if partner is not None and window.dockWidgetArea(partner) == area:
            window.tabifyDockWidget(partner, dock)
        if anchor is not None:
            # closing it brings the window's own panel of its tab group forward (Qt would
            # show the last tab: the Weights table, where the Inspector was)
            dock.toggleViewAction().toggled.connect(
                lambda shown, d=dock, a=anchor: shown or _raise_after_close(window, d, a))
        self.views[key] = view
        self.docks[key] = dock


def _raise_after_close(window, dock, anchor) -> None:
    from shiboken6 import isValid

    # (the window closing or being torn down hides its docks too: nothing to bring forward)
    if not all(isValid(obj) for obj in (window, dock, anchor)) or not window.isVisible():
        return
    if dock.isFloating() or anchor.isHidden() or anchor.isFloating():
        return
    if anchor in window.tabifiedDockWidgets(dock):
        from PySide6.QtCore import QTimer

        # (after Qt has picked its own tab for the group, in the same pass of the event loop)
        QTimer.singleShot(0, anchor, anchor.raise_)


def _scrolling(view):
    """The view in a scroll area: a dock is never smaller than its widget's minimum size, and a
    main window grows to fit its docks, so a view whose controls need 825 px would push a
    1280-px window off the screen (issue 10). In a scroll area the view keeps its own minimum
    and scrolls when the dock is smaller."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy

    # A plot canvas's 640 x 480 size hint went into the view's height-for-width (which its
    # wrapped labels make the scroll area ask for): the What-if view was laid out 550 px tall
    # in a 290-px dock, scrolling although its minimum fit. Canvases take the height there is.
    for canvas in view.findChildren(pg.GraphicsView):
        policy = canvas.sizePolicy()
        policy.setVerticalPolicy(QSizePolicy.Policy.Ignored)
        canvas.setSizePolicy(policy)
    scroll = QScrollArea()
    scroll.setObjectName(f"{type(view).__name__}Scroll")
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(view)
    return scroll


def install_analysis(window, document) -> AnalysisPanels:
    """Add the Analysis menu (before Help) to a main window; returns the AnalysisPanels.
    Installing twice returns the first one."""
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMenu

    from lstmviz.gui.style import plain_math

    existing = getattr(window, "analysis", None)
    if isinstance(existing, AnalysisPanels):
        return existing
    panels = AnalysisPanels(window, document)
    window.analysis = panels
    bar = window.menuBar()
    menu = QMenu("&Analysis", bar)
    menu.setObjectName("menuAnalysis")
    menu.setToolTipsVisible(True)
    menus = getattr(window, "menus", None)
    help_menu = menus.get("help") if isinstance(menus, dict) else None
    if help_menu is not None:
        bar.insertMenu(help_menu.menuAction(), menu)
    else:
        bar.addMenu(menu)
    if isinstance(menus, dict):
        menus["analysis"] = menu
    for spec in VIEWS:
        action = QAction(spec.menu_text, window)
        action.setObjectName(f"actionAnalysis_{spec.key}")
        action.setShortcut(QKeySequence(spec.shortcut))
        action.setStatusTip(plain_math(spec.tip))
        action.setToolTip(plain_math(spec.tip))
        action.triggered.connect(lambda _checked=False, k=spec.key: panels.show(k))
        menu.addAction(action)
        window.addAction(action)
        panels.actions[spec.key] = action
        if spec.key in ("curves", "whatif", "match"):
            menu.addSeparator()
    panels.menu = menu
    return panels
