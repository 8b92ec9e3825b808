"""Damaged, empty, LSTM-less and otherwise wrong model files: one-line errors naming the file."""

from __future__ import annotations

import pickle
import sys
import zipfile

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io import torch_pt
from lstmviz.io.models import inspect_model
from tests.io.frameworks_helpers import FIXTURES, keras3_file, torch_zip

SAMPLES = [
    "torch_bidir.pt",
    "torch_stack.pth",
    "torch_lstm.safetensors",
    "keras_func.keras",
    "keras_seq.weights.h5",
    "keras2_model.h5",
    "keras_func.h5",
    "onnx_torch.onnx",
    "onnx_bidir.onnx",
]


def _one_line_error(call, path):
    with pytest.raises(LstmvizError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("fraction", [0.5, 0.9])
def test_truncated_files(tmp_path, name, fraction):
    data = (FIXTURES / name).read_bytes()
    path = tmp_path / name
    path.write_bytes(data[: int(len(data) * fraction)])
    _one_line_error(lambda: lstmviz.load_model(path), path)
    _one_line_error(lambda: inspect_model(path), path)


@pytest.mark.parametrize("name", SAMPLES)
def test_corrupted_files_fail_cleanly_or_load(tmp_path, name):
    """Garbage written over parts of the file: an LstmvizError, or (when only weight bytes
    were hit and the format has no checksum) a model that still passes validation."""
    data = bytearray((FIXTURES / name).read_bytes())
    rng = np.random.default_rng(len(name))
    for start in (0, len(data) // 3, len(data) // 2, 2 * len(data) // 3):
        spoiled = bytearray(data)
        spoiled[start : start + 64] = rng.integers(
            0, 256, min(64, len(data) - start), dtype=np.uint8
        ).tobytes()
        path = tmp_path / f"{start}_{name}"
        path.write_bytes(bytes(spoiled))
        try:
            params = lstmviz.load_model(path)
        except LstmvizError as error:
            assert str(error).startswith(f"{path}: ") and "\n" not in str(error)
        else:
            assert np.all(np.isfinite(params.W_i))


@pytest.mark.parametrize("suffix", [".pt", ".safetensors", ".keras", ".weights.h5", ".h5", ".onnx"])
def test_empty_and_text_files(tmp_path, suffix):
    empty = tmp_path / f"empty{suffix}"
    empty.write_bytes(b"")
    assert "empty" in _one_line_error(lambda: lstmviz.load_model(empty), empty)
    text = tmp_path / f"text{suffix}"
    text.write_text("this is not a model\n" * 20)
    _one_line_error(lambda: lstmviz.load_model(text), text)


def test_unknown_layer_lists_the_real_ones():
    path = FIXTURES / "torch_bidir.pt"
    message = _one_line_error(lambda: lstmviz.load_model(path, layer="l7"), path)
    assert "has no LSTM layer 'l7'" in message
    assert "l0, l0_reverse, l1, l1_reverse" in message
    path = FIXTURES / "keras_func.keras"
    message = _one_line_error(lambda: lstmviz.load_model(path, layer="nope"), path)
    assert "enc, bi/forward, bi/backward, back" in message


def test_layer_aliases_and_indices():
    path = FIXTURES / "torch_model.pt"
    assert lstmviz.load_model(path, "model_state_dict.encoder").name == "model_state_dict.encoder.l0"
    assert lstmviz.load_model(path, "1").name == "model_state_dict.decoder.l0"
    assert lstmviz.load_model(path).name == "model_state_dict.encoder.l0"  # the first is the default
    assert lstmviz.load_model(FIXTURES / "keras_func.keras", "bi").name == "bi/forward"
    assert lstmviz.load_model(FIXTURES / "onnx_torch.onnx", "/LSTM_1").name == "/LSTM_1/forward"


def test_stack_and_direction_structure():
    top = lstmviz.load_model(FIXTURES / "torch_bidir.pt", "l1_reverse")
    assert top.reverse and top.m == 6 and top.input_size == 3
    assert [[c.name for c in d] for d in top.upstream] == [["l0", "l0_reverse"]]
    assert [[c.reverse for c in d] for d in top.upstream] == [[False, True]]
    keras = lstmviz.load_model(FIXTURES / "keras_func.keras", "back")
    assert keras.reverse and keras.upstream == () and keras.cell_activation == "relu"
    assert (
        lstmviz.load_model(FIXTURES / "keras_func.keras", "enc").recurrent_activation == "hard_sigmoid_keras3"
    )
    assert lstmviz.load_model(FIXTURES / "keras2_model.h5", "lstm").recurrent_activation == "hard_sigmoid"
    onnx = lstmviz.load_model(FIXTURES / "onnx_peephole.onnx")
    assert onnx.has_peepholes and onnx.h0 is not None and onnx.c0 is not None


def test_no_lstm_in_the_file(tmp_path):
    from safetensors.numpy import save_file

    linear = torch_zip(tmp_path / "linear.pt", pickle.dumps({"epoch": 3, "name": "linear"}, protocol=2))
    assert "no LSTM layer" in _one_line_error(lambda: lstmviz.load_model(linear), linear)
    dense = tmp_path / "dense.safetensors"
    save_file(
        {
            "fc.weight": np.ones((2, 3), np.float32),
            "gru.weight_ih_l0": np.ones((9, 2), np.float32),
            "gru.weight_hh_l0": np.ones((9, 3), np.float32),
        },
        str(dense),
    )
    assert "no LSTM layer" in _one_line_error(lambda: lstmviz.load_model(dense), dense)
    keras = keras3_file(
        tmp_path / "dense.keras",
        {
            "class_name": "Sequential",
            "config": {
                "name": "s",
                "layers": [{"class_name": "Dense", "config": {"name": "dense", "units": 2}}],
            },
        },
        {"layers/dense/vars/0": np.ones((3, 2)), "layers/dense/vars/1": np.ones(2)},
    )
    assert "no LSTM layer" in _one_line_error(lambda: lstmviz.load_model(keras), keras)
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["X"], ["Y"])],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2])],
    )
    relu = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph), str(relu))
    assert "no LSTM node" in _one_line_error(lambda: lstmviz.load_model(relu), relu)


def test_damaged_legacy_and_bare_pickles_are_refused(tmp_path):
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + b"\x80\x02}q\x00.")
    assert "legacy file of protocol {}" in _one_line_error(lambda: lstmviz.load_model(legacy), legacy)
    bare = tmp_path / "bare.pth"
    bare.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    assert "bare pickle" in _one_line_error(lambda: lstmviz.load_model(bare), bare)


def test_torchscript_archive_without_lstm_names_what_is_missing(tmp_path):
    path = torch_zip(
        tmp_path / "scripted.pt",
        pickle.dumps({}, protocol=2),
        extra={"archive/code/__torch__.py": b"", "archive/constants.pkl": pickle.dumps((), protocol=2)},
    )
    assert "no LSTM layer found (no tensors" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_zip_members_are_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(torch_pt, "MAX_PICKLE", 100)
    path = torch_zip(tmp_path / "big.pt", pickle.dumps({"x": "y" * 500}, protocol=2))
    assert "more than lstmviz reads" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_zip_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", b" " * (20 << 20))
        zf.writestr("model.weights.h5", b"")
    assert "zip bomb" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_keras_refuses_unknown_activations(tmp_path):
    config = {
        "class_name": "Sequential",
        "config": {
            "name": "s",
            "layers": [
                {
                    "class_name": "LSTM",
                    "config": {
                        "name": "lstm",
                        "units": 2,
                        "activation": "gelu",
                        "recurrent_activation": "sigmoid",
                    },
                }
            ],
        },
    }
    weights = {
        "layers/lstm/cell/vars/0": np.ones((3, 8)),
        "layers/lstm/cell/vars/1": np.ones((2, 8)),
        "layers/lstm/cell/vars/2": np.ones(8),
    }
    path = keras3_file(tmp_path / "gelu.keras", config, weights)
    [info] = inspect_model(path)
    assert info.unsupported and "gelu" in info.unsupported[0]
    assert "activation 'gelu' is not supported" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_onnx_external_data_is_refused_and_never_read(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.ones(8 * 3, np.float32).tobytes())
    W = numpy_helper.from_array(np.zeros((1, 8, 3), np.float32), "W")
    W.ClearField("raw_data")
    W.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "../secret.bin"), ("offset", "0"), ("length", str(8 * 3 * 4))):
        entry = W.external_data.add()
        entry.key, entry.value = key, value
    R = numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "R")
    node = helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=2)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 1, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=[W, R],
    )
    folder = tmp_path / "model"
    folder.mkdir()
    path = folder / "external.onnx"
    onnx.save(helper.make_model(graph), str(path))
    message = _one_line_error(lambda: lstmviz.load_model(path), path)
    assert "external data" in message


def test_onnx_attributes_lstmviz_cannot_run_are_refused(tmp_path):
    """clip and input_forget are run now (tests/core/test_onnx_semantics.py); a clip that is
    no threshold and differing g/h activations are still refused."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    for attrs, word in (
        ({"clip": -1.0}, "clip"),
        ({"activations": ["Sigmoid", "Tanh", "Relu"]}, "differ"),
    ):
        node = helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=2, **attrs)
        graph = helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 1, 3])],
            [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
            initializer=[
                numpy_helper.from_array(np.zeros((1, 8, 3), np.float32), "W"),
                numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "R"),
            ],
        )
        path = tmp_path / f"{word}.onnx"
        onnx.save(helper.make_model(graph), str(path))
        assert word in _one_line_error(lambda p=path: lstmviz.load_model(p), path)
        [info] = inspect_model(path)
        assert any(word in problem for problem in info.unsupported)


@pytest.mark.parametrize(
    ("module", "extra", "name"),
    [
        ("h5py", "keras", "keras_func.keras"),
        ("h5py", "keras", "keras2_model.h5"),
        ("safetensors", "safetensors", "torch_lstm.safetensors"),
    ],
)
def test_missing_extra_says_what_to_install(monkeypatch, module, extra, name):
    monkeypatch.setitem(sys.modules, module, None)
    path = FIXTURES / name
    assert f"pip install 'lstmviz[{extra}]'" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_unknown_content_with_unknown_extension(tmp_path):
    path = tmp_path / "model.xyz"
    path.write_bytes(b"just some text\n")
    assert "unknown model format '.xyz'" in _one_line_error(lambda: lstmviz.load_model(path), path)


def test_keras1_weights_are_refused(tmp_path):
    import h5py

    path = tmp_path / "keras1.h5"
    names = [f"lstm_1_{kind}_{gate}" for gate in "icfo" for kind in "WUb"]
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"lstm_1"])
        group = f.create_group("lstm_1")
        group.attrs["weight_names"] = np.array([n.encode() for n in names])
        for name in names:
            group.create_dataset(name, data=np.ones(2))
    assert "Keras 1 LSTM weights" in _one_line_error(lambda: lstmviz.load_model(path), path)
