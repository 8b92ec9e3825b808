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

__all__ = ["LSTMParams", "LstmvizError", "Trace", "__version__", "load_model", "load_sequence", "run", "step"]


def __getattr__(name: str):
    # The version is written once, in pyproject.toml, and read from the installed metadata
    # (editable installs have it too); looked up on first use so `import lstmviz` stays fast.
    if name == "__version__":
        from lstmviz.about import lstmviz_version

        return lstmviz_version()
    raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")
