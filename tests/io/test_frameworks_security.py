"""A .pt file's pickle can name any Python callable; lstmviz must never run one."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io import pickle_inert, torch_pt
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


# -- the stand-in path: every name becomes an inert record, so nothing can run ----------------
def _payloads(target: Path) -> dict[str, bytes]:
    """Pickle programs (protocol 0 opcodes, no STOP) that create `target` or print when a
    normal unpickler runs them."""
    t = str(target).encode()
    os_module = b"cbuiltins\n__import__\n(S'os'\ntR"
    return {
        "os.system": b"cos\nsystem\n(S'touch " + t + b"'\ntR",
        "builtins.eval": b"cbuiltins\neval\n(S'open(\"" + t + b'", "w").close()\'\ntR',
        "builtins.exec": b"cbuiltins\nexec\n(S'open(\"" + t + b'", "w").close()\'\ntR',
        "builtins.getattr": b"cbuiltins\ngetattr\n(" + os_module + b"S'system'\ntR(S'touch " + t + b"'\ntR",
        "subprocess.check_call": b"csubprocess\ncheck_call\n((S'touch'\nS'" + t + b"'\nttR",
        "functools.partial": b"cfunctools\npartial\n(cos\nsystem\nS'touch " + t + b"'\ntR)R",
        "operator.methodcaller": b"coperator\nmethodcaller\n(S'system'\nS'touch "
        + t
        + b"'\ntR("
        + os_module
        + b"tR",
        "numpy.savetxt": b"cnumpy\nsavetxt\n(S'" + t + b"'\n(lp0\nI1\natR",
        "builtins.print": b"cbuiltins\nprint\n(S'PWNED-BY-PICKLE'\ntR",
    }


def _in_state_dict(program: bytes) -> bytes:
    return b"(dp0\nS'lstm.weight_ih_l0'\n" + program + b"s."


@pytest.mark.parametrize("name", sorted(_payloads(Path("x"))))
def test_stand_in_payloads_are_real_and_never_run(tmp_path, name, capfd):
    target = tmp_path / "pwned"
    program = _payloads(target)[name]
    # The payload is real: Python's own unpickler runs it.
    pickle.loads(_in_state_dict(program))
    ran = target.exists() or "PWNED-BY-PICKLE" in capfd.readouterr().out
    assert ran, name
    target.unlink(missing_ok=True)

    # lstmviz reads it as records: as a state_dict value, inside a whole nn.Module's state,
    # in a TorchScript archive and as a legacy file's sys_info.
    module = (
        b"c__main__\nNet\n)\x81(dp0\nS'_modules'\n(dp1\nS'lstm'\n" + program + b"ssS'_parameters'\n(dp2\nsb."
    )
    files = [
        torch_zip(tmp_path / "state.pt", _in_state_dict(program)),
        torch_zip(tmp_path / "module.pt", b"\x80\x02" + module),
        torch_zip(
            tmp_path / "scripted.pt",
            _in_state_dict(program),
            extra={"archive/constants.pkl": b"(" + program + b"t.", "archive/code/__torch__.py": b""},
        ),
    ]
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(
        pickle.dumps(torch_pt.LEGACY_MAGIC_NUMBER, protocol=2)
        + pickle.dumps(1001, protocol=2)
        + program
        + b"."
    )
    files.append(legacy)
    for path in files:
        for call in (lstmviz.load_model, lstmviz.io.models.inspect_model):
            with pytest.raises(LstmvizError) as caught:
                call(path)
            message = str(caught.value)
            assert message.startswith(f"{path}: ") and "\n" not in message
            assert not target.exists(), (name, path.name)
    assert "PWNED-BY-PICKLE" not in capfd.readouterr().out


def test_numpy_reconstruct_with_a_hostile_class_runs_nothing(tmp_path):
    target = tmp_path / "pwned"
    program = (
        b"cnumpy.core.multiarray\n_reconstruct\n(cos\nsystem\n(I0\ntS'touch "
        + str(target).encode()
        + b"'\ntR(I1\n(I1\ntcnumpy\ndtype\n(S'f8'\nI0\nI1\ntR(I3\nS'<'\nNNNI-1\nI-1\nI0\ntb"
        + b"I00\nS'abcdefgh'\ntb"
    )
    path = torch_zip(tmp_path / "np.pt", _in_state_dict(program))
    with pytest.raises(LstmvizError, match="np.pt: "):
        lstmviz.load_model(path)
    assert not target.exists()


def test_harmless_values_are_read_as_data():
    import argparse
    import collections

    class Storage:  # stands for torch.device etc. only by name: a real unpickler never sees it
        pass

    data = pickle.dumps(
        {
            "od": collections.OrderedDict(a=1),
            "dd": collections.defaultdict(list, b=[2]),
            "dq": collections.deque([1, 2], maxlen=5),
            "ns": argparse.Namespace(lr=0.1, arch="lstm"),
            "f8": np.float64(0.25),
            "i4": np.int32(-3),
            "arr": np.arange(6, dtype=np.float32).reshape(2, 3),
            "set": {1, 2},
            "bytes": b"\x00\x01",
        },
        protocol=2,
    )
    obj, _ = pickle_inert.inert_loads(data)
    assert obj["od"] == {"a": 1} and obj["dd"] == {"b": [2]} and obj["dq"] == [1, 2]
    assert obj["ns"].attributes() == {"lr": 0.1, "arch": "lstm"}
    assert obj["f8"] == 0.25 and obj["f8"].dtype == np.float64 and obj["i4"] == -3
    np.testing.assert_array_equal(obj["arr"].value, np.arange(6, dtype=np.float32).reshape(2, 3))
    assert obj["set"] == frozenset({1, 2}) and obj["bytes"] == b"\x00\x01"
    assert Storage  # (the class above is never pickled)


def test_torch_values_are_read_as_data():
    # torch.float32, torch.Size([2, 3]), torch.device('cuda', 0), as torch.save pickles them
    data = (
        b"\x80\x02(ctorch\nfloat32\nctorch\nSize\n]q\x00(K\x02K\x03e\x85R"
        b"ctorch\ndevice\nX\x04\x00\x00\x00cudaK\x00\x86Rt."
    )
    dtype, size, device = pickle_inert.inert_loads(data)[0]
    assert repr(dtype) == "torch.float32" and size == (2, 3) and repr(device) == "torch.device('cuda:0')"


def test_protocol_0_objects_are_stand_ins_of_their_own_class():
    class Holder:  # pickled by copyreg._reconstructor at protocols 0 and 1
        pass

    Holder.__module__, Holder.__qualname__ = "__main__", "Holder"
    import __main__

    __main__.Holder = Holder
    try:
        holder = Holder()
        holder.__dict__.update(epoch=3, name="run")
        data = pickle.dumps(holder, protocol=0)
    finally:
        del __main__.Holder
    obj, unpickler = pickle_inert.inert_loads(data)
    assert obj.qualname == "__main__.Holder" and obj.attributes() == {"epoch": 3, "name": "run"}
    assert "__main__.Holder" in unpickler.named
