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

from lstmviz.core.cell import sequence_length
from lstmviz.core.params import PEEPHOLES, PROJECTION, WEIGHT_KEYS, LSTMParams
from lstmviz.errors import LstmvizError, reading
from lstmviz.io.atomic import atomic_write
from lstmviz.io.budget import check as check_budget
from lstmviz.io.csv import ExportCancelled
from lstmviz.io.npyread import count_of, read_body, read_header
from lstmviz.io.paths import NPY_ERRORS, readable_file
from lstmviz.io.view_options import OPTION_RULES, check_option, is_int, is_number
from lstmviz.io.zipsafe import ZIP_ERRORS, SafeZip, is_zip

FORMAT = "lstmviz-document"
FORMAT_VERSION = 2  # the newest this reads; a document is written as version 1 unless it has
#                     what-if interventions (version 2), so older lstmviz still opens it
MAX_INTERVENTIONS = 1000
SUFFIX = ".lstmviz"
META_NAME = "document.json"

MAX_META_BYTES = 4 * 1024 * 1024
MAX_ARRAY_BYTES = 2 * 1024**3
MAX_TOTAL_BYTES = 8 * 1024**3
MAX_CELLS = 64
CHUNK_BYTES = 8 * 1024 * 1024

ARRAY_KEYS = (*WEIGHT_KEYS, *PEEPHOLES, "h0", "c0", PROJECTION)
_CELL_MEMBER = re.compile(r"^cells/(\d{1,3})/(W_[ifgo]|U_[ifgo]|b_[ifgo]|p_[ifo]|h0|c0|W_hr)\.npy$")
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
        "mask_value": cell.mask_value,
        "clip": cell.clip,
        "input_forget": bool(cell.input_forget),
        "sequence_length": cell.sequence_length,
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


def _read_array(archive: SafeZip, name: str, path) -> np.ndarray:
    """One member's array: header first, shape against its bytes and the budget, then data."""
    with archive.open(name, max_bytes=MAX_ARRAY_BYTES) as stream:
        shape, fortran, dtype = read_header(stream, name, str(path))
        nbytes = count_of(shape) * dtype.itemsize
        if nbytes > archive.size(name) - stream.position:
            raise _fail(path, f"{name} is truncated (shape {shape} does not fit in the member)")
        check_budget(count_of(shape) * (dtype.itemsize + 8), name, str(path))  # as read, as float64
        array = read_body(stream, shape, fortran, dtype, name, str(path))
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
    """Read a .lstmviz file (only the expected members, under the zip caps), check every
    field (validate_document) and only then return it."""
    try:
        with reading(path):
            return _read_document(path)
    except LstmvizError:
        raise
    except (*ZIP_ERRORS, *NPY_ERRORS, OverflowError, RecursionError) as error:  # damage the
        # parsers met: zlib, zipfile, the .npy header, JSON nested too deeply
        raise _fail(path, f"is damaged ({type(error).__name__}: {error})") from None


def _expected_member(name: str) -> bool:
    return name == META_NAME or name in _OTHER_MEMBERS or bool(_CELL_MEMBER.match(name))


def _read_document(path) -> DocumentState:
    source = str(path)
    readable_file(path)
    if not is_zip(path):
        raise _fail(source, "is not a .lstmviz document (not a zip archive)")
    cap = max(MAX_ARRAY_BYTES, MAX_META_BYTES)
    with SafeZip(path, kind=".lstmviz document", allowed=_expected_member, max_member=cap) as zf:
        ours = [name for name in zf.names() if _expected_member(name)]
        if sum(zf.size(name) for name in ours) > MAX_TOTAL_BYTES:
            raise _fail(source, f"holds more than {MAX_TOTAL_BYTES} bytes of arrays")
        if not zf.has(META_NAME):
            raise _fail(source, f"is not a .lstmviz document (no {META_NAME})")
        if zf.size(META_NAME) > MAX_META_BYTES:
            raise _fail(source, f"{META_NAME} is {zf.size(META_NAME)} bytes, more than {MAX_META_BYTES}")
        try:
            meta = json.loads(zf.read(META_NAME, max_bytes=MAX_META_BYTES).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _fail(source, f"{META_NAME} is not valid JSON ({error})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise _fail(source, f"{META_NAME} does not describe a {FORMAT}")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise _fail(source, f"{META_NAME}: format_version is {version!r}, expected a number")
        if version > FORMAT_VERSION:
            raise _fail(source, f"was written by a newer lstmviz (format version {version}; "
                                f"this one reads up to {FORMAT_VERSION})")

        def array(name: str, required: bool = True) -> np.ndarray | None:
            if not zf.has(name):
                if required:
                    raise _fail(source, f"{name} is missing")
                return None
            return _read_array(zf, name, source)

        cells_meta = _meta_field(meta, source, "cells", kind=list)
        if not cells_meta:
            raise _fail(source, f"{META_NAME}: no cells listed")
        if len(cells_meta) > MAX_CELLS:
            raise _fail(source, f"{META_NAME}: {len(cells_meta)} cells, more than {MAX_CELLS}")
        params = _read_cells(cells_meta, array, source)
        xs = array("input/xs.npy")
        h0, c0 = array("state/h0.npy", False), array("state/c0.npy", False)

    validate_document(meta, source, params=params, xs=xs, h0=h0, c0=c0)
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
        step=int(_meta_field(meta, source, "view", "step", kind=int, default=0)),
        selection=str(_meta_field(meta, source, "view", "selection", kind=str, default="f")),
        unit=int(_meta_field(meta, source, "view", "unit", kind=int, default=0)),
        units=tuple(int(k) for k in units),
        options={key: value for key, value in options.items() if key in OPTION_RULES},
        interventions=interventions,
        meta=meta,
    )


# -- complete validation -------------------------------------------------------------------------
MAX_TITLE = 10_000


def _check_intervention_numbers(item, where: str) -> str | None:
    """The JSON form of one what-if intervention, before it is built: every number finite
    and whole where it must be (an Infinity among the units is an OverflowError later)."""
    if not isinstance(item, dict):
        return f"{where} is not an object"
    units = item.get("units")
    if units is not None:
        if is_int(units):
            units = [units]
        if not isinstance(units, list) or not units or not all(is_int(k) and k >= 0 for k in units):
            return f"{where}.units is {units!r}, expected a list of unit numbers"
    steps = item.get("steps")
    if steps is not None and not (isinstance(steps, list) and len(steps) == 2
                                  and all(is_int(t) and t >= 0 for t in steps)):
        return f"{where}.steps is {steps!r}, expected [start, stop] step numbers"
    for key in ("value", "delta"):
        if key in item and not is_number(item[key]):
            return f"{where}.{key} is {item[key]!r}, expected a finite number"
    if item.get("kind") == "clamp" and is_number(item.get("value")) and not -1 <= item["value"] <= 1:
        return f"{where}.value is {item['value']!r}, expected -1..1 (a gate's value)"
    if item.get("kind") == "bias" and is_number(item.get("delta")) and not -1e6 <= item["delta"] <= 1e6:
        return f"{where}.delta is {item['delta']!r}, out of range"
    return None


def validate_document(meta: dict, source: str, *, params: LSTMParams, xs: np.ndarray,
                      h0: np.ndarray | None = None, c0: np.ndarray | None = None) -> None:
    """Check a document (or autosave) completely before anything is taken from it: the cell
    (n >= 1, m >= 1), every array's shape, dtype and finiteness, and every field of
    document.json the window uses -- step and unit in range, the selection a diagram part,
    the units a list of unit numbers in range, every option of an allowed type and value,
    the what-if numbers finite and in range. Raises one LstmvizError naming the file and
    the field; returns nothing."""

    def fail(message: str) -> LstmvizError:
        return _fail(source, message)

    n, m = params.n, params.input_size
    if n < 1 or params.m < 1:
        raise fail(f"cells/0: the cell has n = {n} units and m = {params.m} inputs; both must be at least 1")
    if not isinstance(xs, np.ndarray) or xs.dtype != np.float64 or xs.ndim != 2 or xs.shape[0] == 0:
        raise fail(f"input/xs.npy has shape {getattr(xs, 'shape', None)}, expected (T, m) with T >= 1")
    if xs.shape[1] != m:
        raise fail(f"input/xs.npy has {xs.shape[1]} columns but the model expects m = {m}")
    if not np.isfinite(xs).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(xs))[0])
        raise fail(f"input/xs.npy row {row + 1}, column {col + 1} is not finite")
    L, _ = sequence_length(params)
    if L is not None and xs.shape[0] > L:  # lstmviz writes the input already cut to L rows
        raise fail(f"input/xs.npy has {xs.shape[0]} rows but the model's sequence_length is {L}")
    for name, value in (("state/h0.npy", h0), ("state/c0.npy", c0)):
        if value is not None and (value.shape != (n,) or not np.isfinite(value).all()):
            raise fail(f"{name} has shape {value.shape} or non-finite values, expected {n} finite values")
    T = xs.shape[0]

    def field(*keys, default=None):
        value: Any = meta
        for depth, key in enumerate(keys):
            if value is None:
                break
            if not isinstance(value, dict):
                raise fail(f"{META_NAME}: {'.'.join(keys[:depth])} is not an object")
            value = value.get(key, None)
        return default if value is None else value

    title = field("title", default="")
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        raise fail(f"{META_NAME}: title is not a text of at most {MAX_TITLE} characters")
    for keys in (("model", "path"), ("model", "name"), ("model", "preset"), ("input", "path")):
        value = field(*keys)
        if value is not None and not isinstance(value, str):
            raise fail(f"{META_NAME}: {'.'.join(keys)} is {value!r}, expected a text")
    sha = field("model", "sha256")
    if sha is not None and not (isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha)):
        raise fail(f"{META_NAME}: model.sha256 is {sha!r}, expected 64 hexadecimal digits")
    names = field("input", "names", default=[])
    if not isinstance(names, list) or not all(isinstance(v, str) for v in names):
        raise fail(f"{META_NAME}: input.names is not a list of texts")

    step = field("view", "step", default=0)
    if not is_int(step) or not 0 <= step < T:
        raise fail(f"{META_NAME}: view.step is {step!r}, expected a step in 0..{T - 1}")
    from lstmviz.components import COMPONENT_IDS

    selection = field("view", "selection", default="f")
    if selection not in COMPONENT_IDS:
        raise fail(f"{META_NAME}: view.selection is {selection!r}, expected one of "
                   f"{', '.join(COMPONENT_IDS)}")
    unit = field("view", "unit", default=0)
    if not is_int(unit) or not 0 <= unit < n:
        raise fail(f"{META_NAME}: view.unit is {unit!r}, expected a unit in 0..{n - 1}")
    units = field("view", "units", default=[])
    if not isinstance(units, list) or not all(is_int(k) and 0 <= k < n for k in units):
        raise fail(f"{META_NAME}: view.units is {units!r}, expected a list of units in 0..{n - 1}")
    options = field("view", "options", default={})
    if not isinstance(options, dict):
        raise fail(f"{META_NAME}: view.options is {options!r}, expected an object")
    for key, value in options.items():
        if key in OPTION_RULES:
            problem = check_option(key, value, f"view.options.{key}")
            if problem:
                raise fail(f"{META_NAME}: {problem}")

    items = field("whatif", "interventions", default=[])
    if not isinstance(items, list):
        raise fail(f"{META_NAME}: whatif.interventions is {items!r}, expected list")
    if len(items) > MAX_INTERVENTIONS:
        raise fail(f"{META_NAME}: {len(items)} interventions, more than {MAX_INTERVENTIONS}")
    for index, item in enumerate(items):
        problem = _check_intervention_numbers(item, f"whatif.interventions[{index}]")
        if problem:
            raise fail(f"{META_NAME}: {problem}")


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
    except (TypeError, ValueError, OverflowError) as error:
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
        mask_value = info.get("mask_value")
        if mask_value is not None:
            if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)) \
                    or not np.isfinite(mask_value):
                raise _fail(source, f"{META_NAME}: cells[{k}].mask_value is not a finite number")
            kwargs["mask_value"] = float(mask_value)
        clip = info.get("clip")
        if clip is not None:
            if isinstance(clip, bool) or not isinstance(clip, (int, float)) or not np.isfinite(clip):
                raise _fail(source, f"{META_NAME}: cells[{k}].clip is not a finite number")
            kwargs["clip"] = float(clip)
        input_forget = info.get("input_forget", False)
        if not isinstance(input_forget, bool):
            raise _fail(source, f"{META_NAME}: cells[{k}].input_forget is not true or false")
        kwargs["input_forget"] = input_forget
        length = info.get("sequence_length")
        if length is not None:
            if isinstance(length, bool) or not isinstance(length, int) or length < 1:
                raise _fail(source, f"{META_NAME}: cells[{k}].sequence_length is not a number of rows "
                                    "(a whole number, at least 1)")
            kwargs["sequence_length"] = length
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
