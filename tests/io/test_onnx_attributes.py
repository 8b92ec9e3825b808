"""ONNX LSTM nodes with clip, input_forget and sequence_lens (scripts/fixtures/onnx_attributes.py),
opened as a user opens them and run by lstmviz's engine: h and c match onnxruntime's saved Y,
Y_h and Y_c within 1e-5. No onnx or onnxruntime is imported here.

A constant sequence_lens = L: ONNX reads rows 0..L-1 of X (a reverse direction reads them
L-1 .. 0), writes zeros to Y after them, and Y_h / Y_c are the state after the last row it
read. lstmviz honours it where a sequence meets the cell (opening a model on an input, the
CLI, input edits): the FULL input (T > L) is cut to its first L rows, with one line saying
so, and every step of the trace is then ONNX's. lstmviz.run itself runs what it is given.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.core.cell import cut_to_sequence_length
from lstmviz.io.models import inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "onnx" / "attributes"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
LAYERS = [
    pytest.param(case, d, layer, id=f"{case['file']}::{layer}")
    for case in MANIFEST["cases"]
    for d, layer in enumerate(case["layers"])
]


def _expected(case):
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        return {key: arrays[key] for key in arrays.files}


@pytest.mark.parametrize(("case", "d", "layer"), LAYERS)
def test_layer_matches_onnxruntime(case, d, layer):
    ort = _expected(case)
    L = int(ort["length"])
    params = lstmviz.load_model(FIXTURES / case["file"], layer=layer)
    xs, line = cut_to_sequence_length(params, ort["x"])  # the full input, as a user gives it
    assert xs.shape[0] == L
    assert (line is not None) == case["constant_lengths"]
    assert params.sequence_length == (L if case["constant_lengths"] else None)
    trace = lstmviz.run(params, xs)
    # step t of a reverse cell's trace is row L-1-t; ONNX reports Y in row order
    h = trace.h[::-1] if params.reverse else trace.h
    assert np.abs(ort["Y"][:L, d]).max() > 0.05
    np.testing.assert_allclose(h, ort["Y"][:L, d], atol=1e-5, rtol=0)
    np.testing.assert_allclose(trace.h[-1], ort["Y_h"][d], atol=1e-5, rtol=0)
    np.testing.assert_allclose(trace.c[-1], ort["Y_c"][d], atol=1e-5, rtol=0)
    assert not np.any(ort["Y"][L:, d])  # what ONNX outputs past the length: nothing to run


CONSTANT_LENGTHS = [c for c in MANIFEST["cases"] if c["constant_lengths"]]


@pytest.mark.parametrize("case", CONSTANT_LENGTHS, ids=lambda c: c["file"])
def test_constant_sequence_lens_says_where_the_input_is_cut(case):
    infos = inspect_model(FIXTURES / case["file"])
    assert len(infos) == len(case["layers"])
    for info in infos:
        [note] = [note for note in info.notes if note.startswith("sequence_lens = ")]
        L = case["length"]
        assert f"sequence_lens = {L}" in note and f"the first {L} rows" in note
        assert f"lstmviz runs only those {L} rows" in note


def test_constant_sequence_lens_differing_across_the_batch_names_row_0():
    [forward, _] = inspect_model(FIXTURES / "seqlens_batch.onnx")
    assert any("batch row 0" in note and "[3, 7, 5]" in note for note in forward.notes)


def test_sequence_lens_fed_at_run_time_needs_nothing_applied():
    [info] = inspect_model(FIXTURES / "seqlens_graph_input.onnx")
    [note] = [note for note in info.notes if note.startswith("sequence_lens")]
    assert "graph input, given at run time" in note and "nothing to apply" in note


def test_clip_and_input_forget_are_stated():
    [forward, reverse] = inspect_model(FIXTURES / "clip_input_forget_bidirectional.onnx")
    for info in (forward, reverse):
        assert any(note.startswith("clip=1:") for note in info.notes)
        assert any(note.startswith("input_forget=1:") for note in info.notes)
        assert not info.unsupported


def test_fixtures_stay_small():
    for path in FIXTURES.iterdir():
        assert path.stat().st_size < 1 << 20, path


def test_cli_trace_of_the_full_input_runs_the_first_rows_as_onnx_does(tmp_path, capsys):
    """`lstmviz trace` on all 7 rows of a model with sequence_lens = 5: one line on stderr,
    5 rows in the CSV, and they are ONNX's Y and Y_h (reverse direction of a bidirectional
    clipped node: it reads rows 4..0)."""
    from lstmviz.cli import main

    model = FIXTURES / "seqlens_bidirectional_clip.onnx"
    ort = _expected(next(c for c in MANIFEST["cases"] if c["file"] == model.name))
    assert ort["x"].shape[0] == 7
    seq = tmp_path / "all7.csv"
    np.savetxt(seq, ort["x"], delimiter=",", fmt="%.17g")
    out = tmp_path / "trace.csv"
    capsys.readouterr()
    assert main(["trace", "--model", str(model), "--layer", "lstm/reverse", "--input", str(seq),
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [f"{model.name}: sequence_lens = 5: running the first 5 of 7 rows, "
                                "as ONNX does"]
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    assert table.shape[0] == 5
    h = table[:, -3:]  # the reverse cell's steps read rows 4..0
    np.testing.assert_allclose(h[::-1], ort["Y"][:5, 1], atol=1e-5, rtol=0)
    np.testing.assert_allclose(h[-1], ort["Y_h"][1], atol=1e-5, rtol=0)


def test_cli_says_nothing_when_the_input_is_no_longer_than_sequence_lens(tmp_path, capsys):
    from lstmviz.cli import main

    model = FIXTURES / "seqlens_forward.onnx"
    ort = _expected(next(c for c in MANIFEST["cases"] if c["file"] == model.name))
    seq = tmp_path / "first3.csv"
    np.savetxt(seq, ort["x"][:3], delimiter=",", fmt="%.17g")
    capsys.readouterr()
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(tmp_path / "t.csv")]) == 0
    assert "sequence_lens" not in capsys.readouterr().err
    assert np.loadtxt(tmp_path / "t.csv", delimiter=",", skiprows=1).shape[0] == 3


def test_sequence_lens_computed_at_run_time_is_named():
    [info] = inspect_model(FIXTURES / "seqlens_computed.onnx")
    [note] = [note for note in info.notes if note.startswith("sequence_lens")]
    assert "computed at run time by Cast node 'lengths_to_int'" in note
    assert "give only the rows ONNX runs" in note


def test_stack_over_a_node_with_sequence_lens():
    """The lower node has sequence_lens = 4, the upper none: ONNX feeds the upper zeros after
    row 4. On the first 4 rows the stack is ONNX's, and the upper layer says why."""
    model = FIXTURES / "seqlens_stacked.onnx"
    with np.load(FIXTURES / "seqlens_stacked.npz", allow_pickle=False) as arrays:
        x, Y, L = arrays["x"], arrays["Y"], int(arrays["length"])
    upper = {info.name: info for info in inspect_model(model)}["upper"]
    assert any(f"'lower', has sequence_lens = {L}" in note for note in upper.notes)
    params = lstmviz.load_model(model, layer="upper")
    assert [[cell.name for cell in d] for d in params.upstream] == [["lower"]]
    assert params.sequence_length is None and params.upstream[0][0].sequence_length == L
    xs, line = cut_to_sequence_length(params, x, "stack.onnx")  # the lower layer's length cuts
    assert line == (f"stack.onnx: sequence_lens = {L} on lower: running the first {L} of {len(x)} rows, "
                    "as ONNX does (past them ONNX feeds the layers above zeros)")
    trace = lstmviz.run(params, xs)
    np.testing.assert_allclose(trace.h, Y[:L, 0], atol=1e-5, rtol=0)


def test_the_opened_cell_carries_the_sequence_lens_note():
    """Through the reader's child process, as the window and the CLI open it."""
    params = lstmviz.load_model(FIXTURES / "seqlens_reverse.onnx")
    assert any(note.startswith("sequence_lens = 4") for note in params.notes)
    assert params.sequence_length == 4 and params.reverse


@pytest.mark.parametrize(("lengths", "dtype", "word"), [
    ([0], np.int32, "runs no step"),
    ([-3], np.int64, "runs no step"),
    ([2.5], np.float32, "not whole numbers"),
])
def test_sequence_lens_that_runs_nothing_is_refused(tmp_path, lengths, dtype, word):
    onnx = pytest.importorskip("onnx")  # writes the file; lstmviz reads it without onnx
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("LSTM", ["X", "W", "R", "", "L"], ["Y"], hidden_size=2)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 1, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=[
            numpy_helper.from_array(np.full((1, 8, 3), 0.1, np.float32), "W"),
            numpy_helper.from_array(np.full((1, 8, 2), 0.1, np.float32), "R"),
            numpy_helper.from_array(np.array(lengths, dtype), "L"),
        ],
    )
    path = tmp_path / "lengths.onnx"
    onnx.save(helper.make_model(graph), str(path))
    [info] = inspect_model(path)
    assert any("sequence_lens" in problem and word in problem for problem in info.unsupported)
    with pytest.raises(lstmviz.LstmvizError, match="sequence_lens"):
        lstmviz.load_model(path)
