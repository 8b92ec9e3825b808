"""`lstmviz analyze saturation|gradient`: output, and the bad-input contract (one line on
stderr naming the file or option, exit 2, no output file left behind)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from lstmviz.cli import main
from lstmviz.core.analysis.gradients import gradient_flow
from lstmviz.core.analysis.saturation import gate_saturation
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.io.npz import write_npz_model


@pytest.fixture()
def files(tmp_path):
    params = LSTMParams.random(5, 3, seed=11)
    params = params.replace(**{k: v * 4 for k, v in params.arrays().items()})  # gates saturate
    model = tmp_path / "model.npz"
    write_npz_model(params, model)
    xs = np.random.default_rng(11).normal(size=(40, 3))
    seq = tmp_path / "input.csv"
    seq.write_text("a,b,c\n" + "\n".join(",".join(map(repr, r)) for r in xs.tolist()) + "\n")
    return params, xs, model, seq, tmp_path


def test_saturation_to_a_file_and_to_stdout(files, capsys):
    params, xs, model, seq, tmp = files
    out = tmp / "sat.csv"
    args = ["analyze", "saturation", "--model", str(model), "--input", str(seq)]
    assert main([*args, "--out", str(out), "--left", "0.2", "--right", "0.8"]) == 0
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["gate", "unit", "left", "right"]
    assert frame["gate"].tolist() == ["i"] * 5 + ["f"] * 5 + ["o"] * 5
    assert frame["unit"].tolist() == list(range(5)) * 3
    expected = gate_saturation(run(params, xs), 0.2, 0.8)
    for gate in "ifo":
        rows = frame[frame["gate"] == gate]
        np.testing.assert_array_equal(rows["left"].to_numpy(), expected.left[gate])
        np.testing.assert_array_equal(rows["right"].to_numpy(), expected.right[gate])
    assert (frame["left"] > 0).any() and (frame["right"] > 0).any()
    capsys.readouterr()
    assert main(args) == 0
    printed = capsys.readouterr().out
    default = pd.read_csv(io.StringIO(printed))
    expected = gate_saturation(run(params, xs))
    np.testing.assert_array_equal(default["left"].to_numpy(), expected.table()[:, 0])


@pytest.mark.parametrize(
    ("options", "unit", "step", "wrt"),
    [
        ([], None, None, "h"),
        (["--unit", "2"], 2, None, "h"),
        (["--unit", "4", "--step", "17", "--wrt", "c"], 4, 17, "c"),
        (["--step", "0", "--wrt", "c"], None, 0, "c"),
    ],
)
def test_gradient_rows_match_the_core(files, options, unit, step, wrt):
    params, xs, model, seq, tmp = files
    out = tmp / "grad.csv"
    assert main(["analyze", "gradient", "--model", str(model), "--input", str(seq), "--out", str(out),
                 *options]) == 0
    frame = pd.read_csv(out)
    flow = gradient_flow(params, run(params, xs), step=step, unit=unit, wrt=wrt)
    last = 39 if step is None else step
    assert list(frame.columns) == ["t", "dx_0", "dx_1", "dx_2", *(f"dc_{k}" for k in range(5)), "fprod"]
    assert frame["t"].tolist() == list(range(last + 1))
    # written losslessly: the same bits come back
    np.testing.assert_array_equal(frame[["dx_0", "dx_1", "dx_2"]].to_numpy(), flow.dx)
    np.testing.assert_array_equal(frame[[f"dc_{k}" for k in range(5)]].to_numpy(), flow.dc)
    np.testing.assert_array_equal(frame["fprod"].to_numpy(), flow.fprod)
    assert frame["fprod"].iloc[-1] == 1.0
    if unit is None:  # the mean of the units' forget products
        np.testing.assert_allclose(frame["fprod"].to_numpy(), flow.fprod_units.mean(axis=1))


def test_gradient_to_stdout(files, capsys):
    params, xs, model, seq, tmp = files
    assert main(["analyze", "gradient", "--model", str(model), "--input", str(seq), "--out", "-",
                 "--step", "3", "--unit", "0"]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert frame.shape == (4, 1 + 3 + 5 + 1)


@pytest.mark.parametrize(
    ("options", "names"),
    [
        (["gradient", "--step", "40"], ["--step", "40", "0..39"]),
        (["gradient", "--step", "-1"], ["--step", "-1"]),
        (["gradient", "--unit", "5"], ["--unit", "5", "0..4"]),
        (["gradient", "--unit", "-2"], ["--unit"]),
        (["saturation", "--left", "0.9", "--right", "0.1"], ["--left", "above the right threshold"]),
        (["saturation", "--right", "nan"], ["--right", "not a finite number"]),
    ],
)
def test_bad_options(files, capsys, options, names):
    params, xs, model, seq, tmp = files
    out = tmp / "out.csv"
    status = main(["analyze", options[0], "--model", str(model), "--input", str(seq), "--out", str(out),
                   *options[1:]])
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("lstmviz: error: ")
    for name in names:
        assert name in err
    assert not out.exists()
    assert [p.name for p in tmp.iterdir() if p.name.startswith(".out")] == []


def test_bad_files_leave_an_old_output_alone(files, capsys):
    params, xs, model, seq, tmp = files
    out = tmp / "old.csv"
    out.write_text("keep me\n")
    missing = tmp / "nope.npz"
    wide = tmp / "wide.csv"
    wide.write_text("1,2,3,4\n5,6,7,8\n")
    broken = tmp / "broken.csv"
    broken.write_text("1,2,3\n4,x,6\n")
    for model_path, seq_path, text in [
        (missing, seq, str(missing)),
        (model, wide, "wide.csv"),
        (model, broken, "broken.csv"),
    ]:
        for analysis in ("saturation", "gradient"):
            status = main(["analyze", analysis, "--model", str(model_path), "--input", str(seq_path),
                           "--out", str(out)])
            err = capsys.readouterr().err
            assert status == 2 and err.count("\n") == 1 and text in err, err
            assert out.read_text() == "keep me\n"


def test_analysis_is_required(capsys):
    assert main(["analyze"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ANALYSIS" in err and "lstmviz analyze --help" in err


def test_gradient_cli_matches_torch_autograd_end_to_end(tmp_path):
    """The CLI's numbers against torch.autograd's (committed fixture) and fprod against a plain
    product of forget gates from the test's own reference loop: nothing from lstmviz's run."""
    from pathlib import Path

    from tests.core.test_cell import reference_loop

    fixture = Path(__file__).parent.parent / "fixtures" / "autograd" / "torch_n8_m5_T30.npz"
    with np.load(fixture, allow_pickle=False) as loaded:
        data = dict(loaded)
    params = LSTMParams.from_stacked(data["weight_ih"], data["weight_hh"], data["bias_ih"] + data["bias_hh"])
    model, seq, h0, c0 = (tmp_path / name for name in ("m.npz", "x.npy", "h0.npy", "c0.npy"))
    write_npz_model(params, model)
    for path, key in ((seq, "xs"), (h0, "h0"), (c0, "c0")):
        np.save(path, data[key])
    forget = reference_loop(params, data["xs"], data["h0"], data["c0"])["f"]
    for j, (step, unit, wrt) in enumerate(data["cases"].tolist()):
        out = tmp_path / f"g{j}.csv"
        options = ["--step", str(step), "--wrt", "hc"[wrt]] + ([] if unit < 0 else ["--unit", str(unit)])
        assert main(["analyze", "gradient", "--model", str(model), "--input", str(seq), "--h0", str(h0),
                     "--c0", str(c0), "--out", str(out), *options]) == 0
        frame = pd.read_csv(out)
        n, m = params.n, params.m
        np.testing.assert_allclose(frame[[f"dx_{k}" for k in range(m)]].to_numpy(), data[f"dx_{j}"],
                                   rtol=0, atol=1e-8)
        np.testing.assert_allclose(frame[[f"dc_{k}" for k in range(n)]].to_numpy(), data[f"dc_{j}"],
                                   rtol=0, atol=1e-8)
        units = range(n) if unit < 0 else [unit]
        fprod = [np.mean([np.prod(forget[t + 1 : step + 1, k]) for k in units]) for t in range(step + 1)]
        np.testing.assert_allclose(frame["fprod"].to_numpy(), fprod, rtol=1e-12, atol=1e-15)
