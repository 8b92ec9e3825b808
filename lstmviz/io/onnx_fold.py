"""Constant folding for ONNX graphs in plain NumPy: the values that feed an LSTM's weights.

Exporters rarely store W, R and B as one initializer each. torch.onnx and OpenVINO write
them behind a few shape ops (Unsqueeze(Concat(Slice(const))), Split, Transpose, Cast ...),
and control flow puts the LSTM in a subgraph that reads its weights from the outer graph.
`Scope.fold(name)` evaluates the value named `name` when it depends on constants only, and
raises NotConstant naming the first thing that is not (a graph input, an op this folder
does not run).

Invariants:
- Nothing here executes code from the file or opens another file: tensors in external data
  are refused, and only the ops in FOLDERS run, each on arrays already checked.
- Every array is counted against the read's Budget before it is made (a tensor's dims x
  dtype before its bytes are decoded; an op's output size before the op runs), so a tiny
  file that claims a huge tensor is refused, not allocated.
- Strings from the protobuf (names, attribute strings) go through `text()`: bytes that are
  not UTF-8 come back escaped (\\xff), never as bytes or an exception.
- Opset differences are handled where they change the inputs: Unsqueeze/Squeeze/ReduceX
  axes as an attribute (opset < 13) or an input; Split sizes as an attribute, an input
  (opset >= 13) or num_outputs (opset >= 18); Slice bounds as attributes (opset < 10) or
  inputs.
"""

from __future__ import annotations

import math

import numpy as np

from lstmviz.errors import LstmvizError
from lstmviz.io.budget import Budget

# TensorProto.DataType -> NumPy dtype (little-endian, as ONNX stores raw_data)
DTYPES = {
    1: np.dtype("<f4"),
    2: np.dtype("u1"),
    3: np.dtype("i1"),
    4: np.dtype("<u2"),
    5: np.dtype("<i2"),
    6: np.dtype("<i4"),
    7: np.dtype("<i8"),
    9: np.dtype("?"),
    10: np.dtype("<f2"),
    11: np.dtype("<f8"),
    12: np.dtype("<u4"),
    13: np.dtype("<u8"),
    16: np.dtype("<u2"),  # bfloat16: the upper half of a float32, widened below
}
BFLOAT16 = 16
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL
MAX_DEPTH = 64
MAX_RANK = 16


class NotConstant(Exception):
    """The value depends on something that is not a constant in the file."""


def text(value) -> str:
    """A protobuf string as str; invalid UTF-8 escaped (b'a\\xff' -> 'a\\\\xff')."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    return str(value)


def _count(dims, what: str, source: str | None) -> int:
    dims = [int(d) for d in dims]
    if len(dims) > MAX_RANK or any(d < 0 for d in dims):
        raise LstmvizError(f"{what} has impossible dims {dims[:MAX_RANK]}", source=source)
    return math.prod(dims)


def tensor_to_array(tensor, budget: Budget, what: str | None = None) -> np.ndarray:
    """A TensorProto as an array, its size checked against the budget before decoding."""
    source = budget.source
    name = what or f"tensor {text(tensor.name)!r}"
    if tensor.data_location == EXTERNAL or len(tensor.external_data):
        raise LstmvizError(
            f"{name} is stored in external data; lstmviz does not read files an ONNX model "
            "points to (save the model with the weights inside: "
            "onnx.save(model, path, save_as_external_data=False))",
            source=source,
        )
    dtype = DTYPES.get(int(tensor.data_type))
    if dtype is None:
        raise LstmvizError(
            f"{name} has data type {tensor.data_type}, which lstmviz does not read", source=source
        )
    if tensor.HasField("segment"):
        raise LstmvizError(f"{name} is stored in segments, which lstmviz does not read", source=source)
    count = _count(tensor.dims, name, source)
    out_itemsize = 4 if int(tensor.data_type) == BFLOAT16 else dtype.itemsize
    budget.take(count * out_itemsize, name)
    shape = tuple(int(d) for d in tensor.dims)
    if tensor.HasField("raw_data"):
        raw = tensor.raw_data
        if len(raw) != count * dtype.itemsize:
            raise LstmvizError(
                f"{name} holds {len(raw)} bytes of data, but its dims {list(shape)} and type need "
                f"{count * dtype.itemsize}",
                source=source,
            )
        values = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    else:
        kind = int(tensor.data_type)
        if kind == 1:
            field, stored = "float_data", np.float32
        elif kind == 11:
            field, stored = "double_data", np.float64
        elif kind == 7:
            field, stored = "int64_data", np.int64
        elif kind in (12, 13):
            field, stored = "uint64_data", np.uint64
        else:  # int32_data carries int32 and every narrower type (float16/bfloat16 as bits)
            field, stored = "int32_data", np.int32
        held = tensor.count(field)
        if held != count:
            raise LstmvizError(
                f"{name} holds {held} values, but its dims {list(shape)} need {count}", source=source
            )
        values = np.asarray(tensor.values(field), dtype=stored)
        if kind in (10, BFLOAT16):
            values = values.astype(np.uint16).view(dtype)
        elif stored == np.int32 and kind != 6:
            values = values.astype(dtype)
        values = values.reshape(shape)
    if int(tensor.data_type) == BFLOAT16:
        values = (values.astype(np.uint32) << 16).view(np.float32)
    return values


def attributes(node) -> dict:
    """A node's attributes as Python values (strings decoded safely; graphs as-is)."""
    out = {}
    for attr in node.attribute:
        key = text(attr.name)
        kind = attr.type
        if kind == attr.FLOAT:
            out[key] = attr.f
        elif kind == attr.INT:
            out[key] = attr.i
        elif kind == attr.STRING:
            out[key] = text(attr.s)
        elif kind == attr.STRINGS:
            out[key] = [text(s) for s in attr.strings]
        elif kind == attr.FLOATS:
            out[key] = list(attr.floats)
        elif kind == attr.INTS:
            out[key] = list(attr.ints)
        elif kind == attr.TENSOR:
            out[key] = attr.t
        elif kind == attr.GRAPH:
            out[key] = attr.g
        elif kind == attr.GRAPHS:
            out[key] = list(attr.graphs)
    return out


class Scope:
    """One graph's names (initializers, node outputs, graph inputs), inside its outer scopes.

    ONNX subgraphs (If branches, Loop and Scan bodies) see every name of the graphs around
    them; a name defined here hides the same name outside.
    """

    def __init__(self, graph, budget: Budget, opset: int, parent: Scope | None = None, path: str = ""):
        self.graph = graph
        self.budget = budget
        self.opset = opset
        self.parent = parent
        self.path = path
        self.initializers = {text(t.name): t for t in graph.initializer}
        self.producers: dict[str, tuple[object, int]] = {}
        for node in graph.node:
            for slot, name in enumerate(node.output):
                if name:
                    self.producers[text(name)] = (node, slot)
        self.inputs = {text(v.name) for v in graph.input} - set(self.initializers)
        self._cache: dict[str, np.ndarray] = {}

    # -- lookups ----------------------------------------------------------------------------
    def owner(self, name: str) -> Scope | None:
        """The innermost scope that defines `name`, or None."""
        scope = self
        while scope is not None:
            if name in scope.initializers or name in scope.producers or name in scope.inputs:
                return scope
            scope = scope.parent
        return None

    def producer(self, name: str):
        """(node, output slot, scope) of the node that makes `name`, or None."""
        scope = self.owner(name)
        if scope is None or name not in scope.producers:
            return None
        node, slot = scope.producers[name]
        return node, slot, scope

    def is_graph_input(self, name: str) -> Scope | None:
        scope = self.owner(name)
        return scope if scope is not None and name in scope.inputs else None

    # -- folding ----------------------------------------------------------------------------
    def fold(self, name: str, depth: int = 0) -> np.ndarray:
        """The value of `name` when it is computed from constants only."""
        scope = self.owner(name)
        if scope is None:
            raise NotConstant(f"{name!r} (defined nowhere)")
        if name in scope.initializers:
            if name not in scope._cache:
                scope._cache[name] = tensor_to_array(scope.initializers[name], self.budget)
            return scope._cache[name]
        if name in scope.inputs:
            where = "the graph's input" if scope.parent is None else f"an input of subgraph {scope.path!r}"
            raise NotConstant(f"{name!r} ({where}, fed at run time)")
        if name in scope._cache:
            return scope._cache[name]
        if depth > MAX_DEPTH:
            raise NotConstant(f"{name!r} (more than {MAX_DEPTH} ops from a constant)")
        node, slot = scope.producers[name]
        outputs = scope._run(node, depth)
        for out_name, value in zip(node.output, outputs):
            if out_name and value is not None:
                scope._cache[text(out_name)] = value
        if slot >= len(outputs) or outputs[slot] is None:
            raise NotConstant(f"{name!r} (output {slot} of {text(node.op_type)})")
        return outputs[slot]

    def _inputs(self, node, depth: int) -> list[np.ndarray | None]:
        return [self.fold(text(n), depth + 1) if n else None for n in node.input]

    def _run(self, node, depth: int) -> list[np.ndarray | None]:
        op = text(node.op_type)
        domain = text(node.domain)
        folder = FOLDERS.get(op) if domain in ("", "ai.onnx") else None
        if folder is None:
            label = text(node.name) or op
            raise NotConstant(f"computed by {op} node {label!r}, which lstmviz does not fold")
        attrs = attributes(node)
        args = [] if op == "Constant" else self._inputs(node, depth)
        try:
            outputs = folder(self, args, attrs, len(node.output))
        except NotConstant:
            raise
        except LstmvizError:
            raise
        except (ValueError, IndexError, TypeError, KeyError, OverflowError, ZeroDivisionError) as error:
            label = text(node.name) or op
            raise LstmvizError(
                f"cannot fold {op} node {label!r} ({type(error).__name__}: {error})",
                source=self.budget.source,
            ) from None
        return [None if v is None else np.asarray(v) for v in outputs]

    def take(self, shape, dtype, what: str) -> None:
        self.budget.take(_count(shape, what, self.budget.source) * np.dtype(dtype).itemsize, what)


# -- the ops --------------------------------------------------------------------------------
def _ints(value) -> list[int]:
    return [int(v) for v in np.ravel(value)]


def _axes(scope: Scope, args, attrs, index: int = 1):
    """Axes as an input (opset >= 13) or an attribute (before)."""
    if len(args) > index and args[index] is not None:
        return _ints(args[index])
    return attrs.get("axes")


def _constant(scope, args, attrs, n):
    if "value" in attrs:
        return [tensor_to_array(attrs["value"], scope.budget, "a Constant node's value")]
    if "value_float" in attrs:
        return [np.asarray(attrs["value_float"], dtype=np.float32)]
    if "value_int" in attrs:
        return [np.asarray(attrs["value_int"], dtype=np.int64)]
    if "value_floats" in attrs:
        scope.take((len(attrs["value_floats"]),), np.float32, "a Constant node's value")
        return [np.asarray(attrs["value_floats"], dtype=np.float32)]
    if "value_ints" in attrs:
        scope.take((len(attrs["value_ints"]),), np.int64, "a Constant node's value")
        return [np.asarray(attrs["value_ints"], dtype=np.int64)]
    raise NotConstant("a Constant node without a numeric value")


def _cast(scope, args, attrs, n):
    dtype = DTYPES.get(int(attrs.get("to", 0)))
    if dtype is None or int(attrs.get("to", 0)) == BFLOAT16:
        raise NotConstant(f"a Cast to data type {attrs.get('to')}")
    scope.take(args[0].shape, dtype, "a Cast's output")
    return [args[0].astype(dtype)]


def _reshape(scope, args, attrs, n):
    data, shape = args[0], _ints(args[1])
    if not attrs.get("allowzero", 0):
        shape = [data.shape[i] if d == 0 and i < data.ndim else d for i, d in enumerate(shape)]
    return [data.reshape(shape)]


def _unsqueeze(scope, args, attrs, n):
    axes = _axes(scope, args, attrs)
    if axes is None:
        raise NotConstant("an Unsqueeze without axes")
    rank = args[0].ndim + len(axes)
    out = args[0]
    for axis in sorted(a % rank for a in axes):
        out = np.expand_dims(out, axis)
    return [out]


def _squeeze(scope, args, attrs, n):
    axes = _axes(scope, args, attrs)
    data = args[0]
    if axes is None:
        return [np.squeeze(data)]
    return [np.squeeze(data, axis=tuple(a % max(data.ndim, 1) for a in axes))]


def _concat(scope, args, attrs, n):
    parts = [a for a in args if a is not None]
    total = sum(int(p.size) for p in parts)
    scope.take((total,), parts[0].dtype, "a Concat's output")
    return [np.concatenate(parts, axis=int(attrs.get("axis", 0)))]


def _slice(scope, args, attrs, n):
    data = args[0]
    if len(args) > 1:  # opset >= 10: starts, ends, axes, steps as inputs
        starts, ends = _ints(args[1]), _ints(args[2])
        axes = _ints(args[3]) if len(args) > 3 and args[3] is not None else list(range(len(starts)))
        steps = _ints(args[4]) if len(args) > 4 and args[4] is not None else [1] * len(starts)
    else:
        starts, ends = attrs["starts"], attrs["ends"]
        axes = attrs.get("axes", list(range(len(starts))))
        steps = [1] * len(starts)
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise ValueError("Slice step 0")
        index[axis % data.ndim] = slice(start, end, step)
    return [data[tuple(index)].copy()]


def _gather(scope, args, attrs, n):
    data, indices = args[0], args[1].astype(np.int64)
    axis = int(attrs.get("axis", 0))
    scope.take(
        (int(indices.size) * (int(data.size) // max(data.shape[axis], 1)),), data.dtype, "a Gather's output"
    )
    return [np.take(data, indices, axis=axis)]


def _transpose(scope, args, attrs, n):
    perm = attrs.get("perm")
    return [np.ascontiguousarray(np.transpose(args[0], perm))]


def _split(scope, args, attrs, n):
    data = args[0]
    axis = int(attrs.get("axis", 0)) % max(data.ndim, 1)
    if len(args) > 1 and args[1] is not None:
        sizes = _ints(args[1])
    elif "split" in attrs:
        sizes = [int(s) for s in attrs["split"]]
    else:
        parts = int(attrs.get("num_outputs", n))
        each = -(-data.shape[axis] // parts)
        sizes = [min(each, max(data.shape[axis] - each * k, 0)) for k in range(parts)]
    if sum(sizes) != data.shape[axis]:
        raise ValueError(f"split sizes {sizes} do not add up to {data.shape[axis]}")
    return list(np.split(data, np.cumsum(sizes)[:-1], axis=axis))


def _identity(scope, args, attrs, n):
    return [args[0]]


def _expand(scope, args, attrs, n):
    shape = np.broadcast_shapes(args[0].shape, tuple(_ints(args[1])))
    scope.take(shape, args[0].dtype, "an Expand's output")
    return [np.broadcast_to(args[0], shape).copy()]


def _constant_of_shape(scope, args, attrs, n):
    shape = _ints(args[0])
    value = attrs.get("value")
    fill = tensor_to_array(value, scope.budget, "a ConstantOfShape value") if value is not None else None
    dtype = fill.dtype if fill is not None else np.float32
    scope.take(shape, dtype, "a ConstantOfShape's output")
    return [np.full(shape, fill.ravel()[0] if fill is not None else 0, dtype=dtype)]


FOLDERS = {
    "Constant": _constant,
    "Identity": _identity,
    "Cast": _cast,
    "Reshape": _reshape,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Gather": _gather,
    "Transpose": _transpose,
    "Split": _split,
    "Expand": _expand,  # torch.onnx's zero initial states: Expand(zeros, shape)
    "ConstantOfShape": _constant_of_shape,
}
