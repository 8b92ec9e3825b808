"""Small files that describe gigabytes (issue 12): each is refused before anything is
allocated, in a child process whose peak memory is measured, with one line naming the file.
The bombs are built here at test time, never committed."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io.models import inspect_model

PEAK_LIMIT_MB = 400
# Runs the real command line in a fresh process, then reports the peak of its children
# (the lstmviz process and its reader child) and what the command printed.
MEASURE = r"""
import json, resource, subprocess, sys
resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
done = subprocess.run([sys.executable, "-m", "lstmviz", *sys.argv[1:]], capture_output=True, text=True)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"code": done.returncode, "stderr": done.stderr, "peak_mb": peak}))
"""


def _refused(path, tmp_path, *extra) -> str:
    xs = tmp_path / "x.csv"
    xs.write_text("0,0,0\n")
    out = tmp_path / "out.csv"
    argv = ["trace", "--model", str(path), "--input", str(xs), "--out", str(out), *extra]
    env = {
        "LSTMVIZ_MAX_MEMORY": "1G",
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ":".join(p for p in sys.path if p),
    }
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, env=env, timeout=120
    )
    result = json.loads(done.stdout)
    lines = result["stderr"].strip().splitlines()
    assert result["code"] == 2, result
    assert len(lines) == 1 and lines[0].startswith(f"lstmviz: error: {path}: "), lines
    assert result["peak_mb"] < PEAK_LIMIT_MB, result
    assert not out.exists()
    return lines[0]


def _keras3_weights(path, shapes, chunked=True):
    import h5py

    with h5py.File(path, "w") as f:
        for key, shape in zip("012", shapes):
            f.create_dataset(
                f"layers/lstm/cell/vars/{key}",
                shape=shape,
                dtype="f4",
                chunks=(64, 64)[: len(shape)] if chunked else None,
            )
        f["layers/lstm/cell/vars"].attrs["name"] = "lstm_cell"
    return path


def test_unwritten_chunked_hdf5_datasets_are_refused_by_their_shape(tmp_path):
    n = 8192  # recurrent (n, 4n) = 32768 wide: the 32768 x 32768 class of file
    path = _keras3_weights(tmp_path / "bomb.weights.h5", [(n, 4 * n), (n, 4 * n), (4 * n,)])
    assert path.stat().st_size < 64 << 10
    line = _refused(path, tmp_path)
    assert "needs " in line and "GB for the weights of 'lstm" in line and "--max-memory" in line


def test_keras_zip_member_larger_than_the_budget(tmp_path):
    path = tmp_path / "big.keras"
    config = {"class_name": "Sequential", "config": {"name": "s", "layers": []}}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("model.weights.h5", b"\0" * (3 << 20))
    xs = tmp_path / "x.csv"
    xs.write_text("0\n")
    done = subprocess.run(
        [sys.executable, "-m", "lstmviz", "inspect", str(path)],
        capture_output=True,
        text=True,
        env={
            "LSTMVIZ_MAX_MEMORY": "1M",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ":".join(p for p in sys.path if p),
        },
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"lstmviz: error: {path}: needs 3.0 MB for the .keras file's model.weights.h5, "
        "more than the 1.0 MB limit (--max-memory)"
    )


def _onnx_lstm(path, W, name="lstm", raw=True, dims=None):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(W, "W")
    if dims is not None:
        del w.dims[:]
        w.dims.extend(dims)
    if not raw:
        w.ClearField("raw_data")
    R = numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "R")
    node = helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=2, name=name)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 1, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 1, 1, 2])],
        initializer=[w, R],
    )
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_onnx_tensor_claiming_gigabytes_is_refused_by_its_dims(tmp_path):
    path = _onnx_lstm(tmp_path / "bomb.onnx", np.zeros(1, np.float32), dims=[1, 32768, 32768], raw=False)
    assert path.stat().st_size < 4096
    line = _refused(path, tmp_path)
    assert "needs 4.0 GB for tensor 'W'" in line


def test_onnx_raw_data_shorter_than_its_dims(tmp_path):
    path = _onnx_lstm(tmp_path / "short.onnx", np.zeros(6, np.float32), dims=[1, 8, 3])
    with pytest.raises(LstmvizError) as caught:
        lstmviz.load_model(path)
    assert (
        str(caught.value)
        == f"{path}: tensor 'W' holds 24 bytes of data, but its dims [1, 8, 3] and type need 96"
    )


def test_onnx_node_name_that_is_not_utf8_is_escaped(tmp_path):
    path = _onnx_lstm(tmp_path / "name.onnx", np.ones((1, 8, 3), np.float32), name="ab\u00e7")
    path.write_bytes(path.read_bytes().replace("ab\u00e7".encode(), b"ab\xff\xfe"))
    [info] = inspect_model(path)
    assert info.name == "ab\\xff\\xfe"
    assert lstmviz.load_model(path, layer="ab\\xff\\xfe").n == 2


def test_hdf5_is_parsed_in_the_child_process():
    import subprocess as sp

    path = Path(__file__).resolve().parent.parent / "fixtures" / "keras" / "weights_only_relu.weights.h5"
    code = (
        "import sys, lstmviz\n"
        f"p = lstmviz.load_model({str(path)!r}, activation='relu')\n"
        "print(p.n, 'h5py' in sys.modules)\n"
    )
    done = sp.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["5", "False"], done.stderr


def test_onnx_is_parsed_in_the_child_process(monkeypatch):
    import os

    from lstmviz.io import onnx_io

    parent, real = os.getpid(), onnx_io.parse_model

    def parse_only_in_a_child(data, budget):
        assert os.getpid() != parent, "the ONNX file was parsed in the calling process"
        return real(data, budget)

    monkeypatch.setattr(onnx_io, "parse_model", parse_only_in_a_child)
    path = Path(__file__).resolve().parent.parent / "fixtures" / "onnx" / "loop_body.onnx"
    assert lstmviz.load_model(path).n == 3
    assert [info.name for info in inspect_model(path)] == ["Loop_0/body/LSTM_0"]
