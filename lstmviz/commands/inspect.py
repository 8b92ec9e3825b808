"""lstmviz inspect: list every LSTM layer in a model file (what --layer takes, m, n, ...)."""

from __future__ import annotations

import json
import sys

from lstmviz.errors import sanitize
from lstmviz.io.models import detect_format, inspect_model


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "inspect",
        help="list the LSTM layers in a model file (PyTorch, safetensors, Keras, ONNX, .npz)",
        description="Say what format the file is (detected from its content, whatever its name) and "
        "list every LSTM layer (one entry per direction): the name to pass to --layer, "
        "m, n, the format, the gate order it is stored in, biases, peepholes, direction, and "
        "anything lstmviz cannot show.",
    )
    parser.add_argument("model", metavar="FILE", help="model file")
    parser.add_argument("--json", action="store_true", help="print the layers as JSON")
    return parser


def format_layers(path: str, layers, guess=None) -> str:
    lines = [
        f"{path}: {layers[0].format}" if layers else f"{path}:",
        *([guess.line()] if guess is not None else []),
        f"{len(layers)} LSTM layer{'s' if len(layers) != 1 else ''} (pass the name to --layer; "
        "the first is the default)",
    ]
    for index, info in enumerate(layers):
        aliases = f"  (also: {', '.join(info.aliases)})" if info.aliases else ""
        lines.append("")
        lines.append(f"[{index}] {info.name}{aliases}")
        m = info.m if info.m >= 0 else "?"
        n = info.n if info.n >= 0 else "?"
        lines.append(f"    m = {m} inputs, n = {n} units")
        lines.append(f"    gate order in the file: {info.gate_order}")
        lines.append(f"    biases: {info.biases}")
        lines.append(f"    peepholes: {info.peepholes}")
        lines.append(f"    direction: {info.direction}")
        lines.append(f"    activations: {info.activations}")
        lines.append(f"    input: {info.input}")
        for note in info.notes:
            lines.append(f"    note: {note}")
        if info.unsupported:
            for problem in info.unsupported:
                lines.append(f"    UNSUPPORTED: {problem}")
        else:
            lines.append("    unsupported: nothing")
    return "\n".join(sanitize(line, limit=None) for line in lines)  # names from the file: no escapes


def run(args) -> int:
    guess = detect_format(args.model)
    layers = inspect_model(args.model)
    if args.json:
        detected = {"format": guess.description, "reader": guess.key, "detected_from": guess.by}
        json.dump(
            {"file": args.model, "detected": detected, "layers": [info.to_dict() for info in layers]},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        print(format_layers(args.model, layers, guess))
    return 0
