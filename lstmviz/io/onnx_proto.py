"""A small reader of ONNX's protobuf wire format, in pure Python: only what lstmviz needs.

Why not the onnx package: importing it takes seconds (ml_dtypes), its C++ parser is one more
thing a crafted file can crash, and it hands back non-UTF-8 names as bytes. This reader
decodes ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and
OperatorSetIdProto field by field (field numbers from onnx/onnx.proto), skips every field
it does not know, keeps tensor payloads as slices of the file's bytes until asked, and
decodes every string with invalid UTF-8 escaped (b'a\\xff' -> 'a\\\\xff').

Invariants: every length is checked against the bytes that remain (a truncated or lying
file raises ProtoError, never reads past the end); nesting is limited (MAX_DEPTH);
repeated numbers are counted against the read's Budget before they are decoded.
"""

from __future__ import annotations

import numpy as np

from lstmviz.io.budget import Budget

MAX_DEPTH = 48


class ProtoError(ValueError):
    """The bytes are not a well-formed protobuf message."""


def _varint(data: memoryview, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise ProtoError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoError("varint longer than 10 bytes")


def _fields(data: memoryview, start: int, end: int):
    """(field number, wire type, value) for each field; value is int or (lo, hi) bytes."""
    pos = start
    while pos < end:
        key, pos = _varint(data, pos, end)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise ProtoError("truncated fixed64")
            value, pos = (pos, pos + 8), pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos, end)
            if pos + length > end:
                raise ProtoError("a length runs past the end of the message")
            value, pos = (pos, pos + length), pos + length
        elif wire == 5:
            if pos + 4 > end:
                raise ProtoError("truncated fixed32")
            value, pos = (pos, pos + 4), pos + 4
        else:
            raise ProtoError(f"wire type {wire} is not supported")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _str(data: memoryview, span) -> str:
    return bytes(data[span[0] : span[1]]).decode("utf-8", "backslashreplace")


class _Reader:
    def __init__(self, data: bytes, budget: Budget):
        self.data = memoryview(data)
        self.budget = budget

    def _numbers(self, wire, value, fixed: str | None) -> list:
        """One repeated numeric field occurrence: packed (wire 2) or a single value."""
        if wire == 2:
            lo, hi = value
            if fixed:
                size = np.dtype(fixed).itemsize
                if (hi - lo) % size:
                    raise ProtoError("packed field length is not a multiple of its item size")
                return np.frombuffer(self.data[lo:hi], dtype=fixed).tolist()
            self.budget.take(8 * (hi - lo), "the packed integers of an ONNX field")
            out, pos = [], lo
            while pos < hi:
                item, pos = _varint(self.data, pos, hi)
                out.append(_signed(item))
            return out
        if fixed:
            lo, hi = value
            return [np.frombuffer(self.data[lo:hi], dtype=fixed)[0].item()]
        return [_signed(value)]

    # -- messages -----------------------------------------------------------------------------
    def model(self) -> Model:
        out = Model()
        for number, wire, value in _fields(self.data, 0, len(self.data)):
            if number == 7 and wire == 2:
                out.graph = self.graph(value, 0)
            elif number == 8 and wire == 2:
                out.opset_import.append(self.opset(value))
        if out.graph is None:
            raise ProtoError("no graph in the model")
        return out

    def opset(self, span) -> OpsetId:
        out = OpsetId()
        for number, wire, value in _fields(self.data, *span):
            if number == 1 and wire == 2:
                out.domain = _str(self.data, value)
            elif number == 2 and wire == 0:
                out.version = _signed(value)
        return out

    def graph(self, span, depth: int) -> Graph:
        if depth > MAX_DEPTH:
            raise ProtoError(f"subgraphs nested more than {MAX_DEPTH} deep")
        out = Graph()
        for number, wire, value in _fields(self.data, *span):
            if wire != 2:
                continue
            if number == 1:
                out.node.append(self.node(value, depth))
            elif number == 2:
                out.name = _str(self.data, value)
            elif number == 5:
                out.initializer.append(self.tensor(value))
            elif number == 11:
                out.input.append(self.value_info(value))
            elif number == 12:
                out.output.append(self.value_info(value))
        return out

    def value_info(self, span) -> ValueInfo:
        out = ValueInfo()
        for number, wire, value in _fields(self.data, *span):
            if number == 1 and wire == 2:
                out.name = _str(self.data, value)
        return out

    def node(self, span, depth: int) -> Node:
        out = Node()
        for number, wire, value in _fields(self.data, *span):
            if wire != 2:
                continue
            if number == 1:
                out.input.append(_str(self.data, value))
            elif number == 2:
                out.output.append(_str(self.data, value))
            elif number == 3:
                out.name = _str(self.data, value)
            elif number == 4:
                out.op_type = _str(self.data, value)
            elif number == 5:
                out.attribute.append(self.attribute(value, depth))
            elif number == 7:
                out.domain = _str(self.data, value)
        return out

    def attribute(self, span, depth: int) -> Attribute:
        out = Attribute()
        for number, wire, value in _fields(self.data, *span):
            if number == 1 and wire == 2:
                out.name = _str(self.data, value)
            elif number == 2 and wire == 5:
                out.f = self._numbers(wire, value, "<f4")[0]
            elif number == 3 and wire == 0:
                out.i = _signed(value)
            elif number == 4 and wire == 2:
                out.s = _str(self.data, value)
            elif number == 5 and wire == 2:
                out.t = self.tensor(value)
            elif number == 6 and wire == 2:
                out.g = self.graph(value, depth + 1)
            elif number == 7:
                out.floats.extend(self._numbers(wire, value, "<f4"))
            elif number == 8:
                out.ints.extend(self._numbers(wire, value, None))
            elif number == 9 and wire == 2:
                out.strings.append(_str(self.data, value))
            elif number == 10 and wire == 2:
                out.tensors.append(self.tensor(value))
            elif number == 11 and wire == 2:
                out.graphs.append(self.graph(value, depth + 1))
            elif number == 20 and wire == 0:
                out.type = value
        if out.type == 0:  # before IR version 3 the type was implied by the field set
            out.type = out.infer_type()
        return out

    def tensor(self, span) -> Tensor:
        out = Tensor(self.data)
        for number, wire, value in _fields(self.data, *span):
            if number == 1:
                out.dims.extend(self._numbers(wire, value, None))
            elif number == 2 and wire == 0:
                out.data_type = value
            elif number == 3 and wire == 2:
                out.has_segment = True
            elif number == 4:
                out.spans["float_data"].append((wire, value))
            elif number == 5:
                out.spans["int32_data"].append((wire, value))
            elif number == 7:
                out.spans["int64_data"].append((wire, value))
            elif number == 8 and wire == 2:
                out.name = _str(self.data, value)
            elif number == 9 and wire == 2:
                out.raw_span = value
            elif number == 10:
                out.spans["double_data"].append((wire, value))
            elif number == 11:
                out.spans["uint64_data"].append((wire, value))
            elif number == 13 and wire == 2:
                out.external_data.append(value)
            elif number == 14 and wire == 0:
                out.data_location = value
        out.reader = self
        return out


class Model:
    def __init__(self):
        self.graph: Graph | None = None
        self.opset_import: list[OpsetId] = []


class OpsetId:
    domain = ""
    version = 1


class Graph:
    def __init__(self):
        self.name = ""
        self.node: list[Node] = []
        self.initializer: list[Tensor] = []
        self.input: list[ValueInfo] = []
        self.output: list[ValueInfo] = []


class ValueInfo:
    name = ""


class Node:
    def __init__(self):
        self.input: list[str] = []
        self.output: list[str] = []
        self.name = ""
        self.op_type = ""
        self.domain = ""
        self.attribute: list[Attribute] = []


class Attribute:
    # AttributeProto.AttributeType
    UNDEFINED, FLOAT, INT, STRING, TENSOR, GRAPH = 0, 1, 2, 3, 4, 5
    FLOATS, INTS, STRINGS, TENSORS, GRAPHS = 6, 7, 8, 9, 10

    def __init__(self):
        self.name = ""
        self.type = 0
        self.f = 0.0
        self.i = 0
        self.s = ""
        self.t: Tensor | None = None
        self.g: Graph | None = None
        self.floats: list[float] = []
        self.ints: list[int] = []
        self.strings: list[str] = []
        self.tensors: list[Tensor] = []
        self.graphs: list[Graph] = []

    def infer_type(self) -> int:
        for kind, present in (
            (self.GRAPHS, self.graphs),
            (self.TENSORS, self.tensors),
            (self.STRINGS, self.strings),
            (self.INTS, self.ints),
            (self.FLOATS, self.floats),
            (self.GRAPH, self.g),
            (self.TENSOR, self.t),
            (self.STRING, self.s),
        ):
            if present:
                return kind
        return self.INT if self.i else self.FLOAT


class Tensor:
    """A TensorProto whose numbers stay in the file's bytes until asked for."""

    def __init__(self, data: memoryview):
        self._data = data
        self.dims: list[int] = []
        self.data_type = 0
        self.name = ""
        self.raw_span: tuple[int, int] | None = None
        self.has_segment = False
        self.external_data: list = []
        self.data_location = 0
        self.spans: dict[str, list] = {
            k: [] for k in ("float_data", "int32_data", "int64_data", "double_data", "uint64_data")
        }
        self.reader: _Reader | None = None

    def HasField(self, name: str) -> bool:  # noqa: N802 - the protobuf spelling the folder uses
        if name == "raw_data":
            return self.raw_span is not None
        if name == "segment":
            return self.has_segment
        raise ValueError(name)

    @property
    def raw_data(self) -> memoryview:
        lo, hi = self.raw_span or (0, 0)
        return self._data[lo:hi]

    def count(self, field: str) -> int:
        """How many values a typed field holds, without decoding varints."""
        fixed = {"float_data": 4, "double_data": 8}.get(field)
        total = 0
        for wire, value in self.spans[field]:
            if wire != 2:
                total += 1
            elif fixed:
                total += (value[1] - value[0]) // fixed
            else:  # one value per varint: count the bytes that end one
                total += sum(1 for b in self._data[value[0] : value[1]] if not b & 0x80)
        return total

    def values(self, field: str) -> list:
        fixed = {"float_data": "<f4", "double_data": "<f8"}.get(field)
        out: list = []
        for wire, value in self.spans[field]:
            out.extend(self.reader._numbers(wire, value, fixed))
        return out


def parse_model(data: bytes, budget: Budget) -> Model:
    """The ModelProto in these bytes; ProtoError when they are not one."""
    return _Reader(data, budget).model()
