"""A .pt file's pickle can name any Python callable; lstmviz must never run one."""

from __future__ import annotations

import pickle
import struct

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io import pickle_inert
from tests.io.frameworks_helpers import torch_zip


class _CreatesFile:
    """Unpickling this with a normal unpickler would create `target`."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


class _RunsShell:
    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.target}",))


@pytest.mark.parametrize("payload", [_CreatesFile, _RunsShell])
@pytest.mark.parametrize("protocol", [2, 4])
def test_malicious_pickle_never_runs(tmp_path, payload, protocol):
    target = tmp_path / "pwned"
    data = pickle.dumps({"lstm.weight_ih_l0": payload(target)}, protocol=protocol)
    model = torch_zip(tmp_path / "evil.pt", data)
    # The payload is real: a normal unpickler would create the file.
    probe = tmp_path / "probe"
    result = pickle.loads(pickle.dumps(payload(probe), protocol=protocol))
    if hasattr(result, "close"):
        result.close()
    assert probe.exists()
    probe.unlink()
    # Read inertly: the callable becomes a record; no LSTM is found, and the message says
    # which names were only recorded.
    with pytest.raises(LstmvizError, match="never run") as caught:
        lstmviz.load_model(model)
    message = str(caught.value)
    assert message.startswith(str(model)) and "\n" not in message
    assert ("io.open" in message) or ("posix.system" in message) or ("os.system" in message), message
    assert not target.exists()
    with pytest.raises(LstmvizError, match="never run"):
        lstmviz.io.models.inspect_model(model)
    assert not target.exists()


def _storage_pid(storage_type="FloatStorage", key="0", numel=4):
    """Pickle opcodes for torch's persistent id of a storage (protocol 2)."""
    return (
        b"(X\x07\x00\x00\x00storage"
        + b"ctorch\n"
        + storage_type.encode()
        + b"\n"
        + b"X"
        + struct.pack("<I", len(key))
        + key.encode()
        + b"X\x03\x00\x00\x00cpu"
        + b"J"
        + struct.pack("<i", numel)
        + b"tQ"
    )


def test_storage_type_is_a_tag_not_a_callable(tmp_path):
    # REDUCE on torch.FloatStorage: allowed as a name, but calling it must not do anything.
    data = b"\x80\x02ctorch\nFloatStorage\n)R."
    model = torch_zip(tmp_path / "call.pt", data)
    with pytest.raises(LstmvizError, match="not callable"):
        lstmviz.load_model(model)


def test_build_on_a_tensor_is_refused(tmp_path):
    # _rebuild_tensor_v2(storage, 0, (4,), (1,), False, OrderedDict()) then BUILD on the result
    tensor = (
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        + _storage_pid()
        + b"K\x00K\x04\x85K\x01\x85\x89"
        + b"ccollections\nOrderedDict\n)RtR"
    )
    data = b"\x80\x02" + tensor + b"}X\x05\x00\x00\x00shape(K\x09tsb."
    model = torch_zip(tmp_path / "build.pt", data, {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(LstmvizError, match="refuses to set the state of a Tensor"):
        lstmviz.load_model(model)


def test_tensor_outside_its_storage_is_refused(tmp_path):
    tensor = (
        b"ctorch._utils\n_rebuild_tensor_v2\n("
        + _storage_pid(numel=4)
        + b"K\x02K\x04\x85K\x01\x85\x89"
        + b"ccollections\nOrderedDict\n)RtR"
    )
    data = b"\x80\x02}X\x11\x00\x00\x00lstm.weight_ih_l0" + tensor + b"s."
    model = torch_zip(tmp_path / "oob.pt", data, {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(LstmvizError, match="past the end of its storage"):
        lstmviz.load_model(model)


def test_every_other_name_is_an_inert_record():
    unpickler = pickle_inert.InertUnpickler(b".")
    for module, name in [
        ("builtins", "eval"),
        ("os", "system"),
        ("torch", "load"),
        ("torch._utils", "x"),
        ("collections", "namedtuple"),
        ("torch", "Storage; import os"),
        ("numpy", "load"),
        ("subprocess", "Popen"),
    ]:
        stand = unpickler.find_class(module, name)
        assert issubclass(stand, pickle_inert.Stand) and (stand.module, stand.name) == (module, name)
        record = stand("rm -rf /")  # "calling" it records the arguments and runs nothing
        assert record.args == ("rm -rf /",)
    assert unpickler.find_class("collections", "OrderedDict") is pickle_inert._ordered_dict
    assert unpickler.find_class("torch", "FloatStorage").dtype == "float32"


def test_storage_member_names_are_checked(tmp_path):
    # A persistent id naming a key outside data/ (path traversal) is refused before any read.
    data = (
        b"\x80\x02}X\x01\x00\x00\x00a"
        + b"ctorch._utils\n_rebuild_tensor_v2\n("
        + _storage_pid(key="../../etc/passwd")
        + b"K\x00K\x01\x85K\x01\x85\x89"
        + b"ccollections\nOrderedDict\n)RtRs."
    )
    model = torch_zip(tmp_path / "traverse.pt", data)
    with pytest.raises(LstmvizError, match="malformed storage reference"):
        lstmviz.load_model(model)


def _keras3_weights(path, make_kernel):
    import h5py

    with h5py.File(path, "w") as f:
        cell = f.create_group("layers/lstm/cell/vars")
        make_kernel(cell, "0")
        cell.create_dataset("1", data=np.ones((2, 8), np.float32))
        cell.create_dataset("2", data=np.ones(8, np.float32))
    return path


def test_hdf5_external_link_is_refused(tmp_path):
    import h5py

    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("kernel", data=np.ones((3, 8), np.float32))
    path = _keras3_weights(
        tmp_path / "link.weights.h5", lambda g, k: g.__setitem__(k, h5py.ExternalLink(str(other), "/kernel"))
    )
    with pytest.raises(LstmvizError, match="links to another file") as caught:
        lstmviz.load_model(path)
    assert str(caught.value).startswith(str(path))


def test_hdf5_external_storage_is_refused(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.full((3, 8), 7, np.float32).tobytes())
    path = _keras3_weights(
        tmp_path / "external.weights.h5",
        lambda g, k: g.create_dataset(k, shape=(3, 8), dtype=np.float32, external=[(str(secret), 0, 96)]),
    )
    with pytest.raises(LstmvizError, match="stored in another file"):
        lstmviz.load_model(path)
