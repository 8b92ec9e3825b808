"""lstmviz trace: run a model on a sequence and write every gate, c and h to CSV."""

from __future__ import annotations

from lstmviz.commands.common import add_model_input_args, load_run
from lstmviz.core.cell import run as run_cell
from lstmviz.io.csv import LAYOUTS, write_trace_csv


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "trace",
        help="run a model over a sequence and write the gate traces as CSV",
        description="Run the cell over the input and write t, x, [z], i, f, g, o, c, h per step.",
    )
    add_model_input_args(parser, document=True)
    parser.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV, or - for stdout")
    parser.add_argument(
        "--layout", choices=LAYOUTS, default="wide",
        help="wide: a row per step; long: a row per (step, unit)",
    )
    parser.add_argument("--preactivations", action="store_true", help="also write zi, zf, zg, zo")
    return parser


def run(args) -> int:
    params, xs, h0, c0, interventions = load_run(args)
    trace = run_cell(params, xs, h0=h0, c0=c0, dtype=args.dtype)
    if interventions:  # a document's what-if, as the window shows and exports it
        from lstmviz.core.analysis.whatif import rerun

        trace = rerun(params, trace, interventions)
    write_trace_csv(trace, args.out, layout=args.layout, preactivations=args.preactivations)
    return 0
