"""Read a model file in a child process, so a crafted file can crash only that process.

HDF5 (h5py) and protobuf (onnx) parse untrusted bytes in C; a malformed file can segfault
them. The window loads such files with load_model_isolated(): a fresh Python process runs
load_model and writes the arrays with np.savez to a temporary file, which the parent reads
with np.load(allow_pickle=False) and checks again through LSTMParams. Nothing is pickled.
A crash, a hang past the time limit, or a bad exit becomes a one-line LstmvizError naming
the file. The time limit (read_time_limit) is a few seconds scaled by the file's size: a
damaged HDF5 file can make h5py spin forever inside one C call (issue 12), which only
killing the process stops.

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
import threading
import time
from pathlib import Path

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import LayerInfo

DEFAULT_LOADER = "lstmviz.io.models:load_model"
DEFAULT_INSPECT = "lstmviz.io.models:inspect_model"
CHILD_ENV = "LSTMVIZ_ISOLATED_CHILD"
# Address space the child may use beyond the read's memory budget: the interpreter, NumPy,
# h5py or onnx and their thread pools. A backstop only: the readers check the budget first.
CHILD_OVERHEAD = 3 << 30
EXIT_LSTMVIZ_ERROR = 3
EXIT_OTHER_ERROR = 4
# Wall-clock limit of one read: TIME_LIMIT_BASE seconds plus one per TIME_LIMIT_BYTES_PER_S
# of file. TIME_LIMIT_ENV overrides the base (tests shorten it).
TIME_LIMIT_ENV = "LSTMVIZ_READ_TIME_LIMIT"
TIME_LIMIT_BASE = 10.0
TIME_LIMIT_BYTES_PER_S = 10 << 20
SCALAR_FIELDS = ("name", "source", "recurrent_activation", "cell_activation", "reverse", "notes")


# -- (de)serialising LSTMParams without pickle --------------------------------------------------
def in_child() -> bool:
    """True inside the reader process: readers then parse in place instead of spawning."""
    return os.environ.get(CHILD_ENV) == "1"


# Optional scalar fields of LSTMParams carried when the running version has them.
OPTIONAL_FIELDS = ("mask_value", "clip", "input_forget", "sequence_length")  # sent as JSON numbers


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
                **{k: getattr(cell, k) for k in OPTIONAL_FIELDS if getattr(cell, k, None) is not None},
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
            for key in OPTIONAL_FIELDS:
                if key in info:
                    fields[key] = float(info[key])
            cells.append(LSTMParams(**fields))
        upstream = tuple(tuple(cells[i] for i in row) for row in meta["upstream"])
    except LstmvizError as error:
        raise error.with_source(source) from None
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise LstmvizError(f"the reader process returned malformed data ({error})", source=source) from None
    return cells[0].replace(upstream=upstream) if upstream else cells[0]


# -- the parent side -----------------------------------------------------------------------------
def read_time_limit(path) -> float:
    """Seconds the reader child may take on path before it is killed."""
    base = TIME_LIMIT_BASE
    configured = os.environ.get(TIME_LIMIT_ENV)
    if configured:
        try:
            base = float(configured)
        except ValueError:
            raise LstmvizError(f"{configured!r} is not a number of seconds", source=TIME_LIMIT_ENV) from None
        if not base > 0:
            raise LstmvizError(f"{configured!r} is not a positive number of seconds", source=TIME_LIMIT_ENV)
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # the reader reports the missing file itself
    return base + size / TIME_LIMIT_BYTES_PER_S


def _too_slow(timeout: float, source: str) -> LstmvizError:
    return LstmvizError(
        f"took longer than {timeout:g} s to read: the file is damaged or hostile", source=source
    )


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env.setdefault("PYTHONHASHSEED", "0")
    env[CHILD_ENV] = "1"
    return env


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _can_fork() -> bool:
    """Fork (fast: the modules are already imported) only from a process with one thread.

    A fork copies only the calling thread, and any lock another thread held stays held in
    the child; the window's loads run in worker threads, so they take the fresh-process path.
    """
    qt = sys.modules.get("PySide6.QtCore")
    return (
        hasattr(os, "fork")
        and sys.platform.startswith("linux")
        and threading.active_count() == 1
        and threading.current_thread() is threading.main_thread()
        # Qt starts threads Python does not see: a process with a Qt application spawns
        and (qt is None or qt.QCoreApplication.instance() is None)
    )


def _run_forked(args: list[str], timeout: float) -> tuple[int, bytes, bool]:
    """(exit code or -signal, stderr bytes, timed out) of main(args) run in a forked child."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the parent's code
        code = EXIT_OTHER_ERROR
        try:
            os.close(read_end)
            import faulthandler

            faulthandler.disable()  # a crash is reported by the parent, not as a dump here
            os.dup2(write_end, 2)  # C libraries' messages go to the parent's pipe, not the terminal
            os.environ[CHILD_ENV] = "1"
            with os.fdopen(write_end, "w", encoding="utf-8", errors="backslashreplace") as err:
                code = main(args, err=err)
        except BaseException:  # noqa: BLE001 - the child must exit whatever happens
            code = EXIT_OTHER_ERROR
        finally:
            os._exit(code)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    timed_out = False
    with os.fdopen(read_end, "rb") as pipe:
        os.set_blocking(pipe.fileno(), False)
        while True:
            try:
                chunk = pipe.read(65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                chunks.append(chunk[: 1 << 16])
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rest = pipe.read() or b""
                chunks.append(rest[: 1 << 16])
                return os.waitstatus_to_exitcode(status), b"".join(chunks), False
            if time.monotonic() > deadline:
                timed_out = True
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return -signal.SIGKILL, b"".join(chunks), timed_out
            time.sleep(0.002)


def _run_child(command: str, path, out: Path, timeout: float | None, extra: list[str]) -> None:
    source = str(path)
    if timeout is None:
        timeout = round(read_time_limit(path), 1)
    args = [command, os.fspath(path), os.fspath(out), *extra]
    if _can_fork():
        code, stderr, timed_out = _run_forked(args, timeout)
        if timed_out:
            raise _too_slow(timeout, source)
        _check_exit(code, stderr, source)
        return
    argv = [sys.executable, "-m", "lstmviz.io.isolated", *args]
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
    except subprocess.TimeoutExpired:  # run() has killed the child
        raise _too_slow(timeout, source) from None
    except OSError as error:
        raise LstmvizError(f"could not start the reader process ({error})", source=source) from None
    _check_exit(done.returncode, done.stderr, source)


def _check_exit(code: int, stderr: bytes, source: str) -> None:
    if code == 0:
        return
    message = stderr.decode("utf-8", "replace").strip().splitlines()
    last = message[-1] if message else ""
    if code == EXIT_LSTMVIZ_ERROR and last:
        problem = last.split(": ", 1)[1] if last.startswith(source + ": ") else last
        raise LstmvizError(problem, source=source)
    if code == EXIT_OTHER_ERROR and last:
        raise LstmvizError(f"the reader failed on this file ({last[:300]})", source=source)
    raise LstmvizError(
        f"the reader crashed on this file ({_describe_exit(code)}); it is damaged or crafted",
        source=source,
    )


def load_model_isolated(
    path, layer: str | None = None, timeout: float | None = None, loader: str = DEFAULT_LOADER,
    facts: dict | None = None,
) -> LSTMParams:
    """load_model(path, layer) run in a child process; crashes become LstmvizError.

    loader ('module:function') is what the child calls; tests pass one that crashes.
    timeout: seconds before the child is killed (None: read_time_limit(path)).
    facts (JSON-able) are passed to the loader as facts= when given (the Keras reader's
    --activation, --go-backwards ... for weights-only files).
    """
    with tempfile.TemporaryDirectory(prefix="lstmviz-load-") as tmp:
        out = Path(tmp) / "params.npz"
        extra = ["--loader", loader] + (["--layer", str(layer)] if layer is not None else [])
        if facts:
            extra += ["--facts", json.dumps(facts)]
        _run_child("load", path, out, timeout, extra)
        try:
            with np.load(out, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, EOFError) as error:
            raise LstmvizError(
                f"the reader process returned unreadable data ({error})", source=str(path)
            ) from None
    return params_from_arrays(arrays, str(path))


def inspect_model_isolated(
    path, timeout: float | None = None, loader: str = DEFAULT_INSPECT
) -> list[LayerInfo]:
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


def _limit_address_space() -> None:
    """Cap the child's memory at the budget plus the interpreter's own: a parser that
    expands a small file past every check gets MemoryError, not the machine's memory."""
    try:
        import resource

        from lstmviz.io.budget import memory_limit

        limit = memory_limit() + CHILD_OVERHEAD
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass


def main(argv: list[str] | None = None, err=None) -> int:
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="python -m lstmviz.io.isolated")
    parser.add_argument("command", choices=("load", "inspect"))
    parser.add_argument("path")
    parser.add_argument("out")
    parser.add_argument("--layer")
    parser.add_argument("--loader")
    parser.add_argument("--facts")
    args = parser.parse_args(argv)
    try:  # a reader crashing on a crafted file should not leave a core dump behind
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ImportError, ValueError, OSError):
        pass
    _limit_address_space()
    try:
        if args.command == "load":
            facts = {"facts": json.loads(args.facts)} if args.facts else {}
            params = _resolve(args.loader or DEFAULT_LOADER)(args.path, layer=args.layer, **facts)
            with open(args.out, "wb") as handle:
                np.savez(handle, **params_to_arrays(params))
        else:
            layers = _resolve(args.loader or DEFAULT_INSPECT)(args.path)
            Path(args.out).write_text(json.dumps([info.to_dict() for info in layers]), encoding="utf-8")
    except LstmvizError as error:
        print(str(error).replace("\n", " "), file=err)
        return EXIT_LSTMVIZ_ERROR
    except MemoryError:
        print(f"{args.path}: needs more memory than the limit (--max-memory) to read", file=err)
        return EXIT_LSTMVIZ_ERROR
    except Exception as error:  # noqa: BLE001 - reported to the parent as one line
        print(f"{type(error).__name__}: {error}".replace("\n", " "), file=err)
        return EXIT_OTHER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
