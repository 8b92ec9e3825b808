"""What the Train view shows of a model on its fixed probe sequence, computed here (no Qt).

- the forget-gate histogram: f_t of every unit at every probe step, binned on [0, 1];
- how far back the gradient reaches: the norm over units of d sum(h_T) / d c_t for t = 0..T
  (exact BPTT, lstmviz.core.analysis.gradients), divided by its value at T, and the number of
  steps back over which it stays above a floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmviz.core.analysis.gradients import gradient_flow
from lstmviz.core.cell import run_cell
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace

REACH_FLOOR = 1e-3


@dataclass(frozen=True)
class ProbeSummary:
    trace: Trace
    f_edges: np.ndarray  # (bins + 1,)
    f_counts: np.ndarray  # (bins,) share of all (step, unit) pairs in each bin
    f_mean: float
    reach: np.ndarray  # (T,) |d sum h_T / d c_t| / |d sum h_T / d c_T|
    reach_steps: int  # steps back from T over which reach stays above REACH_FLOOR


def summarize(params: LSTMParams, xs: np.ndarray, bins: int = 20) -> ProbeSummary:
    trace = run_cell(params, xs)
    f = np.asarray(trace.f, dtype=np.float64).ravel()
    counts, edges = np.histogram(f, bins=bins, range=(0.0, 1.0))
    flow = gradient_flow(params, trace, step=trace.T - 1, unit=None, wrt="h")
    norm = flow.norm("dc")
    reach = norm / norm[-1] if norm[-1] > 0 else np.zeros_like(norm)
    above = reach >= REACH_FLOOR
    # the longest run of steps ending at T that stay above the floor
    below = np.flatnonzero(~above)
    reach_steps = trace.T - 1 - (int(below[-1]) + 1) if below.size else trace.T - 1
    return ProbeSummary(trace, edges, counts / max(f.size, 1), float(f.mean()), reach, max(reach_steps, 0))
