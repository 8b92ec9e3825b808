"""Live framework objects: an nn.LSTM or a Keras layer in a notebook, straight into lstmviz.

    import lstmviz
    params = lstmviz.from_torch(model, layer="encoder.lstm")   # nn.LSTM, nn.LSTMCell, any nn.Module
    params = lstmviz.from_keras(model, layer="lstm")           # keras.layers.LSTM, a Model
    lstmviz.show(model, input=xs)                              # the window on it

torch and keras are never imported here: the object passed in already belongs to a running
framework, and it is recognised by type(obj).__module__ and read through its own public
attributes (state_dict(), get_weights(), the layer's config attributes). The torch path
names layers exactly as the file readers do ('encoder.lstm.l0', alias 'encoder.lstm'), by
running the same state_dict naming (lstmviz.io.statedict) over the live tensors.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import ORDER_KERAS, LayerInfo, build_layer, find_layer, layer_names
from lstmviz.io.statedict import TensorRef, layers_from_state_dict

TORCH_FORMAT = "live PyTorch module"
KERAS_FORMAT = "live Keras layer"
TORCH_FIELDS = (
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "bidirectional",
    "proj_size",
)


def _module_of(obj) -> str:
    return type(obj).__module__ or ""


def is_torch_object(obj) -> bool:
    return _module_of(obj).split(".", 1)[0] == "torch" or (
        hasattr(obj, "state_dict") and hasattr(obj, "_modules") and hasattr(obj, "_parameters")
    )


def is_keras_object(obj) -> bool:
    root = _module_of(obj).split(".", 1)[0]
    return root in ("keras", "tf_keras") or (root == "tensorflow" and "keras" in _module_of(obj))


# -- torch -----------------------------------------------------------------------------------
def _to_numpy(tensor) -> np.ndarray:
    """A torch tensor's values, through its own methods (bfloat16 widened to float32)."""
    value = tensor.detach() if hasattr(tensor, "detach") else tensor
    value = value.cpu() if hasattr(value, "cpu") else value
    if "bfloat16" in str(getattr(value, "dtype", "")):
        value = value.float()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def _dtype_name(tensor) -> str:
    text = str(getattr(tensor, "dtype", "float32"))
    return text.rsplit(".", 1)[-1]


def _torch_notes(module, prefix: str = "", out: dict | None = None, depth: int = 0) -> dict:
    """{'encoder.lstm': ('nn.LSTM(input_size=3, ...)',)} for the LSTM-like submodules."""
    out = {} if out is None else out
    if depth > 64:
        return out
    name = type(module).__name__
    if name in ("LSTM", "LSTMCell"):
        fields = [f"{k}={getattr(module, k)!r}" for k in TORCH_FIELDS if hasattr(module, k)]
        text = f"live {_module_of(module)}.{name}({', '.join(fields)})"
        if getattr(module, "batch_first", False):
            text += "; batch_first=True only changes the batch axis, lstmviz reads one sequence (T, m)"
        out[prefix] = (text,)
    children = getattr(module, "_modules", None) or {}
    for key, child in children.items():
        if child is not None:
            _torch_notes(child, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    return out


def torch_layers(module) -> list[LayerInfo]:
    """Every LSTM layer/direction and LSTMCell in a live torch module, as the file readers
    describe them (weights are copied only for the layer that is built)."""
    if not hasattr(module, "state_dict"):
        raise LstmvizError(f"from_torch needs an nn.Module, got {type(module).__name__}")
    state = module.state_dict()
    refs = {
        str(key): TensorRef(
            shape=tuple(int(v) for v in tensor.shape),
            dtype=_dtype_name(tensor),
            load=lambda tensor=tensor: _to_numpy(tensor),
        )
        for key, tensor in state.items()
    }
    source = f"<{type(module).__name__}>"
    layers = layers_from_state_dict(refs, TORCH_FORMAT, source, module_notes=_torch_notes(module))
    if not layers:
        raise LstmvizError(
            f"{type(module).__name__} holds no nn.LSTM or nn.LSTMCell ({len(refs)} tensors in its state_dict)"
        )
    return layers


def from_torch(module, layer: str | None = None) -> LSTMParams:
    """One LSTM layer of a live nn.LSTM / nn.LSTMCell / nn.Module as LSTMParams.

    layer: as `lstmviz inspect` names it for the same module saved with torch.save
    ('lstm.l0', 'encoder.lstm', 'l1_reverse', 'cell'); the first layer when None."""
    layers = torch_layers(module)
    return build_layer(layers, layer, f"<{type(module).__name__}>")


# -- keras -----------------------------------------------------------------------------------
def _activation_name(function, what: str) -> str:
    name = getattr(function, "__name__", None) or str(function)
    name = {"hard_sigmoid": "hard_sigmoid_keras3"}.get(name, name)
    if name not in ("sigmoid", "tanh", "hard_sigmoid_keras3", "relu", "linear"):
        raise LstmvizError(f"{what} {name!r} is not supported (sigmoid, tanh, hard_sigmoid, relu, linear)")
    return name


def _keras_cell_params(cell, weights, name: str, reverse: bool) -> LSTMParams:
    kernel, recurrent = np.asarray(weights[0], np.float64), np.asarray(weights[1], np.float64)
    n = recurrent.shape[0]
    bias = np.asarray(weights[2], np.float64) if len(weights) > 2 else np.zeros(4 * n)
    return LSTMParams.from_stacked(
        kernel.T,
        recurrent.T,
        bias,
        order="ifgo",  # Keras: i, f, c, o (c is lstmviz's g)
        recurrent_activation=_activation_name(
            getattr(cell, "recurrent_activation", None), "recurrent_activation"
        ),
        cell_activation=_activation_name(getattr(cell, "activation", None), "activation"),
        reverse=reverse,
        name=name,
        source=f"<{name}>",
    )


def _keras_found(obj, prefix: str = "", depth: int = 0) -> list[tuple[str, object, bool]]:
    """(name, LSTM-like layer, reverse) for every Keras LSTM in a layer or model."""
    if depth > 32:
        return []
    cls = type(obj).__name__
    name = f"{prefix}{getattr(obj, 'name', cls)}"
    if cls == "Bidirectional":
        return [
            (f"{name}/forward", obj.forward_layer, bool(getattr(obj.forward_layer, "go_backwards", False))),
            (f"{name}/backward", obj.backward_layer, True),
        ]
    if cls == "LSTM" or (cls == "RNN" and type(getattr(obj, "cell", None)).__name__ == "LSTMCell"):
        return [(name, obj, bool(getattr(obj, "go_backwards", False)))]
    found = []
    for child in getattr(obj, "layers", None) or []:
        found += _keras_found(child, f"{name}/" if depth else "", depth + 1)
    return found


def from_keras(layer_or_model, layer: str | None = None) -> LSTMParams:
    """One LSTM of a live Keras layer or model (LSTM, Bidirectional(LSTM), RNN(LSTMCell))."""
    found = _keras_found(layer_or_model)
    if not found:
        raise LstmvizError(f"{type(layer_or_model).__name__} holds no Keras LSTM layer")
    infos = [
        LayerInfo(name=name, format=KERAS_FORMAT, m=-1, n=-1, gate_order=ORDER_KERAS, biases="bias")
        for name, _, _ in found
    ]
    chosen = find_layer(infos, layer, f"<{type(layer_or_model).__name__}>")
    name, keras_layer, reverse = found[infos.index(chosen)]
    cell = getattr(keras_layer, "cell", keras_layer)
    weights = keras_layer.get_weights()
    if len(weights) not in (2, 3):
        raise LstmvizError(
            f"Keras layer {name!r} has {len(weights)} weight arrays, expected kernel, recurrent_kernel, bias "
            f"(its layers: {layer_names(infos)})"
        )
    return _keras_cell_params(cell, weights, name, reverse)


# -- show ------------------------------------------------------------------------------------
def to_params(obj, layer: str | None = None) -> LSTMParams:
    """LSTMParams from LSTMParams, a live torch/keras object (recognised without importing)."""
    if isinstance(obj, LSTMParams):
        return obj
    if is_keras_object(obj):
        return from_keras(obj, layer)
    if is_torch_object(obj):
        return from_torch(obj, layer)
    raise LstmvizError(
        f"cannot show a {type(obj).__name__}: pass a file path, LSTMParams, a torch nn.Module "
        "or a Keras layer"
    )


def show(model_or_path, input=None, layer: str | int | None = None):  # noqa: A002 - the public name
    """Open the lstmviz window (lstmviz.Viewer) on a model file or a live model; returns the Viewer.

    A live model is converted (from_torch / from_keras) and the window opens on it as
    `lstmviz FILE --layer K` opens a file: layer K of a stack runs the layers below it on the
    input first; `input` is an array (T, m) or a sequence file, and a generated input when
    None."""
    from lstmviz.gui.viewer import Viewer  # Qt only now, never on `import lstmviz`

    if isinstance(model_or_path, (str, os.PathLike)):
        if input is not None and not isinstance(input, (str, os.PathLike)):
            input = np.asarray(input, dtype=np.float64)
        viewer = Viewer(show=True)
        viewer.open(str(Path(model_or_path)), layer=None if layer is None else str(layer), input=input)
        return viewer
    from lstmviz.document.opening import live_document

    document = live_document(to_params(model_or_path, None if layer is None else str(layer)), input)
    return Viewer(show=True, document=document)
