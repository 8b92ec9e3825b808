"""The layers that hold a plot's data: lines for a few units, a heatmap for many.

Both are cached in device coordinates (QGraphicsItem.DeviceCoordinateCache), so when only
the cursor moves Qt repaints its strip from a pixmap instead of stroking the curves again.
One LinesLayer draws every selected unit of a quantity (one pixmap per plot, not per curve)
from a per-pixel min/max envelope of the visible steps, built in one vectorised pass.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.colors import colormap_lut
from lstmviz.gui.panels.data import envelope

CACHE = QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache
STRIP_POINTS = 32  # up to this many points per line, paths are built point by point


def ensure_pixmap_cache(megabytes: int) -> None:
    """Qt's pixmap cache (10 MB by default) holds the item caches; too small, they thrash."""
    kb = int(megabytes * 1024)
    if QtGui.QPixmapCache.cacheLimit() < kb:
        QtGui.QPixmapCache.setCacheLimit(kb)


class LinesLayer(pg.GraphicsObject):
    """Rows (k, T) drawn as k lines over the visible steps, each in its own color."""

    def __init__(self):
        super().__init__()
        self._rows = np.empty((0, 0), dtype=np.float32)
        self._finite = True
        self._labels: tuple[int, ...] = ()
        self._pens: list[QtGui.QPen] = []
        self._colors: list[tuple[int, int, int]] = []
        self._emphasis: int | None = None
        self._paths: list[QtGui.QPainterPath] | None = None
        self._rect: QtCore.QRectF | None = None
        self._raw_key: tuple[float, float, int] | None = None  # see viewTransformChanged
        self.setCacheMode(CACHE)
        # paint() gets the exposed rect: after a pan it draws the newly exposed strip only
        self.setFlag(QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setZValue(10)

    # -- data ---------------------------------------------------------------------------------
    @property
    def rows(self) -> np.ndarray:
        return self._rows

    @property
    def labels(self) -> tuple[int, ...]:
        """Which unit (or input) each row is."""
        return self._labels

    def set_rows(self, rows: np.ndarray, labels, colors) -> None:
        self._rows = rows
        self._finite = bool(np.isfinite(rows).all())
        self._labels = tuple(int(k) for k in labels)
        self._colors = [tuple(c) for c in colors]
        self._make_pens()
        self._invalidate()

    def update_columns(self, lo: int, block_kt: np.ndarray) -> None:
        """Rows' steps [lo, lo + block width) replaced (a rerun in steps reached them)."""
        hi = lo + block_kt.shape[1]
        self._rows[:, lo:hi] = block_kt
        if self._finite and not np.isfinite(block_kt).all():
            self._finite = False
        self._invalidate()

    def set_emphasis(self, label: int | None) -> None:
        """Draw one unit a little thicker (the unit the inspector works through)."""
        if label != self._emphasis:
            self._emphasis = label
            self._make_pens()
            self.update()

    def _make_pens(self) -> None:
        # Only 1-px cosmetic pens: Qt draws them ~30x faster than wider ones (no stroker).
        self._pens = [pg.mkPen(color, width=1) for color in self._colors]

    def value_at(self, t: int, y: float) -> tuple[int, float] | None:
        """(label, value) of the line nearest to y at step t, or None."""
        if self._rows.size == 0 or not 0 <= t < self._rows.shape[1]:
            return None
        column = self._rows[:, t]
        j = int(np.nanargmin(np.abs(column - y))) if np.isfinite(column).any() else 0
        return self._labels[j], float(column[j])

    # -- geometry and paint --------------------------------------------------------------------
    # Drawn point per step (at most two steps per pixel), the lines are fixed in data
    # coordinates: the item then spans every step, and a pan at the same zoom (a follow-mode
    # step) moves the view's transform by a translation only, so Qt scrolls the item's pixmap
    # cache and asks paint() for the newly exposed strip alone. Binned (zoomed out), the bins
    # are those of the visible steps, so every view change redraws the whole view.
    def viewTransformChanged(self):
        key = self._raw_key_now()
        if key is not None and key == self._raw_key:
            return  # same y range, still point per step: the cache holds the right lines
        self.prepareGeometryChange()
        self._rect = None
        self._paths = None
        self._raw_key = key
        # also drop the pixmap cache: a pan changes the transform by a translation only, and
        # Qt would blit the old pixmap where the lines were (the lines stood still)
        self.update()

    def viewRangeChanged(self):
        self.viewTransformChanged()

    def _raw_key_now(self):
        """(y range, steps) when the view draws a point per step, else None."""
        vb = self.getViewBox()
        T = self._rows.shape[1]
        if vb is None or T == 0:
            return None
        view = vb.viewRect()
        t0 = max(0, math.floor(view.left()) - 1)
        t1 = min(T, math.ceil(view.right()) + 2)
        if t1 - t0 > 2 * max(1, int(vb.width())):
            return None
        return (view.top(), view.height(), T)

    def _invalidate(self) -> None:
        self.prepareGeometryChange()  # new rows: maybe another number of steps
        self._rect = None
        self._raw_key = self._raw_key_now()
        self._paths = None
        self.update()

    def boundingRect(self) -> QtCore.QRectF:
        if self._rect is None:
            vb = self.getViewBox()
            if vb is None:
                self._rect = QtCore.QRectF()
            elif self._raw_key is not None:
                top, height, T = self._raw_key
                self._rect = QtCore.QRectF(-1.0, top, T + 1.0, height)
            else:
                self._rect = QtCore.QRectF(vb.viewRect())
        return self._rect

    def _build_paths(self, lo: float | None = None, hi: float | None = None) -> list[QtGui.QPainterPath]:
        """Paths of the visible steps, or (point per step) of steps lo..hi only."""
        vb = self.getViewBox()
        if vb is None or self._rows.size == 0:
            return []
        rect = vb.viewRect()
        if lo is not None:
            # not clipped to the view: the pixmap cache spans the whole viewport (the axis
            # column on the left, the colour-bar column on the right), and what lies beyond
            # the view's edges now scrolls into it later; two view widths bound a paint
            # without a viewport (an export)
            T = self._rows.shape[1]
            margin = 2.0 * rect.width()
            t0 = max(0, math.floor(max(lo, rect.left() - margin)) - 1)
            t1 = min(T, math.ceil(min(hi, rect.right() + margin)) + 2)
            if t1 <= t0:
                return []
            xs, ys = np.arange(t0, t1, dtype=np.float64), self._rows[:, t0:t1]
        else:
            pixels = max(1, int(vb.width()))
            xs, ys = envelope(self._rows, rect.left(), rect.right(), pixels)
        if xs.size == 0:
            return []
        if self._finite and 2 <= xs.size <= STRIP_POINTS:
            # a newly exposed strip: a few points per line, for which arrayToQPath's set-up
            # costs more than the points (the same moveTo + lineTo path either way)
            QPointF = QtCore.QPointF
            x_list = xs.tolist()
            paths = []
            for row in ys.tolist():
                path = QtGui.QPainterPath()
                path.addPolygon(QtGui.QPolygonF([QPointF(x, y) for x, y in zip(x_list, row)]))
                paths.append(path)
            return paths
        if self._finite:
            return [pg.arrayToQPath(xs, ys[j], connect="all", finiteCheck=False) for j in range(ys.shape[0])]
        return [pg.arrayToQPath(xs, ys[j], connect="finite") for j in range(ys.shape[0])]

    def paint(self, painter, option=None, *args):
        if self._raw_key is not None and option is not None:
            exposed = option.exposedRect
            self._paths = self._build_paths(exposed.left(), exposed.right())
        elif self._paths is None or self._raw_key is not None:
            self._paths = self._build_paths()
        order = range(len(self._paths))
        if self._emphasis in self._labels:  # draw the emphasised unit last, on top
            top = self._labels.index(self._emphasis)
            order = [j for j in order if j != top] + [top]
        for j in order:
            painter.setPen(self._pens[j])
            painter.drawPath(self._paths[j])
            if self._labels[j] == self._emphasis:
                # a bold line as the same 1-px line drawn again one device pixel lower
                transform = painter.transform()
                painter.setTransform(transform * QtGui.QTransform.fromTranslate(0, 1))
                painter.drawPath(self._paths[j])
                painter.setTransform(transform)


class Heatmap(pg.ImageItem):
    """Units x time as a uint8 image through a 256-entry lookup table, fixed levels.

    Row k is unit k (or input k for x), column t is step t; pixel centres sit on integer
    coordinates so the time axis and the unit axis read directly.
    """

    def __init__(self):
        super().__init__(axisOrder="row-major")
        self.setCacheMode(CACHE)
        self.setZValue(5)
        self._values: np.ndarray | None = None
        self.colormap = ""

    def set_codes(self, codes: np.ndarray, colormap: str, values_tk: np.ndarray) -> None:
        """codes (k, T) uint8; values_tk the (T, k) floats they encode, for hover read-out."""
        self._values = values_tk
        self.colormap = colormap
        self.setImage(codes, levels=(0, 255), lut=colormap_lut(colormap), autoLevels=False)
        k, T = codes.shape
        self.setRect(QtCore.QRectF(-0.5, -0.5, T, k))

    def value_at(self, t: int, row: int) -> float | None:
        if self._values is None:
            return None
        T, k = self._values.shape
        if 0 <= t < T and 0 <= row < k:
            return float(self._values[t, row])
        return None
