""".npy arrays read header first: shape and dtype are checked before a byte of data is
allocated, so a header claiming (1e9, 1e9) or a 2 GB uint8 member is refused at once.

read_header parses only the header (never a pickle: object dtypes are refused); the caller
checks the shape against what it expects and the bytes against the budget
(lstmviz.io.budget), then read_body fills exactly that many bytes, chunk by chunk, into
one array of the file's own dtype. Widening to float64 is the caller's, after its checks.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.lib.format as npformat

from lstmviz.errors import LstmvizError
from lstmviz.io.paths import NPY_ERRORS

MAX_HEADER = 10_000
CHUNK = 8 << 20
NUMBER_KINDS = "fiu"  # float, signed and unsigned integers


def read_header(stream, what: str, source: str, kinds: str = NUMBER_KINDS):
    """(shape, fortran_order, dtype) of the .npy at the stream's position."""
    try:
        version = npformat.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = npformat.read_array_header_1_0(stream, max_header_size=MAX_HEADER)
        elif version == (2, 0):
            shape, fortran, dtype = npformat.read_array_header_2_0(stream, max_header_size=MAX_HEADER)
        elif version == (3, 0) and hasattr(npformat, "_read_array_header"):
            shape, fortran, dtype = npformat._read_array_header(stream, version, max_header_size=MAX_HEADER)
        else:
            raise LstmvizError(f"{what}: unsupported .npy version {version}", source=source)
    except LstmvizError:
        raise
    except (*NPY_ERRORS, OverflowError, RecursionError, MemoryError) as error:
        raise LstmvizError(f"{what} is not a readable .npy array ({error})", source=source) from None
    if dtype.hasobject:
        raise LstmvizError(
            f"{what} holds Python objects (a pickle), which lstmviz never loads", source=source
        )
    if dtype.kind not in kinds or dtype.subdtype is not None or dtype.names is not None:
        raise LstmvizError(f"{what} has dtype {dtype}, expected numbers", source=source)
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise LstmvizError(f"{what} has shape {shape}, not a shape", source=source)
    return tuple(int(d) for d in shape), bool(fortran), dtype


def count_of(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def read_body(
    stream, shape: tuple[int, ...], fortran: bool, dtype: np.dtype, what: str, source: str
) -> np.ndarray:
    """Exactly the array's bytes, into one array of its own dtype (callers checked the size)."""
    count = count_of(shape)
    array = np.empty(count, dtype=dtype)
    view = memoryview(array.view(np.uint8).reshape(-1)) if count else memoryview(b"")
    pos = 0
    total = count * dtype.itemsize
    while pos < total:
        got = stream.readinto(view[pos : min(pos + CHUNK, total)])
        if not got:
            raise LstmvizError(f"{what} is truncated ({pos} of {total} bytes)", source=source)
        pos += got
    return array.reshape(shape, order="F" if fortran else "C")
