"""Background jobs (lstmviz.gui.workers.Job) and the GUI thread's share of the GIL."""

import sys
import threading

from lstmviz.gui.workers import JOB_SWITCH_INTERVAL_S, Job


def test_a_running_job_lowers_the_switch_interval_and_restores_it(qtbot):
    """While a worker computes, the GUI thread waited up to the whole 5 ms switch interval
    each time it came back into Python; the interval is lowered for as long as work runs."""
    default = sys.getswitchinterval()
    assert default > JOB_SWITCH_INTERVAL_S  # (CPython's default, 5 ms)
    job, other = Job(name="a"), Job(name="b")
    release = threading.Event()
    seen, results = [], []

    def work(progress):
        seen.append(sys.getswitchinterval())
        release.wait(10)
        return len(seen)

    job.start(work, results.append)
    other.start(work, results.append)
    qtbot.waitUntil(lambda: len(seen) == 2)
    assert seen == [JOB_SWITCH_INTERVAL_S] * 2
    release.set()
    assert job.wait() and other.wait()
    qtbot.waitUntil(lambda: sys.getswitchinterval() == default)
    assert sorted(results) == [2, 2]

    def fails(progress):
        raise ValueError("boom")

    errors = []
    job.start(fails, results.append, errors.append)
    assert job.wait() and len(errors) == 1
    qtbot.waitUntil(lambda: sys.getswitchinterval() == default)  # restored after an error too


def test_garbage_collection_waits_for_the_first_window_to_be_painted(qtbot, monkeypatch):
    """Start-up: the collector's passes over the objects the first window makes (~30 ms)
    came before its first paint; they wait until it is painted, once per process."""
    import gc

    from PySide6.QtWidgets import QLabel

    from lstmviz.gui import app

    assert gc.isenabled()
    monkeypatch.setattr(app, "_collection_held", False)
    window = QLabel("first")
    qtbot.addWidget(window)
    try:
        app.hold_garbage_collection(window)
        assert not gc.isenabled()
        second = QLabel("second")
        qtbot.addWidget(second)
        app.hold_garbage_collection(second)  # once per process: nothing more
        window.show()
        qtbot.waitUntil(gc.isenabled, timeout=3000)
        # and the objects alive then are kept out of later passes (a full pass over the
        # window's ~75 000 took 40-60 ms: a dropped frame in a rerun or playback)
        assert gc.get_freeze_count() > 1000
        unfrozen = len(gc.get_objects())
        assert unfrozen < gc.get_freeze_count()
    finally:
        gc.enable()
        gc.unfreeze()
