"""ONNX models with LSTM nodes, read with lstmviz's own protobuf reader (no onnx package).

ONNX LSTM (https://onnx.ai/onnx/operators/onnx__LSTM.html), per direction d:
    W [dirs, 4n, m], R [dirs, 4n, n], B [dirs, 8n] = [Wb | Rb], P [dirs, 3n]
gate blocks in the order i, o, f, c; peepholes P in the order i, o, f (i and f look at
c_{t-1}, o at the new c_t); initial_h / initial_c [dirs, batch, n] (layout 0) or
[batch, dirs, n] (layout 1). direction forward | reverse | bidirectional; activations
(f, g, h) default (Sigmoid, Tanh, Tanh).

LSTM nodes are found in every subgraph (If branches, Loop and Scan bodies, nested) and
named by their path: `If_0/then_branch/LSTM_0` (a node without a name is `<op>_<k>`, the
k-th of its op in its graph). W, R, B, P, initial_h and initial_c must be computed from
constants only; lstmviz.io.onnx_fold folds the shape ops exporters put in between, reading
outer scopes' values from inside a subgraph. A tensor stored in external data is refused,
never read: lstmviz opens no file a model names. Two LSTM nodes joined by the reshaping
torch.onnx exports (Squeeze, or Transpose + Reshape for two directions) form a stack: the
upper one's `upstream` is the lower ones. The file is parsed in a child process
(lstmviz.io.isolated) on every path that opens it.
"""

from __future__ import annotations

import os

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io import isolated
from lstmviz.io.budget import Budget
from lstmviz.io.layers import ORDER_ONNX, LayerInfo, build_layer, without_build
from lstmviz.io.onnx_fold import NotConstant, Scope, attributes, text
from lstmviz.io.onnx_proto import ProtoError, parse_model
from lstmviz.io.paths import readable_file

DEFAULT_ACTIVATIONS = ("Sigmoid", "Tanh", "Tanh")


class OnnxModel:
    """An opened ONNX model: its LSTM nodes in every (sub)graph, each with its Scope."""

    def __init__(self, path):
        self.source = str(path)
        readable_file(path)
        self.budget = Budget(self.source)
        # The file is read once; tensors stay slices of it until folded (each counted then).
        self.budget.take(os.path.getsize(path), "the ONNX file's bytes")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
            self.model = parse_model(data, self.budget)
        except ProtoError as error:
            raise LstmvizError(f"not a readable ONNX model ({error})", source=self.source) from None
        except OSError as error:
            problem = error.strerror or error
            raise LstmvizError(f"cannot read the file ({problem})", source=self.source) from None
        self.opset = next(
            (o.version for o in self.model.opset_import if text(o.domain) in ("", "ai.onnx")), None
        )
        self.root = Scope(self.model.graph, self.budget, self.opset or 1)
        self.graph_inputs = self.root.inputs
        # (node, scope, name) of every LSTM node, in graph order, subgraphs after their node
        self.lstm_nodes: list = []
        self.node_names: dict[int, str] = {}
        self.scopes: dict[int, Scope] = {}
        self.all_ops: set[str] = set()
        self._walk(self.root, "", 0)
        taken: dict[str, int] = {}
        for node in self.lstm_nodes:
            name = self.node_names[id(node)]
            if name in taken:  # two nodes with one name: the second gets a number
                taken[name] += 1
                self.node_names[id(node)] = f"{name}#{taken[name]}"
            else:
                taken[name] = 0

    def _walk(self, scope: Scope, prefix: str, depth: int) -> None:
        if depth > 16:
            raise LstmvizError("subgraphs nested more than 16 deep", source=self.source)
        counts: dict[str, int] = {}
        for node in scope.graph.node:
            op = text(node.op_type)
            self.all_ops.add(op)
            index = counts.get(op, 0)
            counts[op] = index + 1
            label = text(node.name) or f"{op}_{index}"
            if op == "LSTM" and text(node.domain) in ("", "ai.onnx"):
                self.lstm_nodes.append(node)
                self.node_names[id(node)] = f"{prefix}{label.lstrip('/') if prefix else label}"
                self.scopes[id(node)] = scope
            for attr in node.attribute:
                graphs = [attr.g] if attr.type == attr.GRAPH else list(attr.graphs)
                for k, graph in enumerate(graphs):
                    part = text(attr.name) if len(graphs) == 1 else f"{text(attr.name)}_{k}"
                    path = f"{prefix}{label.strip('/') if prefix else label}/{part}"
                    self._walk(Scope(graph, self.budget, scope.opset, scope, path), f"{path}/", depth + 1)

    def scope_of(self, node) -> Scope:
        return self.scopes[id(node)]

    # -- constants ---------------------------------------------------------------------------
    def constant(self, name, scope: Scope | None = None) -> np.ndarray:
        return (scope or self.root).fold(text(name))

    @staticmethod
    def attributes(node) -> dict:
        return attributes(node)

    # -- stacking ----------------------------------------------------------------------------
    def feeder(self, node, layout: int):
        """(LSTM node whose Y feeds this node's X, problem); (None, why) when none does."""
        scope = self.scope_of(node)
        name = text(node.input[0])
        ops = []
        for _ in range(8):
            owner = scope.is_graph_input(name)
            if owner is not None:
                if owner.parent is None:
                    return None, ""
                return None, f"its X {name!r} is an input of subgraph {owner.path!r}, fed at run time"
            found = scope.producer(name)
            if found is None:
                return None, f"its X {name!r} is not produced by any node"
            producer, slot, _ = found
            op = text(producer.op_type)
            if op == "LSTM":
                if slot != 0:
                    return None, "its X is another LSTM's Y_h or Y_c, not a sequence"
                if id(producer) not in self.node_names:
                    return None, "its X is an LSTM's output lstmviz did not find"
                return producer, self._check_reshape(producer, ops, layout)
            if op not in ("Squeeze", "Reshape", "Transpose", "Identity"):
                return None, (
                    f"its X comes from a {op} node {text(producer.name)!r}, which "
                    "lstmviz does not run: supply that node's output"
                )
            if op != "Identity":
                ops.insert(0, producer)
            name = text(producer.input[0])
        return None, "its X could not be traced"

    def _check_reshape(self, producer, ops, layout: int) -> str | None:
        attrs = self.attributes(producer)
        scope = self.scope_of(producer)
        dirs = 2 if attrs.get("direction", "forward") == "bidirectional" else 1
        if attrs.get("layout", 0) != layout:
            return "the two LSTM nodes use different layouts"
        kinds = [text(op.op_type) for op in ops]
        dir_axis = 1 if layout == 0 else 2
        try:
            if dirs == 1 and kinds == ["Squeeze"]:
                axes = self.attributes(ops[0]).get("axes")
                if axes is None and len(ops[0].input) > 1 and ops[0].input[1]:
                    axes = [int(a) for a in np.ravel(self.constant(ops[0].input[1], scope))]
                if axes is not None and [a % 4 for a in axes] == [dir_axis]:
                    return None
            wanted = (["Transpose", "Reshape"] if layout == 0 else ["Reshape"]) if dirs == 2 else None
            # torch.onnx's dynamo exporter writes Transpose + Reshape for one direction too
            one_dir_transpose = dirs == 1 and layout == 0 and kinds == ["Transpose", "Reshape"]
            if kinds == ["Reshape"] and dirs == 1 or kinds == wanted or one_dir_transpose:
                if layout == 0 and kinds[0] == "Transpose":
                    perm = self.attributes(ops[0]).get("perm")
                    if list(perm or []) != [0, 2, 1, 3]:
                        return "the Transpose between the LSTM nodes is not the usual (0, 2, 1, 3)"
                shape = [int(v) for v in np.ravel(self.constant(ops[-1].input[1], scope))]
                if len(shape) == 3 and shape[2] in (-1, dirs * self.hidden(producer)):
                    return None
        except NotConstant:
            pass
        return "the reshaping between the LSTM nodes is not one lstmviz recognises"

    def hidden(self, node) -> int:
        try:
            return int(self.constant(node.input[2], self.scope_of(node)).shape[-1])
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


def _whole(lengths: np.ndarray) -> np.ndarray | None:
    """sequence_lens as int64, or None when it holds anything but whole numbers."""
    if lengths.dtype.kind in "iu":
        return lengths.astype(np.int64)
    if lengths.dtype.kind != "f" or not np.all(np.isfinite(lengths)) or np.any(lengths != np.round(lengths)) \
            or np.any(np.abs(lengths) > 2**62):
        return None
    return lengths.astype(np.int64)


def _sequence_lens_notes(model: OnnxModel, name: str, scope, problems: list[str]
                         ) -> tuple[list[str], int | None]:
    """What ONNX's sequence_lens means for the one sequence lstmviz runs (batch row 0), and
    the constant L to apply (LSTMParams.sequence_length), or None.

    ONNX reads rows 0..L-1 of X (a reverse direction reads them L-1 .. 0), writes zeros to
    Y after them, and Y_h / Y_c are the state after the last row it read: exactly what
    lstmviz computes on the first L rows, which is what it runs.
    """
    try:
        lengths = np.ravel(model.constant(name, scope))
    except NotConstant:
        owner = scope.is_graph_input(name)
        if owner is not None:
            where = "a graph input" if owner.parent is None else f"an input of subgraph {owner.path!r}"
            return [f"sequence_lens is {where}, given at run time (the length of the sequence fed): "
                    "lstmviz runs the whole sequence you give, so there is nothing to apply"], None
        found = scope.producer(name)
        maker = f" by {text(found[0].op_type)} node {text(found[0].name)!r}" if found else ""
        return [f"sequence_lens is computed at run time{maker}, so the rows ONNX runs depend on what it "
                "is fed (a mask, say); lstmviz runs every row you give: give only the rows ONNX runs"], None
    if not lengths.size:
        return [], None
    if _whole(lengths) is None:
        problems.append(f"sequence_lens {lengths[:8].tolist()} is not whole numbers of rows")
        return [], None
    lengths = _whole(lengths)
    L = int(lengths[0])
    if L < 1:
        problems.append(f"sequence_lens = {L} (batch row 0): ONNX runs no step of it")
        return [], None
    rows = f" (batch row 0 of {lengths.tolist()})" if np.any(lengths != L) else ""
    return [f"sequence_lens = {L}{rows}, a constant in the file: ONNX reads only the first {L} rows "
            f"of the sequence (zeros in Y after them); lstmviz runs only those {L} rows of a longer "
            "input"], L


def _lengths_below(model: OnnxModel, node, layout: int) -> list[str]:
    """A constant sequence_lens on an LSTM node below this one: ONNX feeds zeros past it."""
    notes = []
    feeder, problem = model.feeder(node, layout)
    for _ in range(64):  # a stack is never this deep; guards a malformed graph
        if feeder is None or problem:
            break
        name = text(feeder.input[4]) if len(feeder.input) > 4 else ""
        if name:
            try:
                lengths = _whole(np.ravel(model.constant(name, model.scope_of(feeder))))
            except NotConstant:
                lengths = None
            if lengths is not None and lengths.size:
                L = int(lengths[0])
                below = model.node_names[id(feeder)]
                notes.append(f"the LSTM node below, {below!r}, has sequence_lens = {L}: ONNX feeds this "
                             f"node zeros after row {L}; lstmviz runs the first {L} rows, where it "
                             "computes ONNX's Y")
        feeder, problem = model.feeder(feeder, layout)
    return notes


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
    scope = model.scope_of(node)
    inputs = [text(name) for name in node.input] + [""] * (8 - len(node.input))
    problems: list[str] = []
    notes: list[str] = []

    def unusable(reason: str) -> list[LayerInfo]:
        """A node lstmviz cannot read at all: listed by inspect, with the reason."""
        return [LayerInfo(name=node_name, format=fmt, m=-1, n=-1, gate_order=ORDER_ONNX, biases="?",
                          unsupported=(reason,))]

    try:
        W = model.constant(inputs[1], scope)
        R = model.constant(inputs[2], scope)
    except NotConstant as missing:
        return unusable(f"its weights are not constants in the file: {missing}")
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
            value = model.constant(name, scope)
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
            value = model.constant(name, scope)
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
    length = None
    if inputs[4]:
        found_notes, length = _sequence_lens_notes(model, inputs[4], scope, problems)
        notes.extend(found_notes)
    clip = attrs.get("clip")
    if clip is not None and not (np.isfinite(clip) and clip > 0):
        problems.append(f"clip={clip:g} is not a threshold above 0")
        clip = None
    input_forget = bool(attrs.get("input_forget", 0))
    if clip is not None:
        notes.append(f"clip={clip:g}: every gate's z is clipped to [-{clip:g}, {clip:g}] "
                     "before its activation")
    if input_forget:
        notes.append("input_forget=1: the forget gate is coupled to the input gate, f = 1 - i")
    activations = attrs.get("activations") or list(DEFAULT_ACTIVATIONS) * dirs
    alphas = attrs.get("activation_alpha") or []
    betas = attrs.get("activation_beta") or []
    if len(activations) != 3 * dirs:
        problems.append(f"activations lists {len(activations)} functions, expected {3 * dirs}")
        activations = list(DEFAULT_ACTIVATIONS) * dirs

    upstream, input_text = chain(node, layout)
    if upstream:
        notes.extend(_lengths_below(model, node, layout))
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
                clip=clip,
                input_forget=input_forget,
                sequence_length=length,
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
        ops = sorted(model.all_ops)
        raise LstmvizError(
            f"no LSTM node in this ONNX model (it has {', '.join(ops[:12]) or 'no nodes'})",
            source=model.source,
        )
    return model, _layers(model)


DAMAGE = (KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError, RecursionError)


def list_layers_here(path) -> list[LayerInfo]:
    """list_layers in this process (the isolated child calls this)."""
    try:
        return [without_build(info) for info in _catalog(path)[1]]
    except LstmvizError:
        raise
    except DAMAGE as error:
        raise LstmvizError(
            f"malformed ONNX model ({type(error).__name__}: {text(str(error))})", source=str(path)
        ) from None


def read_model_here(path, layer: str | None = None) -> LSTMParams:
    """read_model in this process (the isolated child calls this)."""
    try:
        model, layers = _catalog(path)
        return build_layer(layers, layer, model.source)
    except LstmvizError:
        raise
    except DAMAGE as error:
        raise LstmvizError(
            f"malformed ONNX model ({type(error).__name__}: {text(str(error))})", source=str(path)
        ) from None


def _precheck(path) -> None:
    readable_file(path)


def list_layers(path) -> list[LayerInfo]:
    """Every LSTM node of the model, described; parsed in a child process (protobuf is C)."""
    if isolated.in_child():
        return list_layers_here(path)
    _precheck(path)
    return isolated.inspect_model_isolated(path, loader="lstmviz.io.onnx_io:list_layers_here")


def read_model(path, layer: str | None = None) -> LSTMParams:
    """One LSTM cell of the model; parsed in a child process (protobuf is C)."""
    if isolated.in_child():
        return read_model_here(path, layer)
    _precheck(path)
    return isolated.load_model_isolated(path, layer, loader="lstmviz.io.onnx_io:read_model_here")
