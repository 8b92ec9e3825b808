"""The main window: lays out the views and wires them to one Document. Nothing else.

    central    the cell diagram (lstmviz.gui.diagram)
    right      the Inspector dock (lstmviz.gui.inspector)
    bottom     the Traces dock (lstmviz.gui.panels.TracePanels)
    toolbar    stepping and playback (lstmviz.gui.playback)

Menus are built in `_build_menus` and kept in `self.menus` ("file", "presets", "step",
"cell", "view", "help") so other features can add their actions there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

from lstmviz.components import COMPONENTS
from lstmviz.errors import LstmvizError
from lstmviz.gui.app import after_first_paint, hold_garbage_collection, keep_out_of_collection
from lstmviz.gui.binding import bind
from lstmviz.gui.diagram import CellDiagram
from lstmviz.gui.inspector import Inspector
from lstmviz.gui.playback import Playback, PlaybackBar
from lstmviz.presets import PRESETS, load_preset

# Keys that select a part of the diagram (also listed in the Cell menu).
SELECT_KEYS = (
    ("f", "F"),
    ("i", "I"),
    ("g", "G"),
    ("o", "O"),
    ("c", "C"),
    ("h", "H"),
    ("x", "X"),
    ("c_prev", "Shift+C"),
    ("h_prev", "Shift+H"),
    ("concat", "Shift+X"),
)

# The Traces dock's height in the default layout: room for about three plots (c, h, i)
# while the diagram above stays readable in a 1280 x 800 window.
TRACES_HEIGHT = 320


# The Inspector dock's share of the window in the default layout, within these bounds (px).
INSPECTOR_SHARE, INSPECTOR_MIN_PX, INSPECTOR_MAX_PX = 0.29, 340, 480


def inspector_width(window_width: int) -> int:
    """The Inspector dock's width in the default layout: wide enough for a 5 x 5 layer's
    equations in a 1280 px window (at one row of the traces toolbar beside it), more of a
    wider one, the rest for the diagram."""
    return max(INSPECTOR_MIN_PX, min(INSPECTOR_MAX_PX, round(window_width * INSPECTOR_SHARE)))

# The first window's size (a geometry restored from the last exit replaces it), and what a
# window manager's title bar may add on top of a window's own height.
DEFAULT_SIZE, TITLE_BAR_PX = (1280, 800), 40


def default_window_size(screen) -> tuple[int, int]:
    """DEFAULT_SIZE, or what fits a smaller screen's available area with a title bar above
    (at 1280 x 720 a 1280 x 800 window hid the status bar and the rerun's Cancel button).
    Windows drawn offscreen keep DEFAULT_SIZE: they have no real screen."""
    if screen is None or QGuiApplication.platformName() in ("offscreen", "minimal"):
        return DEFAULT_SIZE
    available = screen.availableGeometry()
    width, height = DEFAULT_SIZE
    return min(width, available.width()), min(height, available.height() - TITLE_BAR_PX)


class MainWindow(QMainWindow):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        hold_garbage_collection(self)  # until the window is painted
        self.document = document
        self.setObjectName("mainWindow")
        self.menus: dict[str, QMenu] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._session = None
        self._editors_installed = False

        self.diagram = CellDiagram(document)
        self.setCentralWidget(self.diagram)
        self.playback = Playback(document, self)
        self.playback.watch(self.diagram.viewport())

        self._build_toolbars()
        self._build_docks()
        self._build_menus()
        self.statusBar().showMessage(
            "Hover any part of the cell for its formula; click it to see its arithmetic. "
            "Left/Right step, Space plays.",
            15000,
        )

        bind(self, document.state_changed, self._update_title)
        bind(self, document.source_changed, self._check_current_preset)
        self._update_title()
        self.resize(*default_window_size(self.screen() or QGuiApplication.primaryScreen()))
        self.diagram.setFocus()
        # Editing (the Input and Weights docks, File > Save…, Edit, undo, autosave) is not
        # needed to paint the window: it is installed right after the first paint, or
        # sooner when something asks for `session`.
        after_first_paint(self, self.install_editors)

    # -- editing, installed after the first paint --------------------------------------------------
    @property
    def session(self):
        """The editing Session (lstmviz.gui.editors), installed now if it was not yet."""
        if not self._editors_installed:
            self.install_editors()
        return self._session

    @session.setter
    def session(self, value) -> None:
        self._session = value

    def install_editors(self) -> None:
        if self._editors_installed:
            return
        self._editors_installed = True
        from lstmviz.gui.editors import install_actions  # inputs, weights, documents, undo, export

        install_actions(self, self.document)
        self._size_inspector()  # (tabbing the Input and Weights docks with it reset its width)
        keep_out_of_collection(self)  # (its editors live as long as it does)
        from lstmviz.gui.animation_action import install_export_animation  # File > Export animation

        install_export_animation(self)

    # -- layout ------------------------------------------------------------------------------------
    def _build_toolbars(self) -> None:
        self.playback_bar = PlaybackBar(self.document, self.playback, self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.playback_bar)

    def _build_docks(self) -> None:
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

        self.inspector = Inspector(self.document)
        inspector = self._add_dock(
            "inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        inspector.setToolTip(
            "The selected part of the cell: its equation, the shapes of its terms "
            "and the arithmetic with this step's numbers"
        )

        from lstmviz.gui.panels import TracePanels

        self.traces = TracePanels(self.document)
        traces = self._add_dock("traces", "Traces", self.traces, Qt.DockWidgetArea.BottomDockWidgetArea)
        traces.setToolTip("c, h and the gates over the whole sequence")
        self.resizeDocks([traces], [TRACES_HEIGHT], Qt.Orientation.Vertical)
        self._inspector_sized = False  # (its width is set when the window is first shown)

    def _add_dock(self, key: str, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"{key}Dock")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        self.docks[key] = dock
        return dock

    # -- menus -------------------------------------------------------------------------------------
    def _action(
        self,
        menu: QMenu,
        text: str,
        slot,
        shortcut: str | QKeySequence | None = None,
        tip: str = "",
        name: str | None = None,
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
            act.setToolTip(tip)
        if name:
            act.setObjectName(name)
        if slot is not None:
            act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = self.menus["file"] = bar.addMenu("&File")
        # filled by lstmviz.gui.editors.install_actions (see install_editors)
        self.menus["edit"] = bar.addMenu("&Edit")
        self.open_action = self._action(
            file_menu,
            "&Open…",
            self._open_dialog,
            QKeySequence.StandardKey.Open,
            "Open a document (.lstmviz), a model or an input sequence (.csv, .npy); or drop files here",
            "actionOpen",
        )
        file_menu.addSeparator()
        self._action(
            file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit, "Close the window", "actionQuit"
        )

        presets = self.menus["presets"] = bar.addMenu("&Presets")
        self.preset_group = QActionGroup(self)
        self.preset_group.triggered.connect(self._preset_chosen)
        self.preset_actions: dict[str, QAction] = {}
        current = self.document.preset_name
        for number, name in enumerate(PRESETS, start=1):
            # Titles come from the presets themselves, built when the menu first opens (one
            # of them reads a trained model: not worth doing before the window is painted).
            act = self._action(
                presets, name.replace("-", " ").capitalize(), None, f"Ctrl+{number}",
                f"Open the built-in example {name!r}", f"preset_{name}",
            )
            act.setData(name)
            act.setCheckable(True)
            act.setChecked(name == current)
            self.preset_group.addAction(act)
            self.preset_actions[name] = act
        self._preset_titles_done = False
        presets.aboutToShow.connect(self._fill_preset_titles)

        step = self.menus["step"] = bar.addMenu("&Step")
        for act in self.playback_bar.step_actions():
            step.addAction(act)
            self.addAction(act)

        cell = self.menus["cell"] = bar.addMenu("&Cell")
        self.select_group = QActionGroup(self)
        self.select_group.setExclusive(False)
        self.select_group.triggered.connect(self._select_chosen)
        for cid, key in SELECT_KEYS:
            comp = COMPONENTS[cid]
            act = self._action(
                cell,
                f"Select the {comp.name}",
                None,
                key,
                f"Show the {comp.name} in the Inspector",
                f"select_{cid}",
            )
            act.setData(cid)
            self.select_group.addAction(act)
        cell.addSeparator()
        self.layer_menu = cell.addMenu("&Layer")
        self.layer_menu.setObjectName("menuLayer")
        self.layer_menu.menuAction().setStatusTip(
            "Switch to another LSTM layer or direction of the open model file")
        self.layer_menu.aboutToShow.connect(self.fill_layer_menu)
        self._layers_of: tuple[str, list] | None = None  # (model path, its layers), read once
        cell.addSeparator()
        self._action(
            cell,
            "Previous unit",
            self._previous_unit,
            "Up",
            "Work through the previous unit k",
            "actionUnitUp",
        )
        self._action(
            cell, "Next unit", self._next_unit, "Down", "Work through the next unit k", "actionUnitDown"
        )

        view = self.menus["view"] = bar.addMenu("&View")
        for key, shortcut in (("inspector", "Ctrl+I"), ("traces", "Ctrl+T")):
            toggle = self.docks[key].toggleViewAction()
            toggle.setShortcut(QKeySequence(shortcut))
            toggle.setStatusTip(f"Show or hide the {self.docks[key].windowTitle()} panel")
            view.addAction(toggle)
        toolbar = self.playback_bar.toggleViewAction()
        toolbar.setStatusTip("Show or hide the stepping toolbar")
        view.addAction(toolbar)

        help_menu = self.menus["help"] = bar.addMenu("&Help")
        self._action(
            help_menu,
            "&Keyboard shortcuts",
            self._show_shortcuts,
            QKeySequence.StandardKey.HelpContents,
            "List the keys",
            "actionShortcuts",
        )
        self._action(help_menu, "&About lstmviz", self._show_about, None, "What lstmviz is", "actionAbout")

        from lstmviz.gui.analysis import install_analysis  # the Analysis menu and its docks

        install_analysis(self, self.document)

    # -- actions -----------------------------------------------------------------------------------
    @property
    def controller(self):
        """The one way in for files and presets (lstmviz.gui.controller.WindowController)."""
        return self.session.controller

    def load_preset(self, name: str, confirm: bool = True) -> bool:
        return self.controller.apply_preset(name, confirm=confirm)

    def open_file(self, path, layer: str | None = None, input=None, confirm: bool = True) -> bool:
        """Open a document, a model or a sequence (File > Open); a bad file is reported in a
        dialog and changes nothing."""
        return self.controller.open(path, layer=layer, input=input, confirm=confirm)

    def _open_dialog(self) -> None:
        self.controller.open_dialog()

    def fill_layer_menu(self) -> None:
        """Cell > Layer: the LSTM layers (one per direction) of the open model file, as
        `lstmviz inspect` lists them; choosing one opens it on the current input."""
        from lstmviz.document.opening import describe_layer, layer_choices

        menu = self.layer_menu
        menu.clear()
        path = self.document.model_path
        if not path:
            menu.addAction("(no model file is open)").setEnabled(False)
            return
        if self._layers_of is None or self._layers_of[0] != path:
            try:
                self._layers_of = (path, layer_choices(path))
            except LstmvizError as error:
                menu.addAction(f"(cannot list the layers: {error})").setEnabled(False)
                return
        for info in self._layers_of[1]:
            act = menu.addAction(describe_layer(info))
            act.setObjectName(f"layer_{info.name}")
            act.setData(info.name)
            act.setCheckable(True)
            act.setChecked(info.name == self.document.layer_name)
            act.setEnabled(info.loadable)
            act.triggered.connect(lambda _checked=False, name=info.name: self.controller.switch_layer(name))

    def _fill_preset_titles(self) -> None:
        if self._preset_titles_done:
            return
        self._preset_titles_done = True
        for name, act in self.preset_actions.items():
            try:
                preset = load_preset(name)
            except LstmvizError:  # e.g. the bundled model is missing: the menu says so on use
                continue
            act.setText(preset.title)
            act.setStatusTip(preset.description)
            act.setToolTip(preset.description)

    def _check_current_preset(self, *_args) -> None:
        """Check the menu entry of the preset the Document shows (none for a file)."""
        current = self.document.preset_name
        for name, act in self.preset_actions.items():
            act.setChecked(name == current and not self.document.model_path)

    def _preset_chosen(self, action: QAction) -> None:
        self.load_preset(action.data())
        self._check_current_preset()

    def _select_chosen(self, action: QAction) -> None:
        self.document.set_selection(action.data())

    def _previous_unit(self) -> None:
        self._move_unit(-1)

    def _next_unit(self) -> None:
        self._move_unit(+1)

    def _move_unit(self, delta: int) -> None:
        doc = self.document
        doc.set_unit(min(max(doc.unit + delta, 0), doc.n - 1))

    def window_name(self) -> str:
        """What the title calls the document: its file's name once it was opened from or saved
        to a .lstmviz file, else the model's or preset's title (or the model file's name)."""
        doc = self.document
        if doc.document_path:
            return Path(doc.document_path).name
        if doc.title:
            return doc.title
        return Path(doc.model_path).name if doc.model_path else "LSTM cell"

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._inspector_sized:
            self._inspector_sized = True
            self._size_inspector()
            # (and once the first layout pass has settled the window's own size: it may
            # share the dock area out again)
            QTimer.singleShot(0, self, self._size_inspector)

    def _size_inspector(self) -> None:
        """The default layout's Inspector width (a layout restored from the last exit comes
        after and overrides it)."""
        dock = self.docks["inspector"]
        self.resizeDocks([dock], [inspector_width(self.width())], Qt.Orientation.Horizontal)

    def _update_title(self, *args) -> None:
        # Qt shows [*] as "*" while the window is modified: unsaved changes, whatever the document
        doc = self.document
        title = f"{self.window_name()}[*] · n = {doc.n}, m = {doc.m} — lstmviz"
        # every state change calls this (each tick of a rerun, each step): setting an unchanged
        # title still costs Qt ~0.2 ms
        if title != self.windowTitle():
            self.setWindowTitle(title)
        if doc.dirty != self.isWindowModified():
            self.setWindowModified(doc.dirty)

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(menu, keys, what) for every action of the window that has a shortcut, read from
        the actions themselves (menus in menu-bar order, then actions outside any menu), so
        the Help list never goes stale."""
        self.install_editors()
        self._fill_preset_titles()
        rows: list[tuple[str, str, str]] = []
        seen: set[int] = set()

        def keys_of(act: QAction) -> str:
            native = QKeySequence.SequenceFormat.NativeText
            names = (k.toString(native) for k in act.shortcuts() if not k.isEmpty())
            return " / ".join(dict.fromkeys(names))  # without repeats, in order

        def label(act: QAction) -> str:
            return act.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()

        def visit(menu: QMenu, section: str) -> None:
            for act in menu.actions():
                if act.menu() is not None:
                    visit(act.menu(), section)
                    continue
                if act.isSeparator() or id(act) in seen:
                    continue
                keys = keys_of(act)
                if keys:
                    seen.add(id(act))
                    rows.append((section, keys, label(act)))

        for top in self.menuBar().actions():
            if top.menu() is not None:
                visit(top.menu(), label(top))
        for act in self.findChildren(QAction):
            keys = keys_of(act)
            if keys and id(act) not in seen and act.text():
                seen.add(id(act))
                rows.append(("Other", keys, label(act)))
        return rows

    def shortcuts_html(self) -> str:
        from html import escape

        parts, section = [], None
        for menu, keys, what in self.shortcut_rows():
            if menu != section:
                section = menu
                parts.append(f"<tr><td colspan='2' style='padding-top:6px'><i>{escape(menu)}</i></td></tr>")
            parts.append(f"<tr><td><b>{escape(keys)}</b></td>"
                         f"<td style='padding-left:12px'>{escape(what)}</td></tr>")
        return f"<table>{''.join(parts)}</table>"

    def _show_shortcuts(self) -> None:
        from lstmviz.gui.shortcuts_dialog import show_shortcuts

        show_shortcuts(self)  # scrolls on a small screen

    def _show_about(self) -> None:
        from lstmviz.gui.about_dialog import show_about  # versions and "Copy to clipboard"

        show_about(self)

    def closeEvent(self, event) -> None:
        self.playback.pause()
        super().closeEvent(event)
