"""Checks shared by the readers: does the path exist, is it a file, can it be read."""

from __future__ import annotations

import os
import struct
import tokenize
from pathlib import Path

from lstmviz.errors import LstmvizError


def readable_file(path) -> Path:
    p = Path(path)
    if not p.exists():
        raise LstmvizError("no such file", source=str(path))
    if p.is_dir():
        raise LstmvizError("is a folder, not a file", source=str(path))
    if not os.access(p, os.R_OK):
        raise LstmvizError("permission denied (cannot read it)", source=str(path))
    if p.stat().st_size == 0:
        raise LstmvizError("the file is empty", source=str(path))
    return p


def suffix_of(path) -> str:
    """'.weights.h5' and '.keras' style suffixes, lower case."""
    name = Path(path).name.lower()
    if name.endswith(".weights.h5"):
        return ".weights.h5"
    return Path(name).suffix


# What NumPy's .npy parser raises on a damaged or crafted file (the header is a Python
# literal, parsed with tokenize and ast; allow_pickle=False refusals are ValueErrors).
NPY_ERRORS = (ValueError, EOFError, OSError, SyntaxError, TypeError, struct.error, tokenize.TokenError)
