"""The .lstmviz document: a zip holding document.json and every array as .npy. No Qt.

    document.json      format, format_version, lstmviz version, saved_at; the model's origin
                       (path, SHA-256 of the file, name, preset); the input's origin and
                       column names; the view (step, selection, unit, units, options); the
                       what-if interventions ("whatif": a list of
                       lstmviz.core.analysis.whatif to_dict() forms; format version 2, written
                       only when there are some, so other documents stay version 1); and
                       one entry per cell (activations, direction, upstream layers, arrays)
    cells/K/NAME.npy   cell K's W_i .. b_o, p_i, p_f, p_o, h0, c0 (cell 0 is the one shown;
                       the others are the upstream layers of a stack, by index)
    input/xs.npy       the input sequence (T, m)
    state/h0.npy       the document's own initial state, when it overrides the model's
    state/c0.npy

Reading opens only these member names, each under a size cap, and never unpickles; a
member that is missing, too large, of the wrong type or shape is named in the error.
Writing is atomic (a temporary file, then a rename) and can report progress and be cancelled.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.lib.format as npformat

from lstmviz.core.params import PEEPHOLES, WEIGHT_KEYS, LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.csv import ExportCancelled
from lstmviz.io.paths import NPY_ERRORS, readable_file
from lstmviz.io.zipsafe import ZIP_ERRORS

FORMAT = "lstmviz-document"
FORMAT_VERSION = 2  # the newest this reads; a document is written as version 1 unless it has
#                     what-if interventions (version 2), so older lstmviz still opens it
MAX_INTERVENTIONS = 1000
SUFFIX = ".lstmviz"
META_NAME = "document.json"

MAX_META_BYTES = 4 * 1024 * 1024
MAX_ARRAY_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_MEMBERS = 2000
MAX_CELLS = 64
CHUNK_BYTES = 8 * 1024 * 1024

ARRAY_KEYS = (*WEIGHT_KEYS, *PEEPHOLES, "h0", "c0")
_CELL_MEMBER = re.compile(r"^cells/(\d{1,3})/(W_[ifgo]|U_[ifgo]|b_[ifgo]|p_[ifo]|h0|c0)\.npy$")
_OTHER_MEMBERS = ("input/xs.npy", "state/h0.npy", "state/c0.npy")


@dataclass
class DocumentState:
    """Everything a .lstmviz file holds (lstmviz.document.state converts it to the Document's
    records and back)."""

    params: LSTMParams
    xs: np.ndarray
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    input_names: tuple[str, ...] = ()
    title: str = ""
    model_path: str | None = None
    model_sha256: str | None = None
    input_path: str | None = None
    preset: str | None = None
    step: int = 0
    selection: str = "f"
    unit: int = 0
    units: tuple[int, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    interventions: tuple = ()  # what-if (lstmviz.core.analysis.whatif ClampGate, ZeroUnit, ...)
    meta: dict[str, Any] = field(default_factory=dict)  # document.json as read (or extra to write)


# The Document and its records (lstmviz.document) convert to and from DocumentState in
# lstmviz.document.state (to_file_state / from_file_state): io knows nothing of the layer above.


def _json_options(options: dict) -> dict:
    out = {}
    for key, value in options.items():
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            continue
        out[str(key)] = value
    return out


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- write -------------------------------------------------------------------------------------
def _cells(params: LSTMParams) -> list[LSTMParams]:
    """The cell shown first, then every upstream cell (depth first), without repeats."""
    cells: list[LSTMParams] = []

    def visit(cell: LSTMParams) -> None:
        if any(cell is c for c in cells):
            return
        cells.append(cell)
        for directions in cell.upstream:
            for upstream in directions:
                visit(upstream)

    visit(params)
    if len(cells) > MAX_CELLS:
        raise LstmvizError(f"the model has {len(cells)} cells, more than {MAX_CELLS} a document holds")
    return cells


def _cell_meta(cell: LSTMParams, cells: list[LSTMParams]) -> dict:
    index = {id(c): k for k, c in enumerate(cells)}
    return {
        "name": cell.name,
        "source": cell.source,
        "recurrent_activation": cell.recurrent_activation,
        "cell_activation": cell.cell_activation,
        "reverse": bool(cell.reverse),
        "notes": list(cell.notes),
        "n": cell.n,
        "m": cell.m,
        "arrays": sorted(cell.arrays()),
        "upstream": [[index[id(c)] for c in directions] for directions in cell.upstream],
    }


def document_meta(state: DocumentState, cells: list[LSTMParams]) -> dict:
    from lstmviz import __version__

    model_path = state.model_path
    sha = state.model_sha256
    if sha is None and model_path and Path(model_path).is_file():
        try:
            sha = file_sha256(model_path)
        except OSError:
            sha = None
    meta = {
        "format": FORMAT,
        "format_version": 2 if state.interventions else 1,
        "lstmviz_version": __version__,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "title": state.title,
        "model": {
            "path": model_path,
            "sha256": sha,
            "name": state.params.name,
            "preset": state.preset,
            "n": state.params.n,
            "m": state.params.input_size,
        },
        "input": {
            "path": state.input_path,
            "names": list(state.input_names),
            "T": int(state.xs.shape[0]),
            "m": int(state.xs.shape[1]),
        },
        "initial_state": {"h0": state.h0 is not None, "c0": state.c0 is not None},
        "view": {
            "step": int(state.step),
            "selection": state.selection,
            "unit": int(state.unit),
            "units": [int(k) for k in state.units],
            "options": _json_options(state.options),
        },
        "cells": [_cell_meta(cell, cells) for cell in cells],
    }
    if state.interventions:
        from lstmviz.core.analysis.whatif import interventions_to_list

        meta["whatif"] = {"interventions": interventions_to_list(state.interventions)}
    for key, value in state.meta.items():
        meta.setdefault(key, value)
    return meta


def _members(state: DocumentState, cells: list[LSTMParams]) -> list[tuple[str, np.ndarray]]:
    members = []
    for k, cell in enumerate(cells):
        for key, array in sorted(cell.arrays().items()):
            members.append((f"cells/{k}/{key}.npy", array))
    members.append(("input/xs.npy", state.xs))
    if state.h0 is not None:
        members.append(("state/h0.npy", state.h0))
    if state.c0 is not None:
        members.append(("state/c0.npy", state.c0))
    return members


def write_document(state: DocumentState, path, progress: Callable[[float], bool] | None = None) -> None:
    """Write atomically; progress(fraction) returning False cancels (raises ExportCancelled)
    and leaves any earlier file at `path` untouched."""
    cells = _cells(state.params)
    meta = json.dumps(document_meta(state, cells), indent=1, allow_nan=False)
    members = _members(state, cells)
    total = sum(a.nbytes for _, a in members) + len(meta) or 1
    done = len(meta)

    def tick() -> None:
        if progress is not None and progress(min(done / total, 1.0)) is False:
            raise ExportCancelled()

    with atomic_write(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.writestr(META_NAME, meta)
            tick()
            for name, array in members:
                array = np.ascontiguousarray(array, dtype=np.float64)
                with zf.open(name, "w", force_zip64=array.nbytes > 1 << 30) as out:
                    npformat.write_array_header_2_0(out, npformat.header_data_from_array_1_0(array))
                    flat = array.reshape(-1)
                    step = max(1, CHUNK_BYTES // 8)
                    for lo in range(0, flat.size, step):
                        out.write(flat[lo : lo + step].tobytes())
                        done += min(step, flat.size - lo) * 8
                        tick()
                if flat.size == 0:
                    tick()


# -- read --------------------------------------------------------------------------------------
def _fail(path, message: str) -> LstmvizError:
    return LstmvizError(message, source=str(path))


def _read_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path) -> np.ndarray:
    name = info.filename
    if info.file_size > MAX_ARRAY_BYTES:
        raise _fail(path, f"{name} is {info.file_size} bytes, more than the {MAX_ARRAY_BYTES} allowed")
    try:
        with zf.open(info) as stream:
            version = npformat.read_magic(stream)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(stream, max_header_size=10000)
            elif version == (2, 0):
                shape, fortran, dtype = npformat.read_array_header_2_0(stream, max_header_size=10000)
            else:
                raise _fail(path, f"{name}: unsupported .npy version {version}")
            if dtype.hasobject or dtype.kind not in "fiu":
                raise _fail(path, f"{name} has dtype {dtype}, expected numbers")
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if count * dtype.itemsize > MAX_ARRAY_BYTES:
                raise _fail(path, f"{name} declares {count * dtype.itemsize} bytes, more than allowed")
            if count * dtype.itemsize > info.file_size:
                raise _fail(path, f"{name} is truncated (shape {shape} does not fit in the member)")
            data = bytearray(count * dtype.itemsize)
            view = memoryview(data)
            pos = 0
            while pos < len(data):
                chunk = stream.read(min(CHUNK_BYTES, len(data) - pos))
                if not chunk:
                    raise _fail(path, f"{name} is truncated")
                view[pos : pos + len(chunk)] = chunk
                pos += len(chunk)
    except zipfile.BadZipFile as error:
        raise _fail(path, f"{name} is damaged ({error})") from None
    except (ValueError, EOFError) as error:
        raise _fail(path, f"{name} is not a readable .npy array ({error})") from None
    array = np.frombuffer(data, dtype=dtype, count=count)
    array = array.reshape(shape, order="F" if fortran else "C")
    return np.array(array, dtype=np.float64, order="C")


def _meta_field(meta: dict, path, *keys, kind=None, default=None):
    value: Any = meta
    for key in keys:
        if not isinstance(value, dict):
            value = None
            break
        value = value.get(key)
    if value is None:
        return default
    if kind is not None and not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        expected = getattr(kind, "__name__", kind)
        raise _fail(path, f"{META_NAME}: {'.'.join(keys)} is {value!r}, expected {expected}")
    return value


def read_document(path) -> DocumentState:
    """Read a .lstmviz file (only the expected members, each under a size cap)."""
    try:
        return _read_document(path)
    except LstmvizError:
        raise
    except (*ZIP_ERRORS, *NPY_ERRORS) as error:  # a damaged archive: zlib, zipfile, .npy parser
        raise _fail(path, f"is damaged ({type(error).__name__}: {error})") from None


def _read_document(path) -> DocumentState:
    source = str(path)
    readable_file(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise _fail(source, "is not a .lstmviz document (not a zip archive)") from None
    except OSError as error:
        raise _fail(source, f"cannot be read ({error.strerror or error})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _fail(source, f"has {len(infos)} members, more than the {MAX_MEMBERS} allowed")
        by_name: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            expected = info.filename == META_NAME or info.filename in _OTHER_MEMBERS or bool(
                _CELL_MEMBER.match(info.filename))
            if not expected:
                continue  # never read: not ours
            if info.filename in by_name:
                raise _fail(source, f"holds {info.filename} twice")
            if info.flag_bits & 0x1:
                raise _fail(source, f"{info.filename} is encrypted")
            by_name[info.filename] = info
        if sum(i.file_size for i in by_name.values()) > MAX_TOTAL_BYTES:
            raise _fail(source, f"holds more than {MAX_TOTAL_BYTES} bytes of arrays")
        meta_info = by_name.get(META_NAME)
        if meta_info is None:
            raise _fail(source, f"is not a .lstmviz document (no {META_NAME})")
        if meta_info.file_size > MAX_META_BYTES:
            raise _fail(source, f"{META_NAME} is {meta_info.file_size} bytes, more than {MAX_META_BYTES}")
        try:
            with zf.open(meta_info) as stream:
                meta = json.loads(stream.read(MAX_META_BYTES + 1).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _fail(source, f"{META_NAME} is not valid JSON ({error})") from None
        except zipfile.BadZipFile as error:
            raise _fail(source, f"{META_NAME} is damaged ({error})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise _fail(source, f"{META_NAME} does not describe a {FORMAT}")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _fail(source, f"{META_NAME}: format_version is {version!r}, expected a number")
        if version > FORMAT_VERSION:
            raise _fail(source, f"was written by a newer lstmviz (format version {version}; "
                                f"this one reads up to {FORMAT_VERSION})")

        def array(name: str, required: bool = True) -> np.ndarray | None:
            info = by_name.get(name)
            if info is None:
                if required:
                    raise _fail(source, f"{name} is missing")
                return None
            return _read_array(zf, info, source)

        cells_meta = _meta_field(meta, source, "cells", kind=list)
        if not cells_meta:
            raise _fail(source, f"{META_NAME}: no cells listed")
        if len(cells_meta) > MAX_CELLS:
            raise _fail(source, f"{META_NAME}: {len(cells_meta)} cells, more than {MAX_CELLS}")
        params = _read_cells(cells_meta, array, source)
        xs = array("input/xs.npy")
        if xs.ndim != 2 or xs.shape[0] == 0:
            raise _fail(source, f"input/xs.npy has shape {xs.shape}, expected (T, m) with T >= 1")
        if xs.shape[1] != params.input_size:
            raise _fail(source, f"input/xs.npy has {xs.shape[1]} columns but the model expects "
                                f"m = {params.input_size}")
        if not np.isfinite(xs).all():
            row, col = (int(v) for v in np.argwhere(~np.isfinite(xs))[0])
            raise _fail(source, f"input/xs.npy row {row + 1}, column {col + 1} is not finite")
        h0, c0 = array("state/h0.npy", False), array("state/c0.npy", False)
        for name, value in (("state/h0.npy", h0), ("state/c0.npy", c0)):
            if value is not None and (value.shape != (params.n,) or not np.isfinite(value).all()):
                raise _fail(source, f"{name} has shape {value.shape} or non-finite values, "
                                    f"expected {params.n} finite values")

    interventions = _read_interventions(meta, source, params.n, xs.shape[0])
    names = _meta_field(meta, source, "input", "names", kind=list, default=[])
    units = _meta_field(meta, source, "view", "units", kind=list, default=[])
    options = _meta_field(meta, source, "view", "options", kind=dict, default={})
    return DocumentState(
        params=params, xs=xs, h0=h0, c0=c0,
        input_names=tuple(str(v) for v in names[: xs.shape[1]]),
        title=str(_meta_field(meta, source, "title", kind=str, default="")),
        model_path=_meta_field(meta, source, "model", "path", kind=str),
        model_sha256=_meta_field(meta, source, "model", "sha256", kind=str),
        input_path=_meta_field(meta, source, "input", "path", kind=str),
        preset=_meta_field(meta, source, "model", "preset", kind=str),
        step=min(max(int(_meta_field(meta, source, "view", "step", kind=int, default=0)), 0),
                 xs.shape[0] - 1),
        selection=str(_meta_field(meta, source, "view", "selection", kind=str, default="f")),
        unit=int(_meta_field(meta, source, "view", "unit", kind=int, default=0)),
        units=tuple(int(k) for k in units if isinstance(k, int) and 0 <= k < params.n),
        options=options,
        interventions=interventions,
        meta=meta,
    )


def _read_interventions(meta: dict, source: str, n: int, T: int) -> tuple:
    """The what-if interventions of document.json (none in documents written before them)."""
    items = _meta_field(meta, source, "whatif", "interventions", kind=list, default=[])
    if not items:
        return ()
    if len(items) > MAX_INTERVENTIONS:
        raise _fail(source, f"{META_NAME}: {len(items)} interventions, more than {MAX_INTERVENTIONS}")
    from lstmviz.core.analysis.whatif import interventions_from_list

    try:
        interventions = interventions_from_list(items)
        for iv in interventions:
            iv.validate(n, T)
    except LstmvizError as error:
        raise _fail(source, f"{META_NAME}: whatif: {error.problem}") from None
    except (TypeError, ValueError) as error:
        raise _fail(source, f"{META_NAME}: whatif: {error}") from None
    return interventions


def _read_cells(cells_meta: list, array, source: str) -> LSTMParams:
    built: dict[int, LSTMParams] = {}

    def build(k: int, depth: int) -> LSTMParams:
        if k in built:
            return built[k]
        if depth > MAX_CELLS or not 0 <= k < len(cells_meta):
            raise _fail(source, f"{META_NAME}: cell {k} is not listed (or refers to itself)")
        info = cells_meta[k]
        if not isinstance(info, dict):
            raise _fail(source, f"{META_NAME}: cells[{k}] is not an object")
        upstream_meta = info.get("upstream") or []
        if not isinstance(upstream_meta, list) or not all(
            isinstance(d, list) and all(isinstance(i, int) for i in d) for d in upstream_meta
        ):
            raise _fail(source, f"{META_NAME}: cells[{k}].upstream is not a list of lists of numbers")
        upstream = tuple(tuple(build(i, depth + 1) for i in d) for d in upstream_meta)
        arrays = {}
        for key in ARRAY_KEYS:
            value = array(f"cells/{k}/{key}.npy", required=key in WEIGHT_KEYS)
            if value is not None:
                arrays[key] = value
        kwargs = {}
        for key in ("name", "source", "recurrent_activation", "cell_activation"):
            if isinstance(info.get(key), str):
                kwargs[key] = info[key]
        notes = info.get("notes") or []
        try:
            cell = LSTMParams(
                **arrays, **kwargs, upstream=upstream, reverse=bool(info.get("reverse", False)),
                notes=tuple(str(n) for n in notes) if isinstance(notes, list) else (),
            )
        except LstmvizError as error:
            raise _fail(source, f"cells/{k}: {error.problem}") from None
        built[k] = cell
        return cell

    return build(0, 0)
