"""Helpers for tests that look at what a pyqtgraph plot draws."""

from __future__ import annotations


def tick_label_rects(axis) -> list:
    """The rectangles of the tick labels `axis` draws now (empty labels left out)."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [rect for rect, _flags, text in specs[2] if text]
