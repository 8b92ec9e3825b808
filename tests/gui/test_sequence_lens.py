# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""An ONNX model with a constant sequence_lens, opened in the window as a user opens it on
its full input: the input is cut to the first L rows, the status line says so in one line
and shows the reader's notes, and the trace is onnxruntime's (saved fixtures)."""

import json
from pathlib import Path

import numpy as np
import pytest

from lstmviz.io.sequences import write_sequence
from tests.gui.editing_fixtures import user_dirs  # noqa: F401

ATTRIBUTES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx" / "attributes"


def _ort(name: str) -> dict:
    with np.load(ATTRIBUTES / f"{name}.npz", allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


@pytest.fixture
def viewer(qtbot, user_dirs):  # noqa: F811
    from lstmviz import Viewer

    v = Viewer(show=True)
    qtbot.addWidget(v.window)
    qtbot.waitExposed(v.window)
    yield v
    v.window.session.prompt = False


def _status(viewer) -> str:
    return viewer.window.statusBar().currentMessage()


def test_open_with_the_full_input_runs_the_first_rows_and_says_so(viewer, tmp_path):
    model = ATTRIBUTES / "seqlens_bidirectional_clip.onnx"
    ort = _ort("seqlens_bidirectional_clip")
    seq = tmp_path / "all7.csv"
    write_sequence(ort["x"], seq)
    doc = viewer.open(model, layer="lstm/forward", input=seq, confirm=False)
    viewer.window.session.wait()
    assert doc.T == 5 and doc.trace.T == 5
    np.testing.assert_array_equal(doc.xs, ort["x"][:5])
    np.testing.assert_allclose(doc.trace.h, ort["Y"][:5, 0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(doc.trace.c[-1], ort["Y_c"][0], atol=1e-5, rtol=0)
    status = _status(viewer)
    assert status.startswith("Opened the model seqlens_bidirectional_clip.onnx (n = 3, m = 2) on all7.csv: "
                             "sequence_lens = 5: running the first 5 of 7 rows, as ONNX does. Notes: ")
    assert "Notes: clip=1: every gate's z is clipped" in status  # the reader's notes, short
    assert "sequence_lens = 5, a constant" not in status  # said once, by the cut line
    assert viewer.window.session.undo.stack.count() == 1  # one step
    viewer.undo()
    assert doc.T == 40 and doc.preset_name == "memory-cell"


def test_a_longer_sequence_opened_on_the_model_is_cut(viewer, tmp_path):
    """The model first (no input: a zero input made L rows long), then a sequence file, then a
    generated input from the generator dialog: each is cut to L = 4."""

    model = ATTRIBUTES / "seqlens_reverse.onnx"
    ort = _ort("seqlens_reverse")
    doc = viewer.open(model, confirm=False)
    viewer.window.session.wait()
    assert doc.T == 4 and "running the first" not in _status(viewer)  # a zero input made 4 rows long
    assert "Notes: sequence_lens = 4, a constant in the file" in _status(viewer)
    seq = tmp_path / "all7.csv"
    write_sequence(ort["x"], seq)
    viewer.open(seq, confirm=False)
    viewer.window.session.wait()
    assert doc.T == 4 and doc.input_path == str(seq)
    assert "seqlens_reverse.onnx: sequence_lens = 4: running the first 4 of 7 rows" in _status(viewer)
    h = doc.trace.h[::-1]  # the reverse cell read rows 3..0
    np.testing.assert_allclose(h, ort["Y"][:4, 0], atol=1e-5, rtol=0)
    np.testing.assert_allclose(doc.trace.h[-1], ort["Y_h"][0], atol=1e-5, rtol=0)
    # Input > Generate: a 30-step sine wave, applied as the dialog's user applies it
    from lstmviz.gui.editors.generator_dialog import GeneratorDialog

    session = viewer.window.session
    dialog = GeneratorDialog(doc, viewer.window, undo=session.undo)
    dialog.kind.setCurrentIndex(dialog.kind.findData("sine"))
    dialog.fields["T"].setValue(30)
    assert dialog.refresh() is not None, dialog.error.text()
    assert dialog.apply()
    session.wait()
    assert doc.T == 4 and doc.trace.T == 4
    line = "seqlens_reverse.onnx: sequence_lens = 4: running the first 4 of 30 rows, as ONNX does."
    assert _status(viewer) == line and line in dialog.summary.text()
    dialog.close()
    dialog.deleteLater()


def test_saved_document_keeps_sequence_length(viewer, tmp_path):
    model = ATTRIBUTES / "seqlens_forward.onnx"
    doc = viewer.open(model, confirm=False)
    viewer.window.session.wait()
    path = tmp_path / "cut.lstmviz"
    viewer.window.session.save_to(path, synchronous=True)
    viewer.apply_preset("memory-cell")
    viewer.open(path)
    viewer.window.session.wait()
    assert doc.params.sequence_length == 4 and doc.T == 4
    with __import__("zipfile").ZipFile(path) as archive:
        meta = json.loads(archive.read("document.json"))
    assert meta["cells"][0]["sequence_length"] == 4


def test_lstmviz_open_says_the_cut_on_stderr_and_in_the_window(tmp_path, monkeypatch, capsys):
    from lstmviz import cli

    ort = _ort("seqlens_forward")
    seq = tmp_path / "all7.csv"
    write_sequence(ort["x"], seq)
    shown = []
    monkeypatch.setattr("lstmviz.gui.app.run_window",
                        lambda document, message=None: shown.append((document, message)) or 0)
    capsys.readouterr()
    assert cli.main(["open", str(ATTRIBUTES / "seqlens_forward.onnx"), "--input", str(seq)]) == 0
    line = "seqlens_forward.onnx: sequence_lens = 4: running the first 4 of 7 rows, as ONNX does"
    assert capsys.readouterr().err.splitlines() == [line]
    [(doc, message)] = shown
    assert doc.T == 4 and message == line + "."
    np.testing.assert_allclose(doc.trace.h, ort["Y"][:4, 0], atol=1e-5, rtol=0)
