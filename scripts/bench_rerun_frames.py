#!/usr/bin/env python
"""Frames of a streamed edit (bench_gui.py (e)), with CPU time beside wall time.

    .venv/bin/python scripts/bench_rerun_frames.py [T] [edits]

Edits one weight at t = 0 in the main window `edits` times and drives the event loop by
hand, as bench_gui's (e) does; also prints, per edit, the longest frame by this thread's CPU
time (robust on a shared machine, where a wall-clock frame can include time the process was
not running) and where it fell, and the frames after the rerun (the trace panels catching
up), which (e) leaves out of its longest frame. Between edits it waits 0.3 s, as a user
would (the inspector's refresh throttle forgets the last refresh).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    import bench_gui as bg
    from PySide6 import QtWidgets

    from lstmviz.core.cell import run
    from lstmviz.edits import SetWeight

    parser = argparse.ArgumentParser(description="Frames of a streamed edit, CPU beside wall time.")
    parser.add_argument("T", type=int, nargs="?", default=10_000, help="steps (default 10 000)")
    parser.add_argument("edits", type=int, nargs="?", default=5, help="edits to time (default 5)")
    args = parser.parse_args()
    T, edits = args.T, args.edits
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    counter = bg.PaintCounter(app)
    doc = bg.make_document(T, 64, 32, seed=3)
    window, _, _ = bg.open_window(counter, doc, False)
    session = window.session
    run(doc.params, doc.xs)  # warm
    # the engine's own time, once: the median of three runs (as bench_gui.py (e))
    engine_runs = []
    for _ in range(3):
        e0, ce0 = time.perf_counter(), time.thread_time()
        run(doc.params, doc.xs)
        engine_runs.append((time.perf_counter() - e0, time.thread_time() - ce0))
    engine = statistics.median(e for e, _ in engine_runs)
    cengine = statistics.median(c for _, c in engine_runs)
    rows = []
    for k in range(edits):
        doc.set_step(0)
        counter.settle()
        time.sleep(0.3)
        edit = SetWeight(doc, "W_f", (k % doc.n, 0), float(doc.params.W_f[k % doc.n, 0]) + 0.25)
        start, cstart = time.perf_counter(), time.thread_time()
        session.undo.submit(edit)
        first = cfirst = None
        last, clast = start, cstart
        worst = cworst = 0.0
        frames, where = 0, None
        while doc.rerunning or (first is None and time.perf_counter() - start < 5.0):
            before = counter.count
            app.processEvents()
            now, cnow = time.perf_counter(), time.thread_time()
            worst = max(worst, now - last)
            if cnow - clast > cworst:
                cworst = cnow - clast
                where = (frames, doc.computed_steps if doc.rerunning else T, counter.count - before)
            frames += 1
            last, clast = now, cnow
            if first is None and not doc.stale(0) and counter.count > before:
                first, cfirst = now - start, cnow - cstart
        tail = 0.0
        for _ in range(20):
            before, t0 = counter.count, time.perf_counter()
            app.processEvents()
            tail = max(tail, time.perf_counter() - t0)
            if counter.count == before:
                break
        whole, cwhole = time.perf_counter() - start, time.thread_time() - cstart
        print(f"  edit {k}: longest frame by CPU {cworst * 1e3:.1f} ms at (frame, rows computed, "
              f"paints) {where} of {frames} frames")
        rows.append((first or whole, cfirst or cwhole, worst, cworst, tail, whole / engine, cwhole / cengine))

    def median(i):
        return statistics.median(r[i] for r in rows)

    print(f"T={T}: first paint at t=0 {median(0) * 1e3:.1f} ms (CPU {median(1) * 1e3:.1f}); longest frame "
          f"{max(r[2] for r in rows) * 1e3:.1f} ms (CPU {max(r[3] for r in rows) * 1e3:.1f}); frames after "
          f"the rerun up to {max(r[4] for r in rows) * 1e3:.1f} ms; whole rerun {median(5):.2f}x the "
          f"engine's (CPU {median(6):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
