"""load_model and inspect_model: pick the reader for a model file by its extension.

Every reader module has read_model(path, layer=None) -> LSTMParams; the framework readers
also have list_layers(path) -> [LayerInfo] (what `lstmviz inspect` prints). See
docs/formats.md for what each reads.
"""

from __future__ import annotations

import importlib

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError, reading
from lstmviz.io.layers import LayerInfo
from lstmviz.io.paths import readable_file, suffix_of

# extension -> module with read_model(path, layer=None) -> LSTMParams
MODEL_READERS = {
    ".npz": "lstmviz.io.npz",
    ".pt": "lstmviz.io.torch_pt",
    ".pth": "lstmviz.io.torch_pt",
    ".safetensors": "lstmviz.io.safetensors_io",
    ".keras": "lstmviz.io.keras",
    ".weights.h5": "lstmviz.io.keras",
    ".h5": "lstmviz.io.keras",
    ".hdf5": "lstmviz.io.keras",
    ".onnx": "lstmviz.io.onnx_io",
}

# Formats whose parsers are C libraries (HDF5, protobuf): the window reads these in a child
# process (lstmviz.io.isolated) so that a crafted file can crash only that process.
ISOLATE_SUFFIXES = (".keras", ".weights.h5", ".h5", ".hdf5", ".onnx")


def _reader(path):
    suffix = suffix_of(path)
    module_name = MODEL_READERS.get(suffix)
    if module_name is None:
        readable_file(path)
        known = ", ".join(sorted(MODEL_READERS))
        raise LstmvizError(
            f"unknown model format {suffix or '(no extension)'!r} (lstmviz reads {known})",
            source=str(path),
        )
    return importlib.import_module(module_name)


def load_model(path, layer: str | None = None) -> LSTMParams:
    """One LSTM layer of a model file as LSTMParams (the first layer when layer is None)."""
    with reading(path):  # any failure inside is attributed to this file
        return _reader(path).read_model(path, layer=layer)


def inspect_model(path) -> list[LayerInfo]:
    """Every LSTM layer (one per direction) in a model file, described; weights not loaded."""
    with reading(path):
        return _inspect_model(path)


def _inspect_model(path) -> list[LayerInfo]:
    module = _reader(path)
    if hasattr(module, "list_layers"):
        return module.list_layers(path)
    params = module.read_model(path)  # the native .npz holds one cell
    return [
        LayerInfo(
            name="0",
            format="lstmviz .npz (W_i..W_o, U_i..U_o, b_i..b_o)",
            m=params.m,
            n=params.n,
            gate_order="i, f, g, o (separate arrays)",
            biases="b_i, b_f, b_g, b_o",
            peepholes="p_i, p_f, p_o" if params.has_peepholes else "none",
            activations=f"{params.recurrent_activation} (gates), {params.cell_activation} (cell)",
            aliases=("lstm",),
        )
    ]


def needs_isolation(path) -> bool:
    """True for the formats the window should read with lstmviz.io.isolated."""
    return suffix_of(path) in ISOLATE_SUFFIXES
