#!/usr/bin/env python3
"""Engine speed: steps per second while recording every gate, against peers in the same run.

Peers: torch.nn.LSTM (batch 1, inference mode, same dtype; records only h, when torch is
importable) and a naive NumPy loop that concatenates [h, x] every step and records everything.
Also: peak memory of a T = 1 000 000, n = 64, float32 run against the size of its trace.

    python scripts/bench_engine.py [--quick] [--repeat 3]
Prints a table, then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from lstmviz.core.cell import run  # noqa: E402
from lstmviz.core.params import LSTMParams  # noqa: E402


def naive_run(params: LSTMParams, xs: np.ndarray, dtype) -> dict:
    """The textbook loop: W . [h, x] + b per step, gates recorded into lists."""
    n = params.n
    Wcat = np.concatenate([params.concatenated(g) for g in "ifgo"]).astype(dtype)
    b = np.concatenate([params.b(g) for g in "ifgo"]).astype(dtype)
    h = np.zeros(n, dtype)
    c = np.zeros(n, dtype)
    rec = {k: [] for k in ("z", "a", "c", "h")}
    for x in xs.astype(dtype):
        z = Wcat @ np.concatenate([h, x]) + b
        i = 1 / (1 + np.exp(-z[:n]))
        f = 1 / (1 + np.exp(-z[n : 2 * n]))
        g = np.tanh(z[2 * n : 3 * n])
        o = 1 / (1 + np.exp(-z[3 * n :]))
        c = f * c + i * g
        h = o * np.tanh(c)
        rec["z"].append(z)
        rec["a"].append(np.concatenate([i, f, g, o]))
        rec["c"].append(c)
        rec["h"].append(h)
    return rec


def torch_runner(params: LSTMParams, dtype):
    try:
        import torch
    except ImportError:
        return None
    n, m = params.n, params.m
    lstm = torch.nn.LSTM(m, n, batch_first=True)
    lstm = lstm.double() if dtype == np.float64 else lstm.float()
    W, U, b = params.stacked("ifgo")
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(W))
        lstm.weight_hh_l0.copy_(torch.from_numpy(U))
        lstm.bias_ih_l0.copy_(torch.from_numpy(b))
        lstm.bias_hh_l0.zero_()

    def go(xs):
        with torch.inference_mode():
            out, _ = lstm(torch.from_numpy(xs.astype(dtype))[None])
        return out

    return go


def best_rate(fn, T: int, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return T / statistics.median(times)


def peak_memory(T: int = 1_000_000, n: int = 64) -> tuple[float, float]:
    params = LSTMParams.random(n, n // 2, seed=3)
    xs = np.random.default_rng(0).normal(size=(T, n // 2))
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    trace = run(params, xs, dtype=np.float32)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 2**20, trace.nbytes / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter sequences (a smoke run)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", default="8,64,256,1024")
    args = ap.parse_args()
    try:
        import torch

        torch_version = torch.__version__
        torch_threads = torch.get_num_threads()
    except ImportError:
        torch_version, torch_threads = None, None
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {np.__version__}, torch {torch_version or 'not installed'}"
          f"{f' ({torch_threads} threads)' if torch_threads else ''}")
    header = (f"{'n':>5} {'m':>5} {'T':>7} {'dtype':>8} {'lstmviz':>12} {'torch':>12} "
              f"{'naive':>12} {'vs torch':>9}")
    print(header)
    print("-" * len(header))
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        m = max(1, n // 2)
        T = (100_000 if n <= 64 else 10_000) // (10 if args.quick else 1)
        params = LSTMParams.random(n, m, seed=1)
        xs = np.random.default_rng(0).normal(size=(T, m))
        for dtype in (np.float64, np.float32):
            ours = best_rate(lambda: run(params, xs, dtype=dtype), T, args.repeat)
            go = torch_runner(params, dtype)
            theirs = best_rate(lambda: go(xs), T, args.repeat) if go else None
            naive_T = min(T, 20_000 if n <= 256 else 2_000)
            naive = best_rate(lambda: naive_run(params, xs[:naive_T], dtype), naive_T, 1)
            ratio = ours / theirs if theirs else None
            row = {"n": n, "m": m, "T": T, "dtype": np.dtype(dtype).name, "lstmviz": ours,
                   "torch": theirs, "naive": naive, "ratio": ratio}
            results.append(row)
            print(f"{n:>5} {m:>5} {T:>7} {row['dtype']:>8} {ours:>12,.0f} "
                  f"{(f'{theirs:,.0f}' if theirs else '-'):>12} {naive:>12,.0f} "
                  f"{(f'{ratio:.2f}x' if ratio else '-'):>9}", flush=True)
    print("(steps per second, median of", args.repeat, "runs; lstmviz and naive record every gate)")
    T_mem = 100_000 if args.quick else 1_000_000
    peak, size = peak_memory(T_mem)
    print(f"memory: T = {T_mem:,}, n = 64, float32: peak {peak:,.0f} MiB for a trace of "
          f"{size:,.0f} MiB ({peak / size:.2f}x)")
    print(json.dumps({"engine": results, "memory_peak_mib": peak, "memory_trace_mib": size,
                      "memory_ratio": peak / size}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
