"""lstmviz demo: trace a built-in example and write the CSV (no model file needed)."""

from __future__ import annotations

import sys
from pathlib import Path

from lstmviz.core.cell import run as run_cell
from lstmviz.io.csv import write_trace_csv
from lstmviz.presets import DEFAULT_PRESET, PRESETS, load_preset


def add_parser(subparsers):
    parser = subparsers.add_parser("demo", help="trace a built-in example and write its CSV")
    parser.add_argument("--preset", default=DEFAULT_PRESET, choices=tuple(PRESETS))
    parser.add_argument("--out", default="lstmviz-demo-trace.csv", metavar="FILE.csv")
    return parser


def run(args) -> int:
    preset = load_preset(args.preset)
    trace = run_cell(preset.params, preset.xs)
    write_trace_csv(trace, args.out)
    where = "stdout" if args.out == "-" else str(Path(args.out).resolve())
    print(f"lstmviz: traced the {preset.title!r} preset ({trace.T} steps, n = {trace.n}); "
          f"wrote {where}", file=sys.stderr)
    return 0
