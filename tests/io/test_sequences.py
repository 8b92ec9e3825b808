"""Reading input sequences: CSV and .npy, and every way they can be malformed."""

import numpy as np
import pytest

from lstmviz.errors import LstmvizError
from lstmviz.io.sequences import load_sequence, write_sequence


def test_csv_with_and_without_header(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text("u,v\n1,2\n3.5,-4e-3\n")
    b = tmp_path / "b.csv"
    b.write_text("1,2\n3.5,-4e-3\n")
    for path in (a, b):
        np.testing.assert_array_equal(load_sequence(path), [[1, 2], [3.5, -4e-3]])


def test_npy_1d_is_one_column(tmp_path):
    p = tmp_path / "s.npy"
    np.save(p, np.arange(5.0))
    assert load_sequence(p).shape == (5, 1)


def test_write_then_read_is_exact(tmp_path):
    xs = np.random.default_rng(0).normal(size=(50, 3))
    for name in ("s.csv", "s.npy"):
        write_sequence(xs, tmp_path / name)
        np.testing.assert_array_equal(load_sequence(tmp_path / name), xs)


@pytest.mark.parametrize(
    "text,message",
    [
        ("1,2\n3,abc\n", r"line 2, column 2: 'abc' is not a number"),
        ("1,2\n3\n", r"line 2 has 1 columns, expected 2"),
        # the file's line numbers, counting the header: the tester's ragged file said "row 3"
        # for its second row of numbers
        ("a,b,c\n1,2,3\n4,5\n6,7,8,9\n", r"line 3 has 2 columns, expected 3 \(ragged rows\)"),
        ("x,y\n1,2\n4,nan\n", r"line 3, column 2: 'nan' is not a finite number"),
        ("1,inf\n", r"line 1, column 2: 'inf' is not a finite number"),
        ("1,2\n\n3,4\n", r"line 2 is blank"),
        ("a,b\n", "header but no rows"),
        ("\n\n", "empty"),
    ],
)
def test_malformed_csv(tmp_path, text, message):
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(LstmvizError, match=message) as info:
        load_sequence(p)
    assert str(p) in str(info.value)
    assert "\n" not in str(info.value)


def test_empty_file(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    with pytest.raises(LstmvizError, match="empty"):
        load_sequence(p)


def test_missing_path_and_unknown_extension(tmp_path):
    with pytest.raises(LstmvizError, match="no such file"):
        load_sequence(tmp_path / "nope.csv")
    p = tmp_path / "s.txt"
    p.write_text("1,2\n")
    with pytest.raises(LstmvizError, match="unknown sequence format '.txt'"):
        load_sequence(p)


def test_npy_pickled_objects_are_refused(tmp_path):
    p = tmp_path / "o.npy"
    np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(LstmvizError, match="cannot read the array: the array holds Python objects"):
        load_sequence(p)


def test_npy_bad_shape_and_nan(tmp_path):
    p = tmp_path / "s.npy"
    np.save(p, np.zeros((2, 2, 2)))
    with pytest.raises(LstmvizError, match=r"shape \(2, 2, 2\)"):
        load_sequence(p)
    q = tmp_path / "n.npy"
    arr = np.zeros((4, 3))
    arr[2, 0] = np.nan
    np.save(q, arr)
    with pytest.raises(LstmvizError, match=r"row 3, column 1"):
        load_sequence(q)


def test_truncated_npy(tmp_path):
    p = tmp_path / "t.npy"
    np.save(p, np.zeros((100, 3)))
    p.write_bytes(p.read_bytes()[:200])
    with pytest.raises(LstmvizError, match=str(p.name)):
        load_sequence(p)
