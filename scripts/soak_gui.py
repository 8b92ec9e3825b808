#!/usr/bin/env python3
"""Soak the window: run the stateful GUI test (tests/gui/test_stateful_window.py) for longer,
with random seeds, and print the failing sequence of actions when one breaks it.

    .venv/bin/python scripts/soak_gui.py --minutes 30
    .venv/bin/python scripts/soak_gui.py --minutes 5 --all-shapes   # include the steps held
                                                                   # back for issue 10 item 1

Each round is one run of the machine (in its own process) with a fresh random seed, `--examples` sequences
of up to `--steps` actions; rounds repeat until the time is up. Exit status 1 on the first
failure (hypothesis's shrunk sequence and the traceback are printed), 0 otherwise.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/gui/test_stateful_window.py"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to soak (default 10)")
    parser.add_argument("--examples", type=int, default=50, help="sequences per round (default 50)")
    parser.add_argument("--steps", type=int, default=40, help="actions per sequence (default 40)")
    parser.add_argument("--all-shapes", action="store_true",
                        help="also take the steps held back until issue 10 item 1 lands")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.examples < 1 or args.steps < 1:
        parser.error("--minutes, --examples and --steps must be positive")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LSTMVIZ_STATEFUL_RANDOM="1",
               LSTMVIZ_AUTOSAVE_SECONDS="3600", PYTHONPATH=str(ROOT),
               LSTMVIZ_STATEFUL_EXAMPLES=str(args.examples), LSTMVIZ_STATEFUL_STEPS=str(args.steps))
    if args.all_shapes:
        env["LSTMVIZ_STATEFUL_ALL_SHAPES"] = "1"
    python = ROOT / ".venv" / "bin" / "python"
    deadline = time.monotonic() + args.minutes * 60
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        left = deadline - time.monotonic()
        print(f"soak_gui: round {rounds} ({left / 60:.1f} min left)", flush=True)
        # (a round that outlives the deadline is let finish: a cut run proves nothing)
        with tempfile.TemporaryDirectory(prefix="lstmviz-soak-") as tmp:
            for sub in ("files", "state", "config"):
                os.mkdir(os.path.join(tmp, sub))
            env.update(LSTMVIZ_STATE_DIR=os.path.join(tmp, "state"),
                       LSTMVIZ_CONFIG_DIR=os.path.join(tmp, "config"))
            done = subprocess.run(
                [str(python if python.exists() else sys.executable), TEST, os.path.join(tmp, "files")],
                cwd=ROOT, env=env, capture_output=True, text=True,
            )
        if done.returncode != 0:
            lines = [line for line in (done.stdout + done.stderr).splitlines()
                     if "propagateSizeHints" not in line]
            print("\n".join(lines[-300:]))
            print(f"soak_gui: FAILED in round {rounds} (the shrunk sequence is above, "
                  "after 'Falsifying example' / 'state = WindowUser()')", file=sys.stderr)
            return 1
    print(f"soak_gui: {rounds} rounds of {args.examples} sequences x {args.steps} actions passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
