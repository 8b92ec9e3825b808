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
__all__ = [
    "LSTMParams", "LstmvizError", "Trace", "load_model", "load_sequence", "run", "step", "write_trace_csv",
]
