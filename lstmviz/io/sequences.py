"""Input sequences: CSV (T rows x m columns, optional header row) and .npy (T x m or T)."""

from __future__ import annotations

import csv
import os
import zipfile

import numpy as np

from lstmviz.core.params import describe_nonfinite
from lstmviz.errors import LstmvizError, reading
from lstmviz.io.atomic import atomic_write
from lstmviz.io.budget import Budget
from lstmviz.io.budget import check as check_budget
from lstmviz.io.npyread import count_of, read_body, read_header
from lstmviz.io.paths import NPY_ERRORS, readable_file, suffix_of

SEQUENCE_SUFFIXES = (".csv", ".npy")


# A CSV is read as a stream of lines, each under these caps, so a file with one 1 GB line
# is refused after reading MAX_LINE_BYTES of it, and the numbers go to the memory budget
# block by block (lstmviz.io.budget) instead of the whole text being read first.
MAX_LINE_BYTES = 4 << 20
MAX_FIELDS = 65_536
READ_CHUNK = 1 << 20
ROWS_PER_BLOCK = 8192


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except (ValueError, OverflowError):
        return False
    return True


def _csv_lines(handle, source: str):
    """(line number, text) of each line, decoded from UTF-8, terminators removed; never more
    than MAX_LINE_BYTES of one line is held."""
    pending = b""
    number = 0

    def finish(raw: bytes) -> tuple[int, str]:
        nonlocal number
        number += 1
        if len(raw) > MAX_LINE_BYTES + 2:
            raise LstmvizError(f"line {number} is longer than {MAX_LINE_BYTES} bytes (not a table "
                               "of numbers lstmviz reads)", source=source)
        try:
            text = raw.rstrip(b"\r\n").decode("utf-8")
        except UnicodeDecodeError:
            raise LstmvizError(f"is not a text CSV file (line {number} is not UTF-8)",
                               source=source) from None
        if number == 1:
            text = text.removeprefix("\ufeff")
        if text.count(",") >= MAX_FIELDS:
            raise LstmvizError(f"line {number} has more than {MAX_FIELDS} fields", source=source)
        return number, text

    while True:
        chunk = handle.read(READ_CHUNK)
        if not chunk:
            if pending:
                yield finish(pending)
            return
        parts = (pending + chunk).splitlines(keepends=True)
        # the last part may go on in the next chunk (no terminator yet, or a \r before \n)
        pending = b"" if parts[-1].endswith(b"\n") else parts.pop()
        if len(pending) > MAX_LINE_BYTES:
            number += len(parts)
            raise LstmvizError(f"line {number + 1} is longer than {MAX_LINE_BYTES} bytes (not a "
                               "table of numbers lstmviz reads)", source=source)
        for raw in parts:
            yield finish(raw)


def _parse_block(rows: list[tuple[int, str]], width: int | None, source: str) -> np.ndarray:
    try:
        # numpy's C parser is fast; on any problem we re-read slowly to say exactly where.
        data = np.loadtxt([text for _, text in rows], delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        data = None
    if data is None or (width is not None and data.shape[1] != width):
        _locate_csv_problem(rows, width, source)
        raise LstmvizError(f"lines {rows[0][0]}..{rows[-1][0]} could not be read as a table of numbers",
                           source=source)
    bad = ~np.isfinite(data)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raw = next(csv.reader([rows[row][1]]))[col].strip()
        raise LstmvizError(
            f"line {rows[row][0]}, column {col + 1}: {raw!r} is not a finite number", source=source
        )
    return data


def _locate_csv_problem(rows: list[tuple[int, str]], width: int | None, source: str) -> None:
    for line, text in rows:
        row = next(csv.reader([text]), [])
        if not row or all(not cell.strip() for cell in row):
            raise LstmvizError(f"line {line} is blank", source=source)
        if width is None:
            width = len(row)
        elif len(row) != width:
            raise LstmvizError(
                f"line {line} has {len(row)} columns, expected {width} (ragged rows)", source=source
            )
        for col, cell in enumerate(row):
            if not _is_number(cell.strip()):
                raise LstmvizError(
                    f"line {line}, column {col + 1}: {cell.strip()!r} is not a number", source=source
                )


def read_csv_sequence(path) -> np.ndarray:
    source = str(path)
    with reading(source):
        p = readable_file(path)
        with open(p, "rb") as handle:
            return _read_csv(handle, source)


def _read_csv(handle, source: str) -> np.ndarray:
    budget = Budget(source)
    blocks: list[np.ndarray] = []
    batch: list[tuple[int, str]] = []
    width = None
    seen_first = False
    blank_at = None

    def flush() -> None:
        nonlocal width
        block = _parse_block(batch, width, source)
        width = block.shape[1]
        budget.take(2 * block.nbytes, "the input")  # the blocks, then the joined array
        blocks.append(block)
        batch.clear()

    for number, text in _csv_lines(handle, source):
        if not text.strip():
            blank_at = blank_at or number
            continue
        if blank_at is not None:
            raise LstmvizError(f"line {blank_at} is blank", source=source)
        if not seen_first:
            seen_first = True
            first = next(csv.reader([text]), [])
            if not any(_is_number(cell) for cell in first):
                continue  # a header row
        batch.append((number, text))
        if len(batch) >= ROWS_PER_BLOCK:
            flush()
    if batch:
        flush()
    if not blocks:
        if seen_first:
            raise LstmvizError("has a header but no rows of numbers", source=source)
        raise LstmvizError("the file is empty", source=source)
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def read_npy_sequence(path) -> np.ndarray:
    source = str(path)
    with reading(source):
        readable_file(path)
        with open(path, "rb") as handle:
            return _read_npy(handle, source)


def _read_npy(handle, source: str) -> np.ndarray:
    if handle.read(4) == b"PK\x03\x04":  # an .npz archive under a .npy name, or a damaged one
        handle.seek(0)
        try:
            zipfile.ZipFile(handle).close()
        except (zipfile.BadZipFile, *NPY_ERRORS) as error:
            raise LstmvizError(f"not a .npy array (a damaged zip: {error})", source=source) from None
        raise LstmvizError("holds several arrays; a sequence is one .npy array", source=source)
    handle.seek(0)
    try:
        shape, fortran, dtype = read_header(handle, "the array", source, kinds="fiub")
    except LstmvizError as error:
        raise LstmvizError(f"cannot read the array: {error.problem}", source=source) from None
    if len(shape) not in (1, 2):
        raise LstmvizError(f"has shape {shape}, expected (T, m) or (T,)", source=source)
    if shape[0] == 0:
        raise LstmvizError("has no steps (T = 0)", source=source)
    if len(shape) == 2 and shape[1] == 0:
        raise LstmvizError(f"has shape {shape}: no columns (m = 0)", source=source)
    count = count_of(shape)
    check_budget(count * (dtype.itemsize + 8), "the input", source)  # as read, then as float64
    left = os.fstat(handle.fileno()).st_size - handle.tell()
    if count * dtype.itemsize > left:
        raise LstmvizError(f"is truncated: its header says {count * dtype.itemsize} bytes of data, "
                           f"the file holds {left}", source=source)
    data = read_body(handle, shape, fortran, dtype, "the array", source)
    if data.ndim == 1:
        data = data[:, None]
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
