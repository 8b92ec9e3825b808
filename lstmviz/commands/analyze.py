"""lstmviz analyze: gate saturation and gradient flow through time, as CSV.

    lstmviz analyze saturation --model M --input X [--out F.csv] [--left 0.1] [--right 0.9]
        gate,unit,left,right   one row per sigmoid gate (i, f, o) and unit: the fraction of steps
                               with the gate < left (nearly closed) and > right (nearly open)

    lstmviz analyze gradient --model M --input X --out F.csv [--step T] [--unit K] [--wrt h|c]
        t,dx_0..dx_{m-1},dc_0..dc_{n-1},fprod   one row per t = 0..T (default T: the last step)
        out = h_T[K] (or c_T[K] with --wrt c; without --unit the sum over all units);
        dx_j = d out / d x_t[j], dc_j = d out / d c_t[j] (total derivative, all paths: the cell
        line, h, the gates and U of later steps); fprod = prod_{s=t+1..T} f_s[K], the share of
        c_t that reaches c_T on the direct cell path alone (without --unit: the mean over units).

For a --layer inside a stack, or a backward direction, x_t is what that cell itself reads (the
layer below's h; the sequence back to front) and t counts steps in the order it reads them.

Floats are written losslessly (shortest round-trip repr). Bad input: one line on stderr naming
the file or option, exit status 2, and no output file.
"""

from __future__ import annotations

import numpy as np

from lstmviz.commands.common import add_model_input_args, load_model_and_input
from lstmviz.core.analysis.gradients import gradient_flow
from lstmviz.core.analysis.saturation import DEFAULT_LEFT, DEFAULT_RIGHT, check_thresholds, gate_saturation
from lstmviz.core.cell import run as run_cell
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write
from lstmviz.io.csv import format_rows

ROWS_PER_BLOCK = 2048


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "analyze",
        help="gate saturation and gradient flow through time, as CSV",
        description="Analyses of a model run on an input: `saturation` or `gradient`.",
    )
    analyses = parser.add_subparsers(dest="analysis", metavar="ANALYSIS", required=True)

    sat = analyses.add_parser(
        "saturation",
        help="per gate and unit, the fraction of steps the gate is nearly closed / nearly open",
        description="Write gate,unit,left,right: for the sigmoid gates i, f, o and every unit, the "
        "fraction of steps with the gate below --left and above --right.",
    )
    add_model_input_args(sat, dtype=False)
    sat.add_argument("--out", default="-", metavar="FILE.csv", help="output CSV (default: stdout)")
    sat.add_argument("--left", type=float, default=DEFAULT_LEFT, help="left-saturated below this (0.1)")
    sat.add_argument("--right", type=float, default=DEFAULT_RIGHT, help="right-saturated above this (0.9)")

    grad = analyses.add_parser(
        "gradient",
        help="exact d out / d x_t and d out / d c_t for every step, and the forget product",
        description="Backpropagate out = h_T[K] (or c_T[K]) through the recorded run and write one "
        "row per step t = 0..T: t, dx_*, dc_*, fprod. Without --unit, out is the sum over units "
        "and fprod the mean forget product over units.",
    )
    add_model_input_args(grad, dtype=False)
    grad.add_argument("--out", required=True, metavar="FILE.csv", help="output CSV, or - for stdout")
    grad.add_argument("--step", type=int, metavar="T", help="target step (default: the last)")
    grad.add_argument("--unit", type=int, metavar="K", help="target unit (default: the sum over units)")
    grad.add_argument("--wrt", choices=("h", "c"), default="h", help="out is h_T[K] (default) or c_T[K]")
    return parser


def run(args) -> int:
    if args.analysis == "saturation":
        return run_saturation(args)
    return run_gradient(args)


def _thresholds(args) -> tuple[float, float]:
    for option, value in (("--left", args.left), ("--right", args.right)):
        if not np.isfinite(value):
            raise LstmvizError(f"{value} is not a finite number", source=option)
    try:
        return check_thresholds(args.left, args.right)
    except LstmvizError as error:
        raise error.with_source("--left") from None


def run_saturation(args) -> int:
    left, right = _thresholds(args)
    params, xs, h0, c0 = load_model_and_input(args)
    trace = run_cell(params, xs, h0=h0, c0=c0)
    sat = gate_saturation(trace, left, right)
    prefixes = [f"{gate},{unit}," for gate, unit, _, _ in sat.rows()]
    text = "gate,unit,left,right\n" + format_rows(sat.table(), prefixes)
    with atomic_write(args.out) as handle:
        handle.write(text)
    return 0


def run_gradient(args) -> int:
    params, xs, h0, c0 = load_model_and_input(args)
    T, n = xs.shape[0], params.n
    if args.step is not None and not 0 <= args.step < T:
        raise LstmvizError(f"{args.step} is not a step of the input (0..{T - 1}, T = {T})", source="--step")
    if args.unit is not None and not 0 <= args.unit < n:
        raise LstmvizError(f"{args.unit} is not a unit of the model (0..{n - 1}, n = {n})", source="--unit")
    trace = run_cell(params, xs, h0=h0, c0=c0)
    flow = gradient_flow(params, trace, step=args.step, unit=args.unit, wrt=args.wrt)
    m = flow.dx.shape[1]
    header = ",".join(["t", *(f"dx_{j}" for j in range(m)), *(f"dc_{k}" for k in range(n)), "fprod"])
    block = np.hstack((flow.dx, flow.dc, flow.fprod[:, None]))
    with atomic_write(args.out) as handle:
        handle.write(header + "\n")
        for lo in range(0, block.shape[0], ROWS_PER_BLOCK):
            hi = min(lo + ROWS_PER_BLOCK, block.shape[0])
            handle.write(format_rows(block[lo:hi], [f"{t}," for t in range(lo, hi)]))
    return 0
