"""Training an LSTM cell with a linear readout on a task, in chunks a window can schedule.

    trainer = Trainer(TrainConfig(task="first-value", difficulty=20, n=16))
    while not trainer.done:
        trainer.run_chunk(max_seconds=0.02)      # between two frames: the window never freezes
    params, V, d = trainer.params(), trainer.V, trainer.d

One iteration: a mini-batch from the task, the batched forward pass, the readout's loss and
its gradients, exact BPTT (lstmviz.core.train.backprop), optional gradient-norm clipping over
every parameter (readout included), one optimizer step. Everything random (initialisation and
data) comes from the seed, and BLAS runs on one thread at these sizes, so the same config gives
the same run, number for number.

Checkpoints (parameters and readout) are kept for a scrubber: every iteration at first; when
`max_checkpoints` are held, every other one is dropped and the interval doubles, so a long run
keeps an evenly spaced history of bounded size.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from lstmviz.core.blas import blas_threads
from lstmviz.core.params import LSTMParams
from lstmviz.core.train.backprop import ORDER, Cell, backward, forward
from lstmviz.core.train.losses import loss_and_gradients
from lstmviz.core.train.optim import OPTIMIZERS, clip_by_global_norm, make_optimizer
from lstmviz.core.train.tasks import Task, make_task
from lstmviz.errors import LstmvizError


@dataclass(frozen=True)
class TrainConfig:
    task: str = "first-value"
    difficulty: int | None = None  # None: the task's default
    n: int = 16
    lr: float = 0.01
    batch: int = 32
    optimizer: str = "adam"
    forget_bias: float = 1.0
    seed: int = 0
    clip: float | None = 1.0  # max global gradient norm; None: no clipping
    iterations: int = 1000  # the run stops after this many
    stop_loss: float | None = None  # early stop: mean loss of the last `stop_window` below this
    stop_window: int = 10
    dtype: str = "float64"
    max_checkpoints: int = 400

    def check(self) -> None:
        """One-line errors for values no run can use."""
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 1:
            raise LstmvizError(f"n: {self.n} must be a whole number of units, at least 1")
        if self.n > 4096:
            raise LstmvizError(f"n: {self.n} units is more than this trainer handles (4096)")
        for name in ("lr", "forget_bias"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise LstmvizError(f"{name.replace('_', '-')}: {value!r} is not a finite number")
        if self.lr <= 0:
            raise LstmvizError(f"lr: {self.lr:g} must be more than 0")
        if int(self.batch) != self.batch or self.batch < 1:
            raise LstmvizError(f"batch: {self.batch} must be at least 1")
        if int(self.iterations) != self.iterations or self.iterations < 0:
            raise LstmvizError(f"iterations: {self.iterations} must be 0 or more")
        if self.optimizer not in OPTIMIZERS:
            raise LstmvizError(f"optimizer: {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.clip is not None and not (math.isfinite(self.clip) and self.clip > 0):
            raise LstmvizError(f"clip: {self.clip!r} must be a number more than 0")
        if self.dtype not in ("float64", "float32"):
            raise LstmvizError(f"dtype: {self.dtype!r} is not float64 or float32")
        if self.seed < 0:
            raise LstmvizError(f"seed: {self.seed} is negative (use 0 or more)")


@dataclass(frozen=True)
class Checkpoint:
    """The model as it was after `iteration` optimizer steps (0: the initialisation)."""

    iteration: int
    arrays: dict[str, np.ndarray] = field(repr=False)  # W, U, b stacked in ORDER, V, d
    loss: float
    accuracy: float

    def params(self, name: str = "") -> LSTMParams:
        return _params_from_stacked(self.arrays, name)

    @property
    def V(self) -> np.ndarray:
        return self.arrays["V"]

    @property
    def d(self) -> np.ndarray:
        return self.arrays["d"]


def _params_from_stacked(arrays: dict[str, np.ndarray], name: str = "") -> LSTMParams:
    return LSTMParams.from_stacked(np.asarray(arrays["W"], dtype=np.float64),
                                   np.asarray(arrays["U"], dtype=np.float64),
                                   np.asarray(arrays["b"], dtype=np.float64), order=ORDER, name=name)


def initial_arrays(n: int, m: int, k: int, forget_bias: float, rng: np.random.Generator, dtype
                   ) -> dict[str, np.ndarray]:
    """PyTorch's default initialisation (nn.LSTM and nn.Linear: uniform in +-1/sqrt(n)), with
    every forget-gate bias set to `forget_bias` (Jozefowicz et al. 2015 recommend 1)."""
    bound = 1.0 / math.sqrt(n)
    W = rng.uniform(-bound, bound, (4 * n, m))
    U = rng.uniform(-bound, bound, (4 * n, n))
    b = rng.uniform(-bound, bound, 4 * n)
    f = ORDER.index("f")
    b[f * n : (f + 1) * n] = forget_bias
    V = rng.uniform(-bound, bound, (k, n))
    d = rng.uniform(-bound, bound, k)
    return {key: np.ascontiguousarray(v, dtype=dtype) for key, v in
            (("W", W), ("U", U), ("b", b), ("V", V), ("d", d))}


class Trainer:
    """One training run. Call `step()` or `run_chunk(...)` until `done`."""

    def __init__(self, config: TrainConfig, task: Task | None = None, text: str | None = None):
        config.check()
        self.config = config
        self.task = task or make_task(config.task, config.difficulty, text=text)
        self.dtype = np.dtype(config.dtype)
        self.rng = np.random.default_rng(config.seed)
        self.arrays = initial_arrays(config.n, self.task.m, self.task.k, config.forget_bias, self.rng,
                                     self.dtype)
        self.optimizer = make_optimizer(config.optimizer, self.arrays, config.lr)
        self.iteration = 0
        self.losses: list[float] = []
        self.accuracies: list[float] = []
        self.grad_norms: list[float] = []
        self.seconds = 0.0  # time spent inside step()
        self.stopped_early = False
        self.checkpoints: list[Checkpoint] = []
        self.checkpoint_every = 1
        self._keep_checkpoint(math.nan, math.nan)

    # -- state ----------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.stopped_early or self.iteration >= self.config.iterations

    @property
    def V(self) -> np.ndarray:
        return np.asarray(self.arrays["V"], dtype=np.float64)

    @property
    def d(self) -> np.ndarray:
        return np.asarray(self.arrays["d"], dtype=np.float64)

    def params(self) -> LSTMParams:
        """The cell as it is now (float64 LSTMParams, like any loaded model)."""
        c = self.config
        return _params_from_stacked(
            self.arrays, f"trained on {self.task.name} ({self.task.knob.split(' (')[0]} = "
            f"{self.task.difficulty}), n={c.n}, {self.iteration} iterations")

    def checkpoint(self) -> Checkpoint:
        """A snapshot of the model now (copies: later training does not change it)."""
        loss = self.losses[-1] if self.losses else math.nan
        acc = self.accuracies[-1] if self.accuracies else math.nan
        return Checkpoint(self.iteration, {k: v.copy() for k, v in self.arrays.items()}, loss, acc)

    def _keep_checkpoint(self, loss: float, acc: float) -> None:
        if self.iteration % self.checkpoint_every:
            return
        snapshot = {k: v.copy() for k, v in self.arrays.items()}
        self.checkpoints.append(Checkpoint(self.iteration, snapshot, loss, acc))
        if len(self.checkpoints) > self.config.max_checkpoints:
            self.checkpoint_every *= 2
            self.checkpoints = [cp for cp in self.checkpoints if cp.iteration % self.checkpoint_every == 0]

    # -- training -------------------------------------------------------------------------------
    def gradients(self, batch) -> tuple[float, float, dict[str, np.ndarray]]:
        """(loss, accuracy, gradients of W, U, b, V, d) on one batch, no update."""
        a = self.arrays
        cell = Cell(a["W"], a["U"], a["b"])
        record = forward(cell, batch.xs.astype(self.dtype, copy=False))
        target = batch.target if self.task.kind == "classification" else batch.target.astype(self.dtype)
        result = loss_and_gradients(self.task.kind, record.h, a["V"], a["d"], batch.steps, target,
                                    self.task.tolerance)
        grads = backward(cell, record, result.dloss_dh)
        return result.loss, result.accuracy, {"W": grads.W, "U": grads.U, "b": grads.b,
                                              "V": result.dV, "d": result.dd}

    def step(self) -> tuple[float, float]:
        """One iteration; returns (loss, accuracy) on its batch (before the update)."""
        if self.done:
            return (self.losses[-1], self.accuracies[-1]) if self.losses else (math.nan, math.nan)
        start = time.perf_counter()
        batch = self.task.batch(self.rng, self.config.batch)
        with blas_threads(self.config.n), np.errstate(over="ignore", under="ignore"):
            loss, acc, grads = self.gradients(batch)
            if not math.isfinite(loss):
                raise LstmvizError(f"training diverged at iteration {self.iteration + 1}: the loss is "
                                   f"{loss} (try a smaller learning rate)")
            norm = clip_by_global_norm(grads, self.config.clip)
            self.optimizer.step(grads)
        self.iteration += 1
        self.losses.append(loss)
        self.accuracies.append(acc)
        self.grad_norms.append(norm)
        self._keep_checkpoint(loss, acc)
        c = self.config
        if c.stop_loss is not None and len(self.losses) >= c.stop_window:
            if float(np.mean(self.losses[-c.stop_window:])) < c.stop_loss:
                self.stopped_early = True
        self.seconds += time.perf_counter() - start
        return loss, acc

    def run_chunk(self, max_seconds: float | None = None, max_iterations: int | None = None) -> int:
        """Train until `max_seconds` have passed or `max_iterations` are done (at least one
        iteration unless the run is over). Returns the number of iterations made."""
        if max_seconds is None and max_iterations is None:
            raise ValueError("give max_seconds or max_iterations")
        start = time.perf_counter()
        made = 0
        while not self.done:
            self.step()
            made += 1
            if max_iterations is not None and made >= max_iterations:
                break
            if max_seconds is not None and time.perf_counter() - start >= max_seconds:
                break
        return made

    def evaluate(self, batch) -> tuple[float, float]:
        """(loss, accuracy) on a given batch without training."""
        with blas_threads(self.config.n):
            loss, acc, _ = self.gradients(batch)
        return loss, acc


def model_arrays(params: LSTMParams, V: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    """What a trained model's .npz holds: the cell's arrays (W_i .. b_o, as every .npz model)
    plus the readout V (k, n) and d (k,), which lstmviz.load_model accepts and leaves aside."""
    return {**params.arrays(), "V": np.asarray(V, dtype=np.float64), "d": np.asarray(d, dtype=np.float64)}
