"""Tasks that need memory, each a batch generator with one difficulty knob.

- `first-value`: inputs (value, "first" flag); remember x_0 until the last step (regression).
  Knob: the delay D between the value and the answer.
- `adding`: inputs (value, marker); the sum of the two marked values at the last step
  (Hochreiter & Schmidhuber 1997; regression). Knob: the sequence length T.
- `brackets`: one-hot `(` `)`; the bracket depth at every step (classes 0..D). Knob: the
  maximum depth D.
- `sine`: a noisy sine of random period and phase; the clean sine D steps ahead at every step
  (regression). Knob: the horizon D (1 = the next value).
- `text`: one-hot characters of the user's text; the next character at every step. Knob: the
  window length D (characters backpropagated through).

`first-value` and `adding` are lstmviz.core.generators' "remember-first" and "add-marked"
inputs (the same columns, ranges and rounding), drawn for a whole batch in a few NumPy calls:
calling the one-sequence generator per row cost as much as the training step itself. Every
batch comes from the numpy Generator the trainer passes in, so a seed reproduces the data exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lstmviz.core.generators import default_vocabulary, encode_text
from lstmviz.core.train.losses import CLASSIFICATION, REGRESSION
from lstmviz.errors import LstmvizError

MAX_DIFFICULTY = 10_000


@dataclass(frozen=True)
class Batch:
    xs: np.ndarray  # (B, T, m)
    steps: np.ndarray  # (P,) the steps that have a target (the same for every row)
    target: np.ndarray  # (P, B, k) floats for regression, (P, B) class indices for classification


@dataclass
class Task:
    name: str
    knob: str  # what the difficulty number means, e.g. "delay D"
    difficulty: int
    m: int
    k: int
    kind: str
    tolerance: float = 0.1  # regression: an answer within this counts as right
    description: str = ""
    vocabulary: str = ""  # text: the characters of the one-hot columns
    _text_codes: np.ndarray | None = field(default=None, repr=False)

    def batch(self, rng: np.random.Generator, B: int) -> Batch:
        return _BATCHERS[self.name](self, rng, B)

    def probe(self) -> np.ndarray:
        """A fixed input (T, m) the window runs the current model on to show its inside."""
        return self.batch(np.random.default_rng(12345), 1).xs[0]


def _first_value(task: Task, rng, B: int) -> Batch:
    """lstmviz.core.generators' "remember-first" input, B rows at once: column 0 random in
    [-1, 1) rounded to 3 decimals, column 1 flags step 0; the answer is x_0."""
    T = task.difficulty + 1
    xs = np.zeros((B, T, 2))
    xs[:, :, 0] = np.round(rng.uniform(-1.0, 1.0, (B, T)), 3)
    xs[:, 0, 1] = 1.0
    return Batch(xs, np.array([T - 1]), xs[None, :, 0, :1].copy())


def _adding(task: Task, rng, B: int) -> Batch:
    """lstmviz.core.generators' "add-marked" input, B rows at once: column 0 random in [0, 1)
    rounded to 3 decimals, column 1 marks one step in each half; the answer is their sum."""
    T = task.difficulty
    xs = np.zeros((B, T, 2))
    xs[:, :, 0] = np.round(rng.uniform(0.0, 1.0, (B, T)), 3)
    half = T // 2
    rows = np.arange(B)
    first = rng.integers(0, half, B)
    second = rng.integers(half, T, B)
    xs[rows, first, 1] = 1.0
    xs[rows, second, 1] = 1.0
    total = xs[rows, first, 0] + xs[rows, second, 0]
    return Batch(xs, np.array([T - 1]), total[None, :, None])


def _brackets(task: Task, rng, B: int) -> Batch:
    D = task.difficulty
    T = max(4 * D, 20)
    u = rng.random((B, T))
    xs = np.zeros((B, T, 2))
    depth = np.zeros((B, T), dtype=np.int64)
    level = np.zeros(B, dtype=np.int64)
    for t in range(T):
        opening = ((u[:, t] < 0.5) | (level == 0)) & (level < D)
        level = level + np.where(opening, 1, -1)
        xs[np.arange(B), t, np.where(opening, 0, 1)] = 1.0
        depth[:, t] = level
    return Batch(xs, np.arange(T), depth.T.copy())


def _sine(task: Task, rng, B: int) -> Batch:
    D = task.difficulty
    T = 60
    period = rng.uniform(8.0, 30.0, (B, 1))
    phase = rng.uniform(0.0, 2 * np.pi, (B, 1))
    t = np.arange(T + D)[None, :]
    clean = np.sin(2 * np.pi * t / period + phase)
    noisy = clean[:, :T] + rng.normal(0.0, 0.1, (B, T))
    return Batch(noisy[:, :, None], np.arange(T), clean[:, D:].T[:, :, None].copy())


def _text(task: Task, rng, B: int) -> Batch:
    L = task.difficulty
    codes = task._text_codes
    starts = rng.integers(0, len(codes) - L, B)
    window = codes[starts[:, None] + np.arange(L + 1)[None, :]]  # (B, L + 1)
    xs = np.zeros((B, L, task.m))
    xs[np.arange(B)[:, None], np.arange(L)[None, :], window[:, :L]] = 1.0
    return Batch(xs, np.arange(L), window[:, 1:].T.copy())


_BATCHERS = {"first-value": _first_value, "adding": _adding, "brackets": _brackets, "sine": _sine,
             "text": _text}
TASKS = tuple(_BATCHERS)
DEFAULT_DIFFICULTY = {"first-value": 20, "adding": 30, "brackets": 4, "sine": 1, "text": 50}
KNOBS = {"first-value": "delay D (steps between the value and the answer)",
         "adding": "sequence length T", "brackets": "maximum depth D",
         "sine": "horizon D (steps ahead; 1 = the next value)",
         "text": "window length D (characters backpropagated)"}
MIN_DIFFICULTY = {"first-value": 0, "adding": 2, "brackets": 1, "sine": 1, "text": 1}


def make_task(name: str, difficulty: int | None = None, text: str | None = None,
              source: str | None = None) -> Task:
    """The task `name` at a difficulty (None: its default). text: the user's text for 'text'.
    Raises LstmvizError naming the problem."""
    if name not in _BATCHERS:
        raise LstmvizError(f"unknown task {name!r} (known: {', '.join(TASKS)})")
    if difficulty is None:
        difficulty = DEFAULT_DIFFICULTY[name]
    if isinstance(difficulty, bool) or int(difficulty) != difficulty:
        raise LstmvizError(f"difficulty {difficulty!r} is not a whole number")
    difficulty = int(difficulty)
    low = MIN_DIFFICULTY[name]
    if not low <= difficulty <= MAX_DIFFICULTY:
        raise LstmvizError(f"{KNOBS[name]}: {difficulty} is not in {low}..{MAX_DIFFICULTY} for task {name}")
    knob = KNOBS[name]
    if name == "first-value":
        return Task(name, knob, difficulty, 2, 1, REGRESSION, 0.1,
                    f"remember the first value for {difficulty} steps")
    if name == "adding":
        return Task(name, knob, difficulty, 2, 1, REGRESSION, 0.04,
                    f"add the two marked values of {difficulty} steps")
    if name == "brackets":
        return Task(name, knob, difficulty, 2, difficulty + 1, CLASSIFICATION, 0.0,
                    f"count open brackets (depth 0..{difficulty})")
    if name == "sine":
        return Task(name, knob, difficulty, 1, 1, REGRESSION, 0.1,
                    f"predict a noisy sine {difficulty} step(s) ahead")
    if not text:
        raise LstmvizError("the text task needs a text (--text FILE) with at least two characters",
                           source=source)
    if len(text) < difficulty + 2:
        raise LstmvizError(
            f"the text has {len(text)} characters, fewer than the window of {difficulty} + 2 "
            "the task needs",
            source=source)
    vocabulary = default_vocabulary(text)
    if len(vocabulary) > 256:
        raise LstmvizError(f"the text uses {len(vocabulary)} different characters, more than 256",
                           source=source)
    codes = encode_text(text, vocabulary, len(vocabulary)).argmax(axis=1)
    return Task(name, knob, difficulty, len(vocabulary), len(vocabulary), CLASSIFICATION, 0.0,
                f"predict the next character ({len(vocabulary)} different) in windows of {difficulty}",
                vocabulary=vocabulary, _text_codes=codes)
