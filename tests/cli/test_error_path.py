"""One error path: every failure of every command is exactly one sanitised stderr line
`lstmviz: error: FILE: problem` and exit status 2, whatever raised it; --debug adds the
traceback; warnings never reach the terminal; output errors name the destination."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from lstmviz.cli import main
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError, reading, sanitize
from lstmviz.io.npz import write_npz_model
from lstmviz.io.sequences import write_sequence


@pytest.fixture
def files(tmp_path):
    model = tmp_path / "model.npz"
    write_npz_model(LSTMParams.random(3, 2, seed=0), model)
    seq = tmp_path / "input.csv"
    write_sequence(np.random.default_rng(0).normal(size=(6, 2)), seq)
    return model, seq, tmp_path


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    return err[:-1]


def _unicode_error():
    return UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


READER_FAILURES = {
    "ValueError": lambda: ValueError("Exceeds the limit (4300 digits) for integer string conversion"),
    "OverflowError": lambda: OverflowError("cannot convert float infinity to integer"),
    "TypeError": lambda: TypeError("a bytes-like object is required, bytes found"),
    "UnicodeDecodeError": _unicode_error,
    "KeyError": lambda: KeyError("storages"),
    "AssertionError": lambda: AssertionError(),
    "MemoryError": lambda: MemoryError(),
    "RecursionError": lambda: RecursionError("maximum recursion depth exceeded"),
}


@pytest.mark.parametrize("kind", READER_FAILURES)
@pytest.mark.parametrize("which", ["model", "input"])
def test_any_exception_from_a_reader_is_one_line_naming_that_file(files, capsys, monkeypatch, kind, which):
    model, seq, tmp = files
    target = "lstmviz.io.npz._read_npz_model" if which == "model" else "lstmviz.io.sequences._read_csv"

    def fail(*args, **kwargs):
        raise READER_FAILURES[kind]()

    monkeypatch.setattr(target, fail)
    out = tmp / "out.csv"
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(out)]) == 2
    line = _one_line(capsys)
    named = model if which == "model" else seq
    assert line.startswith(f"lstmviz: error: {named}: "), line
    if kind == "MemoryError":
        assert "out of memory" in line and "--max-memory" in line
    elif kind == "RecursionError":
        assert "nested too deeply" in line
    else:
        assert f"cannot be read ({kind}" in line and line.endswith("run with --debug for the traceback")
    assert not out.exists()


def test_debug_shows_the_traceback_after_the_line(files, capsys, monkeypatch):
    model, seq, tmp = files

    def fail(*args, **kwargs):
        raise TypeError("deep inside")

    monkeypatch.setattr("lstmviz.io.npz._read_npz_model", fail)
    assert main(["--debug", "trace", "--model", str(model), "--input", str(seq), "--out", "-"]) == 2
    err = capsys.readouterr().err
    first, rest = err.split("\n", 1)
    assert first == f"lstmviz: error: {model}: cannot be read (TypeError: deep inside); " \
                    "run with --debug for the traceback"
    assert rest.startswith("Traceback (most recent call last):") and "deep inside" in rest


def test_an_internal_error_after_reading_names_the_command_inputs(files, capsys, monkeypatch):
    model, seq, tmp = files

    def broken(*args, **kwargs):
        return 1 / 0

    monkeypatch.setattr("lstmviz.commands.trace.write_trace_csv", broken)
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(tmp / "o.csv")]) == 2
    assert _one_line(capsys) == (
        f"lstmviz: error: {model}, {seq}: internal error (ZeroDivisionError: division by zero); "
        "run with --debug for the traceback")


def test_the_line_is_sanitised(files, capsys, monkeypatch):
    model, seq, tmp = files

    def forged(*args, **kwargs):
        raise LstmvizError("bad module 'x\nlstmviz: all good, weights loaded\x1b[31m'", source=str(model))

    monkeypatch.setattr("lstmviz.io.npz._read_npz_model", forged)
    assert main(["inspect", str(model)]) == 2
    line = _one_line(capsys)
    assert line == (f"lstmviz: error: {model}: bad module 'x lstmviz: all good, weights loaded\\x1b[31m'")


def test_file_names_with_escapes_are_sanitised_in_errors_and_in_inspect(tmp_path, capsys):
    evil = tmp_path / "m\x1b[2J\nlstmviz: ok.npz"
    write_npz_model(LSTMParams.random(3, 2, seed=0), evil)
    assert main(["inspect", str(evil)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "m\\x1b[2J lstmviz: ok.npz" in out.splitlines()[0]
    missing = tmp_path / "gone\x07\r.npz"
    assert main(["inspect", str(missing)]) == 2
    assert _one_line(capsys) == f"lstmviz: error: {tmp_path}/gone\\x07 .npz: no such file"


def test_sanitize():
    assert sanitize("a\r\nb\n\n c\td") == "a b c d"
    assert sanitize("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m"
    assert sanitize("left\u202eright \x9b \udcff \u2028x") == "left\\u202eright \\x9b \\udcff x"
    assert sanitize("é ü 中文 ✓") == "é ü 中文 ✓"
    assert sanitize("x" * 5000) == "x" * 1997 + "..."


def test_reading_attributes_failures_to_the_innermost_file():
    with pytest.raises(LstmvizError) as caught, reading("outer.lstmviz"), reading("inner.npz"):
        raise LstmvizError("no such array")
    assert str(caught.value) == "inner.npz: no such array"
    with pytest.raises(OverflowError) as caught, reading("outer.lstmviz"), reading("inner.npz"):
        raise OverflowError("big")
    assert caught.value.lstmviz_source == "inner.npz"


def test_warnings_never_reach_the_terminal(files, capsys, monkeypatch):
    model, seq, tmp = files
    import lstmviz.commands.trace as trace_command

    real = trace_command.run_cell

    def noisy(*args, **kwargs):
        np.float64(1e308) * 10  # RuntimeWarning: overflow
        np.zeros(2) / 0  # RuntimeWarning: invalid value, divide by zero
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trace_command, "run_cell", noisy)
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(tmp / "o.csv")]) == 0
    assert capsys.readouterr().err == ""


def test_usage_errors_are_one_line(capsys):
    assert main(["trace", "--model", "m.npz"]) == 2
    assert _one_line(capsys) == ("lstmviz: error: the following arguments are required: --out "
                                 "(see `lstmviz trace --help`)")


def test_a_model_with_no_units_names_the_file(tmp_path, capsys):
    path = tmp_path / "empty.npz"
    arrays = {f"{k}_{g}": np.zeros((0, 2) if k == "W" else (0, 0) if k == "U" else (0,))
              for k in "WUb" for g in "ifgo"}
    np.savez(path, **arrays)
    assert main(["inspect", str(path)]) == 2
    assert _one_line(capsys) == (f"lstmviz: error: {path}: the cell has n = 0 units and m = 2 inputs; "
                                 "both must be at least 1")


def test_missing_and_existing_destination_folders_are_named(files, capsys):
    model, seq, tmp = files
    args = ["trace", "--model", str(model), "--input", str(seq), "--out"]
    assert main([*args, str(tmp / "newdir") + "/"]) == 2
    assert _one_line(capsys).endswith(f"newdir/: the folder {tmp}/newdir/ does not exist "
                                      "(and a folder is not a file name)")
    assert not (tmp / "newdir").exists()
    assert main([*args, str(tmp / "newdir" / "x.csv")]) == 2
    assert _one_line(capsys) == f"lstmviz: error: {tmp}/newdir/x.csv: the folder {tmp}/newdir does not exist"
    assert main([*args, str(tmp) + "/"]) == 2
    assert _one_line(capsys) == f"lstmviz: error: {tmp}/: is a folder, not a file"


def _cli(args, **kwargs):
    return subprocess.run([sys.executable, "-m", "lstmviz", *args], stderr=subprocess.PIPE, text=True,
                          timeout=120, **kwargs)


def test_output_errors_name_the_destination(files):
    model, seq, tmp = files
    trace = ["trace", "--model", str(model), "--input", str(seq)]
    closed = _cli([*trace, "--out", "-"], preexec_fn=lambda: os.close(1))
    assert (closed.returncode, closed.stderr) == (
        2, "lstmviz: error: stdout: is closed (nothing to write the output to)\n")
    with open("/dev/full", "w") as full:
        to_full = _cli([*trace, "--out", "-"], stdout=full)
        inspect_full = _cli(["inspect", str(model)], stdout=full)
    assert (to_full.returncode, to_full.stderr) == (2, "lstmviz: error: stdout: the disk is full\n")
    assert (inspect_full.returncode, inspect_full.stderr) == (2, "lstmviz: error: stdout: the disk is full\n")
    device = _cli([*trace, "--out", "/dev/full"], stdout=subprocess.DEVNULL)
    assert (device.returncode, device.stderr) == (2, "lstmviz: error: /dev/full: the disk is full\n")


def test_a_closed_pipe_is_not_an_error(tmp_path):
    model = tmp_path / "model.npz"
    write_npz_model(LSTMParams.random(8, 2, seed=0), model)
    seq = tmp_path / "long.csv"
    write_sequence(np.zeros((5000, 2)), seq)
    command = [sys.executable, "-m", "lstmviz", "trace", "--model", str(model), "--input", str(seq),
               "--out", "-"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"t,x_0,x_1")
    proc.stdout.close()  # `| head -1`
    _, err = proc.communicate(timeout=120)
    assert (proc.returncode, err) == (0, b"")
