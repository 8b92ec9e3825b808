"""`lstmviz trace`: output, and the bad-input contract (one line, exit 2, nothing written)."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from lstmviz.cli import main
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.io.npz import write_npz_model


@pytest.fixture()
def files(tmp_path):
    params = LSTMParams.random(4, 2, seed=7)
    model = tmp_path / "model.npz"
    write_npz_model(params, model)
    xs = np.random.default_rng(7).normal(size=(12, 2))
    seq = tmp_path / "input.csv"
    seq.write_text("a,b\n" + "\n".join(f"{r[0]!r},{r[1]!r}" for r in xs.tolist()) + "\n")
    return params, xs, model, seq, tmp_path


def test_trace_writes_what_the_engine_computes(files):
    params, xs, model, seq, tmp = files
    out = tmp / "trace.csv"
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(out)]) == 0
    frame = pd.read_csv(out)
    expected = run(params, xs)
    assert np.array_equal(frame[[f"h_{k}" for k in range(4)]].to_numpy(), expected.h)
    assert np.array_equal(frame[["x_0", "x_1"]].to_numpy(), xs)


def test_trace_options(files, capsys):
    params, xs, model, seq, tmp = files
    h0 = tmp / "h0.csv"
    h0.write_text("1\n2\n3\n4\n")
    args = ["trace", "--model", str(model), "--input", str(seq), "--out", "-", "--layout", "long",
            "--preactivations", "--dtype", "float32", "--h0", str(h0)]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "t,unit,zi,zf,zg,zo,i,f,g,o,c,h"
    expected = run(params, xs, h0=np.arange(1.0, 5.0), dtype=np.float32)
    last = text.splitlines()[-1].split(",")
    assert last[:2] == ["11", "3"]
    assert np.float32(float(last[-1])) == expected.h[11, 3]


def bad_cases(files):
    params, xs, model, seq, tmp = files
    wide = tmp / "wide.csv"
    wide.write_text("1,2,3\n")
    text = tmp / "text.csv"
    text.write_text("1,2\n3,x\n")
    nan = tmp / "nan.csv"
    nan.write_text("1,2\nnan,3\n")
    ragged = tmp / "ragged.csv"
    ragged.write_text("1,2\n3\n")
    empty = tmp / "empty.csv"
    empty.write_text("")
    unknown = tmp / "model.xyz"
    unknown.write_text("?")
    bad_npz = tmp / "bad.npz"
    arrays = params.arrays()
    del arrays["b_g"]
    np.savez(bad_npz, **arrays)
    return [
        (["--input", str(wide)], "wide.csv: has 3 columns but the model"),
        (["--input", str(text)], "text.csv: line 2, column 2: 'x' is not a number"),
        (["--input", str(nan)], "nan.csv: line 2, column 1"),
        (["--input", str(ragged)], "ragged.csv: line 2 has 1 columns"),
        (["--input", str(empty)], "empty.csv: the file is empty"),
        (["--input", str(tmp / "missing.csv")], "missing.csv: no such file"),
        (["--model", str(unknown)], "model.xyz: unknown model format '.xyz'"),
        (["--model", str(bad_npz)], "bad.npz: missing b_g"),
    ]


def test_each_bad_input_is_one_line_exit_2_and_no_file(files, capsys):
    params, xs, model, seq, tmp = files
    for override, message in bad_cases(files):
        out = tmp / "out.csv"
        args = {"--model": str(model), "--input": str(seq), "--out": str(out)}
        args.update(dict(zip(override[::2], override[1::2])))
        code = main(["trace", *[v for kv in args.items() for v in kv]])
        err = capsys.readouterr().err
        assert code == 2, message
        assert message in err, (message, err)
        assert err.count("\n") == 1 and "Traceback" not in err
        assert not out.exists()


def test_failed_run_keeps_existing_output(files, capsys):
    params, xs, model, seq, tmp = files
    out = tmp / "out.csv"
    out.write_text("earlier results\n")
    bad = tmp / "bad.csv"
    bad.write_text("1,2\n3,oops\n")
    assert main(["trace", "--model", str(model), "--input", str(bad), "--out", str(out)]) == 2
    assert out.read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".")) == []


def test_unwritable_destination(files, capsys):
    params, xs, model, seq, tmp = files
    out = tmp / "no-such-dir" / "out.csv"
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"lstmviz: error: {out}: the folder {out.parent} does not exist\n"


def test_subprocess_exit_code_and_python_m(files):
    params, xs, model, seq, tmp = files
    env = dict(os.environ)
    proc = subprocess.run(
        [sys.executable, "-m", "lstmviz", "trace", "--model", str(model), "--input", str(tmp / "nope.csv"),
         "--out", str(tmp / "o.csv")],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("nope.csv: no such file")
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(
        [sys.executable, "-m", "lstmviz", "trace", "--model", str(model), "--input", str(seq), "--out", "-"],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.startswith("t,x_0,x_1,i_0")


def test_demo_writes_csv_and_says_where(tmp_path, capsys):
    out = tmp_path / "demo.csv"
    assert main(["demo", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().err
    assert pd.read_csv(out).shape[0] == 40


def test_window_without_a_display_is_one_line_exit_2(monkeypatch, capsys):
    # Qt would abort the process (a core dump, status 134) on Linux without a display
    for key in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err


def test_an_unforeseen_os_error_is_one_line_exit_2(files, capsys, monkeypatch):
    params, xs, model, seq, tmp = files

    def failing_read(*args, **kwargs):
        raise OSError(5, "Input/output error", str(seq))

    monkeypatch.setattr("lstmviz.io.sequences._read_csv", failing_read)
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(tmp / "o.csv")]) == 2
    assert capsys.readouterr().err == f"lstmviz: error: {seq}: Input/output error\n"
