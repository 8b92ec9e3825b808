"""Read a model file in a child process, so a crafted file can crash only that process.

HDF5 (h5py) and protobuf (onnx) parse untrusted bytes in C; a malformed file can segfault
them. The window loads such files with load_model_isolated(): a fresh Python process runs
load_model and writes the arrays with np.savez to a temporary file, which the parent reads
with np.load(allow_pickle=False) and checks again through LSTMParams. Nothing is pickled.
A crash, a hang past the timeout, or a bad exit becomes a one-line LstmvizError naming
the file.

    python -m lstmviz.io.isolated load PATH OUT.npz [--layer NAME] [--loader module:function]
    python -m lstmviz.io.isolated inspect PATH OUT.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import LayerInfo

DEFAULT_LOADER = "lstmviz.io.models:load_model"
DEFAULT_INSPECT = "lstmviz.io.models:inspect_model"
EXIT_LSTMVIZ_ERROR = 3
EXIT_OTHER_ERROR = 4
SCALAR_FIELDS = ("name", "source", "recurrent_activation", "cell_activation", "reverse", "notes")


# -- (de)serialising LSTMParams without pickle --------------------------------------------------
def params_to_arrays(params: LSTMParams) -> dict[str, np.ndarray]:
    """Flatten a cell and its upstream cells into named arrays plus one JSON string."""
    cells: list[LSTMParams] = [params]
    structure = []
    for directions in params.upstream:
        row = []
        for cell in directions:
            row.append(len(cells))
            cells.append(cell)
        structure.append(row)
    arrays: dict[str, np.ndarray] = {}
    meta_cells = []
    for index, cell in enumerate(cells):
        for key, value in cell.arrays().items():
            arrays[f"c{index}_{key}"] = value
        meta_cells.append(
            {
                "name": cell.name,
                "source": cell.source,
                "recurrent_activation": cell.recurrent_activation,
                "cell_activation": cell.cell_activation,
                "reverse": bool(cell.reverse),
                "notes": list(cell.notes),
            }
        )
    meta = {"version": 1, "cells": meta_cells, "upstream": structure}
    arrays["meta"] = np.array(json.dumps(meta))
    return arrays


def params_from_arrays(arrays, source: str) -> LSTMParams:
    try:
        meta = json.loads(str(arrays["meta"][()]))
        cells = []
        for index, info in enumerate(meta["cells"]):
            prefix = f"c{index}_"
            fields = {key[len(prefix) :]: np.asarray(arrays[key]) for key in arrays if key.startswith(prefix)}
            for key in ("name", "source", "recurrent_activation", "cell_activation"):
                fields[key] = str(info[key])
            fields["reverse"] = bool(info["reverse"])
            fields["notes"] = tuple(str(note) for note in info["notes"])
            cells.append(LSTMParams(**fields))
        upstream = tuple(tuple(cells[i] for i in row) for row in meta["upstream"])
    except LstmvizError as error:
        raise error.with_source(source) from None
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise LstmvizError(f"the reader process returned malformed data ({error})", source=source) from None
    return cells[0].replace(upstream=upstream) if upstream else cells[0]


# -- the parent side -----------------------------------------------------------------------------
def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _run_child(command: str, path, out: Path, timeout: float, extra: list[str]) -> None:
    source = str(path)
    argv = [sys.executable, "-m", "lstmviz.io.isolated", command, os.fspath(path), os.fspath(out), *extra]
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout,
            env=_child_env(),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise LstmvizError(
            f"the reader took longer than {timeout:g} s on this file and was stopped", source=source
        ) from None
    except OSError as error:
        raise LstmvizError(f"could not start the reader process ({error})", source=source) from None
    if done.returncode == 0:
        return
    message = done.stderr.decode("utf-8", "replace").strip().splitlines()
    last = message[-1] if message else ""
    if done.returncode == EXIT_LSTMVIZ_ERROR and last:
        problem = last.split(": ", 1)[1] if last.startswith(source + ": ") else last
        raise LstmvizError(problem, source=source)
    if done.returncode == EXIT_OTHER_ERROR and last:
        raise LstmvizError(f"the reader failed on this file ({last[:300]})", source=source)
    raise LstmvizError(
        f"the reader crashed on this file ({_describe_exit(done.returncode)}); it is damaged or crafted",
        source=source,
    )


def load_model_isolated(
    path, layer: str | None = None, timeout: float = 60.0, loader: str = DEFAULT_LOADER
) -> LSTMParams:
    """load_model(path, layer) run in a child process; crashes become LstmvizError.

    loader ('module:function') is what the child calls; tests pass one that crashes.
    """
    with tempfile.TemporaryDirectory(prefix="lstmviz-load-") as tmp:
        out = Path(tmp) / "params.npz"
        extra = ["--loader", loader] + (["--layer", str(layer)] if layer is not None else [])
        _run_child("load", path, out, timeout, extra)
        try:
            with np.load(out, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError) as error:
            raise LstmvizError(
                f"the reader process returned unreadable data ({error})", source=str(path)
            ) from None
    return params_from_arrays(arrays, str(path))


def inspect_model_isolated(path, timeout: float = 60.0, loader: str = DEFAULT_INSPECT) -> list[LayerInfo]:
    """inspect_model(path) run in a child process (descriptions only; no builders)."""
    with tempfile.TemporaryDirectory(prefix="lstmviz-inspect-") as tmp:
        out = Path(tmp) / "layers.json"
        _run_child("inspect", path, out, timeout, ["--loader", loader])
        try:
            items = json.loads(out.read_text(encoding="utf-8"))
            return [
                LayerInfo(
                    **{
                        **item,
                        "unsupported": tuple(item["unsupported"]),
                        "notes": tuple(item["notes"]),
                        "aliases": tuple(item["aliases"]),
                        "upstream": tuple(tuple(d) for d in item["upstream"]),
                    }
                )
                for item in items
            ]
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise LstmvizError(
                f"the reader process returned unreadable data ({error})", source=str(path)
            ) from None


# -- the child side ------------------------------------------------------------------------------
def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lstmviz.io.isolated")
    parser.add_argument("command", choices=("load", "inspect"))
    parser.add_argument("path")
    parser.add_argument("out")
    parser.add_argument("--layer")
    parser.add_argument("--loader")
    args = parser.parse_args(argv)
    try:  # a reader crashing on a crafted file should not leave a core dump behind
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    try:
        if args.command == "load":
            params = _resolve(args.loader or DEFAULT_LOADER)(args.path, layer=args.layer)
            with open(args.out, "wb") as handle:
                np.savez(handle, **params_to_arrays(params))
        else:
            layers = _resolve(args.loader or DEFAULT_INSPECT)(args.path)
            Path(args.out).write_text(json.dumps([info.to_dict() for info in layers]), encoding="utf-8")
    except LstmvizError as error:
        print(str(error).replace("\n", " "), file=sys.stderr)
        return EXIT_LSTMVIZ_ERROR
    except Exception as error:  # noqa: BLE001 - reported to the parent as one line
        print(f"{type(error).__name__}: {error}".replace("\n", " "), file=sys.stderr)
        return EXIT_OTHER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
