"""Comparing runs, and LSTMVis's match view.

- :func:`trace_difference`: after - before for every recorded quantity of two traces of the
  same shape (two checkpoints on one input, or a model before and after a what-if).
- :func:`unit_correlation` and :func:`match_units`: which unit of run B plays the role of
  each unit of run A, by the correlation of their time series; an optimal one-to-one
  assignment (:func:`linear_sum_assignment`, a NumPy Hungarian algorithm, no SciPy) or greedy.
- The match view of LSTMVis (Strobelt et al. 2017): select a span [start, stop) of steps and a
  threshold; :func:`select_span_units` picks the units that are on (> threshold) throughout
  the span and off just around it; :func:`find_matching_spans` lists other spans where the
  same units switch on together, ranked for jump-to. :func:`match_span` does both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lstmviz.core.trace import STATES, Trace
from lstmviz.errors import LstmvizError

QUANTITIES = ("i", "f", "g", "o", "c", "h", "zi", "zf", "zg", "zo")


def _check_quantity(quantity: str) -> str:
    if quantity not in QUANTITIES:
        raise LstmvizError(f"quantity {quantity!r} is not one of {', '.join(QUANTITIES)}")
    return quantity


# -- differences ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class TraceDifference:
    """after - before, quantity by quantity; both traces have the same T and n."""

    before: Trace
    after: Trace

    def delta(self, quantity: str = "h") -> np.ndarray:
        """(T, n) after - before (float64) for i f g o c h, zi..zo, or (T, m) for x."""
        if quantity != "x":
            _check_quantity(quantity)
        return np.asarray(self.after.quantity(quantity), dtype=np.float64) - self.before.quantity(quantity)

    def max_abs(self, quantity: str = "h") -> np.ndarray:
        """(n,) largest |after - before| per unit over all steps."""
        return np.abs(self.delta(quantity)).max(axis=0)

    def per_step(self, quantity: str = "h") -> np.ndarray:
        """(T,) largest |after - before| per step over all units."""
        return np.abs(self.delta(quantity)).max(axis=1)

    def first_divergence(self, quantity: str = "h", tol: float = 0.0) -> int | None:
        """The first step where some unit differs by more than tol, or None."""
        hits = np.flatnonzero(self.per_step(quantity) > tol)
        return int(hits[0]) if hits.size else None

    def summary(self) -> dict[str, float]:
        """Largest |after - before| of each of i, f, g, o, c, h over the whole run."""
        return {q: float(np.abs(self.delta(q)).max()) for q in STATES}


def trace_difference(before: Trace, after: Trace) -> TraceDifference:
    if before.T != after.T or before.n != after.n or before.h_size != after.h_size:
        def shape(tr: Trace) -> str:
            return f"T = {tr.T}, n = {tr.n}" + (f", p = {tr.h_size}" if tr.h_size != tr.n else "")

        raise LstmvizError(f"cannot compare traces of different shape: {shape(before)} vs {shape(after)}")
    return TraceDifference(before, after)


# -- unit matching ----------------------------------------------------------------------------
def unit_correlation(a: Trace, b: Trace, quantity: str = "h") -> np.ndarray:
    """(n_a, n_b) Pearson correlation over time between unit j of a and unit k of b.

    A unit that is constant over the run correlates 0 with everything. Both traces need the
    same number of steps (the same input).
    """
    _check_quantity(quantity)
    if a.T != b.T:
        raise LstmvizError(f"the traces have different lengths ({a.T} and {b.T} steps)")
    A = np.asarray(a.quantity(quantity), dtype=np.float64)
    B = np.asarray(b.quantity(quantity), dtype=np.float64)
    A = A - A.mean(axis=0)
    B = B - B.mean(axis=0)
    na = np.sqrt(np.einsum("tj,tj->j", A, A))
    nb = np.sqrt(np.einsum("tk,tk->k", B, B))
    scale = np.outer(na, nb)
    tiny = np.finfo(np.float64).tiny
    corr = np.divide(A.T @ B, scale, out=np.zeros(scale.shape), where=scale > tiny)
    np.clip(corr, -1.0, 1.0, out=corr)
    return corr


def linear_sum_assignment(cost, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """An optimal assignment for a (r, c) cost matrix, like scipy.optimize.linear_sum_assignment:
    (rows, cols) with rows increasing, min(r, c) pairs, minimal total cost (maximal with
    maximize=True). The Hungarian algorithm with potentials (shortest augmenting paths),
    O(r^2 c) with the inner loop vectorized: n = 256 takes well under a second."""
    cost = np.array(cost, dtype=np.float64)
    if cost.ndim != 2:
        raise LstmvizError(f"cost matrix has shape {cost.shape}, expected 2-D")
    if not np.isfinite(cost).all():
        raise LstmvizError("cost matrix has non-finite entries")
    if maximize:
        cost = -cost
    transposed = cost.shape[0] > cost.shape[1]
    if transposed:
        cost = cost.T
    r, c = cost.shape
    if r == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    # 1-based columns with a virtual column 0, as in the classic formulation.
    u = np.zeros(r + 1)
    v = np.zeros(c + 1)
    owner = np.zeros(c + 1, dtype=np.intp)  # owner[j]: row (1-based) holding column j, 0 = free
    way = np.zeros(c + 1, dtype=np.intp)
    for row in range(1, r + 1):
        owner[0] = row
        j0 = 0
        minv = np.full(c + 1, np.inf)
        used = np.zeros(c + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used[1:]
            reduced = cost[i0 - 1] - u[i0] - v[1:]
            better = free & (reduced < minv[1:])
            minv[1:][better] = reduced[better]
            way[1:][better] = j0
            candidates = np.where(free, minv[1:], np.inf)
            j1 = int(np.argmin(candidates)) + 1
            delta = candidates[j1 - 1]
            u[owner[used]] += delta
            v[used] -= delta
            minv[1:][free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.flatnonzero(owner[1:])  # columns that got a row
    rows = owner[1:][cols] - 1
    if transposed:
        rows, cols = cols, rows
    order = np.argsort(rows, kind="stable")
    return rows[order].astype(np.intp), cols[order].astype(np.intp)


def greedy_assignment(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs taken by decreasing score, each row and column at most once (ties: lower index)."""
    score = np.asarray(score, dtype=np.float64)
    r, c = score.shape
    order = np.argsort(-score, axis=None, kind="stable")
    row_free = np.ones(r, dtype=bool)
    col_free = np.ones(c, dtype=bool)
    rows, cols = [], []
    for flat in order:
        i, j = divmod(int(flat), c)
        if row_free[i] and col_free[j]:
            row_free[i] = col_free[j] = False
            rows.append(i)
            cols.append(j)
            if len(rows) == min(r, c):
                break
    rows_a, cols_a = np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp)
    order = np.argsort(rows_a, kind="stable")
    return rows_a[order], cols_a[order]


@dataclass(frozen=True, eq=False)
class UnitMatching:
    """partner[j] is the unit of b matched to unit j of a (-1 if none); corr[j] their correlation."""

    partner: np.ndarray  # (n_a,) int
    corr: np.ndarray  # (n_a,) correlation of each matched pair (nan when unmatched)
    correlation: np.ndarray  # (n_a, n_b) the full matrix
    quantity: str
    method: str

    def pairs(self) -> list[tuple[int, int, float]]:
        """(unit of a, unit of b, correlation), best matches first."""
        items = [(j, int(k), float(self.corr[j])) for j, k in enumerate(self.partner) if k >= 0]
        return sorted(items, key=lambda item: -abs(item[2]))


def match_units(
    a: Trace, b: Trace, quantity: str = "h", method: str = "optimal", absolute: bool = False
) -> UnitMatching:
    """Match the units of a to those of b one-to-one by the correlation of `quantity` over time.

    method 'optimal' maximizes the total correlation (Hungarian algorithm); 'greedy' takes the
    best remaining pair each time. absolute=True scores |correlation|, so a unit that mirrors
    another (same role, flipped sign) matches it too.
    """
    if method not in ("optimal", "greedy"):
        raise LstmvizError(f"method {method!r} is not 'optimal' or 'greedy'")
    corr = unit_correlation(a, b, quantity)
    score = np.abs(corr) if absolute else corr
    if method == "optimal":
        rows, cols = linear_sum_assignment(score, maximize=True)
    else:
        rows, cols = greedy_assignment(score)
    partner = np.full(corr.shape[0], -1, dtype=np.intp)
    partner[rows] = cols
    matched = np.full(corr.shape[0], np.nan)
    matched[rows] = corr[rows, cols]
    return UnitMatching(partner, matched, corr, quantity, method)


# -- LSTMVis match view -----------------------------------------------------------------------
def _check_span(trace: Trace, start: int, stop: int) -> tuple[int, int]:
    start, stop = int(start), int(stop)
    if not 0 <= start < stop <= trace.T:
        raise LstmvizError(f"span {start}..{stop - 1} is not a non-empty range within 0..{trace.T - 1}")
    return start, stop


def _check_threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.integer, np.floating)):
        raise LstmvizError(f"threshold {threshold!r} is not a number")
    if not math.isfinite(threshold):
        raise LstmvizError(f"threshold {threshold} is not finite")
    return float(threshold)


def select_span_units(
    trace: Trace,
    start: int,
    stop: int,
    threshold: float,
    quantity: str = "h",
    pad_before: int = 1,
    pad_after: int = 1,
) -> tuple[int, ...]:
    """Units on (> threshold) at every step of [start, stop) and off (<= threshold) at the
    pad_before steps before and the pad_after steps after it (steps outside the run are not
    checked; a pad of 0 drops that condition)."""
    start, stop = _check_span(trace, start, stop)
    _check_quantity(quantity)
    threshold = _check_threshold(threshold)
    if pad_before < 0 or pad_after < 0:
        raise LstmvizError("pad_before and pad_after must be >= 0")
    q = trace.quantity(quantity)
    keep = (q[start:stop] > threshold).all(axis=0)
    before = q[max(0, start - pad_before) : start]
    after = q[stop : stop + pad_after]
    keep &= ~(before > threshold).any(axis=0)
    keep &= ~(after > threshold).any(axis=0)
    return tuple(int(k) for k in np.flatnonzero(keep))


@dataclass(frozen=True)
class SpanMatch:
    """A span [start, stop) where the selected units are on together.

    on_units: units on throughout the span (and off at its edges when constrained);
    intersection / union count them against the selection; jaccard = intersection / union;
    missing: selected units not in on_units.
    """

    start: int
    stop: int
    on_units: tuple[int, ...]
    intersection: int
    union: int
    missing: int

    @property
    def length(self) -> int:
        return self.stop - self.start

    @property
    def jaccard(self) -> float:
        return self.intersection / self.union if self.union else 0.0


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops of the runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def find_matching_spans(
    trace: Trace,
    units,
    threshold: float,
    quantity: str = "h",
    min_overlap: int | None = None,
    min_length: int = 1,
    constrain_before: bool = True,
    constrain_after: bool = True,
    exclude: tuple[int, int] | None = None,
    limit: int = 50,
) -> list[SpanMatch]:
    """Spans where the selected units switch on together, best first (LSTMVis's ranking).

    Candidates are the maximal runs of steps where at least `level` of the selected units are
    on, for level = len(units) down to min_overlap (default: all of them), at least min_length
    long. For each, the units on throughout it (and off on the step before / after, when
    constrained) are compared with the selection; ranked by the most selected units on, then
    the fewest units in the union (the fewest others on too), then the longest span, then the
    earliest. Spans overlapping `exclude` (usually the query span itself) are dropped.
    """
    _check_quantity(quantity)
    threshold = _check_threshold(threshold)
    units = tuple(sorted({int(k) for k in units}))
    if not units:
        return []
    if units[0] < 0 or units[-1] >= trace.n:
        raise LstmvizError(f"units {list(units)} are not all in 0..{trace.n - 1}")
    level_min = len(units) if min_overlap is None else int(min_overlap)
    if not 1 <= level_min <= len(units):
        raise LstmvizError(f"min_overlap {min_overlap} is not in 1..{len(units)}")
    on = np.asarray(trace.quantity(quantity)) > threshold  # (T, n)
    count = on[:, list(units)].sum(axis=1)
    spans: set[tuple[int, int]] = set()
    for level in range(len(units), level_min - 1, -1):
        starts, stops = _runs(count >= level)
        long_enough = (stops - starts) >= max(1, int(min_length))
        spans.update(zip(starts[long_enough].tolist(), stops[long_enough].tolist()))
    if exclude is not None:
        ex0, ex1 = (int(v) for v in exclude)
        spans = {(s, e) for s, e in spans if e <= ex0 or s >= ex1}
    if not spans:
        return []
    S = np.array(sorted(spans), dtype=np.intp)
    starts, stops = S[:, 0], S[:, 1]
    cum = np.zeros((trace.T + 1, trace.n), dtype=np.int64)
    np.cumsum(on, axis=0, out=cum[1:])
    active = (cum[stops] - cum[starts]) == (stops - starts)[:, None]  # (C, n): on throughout
    if constrain_before:
        has = starts > 0
        active[has] &= ~on[starts[has] - 1]
    if constrain_after:
        has = stops < trace.T
        active[has] &= ~on[stops[has]]
    selected = np.zeros(trace.n, dtype=bool)
    selected[list(units)] = True
    inter = (active & selected).sum(axis=1)
    union = (active | selected).sum(axis=1)
    order = np.lexsort((starts, -(stops - starts), union, -inter))[: max(0, int(limit))]
    return [
        SpanMatch(
            int(starts[j]), int(stops[j]), tuple(int(k) for k in np.flatnonzero(active[j])),
            int(inter[j]), int(union[j]), int(len(units) - inter[j]),
        )
        for j in order
    ]


@dataclass(frozen=True)
class MatchResult:
    start: int
    stop: int
    threshold: float
    quantity: str
    units: tuple[int, ...]  # the units chosen for the span
    matches: tuple[SpanMatch, ...]  # other spans, best first


def match_span(
    trace: Trace,
    start: int,
    stop: int,
    threshold: float,
    quantity: str = "h",
    pad_before: int = 1,
    pad_after: int = 1,
    min_overlap: int | None = None,
    limit: int = 50,
) -> MatchResult:
    """LSTMVis's select-and-match: units for the span [start, stop), then other spans where
    they switch on together (the query span excluded)."""
    units = select_span_units(trace, start, stop, threshold, quantity, pad_before, pad_after)
    matches = find_matching_spans(
        trace, units, threshold, quantity, min_overlap=min_overlap,
        constrain_before=pad_before > 0, constrain_after=pad_after > 0,
        exclude=(start, stop), limit=limit,
    )
    return MatchResult(int(start), int(stop), float(threshold), quantity, units, tuple(matches))
