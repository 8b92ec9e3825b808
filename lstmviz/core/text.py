"""Character-level input: a vocabulary, text -> one-hot rows, and back.

    vocab = Vocabulary.from_text("hello (world)")
    xs = vocab.encode("hello")          # (5, m) one-hot float64, column j = vocab.chars[j]
    vocab.decode(xs) == "hello"

A model trained on characters stores its vocabulary beside it as ``<model>.vocab.json``
(``{"chars": [...], "unknown": " "}``; see :func:`vocabulary_path`), because the native .npz
holds only the cell's arrays. Characters outside the vocabulary are an error, or are read as
``unknown`` when the vocabulary names one (so a learner can type anything).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmviz.errors import LstmvizError

# How a view shows characters that are invisible or break a line.
DISPLAY_NAMES = {" ": "\u2423", "\n": "\u23ce", "\t": "\u21e5", "\r": "\u240d"}
VOCAB_SUFFIX = ".vocab.json"


def display_name(char: str) -> str:
    """A visible stand-in for space, newline, tab; the character itself otherwise."""
    return DISPLAY_NAMES.get(char, char)


@dataclass(frozen=True)
class Vocabulary:
    """Ordered characters; column j of an encoded row stands for chars[j]."""

    chars: tuple[str, ...]
    unknown: str | None = None  # read characters outside the vocabulary as this one

    def __post_init__(self) -> None:
        chars = self.chars
        if isinstance(chars, str):
            chars = tuple(chars)
        try:
            chars = tuple(chars)
        except TypeError:
            raise LstmvizError(f"vocabulary chars {self.chars!r} is not a sequence of characters") from None
        if not chars:
            raise LstmvizError("the vocabulary is empty")
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise LstmvizError(f"vocabulary entry {bad[0]!r} is not a single character")
        seen: set[str] = set()
        for char in chars:
            if char in seen:
                raise LstmvizError(f"vocabulary lists {char!r} twice")
            seen.add(char)
        if self.unknown is not None and self.unknown not in seen:
            raise LstmvizError(f"the unknown character {self.unknown!r} is not in the vocabulary")
        object.__setattr__(self, "chars", chars)
        object.__setattr__(self, "_index", {c: j for j, c in enumerate(chars)})

    # -- construction -----------------------------------------------------------------------
    @classmethod
    def from_text(cls, text: str, extra: str = "", unknown: str | None = None) -> Vocabulary:
        """The sorted distinct characters of text (plus extra)."""
        return cls(tuple(sorted(set(text) | set(extra))), unknown=unknown)

    @classmethod
    def from_dict(cls, data) -> Vocabulary:
        if not isinstance(data, dict) or "chars" not in data:
            raise LstmvizError("a vocabulary needs a 'chars' list")
        chars = data["chars"]
        if isinstance(chars, str) or not isinstance(chars, list):
            raise LstmvizError("the vocabulary's 'chars' must be a list of single characters")
        return cls(tuple(chars), unknown=data.get("unknown"))

    def to_dict(self) -> dict:
        return {"chars": list(self.chars), "unknown": self.unknown}

    @classmethod
    def load(cls, path) -> Vocabulary:
        """Read a vocabulary JSON file; errors name the file."""
        source = str(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LstmvizError("no such file", source=source) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LstmvizError(f"not a readable vocabulary JSON file ({error})", source=source) from None
        try:
            return cls.from_dict(data)
        except LstmvizError as error:
            raise error.with_source(source) from None

    # -- use --------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """m: the number of characters, and of input columns."""
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, char: object) -> bool:
        return char in self._index  # type: ignore[attr-defined]

    def index(self, char: str) -> int:
        try:
            return self._index[char]  # type: ignore[attr-defined]
        except KeyError:
            if self.unknown is not None:
                return self._index[self.unknown]  # type: ignore[attr-defined]
            raise LstmvizError(f"character {char!r} is not in the vocabulary") from None

    @property
    def input_names(self) -> tuple[str, ...]:
        """Column names for a view: the characters, with space and newline made visible."""
        return tuple(display_name(c) for c in self.chars)

    def indices(self, text: str) -> np.ndarray:
        """(T,) column index of each character; unknown characters map to `unknown` or fail
        with an error naming the character and its position."""
        lookup = self._index  # type: ignore[attr-defined]
        fallback = None if self.unknown is None else lookup[self.unknown]
        out = np.empty(len(text), dtype=np.intp)
        for pos, char in enumerate(text):
            j = lookup.get(char, fallback)
            if j is None:
                raise LstmvizError(
                    f"character {char!r} at position {pos} is not in the vocabulary "
                    f"({len(self.chars)} characters)"
                )
            out[pos] = j
        return out

    def normalize(self, text: str) -> str:
        """text with every unknown character replaced by `unknown` (what the model reads)."""
        return "".join(self.chars[j] for j in self.indices(text))

    def encode(self, text: str, dtype=np.float64) -> np.ndarray:
        """(T, m) one-hot rows for a non-empty text."""
        if not text:
            raise LstmvizError("the text is empty (no characters to feed the model)")
        idx = self.indices(text)
        xs = np.zeros((idx.size, self.size), dtype=dtype)
        xs[np.arange(idx.size), idx] = 1.0
        return xs

    def decode(self, xs) -> str:
        """Text from one-hot (or score) rows (T, m) by argmax, or from (T,) indices."""
        xs = np.asarray(xs)
        if xs.ndim == 2:
            if xs.shape[1] != self.size:
                raise LstmvizError(f"rows have {xs.shape[1]} columns, the vocabulary {self.size} characters")
            idx = np.argmax(xs, axis=1)
        elif xs.ndim == 1:
            idx = xs.astype(np.intp)
            if idx.size and (idx.min() < 0 or idx.max() >= self.size):
                raise LstmvizError(f"indices must be in 0..{self.size - 1}")
        else:
            raise LstmvizError(f"cannot decode an array of shape {xs.shape}")
        return "".join(self.chars[j] for j in idx.tolist())


def vocabulary_path(model_path) -> Path:
    """Where a model's vocabulary lives: model.npz -> model.vocab.json."""
    path = Path(model_path)
    name = path.name
    for suffix in (".npz", ".pt", ".pth", ".safetensors", ".keras", ".h5", ".onnx"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(name + VOCAB_SUFFIX)


def load_model_vocabulary(model_path) -> Vocabulary | None:
    """The vocabulary stored beside a model file, or None when it has none."""
    path = vocabulary_path(model_path)
    return Vocabulary.load(path) if path.is_file() else None
