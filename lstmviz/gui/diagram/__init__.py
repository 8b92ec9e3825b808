"""The LSTM cell diagram: geometry (plain Python), items (QGraphicsItems), the view."""

from lstmviz.gui.diagram.view import CellDiagram

__all__ = ["CellDiagram"]
