#!/usr/bin/env python3
"""Regenerate the committed test fixtures from the frameworks themselves.

The suite never needs torch, keras or onnx: it compares lstmviz with these saved outputs.
Needs: pip install torch==2.13.0 keras onnx   (torch only from the local CPU wheel).
The tfkeras2 group needs TensorFlow and tf_keras instead: run it from a throwaway venv
(see scripts/fixtures/tfkeras2.py).

    python scripts/make_fixtures.py            # all
    python scripts/make_fixtures.py engine     # one group
Groups live in scripts/fixtures/<group>.py, each with make(out_dir: Path).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROUP_DIR = Path(__file__).resolve().parent / "fixtures"
OUT = ROOT / "tests" / "fixtures"


def groups() -> list[str]:
    return sorted(p.stem for p in GROUP_DIR.glob("*.py") if not p.stem.startswith("_"))


def main(argv: list[str]) -> int:
    chosen = argv or groups()
    for name in chosen:
        spec = importlib.util.spec_from_file_location(f"fixtures_{name}", GROUP_DIR / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = OUT / name
        out.mkdir(parents=True, exist_ok=True)
        module.make(out)
        print(f"fixtures: {name} -> {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
