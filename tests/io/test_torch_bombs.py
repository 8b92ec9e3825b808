"""Hostile PyTorch files (issue 12), built here at test time: each is refused by the real
command in a child process, with one stderr line naming the file, exit 2, a small peak
memory (the child's own peak RSS, under an address-space limit) and no hang."""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.io.frameworks_helpers import torch_zip

ADDRESS_LIMIT = 3 << 30  # the child cannot allocate more than this at all
PEAK_LIMIT_KB = 200 << 10  # what a refusal may cost: peak resident kilobytes
CHILD = r"""
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]), int(sys.argv[2])))
from lstmviz.cli import main
try:
    code = main(sys.argv[3:])
except SystemExit as exit:
    code = exit.code
# The peak RSS of this process: VmHWM starts afresh at exec, while ru_maxrss keeps the peak
# of the pytest process this child was forked from (Linux preserves it across execve).
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except (OSError, StopIteration, ValueError):
    pass
with open(sys.argv[1], "w") as out:
    out.write(str(peak))
sys.exit(code)
"""


def _refused(tmp_path: Path, model: Path, command: str = "trace") -> str:
    xs = tmp_path / "x.csv"
    xs.write_text("0.5,0.25,1\n" * 3)
    args = (
        ["inspect", str(model)]
        if command == "inspect"
        else ["trace", "--model", str(model), "--input", str(xs), "--out", str(tmp_path / "out.csv")]
    )
    peak = tmp_path / "peak"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("LSTMVIZ_MAX_MEMORY", None)  # the default budget
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(peak), str(ADDRESS_LIMIT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    err = done.stderr
    assert done.returncode == 2, err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert str(model) in err and "Traceback" not in err
    assert not any(ord(ch) < 32 for ch in err[:-1]), repr(err)  # no raw control characters
    assert int(peak.read_text()) < PEAK_LIMIT_KB, f"peak {int(peak.read_text()) >> 10} MB"
    assert not (tmp_path / "out.csv").exists()
    return err


def _int(value: int) -> bytes:
    return b"J" + struct.pack("<i", value)


def _tuple(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def _tensor(key: str, numel: int, shape, stride) -> bytes:
    """torch._utils._rebuild_tensor_v2(storage, 0, shape, stride, False, OrderedDict()) with the
    storage torch's persistent id ('storage', FloatStorage, key, 'cpu', numel)."""
    pid = (
        b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX"
        + struct.pack("<I", len(key))
        + key.encode()
        + b"X\x03\x00\x00\x00cpu"
        + _int(numel)
        + b"tQ"
    )
    return (
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        + pid
        + _int(0)
        + _tuple(shape)
        + _tuple(stride)
        + b"\x89ccollections\nOrderedDict\n)RtR"
    )


def _text(key: str) -> bytes:
    data = key.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def test_stride0_view_on_one_element_is_refused_before_copying(tmp_path):
    # 661 bytes in issue 12: a (32768, 32768) float32 view of one element, 4 GB once copied
    data = (
        b"\x80\x02}("
        + _text("lstm.weight_ih_l0")
        + _tensor("0", 1, (32768, 32768), (0, 0))
        + _text("lstm.weight_hh_l0")
        + _tensor("0", 1, (32768, 8192), (0, 0))
        + b"u."
    )
    model = torch_zip(tmp_path / "stride0.pt", data, {"0": np.ones(1, np.float32).tobytes()})
    assert model.stat().st_size < 1500
    err = _refused(tmp_path, model)
    assert "needs " in err and "GB for lstm.weight_ih_l0" in err and "limit" in err
    # listing the layer copies nothing, so inspect answers (and names the shapes)
    done = subprocess.run(
        [sys.executable, "-m", "lstmviz", "inspect", str(model)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "n = 8192 units" in done.stdout


def test_memo_shared_huge_keys_cost_their_size_once(tmp_path):
    # keys of 4 MB, shared through the pickle's memo, nested 8 deep: 2**8 paths of 32 MB names
    left, right = "a" * (4 << 20) + "1", "a" * (4 << 20) + "2"
    node: object = {"weight_ih_l0": 1}
    for _ in range(8):
        node = {left: node, right: node}
    model = torch_zip(tmp_path / "memo.pt", pickle.dumps(node, protocol=2))
    assert model.stat().st_size < 12 << 20
    err = _refused(tmp_path, model)
    assert "no LSTM layer found" in err


def test_memo_shared_short_keys_are_capped(tmp_path):
    # keys short enough to be names, shared 30 levels deep: 2**30 paths
    node: object = {"x": 1}
    for level in range(30):
        node = {f"{level}a" * 500: node, f"{level}b" * 500: node}
    model = torch_zip(tmp_path / "fanout.pt", pickle.dumps(node, protocol=2))
    err = _refused(tmp_path, model)
    assert "more than" in err and "entries" in err


@pytest.mark.parametrize("protocol", [0, 2])
def test_integer_key_of_5000_digits(tmp_path, protocol):
    if protocol == 0:  # text LONG opcode: Python itself cannot even parse it back
        data = b"(dp0\nL1" + b"0" * 5000 + b"L\nI1\ns."
    else:  # binary LONG4: parses, but cannot be printed ("Exceeds the limit")
        data = pickle.dumps({10**5000: 1}, protocol=protocol)
    model = torch_zip(tmp_path / f"bigint{protocol}.pt", data)
    err = _refused(tmp_path, model, "inspect")
    assert "integer of more than 1000 digits" in err


def test_module_name_with_newline_and_ansi_escapes_prints_one_escaped_line(tmp_path):
    forged = "x\n\x1b[31mlstmviz: all good, weights loaded\x1b[0m"
    data = (
        b"\x80\x04}"
        + _text("lstm.weight_ih_l0")
        + _text(forged)
        + _text("payload")
        + b"\x93)R"  # STACK_GLOBAL, then call it with no arguments
        + b"s."
    )
    model = torch_zip(tmp_path / "ansi.pt", data)
    err = _refused(tmp_path, model, "inspect")
    assert "\\x1b[31m" in err and "never run" in err
    assert "\x1b" not in err


def test_storage_larger_than_the_budget_is_refused_before_reading(tmp_path):
    # a stored (uncompressed) member whose header says 3 GB; the bytes are never read
    data = (
        b"\x80\x02}("
        + _text("lstm.weight_ih_l0")
        + _tensor("0", 3 << 28, (8, 3), (3, 1))
        + _text("lstm.weight_hh_l0")
        + _tensor("0", 3 << 28, (8, 2), (2, 1))
        + b"u."
    )
    model = torch_zip(tmp_path / "huge_storage.pt", data, {"0": b"\x00" * 48})
    err = _refused(tmp_path, model)
    assert "damaged PyTorch file" in err or "needs" in err


def test_bomb_zip_never_reaches_disk(tmp_path):
    # sanity: the helper writes the small files it claims to
    path = torch_zip(tmp_path / "tiny.pt", b"\x80\x02}.")
    with zipfile.ZipFile(path) as archive:
        assert sum(info.file_size for info in archive.infolist()) < 100
