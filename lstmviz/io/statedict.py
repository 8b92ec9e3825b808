"""PyTorch state_dict naming, shared by the .pt and the safetensors readers.

nn.LSTM stores, per layer k and direction (suffix '' or '_reverse'):
    weight_ih_l{k} (4n, m), weight_hh_l{k} (4n, n), bias_ih_l{k} (4n), bias_hh_l{k} (4n)
with the gate blocks in the order i, f, g, o; the two biases are summed. With proj_size > 0
there is also weight_hr_l{k} (p, n) and weight_hh is (4n, p). Layer k > 0 reads layer k-1's
h (both directions concatenated, forward first). nn.LSTMCell stores the same four arrays
without the _l{k} suffix. Keys carry the module path: 'encoder.lstm.weight_ih_l0'.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.layers import ORDER_TORCH, LayerInfo

LSTM_KEY = re.compile(
    r"^(?P<prefix>(?:.*\.)?)(?P<kind>weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)"
    r"(?:_l(?P<k>\d+)(?P<rev>_reverse)?)?$"
)
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
# the keys checkpoint dicts keep the state_dict under (Lightning, the ImageNet example, ...)
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model_state", "net", "model")


@dataclass
class TensorRef:
    """A tensor in a file: its shape and dtype known, its values read on demand."""

    shape: tuple[int, ...]
    dtype: str  # numpy-style name ('float32', 'bfloat16', 'int64', ...)
    load: Callable[[], np.ndarray]


def _module_name(prefix: str) -> str:
    return prefix[:-1] if prefix.endswith(".") else prefix


def _layer_name(module: str, k: int | None, reverse: bool) -> str:
    if k is None:  # nn.LSTMCell
        return module or "cell"
    own = f"l{k}{'_reverse' if reverse else ''}"
    return f"{module}.{own}" if module else own


def layers_from_state_dict(
    tensors: dict[str, TensorRef],
    fmt: str,
    source: str,
    module_notes: dict[str, tuple[str, ...]] | None = None,
) -> list[LayerInfo]:
    """Every nn.LSTM layer/direction (and nn.LSTMCell) whose arrays are in `tensors`.

    module_notes: notes per module name ('encoder.lstm'), e.g. the attributes a pickled
    nn.LSTM object carries; added to each of that module's layers."""
    groups: dict[tuple[str, int | None, bool], dict[str, str]] = {}
    for key in tensors:
        match = LSTM_KEY.match(key)
        if not match:
            continue
        k = None if match["k"] is None else int(match["k"])
        group = groups.setdefault((match["prefix"], k, bool(match["rev"])), {})
        group[match["kind"]] = key

    candidates = {}
    for (prefix, k, reverse), keys in groups.items():
        if "weight_ih" not in keys or "weight_hh" not in keys:
            continue
        w_ih, w_hh = tensors[keys["weight_ih"]], tensors[keys["weight_hh"]]
        if len(w_ih.shape) != 2 or len(w_hh.shape) != 2 or w_hh.shape[0] % 4:
            continue
        n = w_hh.shape[0] // 4
        if w_ih.shape[0] != 4 * n:
            continue
        if "weight_hr" in keys:
            w_hr = tensors[keys["weight_hr"]]
            if len(w_hr.shape) != 2 or w_hr.shape[1] != n or w_hh.shape[1] != w_hr.shape[0]:
                continue
        elif w_hh.shape[1] != n:
            continue  # a GRU (3n rows) or an RNN never gets here; this is something else
        candidates[(prefix, k, reverse)] = keys

    # Modules in file order; within a module, layer by layer, forward before reverse.
    module_order: list[str] = []
    for key in tensors:
        match = LSTM_KEY.match(key)
        if match and any(c[0] == match["prefix"] for c in candidates) and match["prefix"] not in module_order:
            module_order.append(match["prefix"])

    layers: list[LayerInfo] = []
    for prefix in module_order:
        module = _module_name(prefix)
        entries = sorted(
            (c for c in candidates if c[0] == prefix), key=lambda c: (-1 if c[1] is None else c[1], c[2])
        )
        directions_of = {}
        for _, k, reverse in entries:
            directions_of.setdefault(k, []).append(reverse)
        for _, k, reverse in entries:
            keys = candidates[(prefix, k, reverse)]
            info = _layer_info(
                tensors, keys, module, k, reverse, directions_of, candidates, prefix, fmt, source
            )
            extra = (module_notes or {}).get(module, ())
            if extra:
                info = dataclasses.replace(info, notes=tuple(extra) + info.notes)
            layers.append(info)
    return layers


def _describe(keys: dict[str, str], kind: str) -> str:
    return keys[kind].rsplit(".", 1)[-1]


def _layer_info(tensors, keys, module, k, reverse, directions_of, candidates, prefix, fmt, source):
    w_ih, w_hh = tensors[keys["weight_ih"]], tensors[keys["weight_hh"]]
    n, m = w_hh.shape[0] // 4, w_ih.shape[1]
    name = _layer_name(module, k, reverse)
    unsupported: list[str] = []
    notes: list[str] = []
    aliases: list[str] = []
    if k == 0 and not reverse and module:
        aliases.append(module)
    for wrapper in CHECKPOINT_KEYS:  # 'state_dict.model.rnn.l0' is also 'model.rnn.l0'
        if module.startswith(wrapper + "."):
            short = module[len(wrapper) + 1 :]
            aliases.append(_layer_name(short, k, reverse))
            if k == 0 and not reverse:
                aliases.append(short)

    biases = [kind for kind in ("bias_ih", "bias_hh") if kind in keys]
    for kind in biases:
        if tensors[keys[kind]].shape != (4 * n,):
            unsupported.append(
                f"{_describe(keys, kind)} has shape {tensors[keys[kind]].shape}, expected ({4 * n},)"
            )
    bias_text = " + ".join(_describe(keys, kind) for kind in biases)
    bias_text = f"{bias_text} (summed)" if len(biases) == 2 else (bias_text or "none (bias=False)")

    projection = "weight_hr" in keys
    if projection:
        p = tensors[keys["weight_hr"]].shape[0]
        notes.append(
            f"proj_size = {p} ({_describe(keys, 'weight_hr')}): h_t = W_hr (o_t * tanh(c_t)) "
            f"has {p} entries, c has {n}"
        )
    for kind in ("weight_ih", "weight_hh", *biases, *(("weight_hr",) if projection else ())):
        ref = tensors[keys[kind]]
        if ref.dtype not in FLOAT_DTYPES:
            unsupported.append(f"{_describe(keys, kind)} has dtype {ref.dtype}, expected floats")

    if k is None:
        direction = "forward (nn.LSTMCell)"
    elif reverse:
        direction = (
            f"reverse (the backward half of bidirectional layer {k}: reads the sequence back to front)"
        )
    else:
        direction = "forward"
    upstream: tuple[tuple[str, ...], ...] = ()
    input_text = "the sequence you supply"
    if k:
        below = []
        for j in range(k):
            dirs = directions_of.get(j)
            if not dirs:
                below = None
                break
            below.append(tuple(_layer_name(module, j, r) for r in sorted(dirs)))
        expected_m = None
        if below:
            prev = candidates[(prefix, k - 1, False)] if (prefix, k - 1, False) in candidates else None
            if prev is not None:
                out = (
                    tensors[prev["weight_hr"]].shape[0]
                    if "weight_hr" in prev
                    else tensors[prev["weight_hh"]].shape[0] // 4
                )
                expected_m = out * len(below[-1])
        if below and expected_m == m:
            upstream = tuple(below)
            input_text = (
                f"the h of layer {' + '.join(below[-1])} (lstmviz runs layers 0..{k - 1} "
                "on your sequence first)"
            )
        else:
            notes.append(
                f"layer {k}'s lower layers are missing or do not fit; it reads your sequence directly"
            )
            input_text = "the sequence you supply (lower layers not found)"
    if module and k is not None and k == 0:
        notes.append(
            f"the input of nn.LSTM {module!r} comes from the rest of the model, which lstmviz "
            "does not run: supply the sequence that module receives"
        )

    def build() -> LSTMParams:
        W = _load(tensors, keys, "weight_ih", source)
        U = _load(tensors, keys, "weight_hh", source)
        b = np.zeros(4 * n)
        for kind in biases:
            b = b + _load(tensors, keys, kind, source)
        if not projection:
            return LSTMParams.from_stacked(W, U, b, order="ifgo", reverse=reverse, name=name, source=source)
        W_hr = _load(tensors, keys, "weight_hr", source)
        return LSTMParams.from_stacked(
            W, U, b, order="ifgo", W_hr=W_hr, reverse=reverse, name=name, source=source
        )

    return LayerInfo(
        name=name,
        format=fmt,
        m=m,
        n=n,
        gate_order=ORDER_TORCH,
        biases=bias_text,
        direction=direction,
        input=input_text,
        unsupported=tuple(unsupported),
        notes=tuple(notes),
        aliases=tuple(aliases),
        upstream=upstream,
        build=build,
    )


def _load(tensors, keys, kind, source) -> np.ndarray:
    key = keys[kind]
    array = tensors[key].load()
    if array.dtype.kind != "f":
        raise LstmvizError(f"{key} has dtype {array.dtype}, expected floats", source=source)
    return np.asarray(array, dtype=np.float64)
