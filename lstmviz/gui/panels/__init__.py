"""Trace panels: c, h and the gates over time on one linked time axis (issue 5).

TracePanels(document, parent=None) is the widget the main window puts in its "Traces" dock.
"""

from lstmviz.gui.panels.widget import TracePanels

__all__ = ["TracePanels"]
