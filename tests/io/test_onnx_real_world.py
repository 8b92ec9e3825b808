"""ONNX files as exported in practice (scripts/fixtures/onnx_real_world.py): LSTMs inside If,
Loop and Scan subgraphs, weights folded from shape ops, torch.onnx's classic and dynamo
exporters, ONNX's own conformance cases. Each layer matches onnxruntime's saved Y within 1e-5;
no onnx, onnxruntime or torch is imported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.io.models import inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "onnx"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
LAYERS = [
    pytest.param(case, layer, id=f"{case['file']}::{layer['name']}")
    for case in MANIFEST["cases"]
    for layer in case["layers"]
]


@pytest.mark.parametrize(("case", "layer"), LAYERS)
def test_layer_matches_onnxruntime(case, layer):
    params = lstmviz.load_model(FIXTURES / case["file"], layer=layer["name"])
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        x, h = arrays[f"x{layer['id']}"], arrays[f"h{layer['id']}"]
    if layer["flip"]:  # ONNX reports a reverse direction in original time order
        h = h[::-1]
    assert np.abs(h).max() > 0.05
    trace = lstmviz.run(params, x)
    np.testing.assert_allclose(trace.h, h, atol=1e-5, rtol=0)


def test_subgraph_layers_are_named_by_their_path():
    names = [info.name for info in inspect_model(FIXTURES / "torch_if.onnx")]
    assert len(names) == 2
    assert names[0].endswith("/then_branch/node_lstm__2") and "/else_branch/" in names[1]
    [scan] = inspect_model(FIXTURES / "scan_body.onnx")
    assert scan.name == "scan/body/LSTM_0" and "input of subgraph 'scan/body'" in scan.input
    [loop] = inspect_model(FIXTURES / "loop_body.onnx")
    assert loop.name == "Loop_0/body/LSTM_0" and loop.input.startswith("the sequence you supply")


def test_dynamo_export_is_a_stack():
    top = lstmviz.load_model(FIXTURES / "torch_dynamo.onnx", layer="node_LSTM_125")
    assert [[cell.name for cell in d] for d in top.upstream] == [["node_LSTM_64"]]


def test_constant_sequence_lens_is_stated():
    [info] = inspect_model(FIXTURES / "conformance_with_peepholes.onnx")
    assert any(note.startswith("sequence_lens = ") for note in info.notes)
    assert info.peepholes == "P (i, o, f)"


def test_onnx_is_read_without_the_onnx_package(tmp_path):
    import subprocess

    code = (
        "import sys; sys.modules['onnx'] = None; sys.modules['onnxruntime'] = None\n"
        "import lstmviz\n"
        f"p = lstmviz.load_model({str(FIXTURES / 'folded_weights_opset17.onnx')!r})\n"
        "print(p.n, p.m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["4", "3"], done.stderr


def test_fixtures_stay_small():
    for path in FIXTURES.iterdir():
        assert path.stat().st_size < 1 << 20, path
