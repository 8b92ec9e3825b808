"""PyTorch .pt / .pth files (torch.save of a state_dict), read WITHOUT torch.

A torch.save file is a zip: <dir>/data.pkl (a pickle of the state_dict) and one raw
storage per tensor at <dir>/data/<key>. The pickle names each tensor as
torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...) with the storage a
persistent id ('storage', torch.FloatStorage, key, location, numel).

A pickle can run any code it names, so the pickle is read by a restricted unpickler whose
find_class hands out only our own stand-ins for the tensor-rebuild functions, the storage
types and collections.OrderedDict; any other name is refused before anything runs.
Storages are read lazily, only for the LSTM weights, straight into NumPy arrays.
"""

from __future__ import annotations

import collections
import io
import pickle
import re
import struct

import numpy as np

from lstmviz.errors import LstmvizError
from lstmviz.io.layers import LayerInfo, build_layer, without_build
from lstmviz.io.paths import readable_file
from lstmviz.io.statedict import TensorRef, layers_from_state_dict
from lstmviz.io.zipsafe import SafeZip
from lstmviz.io.zipsafe import is_zip as is_zip_file

FORMAT = "PyTorch state_dict (torch.save zip)"
MAX_PICKLE = 64 << 20
MAX_STORAGE = 2 << 30
MAX_ELEMENTS = 1 << 30
MAX_DEPTH = 8
MAX_ENTRIES = 1_000_000  # dict entries the state_dict walk visits at most

# storage type name -> (numpy dtype name, itemsize)
STORAGE_DTYPES = {
    "DoubleStorage": ("float64", 8),
    "FloatStorage": ("float32", 4),
    "HalfStorage": ("float16", 2),
    "BFloat16Storage": ("bfloat16", 2),
    "LongStorage": ("int64", 8),
    "IntStorage": ("int32", 4),
    "ShortStorage": ("int16", 2),
    "CharStorage": ("int8", 1),
    "ByteStorage": ("uint8", 1),
    "BoolStorage": ("bool", 1),
    "ComplexFloatStorage": ("complex64", 8),
    "ComplexDoubleStorage": ("complex128", 16),
}
LEGACY_MAGIC = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2)[2:-1]  # LONG1 of torch's magic


def _refuse_build(self, state):  # BUILD on one of our objects: never allowed
    raise pickle.UnpicklingError(f"refuses to set the state of a {type(self).__name__}")


class _StorageType:
    """Stand-in for torch.FloatStorage & co: only a dtype tag, never callable."""

    __slots__ = ("name", "dtype", "itemsize")
    __setstate__ = _refuse_build

    def __init__(self, name: str):
        self.name = name
        self.dtype, self.itemsize = STORAGE_DTYPES.get(name, (f"unsupported ({name})", 0))


class _Storage:
    __slots__ = ("key", "type", "numel")
    __setstate__ = _refuse_build

    def __init__(self, key: str, storage_type: _StorageType, numel: int):
        self.key, self.type, self.numel = key, storage_type, numel


class _Tensor:
    __slots__ = ("storage", "offset", "shape", "stride")
    __setstate__ = _refuse_build

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride


class _StateDict(collections.OrderedDict):
    """collections.OrderedDict as the pickle builds it; its only attribute is _metadata."""

    def __setstate__(self, state):
        if not isinstance(state, dict) or set(state) - {"_metadata"}:
            raise pickle.UnpicklingError("unexpected state on an OrderedDict")


def _int_tuple(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(type(v) is int for v in value):
        raise pickle.UnpicklingError(f"tensor {what} is not a tuple of integers")
    return tuple(value)


def _rebuild_tensor(storage, storage_offset, size, stride, *_ignored):
    """Our _rebuild_tensor_v2: check the view fits its storage; read nothing yet."""
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor's storage is not a storage")
    if type(storage_offset) is not int or storage_offset < 0:
        raise pickle.UnpicklingError("bad tensor storage offset")
    shape, strides = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(shape) != len(strides) or len(shape) > 16 or any(v < 0 for v in shape + strides):
        raise pickle.UnpicklingError("bad tensor size or stride")
    count = int(np.prod(shape, dtype=object)) if shape else 1
    if count > MAX_ELEMENTS:
        raise pickle.UnpicklingError(f"a tensor of {count} elements is larger than lstmviz reads")
    if count and storage_offset + sum((s - 1) * st for s, st in zip(shape, strides)) >= storage.numel:
        raise pickle.UnpicklingError("a tensor reaches past the end of its storage")
    return _Tensor(storage, storage_offset, shape, strides)


def _rebuild_parameter(data, *_ignored):
    if not isinstance(data, _Tensor):
        raise pickle.UnpicklingError("a parameter does not hold a tensor")
    return data


ALLOWED = {
    ("collections", "OrderedDict"): _StateDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
}
STORAGE_NAME = re.compile(r"[A-Za-z0-9_]{1,40}Storage")


class Refused(pickle.UnpicklingError):
    pass


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the names a torch.save state_dict needs, all to harmless stand-ins."""

    def __init__(self, data: bytes):
        super().__init__(io.BytesIO(data))
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module, name):
        target = ALLOWED.get((module, name))
        if target is not None:
            return target
        if module == "torch" and isinstance(name, str) and STORAGE_NAME.fullmatch(name):
            return _StorageType(name)
        raise Refused(f"{module}.{name}")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError("unknown persistent id in the pickle")
        _, storage_type, key, _location, numel = pid
        if (
            not isinstance(storage_type, _StorageType)
            or not isinstance(key, str)
            or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", key)
            or type(numel) is not int
            or numel < 0
        ):
            raise pickle.UnpicklingError("malformed storage reference in the pickle")
        known = self.storages.get(key)
        if known is None:
            known = self.storages[key] = _Storage(key, storage_type, numel)
        elif known.type.name != storage_type.name or known.numel != numel:
            raise pickle.UnpicklingError(f"storage {key} is described two ways")
        return known


UNPICKLE_ERRORS = (
    pickle.UnpicklingError,
    EOFError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    KeyError,
    struct.error,
    RecursionError,
    MemoryError,
    OverflowError,
    UnicodeDecodeError,
)


def restricted_loads(data: bytes, source: str):
    """Unpickle a torch.save data.pkl; returns (object, storages). Nothing it names runs."""
    unpickler = RestrictedUnpickler(data)
    try:
        obj = unpickler.load()
    except Refused as refused:
        raise LstmvizError(
            f"refused: the pickle inside asks to run {refused} (lstmviz only reads tensors, and "
            "never runs code from a file); save just the weights: torch.save(model.state_dict(), path)",
            source=source,
        ) from None
    except UNPICKLE_ERRORS as error:
        raise LstmvizError(f"damaged PyTorch file: cannot read its pickle ({error})", source=source) from None
    return obj, unpickler.storages


def flatten_tensors(obj, source: str = "") -> dict[str, _Tensor]:
    """{'encoder.lstm.weight_ih_l0': tensor} from a state_dict, or a checkpoint dict of them.

    A pickle can make one small dict the value of many keys at every level (shared through
    its memo), so the walk counts the entries it visits: a few KB could otherwise name
    trillions of paths and hang the reader.
    """
    out: dict[str, _Tensor] = {}
    budget = [MAX_ENTRIES]

    def walk(value, prefix: str, depth: int) -> None:
        if isinstance(value, _Tensor):
            out[prefix] = value
        elif isinstance(value, dict) and depth < MAX_DEPTH:
            budget[0] -= len(value)
            if budget[0] < 0:
                raise LstmvizError(
                    f"damaged PyTorch file: its pickle names more than {MAX_ENTRIES} entries "
                    "(nested dicts shared many times?)",
                    source=source,
                )
            for key, item in value.items():
                if isinstance(key, (str, int)):
                    walk(item, f"{prefix}.{key}" if prefix else str(key), depth + 1)

    walk(obj, "", 0)
    return out


class TorchArchive:
    """An open torch.save zip: its tensors, readable one at a time."""

    def __init__(self, path):
        self.source = str(path)
        readable_file(path)
        self._check_not_zip(path)
        allowed = lambda name: bool(  # noqa: E731
            re.fullmatch(r"[^/]+/(data\.pkl|byteorder|data/[A-Za-z0-9_]{1,64})", name)
        )
        self.zip = SafeZip(path, kind="PyTorch file", allowed=allowed, max_member=MAX_STORAGE)
        try:
            self._open()
        except BaseException:
            self.zip.close()
            raise

    def _check_not_zip(self, path) -> None:
        try:
            is_zip = is_zip_file(path)
            with open(path, "rb") as handle:
                head = handle.read(64)
        except OSError as error:
            raise LstmvizError(f"cannot read it ({error})", source=self.source) from None
        if is_zip:
            return
        if head.startswith(b"\x80\x02" + LEGACY_MAGIC):
            raise LstmvizError(
                "is in PyTorch's legacy (pre-1.6) format, which lstmviz does not read; re-save it "
                "with a recent torch: torch.save(torch.load(path, weights_only=True), 'new.pt')",
                source=self.source,
            )
        if head[:1] == b"\x80":
            raise LstmvizError(
                "is a bare pickle, not a torch.save zip; lstmviz never loads bare pickles (they can "
                "run code); save the weights with torch.save(model.state_dict(), path)",
                source=self.source,
            )
        raise LstmvizError("not a PyTorch file (not a zip archive, or truncated)", source=self.source)

    def _open(self) -> None:
        names = self.zip.names()
        pickles = [n for n in names if re.fullmatch(r"[^/]+/data\.pkl", n)]
        if len(pickles) != 1:
            raise LstmvizError(
                "not a torch.save file: no data.pkl at the top of the zip"
                if not pickles
                else "not a torch.save file: several data.pkl in the zip",
                source=self.source,
            )
        self.prefix = pickles[0][: -len("data.pkl")]
        if any(n.startswith(self.prefix + "code/") for n in names) or self.zip.has(
            self.prefix + "constants.pkl"
        ):
            raise LstmvizError(
                "is a TorchScript archive (torch.jit.save); lstmviz reads state_dicts: "
                "torch.save(torch.jit.load(path).state_dict(), 'weights.pt')",
                source=self.source,
            )
        order = "little"
        if self.zip.has(self.prefix + "byteorder"):
            order = self.zip.read(self.prefix + "byteorder", max_bytes=16).decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise LstmvizError(f"damaged PyTorch file: byteorder {order!r}", source=self.source)
        self.byteorder = "<" if order == "little" else ">"
        obj, self.storages = restricted_loads(self.zip.read(pickles[0], max_bytes=MAX_PICKLE), self.source)
        self.tensors = flatten_tensors(obj, self.source)
        self._cache: dict[str, np.ndarray] = {}

    def close(self) -> None:
        self.zip.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _storage_array(self, storage: _Storage) -> np.ndarray:
        cached = self._cache.get(storage.key)
        if cached is not None:
            return cached
        kind = storage.type
        if not kind.itemsize:
            raise LstmvizError(
                f"storage {storage.key} has type {kind.name}, which lstmviz does not read", source=self.source
            )
        name = f"{self.prefix}data/{storage.key}"
        if not self.zip.has(name):
            raise LstmvizError(f"damaged PyTorch file: storage {name!r} is missing", source=self.source)
        expected = storage.numel * kind.itemsize
        if self.zip.size(name) != expected:
            raise LstmvizError(
                f"damaged PyTorch file: storage {storage.key} has {self.zip.size(name)} bytes, "
                f"expected {expected}",
                source=self.source,
            )
        raw = self.zip.read(name)
        if kind.dtype == "bfloat16":
            bits = np.frombuffer(raw, dtype=self.byteorder + "u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(kind.dtype).newbyteorder(self.byteorder))
        self._cache[storage.key] = array
        return array

    def array(self, tensor: _Tensor) -> np.ndarray:
        flat = self._storage_array(tensor.storage)
        if 0 in tensor.shape:
            return np.zeros(tensor.shape, dtype=flat.dtype.newbyteorder("="))
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[tensor.offset :],
            shape=tensor.shape,
            strides=tuple(s * item for s in tensor.stride),
            writeable=False,
        )
        return np.array(view, dtype=flat.dtype.newbyteorder("="))

    def refs(self) -> dict[str, TensorRef]:
        return {
            key: TensorRef(shape=t.shape, dtype=t.storage.type.dtype, load=lambda t=t: self.array(t))
            for key, t in self.tensors.items()
        }


def read_state_dict(path) -> dict[str, np.ndarray]:
    """Every tensor of a torch.save'd state_dict as a NumPy array (bfloat16 as float32)."""
    with TorchArchive(path) as archive:
        return {key: archive.array(t) for key, t in archive.tensors.items()}


def _layers(archive: TorchArchive) -> list[LayerInfo]:
    refs = archive.refs()
    layers = layers_from_state_dict(refs, FORMAT, archive.source)
    if not layers:
        what = f"{len(refs)} tensors" if refs else "no tensors"
        raise LstmvizError(
            f"no LSTM layer found ({what}; none named like an nn.LSTM's weight_ih_l0)", source=archive.source
        )
    return layers


def list_layers(path) -> list[LayerInfo]:
    """The LSTM layers in the file (for inspect; their weights are not read)."""
    with TorchArchive(path) as archive:
        return [without_build(info) for info in _layers(archive)]


def read_model(path, layer: str | None = None):
    with TorchArchive(path) as archive:
        return build_layer(_layers(archive), layer, archive.source)
