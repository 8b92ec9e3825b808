"""Gate saturation (Karpathy, Johnson & Fei-Fei 2015, fig. 4), live on the Document's run.

For each sigmoid gate (i, f, o) a scatter with one dot per unit: the fraction of steps the
gate is left-saturated (value < left threshold: nearly closed) on x, right-saturated
(> right threshold: nearly open) on y. Under each, the histogram of the gate's values over
all units and steps, with the selected unit's own histogram drawn over it and the thresholds
as lines you can drag. Clicking a dot selects its unit everywhere (Shift or Ctrl-click adds
it to, or removes it from, the units the trace panels draw).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from lstmviz.colors import unit_color
from lstmviz.core.analysis import gate_histograms, gate_saturation
from lstmviz.core.analysis.saturation import DEFAULT_LEFT, DEFAULT_RIGHT, SIGMOID_GATES, gate_histogram
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, new_plot, pen
from lstmviz.gui.spinbox import DoubleSpinBox

# From this many values (T x n) the counts and histograms over every step are computed off the
# GUI thread: at T = 100 000, n = 64 they took ~0.4-1.2 s (three gates, 19 million values).
IN_BACKGROUND_FROM = 1_000_000

GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "o": "output gate o"}
# What a corner of the scatter means, per gate: (top-left, bottom-right).
CORNERS = {
    "i": ("often open: writes", "often closed: rarely writes"),
    "f": ("often open: remembers", "often closed: forgets"),
    "o": ("often open: shows c", "often closed: hides c"),
}
DOT_SIZE = 9
SELECTED_SIZE = 15
BINS = 20


class _GateColumn:
    """The scatter and the histogram of one gate."""

    def __init__(self, view: SaturationView, gate: str, layout: pg.GraphicsLayoutWidget, col: int):
        self.gate = gate
        self.scatter_plot = new_plot(left_width=40)
        common.set_title(self.scatter_plot, f"<b>{GATE_NAMES[gate]}</b>")
        self.scatter_plot.setLabel("bottom", f"fraction of steps {gate} &lt; left", color="#444",
                                   **{"font-size": "8pt"})
        self.scatter_plot.setLabel("left", f"fraction {gate} &gt; right", color="#444",
                                   **{"font-size": "8pt"})
        vb = self.scatter_plot.getViewBox()
        vb.setMouseEnabled(x=False, y=False)
        vb.setRange(xRange=(-0.03, 1.03), yRange=(-0.03, 1.03), padding=0)
        vb.setAspectLocked(False)
        diagonal = pg.PlotCurveItem([0, 1], [1, 0], pen=pen((185, 185, 185), 1, common.DOT))
        self.scatter_plot.addItem(diagonal)
        top_left, bottom_right = CORNERS[gate]
        # the corners' meaning, written in the half above the diagonal, where no dot can be
        top_left = top_left.replace(": ", ":<br>&nbsp;&nbsp;&nbsp;")
        bottom_right = bottom_right.replace(": ", ":<br>")
        right_html = f"<div style='text-align:right'>{bottom_right} ↘</div>"
        corners = ((f"↖ {top_left}", (0.45, 1.02), (0, 0)), (right_html, (1.02, 0.66), (1, 0)))
        for html, pos, anchor in corners:
            item = pg.TextItem(html=f"<span style='color:#888'>{html}</span>", anchor=anchor)
            item.setPos(*pos)
            self.scatter_plot.addItem(item, ignoreBounds=True)
        self.scatter = pg.ScatterPlotItem(hoverable=True, tip=self._tip, hoverSize=SELECTED_SIZE)
        self.scatter.sigClicked.connect(view._dot_clicked)
        self.scatter_plot.addItem(self.scatter)
        self.saturation = None

        self.hist_plot = new_plot(left_width=40)
        self.hist_plot.setLabel("bottom", f"{gate} value", color="#444", **{"font-size": "8pt"})
        self.hist_plot.setLabel("left", "share", color="#444", **{"font-size": "8pt"})
        hvb = self.hist_plot.getViewBox()
        hvb.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[0.5], height=[0], width=0.05, brush=(175, 190, 210),
                                    pen=pg.mkPen(None))
        self.hist_plot.addItem(self.bars)
        self.unit_hist = pg.PlotCurveItem(x=[0.0, 1.0], y=[0.0], stepMode="center", pen=pen((0, 0, 0), 2))
        self.hist_plot.addItem(self.unit_hist)
        self.left_line = pg.InfiniteLine(angle=90, movable=True, pen=pen((33, 102, 172), 1.5, common.DASH),
                                         hoverPen=pen((33, 102, 172), 3))
        self.right_line = pg.InfiniteLine(angle=90, movable=True, pen=pen((178, 24, 43), 1.5, common.DASH),
                                          hoverPen=pen((178, 24, 43), 3))
        for line in (self.left_line, self.right_line):
            line.setToolTip("Drag to change the threshold")
            self.hist_plot.addItem(line, ignoreBounds=True)
        for side, line in (("left", self.left_line), ("right", self.right_line)):
            line.sigPositionChangeFinished.connect(lambda item, s=side: view._line_moved(s, item.value()))
        layout.addItem(self.scatter_plot, row=0, col=col)
        layout.addItem(self.hist_plot, row=1, col=col)

    def _tip(self, x, y, data):
        return f"unit {data}: {self.gate} < left on {x:.0%} of steps, > right on {y:.0%}"


class SaturationView(AnalysisView):
    title = "Saturation"
    count_canvas_minimum = True

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.setObjectName("saturationView")
        self.saturation = None
        self._hists = None
        self.compute_count = 0
        from lstmviz.gui.workers import Job

        self._job = Job(self, name="saturationCounts")
        self._job.show_after_ms = 10**9  # (no dialog: the readout says it is counting)

        self.left_box = DoubleSpinBox()
        self.left_box.setObjectName("saturationLeft")
        self.left_box.setPrefix("left < ")
        self.right_box = DoubleSpinBox()
        self.right_box.setObjectName("saturationRight")
        self.right_box.setPrefix("right > ")
        for box, value in ((self.left_box, DEFAULT_LEFT), (self.right_box, DEFAULT_RIGHT)):
            box.setRange(0.0, 1.0)
            box.setDecimals(2)
            box.setSingleStep(0.05)
            box.setValue(value)
            box.setMinimumWidth(100)
            box.valueChanged.connect(self._thresholds_edited)
        common.set_tip(self.left_box, "A gate value below this counts as left-saturated (nearly closed)")
        common.set_tip(self.right_box, "A gate value above this counts as right-saturated (nearly open)")
        self.readout = common.small_label()
        self.readout.setObjectName("saturationReadout")

        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(QtWidgets.QLabel("Thresholds:"))
        controls.addWidget(self.left_box)
        controls.addWidget(self.right_box)
        controls.addStretch(1)

        self.hint = common.hint_label(
            "One dot per unit: how often each gate is nearly closed (x) or nearly open (y) over the run. "
            "A forget gate high on y is a unit that remembers; saturated gates pass almost no gradient "
            "(σ′ ≈ 0). Click a dot to select its unit everywhere; Shift-click adds it to the plotted units.")
        self.view = common.layout_widget()
        # Both rows readable in 320 px, the whole view in the bottom dock at 1440 x 900; at 1280 x 720
        # the scatters with their x-axis titles in view, the histograms a scroll away. (At 380 px
        # even the scatters' x-axis titles were under the dock's edge at 1280 x 720.)
        self.view.setMinimumHeight(320)
        self.columns = {g: _GateColumn(self, g, self.view, col) for col, g in enumerate(SIGMOID_GATES)}
        layout = self.view.ci.layout
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)

        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.setSpacing(4)
        root.addLayout(controls)
        root.addWidget(self.readout)  # its own row: four numbers per gate do not fit beside
        root.addWidget(self.hint)
        root.addWidget(self.view, 1)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.unit_changed, "unit")
        self.listen(doc.units_changed, "unit")
        self._stale = {"data", "unit"}
        if self.isVisible():
            self._flush()

    # -- view -> Document ----------------------------------------------------------------------
    def thresholds(self) -> tuple[float, float]:
        return self.left_box.value(), self.right_box.value()

    def set_thresholds(self, left: float, right: float) -> None:
        for box, value in ((self.left_box, left), (self.right_box, right)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._thresholds_edited()

    def _thresholds_edited(self, *_args) -> None:
        left, right = self.thresholds()
        if left > right:  # keep them ordered: move the other one along
            sender = self.sender()
            other = self.right_box if sender is self.left_box else self.left_box
            other.blockSignals(True)
            other.setValue(left if other is self.right_box else right)
            other.blockSignals(False)
        self.mark("thresholds")

    def _line_moved(self, which: str, value: float) -> None:
        value = min(max(float(value), 0.0), 1.0)
        left, right = self.thresholds()
        if which == "left":
            self.set_thresholds(min(value, right), right)
        else:
            self.set_thresholds(left, max(value, left))

    def _dot_clicked(self, _item, points, ev) -> None:
        if not len(points):
            return
        unit = int(points[0].data())
        modifiers = ev.modifiers() if hasattr(ev, "modifiers") else QtCore.Qt.KeyboardModifier.NoModifier
        self.select_unit(unit, toggle=bool(modifiers & (QtCore.Qt.KeyboardModifier.ShiftModifier
                                                         | QtCore.Qt.KeyboardModifier.ControlModifier)))

    def select_unit(self, unit: int, toggle: bool = False) -> None:
        """What a click on a dot does: select the unit (and show it in the trace panels)."""
        doc = self.document
        if toggle:
            units = set(doc.units)
            units ^= {unit}
            doc.set_units(units or {unit})
            if unit in doc.units:
                doc.set_unit(unit)
            return
        doc.set_unit(unit)
        if unit not in doc.units:
            doc.set_units((*doc.units, unit))

    # -- Document -> view ----------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        counts = "data" in kinds or "thresholds" in kinds or self.saturation is None
        hists = "data" in kinds or self._hists is None
        if (counts or hists) and doc.T * doc.n >= IN_BACKGROUND_FROM:
            self._refresh_in_background(counts, hists)
            return
        if self._job.busy:  # (a unit picked while the counts are computed: drawn when they land)
            return
        try:
            if counts:
                left, right = self.thresholds()
                self._land_counts(gate_saturation(doc.trace, left, right, gates=SIGMOID_GATES),
                                  left, right)
            if hists:
                self._hists = gate_histograms(doc.trace, bins=BINS, gates=SIGMOID_GATES)
                self._draw_histograms()
            self._draw_unit_histograms()
        except LstmvizError as error:
            self.report(str(error))
            return
        self._draw_dots()

    def _land_counts(self, saturation, left: float, right: float) -> None:
        self.saturation = saturation
        self.compute_count += 1
        self._draw_thresholds(left, right)

    @property
    def computing(self) -> bool:
        """The counts or histograms are being computed in the background."""
        return self._job.busy

    def _refresh_in_background(self, counts: bool, hists: bool) -> None:
        """A long run: the counts (and the histograms) over every step computed off the GUI
        thread; the view keeps the last ones until they land. A result for a trace or
        thresholds changed meanwhile is dropped (the change started a newer one)."""
        trace, (left, right) = self.document.trace, self.thresholds()

        def work(_progress):
            return (gate_saturation(trace, left, right, gates=SIGMOID_GATES) if counts else None,
                    gate_histograms(trace, bins=BINS, gates=SIGMOID_GATES) if hists else None)

        def landed(result) -> None:
            if self.document.trace is not trace or self.thresholds() != (left, right):
                return
            saturation, histograms = result
            if saturation is not None:
                self._land_counts(saturation, left, right)
            if histograms is not None:
                self._hists = histograms
                self._draw_histograms()
            self._draw_unit_histograms()
            self._draw_dots()

        def failed(error: BaseException) -> None:
            if not isinstance(error, LstmvizError):
                raise error  # a bug: surfaces
            self.report(str(error))

        self.readout.setText(f"Counting over {trace.T:,} steps…".replace(",", " "))
        self._job.start(work, landed, failed)

    def _draw_thresholds(self, left: float, right: float) -> None:
        for col in self.columns.values():
            col.left_line.setValue(left)
            col.right_line.setValue(right)

    def _draw_histograms(self) -> None:
        for gate, col in self.columns.items():
            hist = self._hists[gate]
            width = 0.92 * float(hist.edges[1] - hist.edges[0])  # np.histogram's bins are equal
            col.bars.setOpts(x=hist.centers, height=hist.fractions, width=width)
            lo, hi = float(hist.edges[0]), float(hist.edges[-1])
            col.hist_plot.getViewBox().setXRange(lo, hi, padding=0.02)

    def _draw_unit_histograms(self) -> None:
        doc = self.document
        k = doc.unit
        color = unit_color(k)
        top = 0.0
        for gate, col in self.columns.items():
            hist = self._hists[gate]
            mine = gate_histogram(doc.trace, gate, bins=BINS, units=[k],
                                  value_range=(float(hist.edges[0]), float(hist.edges[-1])))
            col.unit_hist.setData(mine.edges, mine.fractions, pen=pen(color, 2))
            top = max(top, float(hist.fractions.max()), float(mine.fractions.max()))
        for col in self.columns.values():
            col.hist_plot.getViewBox().setYRange(0, max(top, 0.05) * 1.08, padding=0)
            common.set_title(col.hist_plot, f"<span style='color:#555'>all units · </span>"
                             f"<span style='color:#{color[0]:02x}{color[1]:02x}{color[2]:02x}'>"
                             f"<b>unit {k}</b></span>")

    def _draw_dots(self) -> None:
        doc, sat = self.document, self.saturation
        if sat is None:
            return
        k, shown = doc.unit, set(doc.units)
        parts = []
        for gate, col in self.columns.items():
            left, right = sat.left[gate], sat.right[gate]
            order = [j for j in range(sat.n) if j != k] + [k]  # the selected unit on top
            spots = []
            for j in order:
                rgb = unit_color(j)
                selected = j == k
                spots.append({
                    "pos": (float(left[j]), float(right[j])), "data": j,
                    "size": SELECTED_SIZE if selected else DOT_SIZE,
                    "brush": pg.mkBrush(*rgb, 255 if selected or j in shown else 150),
                    "pen": pg.mkPen((0, 0, 0), width=2.0) if selected else (
                        pg.mkPen((60, 60, 60), width=1) if j in shown else pg.mkPen(None)),
                    "symbol": "o",
                })
            col.scatter.setData(spots)
            parts.append(f"{gate}: {left[k]:.0%} &lt; {sat.left_threshold:g}, {right[k]:.0%} &gt; "
                         f"{sat.right_threshold:g}")
        self.readout.setText(f"<b>unit {k}</b> &nbsp;" + " &nbsp;·&nbsp; ".join(parts))

    def dot_position(self, gate: str, unit: int) -> QtCore.QPointF:
        """Where unit's dot is, in the layout widget's viewport coordinates (for tests)."""
        col = self.columns[gate]
        sat = self.saturation
        point = QtCore.QPointF(float(sat.left[gate][unit]), float(sat.right[gate][unit]))
        scene = col.scatter_plot.getViewBox().mapViewToScene(point)
        return self.view.mapFromScene(scene)
