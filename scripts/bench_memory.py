#!/usr/bin/env python3
"""Peak memory of a long run against the size of the trace it records (issue 13 item 4).

Runs T = 1 000 000 steps at n = 64 (m = 32) in a child process (under an address-space limit,
so a regression cannot take the machine down) and prints the child's peak resident memory
above what it held before the run, the trace's own arrays (Trace.nbytes) and their ratio;
then how long reading one step back costs at random places in it (what stepping and
scrubbing the window do), to show that the trace stays navigable.

    python scripts/bench_memory.py [--steps 1000000] [--n 64] [--dtype float32|float64]
Prints a few lines, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child(T: int, n: int, dtype_name: str) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np

    from lstmviz.core.cell import run
    from lstmviz.core.explain import explain, step_arrays
    from lstmviz.core.params import LSTMParams

    params = LSTMParams.random(n, n // 2, seed=3)
    xs = np.random.default_rng(0).normal(size=(T, n // 2))  # the user's sequence: not the trace's
    before = rss_bytes()
    t0 = time.perf_counter()
    trace = run(params, xs, dtype=np.dtype(dtype_name))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    rng = np.random.default_rng(1)
    picks = rng.integers(0, T, size=200)
    t0 = time.perf_counter()
    for t in picks:
        step_arrays(trace, int(t))
    step_ms = (time.perf_counter() - t0) / len(picks) * 1e3
    t0 = time.perf_counter()
    for t in picks[:50]:
        explain(params, trace, int(t), "f", unit=int(t) % n)
    explain_ms = (time.perf_counter() - t0) / 50 * 1e3
    return {"T": T, "n": n, "dtype": dtype_name, "trace_bytes": trace.nbytes,
            "peak_above_start": peak - before, "ratio": (peak - before) / trace.nbytes, "run_s": seconds,
            "step_arrays_ms": step_ms, "explain_ms": explain_ms}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.steps, args.n, args.dtype)))
        return 0
    itemsize = 4 if args.dtype == "float32" else 8
    expected = args.steps * (args.n * 10 + args.n // 2) * itemsize
    limit = 3 * expected + args.steps * (args.n // 2) * 8 + (1 << 30)

    def cap() -> None:  # the child may use 3x the trace (plus its input and 1 GiB), no more
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, os.path.abspath(__file__), "--child", "--steps", str(args.steps),
               "--n", str(args.n), "--dtype", args.dtype]
    done = subprocess.run(command, capture_output=True, text=True, preexec_fn=cap, timeout=1800)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return 1
    result = json.loads(done.stdout.strip().splitlines()[-1])
    mib = 2**20
    print(f"T = {result['T']:,}, n = {result['n']}, {result['dtype']}: run {result['run_s']:.1f} s; "
          f"peak {result['peak_above_start'] / mib:,.0f} MiB above the start for a trace of "
          f"{result['trace_bytes'] / mib:,.0f} MiB: {result['ratio']:.2f}x (target <= 1.3x)")
    print(f"navigating it: one step's vectors {result['step_arrays_ms']:.3f} ms, a gate's worked "
          f"arithmetic {result['explain_ms']:.2f} ms, at random steps")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
