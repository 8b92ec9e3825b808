"""Keras masking and weights-only files (scripts/fixtures/keras_masking.py, Keras 3 with the
torch backend): matched to Keras' own output within 1e-5, with the command-line facts
supplying what a weights-only file cannot state. No keras or torch is imported."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.cli import main
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.models import inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "keras"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
LAYERS = [
    pytest.param(case, layer, id=case["file"]) for case in MANIFEST["cases"] for layer in case["layers"]
]
ENGINE_MASKS = any(f.name == "mask_value" for f in dataclasses.fields(LSTMParams))
NO_MASK = "LSTMParams.mask_value is missing: the engine's masking has not landed in main"


def _masked(case) -> bool:
    return case["file"].startswith("masking_")


def _expected(case, layer):
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        return arrays[f"x{layer['id']}"], arrays[f"h{layer['id']}"]


@pytest.mark.parametrize(("case", "layer"), LAYERS)
def test_layer_matches_keras(case, layer):
    path = FIXTURES / case["file"]
    x, h = _expected(case, layer)
    if _masked(case) and not ENGINE_MASKS:
        with pytest.raises(LstmvizError, match="mask_value") as caught:
            lstmviz.load_model(path, layer=layer["name"], **layer["facts"])
        assert str(caught.value).startswith(f"{path}: ")
        pytest.skip(NO_MASK)
    params = lstmviz.load_model(path, layer=layer["name"], **layer["facts"])
    if _masked(case):
        assert params.mask_value == layer["facts"].get("mask_value", _config_mask(case))
    trace = lstmviz.run(params, x)
    np.testing.assert_allclose(trace.h, h, atol=1e-5, rtol=0)


def _config_mask(case) -> float:
    return 0.0 if "zero" in case["file"] else -1.0


def test_weights_only_without_facts_differs_and_says_what_it_cannot_know():
    path = FIXTURES / "weights_only_relu.weights.h5"
    [info] = inspect_model(path)
    text = " ".join(info.notes)
    for option in ("--recurrent-activation", "--activation", "--go-backwards", "--mask-value"):
        assert option in text
    assert not info.direction.startswith("forward") and "does not say" in info.direction
    x, h = _expected({"expected": path.name + ".expected.npz"}, {"id": 0})
    wrong = lstmviz.run(lstmviz.load_model(path), x).h
    assert np.abs(wrong - h).max() > 1e-3  # the assumed tanh is not what the model used


def test_facts_given_are_no_longer_listed_as_unknown():
    path = FIXTURES / "weights_only_go_backwards.weights.h5"
    params = lstmviz.load_model(path, go_backwards=True)
    assert params.reverse


def test_facts_are_refused_for_other_formats(tmp_path):
    path = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks" / "onnx_bidir.onnx"
    with pytest.raises(LstmvizError, match="--activation apply to Keras files only"):
        lstmviz.load_model(path, activation="relu")


@pytest.mark.parametrize(
    ("file", "options"),
    [
        ("weights_only_relu.weights.h5", ["--activation", "relu"]),
        ("weights_only_hard_sigmoid.weights.h5", ["--recurrent-activation", "hard_sigmoid"]),
        ("weights_only_go_backwards.weights.h5", ["--go-backwards"]),
    ],
)
def test_cli_options_supply_the_facts(tmp_path, file, options):
    x, h = _expected({"expected": file + ".expected.npz"}, {"id": 0})
    xs = tmp_path / "x.npy"
    np.save(xs, x)
    out = tmp_path / "trace.csv"
    assert (
        main(["trace", "--model", str(FIXTURES / file), "--input", str(xs), "--out", str(out), *options]) == 0
    )
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    got = np.array([[float(row[f"h_{k}"]) for k in range(h.shape[1])] for row in rows])
    np.testing.assert_allclose(got, h, atol=1e-5, rtol=0)


def test_masking_needs_the_engine_or_says_so():
    [info] = inspect_model(FIXTURES / "masking_minus1.keras")
    assert any("every column keeps c and h" in note and "-1" in note for note in info.notes)
    if not ENGINE_MASKS:
        assert any("mask_value=-1" in problem for problem in info.unsupported)
