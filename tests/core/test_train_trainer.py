"""The trainer: reaches a loss on first-value with a fixed seed, reproduces a run exactly, runs
in chunks, keeps checkpoints; the optimizers against their formulas written out here."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmviz.core.cell import run_cell
from lstmviz.core.train import TrainConfig, Trainer
from lstmviz.core.train.optim import SGD, Adam, clip_by_global_norm
from lstmviz.errors import LstmvizError


def test_first_value_reaches_a_low_loss_with_a_fixed_seed():
    config = TrainConfig(task="first-value", difficulty=10, n=8, lr=0.02, iterations=400, seed=0,
                         stop_loss=0.005)
    trainer = Trainer(config)
    first = trainer.step()[0]
    while not trainer.done:
        trainer.run_chunk(max_iterations=50)
    assert trainer.stopped_early and trainer.iteration < 400
    assert np.mean(trainer.losses[-10:]) < 0.005 < first / 10
    # The saved cell plus the readout answers a fresh sequence itself: x_0 at the last step.
    params = trainer.params()
    rng = np.random.default_rng(99)
    errors = []
    for _ in range(20):
        xs = np.zeros((11, 2))
        xs[:, 0] = rng.uniform(-1, 1, 11)
        xs[0, 1] = 1.0
        h = run_cell(params, xs).h[-1]
        errors.append(float((trainer.V @ h + trainer.d)[0]) - xs[0, 0])
    assert np.sqrt(np.mean(np.square(errors))) < 0.15


def test_the_same_seed_gives_the_same_run_and_another_seed_does_not():
    def losses(seed):
        trainer = Trainer(TrainConfig(task="adding", difficulty=12, n=6, iterations=15, seed=seed))
        trainer.run_chunk(max_iterations=15)
        return trainer.losses, trainer.params().W_f

    a, b, c = losses(3), losses(3), losses(4)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert a[0] != c[0]


def test_run_chunk_stops_at_its_limit_and_checkpoints_stay_bounded_and_spaced():
    trainer = Trainer(TrainConfig(task="sine", n=4, batch=4, iterations=100, max_checkpoints=16))
    assert trainer.run_chunk(max_iterations=7) == 7 and trainer.iteration == 7
    assert trainer.run_chunk(max_seconds=0.0) == 1  # at least one iteration per chunk
    trainer.run_chunk(max_iterations=1000)
    assert trainer.done and trainer.iteration == 100 and trainer.run_chunk(max_iterations=5) == 0
    iterations = [cp.iteration for cp in trainer.checkpoints]
    assert len(iterations) <= 17 and iterations[0] == 0
    assert len(set(np.diff(iterations))) == 1  # evenly spaced
    # A checkpoint is a copy: the model it holds is the one of its iteration.
    snap = trainer.checkpoint()
    trainer.arrays["W"] += 1.0
    assert not np.array_equal(snap.params().W_i, trainer.params().W_i)
    assert len(trainer.losses) == len(trainer.accuracies) == 100


def test_forget_bias_sets_every_forget_gate_bias():
    for bias in (0.0, 1.0):
        params = Trainer(TrainConfig(n=5, forget_bias=bias, iterations=0)).params()
        assert np.all(params.b_f == bias)
        assert not np.all(params.b_i == bias)


@pytest.mark.parametrize("task", ["brackets", "sine", "adding"])
def test_every_task_trains_without_error_and_lowers_its_loss(task):
    trainer = Trainer(TrainConfig(task=task, n=8, lr=0.02, iterations=60, seed=1, batch=16))
    trainer.run_chunk(max_iterations=60)
    assert np.mean(trainer.losses[-10:]) < np.mean(trainer.losses[:5])


def test_adam_and_sgd_follow_their_formulas():
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=5)
    grads = [rng.normal(size=5) for _ in range(3)]
    p = {"w": p0.copy()}
    adam = Adam(p, lr=0.1)
    ref, m, v = p0.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        adam.step({"w": g.copy()})
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        ref = ref - 0.1 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(p["w"], ref, rtol=1e-13)
    q = {"w": p0.copy()}
    SGD(q, lr=0.5).step({"w": grads[0]})
    np.testing.assert_allclose(q["w"], p0 - 0.5 * grads[0])


def test_clipping_scales_to_the_global_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([4.0])}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(5.0)
    total = math.sqrt(sum(float(g @ g) for g in grads.values()))
    assert total == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(grads["a"] / grads["b"], [0.75, 0.0])


@pytest.mark.parametrize("change, message", [
    ({"n": 0}, "n: 0"), ({"lr": float("nan")}, "lr: nan is not a finite number"), ({"lr": -1.0}, "lr"),
    ({"batch": 0}, "batch"), ({"optimizer": "rmsprop"}, "optimizer"), ({"task": "chess"}, "unknown task"),
    ({"difficulty": -1}, "delay D"),
])
def test_bad_configs_are_one_line_errors(change, message):
    with pytest.raises(LstmvizError, match=message) as info:
        Trainer(TrainConfig(**change))
    assert "\n" not in str(info.value)
