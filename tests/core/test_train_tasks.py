"""The tasks' batches: shapes, targets computed here from the inputs, the difficulty knob."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.train.tasks import make_task
from lstmviz.errors import LstmvizError


def test_first_value_target_is_the_first_input_after_the_delay():
    task = make_task("first-value", 7)
    batch = task.batch(np.random.default_rng(0), 5)
    assert batch.xs.shape == (5, 8, 2) and list(batch.steps) == [7]
    np.testing.assert_array_equal(batch.target[0, :, 0], batch.xs[:, 0, 0])
    assert np.all(batch.xs[:, 0, 1] == 1) and np.all(batch.xs[:, 1:, 1] == 0)
    assert len(set(batch.xs[:, 0, 0])) == 5  # every row its own sequence


def test_adding_target_is_the_sum_of_the_marked_values():
    batch = make_task("adding", 20).batch(np.random.default_rng(1), 6)
    marked = (batch.xs[:, :, 0] * batch.xs[:, :, 1]).sum(axis=1)
    np.testing.assert_allclose(batch.target[0, :, 0], marked)
    assert np.all(batch.xs[:, :, 1].sum(axis=1) == 2)


def test_brackets_target_is_the_running_depth_within_the_limit():
    task = make_task("brackets", 3)
    batch = task.batch(np.random.default_rng(2), 4)
    steps = np.where(batch.xs[:, :, 0] == 1, 1, -1)
    depth = np.cumsum(steps, axis=1)
    np.testing.assert_array_equal(batch.target.T, depth)
    assert depth.min() >= 0 and depth.max() <= 3 and task.k == 4


def test_sine_target_is_ahead_of_the_input_and_text_target_is_the_next_character():
    batch = make_task("sine", 1).batch(np.random.default_rng(3), 2)
    # the input is the target one step late, plus noise of std 0.1
    assert np.std(batch.xs[:, 1:, 0] - batch.target[:-1, :, 0].T) < 0.2
    task = make_task("text", 5, text="abcabcabd")
    batch = task.batch(np.random.default_rng(4), 3)
    chars = batch.xs.argmax(axis=2)
    np.testing.assert_array_equal(batch.target.T[:, :-1], chars[:, 1:])
    assert task.vocabulary == "abcd" and batch.xs.shape == (3, 5, 4)


@pytest.mark.parametrize("name, difficulty, text, message", [
    ("first-value", -1, None, "delay D.*-1 is not in 0"),
    ("brackets", 0, None, "maximum depth D"),
    ("text", 5, None, "needs a text"),
    ("text", 50, "short", "fewer than the window"),
])
def test_bad_difficulty_or_text_is_a_one_line_error(name, difficulty, text, message):
    with pytest.raises(LstmvizError, match=message):
        make_task(name, difficulty, text=text)
