"""lstmviz open [FILE]: the main window, on a model, a sequence or a preset.

`lstmviz` with no arguments runs this on the memory-cell preset. The helpers here build
and change a Document without Qt (the screenshot command and the window's menus use them).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from lstmviz.components import COMPONENT_IDS
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.errors import LstmvizError
from lstmviz.io.models import load_model
from lstmviz.io.paths import suffix_of
from lstmviz.io.sequences import SEQUENCE_SUFFIXES, load_sequence
from lstmviz.presets import DEFAULT_PRESET, PRESETS, Preset, load_preset

DEFAULT_T = 60  # steps of the input made up for a model opened without one
RANDOM_N = 4  # units of the cell made up for a sequence opened without a model


def add_window_args(parser: argparse.ArgumentParser, model: bool = False) -> None:
    """Options shared by `open` and `screenshot` that say what the window shows."""
    if model:
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--model", metavar="FILE", help="a model file (.npz, .pt, .safetensors, .keras, .onnx)"
        )
        source.add_argument(
            "--preset",
            choices=tuple(PRESETS),
            metavar="NAME",
            help=f"a built-in example: {', '.join(PRESETS)} (default {DEFAULT_PRESET})",
        )
    else:
        parser.add_argument(
            "--preset",
            choices=tuple(PRESETS),
            metavar="NAME",
            help=f"a built-in example: {', '.join(PRESETS)} (default {DEFAULT_PRESET})",
        )
    parser.add_argument("--input", metavar="FILE", help="the input sequence (.csv or .npy), T x m")
    parser.add_argument(
        "--layer", metavar="NAME", help="which LSTM layer of the model (see `lstmviz inspect`)"
    )
    parser.add_argument("--step", type=int, metavar="K", help="start at step K (0-based)")
    parser.add_argument(
        "--select", metavar="COMPONENT", help=f"the diagram part to select: {', '.join(COMPONENT_IDS)}"
    )
    parser.add_argument("--unit", type=int, metavar="K", help="the unit the inspector works through")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "open",
        help="open the window (the default command): the cell diagram, inspector and traces",
        description="Open the main window on a model or a sequence (or a preset; with no file, "
        f"the {DEFAULT_PRESET} preset).",
    )
    parser.add_argument(
        "file", nargs="?", metavar="FILE",
        help="a document saved by the window (.lstmviz), a model (.npz, .pt, ...) or an input "
             "sequence (.csv, .npy)",
    )
    add_window_args(parser)
    return parser


def check_display(environ=None, platform: str = sys.platform) -> None:
    """On Linux without a display Qt aborts the process (core dump); say so in one line."""
    env = os.environ if environ is None else environ
    if not platform.startswith("linux") or any(
        env.get(key) for key in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    ):
        return
    raise LstmvizError(
        "no display to open the window on (DISPLAY is not set): run it on a desktop or under "
        "`xvfb-run -a lstmviz`, or use a command that needs no window (demo, trace, analyze, "
        "inspect, screenshot)"
    )


def run(args) -> int:
    document = document_from_args(args)
    check_display()
    from lstmviz.gui.app import run_window

    return run_window(document)


# -- building a Document (no Qt) -----------------------------------------------------------------
def is_sequence_path(path) -> bool:
    return suffix_of(path) in SEQUENCE_SUFFIXES


def is_document_path(path) -> bool:
    return str(path).lower().endswith(".lstmviz")


def open_document_file(path) -> Document:
    """A Document on a saved .lstmviz file: its model, input, view and what-if, unmodified."""
    from lstmviz.io.document_file import read_document, to_document

    doc = to_document(read_document(path))
    doc.set_sources(document_path=str(Path(path).resolve()))
    doc.mark_saved()
    return doc


def default_input(m: int, T: int = DEFAULT_T) -> np.ndarray:
    """Something to run a model on when no input was given: a sine wave per column."""
    t = np.arange(T, dtype=np.float64)[:, None]
    j = np.arange(m, dtype=np.float64)[None, :]
    return np.sin(2.0 * np.pi * t / (16.0 + 6.0 * j) + 0.7 * j)


def random_cell_for(m: int, n: int = RANDOM_N) -> LSTMParams:
    params = LSTMParams.random(n, m, seed=0)
    params.source = "random"
    return params


def document_from_args(args) -> Document:
    get = lambda name: getattr(args, name, None)  # noqa: E731
    return build_document(
        file=get("file"),
        model=get("model"),
        input=get("input"),
        preset=get("preset"),
        layer=get("layer"),
        step=get("step"),
        select=get("select"),
        unit=get("unit"),
    )


def build_document(
    file=None, model=None, input=None, preset=None, layer=None, step=None, select=None, unit=None
) -> Document:
    if file is not None and is_document_path(file):
        others = [f"--{name} {value}" for name, value in (("model", model), ("input", input),
                                                            ("preset", preset), ("layer", layer))
                  if value is not None]
        if others:
            raise LstmvizError(f"a document holds its model and input: open it without {', '.join(others)}",
                               source=str(file))
        doc = open_document_file(file)
        apply_view_args(doc, step=step, select=select, unit=unit)
        return doc
    if file is not None:
        if is_sequence_path(file):
            if input is not None:
                raise LstmvizError(f"two input sequences given: {file} and --input {input}")
            input = file
        else:
            if model is not None:
                raise LstmvizError(f"two models given: {file} and --model {model}")
            model = file
    if model is not None and preset is not None:
        raise LstmvizError("give a model file or --preset, not both")

    if model is not None:
        params = load_model(model, layer=layer)
        xs = load_sequence(input) if input is not None else default_input(params.input_size)
        _check_columns(xs, params.input_size, input, model)
        doc = Document(params, xs, title=Path(model).name + (f" ({params.name})" if params.name else ""))
        doc.set_sources(model_path=model, input_path=input)
    elif input is not None and preset is None:
        xs = load_sequence(input)
        doc = Document(
            random_cell_for(xs.shape[1]),
            xs,
            title=f"Random cell (n = {RANDOM_N}, seed 0) on {Path(input).name}",
        )
        doc.set_sources(input_path=input)
    else:
        chosen = load_preset(preset or DEFAULT_PRESET)
        doc = Document.from_preset(chosen)
        if input is not None:
            xs = load_sequence(input)
            _check_columns(xs, chosen.params.input_size, input, f"the {chosen.name} preset")
            doc.set_input(xs)
            doc.set_sources(input_path=input)
    apply_view_args(doc, step=step, select=select, unit=unit)
    doc.mark_saved()
    return doc


def _check_columns(xs: np.ndarray, m: int, input_path, model_name) -> None:
    if xs.shape[1] != m:
        raise LstmvizError(
            f"has {xs.shape[1]} columns but {model_name} expects m = {m} inputs per step",
            source=str(input_path),
        )


def apply_view_args(doc: Document, step=None, select=None, unit=None) -> None:
    if step is not None:
        if not 0 <= int(step) < doc.T:
            raise LstmvizError(f"--step {step} is not in 0..{doc.T - 1} (the sequence has {doc.T} steps)")
        doc.set_step(int(step))
    if select is not None:
        if select not in COMPONENT_IDS:
            raise LstmvizError(f"--select {select!r} is not a component ({', '.join(COMPONENT_IDS)})")
        doc.set_selection(select)
    if unit is not None:
        doc.set_unit(int(unit))


def apply_preset(doc: Document, preset: Preset) -> None:
    """Switch an open Document to a preset (the Presets menu)."""
    doc.set_model_and_input(preset.params, preset.xs)
    doc.input_names = tuple(preset.input_names)
    doc.preset_name = preset.name
    # A preset is a fresh, untitled document: no file behind it and nothing to save yet.
    doc.model_path = doc.input_path = doc.document_path = doc.model_sha256 = None
    doc.set_sources(title=preset.title)
    doc.set_step(min(preset.step, doc.T - 1))
    doc.set_selection(preset.select)
    doc.set_unit(min(preset.unit, doc.n - 1))
    doc.mark_saved()


def open_path(doc: Document, path, layer=None) -> str:
    """Open a model or a sequence into the Document (File > Open); returns what happened."""
    name = Path(path).name
    if is_sequence_path(path):
        xs = load_sequence(path)
        if xs.shape[1] == doc.params.input_size:
            doc.set_input(xs)
            doc.set_sources(input_path=str(path))
            return f"Opened the sequence {name} ({xs.shape[0]} steps)."
        params = random_cell_for(xs.shape[1])
        doc.set_model_and_input(params, xs)
        doc.set_sources(input_path=str(path), title=f"Random cell (n = {RANDOM_N}, seed 0) on {name}")
        return (
            f"Opened the sequence {name}: it has m = {xs.shape[1]} columns, so it runs on a "
            f"random cell with n = {RANDOM_N} units."
        )
    params = load_model(path, layer=layer)
    if params.input_size == doc.params.input_size:
        doc.set_model_and_input(params)
        note = "on the current input"
    else:
        doc.set_model_and_input(params, default_input(params.input_size))
        note = f"on a made-up sine input (m = {params.input_size}); open a sequence to replace it"
    doc.set_sources(model_path=str(path), title=name + (f" ({params.name})" if params.name else ""))
    return f"Opened the model {name} (n = {params.n}, m = {params.m}) {note}."
