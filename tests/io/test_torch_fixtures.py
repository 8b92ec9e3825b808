"""PyTorch files as people have them (scripts/fixtures/torch_real_world.py, torch 2.13): each
opens by its content whatever its name, and every layer matches torch's own h within 1e-5.
No torch here: the expected h were saved by torch beside each file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.cli import main
from lstmviz.io.models import detect_format, inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "torch"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CASES = MANIFEST["cases"]
LAYERS = [
    pytest.param(case, layer, id=f"{case['file']}::{layer['name']}")
    for case in CASES
    for layer in case["layers"]
]


def _expected(case, layer):
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        x, h = arrays[f"x{layer['id']}"], arrays[f"h{layer['id']}"]
    return x, (h[::-1] if layer["flip"] else h)


@pytest.mark.parametrize(("case", "layer"), LAYERS)
def test_layer_matches_torch(case, layer):
    params = lstmviz.load_model(FIXTURES / case["file"], layer=layer["name"])
    x, h = _expected(case, layer)
    assert np.abs(h).max() > 0.05  # torch's h is not trivially zero
    trace = lstmviz.run(params, x)
    if case["needs"] == "W_hr":  # LSTMP: h has proj_size entries, c has hidden_size
        assert params.W_hr is not None and trace.h.shape[1] == params.W_hr.shape[0] < params.n
    assert trace.h.shape == h.shape
    np.testing.assert_allclose(trace.h, h, atol=1e-5, rtol=0)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_format_is_detected_from_content(case, tmp_path):
    guess = detect_format(FIXTURES / case["file"])
    assert guess.key == "torch" and guess.by == "content"
    assert case["detect"] in guess.description
    # the same bytes under a name that says nothing (or something wrong) open the same way
    for name in ("model", "weights.onnx", "x.npz"):
        copy = tmp_path / name
        shutil.copy(FIXTURES / case["file"], copy)
        assert detect_format(copy).key == "torch"
        assert [i.name for i in inspect_model(copy)] == [
            i.name for i in inspect_model(FIXTURES / case["file"])
        ]


def test_whole_module_reports_the_module_attributes():
    (info,) = inspect_model(FIXTURES / "tagger_whole.pt")
    assert info.name == "lstm.l0" and "lstm" in info.aliases
    text = " ".join(info.notes)
    assert "torch.nn.modules.rnn.LSTM(input_size=3, hidden_size=5" in text
    assert "batch_first=True" in text and "no code run" in text
    assert info.format.startswith("PyTorch whole module")


def test_checkpoint_layers_also_answer_to_their_model_names():
    layer = lstmviz.load_model(FIXTURES / "last.ckpt", layer="model.rnn")
    assert layer.name == "state_dict.model.rnn.l0"
    stack = lstmviz.load_model(FIXTURES / "checkpoint.pth.tar", layer="rnn.l1")
    assert stack.name == "state_dict.rnn.l1" and len(stack.upstream) == 1


def test_inspect_says_what_it_detected(capsys):
    assert main(["inspect", str(FIXTURES / "model.jit")]) == 0
    out = capsys.readouterr().out
    assert "format: TorchScript archive (torch.jit.save), detected from content" in out
    assert "[4] decoder" in out
    assert main(["inspect", "--json", str(FIXTURES / "legacy_whole_module")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["detected"] == {
        "format": "PyTorch legacy file (torch.save before 1.6)",
        "reader": "torch",
        "detected_from": "content",
    }
    assert [layer["name"] for layer in data["layers"]] == ["lstm.l0"]


def test_fixtures_stay_small():
    assert all(p.stat().st_size < 1 << 20 for p in FIXTURES.iterdir())
    assert sum(p.stat().st_size for p in FIXTURES.iterdir()) < 1 << 20


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["file"])
def test_damaged_copies_fail_with_one_line_or_load(case, tmp_path):
    """Truncated and overwritten copies (fixed seed): an LstmvizError naming the file, or a
    model that still validates (when only weight bytes were hit)."""
    data = (FIXTURES / case["file"]).read_bytes()
    rng = np.random.default_rng(len(data))
    spoiled = [data[: int(len(data) * f)] for f in (0.3, 0.7, 0.95)]
    for _ in range(12):
        copy = bytearray(data)
        start = int(rng.integers(0, len(data)))
        copy[start : start + 16] = rng.integers(
            0, 256, len(copy[start : start + 16]), dtype=np.uint8
        ).tobytes()
        spoiled.append(bytes(copy))
    for index, content in enumerate(spoiled):
        path = tmp_path / f"{index}-{case['file']}"
        path.write_bytes(content)
        for call in (lambda: lstmviz.load_model(path), lambda: inspect_model(path)):
            try:
                call()
            except lstmviz.LstmvizError as error:
                assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
