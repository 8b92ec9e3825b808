# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Bad input in the window: a message naming the file or field and the problem, state kept."""

import functools
import threading
import time
import zipfile

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from lstmviz.core.params import LSTMParams
from lstmviz.document.files import snapshot
from lstmviz.errors import LstmvizError
from lstmviz.gui import workers
from lstmviz.gui.editors.generator_dialog import GeneratorDialog
from lstmviz.io.document_file import write_document
from lstmviz.io.npz import write_npz_model
from tests.gui.editing_fixtures import (  # noqa: F401
    assert_unchanged,
    doc,
    drop,
    last_message,
    snapshot_state,
    user_dirs,
    window,
)


def _visible_error(window) -> str:
    boxes = [b for b in window.findChildren(QMessageBox)
             if b.objectName() == "lstmviz-error" and b.isVisible()]
    assert boxes, "no message shown"
    return boxes[-1].text()


@pytest.mark.parametrize("name, content, problem", [
    ("broken.npz", b"PK\x03\x04 this is not a zip", "not a readable .npz archive"),
    ("empty.npz", b"", "the file is empty"),
    ("ragged.csv", b"1,2,3\n4,5\n", "line 2 has 2 columns, expected 3 (ragged rows)"),
    ("words.csv", b"a,b,c\n1,2,x\n", "line 2, column 3: 'x' is not a number"),
    ("nan.csv", b"1,2,3\n1,nan,3\n", "line 2, column 2: 'nan' is not a finite number"),
    ("blob.npy", b"\x93NUMPY garbage", "not a readable .npy file|cannot read the array"),
    ("junk.lstmviz", b"not a zip at all", "is not a .lstmviz document"),
    ("model.weird", b"whatever", "unknown model format '.weird'"),
])
def test_a_malformed_file_dropped_on_the_window(qtbot, window, tmp_path, name, content, problem):
    session = window.session
    before = snapshot_state(session.document)
    path = tmp_path / name
    path.write_bytes(content)
    drop(window, path)
    session.wait()
    message = _visible_error(window)
    assert message.startswith(f"{path}: ") and any(p in message for p in problem.split("|")), message
    assert_unchanged(session.document, before)
    assert session.undo.stack.count() == 0


def test_a_document_with_a_bad_member_dropped(qtbot, window, tmp_path):
    session = window.session
    good = tmp_path / "good.lstmviz"
    write_document(snapshot(session.document), good)
    bad = tmp_path / "bad.lstmviz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            if info.filename != "cells/0/U_i.npy":
                zout.writestr(info, zin.read(info))
    before = snapshot_state(session.document)
    drop(window, bad)
    session.wait()
    assert _visible_error(window) == f"{bad}: cells/0/U_i.npy is missing"
    assert_unchanged(session.document, before)


def test_a_model_whose_m_does_not_match_the_sequence(qtbot, window, tmp_path):
    session = window.session
    doc = session.document
    questions = session.controller.questions
    model = tmp_path / "m2.npz"
    write_npz_model(LSTMParams.random(4, 2, seed=0), model)
    before = snapshot_state(doc)
    session.open_path(model)  # nobody answers offscreen: the question is recorded, Cancel
    session.wait()
    kind, mismatch = questions.asked[-1]
    assert kind == "mismatch"
    assert mismatch.message == (f"{model}: the model expects m = 2 inputs per step but the current "
                                "sequence has 3 columns")
    assert "Cancel keeps everything as it is" in mismatch.question
    assert [c.key for c in mismatch.choices] == ["sequence", "generated", "zero", "cancel"]
    assert_unchanged(doc, before)
    questions.answers["mismatch"] = "zero"  # this time take the offer
    session.open_path(model)
    session.wait()
    assert doc.m == 2 and doc.n == 4 and doc.T == 40 and doc.model_path == str(model)
    assert not doc.xs.any()
    session.undo.undo()
    assert_unchanged(doc, {**before, "dirty": doc.dirty})


def test_a_sequence_whose_columns_do_not_match_the_model(qtbot, window, tmp_path):
    session = window.session
    questions = session.controller.questions
    before = snapshot_state(session.document)
    seq = tmp_path / "two.csv"
    seq.write_text("a,b\n1,2\n3,4\n")
    session.open_path(seq)
    session.wait()
    kind, mismatch = questions.asked[-1]
    assert mismatch.message == f"{seq}: has 2 columns but the model expects m = 3 inputs per step"
    assert "random cell" in mismatch.question
    assert_unchanged(session.document, before)
    questions.answers["mismatch"] = "random"  # and once more, taking the way out
    session.open_path(seq)
    session.wait()
    doc = session.document
    assert (doc.n, doc.m, doc.T) == (2, 2, 2) and doc.input_names == ("a", "b")
    assert doc.input_path == str(seq)


def test_text_typed_where_a_number_goes(qtbot, window):
    session = window.session
    doc = session.document
    before = snapshot_state(doc)
    table = session.sequence_panel.model
    assert not table.setData(table.index(2, 1), "abc")
    assert _visible_error(window) == "input t = 2, x_1 (write): 'abc' is not a number"
    assert not table.setData(table.index(2, 1), "inf")
    assert last_message() == "input t = 2, x_1 (write): inf is not a finite number"
    assert not table.setData(table.index(2, 1), "  ")
    assert last_message() == "input t = 2, x_1 (write): empty; type a number"
    weights = session.weight_editor.model
    assert not weights.setData(weights.index(0, 1), "1,5")
    assert last_message() == "W_f[0, 1]: '1,5' is not a number"
    assert_unchanged(doc, before)
    assert session.undo.stack.count() == 0


def test_text_typed_into_a_generator_field(qtbot, window):
    session = window.session
    before = snapshot_state(session.document)
    dialog = GeneratorDialog(session.document, window, undo=session.undo)
    dialog.kind.setCurrentIndex(dialog.kind.findData("square"))
    dialog.fields["period"].setText("twenty")
    dialog.refresh()
    assert dialog.error.text() == "period: 'twenty' is not a number"
    assert not dialog.apply_button.isEnabled()
    assert not dialog.apply()
    assert_unchanged(session.document, before)
    dialog.close()
    dialog.deleteLater()


def test_models_are_read_off_the_gui_thread_and_stale_ones_dropped(qtbot, window, tmp_path, monkeypatch):
    session = window.session
    doc = session.document
    threads, release = [], threading.Event()
    slow, fast = tmp_path / "slow.npz", tmp_path / "fast.npz"
    write_npz_model(LSTMParams.random(6, 3, seed=1), slow)
    write_npz_model(LSTMParams.random(5, 3, seed=2), fast)
    real = workers.load_model_file

    def spy(path, layer=None):
        threads.append(threading.current_thread() is threading.main_thread())
        if str(path) == str(slow):
            release.wait(5)
        return real(path, layer)

    monkeypatch.setattr("lstmviz.gui.controller.load_model_file", spy)
    session.open_path(slow)
    qtbot.waitUntil(lambda: len(threads) == 1)
    session.open_path(fast)  # the user changed their mind
    qtbot.waitUntil(lambda: doc.n == 5)
    release.set()
    time.sleep(0.2)
    qtbot.wait(100)
    assert doc.n == 5 and doc.model_path == str(fast)  # the slow result was dropped
    assert threads == [False, False]
    assert session.undo.stack.count() == 1


@pytest.mark.parametrize("suffix", [".h5", ".keras", ".onnx"])
def test_hdf5_and_onnx_go_through_the_isolated_reader(qtbot, window, tmp_path, monkeypatch, suffix):
    session = window.session
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"\x89HDF\r\n\x1a\n crafted")
    calls = []

    def fake(p, layer=None):
        calls.append((str(p), threading.current_thread() is threading.main_thread()))
        raise LstmvizError("the reader crashed on this file (killed by signal SIGSEGV)", source=str(p))

    monkeypatch.setattr(workers, "isolated_loader", lambda: fake)
    before = snapshot_state(session.document)
    session.open_path(path)
    session.wait()
    assert calls == [(str(path), False)]
    assert _visible_error(window) == f"{path}: the reader crashed on this file (killed by signal SIGSEGV)"
    assert_unchanged(session.document, before)


def test_a_reader_that_crashes_takes_down_only_its_process(qtbot, window, tmp_path, monkeypatch):
    isolated = pytest.importorskip("lstmviz.io.isolated")
    session = window.session
    path = tmp_path / "crafted.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\xff" * 64)
    crash = functools.partial(
        isolated.load_model_isolated, loader="tests.gui.editing_fixtures:segfault_loader"
    )
    monkeypatch.setattr(workers, "isolated_loader", lambda: crash)
    before = snapshot_state(session.document)
    session.open_path(path)
    session.wait(60_000)
    message = _visible_error(window)
    assert message.startswith(f"{path}: the reader crashed"), message
    assert_unchanged(session.document, before)
    assert window.isVisible()


def test_bad_input_never_marks_the_document_unsaved(qtbot, window, tmp_path):
    session = window.session
    assert not session.document.dirty
    (tmp_path / "x.csv").write_text("1,2\n")
    session.open_path(tmp_path / "x.csv")
    session.wait()
    assert not session.document.dirty
    assert Qt  # (imported for the drop helper's enums)
