"""The hoverable, clickable parts of the cell diagram.

Each item draws itself with QPainter in scene units (vector drawing, so it stays crisp at
any zoom and device pixel ratio) and reports clicks through a `pick(component, unit)`
callback; it never touches the Document itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem

from lstmviz.gui import style
from lstmviz.gui.diagram import geometry as geo

Pick = Callable[[str, "int | None"], None]

# Parts that look the same at every step are drawn once into a pixmap at screen resolution and
# blitted when a step repaints the region around them (wires, boxes and labels cost ~3 ms a
# step to draw from vectors on a slow machine). A state change (hover, selection, what-if)
# calls update(), which redraws the pixmap; SVG export switches the caches off (export.py).
STATIC_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache


# -- math text: "c_{t-1}" drawn as c with a subscript ------------------------------------
_TOKEN = re.compile(r"_(\{[^}]*\}|[A-Za-z0-9]+)")


def math_runs(text: str) -> list[tuple[str, bool]]:
    """Split 'c_{t-1}' into [('c', False), ('t−1', True)]."""
    runs: list[tuple[str, bool]] = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() > pos:
            runs.append((text[pos : match.start()], False))
        body = match.group(1)
        body = body[1:-1] if body.startswith("{") else body
        runs.append((body.replace("-", "−"), True))
        pos = match.end()
    if pos < len(text):
        runs.append((text[pos:], False))
    return runs


def _run_font(text: str, size: float, sub: bool) -> QFont:
    px = max(int(round(size * (0.72 if sub else 1.0))), 6)
    upright = bool(re.fullmatch(r"[^A-Za-z]*|.*[A-Za-z]{2,}.*", text)) and not sub
    return style.math_font(px, italic=not upright)


def math_size(text: str, size: float) -> tuple[float, float]:
    width = 0.0
    for run, sub in math_runs(text):
        width += QFontMetricsF(_run_font(run, size, sub)).horizontalAdvance(run)
    return width, size * 1.45


def draw_math(painter: QPainter, text: str, x: float, baseline: float, size: float, color: QColor) -> float:
    """Draw math text with its baseline at (x, baseline); returns the width."""
    painter.setPen(color)
    start = x
    for run, sub in math_runs(text):
        font = _run_font(run, size, sub)
        painter.setFont(font)
        y = baseline + (size * 0.28 if sub else 0.0)
        painter.drawText(QPointF(x, y), run)
        x += QFontMetricsF(font).horizontalAdvance(run)
    return x - start


# -- the base item ---------------------------------------------------------------------------
class DiagramItem(QGraphicsItem):
    """A part of the diagram that stands for one component id."""

    halo_width = 10.0

    def __init__(self, component: str, pick: Pick):
        super().__init__()
        self.component = component
        self._pick = pick
        self._hovered = False
        self._selected = False
        self.setAcceptHoverEvents(True)
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setCacheMode(STATIC_CACHE)

    @property
    def is_highlighted(self) -> bool:
        return self._selected

    def set_selected_component(self, selected: bool) -> None:
        if selected != self._selected:
            self._selected = selected
            self.update()

    def boundingRect(self) -> QRectF:
        """The item's rect (self._rect) with room for its halo; items without one override."""
        m = self.halo_width
        return self._rect.adjusted(-m, -m, m, m)

    def halo_color(self) -> QColor | None:
        if self._selected:
            return style.SELECTED
        if self._hovered:
            return style.HOVER
        return None

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._pick(self.component, self.unit_at(event.pos()))
            event.accept()
        else:
            event.ignore()

    def unit_at(self, pos: QPointF) -> int | None:
        return None


class BoxItem(DiagramItem):
    """A gate layer: yellow box with σ or tanh, and what it is called."""

    def __init__(self, component: str, pick: Pick, center: geo.Point, symbol: str, caption: str):
        super().__init__(component, pick)
        self.symbol, self.caption = symbol, caption
        cx, cy = center
        self._rect = QRectF(cx - geo.BOX_W / 2, cy - geo.BOX_H / 2, geo.BOX_W, geo.BOX_H)
        self.whatif = ""  # what a what-if intervention does to this gate ("" = nothing)
        self._whatif_tag = ""
        self.setZValue(3)

    def set_whatif(self, text: str) -> None:
        """Mark the gate as changed by a what-if intervention: a dashed outline, and a tag on
        its top edge with the short form ("f = 1"; the full text is the tool tip and the line
        under the diagram's title)."""
        if text != self.whatif:
            self.whatif = text
            self._whatif_tag = "; ".join(part.split(" (")[0] for part in text.split("; ")) if text else ""
            self.update()

    def _tag_rect(self) -> QRectF:
        width = min(geo.BOX_W + 6, QFontMetricsF(style.font(11, bold=True)).horizontalAdvance(
            self._whatif_tag) + 10)
        center = self._rect.center().x()
        return QRectF(center - width / 2, self._rect.top() - 9, width, 15)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self._rect, 8, 8)
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(self._rect.adjusted(-7, -7, 7, 7), 13, 13)
        painter.setPen(QPen(style.GATE_BORDER, 2.0))
        painter.setBrush(style.GATE_FILL)
        painter.drawRoundedRect(self._rect, 8, 8)
        sym_font = style.math_font(26 if self.symbol == "σ" else 21, italic=False)
        painter.setFont(sym_font)
        painter.setPen(style.LABEL)
        top = self._rect.adjusted(0, 2, 0, -geo.BOX_H * 0.36)
        painter.drawText(top, Qt.AlignmentFlag.AlignCenter, self.symbol)
        painter.setFont(style.font(13))
        painter.setPen(style.CAPTION)
        bottom = self._rect.adjusted(0, geo.BOX_H * 0.58, 0, -3)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignCenter, f"{self.caption}  {self.component}")
        if self.whatif:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(style.WHATIF, 2.5, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(self._rect.adjusted(-4, -4, 4, 4), 10, 10)
            tag = self._tag_rect()  # inside the halo margin: no bounds change needed
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.WHATIF)
            painter.drawRoundedRect(tag, 6, 6)
            painter.setFont(style.font(11, bold=True))
            painter.setPen(style.BACKGROUND)
            painter.drawText(tag, Qt.AlignmentFlag.AlignCenter, self._whatif_tag)


class NodeItem(DiagramItem):
    """A pointwise operation: pink circle with ×, + (or a pink ellipse with tanh)."""

    def __init__(self, component: str, pick: Pick, center: geo.Point, symbol: str):
        super().__init__(component, pick)
        self.symbol = symbol
        cx, cy = center
        r = geo.NODE_R
        w, h = (2 * r + 16, 2 * r - 6) if symbol == "tanh" else (2 * r, 2 * r)
        self._rect = QRectF(cx - w / 2, cy - h / 2, w, h)
        self.setZValue(4)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addEllipse(self._rect.adjusted(-3, -3, 3, 3))
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawEllipse(self._rect.adjusted(-7, -7, 7, 7))
        painter.setPen(QPen(style.OP_BORDER, 2.0))
        painter.setBrush(style.OP_FILL)
        painter.drawEllipse(self._rect)
        if self.symbol == "tanh":
            painter.setFont(style.math_font(15, italic=False))
        else:
            painter.setFont(style.font(24, bold=True))
        painter.setPen(style.LABEL)
        painter.drawText(self._rect.adjusted(0, -1, 0, -1), Qt.AlignmentFlag.AlignCenter, self.symbol)


class WireItem(DiagramItem):
    """A wire carrying a vector, with an arrow head where it arrives."""

    halo_width = 12.0

    def __init__(self, component: str, pick: Pick, wire: geo.Wire):
        super().__init__(component, pick)
        self.wire = wire
        path = QPainterPath(QPointF(*wire.points[0]))
        for point in wire.points[1:]:
            path.lineTo(QPointF(*point))
        self._path = path
        stroker = QPainterPathStroker()
        stroker.setWidth(14.0)
        stroker.setCapStyle(Qt.PenCapStyle.FlatCap)
        self._shape = stroker.createStroke(path)
        self._arrow = self._arrow_head() if wire.arrow else None
        self.setZValue(2 if wire.casing else 1)

    def _arrow_head(self) -> QPolygonF:
        (x0, y0), (x1, y1) = self.wire.points[-2], self.wire.points[-1]
        angle = math.atan2(y1 - y0, x1 - x0)
        size = 9.0 + self.wire.width
        left = (x1 - size * math.cos(angle - 0.42), y1 - size * math.sin(angle - 0.42))
        right = (x1 - size * math.cos(angle + 0.42), y1 - size * math.sin(angle + 0.42))
        return QPolygonF([QPointF(x1, y1), QPointF(*left), QPointF(*right)])

    def boundingRect(self) -> QRectF:
        m = self.halo_width
        return self._path.boundingRect().adjusted(-m, -m, m, m)

    def shape(self) -> QPainterPath:
        return self._shape

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setBrush(Qt.BrushStyle.NoBrush)
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(
                QPen(
                    halo,
                    self.wire.width + 9,
                    Qt.PenStyle.SolidLine,
                    Qt.PenCapStyle.RoundCap,
                    Qt.PenJoinStyle.RoundJoin,
                )
            )
            painter.drawPath(self._path)
        if self.wire.casing:
            painter.setPen(
                QPen(style.CELL_FILL, self.wire.width + 10, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
            )
            painter.drawPath(self._path)
        color = style.MEMORY_WIRE if self.wire.width > 3 else style.WIRE
        painter.setPen(
            QPen(
                color,
                self.wire.width,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.FlatCap,
                Qt.PenJoinStyle.MiterJoin,
            )
        )
        painter.drawPath(self._path)
        if self._arrow is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawPolygon(self._arrow)


class LabelItem(DiagramItem):
    """A big math label at a wire's end: c_{t-1}, h_{t-1}, x_t, c_t, h_t."""

    def __init__(
        self, component: str, pick: Pick, text: str, anchor: geo.Point, align: str, size: float = 24.0
    ):
        super().__init__(component, pick)
        self.text = text
        self.size = size
        w, h = math_size(text, self.size)
        ax, ay = anchor
        vertical, horizontal = align.split("-")
        x = {"left": ax, "center": ax - w / 2, "right": ax - w}[horizontal]
        y = ay if vertical == "top" else ay - h
        self._rect = QRectF(x, y, w, h)
        self.setZValue(5)

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-6, -4, 6, 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(self._rect.adjusted(-5, -2, 5, 2), 6, 6)
        baseline = self._rect.top() + self.size * 1.02
        color = style.LABEL if self.size >= 20 else style.CAPTION
        draw_math(painter, self.text, self._rect.left(), baseline, self.size, color)


class ProjectionItem(BoxItem):
    """The W_hr box of a projected (LSTMP) cell: h_t = W_hr·r_t, clicked as part of h."""

    def __init__(self, pick: Pick, center: geo.Point, width: float, height: float):
        super().__init__("h", pick, center, "W_hr", "projection")
        cx, cy = center
        self._rect = QRectF(cx - width / 2, cy - height / 2, width, height)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(self._rect.adjusted(-7, -7, 7, 7), 11, 11)
        painter.setPen(QPen(style.GATE_BORDER, 2.0))
        painter.setBrush(style.GATE_FILL)
        painter.drawRoundedRect(self._rect, 6, 6)
        painter.setFont(style.math_font(17, italic=True))
        painter.setPen(style.LABEL)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, "Wₕᵣ")


_CELL_RGB32 = np.array(style.CELL_COLOR_TABLE, dtype=np.uint32)  # color index -> 0xffRRGGBB


class ColumnItem(DiagramItem):
    """A vector at the current step: one colored cell per unit, its number written inside
    when there are at most 8 units; hovering a cell shows its value, clicking picks the unit.

    Colors arrive as indices into the fixed table `style.CELL_COLORS`
    (`lstmviz.core.colormap.color_indices`). A column of more than 8 cells is painted as one
    1-pixel-wide (or -high) image scaled without smoothing, plus one cached path of
    cell separators, instead of one rectangle per cell."""

    def __init__(self, component: str, pick: Pick, column: geo.Column, symbol: str):
        super().__init__(component, pick)
        self.column = column
        self.symbol = symbol  # for tooltips: "f_t"
        self.count = column.count
        self.horizontal = column.horizontal
        self.cell_h = geo.CELL_H if column.horizontal else geo.cell_height(column.count)
        self.cell_w = geo.cell_width(column.count) if column.horizontal else geo.CELL_W
        self._values = np.zeros(0)
        self._indices = np.zeros(0, dtype=np.uint8)
        self._texts: list[str] = []
        self._unit: int | None = None  # the unit marked (the inspector's unit)
        self.whatif = ""  # what a what-if intervention does to this vector ("" = nothing)
        self._hover_unit: int | None = None
        if column.horizontal:
            self._cells = QRectF(column.x, column.y, self.cell_w * column.count, self.cell_h)
        else:
            self._cells = QRectF(column.x, column.y, geo.CELL_W, self.cell_h * column.count)
        self._label_w = math_size(column.label, 15.0)[0] if column.label else 0.0
        # its values change at every step: drawn each time; its label is a cached child
        self.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        if column.label:
            _ColumnLabel(self, column.label, self._cells.left(), self._cells.top() - 7)
        self._thin = min(self.cell_h, self.cell_w) < 6
        self._image: QImage | None = None
        self._separators: QPainterPath | None = None
        if not self.show_numbers and self.count > 0:
            w, h = (self.count, 1) if self.horizontal else (1, self.count)
            # RGB32, not Indexed8: drawing an indexed image converts it at every paint (~15x
            # the cost of blitting RGB32, 3 ms a step for the 12 columns at n = 64)
            self._image = QImage(w, h, QImage.Format.Format_RGB32)
            self._image.fill(style.CELL_COLORS[len(style.CELL_COLORS) // 2])
            if not self._thin:
                path = QPainterPath()
                for k in range(1, self.count):
                    edge = self.cell_rect(k)
                    end = edge.bottomLeft() if self.horizontal else edge.topRight()
                    path.moveTo(edge.topLeft())
                    path.lineTo(end)
                self._separators = path
        self.setZValue(6)

    _outline = QPen(style.CELL_OUTLINE, 0.8)
    _border = QPen(style.CELL_OUTLINE, 1.2)

    @property
    def show_numbers(self) -> bool:
        return self.count <= geo.MAX_CELLS

    @property
    def _fills(self) -> list[QColor]:
        """The fill color of each cell (for tests and tools)."""
        return [style.CELL_COLORS[int(k)] for k in self._indices]

    def cell_rect(self, k: int) -> QRectF:
        if self.horizontal:
            return QRectF(self._cells.left() + k * self.cell_w, self._cells.top(), self.cell_w, self.cell_h)
        return QRectF(self._cells.left(), self._cells.top() + k * self.cell_h, geo.CELL_W, self.cell_h)

    def boundingRect(self) -> QRectF:
        rect = self._cells.adjusted(-5, -5, 5, 5)
        if self.column.label:
            label = QRectF(
                self._cells.left() - 4,
                self._cells.top() - geo.LABEL_H - 2,
                max(self._label_w + 8, geo.CELL_W),
                geo.LABEL_H + 2,
            )
            rect = rect.united(label)
        return rect

    def set_values(self, values, indices, texts: Sequence[str] | None = None) -> None:
        """values: the numbers (tooltips, value()); indices: their color indices (uint8, one per
        cell); texts: the labels, needed only when numbers are drawn (show_numbers)."""
        self._values = values
        self._indices = indices
        self._texts = list(texts) if texts is not None else []
        if self._image is not None and len(indices) == self.count:
            image = self._image
            pixels = np.frombuffer(image.bits(), np.uint32).reshape(image.height(), image.bytesPerLine() // 4)
            colors = _CELL_RGB32[np.asarray(indices, dtype=np.intp)]
            if self.horizontal:
                pixels[0, : self.count] = colors
            else:
                pixels[:, 0] = colors
        self.update()

    def set_whatif(self, text: str) -> None:
        if text != self.whatif:
            self.whatif = text
            self.setToolTip(text)
            self.update()

    def set_unit(self, unit: int | None) -> None:
        if unit != self._unit:
            self._unit = unit
            self.update()

    def value(self, k: int) -> float:
        return float(self._values[k])

    def unit_at(self, pos: QPointF) -> int | None:
        if not self._cells.contains(pos) or self.count == 0:
            return None
        if self.horizontal:
            k = int((pos.x() - self._cells.left()) // self.cell_w)
        else:
            k = int((pos.y() - self._cells.top()) // self.cell_h)
        return min(max(k, 0), self.count - 1)

    def hoverMoveEvent(self, event) -> None:
        k = self.unit_at(event.pos())
        if k != self._hover_unit:
            self._hover_unit = k
            self.update()
        if k is not None and k < len(self._values):
            self.setToolTip(self.cell_tooltip(k))

    def hoverLeaveEvent(self, event) -> None:
        self._hover_unit = None
        super().hoverLeaveEvent(event)

    def cell_tooltip(self, k: int) -> str:
        from lstmviz.components import to_html
        from lstmviz.core.explain import format_number

        value = format_number(self._values[k], 6)
        return (
            f"<b>{to_html(self.symbol)}[{k}] = {value}</b><br>unit {k} of {self.count}"
            f"<br><i>click: work through unit {k}</i>"
        )

    def paint(self, painter: QPainter, option, widget=None) -> None:
        halo = self.halo_color()
        if halo is not None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(halo)
            painter.drawRoundedRect(self._cells.adjusted(-5, -5, 5, 5), 5, 5)
        if self._image is not None:
            self._paint_image(painter)
        else:
            self._paint_cells(painter)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(self._border)
        painter.drawRect(self._cells)
        if self.whatif:
            painter.setPen(QPen(style.WHATIF, 2.0, Qt.PenStyle.DashLine))
            painter.drawRect(self._cells.adjusted(-3, -3, 3, 3))
        for unit, color, width in (
            (self._hover_unit, style.HOVER, 2.5),
            (self._unit, style.SELECTED_SOLID, 3.0),
        ):
            if unit is not None and unit < self.count:
                painter.setPen(QPen(color, width))
                painter.drawRect(self.cell_rect(unit).adjusted(-1.5, -0.5, 1.5, 0.5))

    def _paint_image(self, painter: QPainter) -> None:
        """Every cell at once: the one-pixel-per-cell image stretched over the cells, pixels kept sharp."""
        if len(self._indices) != self.count:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(style.BACKGROUND)
            painter.drawRect(self._cells)
            return
        smooth = painter.testRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        if smooth:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self._cells, self._image, QRectF(self._image.rect()))
        if smooth:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        if self._separators is not None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(self._outline)
            painter.drawPath(self._separators)

    def _paint_cells(self, painter: QPainter) -> None:
        """A few cells, each a rectangle with its number written inside."""
        painter.setPen(Qt.PenStyle.NoPen if self._thin else self._outline)
        brushes, inks = style.CELL_BRUSHES, style.CELL_INKS
        indices = self._indices
        texts = self._texts if self.show_numbers else ()
        font = style.font(16) if texts else None
        for k in range(self.count):
            rect = self.cell_rect(k)
            if k < len(indices):
                painter.setBrush(brushes[indices[k]])
            else:
                painter.setBrush(style.BACKGROUND)
            painter.drawRect(rect)
            if k < len(texts):
                painter.setPen(inks[indices[k]])
                painter.setFont(font)
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, texts[k])
                painter.setPen(Qt.PenStyle.NoPen if self._thin else self._outline)


class _ColumnLabel(QGraphicsItem):
    """A column's math label (f_t, c_{t-1}, ...): a child of the column, drawn once into its
    cache, so the column's repaint at each step does not lay out text again."""

    SIZE = 15.0

    def __init__(self, column: ColumnItem, text: str, x: float, baseline: float):
        super().__init__(column)
        self.text = text
        self._x, self._baseline = x, baseline
        w = math_size(text, self.SIZE)[0]
        # ascenders above the baseline; subscripts sit 0.28 em below it (draw_math)
        self._rect = QRectF(x - 2, baseline - 1.15 * self.SIZE, w + 4, 1.85 * self.SIZE)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # clicks go to the column
        self.setAcceptHoverEvents(False)
        self.setCacheMode(STATIC_CACHE)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        draw_math(painter, self.text, self._x, self._baseline, self.SIZE, style.CAPTION)


class StaticText(QGraphicsItem):
    """Text that is not a component (the step title, the what-if and stale notes).

    With `max_width` the text never draws wider: a longer one is shortened to `short` (when
    given, e.g. a summary) and elided to fit, and the tooltip holds the whole text."""

    def __init__(self, pos: geo.Point, size: int = 17, color: QColor = style.LABEL, bold: bool = False,
                 max_width: float | None = None):
        super().__init__()
        self._color = color
        self._pos = QPointF(*pos)
        self._text = ""  # the whole text (what tests and tools read)
        self._shown = ""  # what is drawn: the text, or its summary elided to max_width
        self._font = style.font(size, bold=bold)
        self._max_width = max_width
        self._rect = QRectF()

    def set_text(self, text: str, short: str | None = None) -> None:
        self.prepareGeometryChange()
        self._text = text
        metrics = QFontMetricsF(self._font)
        shown = text
        limit = self._max_width
        if limit is not None and metrics.horizontalAdvance(text) + 4 > limit:
            shown = metrics.elidedText(short or text, Qt.TextElideMode.ElideRight, limit - 4)
        self._shown = shown
        self.setToolTip(text if shown != text else "")
        self._rect = QRectF(
            self._pos.x(), self._pos.y(), metrics.horizontalAdvance(shown) + 4 if shown else 0.0,
            metrics.height()
        )
        self.update()

    @property
    def shown_text(self) -> str:
        return self._shown

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setFont(self._font)
        painter.setPen(self._color)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._shown)


class LegendItem(QGraphicsItem):
    """The color scale: −1 blue, 0 white, +1 red."""

    def __init__(self, right: float, top: float, stops: Sequence[tuple[float, tuple[int, int, int]]]):
        super().__init__()
        self._bar = QRectF(right - 170, top + 4, 150, 14)
        self._stops = stops
        self.setCacheMode(STATIC_CACHE)
        self.setToolTip(
            "Colors of the cells: −1 deep blue, 0 white, +1 deep red; "
            "values beyond ±1 keep the deepest color."
        )

    def boundingRect(self) -> QRectF:
        return self._bar.adjusted(-36, -4, 22, 22)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        gradient = QLinearGradient(self._bar.topLeft(), self._bar.topRight())
        for position, color in self._stops:
            gradient.setColorAt(position, style.rgb(color))
        painter.setPen(QPen(style.CELL_OUTLINE, 0.8))
        painter.setBrush(QBrush(gradient))
        painter.drawRect(self._bar)
        painter.setFont(style.font(13))
        painter.setPen(style.CAPTION)
        below = self._bar.bottom() + 2
        for x, text in ((self._bar.left(), "−1"), (self._bar.center().x(), "0"), (self._bar.right(), "+1")):
            painter.drawText(QRectF(x - 20, below, 40, 16), Qt.AlignmentFlag.AlignCenter, text)
