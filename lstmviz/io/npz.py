"""The native model format: an .npz holding W_i ... b_o (and optionally p_*, h0, c0, W_hr)."""

from __future__ import annotations

import io

import numpy as np

from lstmviz.core.params import PEEPHOLES, PROJECTION, WEIGHT_KEYS, LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.paths import NPY_ERRORS, readable_file
from lstmviz.io.zipsafe import SafeZip, is_zip

OPTIONAL_KEYS = (*PEEPHOLES, "h0", "c0", PROJECTION)
# A linear readout y = V h + d saved beside the cell by `lstmviz train`: accepted, not part of the cell.
READOUT_KEYS = ("V", "d")
MAX_ARRAY_BYTES = 2 << 30  # one array; as for a .pt storage


def _read_npy_member(data: bytes, key: str, source: str) -> np.ndarray:
    try:
        return np.lib.format.read_array(io.BytesIO(data), allow_pickle=False, max_header_size=10000)
    except NPY_ERRORS as error:
        # pickled object arrays land here too: allow_pickle=False refuses them
        raise LstmvizError(f"cannot read the array {key}: {error}", source=source) from None


def read_npz_model(path) -> LSTMParams:
    source = str(path)
    readable_file(path)
    if not is_zip(path):
        raise LstmvizError("not a readable .npz archive (not a zip file, or truncated)", source=source)
    # Member by member from the expected names, each under a size cap (no zip bombs); the
    # arrays are parsed with allow_pickle=False, as np.load(..., allow_pickle=False) would.
    known = {f"{key}.npy" for key in (*WEIGHT_KEYS, *OPTIONAL_KEYS, *READOUT_KEYS)}
    arrays = {}
    with SafeZip(
        path, kind=".npz archive", allowed=known.__contains__, max_member=MAX_ARRAY_BYTES, max_ratio=1100
    ) as archive:
        unknown = sorted(name.removesuffix(".npy") for name in archive.names() if name not in known)
        if unknown:
            raise LstmvizError(f"unexpected arrays {', '.join(unknown)}", source=source)
        for name in archive.names():
            key = name.removesuffix(".npy")
            arrays[key] = _read_npy_member(archive.read(name), key, source)
    missing = [key for key in WEIGHT_KEYS if key not in arrays]
    if missing:
        raise LstmvizError(
            f"missing {', '.join(missing)} (a model .npz needs W_i..W_o, U_i..U_o, b_i..b_o)",
            source=source,
        )
    for key, value in arrays.items():
        if value.dtype.kind not in "fiu":
            raise LstmvizError(f"{key} has dtype {value.dtype}, expected numbers", source=source)
        problem = describe_nonfinite(key, value)
        if problem:
            raise LstmvizError(problem, source=source)
    for key in READOUT_KEYS:
        arrays.pop(key, None)
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
