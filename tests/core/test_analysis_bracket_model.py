"""The shipped bracket model (lstmviz/resources/models/, scripts/train_bracket_model.py): it loads with
NumPy alone, and its depth unit does what docs/bracket_model.md says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lstmviz.core.analysis.gradients import gradient_flow
from lstmviz.core.cell import run
from lstmviz.core.text import Vocabulary, load_model_vocabulary
from lstmviz.presets import load_preset

MODELS = Path(__file__).resolve().parents[2] / "lstmviz" / "resources" / "models"


@pytest.fixture(scope="module")
def preset():
    return load_preset("brackets")


@pytest.fixture(scope="module")
def info():
    return json.loads((MODELS / "bracket.info.json").read_text(encoding="utf-8"))


def depth_of(text: str) -> np.ndarray:
    return np.cumsum([(ch == "(") - (ch == ")") for ch in text])


def test_files_are_small_and_numpy_only():
    assert (MODELS / "bracket.npz").stat().st_size < 1_000_000
    code = (
        "import sys; from lstmviz.presets import load_preset; from lstmviz.core.cell import run; "
        "p = load_preset('brackets'); run(p.params, p.xs); "
        "bad = [m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_preset_reads_its_sample(preset):
    vocab = load_model_vocabulary(MODELS / "bracket.npz")
    assert isinstance(vocab, Vocabulary) and preset.input_names == vocab.chars
    text = (MODELS / "bracket.sample.txt").read_text(encoding="utf-8")
    assert vocab.decode(preset.xs) == text
    assert preset.params.m == vocab.size and preset.select == "c"
    assert depth_of(text)[preset.step] == depth_of(text).max()
    assert vocab.normalize("Hi (X)!") == " i ( ) "  # typed text: unknown characters read as spaces


def test_the_depth_unit_counts_brackets(preset, info):
    k = info["depth_unit"]
    text = 'a (b (c (d (e) f) g) h) i.\nsay "x (y) z" now (and (then)) stop.\n'
    vocab = load_model_vocabulary(MODELS / "bracket.npz")
    trace = run(preset.params, vocab.encode(text))
    depth = depth_of(text)
    r = np.corrcoef(trace.c[:, k], depth)[0, 1]
    assert r > 0.95
    # each level adds about the same amount to c_k
    means = [trace.c[depth == d, k].mean() for d in range(depth.max() + 1)]
    assert np.all(np.diff(means) > 0.5)
    # the forget gate holds inside brackets and closes at the end of a line
    inside = depth > 0
    assert np.median(trace.f[inside, k]) > 0.98
    newline = text.index("\n")
    assert trace.f[newline, k] < 0.1


def test_the_gradient_dies_where_the_forget_gate_closes(preset, info):
    k = info["depth_unit"]
    text = (MODELS / "bracket.sample.txt").read_text(encoding="utf-8")
    trace = run(preset.params, preset.xs)
    first_newline = text.index("\n")
    second_newline = text.index("\n", first_newline + 1)
    flow = gradient_flow(preset.params, trace, step=second_newline - 1, unit=k, wrt="c")
    before, after = flow.fprod[: first_newline], flow.fprod[first_newline + 1 :]
    assert before.max() < 0.05 < after.max()
    assert np.abs(flow.dc[: first_newline]).max() < 0.05 * np.abs(flow.dc[first_newline + 1 :]).max()
