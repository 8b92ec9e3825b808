"""lstmviz open [FILE]: the main window, on a model, a sequence or a preset.

`lstmviz` with no arguments runs this on the memory-cell preset. Only argparse here: the
starting Document comes from lstmviz.document.opening (the same Openings the window's
controller uses).
"""

from __future__ import annotations

import argparse
import os
import sys

from lstmviz.components import COMPONENT_IDS
from lstmviz.errors import LstmvizError
from lstmviz.presets import DEFAULT_PRESET, PRESETS


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
    file = getattr(args, "file", None)
    if file is not None and _document_file(file) and not any(
            getattr(args, name, None) is not None for name in ("model", "input", "preset", "layer")):
        return _run_on_document(args, file)
    said: list[str] = []
    document = document_from_args(args, said=said)
    check_display()
    from lstmviz.document.opening import notes_line
    from lstmviz.gui.app import run_window

    # the window's status line says what the terminal was told, and the reader's notes
    cut = said[-1] if said else None
    message = " ".join(filter(None, (cut and cut + ".", notes_line(document.params, cut))))
    return run_window(document, message=message or None)


def _document_file(path) -> bool:
    from lstmviz.document.opening import file_kind

    return file_kind(path) == "document"


def _run_on_document(args, path) -> int:
    """A .lstmviz file: read and checked here (a damaged one is refused on the command line,
    0.3 s for 100 000 steps), then the window opens at once and runs the cell in the
    background with a progress dialog, as File > Open does: rerunning 100 000 steps takes
    seconds, and a window that appears only after them gives no sign of life meanwhile."""
    from lstmviz.document.opening import apply_view_args, initial_document
    from lstmviz.io.document_file import read_document

    state = read_document(path)

    class Sizes:  # --step and --select are checked against the file now, not in the window
        T = state.xs.shape[0]
        set_step = set_selection = set_unit = staticmethod(lambda *_args: None)

    apply_view_args(Sizes, step=args.step, select=args.select, unit=args.unit)
    check_display()
    from lstmviz.gui.app import run_window

    def then(window) -> None:
        controller = window.session.controller

        def landed(*_args) -> None:
            controller.opened.disconnect(landed)
            apply_view_args(window.document, step=args.step, select=args.select, unit=args.unit)

        controller.opened.connect(landed)
        controller.open(path, confirm=False)

    return run_window(initial_document(), then=then)


def build_document(**kwargs):
    """The starting Document from keyword arguments (file, model, input, preset, layer, step,
    select, unit): lstmviz.document.opening.initial_document, for the other commands."""
    from lstmviz.document.opening import initial_document

    kwargs.setdefault("report", _say)
    return initial_document(**kwargs)


def document_from_args(args, said: list[str] | None = None):
    """The starting Document, built by the Qt-free opening module from the arguments. What
    it reports (an ONNX sequence_lens cut) goes to stderr, and into `said` when given."""
    from lstmviz.document.opening import initial_document

    def report(line: str) -> None:
        _say(line)
        if said is not None:
            said.append(line)

    get = lambda name: getattr(args, name, None)  # noqa: E731
    return initial_document(file=get("file"), model=get("model"), input=get("input"), preset=get("preset"),
                            layer=get("layer"), step=get("step"), select=get("select"), unit=get("unit"),
                            report=report)


def _say(line: str) -> None:
    """A line about the opening (an ONNX sequence_lens cut), on stderr: stdout stays clean."""
    import sys

    from lstmviz.errors import sanitize

    print(sanitize(line, limit=None), file=sys.stderr)
