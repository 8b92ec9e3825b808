"""lstmviz screenshot OUT.png: render the main window offscreen in a given state, and exit.

lstmviz screenshot docs/screenshot.png --preset forget-worked --select f
lstmviz screenshot shot.png --model m.npz --input x.csv --step 12 --select c --size 1600x1000
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lstmviz.commands.open import add_window_args, document_from_args
from lstmviz.errors import LstmvizError

FORMS = ("separate", "h_first", "x_first")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "screenshot",
        help="render the window offscreen to a PNG and exit (for docs and tests)",
        description="Render the main window (diagram, inspector, traces) offscreen in the given "
        "state and save it as a PNG.",
    )
    parser.add_argument("out", metavar="OUT.png", help="the image to write (.png)")
    add_window_args(parser, model=True)
    parser.add_argument(
        "--size", default="1280x800", metavar="WxH", help="window size in pixels (default 1280x800)"
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        metavar="S",
        help="device pixel ratio, e.g. 2 for a high-DPI image (default 1)",
    )
    parser.add_argument(
        "--form",
        choices=FORMS,
        default=None,
        help="how the inspector writes a gate's product: separate W x + U h, "
        "or W . [h, x] (h_first), or W . [x, h] (x_first)",
    )
    return parser


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if not match:
        raise LstmvizError(f"--size {text!r} is not WIDTHxHEIGHT, e.g. 1280x800")
    width, height = int(match.group(1)), int(match.group(2))
    if not (200 <= width <= 8000 and 150 <= height <= 8000):
        raise LstmvizError(f"--size {text}: width must be in 200..8000 and height in 150..8000")
    return width, height


def run(args) -> int:
    out = Path(args.out)
    if out.suffix.lower() != ".png":
        raise LstmvizError(f"{out}: the screenshot is written as PNG; name it .png")
    if not out.parent.is_dir():
        raise LstmvizError(f"the folder {out.parent} does not exist", source=str(out))
    size = parse_size(args.size)
    if not 0.5 <= args.scale <= 4:
        raise LstmvizError(f"--scale {args.scale}: expected 0.5..4")
    document = document_from_args(args)
    if args.form is not None:
        document.set_option("show_concat", args.form != "separate")
        document.set_option("concat_h_first", args.form != "x_first")
    from lstmviz.gui.app import render_window

    width, height = render_window(document, out, size=size, scale=args.scale)
    print(f"lstmviz: wrote {out} ({width}x{height})", file=sys.stderr)
    return 0
