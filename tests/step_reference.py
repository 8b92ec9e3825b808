"""The reference the rerun tests check against: a plain loop over lstmviz.core.cell.step()."""

import numpy as np

from lstmviz.core.cell import step


def step_loop(params, xs, h0=None, c0=None):
    """(c, h) of every step of `xs`, one step() at a time from h0, c0 (zeros when None)."""
    h = np.zeros(params.h_size) if h0 is None else h0
    c = np.zeros(params.n) if c0 is None else c0
    cs, hs = [], []
    for x in xs:
        s = step(params, x, h, c)
        h, c = s.h, s.c
        cs.append(c)
        hs.append(h)
    return np.array(cs), np.array(hs)
