"""The trace CSV schema, losslessness and pandas compatibility."""

import csv
import io

import numpy as np
import pandas as pd
import pytest

from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.csv import ExportCancelled, write_trace_csv


@pytest.fixture(scope="module")
def trace():
    params = LSTMParams.random(3, 2, seed=4)
    return run(params, np.random.default_rng(4).normal(size=(7, 2)))


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_wide_columns(trace, tmp_path):
    out = tmp_path / "t.csv"
    write_trace_csv(trace, out)
    rows = read_rows(out)
    expected = ["t", "x_0", "x_1"] + [f"{q}_{k}" for q in "ifgoch" for k in range(3)]
    assert rows[0] == expected
    assert len(rows) == 1 + 7
    assert [r[0] for r in rows[1:]] == [str(t) for t in range(7)]


def test_wide_with_preactivations(trace, tmp_path):
    out = tmp_path / "t.csv"
    write_trace_csv(trace, out, preactivations=True)
    head = read_rows(out)[0]
    assert head[3:6] == ["zi_0", "zi_1", "zi_2"]
    assert head.index("zo_2") < head.index("i_0")


def test_long_layout(trace, tmp_path):
    out = tmp_path / "t.csv"
    write_trace_csv(trace, out, layout="long", preactivations=True)
    rows = read_rows(out)
    assert rows[0] == ["t", "unit", "zi", "zf", "zg", "zo", "i", "f", "g", "o", "c", "h"]
    assert len(rows) == 1 + 7 * 3
    assert rows[5][:2] == ["1", "1"]  # (t, unit) pairs in t-major order
    assert float(rows[5][-1]) == trace.h[1, 1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_round_trip_is_bit_exact(tmp_path, dtype):
    params = LSTMParams.random(5, 3, seed=1)
    tr = run(params, np.random.default_rng(1).normal(size=(40, 3)) * 3, dtype=dtype)
    out = tmp_path / "t.csv"
    write_trace_csv(tr, out, preactivations=True)
    rows = read_rows(out)
    head = rows[0]
    for name, array in (("h", tr.h), ("c", tr.c), ("zf", tr.zf), ("g", tr.g)):
        for k in range(5):
            col = head.index(f"{name}_{k}")
            back = np.array([float(r[col]) for r in rows[1:]], dtype=np.float64)
            assert np.array_equal(back.astype(dtype), array[:, k]), (name, k)
            assert np.array_equal(back, array[:, k].astype(np.float64))


def test_pandas_reads_both_layouts(trace, tmp_path):
    wide, long = tmp_path / "w.csv", tmp_path / "l.csv"
    write_trace_csv(trace, wide)
    write_trace_csv(trace, long, layout="long")
    w = pd.read_csv(wide)
    l = pd.read_csv(long)
    assert w.shape == (7, 1 + 2 + 6 * 3)
    assert l.shape == (7 * 3, 8)
    assert np.array_equal(w["f_2"].to_numpy(), trace.f[:, 2])
    assert np.array_equal(l[l.unit == 2]["f"].to_numpy(), trace.f[:, 2])
    assert w["t"].dtype.kind == "i" and l["unit"].dtype.kind == "i"


def test_selected_units_and_step_range(trace, tmp_path):
    out = tmp_path / "t.csv"
    write_trace_csv(trace, out, units=[2], steps=(3, 5))
    rows = read_rows(out)
    assert rows[0] == ["t", "x_0", "x_1", "i_2", "f_2", "g_2", "o_2", "c_2", "h_2"]
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert float(rows[2][-1]) == trace.h[4, 2]


def test_bad_options_write_nothing(trace, tmp_path):
    out = tmp_path / "t.csv"
    with pytest.raises(LstmvizError, match="not in 0..2"):
        write_trace_csv(trace, out, units=[5])
    with pytest.raises(LstmvizError, match="layout"):
        write_trace_csv(trace, out, layout="tall")
    assert not out.exists()


def test_cancel_keeps_earlier_file(trace, tmp_path):
    out = tmp_path / "t.csv"
    out.write_text("precious")
    with pytest.raises(ExportCancelled):
        write_trace_csv(trace, out, progress=lambda done: False)
    assert out.read_text() == "precious"
    assert list(tmp_path.iterdir()) == [out]


def test_stdout(trace, capsys):
    write_trace_csv(trace, "-")
    text = capsys.readouterr().out
    assert text.startswith("t,x_0,x_1,i_0")
    assert len(list(csv.reader(io.StringIO(text)))) == 8
