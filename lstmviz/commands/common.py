"""Options and loading shared by the subcommands that run a model on an input."""

from __future__ import annotations

import argparse

import numpy as np

from lstmviz.core.params import LSTMParams, describe_nonfinite
from lstmviz.errors import LstmvizError
from lstmviz.io.models import load_model
from lstmviz.io.sequences import load_sequence


def add_model_input_args(parser: argparse.ArgumentParser, dtype: bool = True) -> None:
    parser.add_argument("--model", required=True, metavar="FILE", help="model file (.npz, .pt, ...)")
    parser.add_argument("--layer", metavar="NAME", help="which LSTM layer (see `lstmviz inspect`)")
    parser.add_argument("--input", required=True, metavar="FILE", help="sequence (.csv or .npy), T x m")
    parser.add_argument("--h0", metavar="FILE", help="initial hidden state, n values (.csv or .npy)")
    parser.add_argument("--c0", metavar="FILE", help="initial cell state, n values (.csv or .npy)")
    if dtype:
        parser.add_argument("--dtype", choices=("float64", "float32"), default="float64")


def load_state_vector(path, n: int, name: str) -> np.ndarray:
    values = load_sequence(path).reshape(-1)
    if values.size != n:
        raise LstmvizError(f"{name} has {values.size} values, the model has n = {n}", source=str(path))
    problem = describe_nonfinite(name, values)
    if problem:
        raise LstmvizError(problem, source=str(path))
    return values


def load_model_and_input(args) -> tuple[LSTMParams, np.ndarray, np.ndarray | None, np.ndarray | None]:
    params = load_model(args.model, layer=args.layer)
    xs = load_sequence(args.input)
    if xs.shape[1] != params.input_size:
        raise LstmvizError(
            f"has {xs.shape[1]} columns but the model {args.model} expects m = {params.input_size}",
            source=args.input,
        )
    h0 = load_state_vector(args.h0, params.n, "h0") if args.h0 else None
    c0 = load_state_vector(args.c0, params.n, "c0") if args.c0 else None
    return params, xs, h0, c0
