"""PyTorch files, read WITHOUT torch: torch.save zips, TorchScript archives, legacy files.

- torch.save (torch >= 1.6): a zip of <dir>/data.pkl (the pickled object) and one raw storage
  per tensor at <dir>/data/<key>. The object may be a state_dict, a checkpoint dict holding
  one (Lightning's .ckpt, `checkpoint.pth.tar`), or a whole nn.Module (`torch.save(model)`).
- TorchScript (torch.jit.script / trace / save): the same zip layout plus code/ and
  constants.pkl; data.pkl holds `__torch__.*` objects whose attributes are the parameters
  (a scripted nn.LSTM keeps weight_ih_l0 ... as attributes); constants live in constants/.
- legacy (torch < 1.6, or `_use_new_zipfile_serialization=False`): not a zip but pickles one
  after the other: torch's magic number, the protocol version (1001), sys_info, the object
  (storages as persistent ids), the list of storage keys, then each storage as an int64
  element count and its raw bytes.

Every pickle is read by lstmviz.io.pickle_inert: any class it names (torch.nn.LSTM, the
user's `__main__.TaggerNet`, os.system) is an inert record, never run. The module tree is
walked through `_modules` / `_parameters` / `_buffers` (nn.Module) or the object's attributes
(TorchScript), giving state_dict-style names ('encoder.lstm.weight_ih_l0'), from which
statedict.layers_from_state_dict finds the LSTM and LSTMCell layers. Storages are read lazily,
only for the chosen layer's tensors, each after lstmviz.io.budget allows its bytes.
"""

from __future__ import annotations

import abc
import os
import pickle
import re
import struct
from dataclasses import dataclass, field

import numpy as np

from lstmviz.errors import LstmvizError
from lstmviz.io import budget as budgets
from lstmviz.io.layers import LayerInfo, build_layer, without_build
from lstmviz.io.paths import readable_file
from lstmviz.io.pickle_inert import (
    PickleError,
    Stand,
    Storage,
    Tensor,
    inert_loads,
    named_callables,
    scan,
    shown,
    storage_pid,
)
from lstmviz.io.statedict import TensorRef, layers_from_state_dict
from lstmviz.io.zipsafe import SafeZip
from lstmviz.io.zipsafe import is_zip as is_zip_file

FORMAT = "PyTorch state_dict (torch.save zip)"
FORMAT_MODULE = "PyTorch whole module (torch.save(model) zip)"
FORMAT_SCRIPT = "TorchScript archive (torch.jit.save)"
FORMAT_LEGACY = "PyTorch legacy file (torch.save before 1.6)"
MAX_PICKLE = 64 << 20
MAX_STORAGE = 2 << 30
MAX_DEPTH = 32
MAX_ENTRIES = 1_000_000  # dict entries / attributes the walk visits at most
MAX_NAME_BYTES = 64 << 20  # the total length of the names the walk builds
MAX_KEY = 4096  # a key longer than this names no module or parameter: skipped
LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_MAGIC = pickle.dumps(LEGACY_MAGIC_NUMBER, protocol=2)[2:-1]  # LONG1 of torch's magic
LEGACY_PROTOCOL = 1001
# nn.LSTM / nn.LSTMCell attributes worth reporting (read from the pickled module)
MODULE_FIELDS = (
    "input_size",
    "hidden_size",
    "num_layers",
    "bias",
    "batch_first",
    "bidirectional",
    "proj_size",
)

# Kept for callers that use the old names.
_Tensor = Tensor
_Storage = Storage


@dataclass
class ModuleRecord:
    """One module object found in the pickle: its class and its plain attributes."""

    qualname: str
    attributes: dict = field(default_factory=dict)

    @property
    def class_name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    def describe(self) -> str:
        fields = [f"{k}={self.attributes[k]!r}" for k in MODULE_FIELDS if k in self.attributes]
        return f"{shown(self.qualname)}({', '.join(fields)})" if fields else shown(self.qualname)


def _plain(value) -> bool:
    return type(value) in (int, float, bool, str) and (type(value) is not str or len(value) < 200)


def _module_like(value) -> dict | None:
    """The attributes of a pickled module/object stand-in, or None."""
    if not isinstance(value, Stand):
        return None
    attributes = value.attributes()
    return attributes if isinstance(attributes, dict) else None


class _Walk:
    """Names every tensor reachable from the pickled object, state_dict style.

    A pickle can make one small dict the value of many keys at every level (shared through
    its memo), or make keys megabytes long: the walk counts the entries it visits and the
    bytes of the names it builds, and skips keys no module would have."""

    def __init__(self, source: str):
        self.source = source
        self.tensors: dict[str, Tensor] = {}
        self.modules: dict[str, ModuleRecord] = {}
        self.entries = MAX_ENTRIES
        self.name_bytes = MAX_NAME_BYTES

    def _spend(self, count: int, name_bytes: int) -> None:
        self.entries -= count
        self.name_bytes -= name_bytes
        if self.entries < 0 or self.name_bytes < 0:
            raise LstmvizError(
                f"damaged PyTorch file: its pickle names more than {MAX_ENTRIES} entries or "
                f"{MAX_NAME_BYTES >> 20} MB of names (nested dicts shared many times?)",
                source=self.source,
            )

    @staticmethod
    def _key(key) -> str | None:
        if isinstance(key, bool):
            return None
        if isinstance(key, int):
            return str(key)  # at most pickle_inert.MAX_INT_DIGITS digits
        if isinstance(key, str) and len(key) <= MAX_KEY:
            return key
        return None

    def items(self, pairs, prefix: str, depth: int) -> None:
        pairs = list(pairs) if not isinstance(pairs, list) else pairs
        self._spend(len(pairs), 0)
        for key, item in pairs:
            name = self._key(key)
            if name is None:
                continue
            path = f"{prefix}.{name}" if prefix else name
            self._spend(0, len(path))
            self.walk(item, path, depth + 1)

    def walk(self, value, prefix: str, depth: int) -> None:
        if isinstance(value, Tensor):
            self.tensors.setdefault(prefix, value)
            return
        if depth >= MAX_DEPTH:
            return
        if isinstance(value, dict):
            self.items(value.items(), prefix, depth)
        elif isinstance(value, (list, tuple)):
            self.items(enumerate(value), prefix, depth)
        elif isinstance(value, Stand):
            attributes = _module_like(value) or {}
            if (
                "_parameters" in attributes
                or "_modules" in attributes
                or type(value).module.startswith("__torch__")
            ):
                if prefix not in self.modules:
                    self.modules[prefix] = ModuleRecord(
                        value.qualname, {k: v for k, v in attributes.items() if _plain(v)}
                    )
            if "_parameters" in attributes or "_modules" in attributes:
                # nn.Module: its parameters, buffers and children, named as state_dict names them
                for container in ("_parameters", "_buffers", "_modules"):
                    inner = attributes.get(container)
                    if isinstance(inner, dict):
                        self.items(inner.items(), prefix, depth)
            else:  # a TorchScript object (attributes are the parameters) or any other class
                self.items(attributes.items(), prefix, depth)
                if value.entries:
                    self.items(value.entries, prefix, depth)
                if value.items:
                    self.items(enumerate(value.items), prefix, depth)


def collect(obj, source: str) -> _Walk:
    walk = _Walk(source)
    walk.walk(obj, "", 0)
    return walk


def flatten_tensors(obj, source: str = "") -> dict[str, Tensor]:
    """{'encoder.lstm.weight_ih_l0': tensor} from a state_dict, checkpoint or module pickle."""
    return collect(obj, source).tensors


def _pickle_error(error: PickleError, source: str) -> LstmvizError:
    return LstmvizError(f"cannot read its pickle: {error}", source=source)


class _TorchFile(abc.ABC):
    """What the three layouts share: tensors by name, module records, lazy storage reads."""

    kind = FORMAT

    def __init__(self, path, budget: budgets.Budget | None = None):
        self.source = str(path)
        self.budget = budget or budgets.Budget(self.source)
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self.tensors: dict[str, Tensor] = {}
        self.modules: dict[str, ModuleRecord] = {}
        self.named: list[str] = []
        self.byteorder = "<"

    @abc.abstractmethod
    def close(self) -> None:
        """Release the open file."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _loads(self, data: bytes, persistent_load, what: str = "pickle"):
        try:
            obj, unpickler = inert_loads(data, persistent_load, what)
        except PickleError as error:
            raise _pickle_error(error, self.source) from None
        self.named.extend(n for n in named_callables(unpickler, 50) if n not in self.named)
        return obj

    def _take_tree(self, obj, kind_if_module: str | None = None) -> None:
        walk = collect(obj, self.source)
        self.tensors.update(walk.tensors)
        self.modules.update(walk.modules)
        if kind_if_module and walk.modules:
            self.kind = kind_if_module

    @abc.abstractmethod
    def _storage_bytes(self, storage: Storage, nbytes: int) -> bytes:
        """The raw bytes of one storage (nbytes, already allowed by the budget)."""

    def _storage_array(self, storage: Storage) -> np.ndarray:
        cache_key = (getattr(storage, "area", ""), storage.key)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        kind = storage.type
        if not kind.itemsize:
            raise LstmvizError(
                f"storage {storage.key} has type {shown(kind.name)}, which lstmviz does not read",
                source=self.source,
            )
        expected = storage.numel * kind.itemsize
        self.budget.take(expected, f"storage {storage.key}")
        raw = self._storage_bytes(storage, expected)
        if kind.dtype == "bfloat16":
            array = np.frombuffer(raw, dtype=self.byteorder + "u2")
        else:
            array = np.frombuffer(raw, dtype=np.dtype(kind.dtype).newbyteorder(self.byteorder))
        self._cache[cache_key] = array
        return array

    def array(self, tensor: Tensor, name: str = "a tensor") -> np.ndarray:
        """The tensor's values, copied out of its storage (bfloat16 widened to float32).

        The budget is asked first for the copy: a view with zero strides on a tiny storage
        costs its full size once copied, so that is what it is charged."""
        kind = tensor.storage.type
        out_itemsize = 4 if kind.dtype == "bfloat16" else max(kind.itemsize, 1)
        self.budget.take(tensor.count * out_itemsize, name)
        flat = self._storage_array(tensor.storage)
        if tensor.count == 0:
            dtype = np.float32 if kind.dtype == "bfloat16" else flat.dtype.newbyteorder("=")
            return np.zeros(tensor.shape, dtype=dtype)
        item = flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            flat[tensor.offset :],
            shape=tensor.shape,
            strides=tuple(s * item for s in tensor.stride),
            writeable=False,
        )
        if kind.dtype == "bfloat16":
            return (view.astype(np.uint32) << 16).view(np.float32)
        return np.array(view, dtype=flat.dtype.newbyteorder("="))

    def refs(self) -> dict[str, TensorRef]:
        def load(key: str, tensor: Tensor) -> np.ndarray:
            # the float64 copy statedict makes afterwards is charged here too
            self.budget.take(tensor.count * 8, f"{key} as float64")
            return self.array(tensor, key)

        return {
            key: TensorRef(shape=t.shape, dtype=t.dtype, load=lambda key=key, t=t: load(key, t))
            for key, t in self.tensors.items()
        }


class TorchArchive(_TorchFile):
    """An open torch.save or TorchScript zip: its tensors, readable one at a time."""

    def __init__(self, path, budget: budgets.Budget | None = None):
        super().__init__(path, budget)
        readable_file(path)
        if not is_zip_file(path):
            raise LstmvizError("not a PyTorch zip file (not a zip archive, or truncated)", source=self.source)
        allowed = lambda name: bool(  # noqa: E731
            re.fullmatch(
                r"[^/]+/(data\.pkl|constants\.pkl|byteorder|(data|constants)/[A-Za-z0-9_]{1,64})", name
            )
        )
        self.zip = SafeZip(path, kind="PyTorch file", allowed=allowed, max_member=MAX_STORAGE)
        try:
            self._open()
        except BaseException:
            self.zip.close()
            raise

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
        scripted = any(n.startswith(self.prefix + "code/") for n in names) or self.zip.has(
            self.prefix + "constants.pkl"
        )
        order = "little"
        if self.zip.has(self.prefix + "byteorder"):
            order = self.zip.read(self.prefix + "byteorder", max_bytes=16).decode("ascii", "replace").strip()
            if order not in ("little", "big"):
                raise LstmvizError(f"damaged PyTorch file: byteorder {shown(order)}", source=self.source)
        self.byteorder = "<" if order == "little" else ">"
        if scripted:
            self.kind = FORMAT_SCRIPT
            constants = self.prefix + "constants.pkl"
            if self.zip.has(constants):
                obj = self._loads(
                    self.zip.read(constants, max_bytes=MAX_PICKLE), self._persistent("constants")
                )
                walk = collect(obj, self.source)
                self.tensors.update({f"CONSTANTS.c{key}": t for key, t in walk.tensors.items()})
        obj = self._loads(self.zip.read(pickles[0], max_bytes=MAX_PICKLE), self._persistent("data"))
        self._take_tree(obj, None if scripted else FORMAT_MODULE)

    def _persistent(self, area: str):
        storages: dict[str, Storage] = {}

        def persistent_load(pid):
            storage_type, key, numel = storage_pid(pid)
            known = storages.get(key)
            if known is None:
                known = storages[key] = _AreaStorage(key, storage_type, numel, area)
            elif known.type.name != storage_type.name or known.numel != numel:
                raise pickle.UnpicklingError(f"storage {key} is described two ways")
            return known

        return persistent_load

    def close(self) -> None:
        self.zip.close()

    def _storage_bytes(self, storage: Storage, nbytes: int) -> bytes:
        name = f"{self.prefix}{getattr(storage, 'area', 'data')}/{storage.key}"
        if not self.zip.has(name):
            raise LstmvizError(f"damaged PyTorch file: storage {name!r} is missing", source=self.source)
        if self.zip.size(name) != nbytes:
            raise LstmvizError(
                f"damaged PyTorch file: storage {storage.key} has {self.zip.size(name)} bytes, "
                f"expected {nbytes}",
                source=self.source,
            )
        return self.zip.read(name)


class _AreaStorage(Storage):
    """A storage of a zip archive: data/<key> or, for TorchScript constants, constants/<key>."""

    __slots__ = ("area",)

    def __init__(self, key, storage_type, numel, area):
        super().__init__(key, storage_type, numel)
        self.area = area


class LegacyFile(_TorchFile):
    """A pre-1.6 torch.save file: a run of pickles followed by the raw storages."""

    kind = FORMAT_LEGACY

    def __init__(self, path, budget: budgets.Budget | None = None):
        super().__init__(path, budget)
        readable_file(path)
        try:
            self.handle = open(path, "rb")
        except OSError as error:
            raise LstmvizError(f"cannot read it ({error})", source=self.source) from None
        try:
            self.size = os.fstat(self.handle.fileno()).st_size
            self._open()
        except BaseException:
            self.handle.close()
            raise

    def close(self) -> None:
        self.handle.close()

    def _next_pickle(self, what: str, persistent_load=None):
        start = self.handle.tell()
        data = self.handle.read(MAX_PICKLE)
        try:
            length = scan(data)
        except PickleError as error:
            raise LstmvizError(f"damaged PyTorch legacy file: {what}: {error}", source=self.source) from None
        self.handle.seek(start + length)
        return self._loads(data[:length], persistent_load, what)

    def _open(self) -> None:
        if self._next_pickle("magic number") != LEGACY_MAGIC_NUMBER:
            raise LstmvizError("not a PyTorch legacy file (wrong magic number)", source=self.source)
        protocol = self._next_pickle("protocol version")
        if protocol != LEGACY_PROTOCOL:
            raise LstmvizError(
                f"PyTorch legacy file of protocol {shown(protocol)}, lstmviz reads {LEGACY_PROTOCOL}",
                source=self.source,
            )
        sys_info = self._next_pickle("sys_info")
        if isinstance(sys_info, dict) and sys_info.get("little_endian") is False:
            self.byteorder = ">"
        storages: dict[str, Storage] = {}

        def persistent_load(pid):
            if isinstance(pid, tuple) and pid and pid[0] == "module":
                return pid[1] if len(pid) > 1 else None  # a module class: already a stand-in
            storage_type, key, numel = storage_pid(pid)
            known = storages.get(key)
            if known is None:
                known = storages[key] = Storage(key, storage_type, numel, offset=-1)
            view = pid[5] if len(pid) > 5 else None
            if view is not None:
                if not (isinstance(view, tuple) and len(view) == 3 and all(type(v) is int for v in view[1:])):
                    raise pickle.UnpicklingError("malformed storage view in the pickle")
                _view_key, offset, size = view
                if offset != 0 or size != numel:  # views of storages: torch < 0.4 only
                    raise pickle.UnpicklingError(
                        "a view of a storage (torch < 0.4), which lstmviz does not read"
                    )
            return known

        obj = self._next_pickle("the saved object", persistent_load)
        keys = self._next_pickle("the storage keys")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise LstmvizError(
                "damaged PyTorch legacy file: the storage keys are not a list", source=self.source
            )
        position = self.handle.tell()
        for key in keys:
            self.handle.seek(position)
            head = self.handle.read(8)
            if len(head) != 8:
                raise LstmvizError("damaged PyTorch legacy file: truncated storages", source=self.source)
            (count,) = struct.unpack("<q", head)
            storage = storages.get(key)
            if storage is None or count != storage.numel:
                raise LstmvizError(
                    f"damaged PyTorch legacy file: storage {shown(key)} does not match its description",
                    source=self.source,
                )
            nbytes = count * max(storage.type.itemsize, 1)
            storage.offset = position + 8
            position += 8 + nbytes
            if position > self.size:
                raise LstmvizError("damaged PyTorch legacy file: truncated storages", source=self.source)
        self._take_tree(obj)

    def _storage_bytes(self, storage: Storage, nbytes: int) -> bytes:
        if storage.offset < 0:
            raise LstmvizError(
                f"damaged PyTorch legacy file: storage {storage.key} is missing", source=self.source
            )
        self.handle.seek(storage.offset)
        data = self.handle.read(nbytes)
        if len(data) != nbytes:
            raise LstmvizError("damaged PyTorch legacy file: truncated storage", source=self.source)
        return data


def open_torch(path, budget: budgets.Budget | None = None) -> _TorchFile:
    """The right reader for a PyTorch file by its content (zip or legacy pickles)."""
    readable_file(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError as error:
        raise LstmvizError(f"cannot read it ({error})", source=str(path)) from None
    if is_zip_file(path):
        return TorchArchive(path, budget)
    if head.startswith(b"\x80\x02" + LEGACY_MAGIC):
        return LegacyFile(path, budget)
    if head[:1] == b"\x80":
        raise LstmvizError(
            "is a bare pickle (Python pickle), not a file torch.save writes (it holds no tensors lstmviz can "
            "find); save the weights with torch.save(model.state_dict(), path)",
            source=str(path),
        )
    raise LstmvizError("not a PyTorch file (not a zip archive, or truncated)", source=str(path))


def read_state_dict(path) -> dict[str, np.ndarray]:
    """Every tensor of a torch.save'd file as a NumPy array (bfloat16 as float32)."""
    with open_torch(path) as archive:
        return {key: archive.array(t, key) for key, t in archive.tensors.items()}


def _module_notes(archive: _TorchFile) -> dict[str, tuple[str, ...]]:
    notes = {}
    for prefix, record in archive.modules.items():
        if record.class_name in ("LSTM", "LSTMCell"):
            text = f"module {record.describe()}, read from the pickle as data (no code run)"
            if record.attributes.get("batch_first") is True:
                text += "; batch_first=True only changes the batch axis, lstmviz reads one sequence (T, m)"
            notes[prefix] = (text,)
    return notes


def _layers(archive: _TorchFile) -> list[LayerInfo]:
    refs = archive.refs()
    layers = layers_from_state_dict(refs, archive.kind, archive.source, module_notes=_module_notes(archive))
    if not layers:
        what = f"{len(refs)} tensors" if refs else "no tensors"
        named = ""
        others = [n for n in archive.named if not n.startswith(("torch.nn.", "__torch__", "__main__"))]
        if others:
            named = f"; its pickle also names {', '.join(others[:3])}, read as inert records and never run"
        raise LstmvizError(
            f"no LSTM layer found ({what}; none named like an nn.LSTM's weight_ih_l0){named}",
            source=archive.source,
        )
    return layers


def list_layers(path) -> list[LayerInfo]:
    """The LSTM layers in the file (for inspect; their weights are not read)."""
    with open_torch(path) as archive:
        return [without_build(info) for info in _layers(archive)]


def read_model(path, layer: str | None = None):
    with open_torch(path) as archive:
        return build_layer(_layers(archive), layer, archive.source)
