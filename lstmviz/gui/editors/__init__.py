"""Editing in the window: inputs, weights, documents, undo, export.

`install_actions(window, document)` is the one call the main window makes (from its
_build_menus): it adds the Input and Weights docks, the File entries (Open… for documents,
models and sequences — read in the background —, Open Recent, Save, Save As, exports), an
Edit menu (Undo, Redo, Generate input…, Randomise weights…), drops onto the window,
autosave with crash recovery, and the window layout kept across runs. Everything else stays
in the main window's hands.
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu

__all__ = ["GeneratorDialog", "SequencePanel", "Session", "WeightEditor", "install_actions"]

_LAZY = {
    "GeneratorDialog": "lstmviz.gui.editors.generator_dialog",
    "SequencePanel": "lstmviz.gui.editors.sequence_table",
    "Session": "lstmviz.gui.editors.session",
    "WeightEditor": "lstmviz.gui.editors.weight_editor",
}


def __getattr__(name: str):
    # Imported on first use: lstmviz.gui.export needs editors.messages without the rest.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)

RECOVERY_ENV = "LSTMVIZ_OFFER_RECOVERY"


def _menu(window: QMainWindow, key: str, title: str, after: QMenu | None = None) -> QMenu:
    menus = getattr(window, "menus", None)
    if isinstance(menus, dict) and isinstance(menus.get(key), QMenu):
        return menus[key]
    bar = window.menuBar()
    wanted = title.replace("&", "").lower()
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and menu.title().replace("&", "").lower() == wanted:
            return menu
    menu = QMenu(title, bar)
    following = None
    if after is not None:
        actions = bar.actions()
        index = next((i for i, a in enumerate(actions) if a.menu() is after), None)
        if index is not None and index + 1 < len(actions):
            following = actions[index + 1]
    if following is not None:
        bar.insertMenu(following, menu)
    else:
        bar.addMenu(menu)
    if isinstance(menus, dict):
        menus[key] = menu
    return menu


def _action(parent, text: str, slot, shortcut=None, tip: str = "", name: str = "") -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    if name:
        action.setObjectName(name)
    action.triggered.connect(lambda _checked=False: slot())
    return action


def _dock(window: QMainWindow, key: str, title: str, widget, tip: str) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{key}Dock")
    dock.setWidget(widget)
    dock.setToolTip(tip)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    docks = getattr(window, "docks", None)
    if isinstance(docks, dict):
        docks.setdefault(key, dock)
    return dock


def install_actions(window: QMainWindow, document) -> Session:  # noqa: F821
    """Add inputs, weights, documents, undo and export to a main window; returns the Session.

    What is not seen at start-up is made later: the Input and Weights panels when their tab is
    first shown, the exporter on the first export, the autosave lock after the first paint."""
    from lstmviz.gui.editors.session import Session

    session = Session(window, document)
    window.session = session

    # -- docks: tabbed with the inspector, which stays in front; filled when first shown ------
    def make_sequence():
        from lstmviz.gui.editors.sequence_table import SequencePanel

        return SequencePanel(document, window, undo=session.undo)

    def make_weights():
        from lstmviz.gui.editors.weight_editor import WeightEditor

        return WeightEditor(document, window, undo=session.undo)

    def sequence_made(panel) -> None:
        panel.add_action(_action(panel, "Open…", session.open_dialog, None, "Open a sequence (.csv, .npy)"))

    input_dock = _dock(window, "input", "Input", _placeholder(),
                       "The input sequence x_t, step by step: edit values, generate one, open a file")
    weights_dock = _dock(window, "weights", "Weights", _placeholder(),
                         "W, U, b (and peepholes) of each gate, heat-colored and editable")
    anchor = (getattr(window, "docks", {}) or {}).get("inspector")
    if isinstance(anchor, QDockWidget) and anchor is not input_dock:
        window.tabifyDockWidget(anchor, input_dock)
        window.tabifyDockWidget(input_dock, weights_dock)
        anchor.raise_()
    else:
        window.tabifyDockWidget(input_dock, weights_dock)
    session.add_lazy_panel("input", input_dock, make_sequence, sequence_made)
    session.add_lazy_panel("weights", weights_dock, make_weights)
    session.docks = {"input": input_dock, "weights": weights_dock}

    def show_dock(dock: QDockWidget) -> None:
        dock.show()
        dock.raise_()

    # -- File ---------------------------------------------------------------------------------
    file_menu = _menu(window, "file", "&File")
    open_action = getattr(window, "open_action", None)  # MainWindow's: -> its WindowController
    if not isinstance(open_action, QAction):  # a bare QMainWindow (the editing tests)
        open_action = _action(window, "&Open…", session.open_dialog, QKeySequence.StandardKey.Open,
                              "Open a document, a model or an input sequence", "actionOpen")
        file_menu.insertAction(file_menu.actions()[0] if file_menu.actions() else None, open_action)
    recent_menu = QMenu("Open &Recent", file_menu)
    recent_menu.setObjectName("menuRecent")
    recent_menu.aboutToShow.connect(lambda: session.recent.fill_menu(recent_menu, session.open_path))
    save = _action(window, "&Save", session.save, QKeySequence.StandardKey.Save,
                   "Save the document (.lstmviz: model, input, step, selection, view)", "actionSave")
    save_as = _action(window, "Save &As…", session.save_as, QKeySequence.StandardKey.SaveAs,
                      "Save the document under a new name", "actionSaveAs")
    export_traces = _action(window, "&Export traces…", lambda: session.exporter.ask_traces(), "Ctrl+E",
                            "Write the gate traces as CSV (the CLI's columns) or .npz", "actionExportTraces")
    export_image = _action(window, "Export &picture…", lambda: session.exporter.ask_image(), "Ctrl+Shift+E",
                           "Save the diagram or a panel as PNG or SVG", "actionExportPicture")
    actions = file_menu.actions()
    index = actions.index(open_action) if open_action in actions else -1
    before = actions[index + 1] if 0 <= index < len(actions) - 1 else None
    file_menu.insertMenu(before, recent_menu).setStatusTip("Open a file you opened or saved lately")
    sep = file_menu.insertSeparator(before)
    for act in (save, save_as):
        file_menu.insertAction(before, act)
    file_menu.insertSeparator(before)
    for act in (export_traces, export_image):
        file_menu.insertAction(before, act)
    del sep

    # -- Edit ---------------------------------------------------------------------------------
    edit_menu = _menu(window, "edit", "&Edit", after=file_menu)
    session.undo.undo_action.setObjectName("actionUndo")
    session.undo.redo_action.setObjectName("actionRedo")
    # Ctrl+Y and Ctrl+Shift+Z, each once: the platform's Redo may itself be Ctrl+Y, and an
    # action holding the same key twice is an "ambiguous shortcut" that Qt never triggers.
    redo_keys = [QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")]
    session.undo.redo_action.setShortcuts(redo_keys)
    edit_menu.addAction(session.undo.undo_action)
    edit_menu.addAction(session.undo.redo_action)
    edit_menu.addSeparator()
    edit_menu.addAction(_action(window, "&Generate input…", lambda: session.sequence_panel.open_generator(),
                                "Ctrl+G",
                                "Sine, square, step, impulse, ramp, noise, the memory tasks, text",
                                "actionGenerate"))
    edit_menu.addAction(_action(window, "Edit the &input…", lambda: show_dock(input_dock), None,
                                "Show the input table", "actionEditInput"))
    edit_menu.addAction(_action(window, "Edit the &weights…", lambda: show_dock(weights_dock), None,
                                "Show the weight tables", "actionEditWeights"))
    edit_menu.addAction(_action(window, "&Randomise weights", lambda: session.weight_editor.randomize(), None,
                                "PyTorch's initialisation with the seed in the Weights panel",
                                "actionRandomise"))
    for act in (session.undo.undo_action, session.undo.redo_action):
        window.addAction(act)

    # -- View ---------------------------------------------------------------------------------
    view_menu = _menu(window, "view", "&View")
    for dock, shortcut in ((input_dock, "Ctrl+Shift+I"), (weights_dock, "Ctrl+Shift+W")):
        toggle = dock.toggleViewAction()
        toggle.setShortcut(QKeySequence(shortcut))
        toggle.setStatusTip(f"Show or hide the {dock.windowTitle()} panel")
        view_menu.addAction(toggle)

    # -- after the window is built: layout from last time; once it is painted, the autosave
    # lock, then any unsaved work left behind ---------------------------------------------------
    if session.keep_layout:
        QTimer.singleShot(0, session, session.restore_layout)
    from lstmviz.gui.app import after_first_paint

    after_first_paint(window, session.start_autosave)
    if session.prompt or os.environ.get(RECOVERY_ENV):
        after_first_paint(window, session.offer_recovery)
    return session


def _placeholder():
    from PySide6.QtWidgets import QWidget

    return QWidget()
