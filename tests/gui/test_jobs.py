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
