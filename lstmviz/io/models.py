"""load_model: pick the reader for a model file by its extension."""

from __future__ import annotations

import importlib

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.paths import readable_file, suffix_of

# extension -> module with read_model(path, layer=None) -> LSTMParams
MODEL_READERS = {
    ".npz": "lstmviz.io.npz",
}


def load_model(path, layer: str | None = None) -> LSTMParams:
    suffix = suffix_of(path)
    module_name = MODEL_READERS.get(suffix)
    if module_name is None:
        readable_file(path)
        known = ", ".join(sorted(MODEL_READERS))
        raise LstmvizError(
            f"unknown model format {suffix or '(no extension)'!r} (lstmviz reads {known})",
            source=str(path),
        )
    module = importlib.import_module(module_name)
    return module.read_model(path, layer=layer)
