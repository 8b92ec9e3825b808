#!/usr/bin/env python3
"""Peak memory of a long run against the size of the trace it records (issue 13 item 4).

Runs T = 1 000 000 steps at n = 64 (m = 32) in a child process (under an address-space limit,
so a regression cannot take the machine down) and prints the child's peak resident memory
above what it held before the run, the trace's own arrays (Trace.nbytes) and their ratio;
then how long reading one step back costs at random places in it (what stepping and
scrubbing the window do), to show that the trace stays navigable.

    python scripts/bench_memory.py [--steps 1000000] [--n 64] [--dtype float32|float64] [--window]

With --window the child also opens the main window (offscreen) on the trace, steps, scrubs
and switches the panels to heatmaps and growing traces, then reports that peak too.
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


def child(T: int, n: int, dtype_name: str, window: bool = False) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np

    if window:  # Qt's libraries and the application object count as the start, not the trace
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        import pyqtgraph  # noqa: F401
        from PySide6 import QtWidgets

        import lstmviz.gui.main_window  # noqa: F401

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])

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
    result = {"T": T, "n": n, "dtype": dtype_name, "trace_bytes": trace.nbytes,
              "peak_above_start": peak - before, "ratio": (peak - before) / trace.nbytes, "run_s": seconds,
              "step_arrays_ms": step_ms, "explain_ms": explain_ms}
    if window:
        result.update(_navigate_window(app, params, xs, trace, rng))
        result["window_ratio"] = (result["window_peak"] - before) / trace.nbytes
    return result


def _navigate_window(app, params, xs, trace, rng) -> dict:
    """The main window on the trace: random steps, a scrub, heatmaps, growing traces; the
    peak resident memory after it and how long a step took (set_step to every paint done)."""
    from lstmviz.document import Document
    from lstmviz.gui.main_window import MainWindow

    def settle() -> None:
        for _ in range(5):
            app.processEvents()

    t0 = time.perf_counter()
    doc = Document(params, xs, trace=trace, title="memory")
    window = MainWindow(doc)
    window.resize(1600, 1000)
    window.show()
    settle()
    open_s = time.perf_counter() - t0
    steps = []
    T = doc.T
    for option, value in ((None, None), ("trace_display", "heatmap"), ("trace_animation", "grow"),
                          ("trace_display", "lines")):
        if option is not None:
            doc.set_option(option, value)
            settle()
        for t in rng.integers(0, T, size=20):
            s0 = time.perf_counter()
            doc.set_step(int(t))
            settle()
            steps.append(time.perf_counter() - s0)
        start = int(rng.integers(0, T - 100))
        for t in range(start, start + 100, 4):  # a scrub: the slider dragged through 100 steps
            doc.set_step(t)
            settle()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    window.close()
    steps.sort()
    return {"window_peak": peak, "window_open_s": open_s, "window_step_ms": steps[len(steps) // 2] * 1e3}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--window", action="store_true",
                    help="also open the main window (offscreen) on the trace and navigate it")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.steps, args.n, args.dtype, args.window)))
        return 0
    itemsize = 4 if args.dtype == "float32" else 8
    expected = args.steps * (args.n * 10 + args.n // 2) * itemsize
    limit = 3 * expected + args.steps * (args.n // 2) * 8 + (1 << 30)

    def cap() -> None:  # the child may use 3x the trace (plus its input and 1 GiB), no more
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    command = [sys.executable, os.path.abspath(__file__), "--child", "--steps", str(args.steps),
               "--n", str(args.n), "--dtype", args.dtype] + (["--window"] if args.window else [])
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
    if args.window:
        print(f"in the window (steps, a scrub, heatmaps, growing traces): peak "
              f"{result['window_peak'] / mib:,.0f} MiB resident, "
              f"{result['window_ratio']:.2f}x the trace above the start; opened in "
              f"{result['window_open_s']:.1f} s, a step {result['window_step_ms']:.1f} ms (median)")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
