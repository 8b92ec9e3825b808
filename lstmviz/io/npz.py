"""The native model format: an .npz holding W_i ... b_o (and optionally p_*, h0, c0).

Read header first: every member's shape and dtype are checked against the others (b_i gives
n, W_i gives m) and the bytes the arrays need, in their own dtype and widened to float64,
against the memory budget before any data is read, so a 2 MB file holding a 2 GB uint8
member is refused at once.
"""

from __future__ import annotations

import numpy as np

from lstmviz.core.params import PEEPHOLES, WEIGHT_KEYS, LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError, reading
from lstmviz.io.atomic import atomic_write
from lstmviz.io.budget import Budget
from lstmviz.io.npyread import count_of, read_body, read_header
from lstmviz.io.paths import readable_file
from lstmviz.io.zipsafe import SafeZip, is_zip

OPTIONAL_KEYS = (*PEEPHOLES, "h0", "c0")
MAX_ARRAY_BYTES = 2 << 30  # one array; as for a .pt storage


def _expected_shape(key: str, n: int, m: int) -> tuple[int, ...]:
    if key.startswith("W_"):
        return (n, m)
    if key.startswith("U_"):
        return (n, n)
    return (n,)


def _check_shapes(shapes: dict[str, tuple[int, ...]], source: str) -> None:
    b_i, W_i = shapes["b_i"], shapes["W_i"]
    if len(b_i) != 1:
        raise LstmvizError(f"b_i has shape {b_i}, expected a vector (n,)", source=source)
    if len(W_i) != 2:
        raise LstmvizError(f"W_i has shape {W_i}, expected (n, m) = ({b_i[0]}, m)", source=source)
    n, m = b_i[0], W_i[1]
    if n < 1 or m < 1:
        raise LstmvizError(f"the cell has n = {n} units and m = {m} inputs; both must be at least 1",
                           source=source)
    for key, shape in shapes.items():
        expected = _expected_shape(key, n, m)
        if shape != expected:
            raise LstmvizError(f"{key} has shape {shape}, expected {expected} (n={n}, m={m})", source=source)


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
    known = {f"{key}.npy" for key in (*WEIGHT_KEYS, *OPTIONAL_KEYS)}
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
        _check_shapes({key: shape for key, (shape, _, _) in headers.items()}, source)
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
    return LSTMParams(**arrays, name="npz", source=source)


def write_npz_model(params: LSTMParams, path) -> None:
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **params.arrays())


def read_model(path, layer: str | None = None) -> LSTMParams:
    if layer not in (None, "", "0", "lstm"):
        raise LstmvizError(f"has no layer {layer!r} (an .npz model holds one cell: '0')", source=str(path))
    return read_npz_model(path)
