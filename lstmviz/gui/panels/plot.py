"""One plot of the stack: a quantity over time, as lines or a heatmap, with cursor and mask."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.colors import colormap_stops
from lstmviz.gui.panels.cursor import FutureMask, TimeCursor
from lstmviz.gui.panels.data import ColorScale, Quantity
from lstmviz.gui.panels.layers import CACHE, Heatmap, LinesLayer

# Every plot (and the time axis under the stack) has the same left axis and right column,
# so their time coordinates line up pixel for pixel.
AXIS_WIDTH = 46
BAR_COLUMN = 2  # the right column: a color bar, or a spacer
BAR_WIDTH = 70  # the right column when some plot shows a heatmap (its color bar)
NO_BAR_WIDTH = 8  # ... and when every plot draws lines
BACKGROUND = (255, 255, 255)
FOREGROUND = (70, 70, 70)
FRAME = (200, 200, 200)
HIGHLIGHT = (230, 120, 0)
HIGHLIGHT_WIDTH = 3
TITLE_HEIGHT = 17


def cache_static(item: QtWidgets.QGraphicsItem) -> None:
    """Serve an item that rarely changes (an axis, a title, a frame) from a pixmap: when the
    view it borders scrolls (follow mode), every item overlapping the dirty region repaints,
    and a blit costs a fraction of replaying its drawing through Python."""
    item.setCacheMode(CACHE)


def style_axis(axis: pg.AxisItem) -> None:
    axis.setPen(pg.mkPen(FOREGROUND))
    axis.setTextPen(pg.mkPen(FOREGROUND))
    font = axis.font() if hasattr(axis, "font") else None
    if font is not None:
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        axis.setStyle(tickFont=font)


class StepAxis(pg.AxisItem):
    """A time axis that only labels whole steps (no 0.25 steps when zoomed far in).

    In follow mode its range moves every frame, and pyqtgraph's generateDrawSpecs (a Point
    pair per tick, a font measurement per label) was a third of such a frame. For the one
    kind of axis the panels use (bottom, no grid, no fixed ticks, default alpha) this builds
    the same specs with the label sizes remembered, and draws each tick level in one call.
    """

    def __init__(self, *args, **kwargs):
        self._text_sizes: dict[str, QtCore.QRectF] = {}
        self._text_font = None
        super().__init__(*args, **kwargs)

    def tickValues(self, minVal, maxVal, size):
        levels = self._linear_tick_values(minVal, maxVal, size)
        out = []
        for spacing, values in levels:
            whole = [v for v in values if abs(v - round(v)) < 1e-9]
            if whole:
                out.append((max(spacing, 1.0), whole))
        return out

    def tickStrings(self, values, scale, spacing):
        return [str(int(round(v * scale))) for v in values]

    def _linear_tick_values(self, minVal, maxVal, size):
        """pyqtgraph's AxisItem.tickValues on a linear axis, with its np.isclose (rtol=0: the
        same test, |a - b| <= atol, on finite values) written out; np.isclose's overhead was
        most of a follow-mode frame's tick work."""
        if self.logMode:
            return super().tickValues(minVal, maxVal, size)
        minVal, maxVal = sorted((minVal, maxVal))
        minVal *= self.scale
        maxVal *= self.scale
        ticks = []
        seen = np.empty(0)
        for spacing, offset in self.tickSpacing(minVal, maxVal, size):
            start = (math.ceil((minVal - offset) / spacing) * spacing) + offset
            num = int((maxVal - start) / spacing) + 1
            values = (np.arange(num) * spacing + start) / self.scale
            if seen.size:
                close = (np.abs(seen - values[:, np.newaxis]) <= spacing / self.scale * 0.01).any(axis=-1)
                values = values[~close]
            seen = np.concatenate([seen, values])
            ticks.append((spacing / self.scale, values.tolist()))
        return ticks

    def _fast_specs_apply(self) -> bool:
        style = self.style
        return (self.orientation == "bottom" and self.grid is False and self._tickLevels is None
                and style["tickAlpha"] is None and tuple(style["stopAxisAtTick"]) == (False, False)
                and not self.logMode)

    def _text_size(self, painter, text: str) -> tuple[float, float]:
        """(width, height) pyqtgraph measures a label at, remembered per label and font."""
        font = self.style["tickFont"]
        if font is not self._text_font:
            self._text_sizes, self._text_font = {}, font
        size = self._text_sizes.get(text)
        if size is None:
            center = QtCore.Qt.AlignmentFlag.AlignCenter
            rect = painter.boundingRect(QtCore.QRectF(0, 0, 100, 100), center, text)
            rect.setHeight(rect.height() * 0.8)  # as pyqtgraph: "usually just a bit too large"
            size = self._text_sizes[text] = (rect.width(), rect.height())
        return size

    def generateDrawSpecs(self, p):
        """pyqtgraph's AxisItem.generateDrawSpecs, the same result (tests/gui/test_panels.py
        compares them), from the faster _fast_specs."""
        if not self._fast_specs_apply():
            return super().generateDrawSpecs(p)
        specs = self._fast_specs(p)
        if specs is None:
            return None
        axis_spec, tick_levels, text_specs = specs
        QPointF = QtCore.QPointF
        tick_specs = [(pen, QPointF(x, y0), QPointF(x, y1))
                      for pen, xs, y0, y1 in tick_levels for x in xs.tolist()]
        return axis_spec, tick_specs, text_specs

    def paint(self, p, opt, widget):
        # Drawn straight onto the painter, not recorded into a QPicture and replayed: the
        # range changes at every frame in follow mode, so the picture never served twice.
        # (No item cache either: the axis line runs a pixel past the item's bounds.)
        if not self._fast_specs_apply():
            return super().paint(p, opt, widget)
        p.save()
        try:
            if self.style["tickFont"]:
                p.setFont(self.style["tickFont"])
            specs = self._fast_specs(p)
            if specs is not None:
                self._draw_fast(p, *specs)
        finally:
            p.restore()
        return None

    def _fast_specs(self, p):
        """(axis spec, tick levels as (pen, xs, y0, y1), text specs), as generateDrawSpecs
        computes them for a bottom axis without grid, fixed ticks or a fixed tick alpha."""
        style = self.style
        if style["tickFont"] is not None:
            p.setFont(style["tickFont"])
        bounds = self.mapRectFromParent(self.geometry())
        span = (bounds.topLeft() + pg.Point(-1.0, 1.0), bounds.topRight() + pg.Point(1.0, 1.0))
        tick_start = tick_stop = bounds.top()
        points = [self.mapToDevice(point) for point in span]
        if None in points:
            return None
        length = pg.Point(points[1] - points[0]).length()
        if length == 0:
            return None
        levels = self.tickValues(self.range[0], self.range[1], length)
        dif = self.range[1] - self.range[0]
        if dif == 0:
            scale, offset = 1, 0
        else:
            scale = bounds.width() / dif
            offset = self.range[0] * scale
        ends = [x * scale - offset for x in self.range]
        x_min, x_max = min(ends), max(ends)
        positions: list[tuple[list[float], list[bool]]] = []
        tick_levels = []
        base_pen = self.tickPen()
        solid = base_pen.brush().style() == QtCore.Qt.BrushStyle.SolidPattern
        for i, (_spacing, ticks) in enumerate(levels):
            tick_length = style["tickLength"] / ((i * 0.5) + 1.0)
            pen = base_pen
            if solid:
                pen = QtGui.QPen(base_pen)
                color = QtGui.QColor(pen.color())
                color.setAlpha(int(255 / (i + 1)))
                pen.setColor(color)
            xs = np.asarray(ticks, dtype=np.float64) * scale - offset
            inside = (xs >= x_min) & (xs <= x_max)
            tick_levels.append((pen, xs[inside], tick_start, tick_stop + tick_length))
            positions.append((xs.tolist(), inside.tolist()))
        axis_spec = (self.pen(), span[0], span[1])
        text_specs = []
        if not style["showValues"]:
            return axis_spec, tick_levels, text_specs
        text_offset = style["tickTextOffset"][1]
        text_widths: list[float] = []  # of every label measured so far, as pyqtgraph sums them
        text_heights: list[float] = []
        last_size2 = 0
        own = self.boundingRect()
        flags = (QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.AlignmentFlag.AlignTop
                 | QtCore.Qt.TextFlag.TextDontClip)
        shift = max(0, style["tickLength"]) + text_offset
        for i in range(min(len(levels), style["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            if len(strings) == 0:
                continue
            xs, inside = positions[i]
            sizes = []
            for j, text in enumerate(strings):
                if inside[j]:
                    size = self._text_size(p, text)
                    sizes.append(size)
                    text_widths.append(size[0])
                    text_heights.append(size[1])
                else:
                    sizes.append(None)
            if text_widths:
                size = np.sum(text_widths)
                size2 = np.max(text_heights)
            else:
                size = size2 = 0
            if i > 0:  # is there room for this level's labels?
                fill = float(size) / length
                limits = style["textFillLimits"]
                if any(len(text_specs) >= count and fill >= limit for count, limit in limits):
                    break
            last_size2 = size2
            for j, text in enumerate(strings):
                if sizes[j] is None:
                    continue
                width, height = sizes[j]
                rect = QtCore.QRectF(xs[j] - width / 2.0, tick_stop + shift, width, height)
                if own & rect != rect:
                    continue
                text_specs.append((rect, flags, text))
        self._updateMaxTextSize(last_size2)
        return axis_spec, tick_levels, text_specs

    def _draw_fast(self, p, axis_spec, tick_levels, text_specs) -> None:
        """As pyqtgraph's drawPicture, with each tick level drawn as one path of segments."""
        p.setRenderHint(p.RenderHint.Antialiasing, False)
        p.setRenderHint(p.RenderHint.TextAntialiasing, True)
        pen, p1, p2 = axis_spec
        p.setPen(pen)
        p.drawLine(p1, p2)
        for pen, xs, y0, y1 in tick_levels:
            if xs.size == 0:
                continue
            ys = np.empty(2 * xs.size)
            ys[0::2], ys[1::2] = y0, y1
            p.setPen(pen)
            p.drawPath(pg.arrayToQPath(np.repeat(xs, 2), ys, connect="pairs"))
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect(), QtCore.Qt.ClipOperation.IntersectClip)
        for rect, flags, text in text_specs:
            p.drawText(rect, int(flags), text)


class TimeViewBox(pg.ViewBox):
    """A ViewBox whose left click reports the time under the mouse (to scrub)."""

    sigTimeClicked = QtCore.Signal(float)

    def screenGeometry(self):
        # Linked views line up by screen position. pyqtgraph 0.14 maps the view widget's
        # pos() (a parent coordinate) through mapToGlobal, which is wrong for any view not at
        # its parent's origin (the time axis under the stack, a scrolled stack).
        view = self.getViewWidget()
        if view is None:
            return None
        rect = view.mapFromScene(self.sceneBoundingRect()).boundingRect()
        return rect.translated(view.mapToGlobal(QtCore.QPoint(0, 0)))

    def mouseClickEvent(self, ev):
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigTimeClicked.emit(float(self.mapSceneToView(ev.scenePos()).x()))
            return
        super().mouseClickEvent(ev)


def _spacer(width: int) -> QtWidgets.QGraphicsWidget:
    widget = QtWidgets.QGraphicsWidget()
    widget.setMinimumWidth(width)
    widget.setMaximumWidth(width)
    return widget


class AlignedPlot(pg.GraphicsWidget):
    """A slim PlotItem: a title row, the left axis, the ViewBox, a right column; optionally
    a bottom axis. PlotItem builds four axes and a settings menu per plot (~8 ms each);
    this has what the stack needs and the same column widths in every plot.
    """

    def __init__(self, view_box: pg.ViewBox, bottom_axis: bool = False):
        super().__init__()
        layout = self.layout = QtWidgets.QGraphicsGridLayout()
        layout.setContentsMargins(1, 1, 1, 1)
        layout.setHorizontalSpacing(0)
        layout.setVerticalSpacing(0)
        self.setLayout(layout)
        self.vb = view_box
        self.title = pg.LabelItem("", justify="left", size="9pt")
        self.title.setMaximumHeight(TITLE_HEIGHT)
        self.left = pg.AxisItem("left")
        self.left.linkToView(view_box)
        self.left.enableAutoSIPrefix(False)
        self.left.setWidth(AXIS_WIDTH)
        self.left.setZValue(0.5)
        style_axis(self.left)
        cache_static(self.left)
        cache_static(self.title.item)
        self.spacer = _spacer(NO_BAR_WIDTH)
        layout.addItem(self.title, 0, 1)
        layout.addItem(self.left, 1, 0)
        layout.addItem(view_box, 1, 1)
        layout.addItem(self.spacer, 1, BAR_COLUMN)
        layout.setColumnStretchFactor(1, 100)
        layout.setRowStretchFactor(1, 100)
        layout.setColumnFixedWidth(BAR_COLUMN, NO_BAR_WIDTH)
        self.bottom: pg.AxisItem | None = None
        if bottom_axis:
            self.bottom = StepAxis("bottom")
            self.bottom.linkToView(view_box)
            self.bottom.enableAutoSIPrefix(False)
            style_axis(self.bottom)
            layout.addItem(self.bottom, 2, 1)
            layout.setRowFixedHeight(0, 0)
            self.title.hide()
        else:
            layout.setRowFixedHeight(0, TITLE_HEIGHT)

    def getViewBox(self) -> pg.ViewBox:
        return self.vb

    def set_right_width(self, width: int) -> None:
        self.spacer.setMinimumWidth(width)
        self.spacer.setMaximumWidth(width)
        self.layout.setColumnFixedWidth(BAR_COLUMN, width)


STALE_SHADE = (150, 150, 150, 80)


class QuantityPlot:
    """A PlotItem showing one quantity; the panel decides what it shows, it only draws."""

    def __init__(self, quantity: Quantity):
        self.quantity = quantity
        self.name = quantity.name
        self.vb = TimeViewBox(enableMenu=False, defaultPadding=0.0)
        self.item = AlignedPlot(self.vb)
        self.vb.setMouseEnabled(x=True, y=False)
        self.vb.disableAutoRange()
        self.vb.setBorder(pg.mkPen(FRAME))
        self._spacer = self.item.spacer
        self._right: QtWidgets.QGraphicsWidget = self._spacer
        self.colorbar: pg.ColorBarItem | None = None
        self.lines = LinesLayer()
        self.vb.addItem(self.lines, ignoreBounds=True)
        self.heatmap: Heatmap | None = None
        self.mask = FutureMask(BACKGROUND)
        self.mask.setVisible(False)
        self.vb.addItem(self.mask, ignoreBounds=True)
        # shades the steps a rerun has not reached yet (they still show the run before an edit)
        self.stale_mask = FutureMask(STALE_SHADE)
        self.stale_mask.setZValue(899)
        self.stale_mask.setVisible(False)
        self.vb.addItem(self.stale_mask, ignoreBounds=True)
        self.cursor = TimeCursor()
        self.vb.addItem(self.cursor, ignoreBounds=True)
        self.title = self.item.title
        self.mode = "lines"
        self.highlighted = False
        self._title_extra = ""
        self._update_title()

    # -- content ------------------------------------------------------------------------------
    def show_lines(self, rows, labels, colors, y_range: tuple[float, float]) -> None:
        self._set_mode("lines")
        self.lines.set_rows(rows, labels, colors)
        lo, hi = y_range
        pad = 0.06 * (hi - lo)
        self.vb.setYRange(lo - pad, hi + pad, padding=0)

    def show_heatmap(self, codes: np.ndarray, values_tk: np.ndarray, scale: ColorScale) -> None:
        if self.heatmap is None:
            self.heatmap = Heatmap()
            self.vb.addItem(self.heatmap, ignoreBounds=True)
        self._set_mode("heatmap")
        self.heatmap.set_codes(codes, scale.colormap, values_tk)
        self._set_colorbar(scale)
        k = codes.shape[0]
        axis = self.item.left
        if k <= 16:
            step = 1 if k <= 8 else 2
            axis.setTicks([[(j, str(j)) for j in range(0, k, step)], []])
        else:
            axis.setTicks(None)
        self.vb.setYRange(-0.5, k - 0.5, padding=0)

    def _set_mode(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        heat = mode == "heatmap"
        self.lines.setVisible(not heat)
        if heat:
            self.lines.set_rows(np.empty((0, 0), dtype=np.float32), (), ())
            if self.heatmap is not None:
                self.heatmap.setVisible(True)
        else:
            self.item.left.setTicks(None)
            if self.heatmap is not None:
                self.heatmap.setVisible(False)
                self.heatmap.clear()
            self._set_right(self._spacer)
        self.vb.invertY(heat)  # unit 0 on top, like a table

    def _set_right(self, widget: QtWidgets.QGraphicsWidget) -> None:
        """Put the color bar (heatmap) or an empty spacer (lines) in the right column."""
        if widget is self._right:
            return
        layout = self.item.layout
        layout.removeItem(self._right)
        self._right.hide()
        layout.addItem(widget, 1, BAR_COLUMN)
        widget.show()
        self._right = widget

    def _set_colorbar(self, scale: ColorScale) -> None:
        stops = colormap_stops(scale.colormap)
        cmap = pg.ColorMap([p for p, _ in stops], [c for _, c in stops])
        if self.colorbar is None:
            bar = pg.ColorBarItem(
                values=(scale.lo, scale.hi), colorMap=cmap, interactive=False, width=10,
                colorMapMenu=False,
            )
            for key in ("left", "top", "bottom"):
                bar.getAxis(key).setPen(pg.mkPen(FRAME))
            bar.getAxis("left").setWidth(1)
            bar.axis.setWidth(46)
            style_axis(bar.axis)
            bar.setMinimumWidth(BAR_WIDTH)
            bar.setMaximumWidth(BAR_WIDTH)
            cache_static(bar.axis)  # its labels (the bar's frame lines are not cached: a
            # cached item is clipped to its bounds, and those lines straddle them)
            self.colorbar = bar
        else:
            self.colorbar.setColorMap(cmap)
            self.colorbar.setLevels((scale.lo, scale.hi))
        self._set_right(self.colorbar)

    def set_right_width(self, width: int) -> None:
        self.item.set_right_width(width)

    def set_title_extra(self, text: str) -> None:
        if text != self._title_extra:
            self._title_extra = text
            self._update_title()

    def set_highlight(self, on: bool) -> None:
        if on == self.highlighted:
            return
        self.highlighted = on
        self.vb.setBorder(pg.mkPen(HIGHLIGHT, width=HIGHLIGHT_WIDTH) if on else pg.mkPen(FRAME))
        # The ViewBox strokes its border on its own edge, so half the 3-px pen lies outside
        # its bounds, which is all a repaint of the ViewBox covers (the panels' view does not
        # pad dirty rects for antialiasing): repaint the ring around it too, or the old
        # frame stays on screen when the highlight moves to another plot.
        scene = self.vb.scene()
        if scene is not None:
            pad = HIGHLIGHT_WIDTH + 1
            scene.update(self.vb.sceneBoundingRect().adjusted(-pad, -pad, pad, pad))
        self._update_title()

    def _update_title(self) -> None:
        q = self.quantity
        color = HIGHLIGHT if self.highlighted else (30, 30, 30)
        extra = self._title_extra and f"&nbsp;&nbsp;&nbsp;<span style='color:#666'>{self._title_extra}</span>"
        mark = "\u25b6 " if self.highlighted else ""
        self.title.setText(f"{mark}<b>{q.symbol}</b>&nbsp; {q.title}{extra}", color=color)

    # -- time ---------------------------------------------------------------------------------
    def set_time_extent(self, T: int) -> None:
        self.vb.setLimits(xMin=-0.5, xMax=max(T - 0.5, 0.5), minXRange=min(4.0, max(T - 1.0, 1.0)))

    def set_step(self, step: int, grow: bool) -> None:
        self.cursor.set_step(step)
        if grow:
            self.mask.set_step(step)

    def set_stale_from(self, computed: int | None) -> None:
        """Shade the steps from `computed` on as stale; None: nothing is."""
        if computed is None:
            self.stale_mask.setVisible(False)
            return
        self.stale_mask.setVisible(True)
        self.stale_mask.set_step(computed - 1)

    def set_grow(self, grow: bool, step: int) -> None:
        self.mask.set_step(step)
        self.mask.setVisible(grow)

    # -- reading ------------------------------------------------------------------------------
    def contains_scene_pos(self, pos) -> bool:
        return self.vb.sceneBoundingRect().contains(pos)

    def value_at_scene_pos(self, pos) -> tuple[int, int, float] | None:
        """(step, unit or input index, value) under a scene position, or None."""
        p = self.vb.mapSceneToView(pos)
        t = int(round(p.x()))
        if self.mode == "heatmap":
            if self.heatmap is None:
                return None
            row = int(round(p.y()))
            value = self.heatmap.value_at(t, row)
            return None if value is None else (t, row, value)
        hit = self.lines.value_at(t, p.y())
        return None if hit is None else (t, hit[0], hit[1])
