"""A recorded run: every pre-activation, gate, cell state and hidden state at every step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lstmviz.core.params import GATES

# Quantities recorded per unit, in the order the CSV writes them ("r" only for projected cells).
PREACTIVATIONS = ("zi", "zf", "zg", "zo")
STATES = ("i", "f", "g", "o", "c", "h")


# eq=False: a run is itself. Views key their caches on weakref.ref(trace), which cannot match
# a later trace that reuses a freed one's address as id() can; arrays have no == anyway.
@dataclass(eq=False)
class Trace:
    """Row t of every array holds what step t computed from x_t and (h_{t-1}, c_{t-1}).

    z and a are (T, 4n) blocks with the gates in the order `gate_order`; the named
    attributes (zi ... o) are (T, n) views into them. c has n columns (the cell size), h has
    h_size: n, or the projection size p of a projected (LSTMP) cell, whose r holds the
    unprojected r_t = o_t * tanh(c_t) (T, n) with h_t = W_hr r_t; r is None otherwise.

    Masking (LSTMParams.mask_value): mask[t] is True where step t was masked (x_t equals the
    mask value in every column); None when the cell has no mask value. A masked step still
    computes and records its gates (z, i, f, g, o) from (x_t, h_{t-1}, c_{t-1}) exactly as an
    unmasked step would, so the inspector can show what the cell would have done; but it
    carries the state, as Keras does: c_t = c_{t-1} and h_t = h_{t-1}. r_t is always
    o_t * tanh(c_t) of the recorded o_t and c_t (so at a masked step it is not W_hr's input
    for h_t, which is carried).
    """

    x: np.ndarray  # (T, m): the inputs the cell saw
    z: np.ndarray  # (T, 4n) pre-activations
    a: np.ndarray  # (T, 4n) gate activations
    c: np.ndarray  # (T, n)
    h: np.ndarray  # (T, h_size)
    h0: np.ndarray  # (h_size,)
    c0: np.ndarray  # (n,)
    gate_order: str = "ifgo"
    r: np.ndarray | None = None  # (T, n) o * tanh(c) of a projected cell, else None
    mask: np.ndarray | None = None  # (T,) bool: step t was masked; None without a mask value

    @property
    def T(self) -> int:
        return int(self.h.shape[0])

    @property
    def n(self) -> int:
        """Cell size: columns of c and of each gate."""
        return int(self.c.shape[1])

    @property
    def h_size(self) -> int:
        """Columns of h: n, or the projection size p."""
        return int(self.h.shape[1])

    @property
    def projected(self) -> bool:
        return self.r is not None

    @property
    def m(self) -> int:
        return int(self.x.shape[1])

    @property
    def dtype(self) -> np.dtype:
        return self.h.dtype

    @property
    def states(self) -> tuple[str, ...]:
        """The per-unit recorded quantities besides the pre-activations: i f g o c h (and r)."""
        return (*STATES[:5], "r", "h") if self.r is not None else STATES

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
        """(T, n) array for 'i' 'f' 'g' 'o' 'c' 'zi' 'zf' 'zg' 'zo' and 'r' (projected cells);
        (T, h_size) for 'h'; (T, m) for 'x'."""
        if name in GATES:
            return self.gate(name)
        if name in PREACTIVATIONS:
            return self.preactivation(name[1])
        if name in ("c", "h", "x"):
            return getattr(self, name)
        if name == "r" and self.r is not None:
            return self.r
        raise KeyError(name)

    def h_prev(self, t: int) -> np.ndarray:
        return self.h0 if t == 0 else self.h[t - 1]

    def c_prev(self, t: int) -> np.ndarray:
        return self.c0 if t == 0 else self.c[t - 1]

    @property
    def nbytes(self) -> int:
        arrays = (self.x, self.z, self.a, self.c, self.h, self.r, self.mask)
        return sum(a.nbytes for a in arrays if a is not None)
