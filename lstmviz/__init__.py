"""lstmviz: see inside an LSTM cell.

    import lstmviz
    params = lstmviz.load_model("model.pt")
    xs = lstmviz.load_sequence("input.csv")
    trace = lstmviz.run(params, xs)
    trace.to_csv("trace.csv")
"""

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.models import load_model
from lstmviz.io.sequences import load_sequence

__version__ = "0.1.0"


def __getattr__(name):
    # param_gradients loads the training package only when asked for (lstmviz imports stay light).
    if name == "param_gradients":
        from lstmviz.core.train.backprop import param_gradients

        return param_gradients
    raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")


__all__ = [
    "LSTMParams", "LstmvizError", "Trace", "load_model", "load_sequence", "param_gradients", "run", "step",
]
