#!/usr/bin/env python3
"""Time the analyses of lstmviz.core.analysis on a long run, and compare the gradients with
torch.autograd on the same trace when torch is importable.

    .venv/bin/python scripts/bench_analysis.py                # T = 10 000, n = 64, m = 16
    .venv/bin/python scripts/bench_analysis.py --T 2000 --n 32 --repeat 5

Prints one row per operation: the median wall time over --repeat runs, and for the torch rows
the largest absolute difference from lstmviz's numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstmviz.core.analysis.compare import match_span, match_units, select_span_units  # noqa: E402
from lstmviz.core.analysis.gradients import forget_product, gradient_flow  # noqa: E402
from lstmviz.core.analysis.saturation import gate_histograms, gate_saturation  # noqa: E402
from lstmviz.core.analysis.whatif import ClampGate, ZeroUnit, rerun  # noqa: E402
from lstmviz.core.cell import run  # noqa: E402
from lstmviz.core.params import LSTMParams  # noqa: E402


def timed(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def torch_rows(params, trace, unit, repeat):
    """nn.LSTM forward + backward for d h_T[k] / d x_t; and the same weights stepped with torch
    ops, c_t retained, for the total d h_T[k] / d c_t."""
    try:
        import torch
    except ImportError:
        return [("torch.autograd", None, "torch not importable: skipped")]
    torch.set_num_threads(1)
    n, m = params.n, params.m
    W, U, b = params.stacked("ifgo")
    lstm = torch.nn.LSTM(m, n, batch_first=True).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(W))
        lstm.weight_hh_l0.copy_(torch.from_numpy(U))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b))
        lstm.bias_hh_l0.zero_()
    xs = trace.x

    def whole_sequence():
        x = torch.from_numpy(xs).clone().requires_grad_(True)
        out, _ = lstm(x[None])
        out[0, -1, unit].backward()
        return x.grad.numpy()

    short = min(xs.shape[0], 1000)  # stepping torch ops one by one is slow: a prefix suffices

    def stepped():
        x = torch.from_numpy(xs[:short]).clone().requires_grad_(True)
        Wt, Ut, bt = (torch.from_numpy(a) for a in (W, U, b))
        h = torch.zeros(n, dtype=torch.float64)
        c = torch.zeros(n, dtype=torch.float64)
        cs = []
        pre = x @ Wt.T + bt
        for t in range(short):
            z = pre[t] + Ut @ h
            i, f, g, o = torch.sigmoid(z[:n]), torch.sigmoid(z[n:2 * n]), torch.tanh(z[2 * n:3 * n]), \
                torch.sigmoid(z[3 * n:])
            c = f * c + i * g
            c.retain_grad()
            cs.append(c)
            h = o * torch.tanh(c)
        h[unit].backward()
        return x.grad.numpy(), np.stack([ci.grad.numpy() for ci in cs])

    flow = gradient_flow(params, trace, unit=unit, wrt="h")
    rows = []
    seconds, dx = timed(whole_sequence, repeat)
    rows.append(("torch nn.LSTM fwd+bwd (dx)", seconds,
                 f"max |dx - lstmviz| = {np.abs(dx - flow.dx).max():.1e}"))
    seconds, (dx2, dc) = timed(stepped, 1)
    flow_short = gradient_flow(params, trace, step=short - 1, unit=unit, wrt="h")
    rows.append((f"torch ops stepped fwd+bwd, T = {short} (dx, dc)", seconds,
                 f"max |dc - lstmviz| = {np.abs(dc - flow_short.dc).max():.1e}, "
                 f"dx {np.abs(dx2 - flow_short.dx).max():.1e}"))
    seconds, _ = timed(lambda: gradient_flow(params, trace, step=short - 1, unit=unit), repeat)
    rows.append((f"gradient_flow, T = {short} (same target)", seconds, ""))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--T", type=int, default=10_000)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)

    params = LSTMParams.random(args.n, args.m, seed=0)
    xs = np.random.default_rng(0).normal(size=(args.T, args.m))
    unit = min(5, args.n - 1)
    rows = []
    seconds, trace = timed(lambda: run(params, xs), args.repeat)
    rows.append(("run (the recording itself, for scale)", seconds, ""))
    for label, kwargs in [
        (f"gradient_flow unit {unit}, wrt h", dict(unit=unit, wrt="h")),
        (f"gradient_flow unit {unit}, wrt c", dict(unit=unit, wrt="c")),
        ("gradient_flow sum over units, wrt h", dict(unit=None, wrt="h")),
        (f"gradient_flow unit {unit}, step T/2", dict(unit=unit, step=args.T // 2)),
    ]:
        seconds, _ = timed(lambda kwargs=kwargs: gradient_flow(params, trace, **kwargs), args.repeat)
        rows.append((label, seconds, ""))
    rows.append(("forget_product (all units)", timed(lambda: forget_product(trace), args.repeat)[0], ""))
    rows.append(("gate_saturation", timed(lambda: gate_saturation(trace), args.repeat)[0], ""))
    rows.append(("gate_histograms (20 bins)", timed(lambda: gate_histograms(trace), args.repeat)[0], ""))
    seconds, same = timed(lambda: rerun(params, trace), args.repeat)
    rows.append(("rerun, no intervention", seconds, f"max |h - run| = {np.abs(same.h - trace.h).max():.1e}"))
    interventions = [
        ClampGate("f", 1.0, units=[1, 2], steps=(100, args.T)),
        ZeroUnit(units=[3], steps=(50, 60)),
    ]
    seconds, changed = timed(lambda: rerun(params, trace, interventions), args.repeat)
    rows.append(("rerun, clamp f = 1 + zero a unit", seconds, ""))
    rows.append(("match_units (Hungarian)", timed(lambda: match_units(trace, changed), args.repeat)[0], ""))
    # a span whose selection is not empty: the first 3-step span from step 100 on that selects units
    start = next((s for s in range(100, args.T - 3) if select_span_units(trace, s, s + 3, 0.1)), 100)
    seconds, found = timed(lambda: match_span(trace, start, start + 3, 0.1), args.repeat)
    rows.append(("match_span (LSTMVis match)", seconds,
                 f"span {start}..{start + 2}: {len(found.units)} units, {len(found.matches)} matches"))
    if not args.no_torch:
        rows.extend(torch_rows(params, trace, unit, args.repeat))

    print(f"lstmviz analysis benchmark: T = {args.T}, n = {args.n}, m = {args.m}, float64, "
          f"median of {args.repeat}")
    width = max(len(r[0]) for r in rows)
    print(f"{'operation':<{width}}  {'seconds':>8}  notes")
    for label, seconds, note in rows:
        shown = "-" if seconds is None else f"{seconds:8.4f}"
        print(f"{label:<{width}}  {shown:>8}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
