"""lstmviz train: train a small LSTM with a linear readout on a memory task, save it as .npz."""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

from lstmviz.core.train.tasks import DEFAULT_DIFFICULTY, KNOBS, MIN_DIFFICULTY, TASKS, make_task
from lstmviz.core.train.trainer import TrainConfig, Trainer, model_arrays
from lstmviz.errors import LstmvizError
from lstmviz.io.atomic import atomic_write

MAX_TEXT_BYTES = 64 << 20
PROGRESS_SECONDS = 1.0


def add_parser(subparsers):
    knobs = "; ".join(f"{name}: {KNOBS[name]}, default {DEFAULT_DIFFICULTY[name]}" for name in TASKS)
    parser = subparsers.add_parser(
        "train",
        help="train an LSTM with a linear readout on a memory task and save it (.npz)",
        description="Train an LSTM cell plus a readout y = V h + d on a task that needs memory "
                    "(exact backpropagation through time in NumPy), printing progress on stderr. "
                    f"--delay is each task's difficulty knob ({knobs}).",
    )
    parser.add_argument("task", choices=TASKS, metavar="TASK", help=f"one of {', '.join(TASKS)}")
    parser.add_argument("--delay", type=int, metavar="D", help="the task's difficulty knob (see above)")
    parser.add_argument("--n", type=int, default=16, metavar="N", help="hidden units (default 16)")
    parser.add_argument("--iterations", type=int, default=1000, metavar="K",
                        help="optimizer steps at most (default 1000)")
    parser.add_argument("--forget-bias", type=float, default=1.0, metavar="B",
                        help="initial forget-gate bias of every unit (default 1; try 0)")
    parser.add_argument("--seed", type=int, default=0, metavar="S",
                        help="seed of the initialisation and the data (the same seed, the same run)")
    parser.add_argument("--lr", type=float, default=0.01, metavar="LR", help="learning rate (default 0.01)")
    parser.add_argument("--batch", type=int, default=32, metavar="B", help="sequences per step (default 32)")
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--clip", type=float, default=1.0, metavar="NORM",
                        help="clip the global gradient norm to this (default 1; 0: no clipping)")
    parser.add_argument("--stop-loss", type=float, metavar="L",
                        help="stop early once the mean loss of the last 10 iterations is below L")
    parser.add_argument("--text", metavar="FILE", help="the text for the text task (UTF-8)")
    parser.add_argument("--out", required=True, metavar="model.npz", help="where to save the trained model")
    parser.add_argument("--log", metavar="loss.csv",
                        help="write iteration,loss,accuracy,grad_norm per iteration (- for stdout)")
    return parser


def _check_options(args) -> None:
    """One-line errors that name the option, before any work."""
    low = MIN_DIFFICULTY[args.task]
    if args.delay is not None and args.delay < low:
        what = "negative" if args.delay < 0 else f"less than {low}"
        raise LstmvizError(f"--delay: {args.delay} is {what} ({args.task}: {KNOBS[args.task]})")
    if args.n < 1:
        raise LstmvizError(f"--n: {args.n} hidden units; it needs at least 1")
    for option, value in (("--lr", args.lr), ("--forget-bias", args.forget_bias), ("--clip", args.clip)):
        if not math.isfinite(value):
            raise LstmvizError(f"{option}: {value} is not a finite number")
    if args.lr <= 0:
        raise LstmvizError(f"--lr: {args.lr:g} must be more than 0")
    if args.clip < 0:
        raise LstmvizError(f"--clip: {args.clip:g} is negative")
    if args.stop_loss is not None and not (math.isfinite(args.stop_loss) and args.stop_loss > 0):
        raise LstmvizError(f"--stop-loss: {args.stop_loss} must be a number more than 0")
    for option, value, least in (("--iterations", args.iterations, 0), ("--batch", args.batch, 1),
                                 ("--seed", args.seed, 0)):
        if value < least:
            raise LstmvizError(f"{option}: {value} must be at least {least}")
    if args.task == "text" and not args.text:
        raise LstmvizError("--text: the text task needs --text FILE")
    if args.text and args.task != "text":
        raise LstmvizError(f"--text: only the text task reads a text (not {args.task})")
    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise LstmvizError("--out: the trained model is saved as .npz (give a name ending in .npz)",
                           source=args.out)
    destinations = [out] + ([Path(args.log)] if args.log and args.log != "-" else [])
    for path in destinations:
        if path.is_dir():
            raise LstmvizError("is a folder, not a file", source=str(path))
        if not path.parent.is_dir():
            raise LstmvizError("the folder does not exist", source=str(path))


def _read_text(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_TEXT_BYTES + 1)
    except OSError as error:
        raise LstmvizError(error.strerror or str(error), source=path) from None
    if len(data) > MAX_TEXT_BYTES:
        raise LstmvizError(f"more than {MAX_TEXT_BYTES >> 20} MiB of text", source=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LstmvizError(f"not UTF-8 text (byte {error.start})", source=path) from None


def run(args) -> int:
    _check_options(args)
    text = _read_text(args.text) if args.text else None
    task = make_task(args.task, args.delay, text=text, source=args.text)
    config = TrainConfig(task=args.task, difficulty=task.difficulty, n=args.n, lr=args.lr, batch=args.batch,
                         optimizer=args.optimizer, forget_bias=args.forget_bias, seed=args.seed,
                         clip=args.clip or None, iterations=args.iterations, stop_loss=args.stop_loss)
    trainer = Trainer(config, task=task)
    err = sys.stderr
    print(f"lstmviz train: {task.description}; n = {args.n}, {args.optimizer} lr {args.lr:g}, batch "
          f"{args.batch}, forget bias {args.forget_bias:g}, seed {args.seed}", file=err)
    start = time.perf_counter()
    while not trainer.done:
        trainer.run_chunk(max_seconds=PROGRESS_SECONDS)
        elapsed = time.perf_counter() - start
        window = trainer.losses[-10:]
        print(f"  iteration {trainer.iteration}/{args.iterations}  loss {np.mean(window):.5g}  accuracy "
              f"{np.mean(trainer.accuracies[-10:]):.3f}  ({trainer.iteration / elapsed:.0f} it/s)", file=err)
    elapsed = time.perf_counter() - start
    params = trainer.params()
    with atomic_write(args.out, "wb") as handle:
        np.savez(handle, **model_arrays(params, trainer.V, trainer.d))
    if args.log:
        with atomic_write(args.log, "w") as handle:
            handle.write("iteration,loss,accuracy,grad_norm\n")
            for k, (loss, acc, norm) in enumerate(zip(trainer.losses, trainer.accuracies, trainer.grad_norms),
                                                  start=1):
                handle.write(f"{k},{loss!r},{acc!r},{norm!r}\n")
    why = "stopped early: loss below --stop-loss" if trainer.stopped_early else "done"
    final = f"{np.mean(trainer.losses[-10:]):.5g}" if trainer.losses else "n/a"
    print(f"lstmviz train: {why} after {trainer.iteration} iterations in {elapsed:.1f} s, loss {final}; "
          f"wrote {args.out}" + (f" and {args.log}" if args.log else ""), file=err)
    return 0


