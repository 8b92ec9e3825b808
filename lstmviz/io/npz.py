"""The native model format: an .npz holding W_i ... b_o (and optionally p_*, h0, c0, W_hr).

Read header first: every member's dtype and shape are read, and the bytes the arrays need, in
their own dtype and widened to float64, are checked against the memory budget before any
data is read, so a 2 MB file holding a 2 GB uint8 member is refused at once. Shapes are then
checked against each other by LSTMParams.
"""

from __future__ import annotations

import numpy as np

from lstmviz.core.params import PEEPHOLES, PROJECTION, WEIGHT_KEYS, LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError, reading
from lstmviz.io.atomic import atomic_write
from lstmviz.io.budget import Budget
from lstmviz.io.npyread import count_of, read_body, read_header
from lstmviz.io.paths import readable_file
from lstmviz.io.zipsafe import SafeZip, is_zip

OPTIONAL_KEYS = (*PEEPHOLES, "h0", "c0", PROJECTION)
# A linear readout y = V h + d saved beside the cell by `lstmviz train`: accepted, not part of the cell.
READOUT_KEYS = ("V", "d")
MAX_ARRAY_BYTES = 2 << 30  # one array; as for a .pt storage


def read_npz_model(path) -> LSTMParams:
    source = str(path)
    with reading(source):
        return _read_npz_model(path, source)


def _read_npz_model(path, source: str) -> LSTMParams:
    readable_file(path)
    if not is_zip(path):
        raise LstmvizError("not a readable .npz archive (not a zip file, or truncated)", source=source)
    # Member by member from the expected names, each under the zip caps; the arrays are
    # parsed with pickles refused, as np.load(..., allow_pickle=False) would.
    known = {f"{key}.npy" for key in (*WEIGHT_KEYS, *OPTIONAL_KEYS, *READOUT_KEYS)}
    allowed = known.__contains__
    with SafeZip(path, kind=".npz archive", allowed=allowed, max_member=MAX_ARRAY_BYTES) as archive:
        unknown = sorted(name.removesuffix(".npy") for name in archive.names() if name not in known)
        if unknown:
            raise LstmvizError(f"unexpected arrays {', '.join(unknown)}", source=source)
        missing = [key for key in WEIGHT_KEYS if not archive.has(f"{key}.npy")]
        if missing:
            raise LstmvizError(
                f"missing {', '.join(missing)} (a model .npz needs W_i..W_o, U_i..U_o, b_i..b_o)",
                source=source,
            )
        headers = {}
        for name in archive.names():
            key = name.removesuffix(".npy")
            with archive.open(name) as stream:
                headers[key] = read_header(stream, key, source)
        budget = Budget(source)
        for key, (shape, _, dtype) in headers.items():
            # its own dtype as read, and float64 once LSTMParams widens it
            budget.take(count_of(shape) * (dtype.itemsize + 8), key)
        arrays = {}
        for key, (shape, fortran, dtype) in headers.items():
            with archive.open(f"{key}.npy") as stream:
                read_header(stream, key, source)
                value = read_body(stream, shape, fortran, dtype, key, source)
            if value.dtype.kind == "f":  # integers are always finite: checked in their own dtype
                problem = describe_nonfinite(key, value)
                if problem:
                    raise LstmvizError(problem, source=source)
            arrays[key] = value
    for key in READOUT_KEYS:
        arrays.pop(key, None)
    return LSTMParams(**arrays, name="npz", source=source)


def write_npz_model(params: LSTMParams, path) -> None:
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **params.arrays())


def read_model(path, layer: str | None = None) -> LSTMParams:
    if layer not in (None, "", "0", "lstm"):
        raise LstmvizError(f"has no layer {layer!r} (an .npz model holds one cell: '0')", source=str(path))
    return read_npz_model(path)
