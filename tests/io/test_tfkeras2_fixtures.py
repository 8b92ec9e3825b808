"""Genuine Keras 2 HDF5 files, written by tf.keras 2 itself (scripts/fixtures/tfkeras2.py), match
tf.keras's own outputs: a whole model with hard_sigmoid gates feeding a bidirectional LSTM, and
a weights-only file. Needs h5py only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lstmviz

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "tfkeras2"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
CASES = [
    pytest.param(case, layer, id=f"{case['file']}::{layer[0]}")
    for case in MANIFEST["cases"]
    for layer in case["layers"]
]


@pytest.mark.parametrize(("case", "layer"), CASES)
def test_genuine_keras2_file_matches_tf_keras(case, layer):
    name, _input_key, output_key, backward = layer
    with np.load(FIXTURES / case["expected"], allow_pickle=False) as arrays:
        x, expected = arrays["x"], arrays[output_key]
    params = lstmviz.load_model(FIXTURES / case["file"], layer=name)
    trace = lstmviz.run(params, x)  # upstream layers run first, as in the model
    h = trace.h[::-1] if backward else trace.h  # tf.keras reports the backward half in time order
    assert np.abs(expected).max() > 0.05
    np.testing.assert_allclose(h, expected, atol=1e-5, rtol=0)


def test_keras2_hard_sigmoid_is_read_from_the_config():
    params = lstmviz.load_model(FIXTURES / "tfkeras2_model.h5", layer="lstm_hard")
    assert params.recurrent_activation == "hard_sigmoid"  # clip(0.2 x + 0.5), not Keras 3's x/6
