#!/usr/bin/env python3
"""Training speed against torch, and how long "remember the first value" takes to solve.

1. Iterations per second, lstmviz's Trainer against torch (nn.LSTM + nn.Linear + Adam), on the
   same task (first-value with delay 99: T = 100), batch 32, n = 32, float32 and float64. One
   iteration = a batch from the task, forward, loss, backward, clipping, an Adam step, for both.
   Each measurement runs in a process of its own (torch's OpenMP threads slow a NumPy process
   they share), lstmviz and torch alternated; the median of --repeat runs is reported.
2. Seconds (and iterations) to solve first-value with D = 50 at n = 16 (mean loss of the last 10
   iterations below 0.01, at most --max-iterations), with forget bias 1 and with forget bias 0,
   for a few seeds.
3. Animation export speed at 1280 x 720: frames per second into a PNG folder, a GIF and an MP4.

    python scripts/bench_train.py --torch-python /tmp/fx-train/bin/python [--repeat 3] [--quick]
Prints the tables (and the machine's SIMD level), then one JSON line with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

WORKER = r"""
import json, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from lstmviz.core.train.tasks import make_task
peer, dtype, iterations, warmup = {peer!r}, {dtype!r}, {iterations}, {warmup}
task = make_task("first-value", 99)
rng = np.random.default_rng(0)
B, n = 32, 32
if peer == "lstmviz":
    from lstmviz.core.train import TrainConfig, Trainer
    trainer = Trainer(TrainConfig(task="first-value", difficulty=99, n=n, batch=B, lr=0.01,
                                  iterations=iterations + warmup, dtype=dtype), task=task)
    trainer.run_chunk(max_iterations=warmup)
    start = time.perf_counter()
    trainer.run_chunk(max_iterations=iterations)
    seconds = time.perf_counter() - start
    threads = "1 (OpenBLAS limited to one thread at this n)"
else:
    import torch
    if peer == "torch1":
        torch.set_num_threads(1)
    torch.manual_seed(0)
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    lstm = torch.nn.LSTM(task.m, n, batch_first=True).to(tdtype)
    linear = torch.nn.Linear(n, task.k).to(tdtype)
    with torch.no_grad():
        lstm.bias_hh_l0[n:2 * n] = 0.0
        lstm.bias_ih_l0[n:2 * n] = 1.0
    params = list(lstm.parameters()) + list(linear.parameters())
    opt = torch.optim.Adam(params, lr=0.01)
    def one():
        batch = task.batch(rng, B)
        x = torch.from_numpy(batch.xs).to(tdtype)
        target = torch.from_numpy(batch.target[0]).to(tdtype)
        out, _ = lstm(x)
        loss = torch.nn.functional.mse_loss(linear(out[:, -1]), target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    for _ in range(warmup):
        one()
    start = time.perf_counter()
    for _ in range(iterations):
        one()
    seconds = time.perf_counter() - start
    threads = torch.get_num_threads()
print(json.dumps({{"peer": peer, "dtype": dtype, "its": iterations / seconds, "threads": threads}}))
"""

SOLVE = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from lstmviz.core.train import TrainConfig, Trainer
trainer = Trainer(TrainConfig(task="first-value", difficulty=50, n=16, batch=32, lr=0.01,
                              forget_bias={bias}, seed={seed}, iterations={max_it}, stop_loss=0.01))
start = time.perf_counter()
while not trainer.done:
    trainer.run_chunk(max_iterations=100)
seconds = time.perf_counter() - start
import numpy as np
print(json.dumps({{"bias": {bias}, "seed": {seed}, "solved": trainer.stopped_early,
                  "iterations": trainer.iteration, "seconds": seconds,
                  "loss": float(np.mean(trainer.losses[-10:]))}}))
"""


def simd_level() -> str:
    import numpy as np
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    found = [k for k in __cpu_dispatch__ if __cpu_features__.get(k)]
    missing = [k for k in __cpu_dispatch__ if not __cpu_features__.get(k)]
    return (f"NumPy {np.__version__}, SIMD found: {' '.join(found) or '-'}; "
            f"not found: {' '.join(missing) or '-'}")


def child(python: str, code: str) -> dict:
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=1800)
    if proc.returncode:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--torch-python", help="a python with torch (e.g. /tmp/fx-train/bin/python)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=40)
    parser.add_argument("--max-iterations", type=int, default=3000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="fewer iterations and seeds (a smoke run)")
    parser.add_argument("--only", choices=("speed", "solve", "animation"), action="append",
                        help="run only these sections (repeatable; default all)")
    args = parser.parse_args()
    if args.quick:
        args.iterations, args.repeat, args.seeds, args.max_iterations = 5, 1, 1, 50
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print(simd_level())
    figures = {"simd": simd_level(), "speed": {}, "solve": []}
    sections = set(args.only or ("speed", "solve", "animation"))
    if "speed" in sections:
        speed(args, figures)
    if "solve" in sections:
        solve(args, figures)
    if "animation" in sections:
        animation(args, figures)
    print(json.dumps(figures))


def speed(args, figures) -> None:
    print("\n| dtype | lstmviz it/s | torch it/s (default threads) | ratio | torch it/s (1 thread) | ratio |")
    print("|---|---:|---:|---:|---:|---:|")
    peers = (("lstmviz", sys.executable), ("torch", args.torch_python), ("torch1", args.torch_python))
    for dtype in ("float32", "float64"):
        runs = {"lstmviz": [], "torch": [], "torch1": []}
        for _ in range(args.repeat):
            for peer, python in peers:
                if python is None:
                    continue
                code = WORKER.format(root=ROOT, peer=peer, dtype=dtype, iterations=args.iterations, warmup=3)
                runs[peer].append(child(python, code)["its"])
        med = {k: statistics.median(v) if v else float("nan") for k, v in runs.items()}
        figures["speed"][dtype] = runs
        ours = med["lstmviz"]
        print(f"| {dtype} | {ours:.1f} | {med['torch']:.1f} | {ours / med['torch']:.2f}x | "
              f"{med['torch1']:.1f} | {ours / med['torch1']:.2f}x |", flush=True)


def solve(args, figures) -> None:
    print("\nfirst-value, D = 50, n = 16, batch 32, Adam lr 0.01: solved = mean loss of the last 10 "
          f"iterations < 0.01 (at most {args.max_iterations} iterations)")
    print("| forget bias | seed | solved | iterations | seconds | final loss |")
    print("|---:|---:|---|---:|---:|---:|")
    for bias in (1.0, 0.0):
        for seed in range(args.seeds):
            code = SOLVE.format(root=ROOT, bias=bias, seed=seed, max_it=args.max_iterations)
            result = child(sys.executable, code)
            figures["solve"].append(result)
            print(f"| {bias:g} | {seed} | {'yes' if result['solved'] else 'no'} | {result['iterations']} | "
                  f"{result['seconds']:.1f} | {result['loss']:.4f} |", flush=True)


def animation(args, figures) -> None:
    print("\nanimation export, 1280x720, the bracket preset (T = 235), `lstmviz animate --view window`:")
    print("| output | frames | seconds | frames/s |\n|---|---:|---:|---:|")
    figures["animation"] = {}
    import tempfile

    frames = 10 if args.quick else 60
    with tempfile.TemporaryDirectory() as tmp:
        outputs = (("PNG folder", f"{tmp}/frames/"), ("GIF", f"{tmp}/a.gif"), ("MP4", f"{tmp}/a.mp4"))
        for label, out in outputs:
            command = [sys.executable, "-m", "lstmviz", "animate", "--preset", "brackets", "--steps",
                       f"0:{frames}", "--size", "1280x720", "--view", "window", "--out", out]
            start = time.perf_counter()
            proc = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
            seconds = time.perf_counter() - start
            if proc.returncode:
                print(f"| {label} | - | - | {proc.stderr.strip().splitlines()[-1]} |")
                continue
            figures["animation"][label] = frames / seconds
            print(f"| {label} | {frames} | {seconds:.1f} | {frames / seconds:.1f} |", flush=True)
    print("(seconds include starting Python and Qt and building the window, about 1-2 s)")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - start:.0f} s)", file=sys.stderr)
