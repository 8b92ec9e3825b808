"""safetensors files holding a PyTorch state_dict (weight_ih_l0 ...), via safetensors' NumPy API.

The format is a JSON header and raw little-endian arrays, so reading it never runs code.
The names follow nn.LSTM's state_dict (see statedict.py). NumPy has no bfloat16, so BF16
tensors are read from their byte range (which the safetensors package has checked) and
widened to float32 exactly.
"""

from __future__ import annotations

import json
import struct

import numpy as np

from lstmviz.errors import LstmvizError
from lstmviz.io import budget as budgets
from lstmviz.io.layers import LayerInfo, build_layer, require, without_build
from lstmviz.io.paths import readable_file
from lstmviz.io.statedict import TensorRef, layers_from_state_dict

FORMAT = "safetensors (PyTorch state_dict names)"
DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U8": "uint8",
    "BOOL": "bool",
}
ITEMSIZE = {
    "F64": 8,
    "F32": 4,
    "F16": 2,
    "BF16": 2,
    "I64": 8,
    "I32": 4,
    "I16": 2,
    "I8": 1,
    "U8": 1,
    "BOOL": 1,
}


class _File:
    def __init__(self, path):
        self.path = path
        self.source = str(path)
        self.budget = budgets.Budget(self.source)
        readable_file(path)
        module = require("safetensors", "safetensors", "safetensors files", self.source)
        self._error_types = (
            getattr(module, "SafetensorError", Exception),
            OSError,
            ValueError,
            TypeError,
            KeyError,
            RuntimeError,
            struct.error,
        )
        try:
            self.handle = module.safe_open(str(path), framework="np")
            self.file = self.handle.__enter__()
            self.keys = list(self.file.keys())
            self.meta = {}
            for key in self.keys:
                piece = self.file.get_slice(key)
                self.meta[key] = (tuple(int(v) for v in piece.get_shape()), str(piece.get_dtype()))
        except self._error_types as error:
            raise LstmvizError(f"not a readable safetensors file ({error})", source=self.source) from None

    def close(self) -> None:
        self.handle.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def load(self, key: str) -> np.ndarray:
        shape, dtype = self.meta[key]
        count = 1
        for size in shape:
            count *= size
        # the copy safetensors makes, the float32 widening of bfloat16, the float64 for the engine
        itemsize = ITEMSIZE.get(dtype, 8)
        self.budget.take(count * (itemsize + (4 if dtype == "BF16" else 0) + 8), key)
        try:
            if dtype == "BF16":
                return self._bfloat16(key, shape)
            return np.asarray(self.file.get_tensor(key))
        except self._error_types as error:
            raise LstmvizError(f"cannot read tensor {key!r} ({error})", source=self.source) from None

    def _bfloat16(self, key: str, shape: tuple[int, ...]) -> np.ndarray:
        with open(self.path, "rb") as handle:
            (length,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(length))
            begin, end = header[key]["data_offsets"]
            count = int(np.prod(shape, dtype=np.int64))
            if end - begin != 2 * count:
                raise ValueError(f"{key} holds {end - begin} bytes for {count} bfloat16 values")
            handle.seek(8 + length + begin)
            raw = handle.read(end - begin)
        if len(raw) != 2 * count:
            raise ValueError("the file is truncated")
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)

    def refs(self) -> dict[str, TensorRef]:
        return {
            key: TensorRef(
                shape=shape, dtype=DTYPES.get(dtype, dtype.lower()), load=lambda key=key: self.load(key)
            )
            for key, (shape, dtype) in self.meta.items()
        }


def _layers(handle: _File) -> list[LayerInfo]:
    layers = layers_from_state_dict(handle.refs(), FORMAT, handle.source)
    if not layers:
        raise LstmvizError(
            f"no LSTM layer found ({len(handle.keys)} tensors; none named like an nn.LSTM's weight_ih_l0)",
            source=handle.source,
        )
    return layers


def list_layers(path) -> list[LayerInfo]:
    with _File(path) as handle:
        return [without_build(info) for info in _layers(handle)]


def read_model(path, layer: str | None = None):
    with _File(path) as handle:
        return build_layer(_layers(handle), layer, handle.source)
