"""The time cursor and the 'future' mask: small items, so a step repaints a thin strip only.

pyqtgraph's InfiniteLine marks the whole view dirty when it moves (its bounding rect follows
the view); here each item tells the scene exactly which few pixels changed, and the layers
under it are served from their pixmap caches (see layers.py), so a step costs about a blit.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui

CURSOR_COLOR = (200, 30, 30)
_HALF_WIDTH_PX = 4.0  # the grab zone on each side of the line, in pixels


class _ViewSized(pg.GraphicsObject):
    """An item whose cached bounding rect (self._rect) follows the view's range."""

    _rect = None

    def viewTransformChanged(self):
        self.prepareGeometryChange()
        self._rect = None

    def viewRangeChanged(self):
        self.viewTransformChanged()


class TimeCursor(_ViewSized):
    """A vertical line at the current step; drag it to scrub.

    Lives in a ViewBox (data coordinates). It never changes the step itself: it emits
    `sigDragged(x)` and the panel asks the Document, which moves every cursor.
    """

    sigDragged = QtCore.Signal(float)

    def __init__(self, step: int = 0):
        super().__init__()
        self._x = float(step)
        self._rect: QtCore.QRectF | None = None
        self._hover = False
        self._pen = pg.mkPen(CURSOR_COLOR, width=2)
        self._hover_pen = pg.mkPen(CURSOR_COLOR, width=4)
        self.setZValue(1000)
        self.setAcceptHoverEvents(True)
        self.setCursor(QtCore.Qt.CursorShape.SizeHorCursor)

    @property
    def step(self) -> int:
        return int(round(self._x))

    def set_step(self, step: int) -> None:
        x = float(step)
        if x != self._x:
            self.prepareGeometryChange()  # old and new thin rects are repainted, nothing else
            self._x = x
            self._rect = None

    # -- geometry ----------------------------------------------------------------------------
    def boundingRect(self) -> QtCore.QRectF:
        if self._rect is None:
            vb = self.getViewBox()
            if vb is None:
                return QtCore.QRectF()
            view = vb.viewRect()
            px = self.pixelLength(pg.Point(1, 0)) if vb.width() > 0 else None
            half = _HALF_WIDTH_PX * (px if px else max(view.width(), 1.0) * 0.01)
            self._rect = QtCore.QRectF(self._x - half, view.top(), 2 * half, view.height())
        return self._rect

    def shape(self) -> QtGui.QPainterPath:
        path = QtGui.QPainterPath()
        path.addRect(self.boundingRect())
        return path

    def paint(self, painter, *args):
        rect = self.boundingRect()
        painter.setPen(self._hover_pen if self._hover else self._pen)
        painter.drawLine(QtCore.QPointF(self._x, rect.top()), QtCore.QPointF(self._x, rect.bottom()))

    # -- mouse -------------------------------------------------------------------------------
    def hoverEvent(self, ev):
        hover = (not ev.isExit()) and ev.acceptDrags(QtCore.Qt.MouseButton.LeftButton)
        if hover != self._hover:
            self._hover = hover
            self.update()

    def mouseDragEvent(self, ev):
        if ev.button() != QtCore.Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        self.sigDragged.emit(float(ev.pos().x()))

    def mouseClickEvent(self, ev):
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigDragged.emit(float(ev.pos().x()))
        else:
            ev.ignore()


class FutureMask(_ViewSized):
    """Covers the steps after the current one, so the traces seem to grow during playback.

    Its bounding rect is the view, but a step only invalidates the strip between the old and
    the new edge.
    """

    def __init__(self, color=(255, 255, 255)):
        super().__init__()
        self._edge = 0.5
        self._rect: QtCore.QRectF | None = None
        self._brush = pg.mkBrush(color)
        self.setZValue(900)

    def set_color(self, color) -> None:
        self._brush = pg.mkBrush(color)
        self.update()

    def set_step(self, step: int) -> None:
        edge = float(step) + 0.5
        if edge == self._edge:
            return
        old, self._edge = self._edge, edge
        if self._rect is None or not self.isVisible():
            return
        rect = self.boundingRect()
        px = self.pixelLength(pg.Point(1, 0)) or 1.0
        lo, hi = min(old, edge) - 2 * px, max(old, edge) + 2 * px
        self.update(QtCore.QRectF(lo, rect.top(), hi - lo, rect.height()))

    def boundingRect(self) -> QtCore.QRectF:
        if self._rect is None:
            vb = self.getViewBox()
            if vb is None:
                return QtCore.QRectF()
            self._rect = QtCore.QRectF(vb.viewRect())
        return self._rect

    def paint(self, painter, *args):
        rect = self.boundingRect()
        if self._edge >= rect.right():
            return
        left = max(self._edge, rect.left())
        painter.fillRect(QtCore.QRectF(left, rect.top(), rect.right() - left, rect.height()), self._brush)
