"""Model files are recognised by their bytes (lstmviz.io.models.detect_format), the suffix
is only a hint; the file dialog's filters come from the same table; every read is budgeted."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io.models import MODEL_SUFFIXES, detect_format, model_file_filter, needs_isolation
from tests.io.frameworks_helpers import FIXTURES

BY_CONTENT = [
    ("torch_lstm.pt", "torch", "PyTorch zip (torch.save)"),
    ("torch_lstm.safetensors", "safetensors", "safetensors"),
    ("keras2_model.h5", "hdf5", "HDF5"),
    ("keras_seq.weights.h5", "hdf5", "HDF5"),
    ("keras_func.keras", "keras", "Keras 3 .keras"),
    ("onnx_bidir.onnx", "onnx", "ONNX"),
]


@pytest.mark.parametrize(("name", "key", "description"), BY_CONTENT)
def test_content_decides_whatever_the_name(tmp_path, name, key, description):
    for other in ("model", "weights.bin", "m.pt", "x.onnx"):
        path = tmp_path / other
        shutil.copy(FIXTURES / name, path)
        guess = detect_format(path)
        assert (guess.key, guess.by) == (key, "content"), other
        assert description in guess.description
        assert guess.line() == f"format: {guess.description}, detected from content"
        assert needs_isolation(path) == (key in ("hdf5", "keras", "onnx"))


@pytest.mark.parametrize("name", ["torch_lstm.safetensors", "onnx_bidir.onnx", "keras2_model.h5"])
def test_renamed_files_load_and_match_the_original(tmp_path, name):
    path = tmp_path / "pytorch_model.bin"
    shutil.copy(FIXTURES / name, path)
    xs = np.random.default_rng(1).normal(size=(5, lstmviz.load_model(FIXTURES / name).input_size))
    expected = lstmviz.run(lstmviz.load_model(FIXTURES / name), xs).h
    np.testing.assert_array_equal(lstmviz.run(lstmviz.load_model(path), xs).h, expected)


def test_npy_and_documents_are_not_models(tmp_path):
    npy = tmp_path / "model.pt"
    np.save(npy.with_suffix(".npy"), np.zeros((3, 2)))
    npy.with_suffix(".npy").rename(npy)
    with pytest.raises(LstmvizError, match="single .npy array"):
        lstmviz.load_model(npy)


def test_file_dialog_filter_comes_from_the_table():
    text = model_file_filter()
    everything = text.split(";;")[0]
    for suffix in (".hdf5", ".h5", ".pt", ".pth", ".bin", ".ckpt", ".tar", ".jit", ".onnx", ".keras"):
        assert f"*{suffix}" in everything and suffix in MODEL_SUFFIXES
    assert "*.lstmviz" in everything and "*.csv" in everything
    assert text.endswith("All files (*)")


@pytest.mark.parametrize("name", ["torch_lstm.pt", "torch_lstm.safetensors", "torch_bidir.pt"])
def test_memory_budget_is_checked_before_reading(monkeypatch, name):
    monkeypatch.setenv("LSTMVIZ_MAX_MEMORY", "200")  # bytes: less than any weight matrix
    with pytest.raises(LstmvizError, match=r"needs .* for .*weight_ih_l0.*limit") as caught:
        lstmviz.load_model(FIXTURES / name)
    assert str(caught.value).startswith(str(FIXTURES / name))
    monkeypatch.setenv("LSTMVIZ_MAX_MEMORY", "64M")
    assert lstmviz.load_model(FIXTURES / name).n > 0
