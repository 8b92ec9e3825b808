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
__all__ = [
    "LSTMParams",
    "LstmvizError",
    "Trace",
    "from_keras",
    "from_torch",
    "load_model",
    "load_sequence",
    "run",
    "show",
    "step",
]
# Live framework objects (lstmviz/live.py), loaded on first use so that `import lstmviz`
# never imports torch, keras or Qt.
_LIVE = ("from_torch", "from_keras", "show")


def __getattr__(name):
    if name in _LIVE:
        from lstmviz import live

        return getattr(live, name)
    raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")
