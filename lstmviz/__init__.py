"""lstmviz: see inside an LSTM cell.

    import lstmviz
    params = lstmviz.load_model("model.pt")
    xs = lstmviz.load_sequence("input.csv")
    trace = lstmviz.run(params, xs)
    lstmviz.write_trace_csv(trace, "trace.csv")

    viewer = lstmviz.Viewer()          # the window, scriptable (lstmviz.gui.viewer; loads Qt)
    viewer.open("model.pt", confirm=False)
"""

from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.core.trace import Trace
from lstmviz.errors import LstmvizError

# Names loaded on first use, so that `import lstmviz` stays light (no Qt, no framework, no
# training code, and no file readers: the window's start-up imports this package first).
_LAZY = {
    "write_trace_csv": "lstmviz.io.csv",
    "load_model": "lstmviz.io.models",
    "load_sequence": "lstmviz.io.sequences",
    "param_gradients": "lstmviz.core.train.backprop",
    "from_torch": "lstmviz.live",
    "from_keras": "lstmviz.live",
    "show": "lstmviz.live",
    "Viewer": "lstmviz.gui.viewer",  # the window, scriptable; Qt loads on first use
}


def __getattr__(name):
    if name == "__version__":
        # Written once, in pyproject.toml, and read from the installed metadata (editable
        # installs have it too; "0+unknown" from a source tree that was never installed).
        from lstmviz.about import lstmviz_version

        return lstmviz_version()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lstmviz' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "LSTMParams", "LstmvizError", "Trace", "__version__", "load_model", "load_sequence", "run", "step",
    "write_trace_csv", *_LAZY,
]
