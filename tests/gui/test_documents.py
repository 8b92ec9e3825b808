# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Documents from the window: save, open, recent files, models and sequences, drops, layout."""

import hashlib
import json
import zipfile

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMenu

from lstmviz.core.generators import generate
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.edits import SetWeight, set_input
from lstmviz.gui import settings as prefs
from lstmviz.io.npz import write_npz_model
from lstmviz.io.sequences import write_sequence
from lstmviz.presets import load_preset
from tests.gui.editing_fixtures import doc, drop, open_window, user_dirs, window  # noqa: F401


def test_save_and_open_restore_the_same_document(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    session.undo.submit(SetWeight(doc, "U_o", (1, 1), 0.75))
    out = generate("add-marked", T=80, m=3, seed=4)
    session.undo.submit(set_input(doc, out.xs, out.names, text="Generate"))
    doc.set_step(11)
    doc.set_selection("o")
    doc.set_units([0])
    doc.set_unit(1)
    doc.set_option("concat_h_first", False)
    assert doc.dirty
    path = tmp_path / "work.lstmviz"
    session.save_to(path, synchronous=True)
    assert not doc.dirty and doc.document_path == str(path.resolve())
    assert str(path.resolve()) in session.recent.paths()

    other = Document.from_preset(load_preset("forget-worked"))
    window2, session2 = open_window(qtbot, other)
    try:
        session2.open_path(path)
        session2.wait()
        for key, value in doc.params.arrays().items():
            np.testing.assert_array_equal(getattr(other.params, key), value)
        np.testing.assert_array_equal(other.xs, doc.xs)
        np.testing.assert_array_equal(other.trace.h, doc.trace.h)
        assert (other.step, other.selection, other.unit, other.units) == (11, "o", 1, (0,))
        assert other.option("concat_h_first") is False
        assert other.input_names == ("value", "marker", "")
        assert not other.dirty and other.document_path == str(path.resolve())
        # opening is one undo step, and that step is the saved state
        assert session2.undo.stack.count() == 1 and session2.undo.stack.isClean()
        session2.undo.undo()
        assert other.preset_name == "forget-worked" and other.document_path is None and other.n == 3
    finally:
        session2.shutdown()


def test_what_if_interventions_are_saved_opened_and_autosaved(qtbot, window, tmp_path):
    from lstmviz.core.analysis.whatif import ClampGate, ZeroUnit
    from lstmviz.io.document_file import read_document

    session = window.session
    doc = session.document
    interventions = (ClampGate("f", 1.0, units=(0,), steps=(5, 25)), ZeroUnit(units=(1,), steps=(30, 32)))
    doc.set_interventions(interventions)
    assert doc.dirty
    assert session.autosave_now(background=False)
    assert read_document(session.autosaver.path).interventions == interventions
    path = tmp_path / "whatif.lstmviz"
    session.save_to(path, synchronous=True)
    assert not doc.dirty

    other = Document.from_preset(load_preset("memory-cell"))
    window2, session2 = open_window(qtbot, other)
    try:
        session2.open_path(path)
        session2.wait()
        assert other.interventions == interventions and not other.dirty
        np.testing.assert_array_equal(other.trace.c, doc.trace.c)
        np.testing.assert_array_equal(other.baseline_trace.c, doc.baseline_trace.c)
    finally:
        session2.shutdown()


def test_save_as_adds_the_suffix_and_save_reuses_the_path(window, tmp_path, monkeypatch):
    session = window.session
    target = tmp_path / "named"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    session.undo.submit(SetWeight(session.document, "b_o", (0,), 1.0))
    assert session.save()  # no path yet: asks
    session.wait()
    assert (tmp_path / "named.lstmviz").exists()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("asked again"))
    session.undo.submit(SetWeight(session.document, "b_o", (0,), 2.0))
    session.save()
    session.wait()
    with zipfile.ZipFile(tmp_path / "named.lstmviz") as zf:
        assert np.load(zf.open("cells/0/b_o.npy"))[0] == 2.0


def test_file_menu_and_recent_files(qtbot, window, tmp_path):
    session = window.session
    session.save_to(tmp_path / "one.lstmviz", synchronous=True)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert texts[:2] == ["&Open…", "Open &Recent"]
    assert {"&Save", "Save &As…", "&Export traces…", "Export &picture…"} <= set(texts)
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert [a.text() for a in edit_menu.actions()][:2] == ["&Undo", "&Redo"]
    recent = window.findChild(QMenu, "menuRecent")
    recent.aboutToShow.emit()
    entries = [a for a in recent.actions() if a.text().startswith("&1")]
    assert entries and entries[0].toolTip() == str((tmp_path / "one.lstmviz").resolve())
    session.undo.submit(SetWeight(session.document, "W_f", (0, 0), 9.0))
    session.document.mark_saved()  # pretend; opening asks nothing offscreen anyway
    entries[0].trigger()
    session.wait()
    assert session.document.params.W_f[0, 0] == 0.0


def test_opening_a_model_is_background_undoable_and_hashed(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    model = tmp_path / "cell.npz"
    write_npz_model(LSTMParams.random(5, 3, seed=2), model)
    session.open_path(model)
    assert doc.n == 2  # not yet: it is read in the background
    session.wait()
    assert doc.n == 5 and doc.model_path == str(model)
    assert doc.model_sha256 == hashlib.sha256(model.read_bytes()).hexdigest()
    saved = tmp_path / "with-model.lstmviz"
    session.save_to(saved, synchronous=True)
    with zipfile.ZipFile(saved) as zf:
        meta = json.loads(zf.read("document.json"))
    assert meta["model"] == {**meta["model"], "path": str(model), "sha256": doc.model_sha256}
    session.undo.undo()
    assert doc.n == 2 and doc.model_path is None
    # the status line no longer names the model that is gone
    assert window.statusBar().currentMessage().startswith("Undid: ")
    session.undo.redo()
    session.wait()
    assert doc.n == 5 and window.statusBar().currentMessage().startswith("Redid: ")


def test_opening_and_dropping_sequences(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    csv = tmp_path / "seq.csv"
    write_sequence(np.arange(30.0).reshape(10, 3), csv)
    drop(window, csv)
    session.wait()
    assert doc.T == 10 and doc.xs[9, 2] == 29 and doc.input_path == str(csv)
    assert doc.input_names == ("", "", "")  # write_sequence's x_0.. header: no names
    named = tmp_path / "named.csv"
    named.write_text("value,write,erase\n1,0,0\n0,1,0\n")
    session.open_path(named)
    session.wait()
    assert doc.input_names == ("value", "write", "erase") and doc.T == 2
    session.undo.undo()
    npy = tmp_path / "seq.npy"
    np.save(npy, np.ones((7, 3)))
    session.open_path(npy)
    session.wait()
    assert doc.T == 7
    session.undo.undo()
    assert doc.T == 10
    session.undo.undo()
    assert doc.T == 40 and doc.input_path is None


def test_a_model_and_its_sequence_dropped_together(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    model = tmp_path / "two.npz"
    write_npz_model(LSTMParams.random(4, 2, seed=1), model)
    seq = tmp_path / "two.csv"
    write_sequence(np.ones((12, 2)), seq)
    drop(window, seq, model)  # any order: the model goes first
    session.wait()
    assert doc.m == 2 and doc.T == 12 and doc.input_path == str(seq)


def test_window_layout_and_preferences_are_kept(qtbot, doc, user_dirs):
    window, session = open_window(qtbot, doc)
    session.keep_layout = True
    session.docks["weights"].hide()
    window.resize(820, 610)
    session.shutdown()
    window2, session2 = open_window(qtbot, Document.from_preset(load_preset("memory-cell")))
    assert session2.docks["weights"].isVisible()
    assert session2.restore_layout()
    assert not session2.docks["weights"].isVisible()
    assert abs(window2.width() - 820) < 40
    prefs.put("export/layout", "long")
    from lstmviz.gui.export import TraceExportDialog

    dialog = TraceExportDialog(session2.document)
    qtbot.addWidget(dialog)
    assert dialog.long.isChecked()
    session2.shutdown()


def test_editing_while_saving_keeps_the_document_unsaved(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    session.undo.submit(SetWeight(doc, "W_g", (0, 0), 0.5))
    session.save_to(tmp_path / "race.lstmviz")  # background
    session.undo.submit(SetWeight(doc, "W_g", (0, 0), 0.25))
    session.wait()
    assert doc.dirty  # the file holds 0.5, the window 0.25


def test_the_main_window_has_it_all(qtbot, doc, user_dirs, make_window):
    """The real window (tests/gui/conftest.py's make_window) calls install_actions."""
    window = make_window(document=doc)
    session = getattr(window, "session", None)
    if session is None:
        pytest.skip("the main window does not call install_actions yet")
    try:
        # the panels are made when first shown or asked for (not at start-up)
        sequence, weights = session.sequence_panel, session.weight_editor
        assert window.docks["input"].widget() is sequence
        assert window.docks["weights"].widget() is weights
        assert window.open_action.text() == "&Open…"
        assert "edit" in window.menus
    finally:
        session.shutdown()


def test_every_speed_and_window_the_controls_allow_is_saved_and_opens_again(qtbot, doc, user_dirs,
                                                                             make_window, tmp_path):
    """The toolbar's speed went to 5000 steps/s while a document only took 60: a document
    saved at 200 steps/s could not be opened again ("playback_fps is 200.0, expected a number
    in 1..60"). Both ends of each control's range now save and open, in the real window."""
    window = make_window(document=doc)
    session = window.session
    speed, steps = window.playback_bar.speed, window.traces.toolbar.window
    try:
        for fps, width in ((speed.maximum(), steps.maximum()), (speed.minimum(), steps.minimum()),
                           (200, 37)):
            speed.setValue(fps)
            steps.setValue(width)
            assert doc.option("playback_fps") == fps and doc.option("trace_window") == width
            path = tmp_path / f"speed{fps}.lstmviz"
            session.save_to(path, synchronous=True)
            doc.set_option("playback_fps", 10.0)  # (the file must bring the speed back)
            session.open_path(path)
            session.wait()
            assert doc.option("playback_fps") == fps and doc.option("trace_window") == width
            assert speed.value() == fps and steps.value() == width
        doc.set_option("playback_fps", 1e9)  # from code: taken to the bound, as the controls do
        assert doc.option("playback_fps") == speed.maximum()
    finally:
        session.shutdown()
