"""lstmviz: see inside an LSTM cell.

    import lstmviz
    params = lstmviz.load_model("model.pt")
    xs = lstmviz.load_sequence("input.csv")
    trace = lstmviz.run(params, xs)
    lstmviz.write_trace_csv(trace, "trace.csv")
"""

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.csv import write_trace_csv
from lstmviz.io.models import load_model
from lstmviz.io.sequences import load_sequence

__version__ = "0.1.0"

# Names loaded on first use, so that `import lstmviz` stays light (no Qt, no training code,
# and never torch or keras: the live-object functions use only the object they are given).
_LAZY = {
    "param_gradients": "lstmviz.core.train.backprop",
    "from_torch": "lstmviz.live",
    "from_keras": "lstmviz.live",
    "show": "lstmviz.live",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "LSTMParams", "LstmvizError", "Trace", "load_model", "load_sequence", "run", "step", "write_trace_csv",
    *_LAZY,
]
