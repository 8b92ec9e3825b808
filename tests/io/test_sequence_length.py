"""LSTMParams.sequence_length (ONNX sequence_lens): checked, carried through the reader
process and .lstmviz documents, and applied where a sequence meets the cell (openings,
input and model edits, the command line's start-up document). The numbers against
onnxruntime are in tests/io/test_onnx_attributes.py and tests/gui/test_sequence_lens.py."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lstmviz.core.cell import cut_to_sequence_length, run
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document, files
from lstmviz.document.opening import initial_document
from lstmviz.edits import set_input, set_model, set_params
from lstmviz.errors import LstmvizError
from lstmviz.io import document_file as df
from lstmviz.io.isolated import params_from_arrays, params_to_arrays

ATTRIBUTES = Path(__file__).resolve().parents[1] / "fixtures" / "onnx" / "attributes"


def _cell(L=3, **kwargs) -> LSTMParams:
    return LSTMParams.random(2, 3, seed=5).replace(sequence_length=L, **kwargs)


@pytest.mark.parametrize("bad", [0, -2, 2.5, True, float("inf"), "3"])
def test_a_sequence_length_that_is_not_a_row_count_is_refused(bad):
    with pytest.raises(LstmvizError, match="sequence_length"):
        _cell(bad)


def test_a_whole_float_is_a_row_count():  # the reader process sends JSON numbers
    assert _cell(4.0).sequence_length == 4 and isinstance(_cell(4.0).sequence_length, int)


def test_cut_keeps_short_inputs_and_runs_what_it_is_given():
    params = _cell(3)
    xs = np.arange(15.0).reshape(5, 3) / 10
    cut, line = cut_to_sequence_length(params, xs, "m.onnx")
    assert cut.shape == (3, 3)
    assert line == "m.onnx: sequence_lens = 3: running the first 3 of 5 rows, as ONNX does"
    assert cut_to_sequence_length(params, xs[:3])[1] is None
    assert run(params, xs).T == 5  # run() itself runs every row it is given
    np.testing.assert_array_equal(run(params, cut).h, run(params, xs).h[:3])


def test_reader_process_carries_it():
    params = _cell(3).replace(upstream=((LSTMParams.random(3, 3, seed=1).replace(sequence_length=2),),))
    back = params_from_arrays(params_to_arrays(params), "x")
    assert back.sequence_length == 3 and back.upstream[0][0].sequence_length == 2
    assert params_from_arrays(params_to_arrays(LSTMParams.random(2, 3)), "x").sequence_length is None


def test_document_round_trip_and_a_longer_input_is_refused(tmp_path):
    doc = Document(_cell(3), np.zeros((3, 3)))
    path = tmp_path / "a.lstmviz"
    df.write_document(files.snapshot(doc), path)
    assert df.read_document(path).params.sequence_length == 3
    assert files.document_from_file(df.read_document(path)).T == 3
    # a hand-made document whose input is longer than its model runs: refused, named
    bad = tmp_path / "bad.lstmviz"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "document.json":
                meta = json.loads(data)
                meta["cells"][0]["sequence_length"] = 2
                data = json.dumps(meta).encode()
            zout.writestr(info.filename, data)
    with pytest.raises(LstmvizError, match="input/xs.npy has 3 rows but the model's sequence_length is 2"):
        df.read_document(bad)
    for value in (0, 2.5, "2", True):
        with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info)
                if info.filename == "document.json":
                    meta = json.loads(data)
                    meta["cells"][0]["sequence_length"] = value
                    data = json.dumps(meta).encode()
                zout.writestr(info.filename, data)
        with pytest.raises(LstmvizError, match=r"cells\[0\].sequence_length is not a number of rows"):
            df.read_document(bad)


def test_edits_cut_in_one_step():
    doc = Document(LSTMParams.random(2, 3, seed=5), np.ones((6, 3)))
    edit = set_params(doc, _cell(4))
    assert edit.after(doc).xs.shape == (4, 3) and "first 4 of 6 rows" in edit.note
    edit.do(doc)
    assert doc.T == doc.trace.T == 4
    assert set_input(doc, np.ones((9, 3))).after(doc).xs.shape == (4, 3)
    assert set_input(doc, np.ones((2, 3))).note is None
    edit = set_model(doc, _cell(2), xs=np.ones((5, 3)), model_path="/x/m.onnx")
    assert edit.after(doc).xs.shape == (2, 3)
    assert edit.note.startswith("m.onnx: sequence_lens = 2: running the first 2 of 5 rows")


def test_start_up_document_reports_the_cut(tmp_path):
    from lstmviz.io.sequences import write_sequence

    with np.load(ATTRIBUTES / "seqlens_forward.npz") as arrays:
        x = arrays["x"]
    seq = tmp_path / "x.csv"
    write_sequence(x, seq)
    said = []
    doc = initial_document(model=ATTRIBUTES / "seqlens_forward.onnx", input=seq, report=said.append)
    assert doc.T == 4
    assert said == [f"seqlens_forward.onnx: sequence_lens = 4: running the first 4 of {len(x)} rows, "
                    "as ONNX does"]
    said.clear()
    # no input given: the made-up input is made 4 rows long, nothing is cut
    assert initial_document(model=ATTRIBUTES / "seqlens_forward.onnx", report=said.append).T == 4
    assert said == []


def test_cli_analyze_runs_the_first_rows_and_says_so(tmp_path, capsys):
    from lstmviz.cli import main
    from lstmviz.io.sequences import write_sequence

    with np.load(ATTRIBUTES / "seqlens_forward.npz") as arrays:
        x = arrays["x"]
    seq = tmp_path / "x.csv"
    write_sequence(x, seq)
    out = tmp_path / "sat.csv"
    capsys.readouterr()
    assert main(["analyze", "saturation", "--model", str(ATTRIBUTES / "seqlens_forward.onnx"),
                 "--input", str(seq), "--out", str(out)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"seqlens_forward.onnx: sequence_lens = 4: running the first 4 of {len(x)} rows, as ONNX does"]
