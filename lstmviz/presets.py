"""Built-in examples: the worked examples learners ask about, a memory cell, a random cell.

Each preset is a real cell with an input sequence; nothing here needs Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError


@dataclass
class Preset:
    name: str
    title: str
    description: str
    params: LSTMParams
    xs: np.ndarray
    select: str = "f"  # the diagram component selected when it opens
    step: int = 0
    input_names: tuple[str, ...] = field(default=())
    unit: int = 0  # the unit the inspector and the analysis views start on
    text: str | None = None  # for character-level presets: the text xs one-hot encodes


def _worked_cell() -> LSTMParams:
    # The thread in shared/user-questions/000: W_f . [x_t, h_{t-1}] with rows (1..6), (5..10),
    # (3..8); the first three columns multiply x_t = (1, 2, 3), the last three h_{t-1} = (4, 5, 6).
    rows_f = np.array([np.arange(1, 7), np.arange(5, 11), np.arange(3, 9)], dtype=float)
    rows_i = np.repeat(np.array([[1.0], [2.0], [3.0]]), 6, axis=1)
    arrays = {
        "W_f": rows_f[:, :3], "U_f": rows_f[:, 3:], "b_f": np.array([1.0, 2.0, 3.0]),
        "W_i": rows_i[:, :3], "U_i": rows_i[:, 3:], "b_i": np.ones(3),
        # Small made-up weights for g and o, so tanh and the output gate are not saturated.
        "W_g": np.array([[0.1, -0.2, 0.1], [0.0, 0.1, -0.1], [-0.1, 0.0, 0.2]]),
        "U_g": np.array([[0.05, 0.0, -0.05], [0.0, -0.05, 0.05], [0.05, 0.05, 0.0]]),
        "b_g": np.array([0.0, 0.1, -0.1]),
        "W_o": np.full((3, 3), 0.1), "U_o": np.full((3, 3), -0.05), "b_o": np.zeros(3),
    }
    return LSTMParams(
        **arrays, h0=np.array([4.0, 5.0, 6.0]), c0=np.zeros(3), name="worked example", source="preset"
    )


def _worked_inputs() -> np.ndarray:
    return np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])


def forget_worked() -> Preset:
    return Preset(
        "forget-worked",
        "Worked example: the forget gate",
        "m = n = 3, x_0 = (1, 2, 3), h_{-1} = (4, 5, 6): W_f . [x_0, h_{-1}] + b_f = (92, 177, 136), "
        "so f_0 = sigmoid(z) is 1 to machine precision: keep everything.",
        _worked_cell(), _worked_inputs(), select="f",
    )


def input_worked() -> Preset:
    return Preset(
        "input-worked",
        "Worked example: the input gate",
        "Same cell: W_i rows all 1, all 2, all 3 and b_i = 1 give z_i = (22, 43, 64) "
        "(the thread printed 42 and 62: an arithmetic slip).",
        _worked_cell(), _worked_inputs(), select="i",
    )


def memory_cell_params() -> LSTMParams:
    """Two units, inputs (value, write, erase). Unit 0 stores tanh(value) when write fires;
    unit 1 is a flag that says 'something is stored'. Erase closes the forget gate."""
    zero = np.zeros((2, 2))
    return LSTMParams(
        # columns: value, write, erase
        W_i=np.array([[0.0, 16.0, 0.0], [0.0, 16.0, 0.0]]), U_i=zero, b_i=np.array([-8.0, -8.0]),
        W_f=np.array([[0.0, -16.0, -16.0], [0.0, 0.0, -16.0]]), U_f=zero, b_f=np.array([8.0, 8.0]),
        W_g=np.array([[1.0, 0.0, 0.0], [0.0, 4.0, 0.0]]), U_g=zero, b_g=np.zeros(2),
        W_o=np.zeros((2, 3)), U_o=zero, b_o=np.array([8.0, 8.0]),
        name="memory cell", source="preset",
    )


# np.round(np.random.default_rng(7).uniform(-1, 1, 40), 2), written out: this is the preset
# the window opens with, and importing numpy.random costs ~10 ms of start-up (test_presets
# checks the two agree).
MEMORY_CELL_NOISE = (
    0.25, 0.79, 0.55, -0.55, -0.4, 0.75, -0.99, 0.64, 0.59, -0.06, -0.39, -0.44, -0.49, -0.11,
    0.01, 0.11, 0.99, 0.59, 0.24, 0.98, -0.57, -0.68, 0.23, -0.91, -0.93, 0.03, -0.07, 0.83,
    0.26, 0.03, -0.01, -0.5, -0.98, -0.62, 0.38, -0.6, -0.26, -0.99, 0.66, -0.69,
)


def memory_cell_inputs(T: int = 40, seed: int = 7) -> np.ndarray:
    xs = np.zeros((T, 3))
    if T == len(MEMORY_CELL_NOISE) and seed == 7:
        xs[:, 0] = MEMORY_CELL_NOISE
    else:  # the value line carries noise at every step
        xs[:, 0] = np.round(np.random.default_rng(seed).uniform(-1, 1, T), 2)
    writes = {3: 0.8, 20: -0.6}
    for t, value in writes.items():
        if t < T:
            xs[t, 0], xs[t, 1] = value, 1.0
    for t in (14, 32):
        if t < T:
            xs[t, 2] = 1.0
    return xs


def memory_cell() -> Preset:
    return Preset(
        "memory-cell",
        "Memory cell: write, hold, erase",
        "Inputs (value, write, erase). When write = 1 the input gate opens and c stores "
        "tanh(value); while the forget gate stays near 1 the value is held, whatever the noisy "
        "value line does; erase drives the forget gate near 0 and wipes it.",
        memory_cell_params(), memory_cell_inputs(), select="f", step=3,
        input_names=("value", "write", "erase"),
    )


def random_sine(n: int = 8, T: int = 200, seed: int = 0) -> Preset:
    params = LSTMParams.random(n, 1, seed=seed)
    params.source = "preset"
    t = np.arange(T)
    return Preset(
        "random-sine",
        f"Random cell (n = {n}, seed {seed}) on a sine wave",
        "PyTorch's default initialisation (uniform +-1/sqrt(n)) driven by sin(2 pi t / 25).",
        params, np.sin(2 * np.pi * t / 25.0)[:, None], select="c",
    )


def brackets() -> Preset:
    """The small trained model in lstmviz/resources/models/ (scripts/train_bracket_model.py,
    docs/bracket_model.md) on its sample text, one-hot over its characters; NumPy only."""
    import json

    from lstmviz.core.text import Vocabulary
    from lstmviz.io.npz import read_npz_model
    from lstmviz.resources_path import resource

    model = resource("models", "bracket.npz")
    if not model.is_file():
        raise LstmvizError("the bundled bracket model is missing", source=str(model))
    params = read_npz_model(model)
    params.name, params.source = "bracket model", "preset"
    vocab = Vocabulary.load(model.with_name("bracket.vocab.json"))
    text = model.with_name("bracket.sample.txt").read_text(encoding="utf-8")
    info = json.loads(model.with_name("bracket.info.json").read_text(encoding="utf-8"))
    depth, quote = info.get("depth_unit"), info.get("quote_unit")
    levels = np.cumsum([(ch == "(") - (ch == ")") for ch in text])
    return Preset(
        "brackets",
        "Trained model: a unit that counts brackets",
        f"A {params.n}-unit LSTM trained to predict the next character of text with nested brackets "
        f"and quotes. Unit {depth}'s cell state counts the open brackets: it steps up by about 1 at "
        f"each '(' (input gate open, g near +1), down at each ')', and holds in between (forget gate "
        f"near 1); at the end of a line its forget gate closes. Unit {quote} tracks quoted text. "
        "See docs/bracket_model.md.",
        params, vocab.encode(text), select="c", step=int(np.argmax(levels)),
        input_names=vocab.chars, unit=int(depth) if depth is not None else 0, text=text,
    )


PRESETS: dict[str, Callable[[], Preset]] = {
    "memory-cell": memory_cell,
    "forget-worked": forget_worked,
    "input-worked": input_worked,
    "random-sine": random_sine,
    "brackets": brackets,
}
DEFAULT_PRESET = "memory-cell"


def load_preset(name: str) -> Preset:
    try:
        return PRESETS[name]()
    except KeyError:
        raise LstmvizError(
            f"unknown preset {name!r} (presets: {', '.join(PRESETS)})", source="--preset"
        ) from None

