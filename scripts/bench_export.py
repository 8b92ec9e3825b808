#!/usr/bin/env python3
"""CSV export speed: write_trace_csv against pandas DataFrame.to_csv on the same trace.

Both write lossless floats (pandas' default float formatting is repr, checked here by reading
its file back). T = 100 000, n = 64, m = 32, wide layout (about 41 million numbers).

    python scripts/bench_export.py [--steps 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lstmviz.core.cell import run  # noqa: E402
from lstmviz.core.params import LSTMParams  # noqa: E402
from lstmviz.io.csv import header, write_trace_csv  # noqa: E402


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    import pandas as pd

    n, m, T = 64, 32, args.steps
    trace = run(LSTMParams.random(n, m, seed=1), np.random.default_rng(0).normal(size=(T, m)))
    columns = header(trace, "wide", False, range(n)).split(",")
    frame = pd.DataFrame(
        np.hstack([trace.x, trace.i, trace.f, trace.g, trace.o, trace.c, trace.h]), columns=columns[1:]
    )
    frame.insert(0, "t", np.arange(T))
    with tempfile.TemporaryDirectory() as tmp:
        ours_path, theirs_path = os.path.join(tmp, "ours.csv"), os.path.join(tmp, "pandas.csv")
        ours = timed(lambda: write_trace_csv(trace, ours_path), args.repeat)
        theirs = timed(lambda: frame.to_csv(theirs_path, index=False), args.repeat)
        back = pd.read_csv(theirs_path)
        lossless_pandas = bool(np.array_equal(back["h_5"].to_numpy(), trace.h[:, 5]))
        back = pd.read_csv(ours_path)
        lossless_ours = bool(np.array_equal(back["h_5"].to_numpy(), trace.h[:, 5]))
        size = os.path.getsize(ours_path) / 2**20
    print(f"T = {T:,}, n = {n}, m = {m}: {T * (1 + m + 6 * n):,} values, {size:,.0f} MiB")
    print(f"{'writer':<28} {'seconds':>8} {'MiB/s':>8} {'lossless':>9}")
    print(f"{'lstmviz write_trace_csv':<28} {ours:>8.2f} {size / ours:>8.1f} {lossless_ours!s:>9}")
    print(f"{'pandas DataFrame.to_csv':<28} {theirs:>8.2f} {size / theirs:>8.1f} {lossless_pandas!s:>9}")
    print(f"ratio (pandas time / lstmviz time): {theirs / ours:.2f}x")
    print(json.dumps({"to_csv_s": ours, "pandas_s": theirs, "speedup": theirs / ours}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
