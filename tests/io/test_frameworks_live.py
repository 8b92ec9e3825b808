"""Fresh random models compared live with the framework, where it is installed.

torch and keras are not in the [test] extra: these tests skip in CI and run on a developer
machine with `pip install torch==2.13.0 keras`. The ONNX test needs only onnx (in [test]).
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
import pytest

import lstmviz
from lstmviz.io import torch_pt
from lstmviz.io.models import inspect_model
from tests.io.frameworks_helpers import FIXTURES


def _import(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip(name)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".pt", ".pth")))
def test_pt_reader_matches_torch_load(name):
    torch = _import("torch")
    reference = torch.load(FIXTURES / name, weights_only=True)

    def flat(obj, prefix=""):
        if isinstance(obj, torch.Tensor):
            yield prefix, obj
        elif isinstance(obj, dict):
            for key, value in obj.items():
                yield from flat(value, f"{prefix}.{key}" if prefix else str(key))

    expected = dict(flat(reference))
    mine = torch_pt.read_state_dict(FIXTURES / name)
    assert set(mine) == set(expected)
    for key, tensor in expected.items():
        want = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
        assert mine[key].dtype == want.dtype, key
        np.testing.assert_array_equal(mine[key], want, err_msg=key)


def test_fresh_torch_model(tmp_path):
    torch = _import("torch")
    safetensors_torch = _import("safetensors.torch")
    torch.manual_seed(11)
    lstm = torch.nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(1, 9, 4)
    path = tmp_path / "fresh.pt"
    torch.save({"net": {"rnn": lstm.state_dict()}}, path)
    safetensors_torch.save_file(dict(lstm.state_dict()), tmp_path / "fresh.safetensors")
    with torch.no_grad():
        out = lstm(x)[0][0].numpy()
        first = torch.nn.LSTM(4, 5, bidirectional=True, batch_first=True)
        for key, value in first.state_dict().items():
            value.copy_(lstm.state_dict()[key])
        out0 = first(x)[0][0].numpy()
    xs = x[0].numpy()
    expected = {
        "l0": out0[:, :5],
        "l0_reverse": out0[::-1, 5:],
        "l1": out[:, :5],
        "l1_reverse": out[::-1, 5:],
    }
    for layer, h in expected.items():
        for file, name in ((path, f"net.rnn.{layer}"), (tmp_path / "fresh.safetensors", layer)):
            trace = lstmviz.run(lstmviz.load_model(file, name), xs)
            np.testing.assert_allclose(trace.h, h, atol=1e-5, err_msg=f"{file.name} {name}")


def test_fresh_keras_model(tmp_path):
    if "keras" not in sys.modules:
        os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = _import("keras")
    with warnings.catch_warnings():  # keras' torch backend warns under NumPy 2
        warnings.simplefilter("ignore")
        keras.utils.set_random_seed(2)
        inputs = keras.Input((6, 3))
        y = keras.layers.LSTM(4, return_sequences=True, recurrent_activation="hard_sigmoid", name="a")(inputs)
        y = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True), name="b")(y)
        model = keras.Model(inputs, y)
        model.save(tmp_path / "fresh.keras")
        x = np.random.default_rng(2).normal(size=(6, 3)).astype(np.float32) * 2
        ha = np.asarray(
            keras.ops.convert_to_numpy(keras.Model(inputs, model.get_layer("a").output)(x[None]))
        )[0]
        hb = np.asarray(keras.ops.convert_to_numpy(model(x[None])))[0]
    for layer, h in (("a", ha), ("b/forward", hb[:, :2]), ("b/backward", hb[::-1, 2:])):
        trace = lstmviz.run(lstmviz.load_model(tmp_path / "fresh.keras", layer), x)
        np.testing.assert_allclose(trace.h, h, atol=1e-5, err_msg=layer)


@pytest.mark.parametrize(
    ("direction", "layout", "seed"),
    [
        ("forward", 0, 1),
        ("reverse", 0, 2),
        ("bidirectional", 0, 3),
        ("forward", 1, 4),
        ("bidirectional", 1, 5),
    ],
)
def test_fresh_onnx_graph(tmp_path, direction, layout, seed):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(seed)
    n, m, T = int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(1, 12))
    dirs = 2 if direction == "bidirectional" else 1
    state_shape = (dirs, 1, n) if layout == 0 else (1, dirs, n)
    init = {
        "W": rng.uniform(-2, 2, (dirs, 4 * n, m)),
        "R": rng.uniform(-2, 2, (dirs, 4 * n, n)),
        "B": rng.uniform(-1, 1, (dirs, 8 * n)),
        "h0": rng.uniform(-1, 1, state_shape),
        "c0": rng.uniform(-1, 1, state_shape),
        "P": rng.uniform(-1, 1, (dirs, 3 * n)),
    }
    node = helper.make_node(
        "LSTM",
        ["X", "W", "R", "B", "", "h0", "c0", "P"],
        ["Y"],
        name="cell",
        hidden_size=n,
        direction=direction,
        layout=layout,
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.DOUBLE, [None] * 3)],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [None] * 4)],
        initializer=[numpy_helper.from_array(v, k) for k, v in init.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 8
    path = tmp_path / "fresh.onnx"
    onnx.save(model, str(path))
    xs = rng.normal(size=(T, m)) * 2
    y = ReferenceEvaluator(model).run(None, {"X": xs[:, None] if layout == 0 else xs[None]})[0]
    y = y if layout == 0 else np.transpose(y, (1, 2, 0, 3))
    names = [info.name for info in inspect_model(path)]
    assert names == (["cell/forward", "cell/reverse"] if dirs == 2 else ["cell"])
    for d, name in enumerate(names):
        reverse = direction == "reverse" or d == 1
        trace = lstmviz.run(lstmviz.load_model(path, name), xs)
        np.testing.assert_allclose(trace.h, y[::-1, d, 0] if reverse else y[:, d, 0], atol=1e-12)
