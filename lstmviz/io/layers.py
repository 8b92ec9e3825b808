"""What every model reader reports: the LSTM layers a file holds, and how to build each.

A reader turns a file into a list of LayerInfo (for `lstmviz inspect` and the window's layer
chooser) and builds the LSTMParams of the one asked for with `--layer`. Layers of a stack
refer to the layers that feed them by name; build_layer() turns those into `upstream`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError

# The gate orders of the frameworks, as the source stores its stacked blocks.
ORDER_TORCH = "i, f, g, o (PyTorch)"
ORDER_KERAS = "i, f, c, o (Keras; c is lstmviz's g)"
ORDER_ONNX = "i, o, f, c (ONNX; c is lstmviz's g)"


@dataclass
class LayerInfo:
    """One LSTM cell (one layer, one direction) found in a model file."""

    name: str  # what --layer takes
    format: str  # e.g. "PyTorch state_dict (.pt zip)"
    m: int
    n: int
    gate_order: str  # the order the file stores the gate blocks in
    biases: str  # which bias arrays, e.g. "bias_ih_l0 + bias_hh_l0 (summed)"
    peepholes: str = "none"
    direction: str = "forward"
    activations: str = "sigmoid (gates), tanh (cell)"
    input: str = "the sequence you supply"
    unsupported: tuple[str, ...] = ()  # why it cannot be loaded; empty when it can
    notes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # other names --layer accepts for it
    upstream: tuple[tuple[str, ...], ...] = ()  # names of the layers that feed this one
    build: Callable[[], LSTMParams] | None = field(default=None, repr=False, compare=False)

    @property
    def loadable(self) -> bool:
        return not self.unsupported

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "format": self.format,
            "m": self.m,
            "n": self.n,
            "gate_order": self.gate_order,
            "biases": self.biases,
            "peepholes": self.peepholes,
            "direction": self.direction,
            "activations": self.activations,
            "input": self.input,
            "unsupported": list(self.unsupported),
            "notes": list(self.notes),
            "aliases": list(self.aliases),
            "upstream": [list(d) for d in self.upstream],
        }


def without_build(info: LayerInfo) -> LayerInfo:
    """The same description, detached from the open file its builder reads."""
    return dataclasses.replace(info, build=None)


def require(module: str, extra: str, what: str, source: str):
    """Import an optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise LstmvizError(
            f"reading {what} needs the Python package {module!r}: pip install 'lstmviz[{extra}]'",
            source=source,
        ) from None


def layer_names(layers: list[LayerInfo]) -> str:
    return ", ".join(layer.name for layer in layers)


def find_layer(layers: list[LayerInfo], layer: str | None, source: str) -> LayerInfo:
    """The layer --layer names (a name, an alias or an index), or the first one."""
    if not layers:
        raise LstmvizError("no LSTM layer found in this model", source=source)
    if layer is None or layer == "":
        return layers[0]
    key = str(layer)
    for info in layers:
        if info.name == key:
            return info
    for info in layers:
        if key in info.aliases:
            return info
    if key.isdigit() and int(key) < len(layers):
        return layers[int(key)]
    raise LstmvizError(f"has no LSTM layer {key!r} (its layers: {layer_names(layers)})", source=source)


def build_layer(layers: list[LayerInfo], layer: str | None, source: str) -> LSTMParams:
    """The LSTMParams of one layer, with the layers that feed it as `upstream`."""
    info = find_layer(layers, layer, source)
    by_name = {item.name: item for item in layers}

    def params_of(item: LayerInfo) -> LSTMParams:
        if item.unsupported:
            raise LstmvizError(
                f"layer {item.name!r} cannot be shown: {'; '.join(item.unsupported)}", source=source
            )
        if item.build is None:
            raise LstmvizError(f"layer {item.name!r} has no weights to load", source=source)
        try:
            return item.build()
        except LstmvizError as error:
            raise error.with_source(source) from None

    params = params_of(info)
    upstream = tuple(tuple(params_of(by_name[name]) for name in directions) for directions in info.upstream)
    notes = tuple(params.notes) + tuple(info.notes)
    return params.replace(upstream=upstream, name=info.name, source=source, notes=notes)
