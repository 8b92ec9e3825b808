"""Input sequences made from a few numbers: signals, noise, two classic memory tasks, text.

No Qt. Every generator returns T rows and exactly the m columns the model reads. A signal
goes into every column (noise: independent per column) or into one column with the others
zero; the tasks use their first columns and leave the rest zero; text is one-hot over a
vocabulary with one column per character (at most m characters).

    >>> out = generate("sine", T=100, m=2, period=20)
    >>> out.xs.shape
    (100, 2)

The window builds its form from GENERATORS (each Param says its label, kind and range).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmviz.errors import LstmvizError

MAX_STEPS = 1_000_000
# T x m cells of float64 a generated input may hold (512 MiB): beyond that the trace alone
# would not fit on an ordinary machine.
MAX_CELLS = 64 * 1024 * 1024


@dataclass(frozen=True)
class Param:
    """One number or text field of a generator's form."""

    key: str
    label: str
    kind: str = "float"  # "float", "int", "text"
    default: Any = 0.0
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""


@dataclass(frozen=True)
class Generated:
    xs: np.ndarray  # (T, m) float64
    names: tuple[str, ...]  # a name per column ("" when unused)
    description: str  # one line: what the sequence is
    target: np.ndarray | None = None  # the task's expected output per step (tasks only)


@dataclass(frozen=True)
class Generator:
    key: str
    title: str
    description: str
    params: tuple[Param, ...]
    func: Callable[..., Generated] = field(repr=False)
    uses_columns: bool = True  # a signal that can go into all columns or one
    uses_length: bool = True  # False for text: T is the length of the text
    min_columns: int = 1


T_PARAM = Param("T", "length T (steps)", "int", 200, 1, MAX_STEPS)
SEED = Param("seed", "seed", "int", 0, 0, 2**31 - 1, "the same seed gives the same sequence")


# -- helpers -----------------------------------------------------------------------------------
def _spaced(number: int) -> str:
    """1000000 -> '1 000 000'."""
    return f"{number:,}".replace(",", " ")


def _check_T(T) -> int:
    try:
        T = int(T)
    except (TypeError, ValueError):
        raise LstmvizError(f"length T: {T!r} is not a whole number") from None
    if not 1 <= T <= MAX_STEPS:
        raise LstmvizError(f"length T: {T} is not in 1..{_spaced(MAX_STEPS)}")
    return T


def _check_m(m, T: int) -> int:
    m = int(m)
    if m < 1:
        raise LstmvizError(f"the model has m = {m} inputs; a sequence needs at least one column")
    if T * m > MAX_CELLS:
        raise LstmvizError(
            f"length T: {T} steps x m = {m} columns is {_spaced(T * m)} values, more than the "
            f"{_spaced(MAX_CELLS)} a generated input may hold"
        )
    return m


def _number(params: dict, key: str, default: float, label: str | None = None) -> float:
    value = params.get(key, default)
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise LstmvizError(f"{label or key}: {value!r} is not a number") from None
    if not np.isfinite(value):
        raise LstmvizError(f"{label or key}: {value!r} is not a finite number")
    return value


def _integer(params: dict, key: str, default: int, label: str | None = None) -> int:
    value = params.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise LstmvizError(f"{label or key}: {value!r} is not a whole number") from None


def _place(signal: np.ndarray, m: int, column) -> tuple[np.ndarray, tuple[str, ...]]:
    """A (T,) or (T, m) signal into all m columns, or into one column with the rest zero."""
    T = signal.shape[0]
    if column in (None, "all"):
        xs = np.empty((T, m)) if signal.ndim == 1 else signal
        if signal.ndim == 1:
            xs[:] = signal[:, None]
        return xs, tuple(f"x_{j}" for j in range(m))
    col = int(column)
    if not 0 <= col < m:
        raise LstmvizError(f"column: {col} is not in 0..{m - 1} (the model has m = {m} inputs)")
    xs = np.zeros((T, m))
    xs[:, col] = signal if signal.ndim == 1 else signal[:, col]
    return xs, tuple(f"x_{j}" if j == col else "" for j in range(m))


def _rng(params: dict) -> np.random.Generator:
    seed = _integer(params, "seed", 0)
    if seed < 0:
        raise LstmvizError(f"seed: {seed} is negative (use 0 or more)")
    return np.random.default_rng(seed)


def _period(params: dict) -> float:
    period = _number(params, "period", 25.0, "period")
    if period <= 0:
        raise LstmvizError(f"period: {period:g} must be more than 0 steps")
    return period


# -- signals -----------------------------------------------------------------------------------
def _sine(T, m, column, **p) -> Generated:
    amp, period = _number(p, "amplitude", 1.0), _period(p)
    phase, offset = _number(p, "phase", 0.0), _number(p, "offset", 0.0)
    t = np.arange(T, dtype=np.float64)
    signal = offset + amp * np.sin(2 * np.pi * t / period + phase)
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"sine: {offset:g} + {amp:g} sin(2 pi t / {period:g} + {phase:g}), T = {T}")


def _square(T, m, column, **p) -> Generated:
    amp, period = _number(p, "amplitude", 1.0), _period(p)
    duty, offset = _number(p, "duty", 0.5, "duty cycle"), _number(p, "offset", 0.0)
    if not 0 < duty < 1:
        raise LstmvizError(f"duty cycle: {duty:g} must be between 0 and 1")
    t = np.arange(T, dtype=np.float64)
    high = np.mod(t, period) < duty * period
    signal = offset + np.where(high, amp, -amp)
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"square wave: +-{amp:g} around {offset:g}, period {period:g}, T = {T}")


def _step(T, m, column, **p) -> Generated:
    at = _integer(p, "at", 10, "step at t")
    low, high = _number(p, "low", 0.0), _number(p, "high", 1.0)
    signal = np.where(np.arange(T) >= at, high, low).astype(np.float64)
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"step: {low:g} before t = {at}, {high:g} from then on, T = {T}")


def _impulse(T, m, column, **p) -> Generated:
    at = _integer(p, "at", 10, "impulse at t")
    amp = _number(p, "amplitude", 1.0)
    if not 0 <= at < T:
        raise LstmvizError(f"impulse at t: {at} is not in 0..{T - 1}")
    signal = np.zeros(T)
    signal[at] = amp
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"impulse: {amp:g} at t = {at}, 0 elsewhere, T = {T}")


def _ramp(T, m, column, **p) -> Generated:
    start, stop = _number(p, "start", 0.0), _number(p, "stop", 1.0)
    signal = np.linspace(start, stop, T) if T > 1 else np.array([start])
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"ramp: {start:g} to {stop:g} over T = {T} steps")


def _uniform(T, m, column, **p) -> Generated:
    low, high = _number(p, "low", -1.0), _number(p, "high", 1.0)
    if not low < high:
        raise LstmvizError(f"high: {high:g} must be more than low ({low:g})")
    rng = _rng(p)
    width = m if column in (None, "all") else 1
    values = rng.uniform(low, high, (T, width))
    signal = values if width == m and column in (None, "all") else values[:, 0]
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"uniform noise in [{low:g}, {high:g}), seed {p.get('seed', 0)}, T = {T}")


def _normal(T, m, column, **p) -> Generated:
    mean, std = _number(p, "mean", 0.0), _number(p, "std", 1.0, "standard deviation")
    if std < 0:
        raise LstmvizError(f"standard deviation: {std:g} is negative")
    rng = _rng(p)
    width = m if column in (None, "all") else 1
    values = rng.normal(mean, std, (T, width))
    signal = values if width == m and column in (None, "all") else values[:, 0]
    xs, names = _place(signal, m, column)
    return Generated(xs, names, f"normal noise, mean {mean:g}, std {std:g}, seed {p.get('seed', 0)}, T = {T}")


# -- tasks -------------------------------------------------------------------------------------
def _remember_first(T, m, column=None, **p) -> Generated:
    """Column 0 carries random values; the answer at the last step is the first of them.
    With m >= 2, column 1 flags step 0 ("this one")."""
    rng = _rng(p)
    xs = np.zeros((T, m))
    xs[:, 0] = np.round(rng.uniform(-1.0, 1.0, T), 3)
    names = ["value"] + [""] * (m - 1)
    if m >= 2:
        xs[0, 1] = 1.0
        names[1] = "first"
    target = np.full(T, xs[0, 0])
    return Generated(
        xs, tuple(names),
        f"remember the first value: x_0 = {xs[0, 0]:g} must come out at t = {T - 1} (T = {T})",
        target,
    )


def _add_marked(T, m, column=None, **p) -> Generated:
    """Hochreiter & Schmidhuber's adding problem: column 0 random in [0, 1), column 1 marks
    one step in the first half and one in the second; the answer is the sum of the two."""
    if m < 2:
        raise LstmvizError(
            "the adding task needs two input columns (value, marker) but the model has m = 1"
        )
    if T < 2:
        raise LstmvizError(f"length T: the adding task needs at least 2 steps, not {T}")
    rng = _rng(p)
    xs = np.zeros((T, m))
    xs[:, 0] = np.round(rng.uniform(0.0, 1.0, T), 3)
    half = T // 2
    first = int(rng.integers(0, half))
    second = int(rng.integers(half, T))
    xs[[first, second], 1] = 1.0
    total = xs[first, 0] + xs[second, 0]
    target = np.full(T, total)
    names = ("value", "marker", *([""] * (m - 2)))
    return Generated(
        xs, names,
        f"add the two marked numbers: t = {first} ({xs[first, 0]:g}) + t = {second} "
        f"({xs[second, 0]:g}) = {total:g} (T = {T})",
        target,
    )


# -- text --------------------------------------------------------------------------------------
def char_label(ch: str) -> str:
    """A visible name for a character: space, newline and tab are shown as symbols."""
    return {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍"}.get(ch, ch)


def default_vocabulary(text: str) -> str:
    """The distinct characters of the text, sorted."""
    return "".join(sorted(set(text)))


def encode_text(text: str, vocabulary: str, m: int) -> np.ndarray:
    """One-hot rows: row t has a 1 in the column of text[t]'s place in the vocabulary."""
    index = {ch: k for k, ch in enumerate(vocabulary)}
    codes = np.fromiter((index.get(ch, -1) for ch in text), dtype=np.int64, count=len(text))
    missing = np.flatnonzero(codes < 0)
    if missing.size:
        pos = int(missing[0])
        raise LstmvizError(
            f"text: character {char_label(text[pos])!r} at position {pos} is not in the vocabulary"
        )
    xs = np.zeros((len(text), m))
    xs[np.arange(len(text)), codes] = 1.0
    return xs


def _text(T=None, m=1, column=None, **p) -> Generated:
    text = str(p.get("text", ""))
    if not text:
        raise LstmvizError("text: type at least one character")
    if len(text) > MAX_STEPS:
        raise LstmvizError(f"text: {len(text)} characters, more than {MAX_STEPS} steps")
    vocabulary = p.get("vocabulary") or default_vocabulary(text)
    vocabulary = str(vocabulary)
    if len(set(vocabulary)) != len(vocabulary):
        dup = next(ch for ch in vocabulary if vocabulary.count(ch) > 1)
        raise LstmvizError(f"vocabulary: character {char_label(dup)!r} appears twice")
    if len(vocabulary) > m:
        raise LstmvizError(
            f"vocabulary: {len(vocabulary)} characters need {len(vocabulary)} one-hot columns but "
            f"the model has m = {m} inputs"
        )
    _check_m(m, len(text))
    xs = encode_text(text, vocabulary, m)
    names = tuple(char_label(ch) for ch in vocabulary) + ("",) * (m - len(vocabulary))
    unused = f"; columns {len(vocabulary)}..{m - 1} unused" if len(vocabulary) < m else ""
    return Generated(
        xs, names, f"text: {len(text)} characters one-hot over {len(vocabulary)} characters{unused}"
    )


GENERATORS: dict[str, Generator] = {
    g.key: g
    for g in (
        Generator("sine", "Sine", "A sine wave.", (
            T_PARAM,
            Param("amplitude", "amplitude", "float", 1.0, -1e6, 1e6),
            Param("period", "period (steps)", "float", 25.0, 0.001, 1e9),
            Param("phase", "phase (radians)", "float", 0.0, -1e3, 1e3),
            Param("offset", "offset", "float", 0.0, -1e6, 1e6),
        ), _sine),
        Generator("square", "Square wave", "Switches between +amplitude and -amplitude.", (
            T_PARAM,
            Param("amplitude", "amplitude", "float", 1.0, -1e6, 1e6),
            Param("period", "period (steps)", "float", 20.0, 0.001, 1e9),
            Param("duty", "duty cycle (0..1)", "float", 0.5, 0.001, 0.999),
            Param("offset", "offset", "float", 0.0, -1e6, 1e6),
        ), _square),
        Generator("step", "Step", "Low until a step, then high: watch the gates respond.", (
            T_PARAM,
            Param("at", "step at t", "int", 10, 0, MAX_STEPS),
            Param("low", "low", "float", 0.0, -1e6, 1e6),
            Param("high", "high", "float", 1.0, -1e6, 1e6),
        ), _step),
        Generator("impulse", "Impulse", "A single non-zero step: how long does the cell remember it?", (
            T_PARAM,
            Param("at", "impulse at t", "int", 10, 0, MAX_STEPS - 1),
            Param("amplitude", "amplitude", "float", 1.0, -1e6, 1e6),
        ), _impulse),
        Generator("ramp", "Ramp", "A straight line from start to stop.", (
            T_PARAM,
            Param("start", "start", "float", 0.0, -1e6, 1e6),
            Param("stop", "stop", "float", 1.0, -1e6, 1e6),
        ), _ramp),
        Generator("uniform", "Uniform noise", "Independent uniform values (seeded).", (
            T_PARAM,
            Param("low", "low", "float", -1.0, -1e6, 1e6),
            Param("high", "high", "float", 1.0, -1e6, 1e6),
            SEED,
        ), _uniform),
        Generator("normal", "Normal noise", "Independent Gaussian values (seeded).", (
            T_PARAM,
            Param("mean", "mean", "float", 0.0, -1e6, 1e6),
            Param("std", "standard deviation", "float", 1.0, 0.0, 1e6),
            SEED,
        ), _normal),
        Generator(
            "remember-first", "Task: remember the first value",
            "Random values in column 0 (column 1 flags step 0); the right answer at the last "
            "step is the first value, so the cell must hold it all the way.",
            (T_PARAM, SEED), _remember_first, uses_columns=False,
        ),
        Generator(
            "add-marked", "Task: add the two marked numbers",
            "The adding problem: random values in column 0, a 1 in column 1 at two steps (one in "
            "each half); the answer is the sum of the two marked values.",
            (T_PARAM, SEED), _add_marked, uses_columns=False, min_columns=2,
        ),
        Generator(
            "text", "Text (one-hot characters)",
            "Each character becomes a step: a 1 in its column of the vocabulary, 0 elsewhere.",
            (
                Param("text", "text", "text", "hello world"),
                Param("vocabulary", "vocabulary", "text", "",
                      help="one column per character, in this order; empty: the text's characters"),
            ),
            _text, uses_columns=False, uses_length=False,
        ),
    )
}


def generate(kind: str, T: int | None = None, m: int = 1, column="all", **params) -> Generated:
    """Make an input of T steps and exactly m columns (see GENERATORS for each kind's params).

    column: "all" (every column; noise is independent per column) or a column index (the
    others are zero). Raises LstmvizError naming the field and the problem.
    """
    gen = GENERATORS.get(kind)
    if gen is None:
        raise LstmvizError(f"unknown generator {kind!r} (known: {', '.join(GENERATORS)})")
    if gen.uses_length:
        T = _check_T(T if T is not None else T_PARAM.default)
        m = _check_m(m, T)
    out = gen.func(T, int(m), column if gen.uses_columns else None, **params)
    assert out.xs.shape[1] == m and out.xs.dtype == np.float64
    return out
