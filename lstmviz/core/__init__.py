"""The Qt-free core: cell math, recorded runs, analysis."""

from lstmviz.core.cell import Step, run, step
from lstmviz.core.params import GATES, LSTMParams
from lstmviz.core.trace import Trace

__all__ = ["GATES", "LSTMParams", "Step", "Trace", "run", "step"]
