"""The main window's layout and wiring, the `open` and `screenshot` commands, and the
PySide6 None-refcount regression (DESIGN.md)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QDockWidget

from lstmviz import cli
from lstmviz.core.params import LSTMParams
from lstmviz.document.opening import initial_document as build_document
from lstmviz.errors import LstmvizError
from lstmviz.io.npz import write_npz_model
from lstmviz.io.sequences import write_sequence
from lstmviz.presets import PRESETS


def test_layout_docks_and_menus(make_window):
    window = make_window("memory-cell")
    assert window.centralWidget() is window.diagram
    docks = {d.windowTitle(): d for d in window.findChildren(QDockWidget)}
    assert {"Inspector", "Traces"} <= set(docks)
    assert window.dockWidgetArea(docks["Inspector"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert window.dockWidgetArea(docks["Traces"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    from lstmviz.gui.panels import TracePanels

    assert isinstance(docks["Traces"].widget(), TracePanels)
    assert docks["Inspector"].widget() is window.inspector
    # Other features add menus of their own (Edit, Analysis); these are the window's own.
    assert {"file", "presets", "step", "cell", "view", "help"} <= set(window.menus)
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles[0] == "&File" and titles[-1] == "&Help"
    assert {"&Presets", "&Step", "&Cell", "&View"} <= set(titles)
    assert window.open_action.shortcut().toString() == "Ctrl+O"
    view_texts = [a.text() for a in window.menus["view"].actions()]
    assert "Inspector" in view_texts and "Traces" in view_texts
    assert len(window.menus["presets"].actions()) == len(PRESETS)
    assert window.preset_actions["memory-cell"].isChecked()
    # every menu action explains itself
    for menu in window.menus.values():
        for act in menu.actions():
            assert act.isSeparator() or act.statusTip(), act.text()
    assert "Memory cell" in window.windowTitle()


def test_view_menu_toggles_docks(make_window, qtbot):
    window = make_window("memory-cell")
    dock = window.docks["traces"]
    dock.toggleViewAction().trigger()
    assert not dock.isVisible()
    dock.toggleViewAction().trigger()
    assert dock.isVisible()
    qtbot.wait(5)  # the panels queue a zero-timer when shown


def test_presets_menu_switches_the_cell(make_window):
    window = make_window("memory-cell")
    doc = window.document
    window.preset_actions["input-worked"].trigger()
    assert doc.n == 3 and doc.selection == "i" and doc.step == 0
    assert "input gate" in window.windowTitle()
    assert window.diagram.column("f").count == 3
    text = window.inspector.plain_text()
    assert "= 22" in text and "43" in text and "64" in text
    window.preset_actions["random-sine"].trigger()
    assert doc.n == 8 and doc.m == 1 and doc.selection == "c"


def test_clicking_the_diagram_shows_the_component_in_the_inspector(make_window, qtbot):
    window = make_window("forget-worked")
    doc, view = window.document, window.diagram
    for cid, heading in (
        ("i", "Input gate"),
        ("add_c", "Cell update"),
        ("mul_o", "Output multiply"),
        ("concat", "Concatenation"),
        ("f", "Forget gate"),
    ):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.view_point(cid))
        assert doc.selection == cid
        assert window.inspector.plain_text().startswith(heading)
    assert "92" in window.inspector.plain_text() and "177" in window.inspector.plain_text()


def test_open_model_and_sequence(make_window, tmp_path):
    window = make_window("memory-cell")
    doc = window.document
    session = window.session
    model = tmp_path / "cell.npz"
    write_npz_model(LSTMParams.random(5, 3, seed=3), model)
    assert window.open_file(model)  # m = 3 like the memory cell: keeps the input
    session.wait()
    assert doc.n == 5 and doc.T == 40 and doc.model_path == str(model)
    assert "cell.npz" in window.windowTitle() and window.diagram.column("o").count == 5
    seq = tmp_path / "walk.csv"
    write_sequence(np.cumsum(np.ones((25, 3)), axis=0) / 25, seq)
    assert window.open_file(seq)
    session.wait()
    assert doc.T == 25 and doc.n == 5
    other = tmp_path / "two.csv"
    write_sequence(np.zeros((9, 2)), other)  # m = 2: runs on a random cell when asked to
    session.controller.questions.answers["mismatch"] = "random"
    assert window.open_file(other)
    session.wait()
    assert doc.m == 2 and doc.T == 9
    shown = []
    session.failed.connect(shown.append)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3\n")
    window.open_file(bad)
    session.wait()
    assert shown and "bad.csv" in shown[0] and doc.T == 9  # nothing changed


def test_lstmviz_without_arguments_opens_the_memory_cell(monkeypatch):
    shown = []
    monkeypatch.setattr("lstmviz.gui.app.run_window", lambda document, **_: shown.append(document) or 0)
    assert cli.DEFAULT_COMMAND == "open"
    assert cli.main([]) == 0
    assert shown[0].title.startswith("Memory cell") and shown[0].preset_name == "memory-cell"
    assert cli.main(["--preset", "forget-worked", "--select", "f"]) == 0
    assert shown[1].preset_name == "forget-worked" and shown[1].selection == "f"


def test_open_command_arguments(tmp_path, capsys):
    model = tmp_path / "m.npz"
    write_npz_model(LSTMParams.random(4, 2, seed=0), model)
    doc = build_document(file=str(model), step=5, select="o", unit=3)
    assert (doc.n, doc.m, doc.step, doc.selection, doc.unit) == (4, 2, 5, "o", 3)
    seq = tmp_path / "x.npy"
    np.save(seq, np.zeros((7, 2)))
    doc = build_document(file=str(seq))
    assert doc.m == 2 and doc.T == 7 and doc.n == 4
    doc = build_document(file=str(model), input=str(seq))
    assert doc.T == 7 and doc.input_path == str(seq)
    for kwargs, message in (
        ({"preset": "memory-cell", "step": 99}, "--step 99 is not in 0..39"),
        ({"preset": "memory-cell", "select": "zz"}, "not a component"),
        ({"model": str(model), "preset": "memory-cell"}, "not both"),
        ({"preset": "memory-cell", "input": str(seq)}, "expects m = 3"),
    ):
        with pytest.raises(LstmvizError, match=message):
            build_document(**kwargs)
    assert cli.main(["open", str(tmp_path / "missing.npz")]) == 2
    assert "missing.npz" in capsys.readouterr().err


def test_open_command_opens_a_saved_document(tmp_path, monkeypatch, capsys, qtbot):
    from lstmviz.core.analysis.whatif import ClampGate
    from lstmviz.document import Document
    from lstmviz.document.files import snapshot
    from lstmviz.io.document_file import write_document
    from lstmviz.presets import load_preset

    source = Document.from_preset(load_preset("forget-worked"))
    source.set_step(1)
    source.set_selection("g")
    source.set_interventions((ClampGate("f", 1.0),))
    path = tmp_path / "saved.lstmviz"
    write_document(snapshot(source), path)
    shown = []

    def run_window(document, then=None, **_):
        # the window appears at once; the document's cell runs in the background (with a
        # progress dialog when it is long) and lands when done
        from lstmviz.gui.main_window import MainWindow

        window = MainWindow(document)
        qtbot.addWidget(window)
        window.show()
        if then is not None:
            then(window)
        assert window.session.wait()
        shown.append(window.document)
        return 0

    monkeypatch.setattr("lstmviz.gui.app.run_window", run_window)
    assert cli.main(["open", str(path)]) == 0
    doc = shown[0]
    assert (doc.n, doc.step, doc.selection, doc.interventions) == (3, 1, "g", source.interventions)
    np.testing.assert_array_equal(doc.trace.h, source.trace.h)
    assert doc.document_path == str(path.resolve()) and not doc.dirty
    assert cli.main(["open", str(path), "--select", "o", "--step", "0"]) == 0
    assert (shown[1].selection, shown[1].step) == ("o", 0)
    assert cli.main(["open", str(path), "--step", "99"]) == 2  # refused before any window
    assert "--step 99" in capsys.readouterr().err and len(shown) == 2
    with pytest.raises(LstmvizError, match="without --preset memory-cell"):
        build_document(file=str(path), preset="memory-cell")
    bad = tmp_path / "bad.lstmviz"
    bad.write_bytes(b"not a zip")
    assert cli.main(["open", str(bad)]) == 2
    assert "bad.lstmviz" in capsys.readouterr().err


def test_screenshot_command(tmp_path, qapp, capsys):
    out = tmp_path / "shot.png"
    status = cli.main(
        [
            "screenshot",
            str(out),
            "--preset",
            "forget-worked",
            "--select",
            "f",
            "--size",
            "1300x760",
            "--form",
            "x_first",
        ]
    )
    assert status == 0 and "wrote" in capsys.readouterr().err
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1300, 760)
    colors = {image.pixelColor(x, y).name() for x in range(0, 1300, 9) for y in range(0, 760, 9)}
    assert len(colors) > 40  # a real picture, not a blank window
    assert cli.main(["screenshot", str(tmp_path / "x.jpg")]) == 2
    assert cli.main(["screenshot", str(out), "--size", "big"]) == 2
    assert "WIDTHxHEIGHT" in capsys.readouterr().err


def test_pyside_calls_do_not_leak_none(qapp):
    """PySide6 6.12.0 dropped a reference to None on every Qt call returning nothing, and
    the interpreter aborted after a few thousand (DESIGN.md); 6.11.x is fine. Keep it so."""
    from PySide6.QtCore import QObject, QTimer
    from PySide6.QtWidgets import QWidget

    widget = QWidget()
    timer = QTimer()
    obj = QObject()
    before = sys.getrefcount(None)
    for k in range(3000):
        widget.setEnabled(k % 2 == 0)  # void Qt calls
        widget.setToolTip("x")
        timer.setInterval(k % 50 + 1)
        obj.setObjectName("o")
    after = sys.getrefcount(None)
    widget.deleteLater()
    assert after >= before - 10, f"None lost {before - after} references in 12000 Qt calls"


# -- the window's title, shortcuts list, default layout and teardown -----------------------------
def test_a_preset_is_a_fresh_untitled_document(make_window, tmp_path):
    from lstmviz.edits import SetWeight

    window = make_window("forget-worked")
    doc, session = window.document, window.session
    session.save_to(tmp_path / "mine.lstmviz", synchronous=True)
    session.undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))
    assert doc.dirty and doc.document_path
    session.prompt = False  # offscreen: no dialog; the unsaved edit is discarded as asked
    window.preset_actions["brackets"].trigger()
    assert not doc.dirty and doc.document_path is None and doc.model_path is None
    assert doc.unit == 5 and not window.isWindowModified()


def test_switching_preset_can_be_cancelled_and_keeps_the_edits(make_window, monkeypatch):
    from lstmviz.edits import SetWeight

    window = make_window("forget-worked")
    doc, session = window.document, window.session
    session.undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))
    session.prompt = True
    monkeypatch.setattr(session, "ask_unsaved", lambda action: "cancel")
    window.preset_actions["memory-cell"].trigger()
    assert doc.n == 3 and doc.dirty and doc.params.W_f[0, 0] == 2.0
    assert window.preset_actions["forget-worked"].isChecked()


def test_title_names_the_document_and_marks_unsaved_changes(make_window, tmp_path):
    from lstmviz.edits import SetWeight

    window = make_window("forget-worked")
    doc, session = window.document, window.session
    assert window.windowTitle().startswith("Worked example") and "[*]" in window.windowTitle()
    assert not window.isWindowModified()
    session.undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))  # a preset: no file behind it
    assert doc.dirty and window.isWindowModified()
    path = tmp_path / "mine.lstmviz"
    session.save_to(path, synchronous=True)
    assert window.windowTitle().startswith("mine.lstmviz[*]") and not window.isWindowModified()
    doc.set_step(2)  # the view alone is not a change worth a star
    assert not window.isWindowModified()
    session.undo.submit(SetWeight(doc, "W_f", (0, 0), 3.0))
    assert window.isWindowModified()
    session.undo.stack.undo()
    assert not window.isWindowModified()  # back to what is saved


def test_keyboard_shortcuts_list_every_action_with_a_shortcut(make_window):
    from PySide6.QtGui import QAction, QKeySequence

    window = make_window("memory-cell")
    rows = window.shortcut_rows()
    listed = {(menu, keys) for menu, keys, _ in rows}
    keys = {k for _, k, _ in rows}
    for number in range(1, 8):  # the Analysis menu
        assert ("Analysis", f"Alt+{number}") in listed
    assert {"Ctrl+S", "Ctrl+Z", "Ctrl+G", "Ctrl+E", "Ctrl+Shift+I", "Ctrl+Shift+W"} <= keys  # the editors'
    assert {"Left", "Right", "Space", "Home", "End", "Up", "Down", "F", "Shift+X", "Ctrl+1", "Ctrl+T"} <= keys
    native = QKeySequence.SequenceFormat.NativeText
    for act in window.findChildren(QAction):  # nothing with a shortcut is left out
        for seq in act.shortcuts():
            if not seq.isEmpty() and act.text():
                assert any(seq.toString(native) in k.split(" / ") for k in keys), act.text()
    html = window.shortcuts_html()
    assert "Alt+7" in html and "Memory and gradient flow" in html and "Trained model" in html


def test_the_traces_dock_shows_three_plots_by_default(make_window):
    window = make_window("memory-cell")
    dock = window.docks["traces"]
    assert dock.height() >= 320
    assert window.diagram.height() >= 300  # the diagram stays readable at 1280 x 800
    panels = window.traces
    assert sum(panels.plot_visible(name) for name in panels.shown) >= 2


@pytest.mark.parametrize("with_session", [False, True])
def test_a_window_deleted_right_after_show_leaves_nothing_queued(qapp, make_document, with_session,
                                                                   tmp_path, monkeypatch):
    """Zero-timers queued while showing (the panels' bring-forward, the editors installed after
    the first paint, the layout restore) must die with the window, not call into a deleted one."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from lstmviz.gui.main_window import MainWindow

    monkeypatch.setenv("LSTMVIZ_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("LSTMVIZ_CONFIG_DIR", str(tmp_path / "config"))
    doc = make_document("memory-cell")
    window = MainWindow(doc)
    if with_session:
        assert window.session is not None  # installed now rather than after the first paint
    window.show()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for _ in range(5):
        qapp.processEvents()
    doc.set_step(7)  # the Document outlives the window: its views are gone, not called
    doc.set_selection("o")
    qapp.processEvents()


def test_no_key_is_bound_twice_and_undo_redo_keys_work(make_window, qtbot):
    """Qt never triggers a key two actions (or one action twice) hold: it only warns of an
    "ambiguous shortcut overload". Ctrl+Z, Ctrl+Y and Ctrl+Shift+Z pressed as a user would."""
    from collections import Counter

    from PySide6.QtGui import QAction
    from PySide6.QtTest import QTest

    from lstmviz.edits import SetWeight

    window = make_window("memory-cell")
    session = window.session
    for key in ("memory", "whatif", "text"):  # the views that hold undo buttons
        window.analysis.show(key)
    session.weight_editor, session.sequence_panel  # noqa: B018 - made on first use
    held = Counter(
        seq.toString()
        for act in window.findChildren(QAction)
        if act.isEnabled() or act.objectName() in ("actionUndo", "actionRedo")
        for seq in act.shortcuts()
        if not seq.isEmpty()
    )
    assert [key for key, count in held.items() if count > 1] == []

    doc = window.document
    before = float(doc.params.W_o[0, 0])
    assert session.undo.submit(SetWeight(doc, "W_o", (0, 0), before + 0.5))
    session.wait()
    window.diagram.setFocus()

    def press(key, modifiers, expected):
        QTest.keyClick(window.diagram, key, modifiers)
        qtbot.waitUntil(lambda: float(doc.params.W_o[0, 0]) == expected, timeout=2000)

    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    press(Qt.Key.Key_Z, ctrl, before)
    press(Qt.Key.Key_Y, ctrl, before + 0.5)
    press(Qt.Key.Key_Z, ctrl, before)
    press(Qt.Key.Key_Z, ctrl | shift, before + 0.5)


@pytest.mark.parametrize("selection", ["c", "mul_f", "h"])
def test_the_unit_tables_fit_the_default_inspector(make_window, qtbot, selection):
    """At 1280 x 800 the bracket model's every-unit table (eight columns for the cell update)
    is read whole: no column, least of all the bold answer at its right, is cut off."""
    window = make_window("brackets")
    window.document.set_selection(selection)
    browser = window.inspector.browser
    qtbot.waitUntil(lambda: "Unit by unit" in browser.toPlainText(), timeout=2000)
    qtbot.wait(10)
    assert browser.horizontalScrollBar().maximum() == 0
