"""How many threads OpenBLAS may use for the step loop.

A recurrent step is one small matrix-vector product after another. For small n, waking a
second BLAS thread for each product costs more than the product itself (measured here: n = 64
runs about twice as fast on one thread), so the loop pins BLAS to one thread below a size
where splitting the work pays.
"""

from __future__ import annotations

import contextlib
import threading

# Hidden sizes from which the per-step product (4n x n) is big enough to share between threads.
MULTITHREAD_FROM_N = 512
# A run of fewer multiply-adds than this (steps x 4n x (n + m)) is over in well under a
# millisecond whatever the thread count: it is not worth loading threadpoolctl and inspecting
# the process's libraries for it (~7 ms, which the window's first run paid at start-up).
TINY_RUN_MACS = 1 << 20

_controller = None
# Threads inside a limit already: a nested blas_threads (a rerun's chunks, each a resume())
# costs nothing instead of threadpoolctl's ~0.1 ms of reading and setting every library.
_limited = threading.local()


def _get_controller():
    global _controller
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController

            _controller = ThreadpoolController()
        except Exception:  # threadpoolctl missing or unable to inspect: run as is
            _controller = False
    return _controller


@contextlib.contextmanager
def blas_threads(n: int, macs: int | None = None):
    """Limit BLAS to one thread for a step loop of hidden size n (unless n is large);
    macs, when given, is the run's multiply-add count: a tiny run is left as it is."""
    if macs is not None and macs < TINY_RUN_MACS:
        yield
        return
    controller = _get_controller()
    if not controller or n >= MULTITHREAD_FROM_N:
        yield
        return
    if getattr(_limited, "depth", 0):
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        _limited.depth = 1
        try:
            yield
        finally:
            _limited.depth = 0
