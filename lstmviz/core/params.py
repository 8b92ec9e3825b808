"""The parameters of one LSTM cell (one layer, one direction), in PyTorch's notation.

z_k = W_k x_t + U_k h_{t-1} + b_k  for each gate k in (i, f, g, o)   [+ p_k * c for peepholes]
i, f, o = recurrent_activation(z);  g = cell_activation(z)
c_t = f * c_{t-1} + i * g;          h_t = o * cell_activation(c_t)

With a projection (PyTorch proj_size = p, "LSTMP"): r_t = o * cell_activation(c_t) has n
entries and h_t = W_hr r_t has p; U_k is then n x p and h0 has p entries (c0 keeps n).
With mask_value (Keras Masking): a step whose x_t equals mask_value in every column keeps
c and h from the step before (see lstmviz.core.trace.Trace for what is recorded there).
With clip (ONNX): every gate's z (peepholes included) is clipped to [-clip, clip] before its
activation, and the clipped z is what the trace records. With input_forget (ONNX): the
forget gate is coupled to the input gate, f = 1 - i (z_f is computed but unused). With
sequence_length L (ONNX sequence_lens): ONNX runs only rows 0..L-1 of a longer sequence; the
places where a sequence meets the cell cut it (lstmviz.core.cell.cut_to_sequence_length).

The classic diagrams write W_f . [h_{t-1}, x_t]: that matrix is [U_f | W_f] side by side.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from lstmviz.core.activations import ACTIVATIONS
from lstmviz.errors import LstmvizError

GATES = ("i", "f", "g", "o")
GATE_NAMES = {"i": "input gate", "f": "forget gate", "g": "candidate (C~)", "o": "output gate"}
PEEPHOLES = ("p_i", "p_f", "p_o")
PROJECTION = "W_hr"
WEIGHT_KEYS = tuple(f"{kind}_{gate}" for kind in ("W", "U", "b") for gate in GATES)


def describe_nonfinite(name: str, array: np.ndarray) -> str | None:
    """'W_f[2, 1] is NaN' for the first non-finite entry, or None when all are finite."""
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    value = array[index]
    kind = "NaN" if np.isnan(value) else ("+inf" if value > 0 else "-inf")
    where = f"[{', '.join(map(str, index))}]" if index else ""
    return f"{name}{where} is {kind}"


def _whole_rows(value) -> int:
    """A row count given as an int or a whole float (the reader process sends floats)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value != int(value):
        raise LstmvizError(f"sequence_length is {value!r}, expected a whole number of rows")
    return int(value)


@dataclass
class LSTMParams:
    """One LSTM cell: input size m, cell size n (gates and c), output size h_size.

    W_hr: the projection (p, n) of an LSTMP cell (PyTorch proj_size = p): h_t = W_hr r_t with
    r_t = o_t * tanh(c_t); U_* are then (n, p) and h0 has p entries. None: h_t = r_t, p = n.
    mask_value: Keras Masking in front of the cell; a step whose input row equals it in every
    column carries c and h unchanged. None: no step is masked.
    clip: ONNX cell clip, z of every gate bounded to [-clip, clip] before its activation.
    input_forget: ONNX coupled gates, f = 1 - i.
    sequence_length: ONNX sequence_lens (batch row 0), a constant L in the file: ONNX runs
    only the first L rows (Y is zeros after them, Y_h / Y_c are the state at row L-1). None:
    every row. run() itself runs every row it is given; the Document, the openings and the
    CLI cut the input first (lstmviz.core.cell.cut_to_sequence_length), so a trace always
    has as many rows as the input it shows.

    upstream: the layers that feed this one, run first on the user's sequence (layer k of a
    stack sees layer k-1's output); each entry is a tuple of directions whose h are
    concatenated (forward first, then the reverse direction re-reversed in time).
    reverse: this cell reads its input sequence back to front (the backward direction of a
    bidirectional layer); step t of its trace is the t-th element it reads.
    """

    W_i: np.ndarray
    W_f: np.ndarray
    W_g: np.ndarray
    W_o: np.ndarray
    U_i: np.ndarray
    U_f: np.ndarray
    U_g: np.ndarray
    U_o: np.ndarray
    b_i: np.ndarray
    b_f: np.ndarray
    b_g: np.ndarray
    b_o: np.ndarray
    p_i: np.ndarray | None = None
    p_f: np.ndarray | None = None
    p_o: np.ndarray | None = None
    h0: np.ndarray | None = None
    c0: np.ndarray | None = None
    W_hr: np.ndarray | None = None
    mask_value: float | None = None
    clip: float | None = None
    input_forget: bool = False
    sequence_length: int | None = None
    recurrent_activation: str = "sigmoid"
    cell_activation: str = "tanh"
    name: str = ""
    source: str = ""
    upstream: tuple[tuple[LSTMParams, ...], ...] = ()
    reverse: bool = False
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        for key in (*WEIGHT_KEYS, *PEEPHOLES, "h0", "c0", PROJECTION):
            value = getattr(self, key)
            if value is not None:
                setattr(self, key, np.asarray(value, dtype=np.float64))
        if self.mask_value is not None:
            self.mask_value = float(self.mask_value)
        if self.clip is not None:
            self.clip = float(self.clip)
        self.input_forget = bool(self.input_forget)
        if self.sequence_length is not None:
            self.sequence_length = _whole_rows(self.sequence_length)
        self.validate()

    # -- shapes -----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Cell size: the number of units; the gates and c_t have n entries (h_t too unless
        the cell is projected: see h_size)."""
        return int(self.b_i.shape[0]) if self.b_i.ndim == 1 else -1

    @property
    def h_size(self) -> int:
        """Entries of h_t: the projection size p with W_hr, else n."""
        if self.W_hr is not None:
            return int(self.W_hr.shape[0]) if self.W_hr.ndim == 2 else -1
        return self.n

    @property
    def projected(self) -> bool:
        return self.W_hr is not None

    @property
    def m(self) -> int:
        """Input size: the number of entries of x_t."""
        return int(self.W_i.shape[1]) if self.W_i.ndim == 2 else -1

    @property
    def has_peepholes(self) -> bool:
        return any(getattr(self, k) is not None for k in PEEPHOLES)

    @property
    def input_size(self) -> int:
        """Columns of the sequence the user supplies (the first upstream layer's m)."""
        return self.upstream[0][0].input_size if self.upstream else self.m

    def expected_shape(self, key: str) -> tuple[int, ...]:
        n, m, p = self.n, self.m, self.h_size
        if key == PROJECTION:
            return (p, n)
        if key.startswith("W_"):
            return (n, m)
        if key.startswith("U_"):
            return (n, p)
        if key == "h0":
            return (p,)
        return (n,)

    def _sizes(self) -> str:
        if self.W_hr is None:
            return f"n={self.n}, m={self.m}"
        return f"n={self.n}, m={self.m}, p={self.h_size}"

    def validate(self) -> None:
        if self.b_i.ndim != 1:
            raise LstmvizError(f"b_i has shape {self.b_i.shape}, expected a vector (n,)")
        if self.W_i.ndim != 2:
            raise LstmvizError(f"W_i has shape {self.W_i.shape}, expected (n, m) = ({self.n}, m)")
        if self.n < 1 or self.m < 1:  # a cell of no units: every view and export would fail later
            raise LstmvizError(f"the cell has n = {self.n} units and m = {self.m} inputs; both must be "
                               "at least 1", source=self.source or None)
        if self.W_hr is not None and (self.W_hr.ndim != 2 or self.W_hr.shape[1] != self.n
                                      or self.W_hr.shape[0] < 1):
            raise LstmvizError(
                f"W_hr has shape {self.W_hr.shape}, expected (p, n) = (p, {self.n}) with p >= 1"
            )
        if self.mask_value is not None and not np.isfinite(self.mask_value):
            raise LstmvizError(f"mask_value is {self.mask_value}, expected a finite number")
        if self.clip is not None and not (np.isfinite(self.clip) and self.clip > 0):
            raise LstmvizError(f"clip is {self.clip}, expected a finite number above 0")
        if self.sequence_length is not None and self.sequence_length < 1:
            raise LstmvizError(f"sequence_length is {self.sequence_length}, expected at least 1 row")
        for key in (*WEIGHT_KEYS, *PEEPHOLES, "h0", "c0", PROJECTION):
            value = getattr(self, key)
            if value is None:
                continue
            expected = self.expected_shape(key)
            if value.shape != expected:
                raise LstmvizError(f"{key} has shape {value.shape}, expected {expected} ({self._sizes()})")
            problem = describe_nonfinite(key, value)
            if problem:
                raise LstmvizError(problem)
        for key in ("recurrent_activation", "cell_activation"):
            if getattr(self, key) not in ACTIVATIONS:
                raise LstmvizError(
                    f"{key} {getattr(self, key)!r} is not supported "
                    f"(supported: {', '.join(sorted(ACTIVATIONS))})"
                )

    # -- access -----------------------------------------------------------------------------
    def W(self, gate: str) -> np.ndarray:
        return getattr(self, f"W_{gate}")

    def U(self, gate: str) -> np.ndarray:
        return getattr(self, f"U_{gate}")

    def b(self, gate: str) -> np.ndarray:
        return getattr(self, f"b_{gate}")

    def peephole(self, gate: str) -> np.ndarray | None:
        return getattr(self, f"p_{gate}", None) if gate != "g" else None

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array by its native .npz key (W_i ... b_o, and p_*, h0, c0, W_hr when present)."""
        out = {k: getattr(self, k) for k in WEIGHT_KEYS}
        for key in (*PEEPHOLES, "h0", "c0", PROJECTION):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def stacked(self, order: str = "ifgo") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(W (4n, m), U (4n, h_size), b (4n)) with the gates stacked in `order`."""
        W = np.concatenate([self.W(g) for g in order])
        U = np.concatenate([self.U(g) for g in order])
        b = np.concatenate([self.b(g) for g in order])
        return W, U, b

    def concatenated(self, gate: str, h_first: bool = True) -> np.ndarray:
        """The diagram's W_gate acting on [h_{t-1}, x_t] (or [x_t, h_{t-1}]): n x (h_size + m)."""
        blocks = (self.U(gate), self.W(gate)) if h_first else (self.W(gate), self.U(gate))
        return np.hstack(blocks)

    def replace(self, **changes) -> LSTMParams:
        """A copy with some fields changed (arrays are copied so edits never alias)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        fields.update(changes)
        for key, value in fields.items():
            if isinstance(value, np.ndarray) and key not in changes:
                fields[key] = value.copy()
        return LSTMParams(**fields)

    @classmethod
    def from_stacked(
        cls, W: np.ndarray, U: np.ndarray, b: np.ndarray, order: str = "ifgo", **kwargs
    ) -> LSTMParams:
        """Split stacked (4n, m), (4n, p), (4n,) arrays whose gate blocks come in `order`.

        p is n, or the projection size when W_hr (p, n) is passed among kwargs.
        """
        W, U, b = np.asarray(W), np.asarray(U), np.asarray(b)
        if W.ndim != 2 or W.shape[0] % 4:
            raise LstmvizError(f"stacked input weights have shape {W.shape}, expected (4n, m)")
        n = W.shape[0] // 4
        W_hr = kwargs.get(PROJECTION)
        p = n if W_hr is None or np.ndim(W_hr) != 2 else int(np.shape(W_hr)[0])
        if U.shape != (4 * n, p):
            raise LstmvizError(f"stacked recurrent weights have shape {U.shape}, expected {(4 * n, p)}")
        if b.shape != (4 * n,):
            raise LstmvizError(f"stacked bias has shape {b.shape}, expected {(4 * n,)}")
        arrays = {}
        for index, gate in enumerate(order):
            rows = slice(index * n, (index + 1) * n)
            arrays[f"W_{gate}"] = W[rows]
            arrays[f"U_{gate}"] = U[rows]
            arrays[f"b_{gate}"] = b[rows]
        return cls(**arrays, **kwargs)

    @classmethod
    def random(cls, n: int, m: int, seed: int = 0, forget_bias: float | None = None,
               proj_size: int | None = None) -> LSTMParams:
        """PyTorch's default initialisation: every weight and bias uniform in +-1/sqrt(n).

        proj_size: also a projection W_hr (proj_size, n), drawn after the other arrays (so the
        gate weights of the same seed start the same way).
        """
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(n)
        p = n if proj_size is None else int(proj_size)
        arrays = {}
        for gate in GATES:
            arrays[f"W_{gate}"] = rng.uniform(-bound, bound, (n, m))
            arrays[f"U_{gate}"] = rng.uniform(-bound, bound, (n, p))
            arrays[f"b_{gate}"] = rng.uniform(-bound, bound, n)
        if forget_bias is not None:
            arrays["b_f"] = np.full(n, float(forget_bias))
        name = f"random n={n} m={m} seed={seed}"
        if proj_size is not None:
            arrays[PROJECTION] = rng.uniform(-bound, bound, (p, n))
            name = f"random n={n} m={m} p={p} seed={seed}"
        return cls(**arrays, name=name)
