"""The native model format: an .npz holding W_i ... b_o (and optionally p_*, h0, c0)."""

from __future__ import annotations

import zipfile

import numpy as np

from lstmviz.core.params import PEEPHOLES, WEIGHT_KEYS, LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.paths import readable_file

OPTIONAL_KEYS = (*PEEPHOLES, "h0", "c0")


def read_npz_model(path) -> LSTMParams:
    source = str(path)
    readable_file(path)
    if not zipfile.is_zipfile(path):
        raise LstmvizError("not a readable .npz archive (not a zip file, or truncated)", source=source)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise LstmvizError(f"not a readable .npz archive ({error})", source=source) from None
    except ValueError as error:  # pickled object arrays land here with allow_pickle=False
        raise LstmvizError(f"cannot read an array: {error}", source=source) from None
    missing = [key for key in WEIGHT_KEYS if key not in arrays]
    if missing:
        raise LstmvizError(
            f"missing {', '.join(missing)} (a model .npz needs W_i..W_o, U_i..U_o, b_i..b_o)",
            source=source,
        )
    unknown = sorted(set(arrays) - set(WEIGHT_KEYS) - set(OPTIONAL_KEYS))
    if unknown:
        raise LstmvizError(f"unexpected arrays {', '.join(unknown)}", source=source)
    for key, value in arrays.items():
        if value.dtype.kind not in "fiu":
            raise LstmvizError(f"{key} has dtype {value.dtype}, expected numbers", source=source)
        problem = describe_nonfinite(key, value)
        if problem:
            raise LstmvizError(problem, source=source)
    try:
        return LSTMParams(**arrays, name="npz", source=source)
    except LstmvizError as error:
        raise error.with_source(source) from None


def write_npz_model(params: LSTMParams, path) -> None:
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **params.arrays())


def read_model(path, layer: str | None = None) -> LSTMParams:
    if layer not in (None, "", "0", "lstm"):
        raise LstmvizError(f"has no layer {layer!r} (an .npz model holds one cell: '0')", source=str(path))
    return read_npz_model(path)
