"""Every committed framework model loads and matches the framework's own h (see
scripts/fixtures/frameworks.py). Needs h5py, onnx and safetensors (the [test] extra), never
torch or keras."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io.models import inspect_model

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CASES = MANIFEST["cases"]
LAYER_CASES = [
    pytest.param(case, layer, id=f"{case['file']}::{layer['name']}")
    for case in CASES
    if not case["refuse"]
    for layer in case["layers"]
]


def _expected(case, layer):
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        x = arrays[f"x{layer['id']}"]
        h = arrays[f"h{layer['id']}"]
        h64 = arrays[f"h64_{layer['id']}"] if layer.get("h64") else None
    if layer["flip"]:  # the framework reports a backward direction in original time order
        h = h[::-1]
        h64 = None if h64 is None else h64[::-1]
    return x, h, h64


@pytest.mark.parametrize(("case", "layer"), LAYER_CASES)
def test_layer_matches_framework(case, layer):
    params = lstmviz.load_model(FIXTURES / case["file"], layer=layer["name"])
    x, h, h64 = _expected(case, layer)
    assert np.abs(h).max() > 0.05  # the framework's h is not trivially zero
    trace = lstmviz.run(params, x)
    assert trace.h.shape == h.shape
    np.testing.assert_allclose(trace.h, h, atol=1e-5, rtol=0)
    if h64 is not None:
        np.testing.assert_allclose(trace.h, h64, atol=1e-10, rtol=0)


@pytest.mark.parametrize("case", [c for c in CASES if not c["refuse"]], ids=lambda c: c["file"])
def test_inspect_lists_every_layer(case):
    layers = inspect_model(FIXTURES / case["file"])
    names = [info.name for info in layers]
    assert set(layer["name"] for layer in case["layers"]) <= set(names)
    assert len(names) == len(set(names))
    for info in layers:
        assert info.m > 0 and info.n > 0 and not info.unsupported


@pytest.mark.parametrize("case", [c for c in CASES if c["refuse"]], ids=lambda c: c["file"])
def test_unsupported_layers_are_listed_and_refused(case):
    layers = inspect_model(FIXTURES / case["file"])
    assert any(case["refuse"] in problem for info in layers for problem in info.unsupported)
    with pytest.raises(LstmvizError, match=case["refuse"]) as caught:
        lstmviz.load_model(FIXTURES / case["file"])
    assert str(FIXTURES / case["file"]) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_fixtures_stay_small():
    total = sum(p.stat().st_size for p in FIXTURES.iterdir())
    assert total < 1.5e6
