#!/usr/bin/env python
"""Opening a long .lstmviz document in the window against the engine's own run of its cell
(issue 13 item 3: within 1.5x, with progress).

    python scripts/bench_open.py [--steps 100000] [--n 64] [--rounds 3]

Writes one document (a random cell, n units, m = n / 2 inputs, T steps) to a temporary
folder, then alternates two kinds of fresh child process, `--rounds` times each (who goes
first flips each round):

- **window**: the main window (offscreen) on the default preset, then File > Open on the
  document (Viewer.open: read in the background, the cell run there with a progress dialog
  after half a second, landed, painted): seconds from the call to the painted window.
- **engine**: `lstmviz.run()` of the same cell and input, read beforehand (the run alone).

Prints the medians, their ratio and whether a progress dialog was shown, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write(path: str, T: int, n: int) -> None:
    import numpy as np

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document
    from lstmviz.gui.viewer import Viewer

    xs = np.random.default_rng(5).normal(size=(T, n // 2))
    viewer = Viewer(show=False, document=Document(LSTMParams.random(n, n // 2, seed=5), xs, title="long"))
    viewer.window.session.save_to(path, synchronous=True)
    viewer.close()


def child_window(path: str) -> dict:
    from lstmviz.gui.viewer import Viewer

    viewer = Viewer(show=False)
    viewer.window.resize(1280, 720)
    viewer.window.show()  # (offscreen: painted, as a user's window is)
    viewer._process()
    from PySide6.QtCore import QEventLoop, QTimer

    session = viewer.window.session
    loop = QEventLoop()
    session.opened.connect(lambda *_: QTimer.singleShot(0, loop.quit))  # (after the paints it queued)
    session.failed.connect(lambda message: (print(message, file=sys.stderr), loop.quit()))
    viewer.controller.dialogs = False
    start = time.perf_counter()
    # as File > Open: the window's own event loop runs meanwhile (idle but for the progress
    # dialog), not a script polling it
    viewer.controller.open(path, confirm=False)
    loop.exec()
    viewer._process()
    seconds = time.perf_counter() - start
    result = {"seconds": seconds, "T": viewer.document.T, "progress_shown": session.loader.last_dialog_shown}
    viewer.close()
    return result


def child_engine(path: str) -> dict:
    from lstmviz.core.cell import run
    from lstmviz.io.document_file import read_document

    state = read_document(path)
    start = time.perf_counter()
    trace = run(state.params, state.xs)
    return {"seconds": time.perf_counter() - start, "T": trace.T}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("window", "engine", "write"), help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        if args.child == "write":
            write(args.path, args.steps, args.n)
            return 0
        result = child_window(args.path) if args.child == "window" else child_engine(args.path)
        print(json.dumps(result))
        return 0

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=ROOT)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "long.lstmviz")
        subprocess.run([sys.executable, __file__, "--child", "write", "--path", path, "--steps",
                        str(args.steps), "--n", str(args.n)], env=env, check=True)
        size = os.path.getsize(path)
        times: dict[str, list[float]] = {"window": [], "engine": []}
        shown = []
        for round_ in range(args.rounds):
            order = ("window", "engine") if round_ % 2 == 0 else ("engine", "window")
            for kind in order:
                out = subprocess.run([sys.executable, __file__, "--child", kind, "--path", path],
                                     env=env, check=True, capture_output=True, text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                if result["T"] != args.steps:
                    raise SystemExit(f"{kind}: opened {result['T']} steps, not {args.steps}")
                times[kind].append(result["seconds"])
                if kind == "window":
                    shown.append(result["progress_shown"])
    window, engine = statistics.median(times["window"]), statistics.median(times["engine"])
    load = os.getloadavg()[0]
    print(f"T = {args.steps}, n = {args.n}, document {size / 2**20:.1f} MiB; load average {load:.2f}")
    print(f"{'open in the window (read, run, land, paint)':48s} {window:7.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in times['window'])})")
    print(f"{'the engine run() alone':48s} {engine:7.2f} s  "
          f"({', '.join(f'{t:.2f}' for t in times['engine'])})")
    print(f"ratio {window / engine:.2f}x (target 1.5x); progress dialog shown: {all(shown)}")
    print(json.dumps({"open_s": window, "engine_s": engine, "open_ratio": window / engine,
                      "progress_shown": all(shown), "T": args.steps, "n": args.n}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
