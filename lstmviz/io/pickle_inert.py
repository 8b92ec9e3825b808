"""Reading any pickle without running any of it: every name it refers to becomes data.

A pickle is a small program: GLOBAL/STACK_GLOBAL name a callable, REDUCE calls it, NEWOBJ
creates an instance of a class, BUILD hands it its state. Python's own unpickler resolves
names with `find_class`, so this unpickler overrides it and hands out only

- a few functions of our own that rebuild plain data from validated arguments (torch's tensor
  rebuild functions, torch.Size, torch.device, NumPy scalars and small arrays, OrderedDict,
  defaultdict, deque, sets, bytes as protocol 2 writes them), and
- for every other name, an inert stand-in class (`Stand`) made on the fly: "calling" it or
  instantiating it only records the module, the name, the arguments (REDUCE / NEWOBJ), the
  state (BUILD) and the items added to it. `os.system`, `builtins.eval`, `subprocess.Popen`,
  `numpy.load`, a user's `__main__.TaggerNet` and `torch.nn.modules.rnn.LSTM` are all alike:
  records, never code. Nothing named in the file is imported; torch never is.

Before the C unpickler runs, the opcodes are scanned (pickletools.genops) and the pickle is
refused if it has too many opcodes, too deep a MARK nesting, an integer of more than
MAX_INT_DIGITS digits (Python would refuse to print it: "Exceeds the limit") or a string
larger than MAX_STRING. Memo references (BINGET) share one object, never a copy, so a huge
key repeated through the memo costs its size once. (The netron viewer reads PyTorch pickles
the same way: source/python.js, an unpickler whose classes are stand-ins.)
"""

from __future__ import annotations

import io
import pickle
import pickletools
import re
import struct
from collections.abc import Callable

import numpy as np

from lstmviz.errors import LstmvizError

MAX_OPCODES = 2_000_000
MAX_MARK_DEPTH = 1_000
MAX_INT_DIGITS = 1_000  # torch's own pickles hold small ints; 4300+ cannot even be printed
MAX_STRING = 16 << 20
MAX_CLASSES = 10_000  # distinct names one pickle may refer to
MAX_NUMPY_BYTES = 16 << 20  # a NumPy array pickled inline (a saved loss, a small table)
MAX_SHOWN = 80


def shown(text) -> str:
    """A name from a file, safe in a one-line message: control characters and escapes as
    \\n, \\x1b ... (repr-style), cut to a readable length."""
    body = repr(str(text))[1:-1]
    return body if len(body) <= MAX_SHOWN else body[: MAX_SHOWN - 3] + "..."


class PickleError(Exception):
    """The pickle is malformed or over a cap; the message is one line, names escaped."""


# -- stand-ins -----------------------------------------------------------------------------
class Stand:
    """An object of a class (or the result of a call) that the pickle names: a record.

    `module`/`name` come from the class; `args`/`kwargs` are what NEWOBJ or REDUCE passed,
    `state` what BUILD passed, `items` what APPEND(S) added, `entries` what SETITEM(S) set.
    """

    __slots__ = ("args", "kwargs", "state", "items", "entries")
    module = ""
    name = ""

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        obj.args, obj.kwargs = args, kwargs
        obj.state, obj.items, obj.entries = None, [], []
        return obj

    def __init__(self, *args, **kwargs):
        pass

    def __setstate__(self, state):
        self.state = state

    def append(self, value):
        self.items.append(value)

    def extend(self, values):
        self.items.extend(values)

    def __setitem__(self, key, value):
        self.entries.append((key, value))

    def __call__(self, *args, **kwargs):  # REDUCE on a stand-in object: another record
        return _call_result(self)(*args, **kwargs)

    @property
    def qualname(self) -> str:
        return f"{type(self).module}.{type(self).name}"

    def attributes(self) -> dict:
        """The object's attributes as BUILD gave them ({} when the state is not a dict)."""
        state = self.state
        if isinstance(state, tuple) and len(state) == 2 and isinstance(state[1], dict):
            merged = dict(state[0]) if isinstance(state[0], dict) else {}
            merged.update(state[1])  # (dict state, slot state)
            return merged
        return state if isinstance(state, dict) else {}

    def __repr__(self) -> str:
        return f"<stand-in {shown(self.qualname)}>"


def _call_result(callee: Stand) -> type:
    return _stand_type(type(callee).module, f"{type(callee).name}()")


_TYPES: dict[tuple[str, str], type] = {}


def _stand_type(module: str, name: str) -> type:
    key = (module, name)
    cls = _TYPES.get(key)
    if cls is None:
        if len(_TYPES) > 4 * MAX_CLASSES:
            _TYPES.clear()  # a cache only; every pickle's own count is capped separately
        cls = type("Stand", (Stand,), {"__slots__": (), "module": module, "name": name})
        _TYPES[key] = cls
    return cls


def is_stand(value, module_prefix: str = "", name: str | None = None) -> bool:
    if not isinstance(value, Stand):
        return False
    cls = type(value)
    return cls.module.startswith(module_prefix) and (name is None or cls.name == name)


# -- tensors (torch's rebuild functions, handled as data) -----------------------------------
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
    "UntypedStorage": ("uint8", 1),
}
STORAGE_NAME = re.compile(r"[A-Za-z0-9_]{1,40}Storage")
STORAGE_KEY = re.compile(r"[A-Za-z0-9_]{1,64}")
MAX_ELEMENTS = 1 << 40  # a view's element count; its bytes are checked against the budget


def _refuse_build(self, state):  # BUILD on one of our data objects: never allowed
    raise pickle.UnpicklingError(f"refuses to set the state of a {type(self).__name__}")


class StorageType:
    """torch.FloatStorage & co: only a dtype tag, never callable."""

    __slots__ = ("name", "dtype", "itemsize")
    __setstate__ = _refuse_build

    def __init__(self, name: str):
        self.name = name
        self.dtype, self.itemsize = STORAGE_DTYPES.get(name, (f"unsupported ({name})", 0))


class Storage:
    """One storage the pickle refers to by persistent id: where its bytes are, not the bytes."""

    __slots__ = ("key", "type", "numel", "offset")
    __setstate__ = _refuse_build

    def __init__(self, key: str, storage_type: StorageType, numel: int, offset: int = 0):
        self.key, self.type, self.numel, self.offset = key, storage_type, numel, offset


class Tensor:
    """A tensor as the pickle describes it: a view (offset, shape, stride) on a storage."""

    __slots__ = ("storage", "offset", "shape", "stride")
    __setstate__ = _refuse_build

    def __init__(self, storage, offset, shape, stride):
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    @property
    def dtype(self) -> str:
        return self.storage.type.dtype

    @property
    def count(self) -> int:
        count = 1
        for size in self.shape:
            count *= size
        return count

    def __repr__(self) -> str:
        return f"<tensor {self.dtype} {self.shape}>"


def _int_tuple(value, what: str) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not all(type(v) is int for v in value):
        raise pickle.UnpicklingError(f"tensor {what} is not a tuple of integers")
    return tuple(value)


def rebuild_tensor(storage, storage_offset, size, stride, *_ignored, **_also_ignored):
    """torch._utils._rebuild_tensor_v2: check the view fits its storage; read nothing yet.

    The element count is only compared, never allocated: a (32768, 32768) view with strides
    (0, 0) on a one-element storage is a valid tensor that costs nothing until someone copies
    it, and it is copied only if it is an LSTM weight, after the budget allows it."""
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError("a tensor's storage is not a storage")
    if type(storage_offset) is not int or storage_offset < 0:
        raise pickle.UnpicklingError("bad tensor storage offset")
    shape, strides = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(shape) != len(strides) or len(shape) > 16 or any(v < 0 for v in shape + strides):
        raise pickle.UnpicklingError("bad tensor size or stride")
    tensor = Tensor(storage, storage_offset, shape, strides)
    if tensor.count > MAX_ELEMENTS:
        raise pickle.UnpicklingError(f"a tensor of {tensor.count} elements is larger than lstmviz reads")
    if tensor.count and storage_offset + sum((s - 1) * st for s, st in zip(shape, strides)) >= storage.numel:
        raise pickle.UnpicklingError("a tensor reaches past the end of its storage")
    return tensor


def rebuild_parameter(data, *_ignored):
    if not isinstance(data, Tensor):
        raise pickle.UnpicklingError("a parameter does not hold a tensor")
    return data


def rebuild_from_type(func, new_type, args, state=None):
    """torch._tensor._rebuild_from_type_v2: a tensor subclass; only our rebuilds are run."""
    if func in (rebuild_tensor, rebuild_parameter) and isinstance(args, tuple):
        return func(*args)
    return _stand_type("torch._tensor", "_rebuild_from_type_v2()")(func, new_type, args, state)


# -- harmless values read as data ------------------------------------------------------------
class TorchValue:
    """torch.float32, torch.device('cuda', 0) and such: a name, nothing more."""

    __slots__ = ("kind", "value")
    __setstate__ = _refuse_build

    def __init__(self, kind: str, value):
        self.kind, self.value = kind, value

    def __repr__(self) -> str:
        return f"torch.{self.kind}({self.value!r})" if self.kind == "device" else f"torch.{self.value}"

    def __eq__(self, other):
        return isinstance(other, TorchValue) and (self.kind, self.value) == (other.kind, other.value)

    def __hash__(self):
        return hash((self.kind, self.value))


TORCH_DTYPES = frozenset(
    "float16 float32 float64 bfloat16 half float double int8 int16 int32 int64 uint8 bool "
    "complex64 complex128 long int short cfloat cdouble".split()
)


def _torch_size(values=()):
    if not isinstance(values, (tuple, list)) or not all(type(v) is int for v in values):
        raise pickle.UnpicklingError("torch.Size holds something other than integers")
    return tuple(values)


def _torch_device(kind="cpu", index=None):
    if not isinstance(kind, str) or not (index is None or type(index) is int):
        raise pickle.UnpicklingError("torch.device with odd arguments")
    return TorchValue("device", kind if index is None else f"{kind}:{index}")


class OrderedDictData(dict):
    """collections.OrderedDict as the pickle builds it (plain dicts keep order); the only
    state torch gives one is the state_dict's _metadata, which is kept aside."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError("unexpected state on an OrderedDict")
        self.__dict__["_pickle_state"] = state


def _ordered_dict(pairs=()):
    out = OrderedDictData()
    if not isinstance(pairs, (list, tuple)):
        raise pickle.UnpicklingError("OrderedDict built from something other than pairs")
    for pair in pairs:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise pickle.UnpicklingError("OrderedDict built from something other than pairs")
        out[pair[0]] = pair[1]
    return out


def _defaultdict(default_factory=None, *_rest):
    return OrderedDictData()  # the factory is a name from the file: never called


def _deque(items=(), maxlen=None):
    if not isinstance(items, (list, tuple)):
        raise pickle.UnpicklingError("deque built from something other than a list")
    return list(items)


def _set(items=()):
    if not isinstance(items, (list, tuple)):
        raise pickle.UnpicklingError("set built from something other than a list")
    return frozenset(items)


def _latin1(text="", encoding="latin1"):
    """_codecs.encode as protocol 2 uses it for bytes: only str -> latin-1 bytes."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode with odd arguments")
    return text.encode("latin-1")


def _bytes(values=()):
    if isinstance(values, (bytes, bytearray)):
        return bytes(values)
    if not isinstance(values, (list, tuple)) or len(values) > MAX_STRING:
        raise pickle.UnpicklingError("bytes built from something other than a list")
    if not all(type(v) is int and 0 <= v < 256 for v in values):
        raise pickle.UnpicklingError("bytes built from something other than bytes")
    return bytes(values)


NUMPY_CODE = re.compile(r"[|<>=]?(b1|[iu][1248]|f[248]|c(8|16)|\?)")


class NumpyDtype:
    """numpy.dtype('f8', False, True) + BUILD((3, '<', ...)): the code and byte order."""

    __slots__ = ("code", "order")

    def __init__(self, code=None, *_flags):
        if not isinstance(code, str) or not NUMPY_CODE.fullmatch(code):
            raise pickle.UnpicklingError(f"NumPy dtype {shown(code)} is not a plain number type")
        self.code, self.order = code, "="

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "|", "="):
            self.order = state[1]

    def numpy(self) -> np.dtype:
        dtype = np.dtype(self.code.lstrip("<>=|"))
        return dtype.newbyteorder(self.order) if self.order in "<>" else dtype


def _numpy_scalar(dtype, data=b""):
    """numpy.core.multiarray.scalar: a NumPy number from its bytes (no NumPy call on file data)."""
    if not isinstance(dtype, NumpyDtype) or not isinstance(data, bytes):
        raise pickle.UnpicklingError("NumPy scalar with odd arguments")
    kind = dtype.numpy()
    if len(data) != kind.itemsize:
        raise pickle.UnpicklingError("NumPy scalar with the wrong number of bytes")
    return np.frombuffer(data, dtype=kind)[0]


class NumpyArray:
    """numpy.core.multiarray._reconstruct(ndarray, (0,), b'b') + BUILD((1, shape, dtype,
    fortran, raw bytes)): rebuilt from the bytes when its dtype is a plain number type."""

    __slots__ = ("value",)

    def __init__(self, *_args):
        self.value = None

    def __setstate__(self, state):
        if not (isinstance(state, tuple) and len(state) == 5):
            raise pickle.UnpicklingError("NumPy array with an odd state")
        _version, shape, dtype, fortran, raw = state
        shape = _int_tuple(shape, "size")
        if not isinstance(dtype, NumpyDtype) or not isinstance(raw, bytes) or len(shape) > 32:
            raise pickle.UnpicklingError("NumPy array of a type lstmviz does not read")
        kind = dtype.numpy()
        count = 1
        for size in shape:
            count *= size
        if count * kind.itemsize != len(raw) or len(raw) > MAX_NUMPY_BYTES:
            raise pickle.UnpicklingError("NumPy array whose bytes do not match its shape")
        array = np.frombuffer(raw, dtype=kind).reshape(shape, order="F" if fortran else "C")
        self.value = array


def _reconstructor(cls=None, base=None, state=None):
    """copyreg._reconstructor, how protocols 0 and 1 create objects: an instance of the
    stand-in class (BUILD then gives it its state); never the base's constructor."""
    if isinstance(cls, type) and issubclass(cls, Stand):
        return cls()
    return _stand_type("copyreg", "_reconstructor()")(cls, base, state)


def _numpy_reconstruct(cls=None, shape=(0,), code=b"b"):
    return NumpyArray()


DATA: dict[tuple[str, str], Callable] = {
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): rebuild_parameter,
    ("torch._tensor", "_rebuild_from_type_v2"): rebuild_from_type,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _torch_device,
    ("collections", "OrderedDict"): _ordered_dict,
    ("collections", "defaultdict"): _defaultdict,
    ("collections", "deque"): _deque,
    ("builtins", "set"): _set,
    ("builtins", "frozenset"): _set,
    ("__builtin__", "set"): _set,
    ("_codecs", "encode"): _latin1,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("builtins", "bytes"): _bytes,
    ("numpy", "dtype"): NumpyDtype,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _numpy_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _numpy_reconstruct,
}


# -- the opcode scan -------------------------------------------------------------------------
_POPS_MARK = frozenset("TUPLE LIST DICT APPENDS SETITEMS OBJ INST FROZENSET ADDITEMS POP_MARK".split())
_STRING_OPS = frozenset(
    "STRING BINSTRING SHORT_BINSTRING UNICODE BINUNICODE SHORT_BINUNICODE BINUNICODE8 "
    "BINBYTES SHORT_BINBYTES BINBYTES8 BYTEARRAY8".split()
)


def scan(data: bytes) -> int:
    """Check a pickle's opcodes against the caps before anything is built; returns its
    length in bytes (up to and including STOP)."""
    stream = io.BytesIO(data)
    depth = 0
    count = 0
    try:
        for opcode, arg, _pos in pickletools.genops(stream):
            count += 1
            if count > MAX_OPCODES:
                raise PickleError(f"it has more than {MAX_OPCODES} pickle opcodes")
            name = opcode.name
            if name == "MARK":
                depth += 1
                if depth > MAX_MARK_DEPTH:
                    raise PickleError(f"it nests more than {MAX_MARK_DEPTH} levels deep")
            elif name in _POPS_MARK:
                depth -= 1
            elif name in ("LONG1", "LONG4", "LONG", "INT") and isinstance(arg, int):
                if arg.bit_length() > MAX_INT_DIGITS * 3.33:
                    raise PickleError(f"it holds an integer of more than {MAX_INT_DIGITS} digits")
            elif name in _STRING_OPS and arg is not None and len(arg) > MAX_STRING:
                raise PickleError(f"it holds a string of {len(arg)} bytes (more than {MAX_STRING})")
    except PickleError:
        raise
    except ValueError as error:
        if "digits" in str(error) or "limit" in str(error):  # int('9' * 5000): Python's own cap
            raise PickleError(f"it holds an integer of more than {MAX_INT_DIGITS} digits") from None
        raise PickleError(f"damaged pickle ({shown(error)})") from None
    except (EOFError, struct.error, UnicodeDecodeError, OverflowError, MemoryError) as error:
        raise PickleError(f"damaged pickle ({shown(error) or type(error).__name__})") from None
    return stream.tell()


# -- the unpickler ---------------------------------------------------------------------------
class InertUnpickler(pickle.Unpickler):
    """An unpickler under which nothing named in the file runs (see the module docstring).

    persistent_load(pid) is the caller's: torch's storages are named by persistent ids.
    `named` collects the qualified names that became stand-ins (for messages).
    """

    def __init__(self, data: bytes, persistent_load: Callable | None = None):
        super().__init__(io.BytesIO(data))
        self._persistent = persistent_load
        self.named: dict[str, None] = {}

    def find_class(self, module, name):
        if not isinstance(module, str) or not isinstance(name, str):
            raise pickle.UnpicklingError("a class name that is not text")
        target = DATA.get((module, name))
        if target is not None:
            return target
        if module == "torch":
            if STORAGE_NAME.fullmatch(name):
                return StorageType(name)
            if name in TORCH_DTYPES:
                return TorchValue("dtype", name)
        if len(self.named) >= MAX_CLASSES:
            raise pickle.UnpicklingError(f"it names more than {MAX_CLASSES} classes")
        self.named[f"{module}.{name}"] = None
        return _stand_type(module, name)

    def persistent_load(self, pid):
        if self._persistent is None:
            raise pickle.UnpicklingError("a persistent id in a pickle that has none")
        return self._persistent(pid)


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


def inert_loads(data: bytes, persistent_load: Callable | None = None, what: str = "pickle"):
    """The object a pickle describes, built from stand-ins; returns (object, unpickler)."""
    scan(data)
    unpickler = InertUnpickler(data, persistent_load)
    try:
        return unpickler.load(), unpickler
    except LstmvizError:
        raise
    except UNPICKLE_ERRORS as error:
        raise PickleError(f"damaged {what} ({shown(error) or type(error).__name__})") from None


def storage_pid(pid, numel_index: int = 4) -> tuple[StorageType, str, int]:
    """(storage type, key, numel) from torch's ('storage', type, key, location, numel, ...)."""
    if not (isinstance(pid, tuple) and len(pid) > numel_index and pid[0] == "storage"):
        raise pickle.UnpicklingError("unknown persistent id in the pickle")
    storage_type, key, numel = pid[1], pid[2], pid[numel_index]
    if (
        not isinstance(storage_type, StorageType)
        or not isinstance(key, str)
        or not STORAGE_KEY.fullmatch(key)
        or type(numel) is not int
        or numel < 0
    ):
        raise pickle.UnpicklingError("malformed storage reference in the pickle")
    return storage_type, key, numel


def named_callables(unpickler: InertUnpickler, limit: int = 3) -> list[str]:
    """A few of the names the pickle wanted run or built, shown escaped (for messages)."""
    return [shown(name) for name in list(unpickler.named)[:limit]]
