"""Keras LSTMs: Keras 3 .keras and .weights.h5, Keras 2 (and Keras 3 legacy) .h5.

Read with h5py and zipfile only: neither keras nor tensorflow is needed, and keras' own
loader is never called. Configs are parsed as plain JSON. Keras stores, per LSTM cell,
    kernel (m, 4n), recurrent_kernel (n, 4n), bias (4n,)      gate blocks i, f, c, o
(transposed relative to PyTorch). Where the file holds the model config, `activation` and
`recurrent_activation` come from it. hard_sigmoid differs by version: Keras 1/2 compute
clip(0.2 x + 0.5, 0, 1), Keras 3 computes relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1).

Layouts:
- Keras 3 (.keras zip = config.json + model.weights.h5; .weights.h5 alone):
  layers/<snake_case class name, numbered per class>/cell/vars/{0,1,2}; Bidirectional keeps
  forward_layer/ and backward_layer/; every object's vars group has attrs name = layer name.
- Keras 1/2 legacy .h5 (model.save / save_weights): model_weights/ (or the root for a
  weights-only file) with attrs layer_names; each layer group has attrs weight_names
  ('lstm/lstm_cell/kernel:0' ...) naming datasets inside it; the root attrs model_config is
  the model's JSON and keras_version the version that wrote it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import io
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io import isolated
from lstmviz.io.budget import Budget
from lstmviz.io.layers import ORDER_KERAS, LayerInfo, build_layer, require, without_build
from lstmviz.io.paths import readable_file, suffix_of
from lstmviz.io.zipsafe import SafeZip, is_zip, name_matcher

MAX_CONFIG = 32 << 20
MAX_WEIGHTS = 2 << 30
PASS_THROUGH = {
    "Dropout",
    "SpatialDropout1D",
    "GaussianDropout",
    "GaussianNoise",
    "AlphaDropout",
    "ActivityRegularization",
    "Identity",
}
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
DEFAULT_ACTIVATIONS = ("tanh", "sigmoid")
# What a weights-only file cannot say, and the command-line options that supply it.
FACTS = {
    "recurrent_activation": "--recurrent-activation",
    "activation": "--activation",
    "go_backwards": "--go-backwards",
    "mask_value": "--mask-value",
}
FACT_ACTIVATIONS = ("sigmoid", "tanh", "hard_sigmoid", "relu", "linear")


def _to_snake_case(name: str) -> str:
    # keras.src.utils.naming.to_snake_case: how Keras 3 names a layer's group in weights.h5
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _text(value[()])
    return str(value)


def _version(version: str | None) -> tuple[int, int]:
    """(major, minor) of a Keras version string; unknown counts as new."""
    match = re.match(r"\s*(\d+)(?:\.(\d+))?", version or "")
    if not match:
        return (99, 0)
    return (int(match.group(1)), int(match.group(2) or 0))


def _major(version: str | None) -> int | None:
    match = re.match(r"\s*(\d+)", version or "")
    return int(match.group(1)) if match else None


@dataclass
class _Cell:
    """One direction of one Keras LSTM: where its three arrays are, and its config."""

    name: str
    kernel: Any  # h5py dataset
    recurrent: Any
    bias: Any | None
    config: dict | None
    reverse: bool = False
    where: str = ""


@dataclass
class _KLayer:
    name: str
    cls: str
    cells: list[_Cell]
    config: dict | None = None
    inbound: str | None = None  # name of the layer feeding it; "" = the model input; None = unknown
    inbound_index: int = 0
    notes: list[str] = field(default_factory=list)


class KerasModel:
    """An opened Keras file: its LSTM layers, with h5 datasets read on demand."""

    def __init__(self, path, facts: dict | None = None):
        self.source = str(path)
        readable_file(path)
        self.facts = dict(facts or {})
        self.budget = Budget(self.source)
        self.h5py = require("h5py", "keras", "Keras files", self.source)
        self._files: list = []
        self.keras_version: str | None = None
        self.config: dict | None = None
        self.graph: dict[str, tuple[str, str | None, int]] = {}  # name -> (class, inbound, index)
        self.mask_values: dict[str, float] = {}  # Masking layer name -> its mask_value
        suffix = suffix_of(path)
        try:
            if suffix == ".keras" or is_zip(path):  # by content: a .keras zip under any name
                self._open_keras_zip(path)
            else:
                self._open_h5(path, suffix)
        except LstmvizError:
            self.close()
            raise
        except (
            OSError,
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            IndexError,
            RuntimeError,
            UnicodeDecodeError,
            json.JSONDecodeError,
        ) as error:
            self.close()
            raise LstmvizError(
                f"damaged Keras file ({type(error).__name__}: {error})", source=self.source
            ) from None

    # -- opening --------------------------------------------------------------------------
    def _h5(self, target):
        try:
            handle = self.h5py.File(target, "r")
        except (OSError, ValueError) as error:
            raise LstmvizError(f"not a readable HDF5 file ({error})", source=self.source) from None
        self._files.append(handle)
        return handle

    def _open_keras_zip(self, path) -> None:
        allowed = name_matcher(r"config\.json", r"metadata\.json", r"model\.weights\.h5")
        with SafeZip(path, kind="Keras .keras file", allowed=allowed, max_member=MAX_WEIGHTS) as archive:
            names = archive.names()
            if "config.json" not in names:
                raise LstmvizError("not a Keras 3 .keras file: no config.json in the zip", source=self.source)
            if "model.weights.h5" not in names:
                other = [n for n in names if n.startswith("model.weights")]
                detail = f" (it has {', '.join(other)}, which lstmviz does not read)" if other else ""
                raise LstmvizError(f"no model.weights.h5 in the .keras zip{detail}", source=self.source)
            self.config = self._json(archive.read("config.json", max_bytes=MAX_CONFIG), "config.json")
            if "metadata.json" in names:
                meta = self._json(archive.read("metadata.json", max_bytes=1 << 20), "metadata.json")
                if isinstance(meta, dict):
                    self.keras_version = str(meta.get("keras_version", "")) or None
            self.budget.take(archive.size("model.weights.h5"), "the .keras file's model.weights.h5")
            weights = archive.read("model.weights.h5")
        self.format = f"Keras {self.keras_version or '3'} .keras (config.json + model.weights.h5)"
        root = self._h5(io.BytesIO(weights))
        self.keras_version = self.keras_version or "3"
        self.layers = self._keras3_layers(root)

    def _json(self, data: bytes, what: str):
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise LstmvizError(
                f"damaged Keras file: {what} is not JSON ({error})", source=self.source
            ) from None

    def _open_h5(self, path, suffix) -> None:
        root = self._h5(path)
        if "layer_names" in root.attrs or "model_weights" in root or "layer_names0" in root.attrs:
            version = root.attrs.get("keras_version")
            self.keras_version = _text(version) if version is not None else "1"
            config = root.attrs.get("model_config")
            if config is not None:
                self.config = self._json(
                    config if isinstance(config, bytes) else _text(config).encode(), "model_config"
                )
            whole = "model_weights" in root
            self.format = (
                f"Keras {self.keras_version} HDF5 "
                f"({'whole model, model.save' if whole else 'weights only, save_weights'})"
            )
            group = self.get(root, "model_weights") if whole else root
            self.layers = self._legacy_layers(group)
        elif "layers" in root or "vars" in root:
            self.keras_version = "3"
            self.format = "Keras 3 .weights.h5 (weights only, no config)"
            self.layers = self._keras3_layers(root)
        else:
            raise LstmvizError(
                "not a Keras weights file (no layer_names, model_weights or layers in it)", source=self.source
            )

    def close(self) -> None:
        for handle in self._files:
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - closing a damaged file must not mask the real error
                pass
        self._files = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def get(self, group, path: str):
        """group[path], following only links inside this file (never an external link)."""
        for part in path.split("/"):
            if group is None or not hasattr(group, "get") or not part:
                return None
            link = group.get(part, getlink=True)
            if link is None:
                return None
            if isinstance(link, self.h5py.ExternalLink):
                raise LstmvizError(
                    f"refused: {group.name}/{part} links to another file ({link.filename!r}); "
                    "lstmviz reads only what is inside the model file",
                    source=self.source,
                )
            group = group.get(part)
        return group

    # -- Keras 3 layout -------------------------------------------------------------------
    def _keras3_layers(self, root) -> list[_KLayer]:
        found: list[_KLayer] = []
        if isinstance(self.config, dict):
            self._walk_k3_model(self.config, root, "", found)
        if not found:
            found = self._scan_k3(root, "")
        return found

    def _layer_configs(self, model_config: dict) -> list[dict] | None:
        inner = model_config.get("config")
        if isinstance(inner, list):  # Keras 2.0/2.1 Sequential: a bare list of layers
            return [c for c in inner if isinstance(c, dict)]
        if isinstance(inner, dict) and isinstance(inner.get("layers"), list):
            return [c for c in inner["layers"] if isinstance(c, dict)]
        return None

    def _walk_k3_model(self, model_config: dict, group, scope: str, found: list[_KLayer]) -> None:
        layer_configs = self._layer_configs(model_config)
        if layer_configs is None or group is None:
            return
        cls = model_config.get("class_name")
        container = self.get(group, "layers")
        used: dict[str, int] = {}
        self._add_graph(model_config, layer_configs, scope)
        for layer_config in layer_configs:
            lcls = str(layer_config.get("class_name"))
            if cls == "Sequential" and lcls == "InputLayer":
                continue
            key = _to_snake_case(lcls)
            if key in used:
                used[key] += 1
                key = f"{key}_{used[key]}"
            else:
                used[key] = 0
            name = self._config_name(layer_config)
            lgroup = self.get(container, key)
            lgroup = self._check_vars_name(container, lgroup, name)
            if lgroup is None:
                continue
            full = f"{scope}{name}"
            if lcls in MODEL_CLASSES:
                self._walk_k3_model(layer_config, lgroup, f"{full}/", found)
            elif lcls in ("LSTM", "RNN", "Bidirectional"):
                layer = self._k3_layer(layer_config, lgroup, full)
                if layer is not None:
                    found.append(layer)
            else:
                found.extend(self._scan_k3(lgroup, f"{full}/"))

    def _check_vars_name(self, container, lgroup, name):
        """The group whose vars carry this layer's name, when the file records names."""

        def recorded(g):
            try:
                return _text(self.get(g, "vars").attrs["name"])
            except (KeyError, TypeError, AttributeError):
                return None

        if lgroup is not None and recorded(lgroup) in (None, name):
            return lgroup
        if container is not None:
            for key in container:
                if recorded(self.get(container, key)) == name:
                    return self.get(container, key)
        return lgroup if lgroup is not None and recorded(lgroup) is None else None

    @staticmethod
    def _config_name(layer_config: dict) -> str:
        inner = layer_config.get("config") if isinstance(layer_config.get("config"), dict) else {}
        return str(inner.get("name") or layer_config.get("name") or "?")

    def _k3_cell(self, group, name: str, config: dict | None, where: str) -> _Cell | None:
        try:
            variables = self.get(group, "cell/vars")
        except (KeyError, TypeError):
            return None
        if variables is None or not hasattr(variables, "keys"):
            return None
        arrays = [self.get(variables, k) for k in ("0", "1", "2") if k in variables]
        if len(arrays) < 2:
            return None
        cell = _Cell(
            name,
            arrays[0],
            arrays[1],
            arrays[2] if len(arrays) > 2 else None,
            config,
            where=f"{where}/cell/vars",
        )
        if config is not None and not _lstm_shapes(cell):
            shapes = ", ".join(str(getattr(a, "shape", "?")) for a in arrays)
            raise LstmvizError(
                f"the weights of LSTM {name!r} have shapes {shapes}, which do not fit an "
                "LSTM (kernel (m, 4n), recurrent_kernel (n, 4n), bias (4n,))",
                source=self.source,
            )
        return cell

    def _k3_layer(self, layer_config: dict, group, full: str) -> _KLayer | None:
        cls = str(layer_config.get("class_name"))
        config = layer_config.get("config") if isinstance(layer_config.get("config"), dict) else {}
        if cls == "Bidirectional":
            inner = config.get("layer") if isinstance(config.get("layer"), dict) else {}
            fcfg = self._lstm_config(inner)
            back = config.get("backward_layer") if isinstance(config.get("backward_layer"), dict) else None
            bcfg = self._lstm_config(back) if back else None
            if fcfg is None:
                return None
            if bcfg is None:
                bcfg = dict(fcfg, go_backwards=not fcfg.get("go_backwards", False))
            cells = []
            for side, cfg, default_reverse in (("forward", fcfg, False), ("backward", bcfg, True)):
                sub = self.get(group, f"{side}_layer")
                cell = (
                    self._k3_cell(sub, f"{full}/{side}", cfg, f"{group.name}/{side}_layer") if sub else None
                )
                if cell is None:
                    return None
                cell.reverse = bool(cfg.get("go_backwards", default_reverse))
                cells.append(cell)
            layer = _KLayer(full, cls, cells, config)
        else:
            cfg = self._lstm_config(layer_config)
            if cfg is None:
                return None
            cell = self._k3_cell(group, full, cfg, group.name)
            if cell is None:
                return None
            cell.reverse = bool(cfg.get("go_backwards", False))
            layer = _KLayer(full, cls, [cell], config)
        return layer

    def _lstm_config(self, layer_config: dict | None) -> dict | None:
        """The LSTM settings of an LSTM, or of an RNN wrapping one LSTMCell; None otherwise."""
        if not isinstance(layer_config, dict):
            return None
        cls = layer_config.get("class_name")
        config = layer_config.get("config") if isinstance(layer_config.get("config"), dict) else {}
        if cls in ("LSTM", "CuDNNLSTM"):
            return dict(config, _class=cls)
        if cls == "RNN":
            cell = config.get("cell")
            if isinstance(cell, dict) and cell.get("class_name") == "LSTMCell":
                cell_config = cell.get("config") if isinstance(cell.get("config"), dict) else {}
                merged = dict(cell_config)
                for key in ("go_backwards", "return_sequences", "stateful"):
                    merged[key] = config.get(key, False)
                merged["_class"] = "RNN(LSTMCell)"
                return merged
        return None

    def _scan_k3(self, group, scope: str) -> list[_KLayer]:
        """LSTM-shaped cells anywhere below `group` (no config to say what they are)."""
        found: list[_KLayer] = []

        def visit(g, path: str, depth: int) -> None:
            if depth > 12 or not hasattr(g, "keys"):
                return
            cell = self._k3_cell(g, "", None, g.name)
            if cell is not None and _lstm_shapes(cell):
                try:
                    label = _text(self.get(g, "vars").attrs["name"])
                except (KeyError, TypeError, AttributeError):
                    label = path.rsplit("/", 1)[-1] or "lstm"
                if path.endswith("forward_layer") or path.endswith("backward_layer"):
                    label = f"{path.rsplit('/', 2)[-2]}/{path.rsplit('/', 1)[-1][:-6]}"
                    cell.reverse = path.endswith("backward_layer")
                cell.name = f"{scope}{label}"
                found.append(_KLayer(cell.name, "LSTM", [cell], None))
                return
            for key in sorted(g.keys(), key=lambda k: _natural(k.replace("backward_layer", "~"))):
                if key in ("vars",):
                    continue
                visit(self.get(g, key), f"{path}/{key}" if path else key, depth + 1)

        visit(group, "", 0)
        return found

    # -- legacy (Keras 1/2, Keras 3 .h5) layout ----------------------------------------------
    def _attr_list(self, group, name: str) -> list[str]:
        if name in group.attrs:
            return [_text(v) for v in np.atleast_1d(group.attrs[name])]
        out, chunk = [], 0
        while f"{name}{chunk}" in group.attrs:
            out.extend(_text(v) for v in np.atleast_1d(group.attrs[f"{name}{chunk}"]))
            chunk += 1
        return out

    def _legacy_layers(self, root) -> list[_KLayer]:
        configs: dict[str, dict] = {}
        if isinstance(self.config, dict):
            layer_configs = self._layer_configs(self.config) or []
            self._add_graph(self.config, layer_configs, "")
            for layer_config in layer_configs:
                configs[self._config_name(layer_config)] = layer_config
        found: list[_KLayer] = []
        for lname in self._attr_list(root, "layer_names"):
            if lname not in root:
                continue
            group = self.get(root, lname)
            weight_names = self._attr_list(group, "weight_names")
            cells = self._legacy_cells(group, weight_names)
            if not cells:
                continue
            layer_config = configs.get(lname)
            cls = str(layer_config.get("class_name")) if layer_config else None
            if cls == "Bidirectional" and len(cells) == 2:
                config = layer_config.get("config") or {}
                fcfg = self._lstm_config(config.get("layer"))
                bcfg = (
                    self._lstm_config(config.get("backward_layer")) if config.get("backward_layer") else None
                )
                if fcfg is not None and bcfg is None:
                    bcfg = dict(fcfg, go_backwards=not fcfg.get("go_backwards", False))
                if fcfg is not None:
                    for cell, cfg, side in zip(cells, (fcfg, bcfg), ("forward", "backward")):
                        cell.config, cell.name = cfg, f"{lname}/{side}"
                        cell.reverse = bool(cfg.get("go_backwards", side == "backward"))
                    found.append(_KLayer(lname, cls, cells, config))
                    continue
            if cls in ("LSTM", "RNN", "CuDNNLSTM") and len(cells) == 1:
                cfg = self._lstm_config(layer_config)
                if cfg is not None:
                    cells[0].config, cells[0].name = cfg, lname
                    cells[0].reverse = bool(cfg.get("go_backwards", False))
                    found.append(_KLayer(lname, cls, cells, layer_config.get("config")))
                    continue
            # No config for it (a weights-only file, or a nested model): name cells by path.
            for index, cell in enumerate(cells):
                parent = cell.name  # the weight names' folder, e.g. 'bidirectional/backward_lstm/lstm_cell_2'
                if len(cells) == 1:
                    cell.name = lname
                elif "backward" in parent:
                    cell.name, cell.reverse = f"{lname}/backward", True
                elif "forward" in parent:
                    cell.name = f"{lname}/forward"
                else:
                    cell.name = f"{lname}/{index}"
                found.append(_KLayer(cell.name, "LSTM", [cell], None))
        return found

    def _legacy_cells(self, group, weight_names: list[str]) -> list[_Cell]:
        by_parent: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for wname in weight_names:
            if re.search(r"_[WUb]_[ifco](:\d+)?$", wname):
                raise LstmvizError(
                    f"{group.name} holds Keras 1 LSTM weights (W_i, U_i, b_i, ...), which lstmviz does not "
                    "read; load the model in Keras 2 and save it again",
                    source=self.source,
                )
            parent, _, leaf = wname.rpartition("/")
            leaf = leaf.split(":")[0]
            if leaf not in ("kernel", "recurrent_kernel", "bias"):
                continue
            if wname not in group:
                raise LstmvizError(
                    f"damaged Keras file: {group.name}/{wname} is listed but missing", source=self.source
                )
            if parent not in by_parent:
                by_parent[parent] = {}
                order.append(parent)
            by_parent[parent][leaf] = self.get(group, wname)
        cells = []
        for parent in order:
            arrays = by_parent[parent]
            if "kernel" in arrays and "recurrent_kernel" in arrays:
                cell = _Cell(
                    parent,
                    arrays["kernel"],
                    arrays["recurrent_kernel"],
                    arrays.get("bias"),
                    None,
                    where=f"{group.name}/{parent}/kernel",
                )
                if _lstm_shapes(cell, allow_cudnn=True):
                    cells.append(cell)
        return cells

    # -- the model graph: who feeds whom -------------------------------------------------------
    def _add_graph(self, model_config: dict, layer_configs: list[dict], scope: str) -> None:
        sequential = model_config.get("class_name") == "Sequential" or isinstance(
            model_config.get("config"), list
        )
        previous = ""
        for layer_config in layer_configs:
            name = f"{scope}{self._config_name(layer_config)}"
            cls = str(layer_config.get("class_name"))
            if cls == "Masking":
                inner = layer_config.get("config") if isinstance(layer_config.get("config"), dict) else {}
                value = inner.get("mask_value", 0.0)
                if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                    raise LstmvizError(f"Masking layer {name!r} has mask_value {value!r}, not a number",
                                       source=self.source)
                self.mask_values[name] = float(value)
            if sequential:
                if cls == "InputLayer":
                    previous = ""
                    continue
                self.graph[name] = (cls, previous if scope == "" else None, 0)
                previous = name
                continue
            inbound, index = self._inbound(layer_config)
            if cls == "InputLayer":
                self.graph[name] = (cls, "", 0)
            else:
                full = None if inbound is None else f"{scope}{inbound}"
                self.graph[name] = (cls, full if scope == "" else None, index)

    @staticmethod
    def _inbound(layer_config: dict) -> tuple[str | None, int]:
        nodes = layer_config.get("inbound_nodes")
        if not isinstance(nodes, list) or len(nodes) != 1:
            return None, 0
        node = nodes[0]
        try:
            if isinstance(node, dict):  # Keras 3: {"args": [keras_tensor, ...], "kwargs": {...}}
                arg = node["args"][0]
                history = arg["config"]["keras_history"]
                return str(history[0]), int(history[2])
            if isinstance(node, list):  # Keras 2: [[name, node_index, tensor_index, kwargs], ...]
                if len(node) != 1:
                    return None, 0
                return str(node[0][0]), int(node[0][2])
        except (KeyError, IndexError, TypeError, ValueError):
            return None, 0
        return None, 0


def _check_dataset(dataset, name: str, source: str) -> None:
    """Refuse datasets whose bytes live outside the file (external or virtual storage)."""
    if dataset is None:
        return
    if not hasattr(dataset, "dtype") or not hasattr(dataset, "shape"):
        raise LstmvizError(f"the weights of {name!r} are not arrays", source=source)
    if getattr(dataset, "is_virtual", False) or getattr(dataset, "external", None):
        raise LstmvizError(
            f"refused: the weights of {name!r} are stored in another file (HDF5 external or virtual "
            "dataset); lstmviz reads only what is inside the model file",
            source=source,
        )
    if dataset.dtype.kind not in "fiu":
        raise LstmvizError(
            f"the weights of {name!r} have dtype {dataset.dtype}, expected numbers", source=source
        )


def _natural(key: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def _lstm_shapes(cell: _Cell, allow_cudnn: bool = False) -> bool:
    try:
        k, r = tuple(cell.kernel.shape), tuple(cell.recurrent.shape)
        b = None if cell.bias is None else tuple(cell.bias.shape)
    except AttributeError:
        return False
    if len(k) != 2 or len(r) != 2 or r[1] % 4 or r[1] != 4 * r[0] or k[1] != r[1]:
        return False
    n = r[0]
    return b is None or b == (4 * n,) or (allow_cudnn and b == (8 * n,))


# -- turning what was found into LayerInfo -----------------------------------------------------
def _activation(value, keras_major: int | None) -> tuple[str | None, str]:
    """(lstmviz activation name or None, how the file names it)."""
    if isinstance(value, dict):  # Keras 3 serialised function: {"class_name": "function", "config": "tanh"}
        if (
            value.get("class_name") == "function"
            and isinstance(value.get("config"), str)
            and str(value.get("module", "keras.activations")).startswith(
                ("keras.activations", "keras.src.activations")
            )
        ):
            value = value["config"]
        else:
            return None, json.dumps(value)[:80]
    if not isinstance(value, str):
        return None, repr(value)
    if value == "hard_sigmoid":
        return ("hard_sigmoid_keras3" if (keras_major or 3) >= 3 else "hard_sigmoid"), value
    if value in ("sigmoid", "tanh", "relu", "linear"):
        return value, value
    return None, value


def _layer_infos(model: KerasModel) -> list[LayerInfo]:
    major = _major(model.keras_version)
    klayers = model.layers
    by_name = {layer.name: layer for layer in klayers}
    infos: list[LayerInfo] = []
    directions: dict[str, tuple[str, ...]] = {
        layer.name: tuple(cell.name for cell in layer.cells) for layer in klayers
    }
    upstream_of: dict[str, tuple[tuple[tuple[str, ...], ...], str]] = {}
    masks: dict[str, float] = {}  # layer name -> mask_value of the Masking layer that feeds it

    def chain(layer: _KLayer) -> tuple[tuple[tuple[str, ...], ...], str]:
        """(upstream, input description) for a layer, following the model graph."""
        if layer.name in upstream_of:
            return upstream_of[layer.name]
        upstream_of[layer.name] = result = _trace(layer)
        return result

    def _trace(layer: _KLayer) -> tuple[tuple[tuple[str, ...], ...], str]:
        entry = model.graph.get(layer.name)
        if entry is None:
            why = "no model config in this file" if model.config is None else "not found in the model config"
            return (), f"the sequence you supply ({why}: lstmviz cannot tell what feeds this layer)"
        source, index = entry[1], entry[2]
        hops = 0
        while source and hops < 64:
            cls, inbound, inbound_index = model.graph.get(source, (None, None, 0))
            if cls == "InputLayer":
                source = ""
                break
            if cls == "Masking":
                masks[layer.name] = model.mask_values.get(source, 0.0)
            if cls in PASS_THROUGH or cls == "Masking":
                source, index = inbound, inbound_index
                hops += 1
                continue
            break
        if source == "":
            return (), "the sequence you supply (the model's input)"
        if source is None:
            return (), "the sequence you supply (its input could not be traced in the config)"
        feeder = by_name.get(source)
        if feeder is None:
            cls = model.graph.get(source, ("?",))[0]
            return (), (
                f"the sequence you supply; in the model it is the output of {source!r} ({cls}), "
                "which lstmviz does not run: supply that output"
            )
        problem = _feeds_sequence(feeder, index)
        if problem:
            return (), f"the sequence you supply; in the model it is {source!r}'s output, but {problem}"
        below, _ = chain(feeder)
        if feeder.name in masks or any(name in masks for name in _upstream_names(below)):
            masks[layer.name] = None  # masked in Keras, but lstmviz sees only the h below
        upstream = below + (directions[feeder.name],)
        return upstream, (
            f"the h of {' + '.join(directions[feeder.name])} (lstmviz runs the "
            f"{sum(len(d) for d in upstream)} cells below on your sequence first)"
        )

    for layer in klayers:
        upstream, input_text = chain(layer)
        for cell in layer.cells:
            infos.append(_cell_info(model, layer, cell, major, upstream, input_text, masks))
    return infos


def _upstream_names(upstream) -> list[str]:
    return [name.rsplit("/", 1)[0] for directions in upstream for name in directions] + [
        name for directions in upstream for name in directions
    ]


def _feeds_sequence(feeder: _KLayer, index: int) -> str | None:
    """Why the feeder's output is not a sequence lstmviz can rebuild, or None."""
    config = feeder.config or {}
    cell_config = feeder.cells[0].config or {}
    if index != 0:
        return "that is one of its states, not its output sequence"
    if not cell_config.get("return_sequences", False):
        return "that layer returns only its last h (return_sequences=False)"
    if feeder.cls == "Bidirectional":
        if config.get("merge_mode", "concat") != "concat":
            return f"merge_mode={config.get('merge_mode')!r} (lstmviz rebuilds only 'concat')"
        return None
    if feeder.cells[0].reverse:
        return "that layer has go_backwards=True, so its output runs back to front"
    return None


def _engine_masks() -> bool:
    """True when this lstmviz's LSTMParams carries mask_value (Keras masking in the engine)."""
    return any(f.name == "mask_value" for f in dataclasses.fields(LSTMParams))


def _cell_info(
    model: KerasModel, layer: _KLayer, cell: _Cell, major, upstream, input_text, masks
) -> LayerInfo:
    source = model.source
    config = cell.config
    facts = model.facts
    unsupported: list[str] = []
    notes: list[str] = list(layer.notes)
    n = int(cell.recurrent.shape[0])
    m = int(cell.kernel.shape[0])
    reverse = bool(facts.get("go_backwards", cell.reverse)) if layer.cls != "Bidirectional" else cell.reverse
    mask_value = facts.get("mask_value", masks.get(layer.name))
    if config is None:
        old_default = _version(model.keras_version) < (2, 3)
        act, rec = "tanh", ("hard_sigmoid" if old_default else "sigmoid")
        unknown = [
            f"{what} ({FACTS[key]})"
            for key, what in (
                ("recurrent_activation", "the gate activation"),
                ("activation", "the cell activation"),
                ("go_backwards", "the direction"),
                ("mask_value", "masking"),
            )
            if key not in facts
        ]
        if unknown:
            notes.append(
                "the file holds weights only, no model config, so it cannot say "
                + ", ".join(unknown)
                + f"; lstmviz assumes Keras {model.keras_version}'s defaults ({rec} gates, tanh cell, "
                "reading the sequence front to back, no masking) unless those options say otherwise"
            )
        for key in ("recurrent_activation", "activation"):
            if key in facts:
                name, _ = _activation(str(facts[key]), major)
                if name is None:
                    raise LstmvizError(
                        f"{FACTS[key]} {facts[key]!r} is not one of {', '.join(FACT_ACTIVATIONS)}",
                        source=source,
                    )
                if key == "activation":
                    act = name
                else:
                    rec = name
        complete = {"activation", "recurrent_activation"} <= set(facts)
        act_text = f"{rec} (gates), {act} (cell)" + ("" if complete else ", partly assumed")
    else:
        act, act_name = _activation(config.get("activation", "tanh"), major)
        rec, rec_name = _activation(config.get("recurrent_activation", "sigmoid"), major)
        if act is None:
            unsupported.append(
                f"activation {act_name!r} is not supported (sigmoid, tanh, hard_sigmoid, relu, linear)"
            )
        if rec is None:
            unsupported.append(
                f"recurrent_activation {rec_name!r} is not supported "
                "(sigmoid, tanh, hard_sigmoid, relu, linear)"
            )
        act_text = f"{rec_name} (gates), {act_name} (cell)"
        if "hard_sigmoid" in (act_name, rec_name):
            act_text += (
                " — Keras 3 hard_sigmoid = relu6(x + 3) / 6"
                if rec == "hard_sigmoid_keras3" or act == "hard_sigmoid_keras3"
                else " — Keras 1/2 hard_sigmoid = clip(0.2 x + 0.5, 0, 1)"
            )
        if config.get("_class") == "CuDNNLSTM":
            unsupported.append(
                "CuDNNLSTM weights (cuDNN layout, two biases) are not supported; "
                "convert the layer to keras.layers.LSTM first"
            )
        if config.get("stateful"):
            notes.append("stateful=True: lstmviz starts from zero state (or the h0/c0 you give)")
    if layer.name in masks and masks[layer.name] is None and "mask_value" not in facts:
        unsupported.append(
            "a Masking layer below the LSTM layers that feed this one masks it too in Keras (its state "
            "holds at masked steps), which lstmviz cannot carry through the layers below; "
            "open the lowest masked layer instead"
        )
        mask_value = None
    if mask_value is not None:
        notes.append(
            f"masking: a step whose input row is {mask_value:g} in every column keeps c and h "
            "(Keras' Masking layer)"
        )
        if not _engine_masks():
            unsupported.append(
                f"masked with mask_value={mask_value:g}, and this lstmviz's engine does not mask yet"
            )
    bias_shape = None if cell.bias is None else tuple(cell.bias.shape)
    if bias_shape == (8 * n,):
        unsupported.append("the bias has 8n entries (a CuDNNLSTM layout), which lstmviz does not read")
    biases = "bias (one vector)" if cell.bias is not None else "none (use_bias=False)"
    if config is None and "go_backwards" not in facts:
        direction = "unknown: the file does not say (lstmviz reads front to back; --go-backwards to reverse)"
    else:
        direction = "reverse (go_backwards: reads the sequence back to front)" if reverse else "forward"
    if layer.cls == "Bidirectional":
        direction = (
            "backward half of Bidirectional: reads the sequence back to front"
            if cell.reverse
            else "forward half of Bidirectional"
        )

    def build() -> LSTMParams:
        budget = model.budget
        for dataset in (cell.kernel, cell.recurrent, cell.bias):
            _check_dataset(dataset, cell.name, source)
            if dataset is not None:
                # The shape says what reading costs (as stored, then as float64), whatever
                # storage the file has allocated: unwritten chunks read back as fill values.
                count = math.prod(int(d) for d in dataset.shape)
                what = f"the weights of {cell.name!r} {dataset.shape}"
                budget.take(count * (dataset.dtype.itemsize + 8), what)
        try:
            kernel = np.asarray(cell.kernel[()], dtype=np.float64)
            recurrent = np.asarray(cell.recurrent[()], dtype=np.float64)
            bias = np.zeros(4 * n) if cell.bias is None else np.asarray(cell.bias[()], dtype=np.float64)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise LstmvizError(f"cannot read the weights of {cell.name!r} ({error})", source=source) from None
        extra = {"mask_value": float(mask_value)} if mask_value is not None and _engine_masks() else {}
        return LSTMParams.from_stacked(
            kernel.T,
            recurrent.T,
            bias,
            order="ifgo",
            recurrent_activation=rec,
            cell_activation=act,
            reverse=reverse,
            name=cell.name,
            source=source,
            **extra,
        )

    return LayerInfo(
        name=cell.name,
        format=model.format,
        m=m,
        n=n,
        gate_order=ORDER_KERAS,
        biases=biases,
        direction=direction,
        activations=act_text,
        input=input_text or "the sequence you supply",
        unsupported=tuple(unsupported),
        notes=tuple(notes),
        aliases=(layer.name,) if layer.cells[0] is cell and layer.name != cell.name else (),
        upstream=upstream,
        build=build,
    )


def _layers(model: KerasModel) -> list[LayerInfo]:
    infos = _layer_infos(model)
    if not infos:
        raise LstmvizError("no LSTM layer found in this Keras file", source=model.source)
    return infos


DAMAGE = (OSError, KeyError, ValueError, TypeError, IndexError, AttributeError, RuntimeError)


def list_layers_here(path) -> list[LayerInfo]:
    """list_layers in this process (the isolated child calls this)."""
    with KerasModel(path) as model:
        try:
            return [without_build(info) for info in _layers(model)]
        except LstmvizError:
            raise
        except DAMAGE as error:
            raise LstmvizError(
                f"damaged Keras file ({type(error).__name__}: {error})", source=model.source
            ) from None


def read_model_here(path, layer: str | None = None, facts: dict | None = None) -> LSTMParams:
    """read_model in this process (the isolated child calls this)."""
    with KerasModel(path, facts=facts) as model:
        try:
            return build_layer(_layers(model), layer, model.source)
        except LstmvizError:
            raise
        except DAMAGE as error:
            raise LstmvizError(
                f"damaged Keras file ({type(error).__name__}: {error})", source=model.source
            ) from None


def _precheck(path) -> None:
    """Fail early in the parent, without importing h5py there: the child parses."""
    readable_file(path)
    try:
        found = importlib.util.find_spec("h5py") is not None
    except (ImportError, ValueError):  # ValueError: sys.modules["h5py"] is None
        found = False
    if not found:
        require("h5py", "keras", "Keras files", str(path))


def list_layers(path) -> list[LayerInfo]:
    """Every LSTM layer in the file, described; HDF5 is parsed in a child process."""
    if isolated.in_child():
        return list_layers_here(path)
    _precheck(path)
    return isolated.inspect_model_isolated(path, loader="lstmviz.io.keras:list_layers_here")


def read_model(path, layer: str | None = None, **facts) -> LSTMParams:
    """One LSTM cell of the file; HDF5 is parsed in a child process.

    facts: what a weights-only file cannot say (activation, recurrent_activation,
    go_backwards, mask_value); each given one overrides the file's config.
    """
    facts = {key: value for key, value in facts.items() if value is not None}
    unknown = set(facts) - set(FACTS)
    if unknown:
        raise TypeError(f"unknown Keras facts {sorted(unknown)}")
    if isolated.in_child():
        return read_model_here(path, layer, facts)
    _precheck(path)
    return isolated.load_model_isolated(path, layer, loader="lstmviz.io.keras:read_model_here", facts=facts)
