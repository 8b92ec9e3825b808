"""Presets: the values written out in lstmviz.presets are the ones their recipe makes."""

from __future__ import annotations

import numpy as np

from lstmviz import presets


def test_memory_cell_noise_is_the_seeded_uniform_noise_it_stands_for():
    expected = np.round(np.random.default_rng(7).uniform(-1, 1, 40), 2)
    assert np.array_equal(np.asarray(presets.MEMORY_CELL_NOISE), expected)
    xs = presets.memory_cell_inputs()
    assert xs.shape == (40, 3)
    # the value line carries the noise except where a write puts its value there
    keep = np.setdiff1d(np.arange(40), [3, 20])
    assert np.array_equal(xs[keep, 0], expected[keep])
    assert xs[3, 0] == 0.8 and xs[20, 0] == -0.6


def test_other_lengths_still_draw_their_noise():
    xs = presets.memory_cell_inputs(T=60, seed=7)
    expected = np.round(np.random.default_rng(7).uniform(-1, 1, 60), 2)
    keep = np.setdiff1d(np.arange(60), [3, 20])
    assert np.array_equal(xs[keep, 0], expected[keep])
