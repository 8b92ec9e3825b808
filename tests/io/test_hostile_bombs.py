"""Memory bombs: small files that describe gigabytes are refused by the real `lstmviz`
command before their data is touched, with one error line naming the file, and a peak
memory far below what the file describes (measured in a child under RLIMIT_AS).

The shared zip caps (lstmviz.io.zipsafe) are tested across every zip reader here; the
reader-specific bombs (stride-0 tensors, memo-shared pickles, unwritten HDF5 chunks) are
tested beside their readers.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import lstmviz
from lstmviz.core.params import WEIGHT_KEYS, LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io import document_file as df
from lstmviz.io import zipsafe
from lstmviz.io.npz import write_npz_model
from tests.hostile_helpers import (
    BASELINE_RSS,
    assert_one_error_line,
    npy_bytes,
    npy_header,
    run_lstmviz,
    zero_bomb,
    zip_bytes,
)

PEAK_LIMIT = BASELINE_RSS + (150 << 20)  # "under a few hundred MB", for a file describing GBs
TWO_GB = 2 << 30


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """A valid model (n=3, m=2), its input and its document, to build bombs around."""
    tmp = tmp_path_factory.mktemp("small")
    params = LSTMParams.random(3, 2, seed=0)
    write_npz_model(params, tmp / "ok.npz")
    (tmp / "ok.csv").write_text("1,2\n3,4\n")
    from lstmviz.document import Document, files

    doc = Document(params, np.zeros((4, 2)))
    df.write_document(files.snapshot(doc), tmp / "ok.lstmviz")
    return tmp, params


def _document_json(path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as zf:
        return zf.read("document.json")


def _bomb_archive(kind: str, small) -> tuple[str, bytes, list[str]]:
    """(file name, zip bytes, the lstmviz arguments that read it) for one zip reader, with a
    2 GB member that deflate packs into ~2 MB."""
    tmp, params = small
    if kind == "npz":
        members = [(f"{k}.npy", npy_bytes(v)) for k, v in params.arrays().items() if k != "b_i"]
        members.append(("b_i.npy", zero_bomb(TWO_GB, npy_header((TWO_GB - 128,), "|u1"))))
        return "bomb.npz", zip_bytes(members), ["inspect"]
    if kind == "lstmviz":
        import zipfile

        with zipfile.ZipFile(tmp / "ok.lstmviz") as zf:
            members = [(n, zf.read(n)) for n in zf.namelist() if n != "input/xs.npy"]
        members.append(("input/xs.npy", zero_bomb(TWO_GB, npy_header(((TWO_GB - 128) // 16, 2)))))
        return "bomb.lstmviz", zip_bytes(members), ["trace", "--out", str(tmp / "out.csv"), "--document"]
    if kind == "pt":
        import pickle

        members = [("archive/data.pkl", pickle.dumps({}, protocol=2)), ("archive/byteorder", b"little"),
                   ("archive/data/0", zero_bomb(TWO_GB))]
        return "bomb.pt", zip_bytes(members), ["inspect"]
    if kind == "keras":
        members = [("config.json", json.dumps({"class_name": "Sequential", "config": {}}).encode()),
                   ("model.weights.h5", zero_bomb(TWO_GB))]
        return "bomb.keras", zip_bytes(members), ["inspect"]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["npz", "lstmviz", "pt", "keras"])
def test_every_zip_reader_refuses_a_member_that_inflates_to_2gb(small, tmp_path, kind):
    name, data, args = _bomb_archive(kind, small)
    path = tmp_path / name
    path.write_bytes(data)
    assert path.stat().st_size < 3 << 20  # ~2 MB on disk
    result = run_lstmviz([*args, str(path)])
    line = assert_one_error_line(result, path)
    assert "expands" in line and "2.0 GB" in line and "zip bomb" in line, line
    assert result.peak_rss < PEAK_LIMIT, result.peak_rss


@pytest.mark.parametrize("kind", ["npz", "lstmviz", "pt", "keras"])
def test_every_zip_reader_has_the_same_member_count_cap(tmp_path, kind):
    count = zipsafe.MAX_MEMBERS + 1
    names = {"npz": "x{}.npy", "lstmviz": "junk/{}", "pt": "archive/data/{}", "keras": "junk{}"}[kind]
    path = tmp_path / f"many.{kind}"
    path.write_bytes(zip_bytes([(names.format(k), b"") for k in range(count)]))
    reader = df.read_document if kind == "lstmviz" else lstmviz.load_model
    with pytest.raises(LstmvizError) as caught:
        reader(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert f"declares {count} members, more than the {zipsafe.MAX_MEMBERS} lstmviz reads" in str(caught.value)


def test_integer_members_are_checked_in_their_own_dtype_before_widening(tmp_path):
    # n = 1024 uint8 weights: 4 MB as stored (zeros pack ~1000-fold, 5 KB of file), 36 MB
    # once widened to float64: over a 20 MB budget, so refused before any member is read.
    n, m = 1024, 2
    members = []
    for key in WEIGHT_KEYS:
        shape = (n, n) if key.startswith("U_") else (n, m) if key.startswith("W_") else (n,)
        if key.startswith("U_"):
            members.append((f"{key}.npy", zero_bomb(n * n + 128, npy_header(shape, "|u1"), crc=True)))
        else:
            members.append((f"{key}.npy", npy_bytes(np.zeros(shape, dtype=np.uint8))))
    path = tmp_path / "wide.npz"
    path.write_bytes(zip_bytes(members))
    result = run_lstmviz(["inspect", str(path)], max_memory="20M")
    line = assert_one_error_line(result, path)
    assert "needs" in line and "more than the 20.0 MB limit (--max-memory)" in line, line
    # the same file within a larger budget is a model of zeros, read in full
    assert lstmviz.load_model(path).n == n


def test_a_npy_header_claiming_1e9_by_1e9_is_refused_at_once(small, tmp_path):
    tmp, _ = small
    path = tmp_path / "huge.npy"
    path.write_bytes(npy_header((10**9, 10**9)) + bytes(64))
    result = run_lstmviz(["trace", "--model", str(tmp / "ok.npz"), "--input", str(path),
                          "--out", str(tmp_path / "out.csv")])
    line = assert_one_error_line(result, path)
    assert "needs" in line and "for the input" in line, line
    assert result.peak_rss < PEAK_LIMIT
    assert not (tmp_path / "out.csv").exists()


def test_a_npy_header_larger_than_its_file_is_truncated_not_allocated(tmp_path):
    path = tmp_path / "short.npy"
    path.write_bytes(npy_header((1000, 1000)) + bytes(80))
    with pytest.raises(LstmvizError, match=r"short.npy: is truncated: its header says 8000000 bytes"):
        lstmviz.load_sequence(path)


def test_a_csv_with_one_1gb_line_stops_at_the_line_cap(small, tmp_path):
    tmp, _ = small
    path = tmp_path / "long.csv"
    with open(path, "wb") as handle:  # "1,1,1,..." then a sparse gigabyte: no disk used
        handle.write(b"1," * (1 << 20))
        handle.truncate(1 << 30)
        handle.seek(0, os.SEEK_END)
        handle.write(b"\n")
    result = run_lstmviz(["trace", "--model", str(tmp / "ok.npz"), "--input", str(path),
                          "--out", str(tmp_path / "out.csv")])
    line = assert_one_error_line(result, path)
    assert "line 1 is longer than 4194304 bytes" in line, line
    assert result.peak_rss < PEAK_LIMIT, result.peak_rss  # a whole read would take > 1 GB


def test_csv_field_count_and_row_budget(tmp_path, monkeypatch):
    wide = tmp_path / "wide.csv"
    wide.write_text("1,2\n" + ",".join(["0"] * 70_000) + "\n")
    with pytest.raises(LstmvizError, match=r"wide.csv: line 2 has more than 65536 fields"):
        lstmviz.load_sequence(wide)
    rows = tmp_path / "rows.csv"
    rows.write_text("0.5,0.25\n" * 100_000)  # 1.6 MB of numbers
    monkeypatch.setenv("LSTMVIZ_MAX_MEMORY", "1M")
    with pytest.raises(LstmvizError, match=r"rows.csv: needs .* for the input, more than the 1.0 MB limit"):
        lstmviz.load_sequence(rows)
    monkeypatch.setenv("LSTMVIZ_MAX_MEMORY", "64M")
    assert lstmviz.load_sequence(rows).shape == (100_000, 2)


def test_max_memory_reaches_every_command_and_child_processes(small, tmp_path):
    tmp, _ = small
    bad = run_lstmviz(["--max-memory", "lots", "inspect", str(tmp / "ok.npz")])
    assert bad.status == 2 and bad.error_lines == [
        "lstmviz: error: --max-memory: memory size 'lots' is not a positive size such as 2G or 512M"]
    # after the subcommand too, and the limit is what the readers see
    tiny = run_lstmviz(["inspect", "--max-memory", "100", str(tmp / "ok.npz")])
    line = assert_one_error_line(tiny, tmp / "ok.npz")
    assert "more than the 100 bytes limit (--max-memory)" in line
    code = ("import os, sys; from lstmviz.cli import main; "
            "main(['--max-memory', '3G', 'demo', '--out', sys.argv[1]]); "
            "print(os.environ['LSTMVIZ_MAX_MEMORY'])")
    from tests.hostile_helpers import run_python

    result = run_python(code, str(tmp_path / "demo.csv"))
    assert result.status == 0 and result.stdout.strip() == str(3 << 30)
