from __future__ import annotations

import json

import numpy as np
import pytest

from lstmviz.core.text import Vocabulary, display_name, load_model_vocabulary, vocabulary_path
from lstmviz.errors import LstmvizError
from lstmviz.io.vocabulary import save_vocabulary


def test_round_trip_and_one_hot():
    vocab = Vocabulary.from_text("hello (world)\n")
    assert vocab.chars == tuple(sorted(set("hello (world)\n")))
    xs = vocab.encode("hello")
    assert xs.shape == (5, vocab.size) and xs.dtype == np.float64
    np.testing.assert_array_equal(xs.sum(axis=1), 1.0)
    assert xs[0, vocab.index("h")] == 1.0
    assert vocab.decode(xs) == "hello"
    assert vocab.decode(vocab.indices("(low)")) == "(low)"
    assert "h" in vocab and "z" not in vocab and len(vocab) == vocab.size
    assert vocab.input_names[vocab.index(" ")] == "\u2423" and display_name("\n") == "\u23ce"
    assert display_name("a") == "a"


def test_unknown_characters():
    strict = Vocabulary(tuple("ab "))
    with pytest.raises(LstmvizError, match="character 'z' at position 2 is not in the vocabulary"):
        strict.encode("abz")
    lenient = Vocabulary(tuple("ab "), unknown=" ")
    assert lenient.decode(lenient.encode("abz")) == "ab "
    assert lenient.normalize("xa") == " a"
    with pytest.raises(LstmvizError, match="empty"):
        lenient.encode("")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(chars=()), "empty"),
        (dict(chars=("a", "a")), "twice"),
        (dict(chars=("ab",)), "not a single character"),
        (dict(chars=("a",), unknown="b"), "unknown character 'b'"),
    ],
)
def test_bad_vocabularies(kwargs, message):
    with pytest.raises(LstmvizError, match=message):
        Vocabulary(**kwargs)


def test_files(tmp_path):
    vocab = Vocabulary(tuple('\n "()ab'), unknown=" ")
    model = tmp_path / "m.npz"
    assert vocabulary_path(model) == tmp_path / "m.vocab.json"
    assert load_model_vocabulary(model) is None
    save_vocabulary(vocab, vocabulary_path(model))
    assert json.loads(vocabulary_path(model).read_text(encoding="utf-8"))["chars"][0] == "\n"
    assert load_model_vocabulary(model) == vocab
    bad = tmp_path / "bad.vocab.json"
    bad.write_text("{nope", encoding="utf-8")
    with pytest.raises(LstmvizError, match="bad.vocab.json: not a readable vocabulary JSON"):
        Vocabulary.load(bad)
    bad.write_text('{"chars": "abc"}', encoding="utf-8")
    with pytest.raises(LstmvizError, match="must be a list"):
        Vocabulary.load(bad)
    with pytest.raises(LstmvizError, match="no such file"):
        Vocabulary.load(tmp_path / "missing.json")


def test_decode_checks_shapes():
    vocab = Vocabulary(tuple("ab"))
    with pytest.raises(LstmvizError, match="columns"):
        vocab.decode(np.zeros((2, 3)))
    with pytest.raises(LstmvizError, match="indices"):
        vocab.decode(np.array([0, 5]))
