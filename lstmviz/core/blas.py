"""How many threads OpenBLAS may use for the step loop.

A recurrent step is one small matrix-vector product after another. For small n, waking a
second BLAS thread for each product costs more than the product itself (measured here: n = 64
runs about twice as fast on one thread), so the loop pins BLAS to one thread below a size
where splitting the work pays.
"""

from __future__ import annotations

import contextlib

# Hidden sizes from which the per-step product (4n x n) is big enough to share between threads.
MULTITHREAD_FROM_N = 512

_controller = None


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
def blas_threads(n: int):
    controller = _get_controller()
    if not controller or n >= MULTITHREAD_FROM_N:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
