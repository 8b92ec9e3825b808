"""A file that makes a reader spin forever is refused in one line once the time limit passes.

tests/fixtures/hostile/keras_attr_spin.keras is keras fuzz case 195 of test_hostile_fuzz.py
(seed 20261202 + 6): a mutated .keras whose model.weights.h5 makes h5py's read of the
variable-length string attribute layers/lstm/vars.attrs["name"] loop inside HDF5's C code,
never returning. Only killing the isolated reader process stops it (issue 12).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lstmviz.errors import LstmvizError
from lstmviz.io import isolated
from tests.hostile_helpers import assert_one_error_line, run_lstmviz

SPIN = Path(__file__).resolve().parents[1] / "fixtures" / "hostile" / "keras_attr_spin.keras"
LIMIT = "2"


def _env_with_limit(seconds: str) -> dict:
    return {**os.environ, isolated.TIME_LIMIT_ENV: seconds}


def test_the_spinning_keras_file_is_refused_in_one_line_after_the_limit(tmp_path):
    # The subprocess timeout only guards the suite; the message shows the limit was what fired.
    result = run_lstmviz(["inspect", str(SPIN)], env=_env_with_limit(LIMIT), cwd=tmp_path, timeout=90)
    line = assert_one_error_line(result, SPIN)
    assert line == (
        f"lstmviz: error: {SPIN}: took longer than {LIMIT} s to read: the file is damaged or hostile"
    )


def test_the_spinning_keras_file_is_refused_by_trace_without_writing_output(tmp_path):
    out = tmp_path / "trace.csv"
    sequence = tmp_path / "seq.csv"
    sequence.write_text("1,2\n3,4\n")
    result = run_lstmviz(
        ["trace", "--model", str(SPIN), "--input", str(sequence), "--out", str(out)],
        env=_env_with_limit(LIMIT), cwd=tmp_path, timeout=90,
    )
    assert "took longer than 2 s to read" in assert_one_error_line(result, SPIN)
    assert not out.exists()


def test_a_slow_reader_child_is_killed_at_the_configured_limit(monkeypatch, tmp_path):
    """The limit from the environment applies to inspect and load (the reader sleeps 60 s)."""
    path = tmp_path / "model.onnx"
    path.write_bytes(b"x" * 100)
    monkeypatch.setenv(isolated.TIME_LIMIT_ENV, "1")
    with pytest.raises(LstmvizError) as caught:
        isolated.inspect_model_isolated(path, loader="tests.io.frameworks_helpers:slow_loader")
    assert str(caught.value) == f"{path}: took longer than 1 s to read: the file is damaged or hostile"
    with pytest.raises(LstmvizError, match=r"took longer than 1 s to read"):
        isolated.load_model_isolated(path, loader="tests.io.frameworks_helpers:slow_loader")


def test_the_limit_grows_with_the_file_size(monkeypatch, tmp_path):
    monkeypatch.delenv(isolated.TIME_LIMIT_ENV, raising=False)
    small = tmp_path / "small.keras"
    small.write_bytes(b"\0" * 1000)
    big = tmp_path / "big.keras"
    with open(big, "wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50 << 20)
    assert isolated.read_time_limit(small) == pytest.approx(10.0, abs=0.001)
    assert isolated.read_time_limit(big) == pytest.approx(15.0)
    monkeypatch.setenv(isolated.TIME_LIMIT_ENV, "3")
    assert isolated.read_time_limit(big) == pytest.approx(8.0)


@pytest.mark.parametrize("value", ["soon", "0", "-5"])
def test_a_bad_limit_setting_is_one_error_naming_the_setting(monkeypatch, tmp_path, value):
    monkeypatch.setenv(isolated.TIME_LIMIT_ENV, value)
    with pytest.raises(LstmvizError) as caught:
        isolated.read_time_limit(tmp_path)
    assert str(caught.value).startswith(f"{isolated.TIME_LIMIT_ENV}: ")
