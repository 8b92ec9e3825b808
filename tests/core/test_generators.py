"""Input generators: shapes, values, seeds, the two tasks, text, and errors naming the field."""

import subprocess
import sys

import numpy as np
import pytest

from lstmviz.core.generators import GENERATORS, MAX_STEPS, generate
from lstmviz.errors import LstmvizError


@pytest.mark.parametrize("kind", [k for k, g in GENERATORS.items() if g.uses_length])
@pytest.mark.parametrize("m", [1, 2, 5])
def test_every_generator_fills_exactly_m_columns(kind, m):
    if GENERATORS[kind].min_columns > m:
        with pytest.raises(LstmvizError, match="m = 1"):
            generate(kind, T=30, m=m)
        return
    out = generate(kind, T=30, m=m)
    assert out.xs.shape == (30, m) and out.xs.dtype == np.float64
    assert np.isfinite(out.xs).all()
    assert len(out.names) == m
    assert out.description


def test_signal_values():
    t = np.arange(50)
    sine = generate("sine", T=50, m=1, amplitude=2, period=10, phase=0.5, offset=1).xs[:, 0]
    np.testing.assert_allclose(sine, 1 + 2 * np.sin(2 * np.pi * t / 10 + 0.5))
    square = generate("square", T=40, m=1, amplitude=1, period=10, duty=0.3).xs[:, 0]
    assert set(square) == {-1.0, 1.0}
    assert (square[:3] == 1).all() and (square[3:10] == -1).all() and square[10] == 1
    step = generate("step", T=20, m=1, at=5, low=-1, high=2).xs[:, 0]
    assert (step[:5] == -1).all() and (step[5:] == 2).all()
    impulse = generate("impulse", T=20, m=1, at=7, amplitude=3).xs[:, 0]
    assert impulse[7] == 3 and np.count_nonzero(impulse) == 1
    ramp = generate("ramp", T=11, m=1, start=0, stop=1).xs[:, 0]
    np.testing.assert_allclose(ramp, np.linspace(0, 1, 11))


def test_columns_all_or_one():
    every = generate("sine", T=20, m=3).xs
    assert (every == every[:, :1]).all()
    one = generate("sine", T=20, m=3, column=1)
    assert not one.xs[:, [0, 2]].any() and one.xs[:, 1].any()
    assert one.names == ("", "x_1", "")
    with pytest.raises(LstmvizError, match="column: 3 is not in 0..2"):
        generate("sine", T=20, m=3, column=3)


def test_noise_is_seeded_and_independent_per_column():
    a = generate("uniform", T=100, m=2, low=-2, high=3, seed=5).xs
    b = generate("uniform", T=100, m=2, low=-2, high=3, seed=5).xs
    c = generate("uniform", T=100, m=2, low=-2, high=3, seed=6).xs
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= -2 and a.max() < 3
    assert not np.array_equal(a[:, 0], a[:, 1])
    n = generate("normal", T=20000, m=1, mean=1, std=0.5, seed=1).xs
    assert abs(n.mean() - 1) < 0.02 and abs(n.std() - 0.5) < 0.02


def test_remember_first_task():
    out = generate("remember-first", T=50, m=3, seed=2)
    assert out.names[:2] == ("value", "first")
    assert out.xs[0, 1] == 1 and out.xs[1:, 1].sum() == 0 and not out.xs[:, 2].any()
    assert (out.target == out.xs[0, 0]).all()
    single = generate("remember-first", T=50, m=1, seed=2)
    np.testing.assert_array_equal(single.xs[:, 0], out.xs[:, 0])


def test_adding_task_marks_one_step_in_each_half():
    out = generate("add-marked", T=100, m=2, seed=3)
    marks = np.flatnonzero(out.xs[:, 1])
    assert len(marks) == 2 and marks[0] < 50 <= marks[1]
    assert out.target[-1] == pytest.approx(out.xs[marks, 0].sum())
    assert (out.xs[:, 0] >= 0).all() and (out.xs[:, 0] < 1).all()
    with pytest.raises(LstmvizError, match="two input columns"):
        generate("add-marked", T=100, m=1)


def test_text_one_hot_over_the_vocabulary():
    out = generate("text", m=6, text="abba c")
    assert out.xs.shape == (6, 6)
    assert out.names == ("␣", "a", "b", "c", "", "")
    np.testing.assert_array_equal(out.xs.argmax(axis=1), [1, 2, 2, 1, 0, 3])
    assert (out.xs.sum(axis=1) == 1).all()
    given = generate("text", m=4, text="ab", vocabulary="ba")
    np.testing.assert_array_equal(given.xs.argmax(axis=1), [1, 0])
    with pytest.raises(LstmvizError, match="vocabulary: 4 characters need 4 one-hot columns .* m = 3"):
        generate("text", m=3, text="abba c")
    with pytest.raises(LstmvizError, match="character 'z' at position 2 is not in the vocabulary"):
        generate("text", m=4, text="abz", vocabulary="ab")
    with pytest.raises(LstmvizError, match="text: type at least one character"):
        generate("text", m=4, text="")
    with pytest.raises(LstmvizError, match="appears twice"):
        generate("text", m=4, text="ab", vocabulary="aab")


def test_bad_fields_name_themselves():
    with pytest.raises(LstmvizError, match="amplitude: 'abc' is not a number"):
        generate("sine", T=10, m=1, amplitude="abc")
    with pytest.raises(LstmvizError, match="period: .* more than 0"):
        generate("sine", T=10, m=1, period=0)
    with pytest.raises(LstmvizError, match="length T: 0 is not in 1..1 000 000"):
        generate("sine", T=0, m=1)
    with pytest.raises(LstmvizError, match="length T"):
        generate("sine", T=MAX_STEPS + 1, m=1)
    with pytest.raises(LstmvizError, match="seed: 'x' is not a whole number"):
        generate("normal", T=10, m=1, seed="x")
    with pytest.raises(LstmvizError, match="impulse at t: 10 is not in 0..9"):
        generate("impulse", T=10, m=1, at=10)
    with pytest.raises(LstmvizError, match="high: .* more than low"):
        generate("uniform", T=10, m=1, low=1, high=1)
    with pytest.raises(LstmvizError, match="unknown generator"):
        generate("nope", T=10, m=1)
    with pytest.raises(LstmvizError, match="values, more than"):
        generate("sine", T=MAX_STEPS, m=100)


def test_a_million_steps():
    out = generate("normal", T=MAX_STEPS, m=2, seed=0)
    assert out.xs.shape == (1_000_000, 2)
    assert generate("text", m=1, text="a" * MAX_STEPS).xs.shape == (1_000_000, 1)


def test_generators_do_not_load_qt():
    code = ("import sys, lstmviz.core.generators, lstmviz.edits, lstmviz.autosave, "
            "lstmviz.io.document_file, lstmviz.io.trace_npz\n"
            "assert not [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
