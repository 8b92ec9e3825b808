"""ONNX models with LSTM nodes, through the `onnx` package (onnx>=1.21).

ONNX LSTM (https://onnx.ai/onnx/operators/onnx__LSTM.html), per direction d:
    W [dirs, 4n, m], R [dirs, 4n, n], B [dirs, 8n] = [Wb | Rb], P [dirs, 3n]
gate blocks in the order i, o, f, c; peepholes P in the order i, o, f (i and f look at
c_{t-1}, o at the new c_t); initial_h / initial_c [dirs, batch, n] (layout 0) or
[batch, dirs, n] (layout 1). direction forward | reverse | bidirectional; activations
(f, g, h) default (Sigmoid, Tanh, Tanh).

Weights must be constants in the file (initializers or Constant nodes). The model is loaded
with load_external_data=False, and a tensor stored in external data is refused, never read:
lstmviz opens no file a model names. Two LSTM nodes joined by the reshaping torch.onnx
exports (Squeeze, or Transpose + Reshape for two directions) form a stack: the upper one's
`upstream` is the lower ones.
"""

from __future__ import annotations

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import ORDER_ONNX, LayerInfo, build_layer, require, without_build
from lstmviz.io.paths import readable_file

DEFAULT_ACTIVATIONS = ("Sigmoid", "Tanh", "Tanh")


class NotConstant(Exception):
    pass


class OnnxModel:
    def __init__(self, path):
        self.source = str(path)
        readable_file(path)
        self.onnx = require("onnx", "onnx", "ONNX models", self.source)
        try:
            self.model = self.onnx.load(str(path), load_external_data=False)
        except Exception as error:  # noqa: BLE001 - protobuf raises many types on damaged input
            raise LstmvizError(
                f"not a readable ONNX model ({type(error).__name__}: {error})", source=self.source
            ) from None
        graph = self.model.graph
        self.opset = next((o.version for o in self.model.opset_import if o.domain in ("", "ai.onnx")), None)
        self.initializers = {t.name: t for t in graph.initializer}
        self.producers = {}
        for index, node in enumerate(graph.node):
            for slot, name in enumerate(node.output):
                if name:
                    self.producers[name] = (node, slot, index)
        self.graph_inputs = {v.name for v in graph.input} - set(self.initializers)
        self.lstm_nodes = [
            node for node in graph.node if node.op_type == "LSTM" and node.domain in ("", "ai.onnx")
        ]
        self.node_names = {}
        for index, node in enumerate(self.lstm_nodes):
            self.node_names[id(node)] = node.name or f"LSTM_{index}"

    # -- constants ---------------------------------------------------------------------------
    def _tensor(self, tensor) -> np.ndarray:
        if tensor.data_location == self.onnx.TensorProto.EXTERNAL or tensor.external_data:
            raise LstmvizError(
                f"tensor {tensor.name!r} is stored in external data; lstmviz does not read files "
                "an ONNX model points to (save the model with the weights inside: "
                "onnx.save(model, path, save_as_external_data=False))",
                source=self.source,
            )
        try:
            return np.asarray(self.onnx.numpy_helper.to_array(tensor))
        except Exception as error:  # noqa: BLE001
            raise LstmvizError(f"cannot read tensor {tensor.name!r} ({error})", source=self.source) from None

    def constant(self, name: str, depth: int = 0) -> np.ndarray:
        if name in self.initializers:
            return self._tensor(self.initializers[name])
        if depth > 16 or name not in self.producers:
            raise NotConstant(name)
        node, slot, _ = self.producers[name]
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    return self._tensor(attr.t)
                if attr.name in ("value_float", "value_int"):
                    return np.asarray(attr.f if attr.name == "value_float" else attr.i)
                if attr.name in ("value_floats", "value_ints"):
                    return np.asarray(list(attr.floats) if attr.name == "value_floats" else list(attr.ints))
            raise NotConstant(name)
        if node.op_type == "Identity":
            return self.constant(node.input[0], depth + 1)
        if node.op_type == "Expand":  # torch.onnx's zero initial states: Expand(zeros, shape)
            return self.constant(node.input[0], depth + 1)
        raise NotConstant(name)

    @staticmethod
    def attributes(node) -> dict:
        out = {}
        for attr in node.attribute:
            if attr.type == attr.FLOAT:
                out[attr.name] = attr.f
            elif attr.type == attr.INT:
                out[attr.name] = attr.i
            elif attr.type == attr.STRING:
                out[attr.name] = attr.s.decode("utf-8", "replace")
            elif attr.type == attr.STRINGS:
                out[attr.name] = [s.decode("utf-8", "replace") for s in attr.strings]
            elif attr.type == attr.FLOATS:
                out[attr.name] = list(attr.floats)
            elif attr.type == attr.INTS:
                out[attr.name] = list(attr.ints)
        return out

    # -- stacking ----------------------------------------------------------------------------
    def feeder(self, node, layout: int):
        """(LSTM node whose Y feeds this node's X, problem); (None, why) when none does."""
        name = node.input[0]
        ops = []
        for _ in range(8):
            if name in self.graph_inputs:
                return None, ""
            if name not in self.producers:
                return None, f"its X {name!r} is not produced by any node"
            producer, slot, _ = self.producers[name]
            if producer.op_type == "LSTM":
                if slot != 0:
                    return None, "its X is another LSTM's Y_h or Y_c, not a sequence"
                return producer, self._check_reshape(producer, ops, layout)
            if producer.op_type not in ("Squeeze", "Reshape", "Transpose", "Identity"):
                return None, (
                    f"its X comes from a {producer.op_type} node {producer.name!r}, which "
                    "lstmviz does not run: supply that node's output"
                )
            if producer.op_type != "Identity":
                ops.insert(0, producer)
            name = producer.input[0]
        return None, "its X could not be traced"

    def _check_reshape(self, producer, ops, layout: int) -> str | None:
        attrs = self.attributes(producer)
        dirs = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
        if attrs.get("layout", 0) != layout:
            return "the two LSTM nodes use different layouts"
        kinds = [op.op_type for op in ops]
        dir_axis = 1 if layout == 0 else 2
        try:
            if dirs == 1 and kinds == ["Squeeze"]:
                axes = self.attributes(ops[0]).get("axes")
                if axes is None and len(ops[0].input) > 1 and ops[0].input[1]:
                    axes = [int(a) for a in np.ravel(self.constant(ops[0].input[1]))]
                if axes is not None and [a % 4 for a in axes] == [dir_axis]:
                    return None
            wanted = (["Transpose", "Reshape"] if layout == 0 else ["Reshape"]) if dirs == 2 else None
            if kinds == ["Reshape"] and dirs == 1 or kinds == wanted:
                if layout == 0 and dirs == 2:
                    perm = self.attributes(ops[0]).get("perm")
                    if list(perm or []) != [0, 2, 1, 3]:
                        return "the Transpose between the LSTM nodes is not the usual (0, 2, 1, 3)"
                shape = [int(v) for v in np.ravel(self.constant(ops[-1].input[1]))]
                if len(shape) == 3 and shape[2] in (-1, dirs * self.hidden(producer)):
                    return None
        except NotConstant:
            pass
        return "the reshaping between the LSTM nodes is not one lstmviz recognises"

    def hidden(self, node) -> int:
        try:
            return int(self.constant(node.input[2]).shape[-1])
        except (NotConstant, IndexError):
            return -1


def _activation(name: str, alpha, beta) -> str | None:
    if name == "Sigmoid":
        return "sigmoid"
    if name == "Tanh":
        return "tanh"
    if name == "Relu":
        return "relu"
    if name == "HardSigmoid":
        a = 0.2 if alpha is None else alpha
        b = 0.5 if beta is None else beta
        if np.isclose(a, 0.2) and np.isclose(b, 0.5):
            return "hard_sigmoid"
        if np.isclose(a, 1 / 6) and np.isclose(b, 0.5):
            return "hard_sigmoid_keras3"
        return None
    if name == "Affine" and (alpha in (None, 1.0)) and (beta in (None, 0.0)):
        return "linear"
    return None


def _layers(model: OnnxModel) -> list[LayerInfo]:
    infos: list[LayerInfo] = []
    cell_names: dict[int, tuple[str, ...]] = {}
    upstream_of: dict[int, tuple] = {}
    fmt = f"ONNX LSTM node (opset {model.opset})" if model.opset else "ONNX LSTM node"

    def chain(node, layout):
        key = id(node)
        if key not in upstream_of:
            upstream_of[key] = ((), "")  # guards against cycles in a malformed graph
            feeder, problem = model.feeder(node, layout)
            if feeder is None:
                text = (
                    "the sequence you supply (the graph input X)"
                    if not problem
                    else f"the sequence you supply; {problem}"
                )
                upstream_of[key] = ((), text)
            elif problem:
                upstream_of[key] = (
                    (),
                    f"the sequence you supply; it is fed by {model.node_names[id(feeder)]!r}, but {problem}",
                )
            else:
                below, _ = chain(feeder, layout)
                names = cell_names.get(id(feeder)) or _directions(model, feeder)
                upstream_of[key] = (
                    below + (names,),
                    f"the Y of {' + '.join(names)} (lstmviz runs the LSTM nodes below first)",
                )
        return upstream_of[key]

    for node in model.lstm_nodes:
        cell_names[id(node)] = _directions(model, node)
    for node in model.lstm_nodes:
        infos.extend(_node_infos(model, node, fmt, chain, cell_names[id(node)]))
    return infos


def _directions(model: OnnxModel, node) -> tuple[str, ...]:
    name = model.node_names[id(node)]
    direction = model.attributes(node).get("direction", "forward")
    return (f"{name}/forward", f"{name}/reverse") if direction == "bidirectional" else (name,)


def _node_infos(model: OnnxModel, node, fmt, chain, names) -> list[LayerInfo]:
    source = model.source
    attrs = model.attributes(node)
    direction = attrs.get("direction", "forward")
    layout = int(attrs.get("layout", 0))
    node_name = model.node_names[id(node)]
    inputs = list(node.input) + [""] * (8 - len(node.input))
    problems: list[str] = []
    notes: list[str] = []

    def unusable(reason: str) -> list[LayerInfo]:
        """A node lstmviz cannot read at all: listed by inspect, with the reason."""
        return [LayerInfo(name=node_name, format=fmt, m=-1, n=-1, gate_order=ORDER_ONNX, biases="?",
                          unsupported=(reason,))]

    try:
        W = model.constant(inputs[1])
        R = model.constant(inputs[2])
    except NotConstant as missing:
        return unusable(f"its weights {missing} are not constants in the file")
    if direction not in ("forward", "reverse", "bidirectional"):
        problems.append(f"direction {direction!r} is not an ONNX direction")
    dirs = 2 if direction == "bidirectional" else 1
    if (
        W.ndim != 3
        or R.ndim != 3
        or W.shape[0] != dirs
        or R.shape[0] != dirs
        or R.shape[1] % 4
        or R.shape[1] != 4 * R.shape[2]
        or W.shape[1] != R.shape[1]
    ):
        return unusable(f"W {W.shape} and R {R.shape} do not fit an LSTM with {dirs} direction(s)")
    n, m = int(R.shape[2]), int(W.shape[2])
    if "hidden_size" in attrs and attrs["hidden_size"] != n:
        problems.append(f"hidden_size={attrs['hidden_size']} but R has n = {n}")

    def optional(index: int, label: str, shape: tuple[int, ...]):
        name = inputs[index]
        if not name:
            return None
        try:
            value = model.constant(name)
        except NotConstant:
            notes.append(f"{label} is computed or fed at run time, not stored; lstmviz uses zeros")
            return None
        if value.size == 1:
            return np.full(shape, float(value.ravel()[0]))
        if value.shape != shape:
            problems.append(f"{label} has shape {value.shape}, expected {shape}")
            return None
        return value

    B = optional(3, "B", (dirs, 8 * n))
    P = optional(7, "P", (dirs, 3 * n))
    states = {}
    for index, label in ((5, "initial_h"), (6, "initial_c")):
        name = inputs[index]
        if not name:
            continue
        try:
            value = model.constant(name)
        except NotConstant:
            notes.append(
                f"{label} is computed or fed at run time, not stored; lstmviz starts from zeros "
                f"(give --{'h0' if label == 'initial_h' else 'c0'} to choose)"
            )
            continue
        if value.size == 1:
            states[label] = np.full((dirs, n), float(value.ravel()[0]))
            continue
        if value.ndim != 3:
            problems.append(f"{label} has shape {value.shape}, expected 3 axes")
            continue
        value = value if layout == 0 else np.swapaxes(value, 0, 1)
        if value.shape[0] != dirs or value.shape[2] != n:
            problems.append(f"{label} has shape {value.shape}, expected ({dirs}, batch, {n})")
            continue
        if value.shape[1] > 1 and not np.all(value == value[:, :1]):
            notes.append(f"{label} differs across its {value.shape[1]} batch rows; lstmviz uses row 0")
        states[label] = value[:, 0]
    if inputs[4]:
        notes.append("sequence_lens is ignored: lstmviz runs every step of the sequence you give")
    if attrs.get("clip") is not None:
        problems.append(f"clip={attrs['clip']:g}: lstmviz has no cell clipping (export without clip)")
    if attrs.get("input_forget", 0):
        problems.append("input_forget=1 (coupled input and forget gates) is not supported")
    activations = attrs.get("activations") or list(DEFAULT_ACTIVATIONS) * dirs
    alphas = attrs.get("activation_alpha") or []
    betas = attrs.get("activation_beta") or []
    if len(activations) != 3 * dirs:
        problems.append(f"activations lists {len(activations)} functions, expected {3 * dirs}")
        activations = list(DEFAULT_ACTIVATIONS) * dirs

    upstream, input_text = chain(node, layout)
    infos = []
    for d, cell_name in enumerate(names):
        reverse = direction == "reverse" or d == 1
        unsupported = list(problems)
        trio = activations[3 * d : 3 * d + 3]
        mapped = [
            _activation(
                a,
                alphas[3 * d + k] if len(alphas) > 3 * d + k else None,
                betas[3 * d + k] if len(betas) > 3 * d + k else None,
            )
            for k, a in enumerate(trio)
        ]
        if None in mapped:
            bad = [a for a, v in zip(trio, mapped) if v is None]
            unsupported.append(f"activation {', '.join(bad)} (with these alpha/beta) is not supported")
        elif mapped[1] != mapped[2]:
            unsupported.append(
                f"activations g={trio[1]} and h={trio[2]} differ; lstmviz uses one cell activation for both"
            )
        rec, act = mapped[0], mapped[1]
        peep = P is not None and bool(np.any(P[d]))
        h0 = states.get("initial_h")
        c0 = states.get("initial_c")

        def build(
            d=d,
            reverse=reverse,
            rec=rec,
            act=act,
            peep=peep,
            cell_name=cell_name,
            h0=None if h0 is None else h0[d],
            c0=None if c0 is None else c0[d],
        ) -> LSTMParams:
            bias = np.zeros(4 * n) if B is None else B[d, : 4 * n].astype(np.float64) + B[d, 4 * n :]
            peepholes = {}
            if peep:
                p = P[d].astype(np.float64)
                peepholes = {"p_i": p[:n], "p_o": p[n : 2 * n], "p_f": p[2 * n :]}
            return LSTMParams.from_stacked(
                W[d].astype(np.float64),
                R[d].astype(np.float64),
                bias,
                order="iofg",
                recurrent_activation=rec,
                cell_activation=act,
                reverse=reverse,
                h0=h0,
                c0=c0,
                name=cell_name,
                source=source,
                **peepholes,
            )

        infos.append(
            LayerInfo(
                name=cell_name,
                format=fmt,
                m=m,
                n=n,
                gate_order=ORDER_ONNX,
                biases="none" if B is None else "B = Wb + Rb (summed)",
                peepholes=("P (i, o, f)" if peep else "none" if P is None else "P (all zero)"),
                direction=("reverse (reads the sequence back to front)" if reverse else "forward")
                + (f"; layout={layout}" if layout else "")
                + (" (bidirectional node)" if dirs == 2 else ""),
                activations=f"{trio[0]} (gates), {trio[1]} (cell)",
                input=input_text,
                unsupported=tuple(unsupported),
                notes=tuple(notes) + (("initial_h/initial_c from the file",) if states else ()),
                aliases=(node_name,) if d == 0 and cell_name != node_name else (),
                upstream=upstream,
                build=build,
            )
        )
    return infos


def _catalog(path) -> tuple[OnnxModel, list[LayerInfo]]:
    model = OnnxModel(path)
    if not model.lstm_nodes:
        ops = sorted({node.op_type for node in model.model.graph.node})
        raise LstmvizError(
            f"no LSTM node in this ONNX model (it has {', '.join(ops[:12]) or 'no nodes'})",
            source=model.source,
        )
    return model, _layers(model)


DAMAGE = (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError)


def list_layers(path) -> list[LayerInfo]:
    try:
        return [without_build(info) for info in _catalog(path)[1]]
    except LstmvizError:
        raise
    except DAMAGE as error:
        raise LstmvizError(
            f"malformed ONNX model ({type(error).__name__}: {error})", source=str(path)
        ) from None


def read_model(path, layer: str | None = None) -> LSTMParams:
    try:
        model, layers = _catalog(path)
        return build_layer(layers, layer, model.source)
    except LstmvizError:
        raise
    except DAMAGE as error:
        raise LstmvizError(
            f"malformed ONNX model ({type(error).__name__}: {error})", source=str(path)
        ) from None
