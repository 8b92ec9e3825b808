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


# -- projected (LSTMP) and masked traces --------------------------------------------------
@pytest.fixture(scope="module", params=[2, 5], ids=["p<n", "p>n"])
def projected_trace(request):
    params = LSTMParams.random(3, 2, seed=6, proj_size=request.param)
    return run(params, np.random.default_rng(6).normal(size=(6, 2)) * 2)


def test_wide_projected_has_r_beside_h(projected_trace, tmp_path):
    tr = projected_trace
    out = tmp_path / "t.csv"
    write_trace_csv(tr, out)
    head = read_rows(out)[0]
    cell = [f"{q}_{k}" for q in ("i", "f", "g", "o", "c", "r") for k in range(3)]
    assert head == ["t", "x_0", "x_1", *cell, *(f"h_{j}" for j in range(tr.h_size))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["wide", "long"])
def test_projected_round_trip_is_bit_exact(tmp_path, dtype, layout):
    for p in (2, 5):
        params = LSTMParams.random(3, 2, seed=p, proj_size=p)
        tr = run(params, np.random.default_rng(p).normal(size=(30, 2)) * 3, dtype=dtype)
        out = tmp_path / f"t{p}.csv"
        write_trace_csv(tr, out, layout=layout, preactivations=True)
        rows = read_rows(out)
        head, body = rows[0], rows[1:]
        for name in ("zf", "i", "c", "r", "h"):
            array = tr.quantity(name)
            for k in range(array.shape[1]):
                if layout == "wide":
                    col = head.index(f"{name}_{k}")
                    texts = [r[col] for r in body]
                else:
                    col = head.index(name)
                    texts = [r[col] for r in body if r[1] == str(k)]
                back = np.array([float(v) for v in texts], dtype=np.float64)
                assert np.array_equal(back.astype(dtype), array[:, k]), (p, name, k)
                assert np.array_equal(back, array[:, k].astype(np.float64))
        if layout == "long":  # units run to max(n, p); a quantity without entry k is empty
            assert sorted({int(r[1]) for r in body}) == list(range(max(3, p)))
            short = head.index("h" if p < 3 else "c")
            assert all(r[short] == "" for r in body if int(r[1]) >= min(3, p))
            frame = pd.read_csv(out)
            assert frame.shape == (30 * max(3, p), len(head))
            assert frame["h" if p < 3 else "c"].isna().sum() == 30 * abs(3 - p)


def test_unit_selection_of_a_projected_trace(tmp_path):
    tr = run(LSTMParams.random(4, 2, seed=1, proj_size=2), np.zeros((3, 2)))
    out = tmp_path / "t.csv"
    write_trace_csv(tr, out, units=[1, 3])
    head = read_rows(out)[0]
    assert "r_3" in head and "h_1" in head and "h_3" not in head and "c_0" not in head
    with pytest.raises(LstmvizError, match=r"units \[4\] are not in 0..3"):
        write_trace_csv(tr, out, units=[4])


def test_trace_npz_round_trip_with_projection_and_mask(tmp_path):
    from lstmviz.io.trace_npz import write_trace_npz

    for dtype in (np.float64, np.float32):
        params = LSTMParams.random(3, 2, seed=2, proj_size=4).replace(mask_value=0.0)
        xs = np.random.default_rng(2).normal(size=(9, 2))
        xs[[2, 5]] = 0.0
        tr = run(params, xs, dtype=dtype)
        out = tmp_path / "t.npz"
        write_trace_npz(tr, out, preactivations=True)
        with np.load(out, allow_pickle=False) as data:
            back = dict(data)
        for name in ("x", "zi", "i", "f", "g", "o", "c", "r", "h"):
            assert back[name].dtype == dtype and np.array_equal(back[name], tr.quantity(name)), name
        assert np.array_equal(back["h0"], tr.h0) and back["h"].shape == (9, 4)
        assert back["mask"].tolist() == tr.mask.tolist() and back["mask"].sum() == 2
        write_trace_npz(tr, out, units=[2], steps=(1, 4))
        with np.load(out, allow_pickle=False) as data:
            assert data["r"].shape == (3, 1) and np.array_equal(data["r"][:, 0], tr.r[1:4, 2])
            assert data["h"].shape == (3, 4) and data["mask"].tolist() == [False, True, False]
