#!/usr/bin/env python3
"""Engine speed: steps per second while recording every gate, each implementation in its own process.

Implementations (each run in a fresh child process, the children alternated round by round,
medians over the rounds):
  lstmviz:exp, lstmviz:exp1, lstmviz:tanh   the fast-loop variants of lstmviz.core.kernels
                                            (exp is what run() uses), each with its largest
                                            error against the reference step()
  torch:nn.LSTM       torch.nn.LSTM, batch 1, inference mode, same dtype (records only h)
  torch:loop          the loop a user writes to get every gate out of torch: per step
                      gates = x_proj[t] + h @ W_hh.T, sigmoid/tanh on the chunks, i f g o c h
                      written into preallocated tensors
torch runs only in the interpreter given by --torch-python (a throwaway venv; lstmviz never
depends on torch). --simd x86_v3 runs every child as on an AVX2 machine: NumPy's AVX-512
kernels disabled (NPY_DISABLE_CPU_FEATURES=X86_V4), OpenBLAS's Haswell kernels
(OPENBLAS_CORETYPE), torch limited to AVX2 (ATEN_CPU_CAPABILITY, ONEDNN_MAX_CPU_ISA,
MKL_ENABLE_INSTRUCTIONS).

    python scripts/bench_engine.py [--quick] [--torch-python /tmp/fx-engine/bin/python]
                                   [--simd native|x86_v3|both] [--sizes 8,64,256,1024]
Prints the SIMD level and the load, a table per SIMD level, then one JSON line.
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

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LSTMVIZ_IMPLS = ("lstmviz:exp", "lstmviz:exp1", "lstmviz:tanh")
TORCH_IMPLS = ("torch:nn.LSTM", "torch:loop")
AVX2_ENV = {
    "NPY_DISABLE_CPU_FEATURES": "X86_V4",
    "OPENBLAS_CORETYPE": "Haswell",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",  # torch's matrix products (MKL) too, not only its ATen kernels
}


# -- children --------------------------------------------------------------------------------
def simd_report() -> dict:
    """What NumPy found on this CPU and which kernel its float64 tanh/exp actually use."""
    import numpy as np

    out = {"numpy": np.__version__}
    try:
        from numpy.lib import introspect

        info = introspect.opt_func_info(func_name="tanh|exp")
        out["dispatch"] = {f"{f}/{s}": v["current"] for f, sigs in info.items() for s, v in sigs.items()
                           if f in ("tanh", "exp") and s in ("dd", "ff")}
    except Exception as error:  # older NumPy: no introspect
        out["dispatch"] = repr(error)
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:
        from numpy.core._multiarray_umath import __cpu_features__ as features
    out["X86_V3"] = bool(features.get("X86_V3", features.get("AVX2")))
    out["X86_V4"] = bool(features.get("X86_V4", features.get("AVX512_SKX")))
    return out


def _timed_rates(fn, T: int, reps: int) -> tuple[float, float]:
    """(steps/s by wall clock, steps/s by this thread's CPU time), medians over reps."""
    wall, cpu = [], []
    for _ in range(reps):
        w0, c0 = time.perf_counter(), time.thread_time()
        fn()
        cpu.append(time.thread_time() - c0)
        wall.append(time.perf_counter() - w0)
    return T / statistics.median(wall), T / statistics.median(cpu)


def _calibrated_T(fn_for, target_s: float, floor: int = 200) -> int:
    t0 = time.perf_counter()
    fn_for(floor)()
    per_step = (time.perf_counter() - t0) / floor
    return max(floor, int(target_s / max(per_step, 1e-9)))


def child_lstmviz(variant: str, n: int, dtype_name: str, target_s: float, reps: int) -> dict:
    sys.path.insert(0, ROOT)
    import numpy as np

    from lstmviz.core import kernels
    from lstmviz.core.blas import blas_threads
    from lstmviz.core.cell import step
    from lstmviz.core.params import LSTMParams

    dtype = np.dtype(dtype_name)
    params = LSTMParams.random(n, max(1, n // 2), seed=1)
    rng = np.random.default_rng(0)

    def runner(T):
        xs = rng.normal(size=(T, params.m)).astype(dtype)
        h0, c0 = np.zeros(n, dtype), np.zeros(n, dtype)

        def go():
            with blas_threads(n), np.errstate(over="ignore"):
                return kernels.run_fast(params, xs.copy(), h0, c0, dtype, variant=variant)
        return go

    T = _calibrated_T(runner, target_s)
    wall, cpu = _timed_rates(runner(T), T, reps)
    # Accuracy: the largest difference to step() (float64) over a few hundred steps, each
    # stepped from the recorded state: of the gates, c and h, and apart from them of z (a sum
    # that BLAS adds up in another order than step() does, so its error scales with |z|).
    steps = 300 if n <= 256 else 60
    trace = runner(steps)()
    worst, worst_z = 0.0, 0.0
    for t in range(steps):
        h_prev = trace.h_prev(t).astype(np.float64)
        c_prev = trace.c_prev(t).astype(np.float64)
        ref = step(params, trace.x[t].astype(np.float64), h_prev, c_prev)
        for key in ("i", "f", "g", "o", "c", "h"):
            worst = max(worst, float(np.abs(getattr(trace, key)[t] - getattr(ref, key)).max()))
        for key in ("zi", "zf", "zg", "zo"):
            worst_z = max(worst_z, float(np.abs(getattr(trace, key)[t] - getattr(ref, key)).max()))
    return {"T": T, "wall": wall, "cpu": cpu, "max_abs_error": worst, "z_abs_error": worst_z,
            "simd": simd_report()}


def child_torch(kind: str, n: int, dtype_name: str, target_s: float, reps: int, threads: int) -> dict:
    import numpy as np
    import torch

    if threads:
        torch.set_num_threads(threads)
    dtype = {"float64": torch.float64, "float32": torch.float32}[dtype_name]
    m = max(1, n // 2)
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(m, n, batch_first=True).to(dtype)
    W_ih, W_hh = lstm.weight_ih_l0.detach(), lstm.weight_hh_l0.detach()
    bias = (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach()
    rng = np.random.default_rng(0)

    def runner(T):
        xs = torch.from_numpy(rng.normal(size=(T, m))).to(dtype)
        if kind == "nn.LSTM":
            def go():
                with torch.inference_mode():
                    return lstm(xs[None])[0]
            return go

        def go():  # the gate-recording loop a user would write
            with torch.inference_mode():
                x_proj = xs @ W_ih.T + bias
                W_hh_T = W_hh.T
                rec = {k: torch.empty(T, n, dtype=dtype) for k in "ifgoch"}
                h = torch.zeros(n, dtype=dtype)
                c = torch.zeros(n, dtype=dtype)
                for t in range(T):
                    gates = x_proj[t] + h @ W_hh_T
                    i, f, g, o = gates.chunk(4)
                    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
                    c = f * c + i * g
                    h = o * torch.tanh(c)
                    rec["i"][t], rec["f"][t], rec["g"][t], rec["o"][t] = i, f, g, o
                    rec["c"][t], rec["h"][t] = c, h
                return rec
        return go

    T = _calibrated_T(runner, target_s)
    wall, cpu = _timed_rates(runner(T), T, reps)
    return {"T": T, "wall": wall, "cpu": cpu, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "capability": getattr(torch.backends.cpu, "get_cpu_capability", lambda: "?")()}


# -- parent ----------------------------------------------------------------------------------
def load() -> str:
    try:
        one, five, _ = os.getloadavg()
        return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"
    except OSError:
        return "load unknown"


def run_child(python: str, impl: str, n: int, dtype: str, simd: str, target_s: float, reps: int,
              torch_threads: int) -> dict:
    env = dict(os.environ)
    if simd == "x86_v3":
        env.update(AVX2_ENV)
    cmd = [python, os.path.abspath(__file__), "--child", impl, "--n", str(n), "--dtype", dtype,
           "--target", str(target_s), "--reps", str(reps), "--torch-threads", str(torch_threads)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{impl} n={n} {dtype} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer sizes and rounds (about 2 minutes)")
    ap.add_argument("--torch-python", help="an interpreter with torch (e.g. /tmp/fx-engine/bin/python)")
    ap.add_argument("--simd", choices=("native", "x86_v3", "both"), default="native")
    ap.add_argument("--sizes", help="hidden sizes n (default 8,64,256,1024; quick 64,256)")
    ap.add_argument("--rounds", type=int, help="rounds of alternated children (default 3; quick 2)")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch.set_num_threads in the torch children (default 1, as lstmviz's BLAS "
                         "below n = 512; 0 keeps torch's default, whose spinning threads fall apart "
                         "on a loaded machine)")
    ap.add_argument("--impls", help="comma-separated subset of " + ",".join(LSTMVIZ_IMPLS + TORCH_IMPLS))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--dtype", help=argparse.SUPPRESS)
    ap.add_argument("--target", type=float, default=0.15, help=argparse.SUPPRESS)
    ap.add_argument("--reps", type=int, default=3, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        family, kind = args.child.split(":", 1)
        if family == "lstmviz":
            result = child_lstmviz(kind, args.n, args.dtype, args.target, args.reps)
        else:
            result = child_torch(kind, args.n, args.dtype, args.target, args.reps, args.torch_threads)
        print(json.dumps(result))
        return 0

    sizes = [int(s) for s in (args.sizes or ("64,256" if args.quick else "8,64,256,1024")).split(",")]
    rounds = args.rounds or (2 if args.quick else 3)
    target = 0.08 if args.quick else 0.12
    impls = list(LSTMVIZ_IMPLS) + (list(TORCH_IMPLS) if args.torch_python else [])
    if args.impls:
        impls = [i for i in args.impls.split(",") if i in impls]
    simds = ("native", "x86_v3") if args.simd == "both" else (args.simd,)
    native = simd_report()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"NumPy {native['numpy']}; CPU: X86_V3 (AVX2) {'found' if native['X86_V3'] else 'not found'}, "
          f"X86_V4 (AVX-512) {'found' if native['X86_V4'] else 'not found'}")
    print(f"at start: {load()}")
    results = []
    started = time.perf_counter()
    for simd in simds:
        cells: dict[tuple[str, int, str], list[dict]] = {}
        for rnd in range(rounds):
            for n in sizes:
                for dtype in ("float64", "float32"):
                    order = impls if rnd % 2 == 0 else impls[::-1]  # alternate who goes first
                    for impl in order:
                        python = args.torch_python if impl.startswith("torch") else sys.executable
                        cells.setdefault((impl, n, dtype), []).append(
                            run_child(python, impl, n, dtype, simd, target, args.reps, args.torch_threads))
        ours = next((v[0] for k, v in cells.items() if k[0].startswith("lstmviz")), {})
        dispatch = ours.get("simd", {}).get("dispatch", "?")
        torch_run = next((v[0] for k, v in cells.items() if k[0].startswith("torch")), None)
        torch_cap = torch_run and f"{torch_run['capability']}, {torch_run['threads']} thread(s)"
        level = "X86_V3 (AVX2 only: X86_V4 disabled)" if simd == "x86_v3" else (
            "X86_V4 (AVX-512)" if native["X86_V4"] else "X86_V3 (AVX2)")
        print(f"\nSIMD level: {level}; NumPy kernels in use: {dispatch}"
              f"{f'; torch CPU capability {torch_cap}' if torch_cap else ''}; {load()}")
        head = f"{'n':>5} {'dtype':>8} " + "".join(f"{impl:>15}" for impl in impls) + \
            "   lstmviz:exp vs nn.LSTM, vs loop"
        print(head)
        print("-" * len(head))
        for n in sizes:
            for dtype in ("float64", "float32"):
                runs = {impl: cells[(impl, n, dtype)] for impl in impls}
                rates = {impl: statistics.median(r["wall"] for r in runs[impl]) for impl in impls}
                cpu = {impl: statistics.median(r["cpu"] for r in runs[impl]) for impl in impls}
                errors = {impl: max(r["max_abs_error"] for r in runs[impl])
                          for impl in impls if impl.startswith("lstmviz")}
                z_errors = {impl: max(r["z_abs_error"] for r in runs[impl])
                            for impl in impls if impl.startswith("lstmviz")}
                ours = rates["lstmviz:exp"]
                vs = "".join(f"  {ours / rates[p]:.2f}x" if p in rates else "     -" for p in TORCH_IMPLS)
                print(f"{n:>5} {dtype:>8} " + "".join(f"{rates[i]:>15,.0f}" for i in impls) + vs)
                results.append({"simd": simd, "n": n, "dtype": dtype, "wall": rates, "cpu": cpu,
                                "max_abs_error": errors, "z_abs_error": z_errors})
        print("(steps/s, wall clock, median over rounds of the children's medians)")
        print("by CPU time of the stepping thread (less sensitive to other load): " + "; ".join(
            f"{r['n']}/{r['dtype']}: " + ", ".join(f"{k} {v:,.0f}" for k, v in r["cpu"].items())
            for r in results if r["simd"] == simd))
        print("max abs error of i f g o c h against step(): " + "; ".join(
            f"{r['n']}/{r['dtype']}: "
            + ", ".join(f"{k.split(':')[1]} {v:.1e}" for k, v in r["max_abs_error"].items())
            for r in results if r["simd"] == simd))
        print("max abs error of z against step(): " + "; ".join(
            f"{r['n']}/{r['dtype']}: "
            + ", ".join(f"{k.split(':')[1]} {v:.1e}" for k, v in r["z_abs_error"].items())
            for r in results if r["simd"] == simd))
    print(f"\nfinished in {time.perf_counter() - started:.0f} s; at the end: {load()}")
    print(json.dumps({"engine": results, "native_simd": native}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
