"""Pieces the analysis views share: the view base class, plot styling, a clickable time axis.

Every view is a QWidget on one Document. It subscribes to the Document's signals with
`bind` (disconnected when the widget dies), recomputes only when what it shows changed,
and while it is hidden (a closed or tabbed-away dock) it only marks itself stale and
catches up when shown.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.colors import colormap_lut, unit_color
from lstmviz.gui.binding import bind
from lstmviz.gui.panels.cursor import TimeCursor

BACKGROUND = (255, 255, 255)
FOREGROUND = (60, 60, 60)
FRAME = (190, 190, 190)
MUTED = (120, 120, 120)
TARGET_COLOR = (40, 40, 40)
AXIS_WIDTH = 58
FORGET_COLOR = (44, 140, 60)
BEFORE_COLOR = (150, 150, 150)


class ReadableAxis(pg.AxisItem):
    """An axis whose tick labels never overprint one another.

    pyqtgraph always draws every major label, however short the plot: the What-if view's
    ~40-px plots at 1280 x 720 printed five labels into each other. A label that would touch
    one already placed (majors first) is left out; its tick stays. On a log axis the labels
    between decades are the 1-2-5 ones that fit (every one of 2..9 only with the room for
    it), where pyqtgraph printed 0.1, 0.09, 0.08, ... on top of each other."""

    LOG_LABELS = ((2, 3, 4, 5, 6, 7, 8, 9), (2, 3, 5), (2, 5), ())  # the first whose labels fit
    GAP_PX = 2.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._between_decades: tuple[int, ...] = ()
        self.label_gap = self.GAP_PX  # the least room between two labels; an axis may want more

    def _label_px(self) -> float:
        font = self.style.get("tickFont") or QtGui.QFont()
        return QtGui.QFontMetricsF(font).height() * 0.8 + self.GAP_PX  # (pyqtgraph's 0.8)

    def logTickValues(self, minVal, maxVal, size, stdTicks):
        decades = abs(maxVal - minVal)
        per_decade = size / decades if decades > 0 else float("inf")
        need = self._label_px() if self.orientation in ("left", "right") else 0.0
        self._between_decades = ()
        for labels in self.LOG_LABELS:
            marks = sorted({0.0, 1.0, *(math.log10(k) for k in labels)})
            if not need or min(b - a for a, b in zip(marks, marks[1:])) * per_decade >= need:
                self._between_decades = labels
                break
        return super().logTickValues(minVal, maxVal, size, stdTicks)

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        keep = {1, 10, *self._between_decades}  # (10: a decade just below a whole log value)
        return [text if round(10 ** (float(v) % 1.0)) in keep else "" for v, text in zip(values, strings)]

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return specs
        axis_spec, tick_specs, text_specs = specs
        vertical = self.orientation in ("left", "right")
        kept: list[QtCore.QRectF] = []
        shown = []
        for spec in text_specs:
            rect, _flags, text = spec
            if not text:
                continue
            gap = self.label_gap
            grown = rect.adjusted(0, -gap / 2, 0, gap / 2) if vertical else rect.adjusted(-gap, 0, gap, 0)
            if any(grown.intersects(other) for other in kept):
                continue
            kept.append(rect)
            shown.append(spec)
        return axis_spec, tick_specs, shown


def styled_axis(axis: pg.AxisItem) -> None:
    axis.setPen(pg.mkPen(FOREGROUND))
    axis.setTextPen(pg.mkPen(FOREGROUND))
    axis.enableAutoSIPrefix(False)
    font = QtGui.QFont()
    font.setPointSizeF(8.0)
    axis.setStyle(tickFont=font)


def new_plot(title: str = "", view_box: pg.ViewBox | None = None, left: str = "", bottom: str = "",
             left_width: int | None = AXIS_WIDTH) -> pg.PlotItem:
    """A PlotItem in the analysis views' style: no context menu, thin frame, small fonts."""
    item = pg.PlotItem(viewBox=view_box, enableMenu=False,
                       axisItems={key: ReadableAxis(key) for key in ("left", "bottom")})
    item.hideButtons()
    for key in ("left", "bottom"):
        styled_axis(item.getAxis(key))
    if left_width is not None:
        item.getAxis("left").setWidth(left_width)
    if left:
        item.setLabel("left", left, color="#444", **{"font-size": "8pt"})
    if bottom:
        item.setLabel("bottom", bottom, color="#444", **{"font-size": "8pt"})
    item.getViewBox().setBorder(pg.mkPen(FRAME))
    if title:
        set_title(item, title)
    return item


TITLE_ROW_PX = 18  # pyqtgraph gives a title row 30 px; a 9-pt line needs 18 (views in 290-px docks)
TITLE_LINE_PX = 15  # each further line of a wrapped title
ELLIPSIS = "…"


def set_title(item: pg.PlotItem, html: str, lines: int = 1) -> None:
    """The plot's title, left-aligned in a short row. A title wider than its plot is wrapped onto
    at most `lines` lines, and what still does not fit is cut at a word's edge with "…", the whole
    title in the tooltip; it is fitted again at every resize. (Unfitted, pyqtgraph printed the
    Activation curve's title past the plot's right edge: "…tanh(c) and its".)"""
    label = item.titleLabel
    label._lstmviz_lines = max(1, int(lines))
    item.setTitle(html, justify="left", size="9pt", color="#222")
    label._lstmviz_full_html = label.item.toHtml()
    label._lstmviz_full_text = label.item.toPlainText()
    if not getattr(label, "_lstmviz_narrow", False):
        # pyqtgraph makes the title's width the plot's minimum (again at every resize): a long
        # one made the Activation curve's plot 466 px wide in a 382-px canvas, its right part
        # cut off. The title is fitted to the width the plot has instead.
        wide_min = label.updateMin

        def narrow_min():
            wide_min()
            label.setMinimumWidth(0)
            height = label._sizeHint[QtCore.Qt.SizeHint.PreferredSize][1]
            label._sizeHint[QtCore.Qt.SizeHint.PreferredSize] = (0, height)

        label.updateMin = narrow_min
        label._lstmviz_narrow = True
        label._lstmviz_plot = item
        label._lstmviz_fitting = False
        label.geometryChanged.connect(lambda: _fit_title(label))
        narrow_min()
    _fit_title(label)


def title_text(item: pg.PlotItem) -> str:
    """The title as shown (elided or not), as plain text."""
    return item.titleLabel.item.toPlainText()


def title_full_text(item: pg.PlotItem) -> str:
    """The whole title, as plain text (the tooltip of an elided one)."""
    return getattr(item.titleLabel, "_lstmviz_full_text", title_text(item))


def title_fits(item: pg.PlotItem) -> bool:
    """Whether the shown title lies within the title's row (its width and height)."""
    label = item.titleLabel
    shown = label.mapRectToScene(label.itemRect())
    margin = label.item.document().documentMargin()
    shown = shown.adjusted(margin, margin, -margin, -margin)
    row = label.mapRectToScene(label.rect())
    return shown.right() <= row.right() + 0.5 and shown.bottom() <= row.bottom() + 0.5


def _title_lines(document: QtGui.QTextDocument) -> int:
    document.size()  # lays it out
    lines, block = 0, document.begin()
    while block.isValid():
        lines += block.layout().lineCount()
        block = block.next()
    return max(1, lines)


def _fit_title(label) -> None:
    if label._lstmviz_fitting or not hasattr(label, "_lstmviz_full_html"):
        return
    width = label.size().width()
    if width < 1:
        return
    label._lstmviz_fitting = True
    try:
        text_item, lines = label.item, label._lstmviz_lines
        document = text_item.document()

        def fits(doc: QtGui.QTextDocument) -> bool:  # (the document's size counts its margins)
            if lines == 1:
                return doc.size().width() <= width + 0.5
            return _title_lines(doc) <= lines and doc.idealWidth() <= width + 0.5

        text_item.setTextWidth(-1 if lines == 1 else width)
        text_item.setHtml(label._lstmviz_full_html)
        elided = not fits(document)
        if elided:
            full = document.toPlainText()
            low, high = 0, len(full)  # the longest kept prefix that fits with an ellipsis
            while low < high:
                mid = (low + high + 1) // 2
                if fits(_cut(label._lstmviz_full_html, mid, text_item)):
                    low = mid
                else:
                    high = mid - 1
            keep = low
            space = max((full.rfind(ch, 0, keep + 1) for ch in " \u00a0"), default=-1)
            if space > keep // 2:  # at a word's edge, unless that throws away half the title
                keep = space
            while keep > 0 and full[keep - 1] in " \u00a0:,·":
                keep -= 1
            _cut_in_place(document, keep)
        label.setToolTip(label._lstmviz_full_text if elided else "")
        shown_lines = 1 if lines == 1 else _title_lines(document)
        row = TITLE_ROW_PX + TITLE_LINE_PX * (shown_lines - 1)
        label.setMaximumHeight(row)
        label._lstmviz_plot.layout.setRowFixedHeight(0, row)
        label.resizeEvent(None)
    finally:
        label._lstmviz_fitting = False


def _cut(html: str, keep: int, like: QtWidgets.QGraphicsTextItem) -> QtGui.QTextDocument:
    document = QtGui.QTextDocument()
    document.setDefaultFont(like.font())
    document.setDocumentMargin(like.document().documentMargin())
    document.setTextWidth(like.textWidth())
    document.setHtml(html)
    _cut_in_place(document, keep)
    return document


def _cut_in_place(document: QtGui.QTextDocument, keep: int) -> None:
    cursor = QtGui.QTextCursor(document)
    cursor.setPosition(keep)
    cursor.movePosition(QtGui.QTextCursor.MoveOperation.End, QtGui.QTextCursor.MoveMode.KeepAnchor)
    cursor.removeSelectedText()
    cursor.insertText(ELLIPSIS)


class FittedAxisLabel(QtCore.QObject):
    """An axis label that is as long as its axis has room for: the first of `choices` (HTML)
    that fits along the axis, else none; the first, longest, in the axis's tooltip. The
    Memory view's "share / gradient", rotated beside a 35-px plot, ran over the plots above
    and below it."""

    def __init__(self, plot: pg.PlotItem, side: str, choices, tip: str = ""):
        super().__init__(plot)
        self.axis = plot.getAxis(side)
        self.choices: tuple[str, ...] = ()
        self.tip = tip
        self.shown: str | None = None
        self._length = -1.0
        self.axis.geometryChanged.connect(self._update)
        self.set_choices(choices, tip)

    def set_choices(self, choices, tip: str | None = None) -> None:
        self.choices = tuple(choices)
        if tip is not None:
            self.tip = tip
        self._length = -1.0
        self._update()

    def _room(self) -> float:
        size = self.axis.size()
        return size.height() if self.axis.orientation in ("left", "right") else size.width()

    def _update(self) -> None:
        room = self._room()
        if room == self._length:
            return
        self._length = room
        axis = self.axis
        margin = 2 * axis.label.document().documentMargin()
        chosen = ""
        for text in self.choices:
            axis.setLabel(text, color="#444", **{"font-size": "8pt"})
            if axis.label.boundingRect().width() - margin <= room - 2:
                chosen = text
                break
        if not chosen:
            axis.setLabel("")
        self.shown = chosen
        axis.setToolTip(self.tip or (self.choices[0] if self.choices else ""))

    def label_fits(self) -> bool:
        """Whether the shown label lies along its axis (for tests)."""
        axis = self.axis
        if not axis.label.isVisible():
            return True
        margin = axis.label.document().documentMargin()
        text = axis.label.boundingRect().adjusted(margin, margin, -margin, -margin)
        shown = axis.label.mapRectToScene(text)
        own = axis.mapRectToScene(axis.boundingRect())
        if axis.orientation in ("left", "right"):
            return shown.top() >= own.top() - 0.5 and shown.bottom() <= own.bottom() + 0.5
        return shown.left() >= own.left() - 0.5 and shown.right() <= own.right() + 0.5


def layout_widget() -> pg.GraphicsLayoutWidget:
    widget = pg.GraphicsLayoutWidget()
    widget.setBackground(BACKGROUND)
    widget.ci.setContentsMargins(4, 4, 8, 4)
    widget.ci.setSpacing(4)
    return widget


def pen(rgb, width: float = 1.5, style=None) -> QtGui.QPen:
    p = pg.mkPen(rgb, width=width)
    if style is not None:
        p.setStyle(style)
    return p


DASH = QtCore.Qt.PenStyle.DashLine
DOT = QtCore.Qt.PenStyle.DotLine


# Wider than 1 px, Qt strokes a line ~30x slower (DESIGN.md): long traces are drawn 1 px wide.
LONG_TRACE = 2000


def trace_pen(rgb, width: float, T: int, style=None) -> QtGui.QPen:
    """A pen for a curve over T steps: `width` for short runs, a fast 1-px pen for long ones."""
    return pen(rgb, width if T <= LONG_TRACE else 1.0, style)


def fast_curve(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """Peak downsampling and clipping to the view: a long trace costs what its pixels cost."""
    item.setDownsampling(auto=True, method="peak")
    item.setClipToView(True)
    return item


class UnitTicks(QtCore.QObject):
    """Integer unit labels on a heatmap's left axis, as many as fit (one every 14 px or more);
    they follow the plot's height."""

    def __init__(self, plot: pg.PlotItem):
        super().__init__(plot)
        self._plot = plot
        self._n = 0
        plot.getViewBox().sigResized.connect(self._update)

    def set_count(self, n: int) -> None:
        self._n = int(n)
        self._update()

    def _update(self, *_args) -> None:
        n = self._n
        height = max(self._plot.getViewBox().height(), 1.0)
        every = max(1, math.ceil(n * 14.0 / height))
        for nice in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
            if nice >= every:
                every = nice
                break
        self._plot.getAxis("left").setTicks([[(j, str(j)) for j in range(0, n, every)], []])


def current_step(doc) -> int:
    """The Document's step, within the trace: a trace_changed that shortens the run arrives
    before the step is moved back inside it."""
    return min(doc.step, doc.T - 1)


def unit_rgb(k: int | None) -> tuple[int, int, int]:
    return (40, 40, 40) if k is None else unit_color(k)


def diverging_lut():
    return colormap_lut("diverging")


class ClickViewBox(pg.ViewBox):
    """A ViewBox whose left click reports where it landed, in data coordinates."""

    sigClicked = QtCore.Signal(float, float)

    def __init__(self, **kwargs):
        kwargs.setdefault("enableMenu", False)
        super().__init__(**kwargs)

    def mouseClickEvent(self, ev):
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            ev.accept()
            point = self.mapSceneToView(ev.scenePos())
            self.sigClicked.emit(float(point.x()), float(point.y()))
            return
        super().mouseClickEvent(ev)


def add_cursor(item: pg.PlotItem, on_drag) -> TimeCursor:
    """The panels' cheap time cursor (a step repaints a thin strip), dragged to scrub."""
    cursor = TimeCursor()
    item.getViewBox().addItem(cursor, ignoreBounds=True)
    cursor.sigDragged.connect(on_drag)
    return cursor


def small_label(text: str = "", tip: str = "") -> QtWidgets.QLabel:
    label = QtWidgets.QLabel(text)
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    # wrapped: an unwrapped readout is as wide as its longest line, and that width becomes the
    # dock's (and the window's) minimum
    label.setWordWrap(True)
    if tip:
        label.setToolTip(tip)
    return label


def hex_rgb(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb[:3]))


def swatch(rgb, dashed: bool = False) -> str:
    """A short colored line for an HTML legend."""
    color = "#{:02x}{:02x}{:02x}".format(*rgb)
    glyph = "╌╌" if dashed else "━━"
    return f"<span style='color:{color}; font-weight:bold'>{glyph}</span>"


def hint_label(text: str = "") -> QtWidgets.QLabel:
    """A wrapped, muted sentence that says what a view shows and how to read it."""
    label = QtWidgets.QLabel(text)
    label.setTextFormat(QtCore.Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setStyleSheet("color: #4a5a6a;")
    return label


def set_tip(widget: QtWidgets.QWidget, tip: str) -> QtWidgets.QWidget:
    widget.setToolTip(tip)
    widget.setStatusTip(tip)
    return widget


class AnalysisView(QtWidgets.QWidget):
    """Base: Document subscriptions, and refresh deferred while hidden.

    Subclasses call `listen(signal, kind)` for the Document signals they care about; each
    signal marks a kind of staleness ('data', 'step', ...) and `refresh_now(kinds)` is called
    with everything that changed, at once when visible, otherwise at the next show.
    """

    title = "Analysis"
    # In a scroll area (lstmviz.gui.analysis._scrolling) a view is laid out at its height for
    # its width, and Qt counts a canvas whose vertical policy is Ignored there as 0 px: the
    # Memory view was laid out 315 px tall where it needed 329, its legend drawn over the
    # heatmap's "step t". A view that sets this counts its canvases' minimum heights.
    count_canvas_minimum = False

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self._stale: set[str] = set()
        self._handlers: list = []
        # While a rerun streams in (lstmviz.gui.rerun) a view keeps the run before the edit
        # and says so; it recomputes once, at the end (its trace_changed).
        self._rerun_note = QtWidgets.QLabel("Rerunning the edited cell: this view shows the run "
                                            "before the edit until the rerun ends", self)
        self._rerun_note.setObjectName("analysisRerunNote")
        self._rerun_note.setStyleSheet("background: #fff3e0; color: #b06000; padding: 2px 6px;"
                                       " border: 1px solid #e0b070;")
        self._rerun_note.hide()
        bind(self, document.trace_progress, self._rerun_progress)

    def heightForWidth(self, width: int) -> int:
        height = super().heightForWidth(width)
        layout = self.layout()
        if not self.count_canvas_minimum or height < 0 or not isinstance(layout, QtWidgets.QBoxLayout) \
                or layout.direction() not in (QtWidgets.QBoxLayout.Direction.TopToBottom,
                                              QtWidgets.QBoxLayout.Direction.BottomToTop):
            return height
        ignored = QtWidgets.QSizePolicy.Policy.Ignored
        for index in range(layout.count()):
            item = layout.itemAt(index)
            widget = item.widget()
            if widget is not None and not widget.isHidden() and not item.hasHeightForWidth() \
                    and widget.sizePolicy().verticalPolicy() == ignored:
                height += widget.minimumHeight()  # (one with a height for width gets its minimum)
        return height

    def listen(self, signal, kind: str) -> None:
        # a Document signal holds a method weakly: a small QObject child of the view holds it for as
        # long as the view lives (bind disconnects it when the view is destroyed)
        method = _Handler(self, kind)
        self._handlers.append(method)
        bind(self, signal, method.fire)

    def mark(self, kind: str) -> None:
        self._stale.add(kind)
        if self.isVisible():
            self._flush()

    def _flush(self) -> None:
        if self._stale:
            kinds, self._stale = set(self._stale), set()
            self.refresh_now(kinds)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._rerun_progress(0)  # (a rerun may have begun or ended while the view was hidden)
        self._flush()

    def _rerun_progress(self, _computed: int) -> None:
        # isHidden, not isVisible: in a hidden view the note is never visible, and a rerun that
        # ended there left it shown for when the view came back
        note, rerunning = self._rerun_note, self.document.rerunning
        if rerunning and note.isHidden():
            note.adjustSize()
            note.move(max(0, self.width() - note.width() - 4), 2)
            note.raise_()
            note.show()
        elif not rerunning and not note.isHidden():
            note.hide()

    @property
    def rerun_note_shown(self) -> bool:
        return not self._rerun_note.isHidden()

    def refresh_now(self, kinds: set[str]) -> None:
        """Redraw what `kinds` of change made stale; every view overrides this."""

    def report(self, message: str) -> None:
        """Show a one-line problem in the window's status bar (or print it in tests)."""
        window = self.window()
        bar = window.statusBar() if isinstance(window, QtWidgets.QMainWindow) else None
        if bar is not None:
            bar.showMessage(message, 10000)
        self.last_message = message


class _Handler(QtCore.QObject):
    """A QObject slot holder, so a Document signal can hold it weakly and Qt can delete it with the view."""

    def __init__(self, view: AnalysisView, kind: str):
        super().__init__(view)
        self._view = view
        self._kind = kind

    def fire(self, *_args) -> None:
        self._view.mark(self._kind)
