"""Helpers for the framework-reader tests: crafted files and loaders for the child process."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "frameworks"


def torch_zip(
    path: Path,
    pickle_bytes: bytes,
    storages: dict[str, bytes] | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A file laid out like torch.save's zip, holding the given data.pkl and storages."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", pickle_bytes)
        zf.writestr("archive/byteorder", b"little")
        for key, data in (storages or {}).items():
            zf.writestr(f"archive/data/{key}", data)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
        zf.writestr("archive/version", b"3\n")
    return path


def keras3_file(path: Path, config: dict, weights: dict[str, np.ndarray]) -> Path:
    """A .keras zip with this config.json and a model.weights.h5 holding these datasets."""
    import json

    import h5py

    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for name, value in weights.items():
            f.create_dataset(name, data=value)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.15.1"}))
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", buffer.getvalue())
    return path


# -- loaders the isolation tests run in the child process -------------------------------------
def abort_loader(path, layer=None):
    os.abort()


def segfault_loader(path, layer=None):
    import ctypes

    ctypes.string_at(0)


def slow_loader(path, layer=None):
    time.sleep(60)


def broken_loader(path, layer=None):
    raise RuntimeError("something unexpected")
