"""`lstmviz train`: a model that opens like any other and answers the task, the log, and the
bad-option contract (one line naming the option, exit 2, nothing written)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import lstmviz
from lstmviz.cli import main
from lstmviz.core.cell import run_cell


def test_train_saves_a_model_with_its_readout_and_a_log(tmp_path, capsys):
    out, log = tmp_path / "model.npz", tmp_path / "loss.csv"
    code = main(["train", "first-value", "--delay", "6", "--n", "6", "--iterations", "300", "--lr", "0.03",
                 "--seed", "2", "--stop-loss", "0.01", "--out", str(out), "--log", str(log)])
    assert code == 0
    err = capsys.readouterr().err
    assert "iteration" in err and f"wrote {out}" in err
    frame = pd.read_csv(log)
    assert list(frame.columns) == ["iteration", "loss", "accuracy", "grad_norm"]
    assert frame["iteration"].tolist() == list(range(1, len(frame) + 1))
    assert frame["loss"].tail(10).mean() < 0.01 < frame["loss"].iloc[0]
    params = lstmviz.load_model(out)  # the readout keys do not get in the way
    assert params.n == 6 and params.m == 2
    with np.load(out, allow_pickle=False) as data:
        V, d = data["V"], data["d"]
    assert V.shape == (1, 6) and d.shape == (1,)
    xs = np.zeros((7, 2))
    xs[:, 0] = np.linspace(-0.9, 0.7, 7)[::-1]
    xs[0, 1] = 1.0
    answer = float((V @ run_cell(params, xs).h[-1] + d)[0])
    assert abs(answer - xs[0, 0]) < 0.3


def test_text_task_reads_the_users_file(tmp_path):
    text = tmp_path / "t.txt"
    text.write_text("abab abba " * 20)
    out = tmp_path / "m.npz"
    assert main(["train", "text", "--text", str(text), "--delay", "8", "--n", "4", "--iterations", "3",
                 "--out", str(out)]) == 0
    assert lstmviz.load_model(out).m == 3  # 'a', 'b', ' '


@pytest.mark.parametrize("options, message", [
    (["--delay", "-1"], "lstmviz: error: --delay: -1 is negative"),
    (["--n", "0"], "lstmviz: error: --n: 0 hidden units"),
    (["--lr", "nan"], "lstmviz: error: --lr: nan is not a finite number"),
    (["--lr", "0"], "lstmviz: error: --lr: 0 must be more than 0"),
    (["--batch", "0"], "lstmviz: error: --batch: 0 must be at least 1"),
    (["--text", "x.txt"], "lstmviz: error: --text: only the text task"),
])
def test_bad_options_are_one_line_errors_and_write_nothing(tmp_path, capsys, options, message):
    out = tmp_path / "m.npz"
    assert main(["train", "first-value", *options, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
    assert not out.exists()


def test_missing_text_file_and_missing_folder_name_the_file(tmp_path, capsys):
    missing = str(tmp_path / "none.txt")
    assert main(["train", "text", "--text", missing, "--out", str(tmp_path / "m.npz")]) == 2
    assert "none.txt" in capsys.readouterr().err
    assert main(["train", "sine", "--out", str(tmp_path / "no" / "m.npz")]) == 2
    assert "the folder does not exist" in capsys.readouterr().err
