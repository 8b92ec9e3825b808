"""The memory budget of one read: every reader asks before it allocates.

A small hostile file can describe gigabytes (a tensor with huge shape on a tiny storage, a
zip member that inflates 1000-fold, a .npy header claiming (1e9, 1e9)). Readers compute the
bytes a file will need from its headers and call `check` before touching the data, so such a
file is refused in well under a second, naming the file, the part and the number.

The limit is `--max-memory` on the command line (it sets LSTMVIZ_MAX_MEMORY for the readers
and their child processes), by default a quarter of physical memory, at most 8 GB.
"""

from __future__ import annotations

import os

from lstmviz.errors import LstmvizError, current_source

ENV = "LSTMVIZ_MAX_MEMORY"
DEFAULT_FRACTION = 0.25
DEFAULT_CAP = 8 << 30
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40}


def parse_size(text: str) -> int:
    """'2G', '512MB', '1.5g', '1000000' -> bytes; an error names what was wrong."""
    value = str(text).strip().lower().replace(" ", "")
    number = value.rstrip("kmgtb")
    unit = value[len(number):]
    try:
        amount = float(number)
    except ValueError:
        amount = float("nan")
    if unit not in _UNITS or not amount > 0 or amount == float("inf"):
        raise LstmvizError(f"memory size {text!r} is not a positive size such as 2G or 512M")
    return int(amount * _UNITS[unit])


def physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def memory_limit() -> int:
    """Bytes one read may allocate: LSTMVIZ_MAX_MEMORY, or the default."""
    configured = os.environ.get(ENV)
    if configured:
        try:
            return parse_size(configured)
        except LstmvizError:
            pass
    return int(min(physical_memory() * DEFAULT_FRACTION, DEFAULT_CAP))


def format_bytes(nbytes: float) -> str:
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check(nbytes: float, what: str, source: str | None = None, limit: int | None = None) -> None:
    """Refuse before allocating: 'needs 14.7 GB for weight_ih_l0, more than the 2.0 GB limit'."""
    limit = memory_limit() if limit is None else limit
    if nbytes > limit:
        source = source or current_source()
        raise LstmvizError(
            f"needs {format_bytes(nbytes)} for {what}, more than the {format_bytes(limit)} limit "
            "(--max-memory)",
            source=source,
        )


class Budget:
    """A running total for one read: each part is added, and the sum must stay in the limit."""

    def __init__(self, source: str | None = None, limit: int | None = None):
        self.source = source
        self.limit = memory_limit() if limit is None else limit
        self.used = 0

    def take(self, nbytes: float, what: str) -> None:
        check(self.used + nbytes, what, self.source, self.limit)
        self.used += int(nbytes)
