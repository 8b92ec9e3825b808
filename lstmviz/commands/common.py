"""Options and loading shared by the subcommands that run a model on an input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from lstmviz.core.cell import cut_to_sequence_length
from lstmviz.core.params import LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError, reading, sanitize
from lstmviz.io.models import load_model
from lstmviz.io.sequences import load_sequence


def add_model_input_args(parser: argparse.ArgumentParser, dtype: bool = True, document: bool = False) -> None:
    """--model and --input (required), or with document=True, --document as the alternative."""
    parser.add_argument("--model", required=not document, metavar="FILE", help="model file (.npz, .pt, ...)")
    parser.add_argument("--layer", metavar="NAME", help="which LSTM layer (see `lstmviz inspect`)")
    parser.add_argument(
        "--input", required=not document, metavar="FILE", help="sequence (.csv or .npy), T x m"
    )
    if document:
        parser.add_argument(
            "--document", metavar="FILE.lstmviz",
            help="a document saved by the window (its model, input, initial state and what-if "
                 "interventions), instead of --model and --input",
        )
    facts = parser.add_argument_group(
        "facts a Keras weights-only file (.weights.h5, save_weights .h5) cannot state"
    )
    activations = ("sigmoid", "tanh", "hard_sigmoid", "relu", "linear")
    facts.add_argument("--recurrent-activation", choices=activations, help="the gates' activation")
    facts.add_argument("--activation", choices=activations, help="the cell activation (candidate and output)")
    facts.add_argument("--go-backwards", action="store_true", default=None,
                       help="the layer read its sequence back to front (Keras go_backwards=True)")
    facts.add_argument("--mask-value", type=float, metavar="VALUE",
                       help="a step whose input row is VALUE in every column keeps c and h (Keras Masking)")
    parser.add_argument("--h0", metavar="FILE", help="initial hidden state, n values (.csv or .npy)")
    parser.add_argument("--c0", metavar="FILE", help="initial cell state, n values (.csv or .npy)")
    if dtype:
        parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")


def load_state_vector(path, n: int, name: str) -> np.ndarray:
    with reading(path):
        values = load_sequence(path).reshape(-1)
    if values.size != n:
        raise LstmvizError(f"{name} has {values.size} values, the model has n = {n}", source=str(path))
    problem = describe_nonfinite(name, values)
    if problem:
        raise LstmvizError(problem, source=str(path))
    return values


def model_facts(args) -> dict:
    """The --activation, --recurrent-activation, --go-backwards, --mask-value given."""
    keys = ("recurrent_activation", "activation", "go_backwards", "mask_value")
    return {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}


def load_model_and_input(args) -> tuple[LSTMParams, np.ndarray, np.ndarray | None, np.ndarray | None]:
    return load_run(args)[:4]


def load_run(args) -> tuple[LSTMParams, np.ndarray, np.ndarray | None, np.ndarray | None, tuple]:
    """params, xs, h0, c0 and the what-if interventions (a document's; none otherwise)."""
    if hasattr(args, "document") and (args.document or not (args.model and args.input)):
        return _load_document(args)
    with reading(args.model):
        params = load_model(args.model, layer=args.layer, **model_facts(args))
    with reading(args.input):
        xs = load_sequence(args.input)
    if xs.shape[1] != params.input_size:
        raise LstmvizError(
            f"has {xs.shape[1]} columns but the model {args.model} expects m = {params.input_size}",
            source=args.input,
        )
    xs, cut = cut_to_sequence_length(params, xs, Path(args.model).name)
    if cut:  # ONNX sequence_lens: the rows ONNX runs, said once
        print(sanitize(cut, limit=None), file=sys.stderr)
    h0 = load_state_vector(args.h0, params.n, "h0") if args.h0 else None
    c0 = load_state_vector(args.c0, params.n, "c0") if args.c0 else None
    return params, xs, h0, c0, ()


def _load_document(args) -> tuple[LSTMParams, np.ndarray, np.ndarray | None, np.ndarray | None, tuple]:
    if not args.document:
        raise LstmvizError("give --model and --input, or --document FILE.lstmviz")
    if args.model or args.input or args.layer:
        raise LstmvizError("a document holds the model and the input: give --document without "
                           "--model, --input or --layer", source=args.document)
    from lstmviz.io.document_file import read_document

    with reading(args.document):
        state = read_document(args.document)
    params, xs = state.params, state.xs
    h0 = load_state_vector(args.h0, params.n, "h0") if args.h0 else state.h0
    c0 = load_state_vector(args.c0, params.n, "c0") if args.c0 else state.c0
    return params, xs, h0, c0, state.interventions


# The options through which a command reads files, in the order a failure is blamed on them
# when no reader said which file it was reading.
INPUT_OPTIONS = ("model", "input", "document", "file", "h0", "c0")


def input_files(args) -> list[str]:
    """The files a command's arguments name for reading (for the CLI's error line)."""
    files: list[str] = []
    for key in INPUT_OPTIONS:
        value = getattr(args, key, None)
        if isinstance(value, str) and value and value not in files:
            files.append(value)
    return files
