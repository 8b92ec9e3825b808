"""Damaged zip and .npy files of every native kind give one-line LstmvizErrors naming the file.

Each damage here made a reader raise something else (zlib.error, NotImplementedError,
tokenize.TokenError, BadZipFile from zipfile.is_zipfile), which the CLI printed as a traceback.
"""

from __future__ import annotations

import pickle
import struct
import time
import zipfile

import numpy as np
import pytest

import lstmviz
from lstmviz.cli import main
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document, files
from lstmviz.errors import LstmvizError
from lstmviz.io import document_file as df
from lstmviz.io.zipsafe import is_zip
from tests.io.frameworks_helpers import torch_zip


def _first_member_data_offset(data: bytes) -> int:
    """Where the first member's (compressed) bytes start, from its local header."""
    assert data[:4] == b"PK\x03\x04"
    name_len, extra_len = struct.unpack("<HH", data[26:30])
    return 30 + name_len + extra_len


def broken_deflate(data: bytes) -> bytes:
    """The first member's deflate stream starts with a block of the reserved type 3."""
    start = _first_member_data_offset(data)
    return data[:start] + b"\x07" + data[start + 1 :]


def unknown_compression(data: bytes) -> bytes:
    """Every central-directory entry names compression method 99."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        out[pos + 10 : pos + 12] = struct.pack("<H", 99)
        pos = out.find(b"PK\x01\x02", pos + 4)
    return bytes(out)


def multi_disk(data: bytes) -> bytes:
    """A zip64 locator that claims two disks: zipfile.is_zipfile itself raises BadZipFile."""
    end = data.rfind(b"PK\x05\x06")
    return data[:end] + b"PK\x06\x07" + struct.pack("<LQL", 0, 0, 2) + data[end:]


DAMAGES = {"broken_deflate": broken_deflate, "unknown_compression": unknown_compression,
           "multi_disk": multi_disk}


def _assert_one_line(error: LstmvizError, path) -> None:
    message = str(error)
    assert message.startswith(str(path)) and "\n" not in message


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_npz_model(tmp_path, damage):
    path = tmp_path / "m.npz"
    np.savez_compressed(path, **LSTMParams.random(3, 2, seed=0).arrays())
    path.write_bytes(DAMAGES[damage](path.read_bytes()))
    with pytest.raises(LstmvizError) as caught:
        lstmviz.load_model(path)
    _assert_one_line(caught.value, path)


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_document(tmp_path, damage):
    path = tmp_path / "d.lstmviz"
    doc = Document(LSTMParams.random(3, 2, seed=0), np.zeros((5, 2)))
    df.write_document(files.snapshot(doc), path)
    path.write_bytes(DAMAGES[damage](path.read_bytes()))
    with pytest.raises(LstmvizError) as caught:
        df.read_document(path)
    _assert_one_line(caught.value, path)


def test_damaged_pt_end_record(tmp_path):
    path = torch_zip(tmp_path / "m.pt", pickle.dumps({}, protocol=2))
    path.write_bytes(multi_disk(path.read_bytes()))
    assert is_zip(path)  # damaged, but a zip: its reader says what is wrong
    with pytest.raises(LstmvizError) as caught:
        lstmviz.load_model(path)
    _assert_one_line(caught.value, path)


def test_npz_bomb_member_is_refused_before_reading(tmp_path):
    path = tmp_path / "m.npz"
    arrays = LSTMParams.random(3, 2, seed=0).arrays()
    np.savez(path, **arrays)
    with zipfile.ZipFile(path, "a") as zf:  # an unexpected member is named, never read
        zf.writestr("evil.npy", b"\0" * 100)
    with pytest.raises(LstmvizError, match="m.npz: unexpected arrays evil"):
        lstmviz.load_model(path)


def test_all_zero_compressed_model_still_loads(tmp_path):
    # deflate compresses zeros ~1000-fold: a legitimate all-zero model is not a zip bomb
    path = tmp_path / "zeros.npz"
    zeros = {k: np.zeros_like(v) for k, v in LSTMParams.random(256, 256, seed=0).arrays().items()}
    np.savez_compressed(path, **zeros)
    assert lstmviz.load_model(path).n == 256


def _npy_with_header(header: bytes) -> bytes:
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


@pytest.mark.parametrize(
    "content",
    [
        _npy_with_header(b"{'descr': ('<f8', 'shape': (3,   \n"),  # an unclosed literal
        b"PK\x03\x04" + b"not really a zip" * 4,  # looks like an .npz
    ],
    ids=["cut_header", "fake_zip"],
)
def test_damaged_npy_sequence(tmp_path, content):
    path = tmp_path / "x.npy"
    path.write_bytes(content)
    with pytest.raises(LstmvizError) as caught:
        lstmviz.load_sequence(path)
    _assert_one_line(caught.value, path)


def test_npz_under_a_npy_name(tmp_path):
    path = tmp_path / "x.npy"
    with open(path, "wb") as handle:
        np.savez(handle, a=np.zeros(3))
    with pytest.raises(LstmvizError) as caught:
        lstmviz.load_sequence(path)
    assert str(caught.value) == f"{path}: holds several arrays; a sequence is one .npy array"


def test_shared_dicts_in_a_pt_pickle_do_not_hang(tmp_path):
    # 2.6 KB of pickle naming 30**8 paths through one dict shared at every level
    nested: dict = {}
    for _ in range(8):
        nested = {str(k): nested for k in range(30)}
    path = torch_zip(tmp_path / "dos.pt", pickle.dumps(nested, protocol=2))
    start = time.perf_counter()
    with pytest.raises(LstmvizError, match="dos.pt: damaged PyTorch file: its pickle names more than"):
        lstmviz.load_model(path)
    assert time.perf_counter() - start < 60  # a hang guard (2 cores shared with other work)


def test_cli_damaged_npz_is_one_line_exit_2(tmp_path, capsys):
    model = tmp_path / "m.npz"
    np.savez_compressed(model, **LSTMParams.random(3, 2, seed=0).arrays())
    model.write_bytes(broken_deflate(model.read_bytes()))
    seq = tmp_path / "x.csv"
    seq.write_text("1,2\n3,4\n")
    out = tmp_path / "out.csv"
    assert main(["trace", "--model", str(model), "--input", str(seq), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "m.npz" in err
    assert not out.exists()
