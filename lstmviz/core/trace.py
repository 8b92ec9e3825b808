"""A recorded run: every pre-activation, gate, cell state and hidden state at every step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmviz.core.params import GATES

# Quantities recorded per unit, in the order the CSV writes them.
PREACTIVATIONS = ("zi", "zf", "zg", "zo")
STATES = ("i", "f", "g", "o", "c", "h")


@dataclass
class Trace:
    """Row t of every array holds what step t computed from x_t and (h_{t-1}, c_{t-1}).

    z and a are (T, 4n) blocks with the gates in the order `gate_order`; the named
    attributes (zi ... o) are (T, n) views into them.
    """

    x: np.ndarray  # (T, m): the inputs the cell saw
    z: np.ndarray  # (T, 4n) pre-activations
    a: np.ndarray  # (T, 4n) gate activations
    c: np.ndarray  # (T, n)
    h: np.ndarray  # (T, n)
    h0: np.ndarray  # (n,)
    c0: np.ndarray  # (n,)
    gate_order: str = "ifgo"

    @property
    def T(self) -> int:
        return int(self.h.shape[0])

    @property
    def n(self) -> int:
        return int(self.h.shape[1])

    @property
    def m(self) -> int:
        return int(self.x.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.h.dtype

    def _block(self, array: np.ndarray, gate: str) -> np.ndarray:
        k = self.gate_order.index(gate)
        return array[:, k * self.n : (k + 1) * self.n]

    def gate(self, gate: str) -> np.ndarray:
        return self._block(self.a, gate)

    def preactivation(self, gate: str) -> np.ndarray:
        return self._block(self.z, gate)

    zi = property(lambda self: self.preactivation("i"))
    zf = property(lambda self: self.preactivation("f"))
    zg = property(lambda self: self.preactivation("g"))
    zo = property(lambda self: self.preactivation("o"))
    i = property(lambda self: self.gate("i"))
    f = property(lambda self: self.gate("f"))
    g = property(lambda self: self.gate("g"))
    o = property(lambda self: self.gate("o"))

    def quantity(self, name: str) -> np.ndarray:
        """(T, n) array for 'i' 'f' 'g' 'o' 'c' 'h' 'zi' 'zf' 'zg' 'zo'; (T, m) for 'x'."""
        if name in GATES:
            return self.gate(name)
        if name in PREACTIVATIONS:
            return self.preactivation(name[1])
        if name in ("c", "h", "x"):
            return getattr(self, name)
        raise KeyError(name)

    def h_prev(self, t: int) -> np.ndarray:
        return self.h0 if t == 0 else self.h[t - 1]

    def c_prev(self, t: int) -> np.ndarray:
        return self.c0 if t == 0 else self.c[t - 1]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.x, self.z, self.a, self.c, self.h))

    def to_csv(self, path, layout: str = "wide", preactivations: bool = False, **options) -> None:
        """Write the trace as CSV (see README for the schema); path '-' writes to stdout."""
        from lstmviz.io.csv import write_trace_csv

        write_trace_csv(self, path, layout=layout, preactivations=preactivations, **options)
