"""LSTMVis's select-and-match view (Strobelt et al. 2017), live on the Document's run.

Drag the shaded span over some steps and set a threshold: the units that are on (above the
threshold) at every step of the span and off just around it become the Document's units (the
lines drawn here and in the trace panels). Other spans where the same units switch on
together are listed, best first; click one to jump there (the Document's step moves to its
start). The search itself is lstmviz.core.analysis.match_span.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtGui, QtWidgets

from lstmviz.colors import unit_color
from lstmviz.core.analysis import match_span
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, ClickViewBox, new_plot, pen
from lstmviz.gui.analysis.data import decoded_text, format_units, span_text, vocabulary_for
from lstmviz.gui.spinbox import DoubleSpinBox, SpinBox

LINES_MAX = 16
MATCH_BRUSH = (60, 170, 90, 45)
SPAN_BRUSH = (255, 190, 60, 70)


class MatchView(AnalysisView):
    title = "Match spans"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.setObjectName("matchView")
        self.result = None
        self.compute_count = 0
        self._text: str | None = None
        self._match_items: list[pg.LinearRegionItem] = []
        self._select_next = False  # the next search was asked for by the user: select its units

        self.quantity_box = QtWidgets.QComboBox()
        self.quantity_box.setObjectName("matchQuantity")
        self.quantity_box.addItem("h_t  hidden state", "h")
        self.quantity_box.addItem("c_t  cell state", "c")
        common.set_tip(self.quantity_box, "Which state must be above the threshold")
        self.quantity_box.currentIndexChanged.connect(lambda _i: self._query_changed())
        self.threshold_box = DoubleSpinBox()
        self.threshold_box.setObjectName("matchThreshold")
        self.threshold_box.setPrefix("on when > ")
        self.threshold_box.setRange(-10.0, 10.0)
        self.threshold_box.setDecimals(2)
        self.threshold_box.setSingleStep(0.05)
        self.threshold_box.setValue(0.3)
        self.threshold_box.setMinimumWidth(130)
        common.set_tip(self.threshold_box, "A unit is ‘on’ at a step when its value is above this "
                       "(drag the dashed line on the plot too)")
        self.threshold_box.valueChanged.connect(lambda _v: self._query_changed())
        self.pad_box = SpinBox()
        self.pad_box.setObjectName("matchPad")
        self.pad_box.setRange(0, 10)
        self.pad_box.setValue(1)
        self.pad_box.setPrefix("off for ")
        self.pad_box.setSuffix(" steps around")
        self.pad_box.setMinimumWidth(160)
        common.set_tip(self.pad_box, "How many steps before and after the span a unit must be off "
                       "(0: no condition)")
        self.pad_box.valueChanged.connect(lambda _v: self._query_changed())
        self.span_label = common.small_label()
        self.span_label.setObjectName("matchSpan")
        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for widget in (self.quantity_box, self.threshold_box, self.pad_box):
            controls.addWidget(widget)
        controls.addStretch(1)
        self.span_label.setWordWrap(True)

        self.hint = common.hint_label(
            "Drag the orange span (or its edges) over the steps you are curious about: the units that are "
            "on throughout it and off around it become the selected units, and the other places where "
            "they switch on together are listed on the right.")

        self.view = common.layout_widget()
        self.view.setMinimumHeight(200)
        self.vb = ClickViewBox()
        self.plot = new_plot(view_box=self.vb, bottom="step t")
        self.view.addItem(self.plot)
        self.vb.setMouseEnabled(x=True, y=False)
        self.vb.sigClicked.connect(lambda x, _y: self.document.set_step(int(round(x))))
        self.cursor = common.add_cursor(self.plot, lambda x: self.document.set_step(int(round(x))))
        self.lines: list[pg.PlotDataItem] = []
        self.threshold_line = pg.InfiniteLine(angle=0, movable=True, pen=pen((90, 90, 90), 1.5, common.DASH),
                                              hoverPen=pen((0, 0, 0), 3))
        self.threshold_line.setToolTip("The threshold: drag it")
        self.threshold_line.sigPositionChangeFinished.connect(
            lambda line: self.threshold_box.setValue(float(line.value())))
        self.plot.addItem(self.threshold_line, ignoreBounds=True)
        start = min(document.step, max(document.T - 2, 0))
        self.region = pg.LinearRegionItem(values=(start - 0.5, min(start + 2, document.T) - 0.5),
                                          brush=pg.mkBrush(*SPAN_BRUSH),
                                          hoverBrush=pg.mkBrush(255, 190, 60, 110),
                                          pen=pen((220, 140, 0), 2))
        self.region.setZValue(5)
        self.region.sigRegionChangeFinished.connect(lambda _r: self._query_changed())
        self.plot.addItem(self.region, ignoreBounds=True)
        self.legend = common.small_label()

        self.table = QtWidgets.QTableWidget(0, 4)
        self.table.setObjectName("matchTable")
        self.table.setHorizontalHeaderLabels(["steps", "units on", "Jaccard", "text"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setToolTip("Other spans where the selected units are on together, best first: most of "
                              "them on, fewest other units on. Click one to jump there.")
        self.table.cellClicked.connect(lambda row, _col: self.jump(row))
        self.table.setMinimumWidth(260)
        self.table.setMaximumWidth(380)
        table_box = QtWidgets.QVBoxLayout()
        table_box.addWidget(QtWidgets.QLabel("<b>Where they switch on together</b>"))
        table_box.addWidget(self.table, 1)

        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.view, 1)
        left.addWidget(self.legend)
        body = QtWidgets.QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(table_box)
        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.setSpacing(4)
        root.addLayout(controls)
        root.addWidget(self.hint)
        root.addWidget(self.span_label)
        root.addLayout(body, 1)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.units_changed, "lines")
        self.listen(doc.unit_changed, "lines")
        self.listen(doc.step_changed, "step")
        self._stale = {"data", "lines", "step"}
        if self.isVisible():
            self._flush()

    # -- the query ----------------------------------------------------------------------------------
    def span(self) -> tuple[int, int]:
        """[start, stop) of the steps under the shaded region."""
        lo, hi = self.region.getRegion()
        T = self.document.T
        start = int(min(max(round(lo + 0.5), 0), T - 1))
        stop = int(min(max(round(hi + 0.5), start + 1), T))
        return start, stop

    def set_span(self, start: int, stop: int) -> None:
        """Move the shaded region to steps [start, stop) (and search again)."""
        self.region.setRegion((start - 0.5, stop - 0.5))
        self._query_changed()

    def _query_changed(self) -> None:
        """The user changed the span, threshold, padding or quantity: search and select."""
        self.threshold_line.setValue(self.threshold_box.value())
        self._select_next = True
        self.mark("query")

    def search(self, select: bool = True) -> None:
        """Run the match for the current span; with `select`, its units become the Document's."""
        doc = self.document
        start, stop = self.span()
        try:
            pad = self.pad_box.value()
            self.result = match_span(doc.trace, start, stop, self.threshold_box.value(),
                                     quantity=self.quantity_box.currentData(),
                                     pad_before=pad, pad_after=pad, limit=50)
        except LstmvizError as error:
            self.report(str(error))
            return
        self.compute_count += 1
        res = self.result
        where = f"steps {start}–{stop - 1}" if stop - start > 1 else f"step {start}"
        snippet = span_text(self._text, start, stop)
        snippet = f" “{snippet}”" if snippet else ""
        if res.units:
            self.span_label.setText(f"<b>{where}</b>{snippet}: units <b>{format_units(res.units)}</b> "
                                    f"are on there and off around it")
            if select:
                doc.set_units(res.units)
        else:
            self.span_label.setText(f"<b>{where}</b>{snippet}: <span style='color:#b00020'>no unit is on "
                                    "throughout and off around it</span>; lower the threshold or the padding")
        self._fill_table()
        self._draw_matches()

    def jump(self, row: int) -> None:
        if self.result is None or not 0 <= row < len(self.result.matches):
            return
        match = self.result.matches[row]
        self.document.set_step(match.start)
        (x0, x1), _ = self.vb.viewRange()
        width = x1 - x0
        if not (x0 <= match.start - 0.5 and match.stop - 0.5 <= x1):
            center = 0.5 * (match.start + match.stop)
            self.vb.setXRange(center - width / 2, center + width / 2, padding=0)

    # -- Document -> view ---------------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        if "data" in kinds:
            self._text = decoded_text(doc, vocabulary_for(doc))
            self.vb.setLimits(xMin=-0.5, xMax=max(doc.T - 0.5, 1.0))
            self.region.setBounds((-0.5, doc.T - 0.5))
            self.vb.setXRange(-0.5, doc.T - 0.5, padding=0)
            kinds.add("lines")
            kinds.add("query")
        if "lines" in kinds:
            self._draw_lines()
        if "query" in kinds:
            # opening the view, or a new run, only lists; the user's own query also selects
            select, self._select_next = self._select_next, False
            self.search(select=select)
        self.cursor.set_step(doc.step)

    def _draw_lines(self) -> None:
        doc = self.document
        quantity = self.quantity_box.currentData()
        units = list(doc.units)[:LINES_MAX]
        while len(self.lines) > len(units):
            self.plot.removeItem(self.lines.pop())
        while len(self.lines) < len(units):
            self.lines.append(common.fast_curve(self.plot.plot()))
        values = doc.trace.quantity(quantity)
        for line, k in zip(self.lines, units):
            width, alpha = (2.4, 255) if k == doc.unit else (1.2, 170)
            line.setData(values[:, k], pen=common.trace_pen((*unit_color(k), alpha), width, doc.T))
            line.setZValue(2 if k == doc.unit else 1)
        self.vb.enableAutoRange(axis="y")
        common.set_title(self.plot, f"<b>{quantity}<sub>t</sub></b> of the selected units "
                         + ("" if len(doc.units) <= LINES_MAX else f"(the first {LINES_MAX})"))
        self.legend.setText("&nbsp;&nbsp;".join(
            f"<span style='color:{common.hex_rgb(unit_color(k))}'><b>━</b> {k}</span>" for k in units)
            + "&nbsp;&nbsp;&nbsp;" + "<span style='background:#ffe0a0'>&nbsp;&nbsp;&nbsp;</span> query span"
            + "&nbsp;&nbsp;<span style='background:#cfe9d6'>&nbsp;&nbsp;&nbsp;</span> matches")

    def _fill_table(self) -> None:
        res = self.result
        matches = res.matches if res is not None else ()
        self.table.setRowCount(len(matches))
        for row, m in enumerate(matches):
            steps = f"{m.start}–{m.stop - 1}" if m.length > 1 else f"{m.start}"
            cells = (steps, f"{m.intersection} of {len(res.units)}", f"{m.jaccard:.2f}",
                     span_text(self._text, m.start, m.stop))
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if col == 3:
                    item.setFont(QtGui.QFont("monospace"))
                    item.setToolTip(span_text(self._text, m.start, m.stop, context=12))
                self.table.setItem(row, col, item)
        self.table.setColumnHidden(3, self._text is None)

    def _draw_matches(self) -> None:
        for item in self._match_items:
            self.plot.removeItem(item)
        self._match_items = []
        if self.result is None:
            return
        for m in self.result.matches[:20]:
            region = pg.LinearRegionItem(values=(m.start - 0.5, m.stop - 0.5), movable=False,
                                         brush=pg.mkBrush(*MATCH_BRUSH), pen=pg.mkPen(None))
            region.setZValue(-5)
            self.plot.addItem(region, ignoreBounds=True)
            self._match_items.append(region)
