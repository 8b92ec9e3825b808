#!/usr/bin/env python
"""GUI speed: step update, edit-and-rerun redraw, start-up, playback (offscreen).

    .venv/bin/python scripts/bench_gui.py [--quick] [--panels-only] [--repeat N]

Measures the whole main window (lstmviz.gui.main_window) when it can be imported, else the
trace panels alone in a stand-in window (the table says which). "Repainted" means: the
Document setter returned and Qt's event loop has delivered every paint event that followed
(an application-wide event filter counts them; the loop stops after a pass with none).

Targets (issue 5): (a) step update at T=100 000, n=64, m=32, median <= 16 ms (aim 8);
(b) edit one weight, rerun, repaint at T=10 000, n=64, median <= 50 ms; (c) start-up to the
first painted window <= 1.5x a bare PySide6 + pyqtgraph window (subprocesses, same run);
(d) playback holds 60 fps at T=100 000.
(f) with what-if on (nothing streams: the background Job computes the run and its replay), the
longest frame of a 60 fps timer in the real event loop (the gap between its ticks) over turning
it on, an edit, and undoing both, at T=100 000.
Prints a table, then one JSON line: step_update_ms, edit_redraw_ms, startup_ratio, playback_fps,
edit_first_paint_ms, rerun_max_frame_ms, whatif_max_frame_ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WINDOW_SIZE = (1600, 1000)


# -- child processes for the start-up measurement ------------------------------------------------
def _child_startup(kind: str) -> None:
    """Show a window, wait for its first paint, print READY, exit at once."""
    from PySide6 import QtCore, QtWidgets

    if kind == "bare":
        import pyqtgraph as pg

        app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        window = QtWidgets.QMainWindow()
        window.setCentralWidget(pg.PlotWidget())
    else:
        try:  # the application object `lstmviz` makes (name, icon), when there is one
            from lstmviz.gui.app import ensure_app

            app = ensure_app()
        except ImportError:
            app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
        window = _app_window_for_startup()
    window.resize(*WINDOW_SIZE)
    painted = []

    class Filter(QtCore.QObject):
        def eventFilter(self, obj, event):
            if event.type() == QtCore.QEvent.Type.Paint:
                painted.append(obj)
            return False

    spy = Filter()
    app.installEventFilter(spy)
    window.show()
    deadline = time.perf_counter() + 30
    while not painted and time.perf_counter() < deadline:
        app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 5)
    app.processEvents()  # finish the paint pass that started
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    os._exit(0)


def _app_window_for_startup():
    """The window `lstmviz` opens with no arguments (the default preset)."""
    from lstmviz.document import Document
    from lstmviz.presets import DEFAULT_PRESET, load_preset

    doc = Document.from_preset(load_preset(DEFAULT_PRESET))
    window, _ = make_window(doc)
    return window


def _time_child(kind: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    # Start from cached bytecode, as an installed lstmviz (and pyqtgraph, in both children)
    # does: with PYTHONDONTWRITEBYTECODE set, a source tree recompiles every module of
    # lstmviz at each start (~0.2 s here) and the ratio measures the compiler.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child-startup", kind],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
    )
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait()
    if "READY" not in line:
        raise RuntimeError(f"start-up child '{kind}' failed")
    return elapsed


# -- windows ---------------------------------------------------------------------------------
PANELS_ONLY = False


def make_window(doc, panels_only: bool | None = None):
    """(window, kind): the real main window when importable, else the panels in a stand-in."""
    from PySide6 import QtCore, QtWidgets

    main_window = None
    if not (PANELS_ONLY if panels_only is None else panels_only):
        try:
            import lstmviz.gui.main_window as main_window
        except ImportError:
            main_window = None
    if main_window is not None:
        cls = getattr(main_window, "MainWindow", None)
        if cls is not None:
            for attempt in (lambda: cls(doc), lambda: cls(document=doc)):
                try:
                    return attempt(), "main window"
                except TypeError:
                    continue
    from lstmviz.gui.panels import TracePanels

    window = QtWidgets.QMainWindow()
    window.setCentralWidget(QtWidgets.QLabel("(stand-in for the diagram)"))
    dock = QtWidgets.QDockWidget("Traces")
    dock.setObjectName("Traces")
    dock.setWidget(TracePanels(doc))
    window.addDockWidget(QtCore.Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    window.resizeDocks([dock], [560], QtCore.Qt.Orientation.Vertical)
    return window, "trace panels alone, in a stand-in window"


class PaintCounter:
    def __init__(self, app):
        from PySide6 import QtCore

        class Filter(QtCore.QObject):
            count = 0

            def eventFilter(self, obj, event):
                if event.type() == QtCore.QEvent.Type.Paint:
                    Filter.count += 1
                return False

        self._filter = Filter()
        self._cls = Filter
        app.installEventFilter(self._filter)
        self.app = app

    @property
    def count(self) -> int:
        return self._cls.count

    def settle(self, max_passes: int = 20) -> int:
        """Process events until a pass paints nothing; return how many paints happened."""
        start = self.count
        for _ in range(max_passes):
            before = self.count
            self.app.processEvents()
            if self.count == before:
                break
        return self.count - start


def make_document(T: int, n: int, m: int, seed: int = 0):
    import numpy as np

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document

    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None]
    periods = rng.uniform(20, 2000, size=m)
    xs = np.sin(2 * np.pi * t / periods) + 0.3 * rng.standard_normal((T, m))
    return Document(LSTMParams.random(n, m, seed=seed), xs, title=f"bench T={T}")


def ms(values) -> str:
    return f"{statistics.median(values) * 1e3:7.2f}"


def p90(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


# -- measurements ------------------------------------------------------------------------------
def bench_steps(counter, doc, count: int, rng) -> tuple[list[float], list[float], int]:
    """Wall and CPU seconds of set_step -> every paint delivered, at random steps."""
    wall, cpu, paints = [], [], 0
    T = doc.T
    for _ in range(count):
        step = int(rng.integers(0, T))
        w0, c0 = time.perf_counter(), time.process_time()
        doc.set_step(step)
        paints += counter.settle()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, paints


def bench_playback(counter, doc, window, seconds: float) -> tuple[float, float, int]:
    """(fps at 60 steps/s, flat-out fps, skipped ticks) while the Document steps forward."""
    from PySide6 import QtCore

    # flat out: next step, deliver every paint, repeat
    frames, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds / 2:
        doc.next_step()
        counter.settle()
        frames += 1
    flat = frames / (time.perf_counter() - start)
    # 60 steps per second: the window's own Playback engine when there is one (it skips a
    # tick while the previous frame is not painted yet), else a 16 ms precise timer
    playback = getattr(window, "playback", None)
    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds / 2 * 1000), loop.quit)
    skipped = 0
    if playback is not None and hasattr(playback, "set_fps"):
        playback.set_fps(60)
        frames0, skipped0 = playback.frames, getattr(playback, "skipped", 0)
        start = time.perf_counter()
        playback.play()
        loop.exec()
        playback.pause()
        timed = (playback.frames - frames0) / (time.perf_counter() - start)
        skipped = getattr(playback, "skipped", 0) - skipped0
    else:
        timer = QtCore.QTimer()
        timer.setTimerType(QtCore.Qt.TimerType.PreciseTimer)
        timer.setInterval(16)
        ticks = [0]

        def tick():
            doc.next_step()
            ticks[0] += 1

        timer.timeout.connect(tick)
        start = time.perf_counter()
        timer.start()
        loop.exec()
        timer.stop()
        timed = ticks[0] / (time.perf_counter() - start)
    counter.settle()
    return timed, flat, skipped


PLAYBACK_MODES = (
    ("moving cursor", {}),
    ("growing trace", {"trace_animation": "grow"}),
    ("follow, 200-step window", {"trace_follow": True, "trace_window": 200}),
    ("heatmaps + follow 200", {"trace_display": "heatmap", "trace_follow": True, "trace_window": 200}),
)


def reset_options(doc) -> None:
    from lstmviz.document import DEFAULT_OPTIONS

    for key in ("trace_animation", "trace_follow", "trace_window", "trace_display"):
        doc.set_option(key, DEFAULT_OPTIONS.get(key))


def open_window(counter, doc, panels_only: bool):
    window, kind = make_window(doc, panels_only=panels_only)
    window.resize(*WINDOW_SIZE)
    window.show()
    start = time.perf_counter()
    counter.settle()
    return window, kind, time.perf_counter() - start


def close_window(counter, window) -> None:
    """Close and really delete (processEvents alone leaves deleteLater'd widgets alive, and
    a hidden window would go on answering the Document's signals)."""
    import gc

    from PySide6 import QtCore

    window.close()
    window.deleteLater()
    counter.settle()
    QtCore.QCoreApplication.sendPostedEvents(None, QtCore.QEvent.Type.DeferredDelete)
    gc.collect()
    counter.settle()


def measure_window(counter, doc, window, label: str, reps: int, seconds: float, rng, rows,
                   timed_playback: bool):
    """(a) for lines, heatmaps and the growing trace; (d) for every playback mode."""
    figures = {}
    for name, key, value in (
        ("lines (8 units)", None, None),
        ("heatmaps (64 units)", "trace_display", "heatmap"),
        ("growing trace", "trace_animation", "grow"),
    ):
        if key:
            doc.set_option(key, value)
            counter.settle()
        bench_steps(counter, doc, 5, rng)  # warm
        wall, cpu, paints = bench_steps(counter, doc, reps, rng)
        figures[name] = statistics.median(wall) * 1e3
        rows.append((f"(a) step, {label}, {name}", ms(wall),
                     f"p90 {p90(wall) * 1e3:.2f} ms, CPU {ms(cpu).strip()} ms, {paints / reps:.1f} paints"))
        reset_options(doc)
    counter.settle()
    fps = {}
    for name, options in PLAYBACK_MODES:
        for key, value in options.items():
            doc.set_option(key, value)
        doc.set_step(1000)
        counter.settle()
        if timed_playback:
            timed, flat, skipped = bench_playback(counter, doc, window, seconds)
            fps[name] = timed
            rows.append((f"(d) playback 60/s, {label}, {name}", f"{timed:7.1f}",
                         f"fps; {skipped} ticks skipped; flat out {flat:.0f} fps"))
        else:
            frames, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / 2:
                doc.next_step()
                counter.settle()
                frames += 1
            flat = frames / (time.perf_counter() - start)
            fps[name] = flat
            rows.append((f"(d) flat-out steps/s, {label}, {name}", f"{flat:7.0f}", "fps (no timer)"))
        reset_options(doc)
    counter.settle()
    return figures, fps


def measure_edit(counter, doc, count: int):
    """Wall and CPU seconds of set_params (rerun) -> every paint delivered; and the CPU
    seconds of the rerun alone (core.run on the same parameters)."""
    from lstmviz.core.cell import run

    edit, cpu, rerun = [], [], []
    for k in range(count + 2):
        W = doc.params.W_f.copy()
        W[k % W.shape[0], 0] += 0.01
        params = doc.params.replace(W_f=W)
        w0, c0 = time.perf_counter(), time.process_time()
        doc.set_params(params)
        while doc.rerunning:  # the window's editors stream the rerun between frames
            counter.app.processEvents()
        counter.settle()
        edit.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        c0 = time.process_time()
        run(params, doc.xs)
        rerun.append(time.process_time() - c0)
    return edit[2:], cpu[2:], rerun[2:]


def measure_streamed_edit(counter, T: int, n: int = 64, m: int = 32, repeats: int = 3):
    """Edit one weight at step 0 in the real window (its editors installed, so the rerun
    streams in between frames) and drive the event loop by hand: (first paint showing the
    new values at t = 0, in s; the longest frame during the rerun, in s; whole rerun in the
    window / the engine's own run() of the same cell). Medians over `repeats` edits; the
    longest frame is the worst of them."""
    from lstmviz.core.cell import run
    from lstmviz.edits import SetWeight

    doc = make_document(T, n, m, seed=3)
    window, _, _ = open_window(counter, doc, False)
    window.install_editors()
    session = window.session
    app = counter.app
    firsts, worst, ratios = [], 0.0, []
    # The engine's own time: the median of a few runs after a warm-up, once. (One run right
    # after each edit, as before, took up to 2.4x longer on the first edits, with caches just
    # emptied by the window: it made the whole rerun look up to ~1.7x better than it is.)
    run(doc.params, doc.xs)
    engine_runs = []
    for _ in range(3):
        c0 = time.perf_counter()
        run(doc.params, doc.xs)
        engine_runs.append(time.perf_counter() - c0)
    engine = statistics.median(engine_runs)
    for k in range(repeats):
        doc.set_step(0)
        counter.settle()
        edit = SetWeight(doc, "W_f", (k % n, 0), float(doc.params.W_f[k % n, 0]) + 0.25)
        start = time.perf_counter()
        session.undo.submit(edit)
        first = None
        last = start
        while doc.rerunning or (first is None and time.perf_counter() - start < 5.0):
            before = counter.count
            app.processEvents()
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now
            if first is None and not doc.stale(0) and counter.count > before:
                first = now - start
        if first is None:  # nothing painted after step 0 was computed: count the end instead
            first = time.perf_counter() - start
        # the end: every plot holds the new run (the last rows are copied one plot per frame
        # after the rerun) and has painted it; a pass of the event loop can copy a plot's rows
        # and paint them only in the next pass, so settle alone stopped early (~15 ms short)
        while window.traces.catching_up and time.perf_counter() - start < 10.0:
            app.processEvents()
            now = time.perf_counter()
            worst = max(worst, now - last)
            last = now
        counter.settle()
        whole = time.perf_counter() - start
        firsts.append(first)
        ratios.append(whole / engine)
    close_window(counter, window)
    return statistics.median(firsts), worst, statistics.median(ratios)


def measure_whatif_edits(counter, T: int = 100_000, n: int = 64, m: int = 32):
    """With what-if on, nothing streams: what-if turned on, an edit made with it on, both
    undone, each computed in the background Job and landed whole. Each runs in the real event
    loop (which sleeps when idle, as the window's does) with a 60 fps timer (16 ms, as
    playback's) ticking until the Job is done and every plot holds the new trace: (the longest
    gap between two ticks over all four, in s: a frame of an animation running meanwhile; the
    seconds of each). (The hand-driven processEvents loop of (e) keeps the GUI thread
    spinning, which the window's loop never does while a worker computes.)"""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    from lstmviz.core.analysis import ClampGate
    from lstmviz.edits import SetWeight
    from lstmviz.gui.analysis.interventions import add_intervention

    doc = make_document(T, n, m, seed=4)
    window, _, _ = open_window(counter, doc, False)
    window.install_editors()
    undo, traces = window.session.undo, window.traces
    worst, seconds = 0.0, []
    actions = (lambda: undo.submit(add_intervention(doc, ClampGate("f", 1.0, units=(0,)))),
               lambda: undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0)), undo.undo, undo.undo)
    for action in actions:
        loop = QEventLoop()
        last = [0.0]

        def tick():
            nonlocal worst
            now = time.perf_counter()
            worst, last[0] = max(worst, now - last[0]), now
            if not (undo.job.busy or doc.rerunning or traces.catching_up):
                loop.quit()

        timer = QTimer()
        timer.setInterval(16)
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.timeout.connect(tick)
        start = last[0] = time.perf_counter()
        action()
        timer.start()
        loop.exec()
        timer.stop()
        counter.settle()
        worst = max(worst, time.perf_counter() - last[0])
        seconds.append(time.perf_counter() - start)
    close_window(counter, window)
    return worst, seconds


def find_panels(window):
    from lstmviz.gui.panels import TracePanels

    return window.findChild(TracePanels)


def print_table(rows) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'median':>7}  notes")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>7}  {note}")


def cursor_ablation(counter, reps: int, rows) -> None:
    """Why the panels look the way they do: one step (the cursor moves) over 6 plots x 8
    PlotDataItem curves x 100 000 points (peak downsampling, clip to view), per cursor kind
    and cache setting. Not part of the JSON."""
    import numpy as np
    import pyqtgraph as pg
    from PySide6 import QtGui, QtWidgets

    from lstmviz.gui.panels.cursor import TimeCursor

    T = 100_000
    rng = np.random.default_rng(0)
    x = np.arange(T, dtype=float)
    ys = [np.cumsum(rng.standard_normal(T)) * 0.01 for _ in range(8)]
    default_limit = QtGui.QPixmapCache.cacheLimit()
    for cursor_kind, cached, limit_mb in (
        ("InfiniteLine", False, None), ("thin TimeCursor", False, None),
        ("thin TimeCursor", True, None),
        ("InfiniteLine", True, 256), ("thin TimeCursor", True, 256),
    ):
        QtGui.QPixmapCache.setCacheLimit(default_limit if limit_mb is None else limit_mb * 1024)
        QtGui.QPixmapCache.clear()
        widget = pg.GraphicsLayoutWidget()
        widget.resize(1400, 900)
        cursors, first = [], None
        for row in range(6):
            plot = widget.addPlot(row=row, col=0)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            for k, y in enumerate(ys):
                curve = plot.plot(x, y, pen=pg.mkPen(pg.intColor(k)), skipFiniteCheck=True)
                if cached:
                    curve.curve.setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
            cursor = pg.InfiniteLine(pos=0) if cursor_kind == "InfiniteLine" else TimeCursor()
            plot.addItem(cursor, ignoreBounds=True)
            cursors.append(cursor)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
        widget.show()
        counter.settle()
        times = []
        for _ in range(reps):
            step = int(rng.integers(0, T))
            start = time.perf_counter()
            for cursor in cursors:
                cursor.setValue(step) if cursor_kind == "InfiniteLine" else cursor.set_step(step)
            counter.settle()
            times.append(time.perf_counter() - start)
        cache = "no cache" if not cached else (
            f"DeviceCoordinateCache, QPixmapCache {'default 10' if limit_mb is None else limit_mb} MB")
        rows.append((f"ablation: {cursor_kind}, {cache}", ms(times), "48 curves x 100k, 1400x900"))
        widget.close()
        widget.deleteLater()
        counter.settle()
    QtGui.QPixmapCache.setCacheLimit(max(default_limit, QtGui.QPixmapCache.cacheLimit()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--repeat", type=int, default=None, help="samples per figure")
    parser.add_argument("--panels-only", action="store_true",
                        help="measure the trace panels in a stand-in window, not the main window")
    parser.add_argument("--ablation", action="store_true",
                        help="only time pyqtgraph's InfiniteLine against the panels' cursor, with "
                        "and without item caches (the design notes in docs/benchmarks.md)")
    parser.add_argument("--child-startup", choices=("bare", "app"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    global PANELS_ONLY
    PANELS_ONLY = args.panels_only
    if args.child_startup:
        _child_startup(args.child_startup)
        return 0

    import numpy as np
    from PySide6 import QtWidgets

    reps = args.repeat or (15 if args.quick else 60)
    seconds = 2.0 if args.quick else 4.0
    rng = np.random.default_rng(1)
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])
    counter = PaintCounter(app)
    rows: list[tuple[str, str, str]] = []
    if args.ablation:
        cursor_ablation(counter, max(10, reps // 2), rows)
        print_table(rows)
        return 0

    # (a) step update and (d) playback at T = 100 000, n = 64, m = 32: the whole window
    # (the JSON figures), then the trace panels alone (their share)
    doc = make_document(100_000, 64, 32)
    window, kind, first = open_window(counter, doc, PANELS_ONLY)
    full = kind == "main window"
    label = "window" if full else "panels"
    rows.append(("measured window", kind, ""))
    rows.append((f"first paint at T=100k, {label} (s)", f"{first:7.2f}", ""))
    steps, fps = measure_window(counter, doc, window, label, reps, seconds, rng, rows, timed_playback=True)
    close_window(counter, window)
    if full:
        window, _, _ = open_window(counter, doc, True)
        measure_window(counter, doc, window, "panels", reps, seconds, rng, rows, timed_playback=False)
        close_window(counter, window)
    del doc

    # (b) edit one weight, rerun the trace, every view repainted, at T = 10 000, n = 64
    doc = make_document(10_000, 64, 32, seed=2)
    count = max(5, reps // 3)
    edit_ms = None
    for panels_only in ((PANELS_ONLY,) if not full else (False, True)):
        window, _, _ = open_window(counter, doc, panels_only)
        edit, cpu, rerun = measure_edit(counter, doc, count)
        name = "panels" if panels_only else "window"
        if edit_ms is None:
            edit_ms = statistics.median(edit) * 1e3
        rows.append((f"(b) edit W_f + rerun + repaint, T=10k, {name}", ms(edit),
                     f"CPU {ms(cpu).strip()} ms, of which the rerun alone {ms(rerun).strip()} ms"))
        close_window(counter, window)

    # (e) the same edit in the window as a user makes it: it lands at once, the rerun streams
    # in between frames (lstmviz.gui.rerun); T = 10 000 and 100 000
    stream = {}
    for T_edit in (10_000, 100_000):
        first_s, worst_s, ratio_s = measure_streamed_edit(counter, T_edit, repeats=2 if args.quick else 3)
        stream[T_edit] = (first_s, worst_s)
        rows.append((f"(e) edit W_f in the window, T={T_edit // 1000}k: first paint at t=0 (ms)",
                     f"{first_s * 1e3:7.1f}",
                     f"longest frame {worst_s * 1e3:.1f} ms; whole rerun {ratio_s:.2f}x the engine's"))

    # (f) what-if on at T = 100 000: nothing streams, the Job computes run and replay
    whatif_worst, whatif_s = measure_whatif_edits(counter)
    rows.append(("(f) what-if on / edit / undo / undo, T=100k: longest frame (ms)",
                 f"{whatif_worst * 1e3:7.1f}", "each took " + ", ".join(f"{s:.1f}" for s in whatif_s) + " s"))

    # (c) start-up to the first painted window, in fresh processes, alternating
    bare, app_times = [], []
    _time_child("bare")  # warm-up: the disk cache, and the bytecode of both children
    _time_child("app")
    for _ in range(3 if args.quick else 7):
        bare.append(_time_child("bare"))
        app_times.append(_time_child("app"))
    ratio = statistics.median(app_times) / statistics.median(bare)
    rows.append(("(c) start-up, bare PySide6+pyqtgraph (s)", f"{statistics.median(bare):7.2f}",
                 f"min {min(bare):.2f}"))
    rows.append(("(c) start-up, lstmviz window (s)", f"{statistics.median(app_times):7.2f}",
                 f"min {min(app_times):.2f}; ratio of medians {ratio:.2f}"))
    step_ms = steps["lines (8 units)"]

    print_table(rows)
    print(json.dumps({
        "step_update_ms": round(step_ms, 2),
        "edit_redraw_ms": round(edit_ms, 2),
        "startup_ratio": round(ratio, 3),
        "playback_fps": round(min(fps.values()), 1),
        "edit_first_paint_ms": round(stream[10_000][0] * 1e3, 2),
        "rerun_max_frame_ms": round(max(w for _, w in stream.values()) * 1e3, 2),
        "whatif_max_frame_ms": round(whatif_worst * 1e3, 2),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
