"""Input sequences: CSV (T rows x m columns, optional header row) and .npy (T x m or T)."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np

from lstmviz.core.params import describe_nonfinite
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.paths import NPY_ERRORS, readable_file, suffix_of

SEQUENCE_SUFFIXES = (".csv", ".npy")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _parse_csv_text(text: str, source: str) -> np.ndarray:
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise LstmvizError("the file is empty", source=source)
    first = next(csv.reader([lines[0]]))
    start = 1 if not any(_is_number(cell) for cell in first) else 0
    body = lines[start:]
    if not body:
        raise LstmvizError("has a header but no rows of numbers", source=source)
    try:
        # numpy's C parser is fast; on any problem we re-read slowly to say exactly where.
        data = np.loadtxt(io.StringIO("\n".join(body)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        data = None
    if data is None:
        _locate_csv_problem(body, start, source)
        raise LstmvizError("could not be read as a table of numbers", source=source)
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raw = next(csv.reader([body[row]]))[col].strip()
        raise LstmvizError(
            f"row {row + start + 1}, column {col + 1}: {raw!r} is not a finite number",
            source=source,
        )
    return data


def _locate_csv_problem(body: list[str], start: int, source: str) -> None:
    width = None
    for offset, row in enumerate(csv.reader(body)):
        line = offset + start + 1
        if not row or all(not cell.strip() for cell in row):
            raise LstmvizError(f"row {line} is blank", source=source)
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise LstmvizError(
                f"row {line} has {len(row)} columns, expected {width} (ragged rows)", source=source
            )
        for col, cell in enumerate(row):
            if not _is_number(cell.strip()):
                raise LstmvizError(
                    f"row {line}, column {col + 1}: {cell.strip()!r} is not a number", source=source
                )


def read_csv_sequence(path) -> np.ndarray:
    source = str(path)
    p = readable_file(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise LstmvizError("is not a text CSV file (not UTF-8)", source=source) from None
    return _parse_csv_text(text, source)


def read_npy_sequence(path) -> np.ndarray:
    source = str(path)
    readable_file(path)
    try:
        # Our own handle: np.load leaves its file open when a damaged zip makes it raise.
        with open(path, "rb") as handle:
            data = np.load(handle, allow_pickle=False)
            if not isinstance(data, np.ndarray):
                data.close()  # an .npz archive under a .npy name
                raise LstmvizError("holds several arrays; a sequence is one .npy array", source=source)
    except LstmvizError:
        raise
    except NPY_ERRORS as error:
        raise LstmvizError(f"cannot read the array ({error})", source=source) from None
    except zipfile.BadZipFile as error:  # starts like an .npz archive
        raise LstmvizError(f"not a .npy array (a damaged zip: {error})", source=source) from None
    if data.dtype.kind not in "fiub":
        raise LstmvizError(f"has dtype {data.dtype}, expected numbers", source=source)
    if data.ndim == 1:
        data = data[:, None]
    if data.ndim != 2:
        raise LstmvizError(f"has shape {data.shape}, expected (T, m) or (T,)", source=source)
    if data.shape[0] == 0:
        raise LstmvizError("has no steps (T = 0)", source=source)
    data = data.astype(np.float64)
    problem = describe_nonfinite("x", data)
    if problem:
        row, col = (int(v) for v in np.argwhere(~np.isfinite(data))[0])
        raise LstmvizError(f"row {row + 1}, column {col + 1} ({problem})", source=source)
    return data


def load_sequence(path) -> np.ndarray:
    """A (T, m) float64 array from a .csv or .npy file."""
    suffix = suffix_of(path)
    if suffix == ".csv":
        return read_csv_sequence(path)
    if suffix == ".npy":
        return read_npy_sequence(path)
    readable_file(path)
    raise LstmvizError(
        f"unknown sequence format {suffix or '(no extension)'!r} (expected .csv or .npy)",
        source=str(path),
    )


def write_sequence(xs: np.ndarray, path) -> None:
    xs = np.asarray(xs, dtype=np.float64)
    if suffix_of(path) == ".npy":
        with atomic_write(path, "wb") as handle:
            np.save(handle, xs, allow_pickle=False)
        return
    header = ",".join(f"x_{j}" for j in range(xs.shape[1]))
    with atomic_write(path) as handle:
        handle.write(header + "\n")
        for block in _row_blocks(xs):
            handle.write(block)


def _row_blocks(values: np.ndarray, rows_per_block: int = 4096):
    from lstmviz.io.csv import format_rows

    for start in range(0, values.shape[0], rows_per_block):
        yield format_rows(values[start : start + rows_per_block])
