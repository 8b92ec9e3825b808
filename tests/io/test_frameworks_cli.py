"""`lstmviz inspect` and `--model/--layer` on framework files, run in-process."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lstmviz.cli import main
from tests.io.frameworks_helpers import FIXTURES


def test_inspect_lists_layers(capsys):
    assert main(["inspect", str(FIXTURES / "torch_bidir.pt")]) == 0
    out = capsys.readouterr().out
    for name in ("[0] l0", "[1] l0_reverse", "[2] l1", "[3] l1_reverse"):
        assert name in out
    assert "m = 6 inputs, n = 3 units" in out
    assert "i, f, g, o (PyTorch)" in out
    assert "bias_ih_l1_reverse + bias_hh_l1_reverse (summed)" in out
    assert "reverse (the backward half" in out


def test_inspect_shows_projection_and_peepholes(capsys):
    assert main(["inspect", str(FIXTURES / "torch_proj.pt")]) == 0
    out = capsys.readouterr().out
    assert "proj_size = 2 (weight_hr_l0)" in out and "UNSUPPORTED" not in out
    assert main(["inspect", str(FIXTURES / "onnx_peephole.onnx")]) == 0
    out = capsys.readouterr().out
    assert "peepholes: P (i, o, f)" in out and "i, o, f, c (ONNX" in out


def test_inspect_json(capsys):
    assert main(["inspect", "--json", str(FIXTURES / "keras_func.keras")]) == 0
    data = json.loads(capsys.readouterr().out)
    names = [layer["name"] for layer in data["layers"]]
    assert names == ["enc", "bi/forward", "bi/backward", "back"]
    assert data["layers"][1]["upstream"] == [["enc"]]


def test_inspect_bad_file_exits_2(tmp_path, capsys):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x08\x07garbage" * 10)
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"lstmviz: error: {path}: ") and "\n" not in err and "Traceback" not in err


def test_trace_with_layer(tmp_path, capsys):
    with np.load(FIXTURES / "torch_bidir.pt.expected.npz") as arrays:
        x, h = arrays["x3"], arrays["h3"]
    seq = tmp_path / "x.npy"
    np.save(seq, x)
    out = tmp_path / "trace.csv"
    args = ["trace", "--model", str(FIXTURES / "torch_bidir.pt"), "--input", str(seq), "--out", str(out)]
    assert main([*args, "--layer", "l1_reverse"]) == 0
    table = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(table[:, -3:], h[::-1], atol=1e-5)  # the backward cell's steps run T-1..0
    assert main([*args, "--layer", "l9"]) == 2
    err = capsys.readouterr().err
    assert "has no LSTM layer 'l9' (its layers: l0, l0_reverse, l1, l1_reverse)" in err
    assert h.shape == (x.shape[0], 3)


@pytest.mark.parametrize(
    "name", ["torch_lstm.pt", "keras_seq.keras", "onnx_torch.onnx", "torch_model.safetensors"]
)
def test_inspect_every_format(capsys, name):
    assert main(["inspect", str(FIXTURES / name)]) == 0
    assert "unsupported: nothing" in capsys.readouterr().out
