"""Activation curves: why a sigmoid, and what saturation does to the gradient.

For the Document's selected gate (i, f, g, o; c for the tanh inside h = o ⊙ tanh(c)) and
unit: the model's activation curve and its derivative, the current z marked with its value
and derivative (σ′ ≤ 0.25, tanh′ ≤ 1), and the path z took over the last K steps. The curve
is recomputed when the trace, gate or unit change; a step only moves the marker and path.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtWidgets

from lstmviz.colors import unit_color
from lstmviz.core.analysis import activation_point, z_path
from lstmviz.core.analysis.activation_curves import CURVE_GATES
from lstmviz.core.explain import format_number
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, new_plot, pen
from lstmviz.gui.analysis.data import curve_gate, curve_range
from lstmviz.gui.spinbox import SpinBox

GATE_LABELS = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
               "c": "tanh(c) in h = o ⊙ tanh(c)"}
SYMBOLS = {"sigmoid": "σ", "tanh": "tanh", "hard_sigmoid": "hard σ", "hard_sigmoid_keras3": "hard σ",
           "relu": "relu", "linear": "id"}
CURVE_COLOR = (30, 30, 30)
DERIV_COLOR = (230, 120, 0)
NOW_COLOR = (200, 30, 30)
PATH_COLOR = (33, 102, 172)


def num(value: float, digits: int = 3) -> str:
    return format_number(value, digits)


class ActivationCurveView(AnalysisView):
    title = "Activation curve"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.setObjectName("curveView")
        self.gate = curve_gate(document.selection)
        self.curve = None
        self.path = None
        self.point = None
        self.compute_count = 0

        self.gate_box = QtWidgets.QComboBox()
        self.gate_box.setObjectName("curveGate")
        for gate in CURVE_GATES:
            self.gate_box.addItem(GATE_LABELS[gate], gate)
        common.set_tip(self.gate_box, "The gate whose curve is drawn: follows the part selected "
                       "on the diagram")
        self.gate_box.currentIndexChanged.connect(self._gate_edited)
        self.unit_box = SpinBox()
        self.unit_box.setObjectName("curveUnit")
        self.unit_box.setPrefix("unit k = ")
        self.unit_box.setMinimumWidth(100)
        common.set_tip(self.unit_box, "The unit k: the Document's selected unit, the same in every view")
        self.unit_box.valueChanged.connect(self._unit_edited)
        self.steps_box = SpinBox()
        self.steps_box.setObjectName("curveSteps")
        self.steps_box.setRange(1, 500)
        self.steps_box.setValue(20)
        self.steps_box.setPrefix("path: last ")
        self.steps_box.setSuffix(" steps")
        self.steps_box.setMinimumWidth(140)
        common.set_tip(self.steps_box, "How many steps of z's path to draw on the curve")
        self.steps_box.valueChanged.connect(lambda _v: self.mark("step"))
        # two rows: beside the inspector the dock is ~390 px wide at 1280 x 720
        controls = QtWidgets.QGridLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.gate_box, 0, 0, 1, 2)
        controls.addWidget(self.unit_box, 1, 0)
        controls.addWidget(self.steps_box, 1, 1)
        controls.setColumnStretch(2, 1)

        self.view = common.layout_widget()
        self.view.setMinimumHeight(220)
        self.plot = new_plot(left_width=44, bottom="pre-activation z")
        self.view.addItem(self.plot)
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.value_curve = self.plot.plot(pen=pen(CURVE_COLOR, 2.5))
        self.deriv_curve = self.plot.plot(pen=pen(DERIV_COLOR, 2.0, common.DASH))
        self.bound_line = pg.InfiniteLine(angle=0, pen=pen(DERIV_COLOR, 1.0, common.DOT))
        self.plot.addItem(self.bound_line, ignoreBounds=True)
        self.bound_label = pg.TextItem(color=DERIV_COLOR, anchor=(0, 1))
        self.plot.addItem(self.bound_label, ignoreBounds=True)
        self.path_dots = pg.ScatterPlotItem(size=10)
        self.path_dots.setZValue(5)
        self.plot.addItem(self.path_dots)
        self.now_line = pg.InfiniteLine(angle=90, pen=pen(NOW_COLOR, 1.0, common.DOT))
        self.plot.addItem(self.now_line, ignoreBounds=True)
        self.now_dot = pg.ScatterPlotItem(size=15, pen=pg.mkPen((0, 0, 0), width=1.5),
                                          brush=pg.mkBrush(NOW_COLOR))
        self.now_dot.setZValue(6)
        self.now_deriv = pg.ScatterPlotItem(size=11, pen=pg.mkPen(DERIV_COLOR, width=2),
                                            brush=pg.mkBrush(255, 255, 255))
        self.plot.addItem(self.now_deriv)
        self.plot.addItem(self.now_dot)
        self.now_label = pg.TextItem(anchor=(0, 1), fill=pg.mkBrush(255, 255, 255, 220),
                                     border=pg.mkPen((200, 200, 200)))
        self.plot.addItem(self.now_label, ignoreBounds=True)

        self.legend = common.small_label()
        self.info = common.hint_label()
        self.info.setObjectName("curveInfo")
        self.info.setStyleSheet("color: #1a1a1a;")
        self.info.setMinimumHeight(54)

        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.setSpacing(4)
        root.addLayout(controls)
        root.addWidget(self.view, 1)
        root.addWidget(self.legend)
        root.addWidget(self.info)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.unit_changed, "data")
        self.listen(doc.selection_changed, "selection")
        self.listen(doc.step_changed, "step")
        self._stale = {"data", "selection", "step"}
        if self.isVisible():
            self._flush()

    # -- view -> Document ----------------------------------------------------------------------
    def _gate_edited(self, index: int) -> None:
        gate = self.gate_box.itemData(index)
        if gate != self.gate:
            self.document.set_selection(gate)

    def _unit_edited(self, value: int) -> None:
        try:
            self.document.set_unit(value)
        except LstmvizError as error:
            self.report(str(error))

    # -- Document -> view ----------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        if "selection" in kinds:
            gate = curve_gate(doc.selection, self.gate)
            if gate != self.gate or self.curve is None:
                self.gate = gate
                kinds.add("data")
        if "data" in kinds:
            self._sync_controls()
            try:
                self.curve = curve_range(doc.params, doc.trace, self.gate, doc.unit)
            except LstmvizError as error:
                self.report(str(error))
                return
            self.compute_count += 1
            self._draw_curve()
        self._draw_step()

    def _sync_controls(self) -> None:
        doc = self.document
        self.gate_box.blockSignals(True)
        self.gate_box.setCurrentIndex(list(CURVE_GATES).index(self.gate))
        self.gate_box.blockSignals(False)
        self.unit_box.blockSignals(True)
        self.unit_box.setRange(0, doc.n - 1)
        self.unit_box.setValue(doc.unit)
        self.unit_box.blockSignals(False)

    def _draw_curve(self) -> None:
        cv = self.curve
        sym = SYMBOLS.get(cv.name, cv.name)
        self.value_curve.setData(cv.z, cv.value)
        self.deriv_curve.setData(cv.z, cv.derivative)
        bound = cv.derivative_bound
        self.bound_line.setValue(bound)
        self.bound_label.setText(f"{sym}′ ≤ {num(bound)}")
        self.bound_label.setPos(float(cv.z[0] + 0.02 * (cv.z[-1] - cv.z[0])), bound)
        lo = min(float(cv.value.min()), 0.0)
        hi = max(float(cv.value.max()), bound)
        pad = 0.08 * (hi - lo)
        vb = self.plot.getViewBox()
        vb.setRange(xRange=(float(cv.z[0]), float(cv.z[-1])), yRange=(lo - pad, hi + pad), padding=0)
        vb.setLimits(xMin=float(cv.z[0]), xMax=float(cv.z[-1]))
        k = self.document.unit
        what = GATE_LABELS[self.gate]
        color = "#{:02x}{:02x}{:02x}".format(*unit_color(k))
        z = "c" if self.gate == "c" else "z"
        common.set_title(self.plot, f"<b>{what}</b> of <span style='color:{color}'><b>unit {k}</b></span>: "
                         f"{sym}({z}) and its slope {sym}′({z})", lines=2)  # a tall plot, ~330 px wide
        self.plot.setLabel("bottom", "cell state c" if self.gate == "c" else "pre-activation z", color="#444",
                           **{"font-size": "8pt"})
        self.legend.setText("&nbsp;&nbsp;".join([
            common.swatch(CURVE_COLOR) + f" {sym}(z)",
            common.swatch(DERIV_COLOR, dashed=True) + f" {sym}′(z): the factor a gradient is multiplied by",
            "<span style='color:#c81e1e'>●</span> this step",
            "<span style='color:#2166ac'>●</span> the steps before it (older: paler)",
        ]))

    def _draw_step(self) -> None:
        doc = self.document
        if self.curve is None:
            return
        t, k = common.current_step(doc), doc.unit
        try:
            self.point = activation_point(doc.params, doc.trace, self.gate, k, t)
            self.path = z_path(doc.params, doc.trace, self.gate, k, t, last=self.steps_box.value())
        except LstmvizError as error:
            self.report(str(error))
            return
        p, path = self.point, self.path
        count = len(path.steps)
        brushes = [pg.mkBrush(*PATH_COLOR, int(35 + 200 * (j + 1) / count)) for j in range(count)]
        self.path_dots.setData(path.z, path.value, brush=brushes, pen=pg.mkPen(None),
                               data=list(path.steps))
        self.now_line.setValue(p.z)
        self.now_dot.setData([p.z], [p.value])
        self.now_deriv.setData([p.z], [p.derivative])
        sym = SYMBOLS.get(p.activation, p.activation)
        z_name = "c" if self.gate == "c" else "z"
        self.now_label.setHtml(
            f"<div style='font-size:9pt; color:#1a1a1a'><b>t = {t}</b><br>{z_name} = {num(p.z)}<br>"
            f"{sym}({z_name}) = {num(p.value)}<br>"
            f"<span style='color:#e67800'>{sym}′ = {num(p.derivative)}</span></div>")
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        right_side = p.z < x0 + 0.6 * (x1 - x0)
        below = p.value > y0 + 0.6 * (y1 - y0)
        self.now_label.setAnchor((-0.08 if right_side else 1.08, -0.1 if below else 1.1))
        self.now_label.setPos(p.z, p.value)
        share = p.gradient_share
        if share < 0.05 and self.gate == "c":
            verdict = ("<b>saturated</b>: almost no gradient from h<sub>t</sub> reaches c<sub>t</sub> "
                       "through the tanh here (the cell-state line still carries its own).")
        elif share < 0.05:
            verdict = ("<b>saturated</b>: almost no gradient gets through this gate, whatever the loss says; "
                       "the learning signal for its weights is nearly zero here.")
        elif share > 0.6:
            verdict = "<b>in the steep middle</b>: the gate is sensitive here, and gradients pass well."
        else:
            verdict = "on the shoulder of the curve: some of the gradient passes."
        gate_name = "tanh(c)" if self.gate == "c" else f"{self.gate}<sub>t</sub>[{k}]"
        self.info.setText(
            f"At t = {t}, {gate_name} = {sym}({num(p.z)}) = <b>{num(p.value)}</b>, slope {sym}′ = "
            f"<b>{num(p.derivative)}</b> = {share:.0%} of its maximum {num(p.derivative_bound)} — {verdict} "
            "<span style='color:#555'>(σ′ = σ(1 − σ) ≤ 0.25 and tanh′ = 1 − tanh² ≤ 1: a gradient "
            "through a gate is multiplied by this slope, so a saturated gate passes almost none.)</span>")
