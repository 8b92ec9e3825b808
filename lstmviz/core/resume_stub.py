"""TEMPORARY stand-in for kernels.resume/resumable/first_nan_row (replaced at merge)."""

from __future__ import annotations

import numpy as np

from lstmviz.core import kernels
from lstmviz.core.blas import blas_threads


def resumable(trace, params) -> bool:
    return (trace.n == params.n and trace.h_size == params.h_size and trace.m == params.m
            and (trace.mask is not None) == (params.mask_value is not None)
            and trace.projected == (params.W_hr is not None) and trace.gate_order == kernels.FAST_ORDER
            and trace.z.flags.writeable)


def resume(params, trace, start: int, stop: int) -> None:
    h_prev = trace.h0 if start == 0 else trace.h[start - 1]
    c_prev = trace.c0 if start == 0 else trace.c[start - 1]
    mask = None if trace.mask is None else trace.mask[start:stop]
    x = np.array(trace.x[start:stop])
    with blas_threads(params.n), np.errstate(over="ignore", invalid="ignore"):
        part = kernels.run_general(params, x, h_prev.copy(), c_prev.copy(), trace.dtype, mask=mask)
    trace.z[start:stop] = part.z
    trace.a[start:stop] = part.a
    trace.c[start:stop] = part.c
    trace.h[start:stop] = part.h
    if trace.r is not None:
        trace.r[start:stop] = part.r


def first_nan_row(trace, lo: int, hi: int):
    bad = np.isnan(trace.c[lo:hi]).any(axis=1) | np.isnan(trace.h[lo:hi]).any(axis=1)
    if trace.r is not None:
        bad |= np.isnan(trace.r[lo:hi]).any(axis=1)
    return lo + int(np.argmax(bad)) if bad.any() else None
