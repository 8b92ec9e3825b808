"""lstmviz animate: the window rendered offscreen step by step, saved as a GIF, an MP4 or PNGs.

lstmviz animate --preset forget-worked --out forget.gif --fps 4
lstmviz animate --model m.npz --input x.csv --out frames/ --steps 0:50 --view traces
lstmviz animate --document run.lstmviz --out run.mp4 --size 1280x720
"""

from __future__ import annotations

import re
import sys
import time

from lstmviz.commands.open import build_document
from lstmviz.commands.screenshot import parse_size
from lstmviz.errors import LstmvizError

DEFAULT_SIZE = "1280x720"


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "animate",
        help="render the window step by step into a GIF, an MP4 or a folder of PNGs",
        description="Step through the sequence in the real window (offscreen) and save every step as a "
                    "frame: .gif (needs Pillow), .mp4 (needs imageio-ffmpeg; both: pip install "
                    "'lstmviz[video]'), or FOLDER/ of PNGs (always).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", metavar="M", help="a model file (with --input)")
    source.add_argument("--preset", metavar="NAME", help="a built-in example (see `lstmviz open --help`)")
    source.add_argument("--document", metavar="D", help="a document saved by the window (.lstmviz)")
    parser.add_argument("--input", metavar="X", help="the input sequence for --model (.csv or .npy)")
    parser.add_argument("--layer", metavar="NAME", help="which LSTM layer of the model")
    parser.add_argument("--out", required=True, metavar="FILE.gif|FILE.mp4|FOLDER/", help="where to write")
    parser.add_argument("--steps", metavar="A:B", help="the steps A..B-1 (default: every step)")
    parser.add_argument("--fps", type=float, default=8.0, metavar="F", help="frames per second (default 8)")
    parser.add_argument("--size", default=DEFAULT_SIZE, metavar="WxH",
                        help=f"frame size (default {DEFAULT_SIZE})")
    parser.add_argument("--view", choices=("diagram", "window", "traces"), default="window",
                        help="the whole window, the cell diagram alone, or the trace panels (default window)")
    parser.add_argument("--select", metavar="COMPONENT", help="the diagram part to select (e.g. f, c)")
    return parser


def parse_steps(text: str | None, T: int) -> range:
    """'A:B' -> range(A, B) within 0..T; either end may be left out."""
    if text is None:
        return range(T)
    match = re.fullmatch(r"\s*(\d*)\s*:\s*(\d*)\s*", text)
    if not match:
        raise LstmvizError(f"--steps {text!r} is not A:B (e.g. 0:50)")
    start = int(match.group(1)) if match.group(1) else 0
    stop = int(match.group(2)) if match.group(2) else T
    if not 0 <= start < stop <= T:
        raise LstmvizError(f"--steps {text}: need 0 <= A < B <= {T} (the sequence has {T} steps)")
    return range(start, stop)


def run(args) -> int:
    from lstmviz.gui.animation import check_writer, output_format

    if args.model and not args.input:
        raise LstmvizError("--model needs --input (the sequence to step through)")
    if args.input and not args.model:
        raise LstmvizError("--input goes with --model (a preset or a document holds its own input)")
    if not 0.1 <= args.fps <= 120:
        raise LstmvizError(f"--fps {args.fps:g} is not in 0.1..120")
    size = parse_size(args.size)
    fmt = output_format(args.out)
    check_writer(fmt)
    document = build_document(file=args.document, model=args.model, input=args.input, preset=args.preset,
                              layer=args.layer, select=args.select)
    steps = parse_steps(args.steps, document.T)
    from lstmviz.gui.animation import animation_frames, save_animation

    total = len(steps)
    start = time.perf_counter()
    last = [0.0]

    def progress(done: int, count: int) -> None:
        now = time.perf_counter()
        if done == count or now - last[0] > 1.0:
            last[0] = now
            print(f"  frame {done}/{count} ({done / max(now - start, 1e-9):.1f} frames/s)", file=sys.stderr)

    frames = animation_frames(document, steps, size=size, view=args.view)
    written = save_animation(frames, args.out, fps=args.fps, count=total, progress=progress)
    seconds = time.perf_counter() - start
    print(f"lstmviz: wrote {args.out} ({written} frames of {size[0]}x{size[1]}, steps "
          f"{steps.start}..{steps.stop - 1}, {seconds:.1f} s)", file=sys.stderr)
    return 0
