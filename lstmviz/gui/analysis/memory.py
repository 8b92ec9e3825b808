"""Memory and gradient flow through time, for a target step T and the Document's unit k.

Three plots on one time axis:

    forget gate   f_t[k]: where it drops towards 0 the memory (and its gradient) is cut
    decay curves  prod_{s=t+1..T} f_s (how much of c_t survives on the cell-state line),
                  |d out / d c_t[k]| through every path and along the cell path alone, and
                  ||d out / d x_t||, with out = h_T[k] or c_T[k]; log or linear
    heatmap       d out / d c_t for every unit (rows) and step (columns)

The backpropagation (lstmviz.core.analysis.gradient_flow) runs only when the trace, the
target, the unit or out change; moving the step only moves the cursors and the readout.
Clicking a plot moves the Document's step there.
"""

from __future__ import annotations

import math
import weakref

import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from lstmviz.core.explain import format_number
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, ClickViewBox, new_plot, pen, unit_rgb
from lstmviz.gui.analysis.data import MemoryCurves, heat_image, log_safe, memory_curves
from lstmviz.gui.spinbox import SpinBox

FPROD_COLOR = (44, 140, 60)
DX_COLOR = (120, 70, 170)
DIRECT_COLOR = (30, 30, 30)


def num(value: float, digits: int = 3) -> str:
    return format_number(value, digits)


SIDE_NOTES_FROM = 760  # a view this wide has the legend and readout in a column beside the plots
NOTES_WIDTH = 240
# The backward pass is a Python loop over the steps (~25 us a step): from this many steps
# (~0.5 s) it runs off the GUI thread. At T = 100 000 it took ~3 s, and every unit picked on
# the diagram with this view open stood the window still that long.
IN_BACKGROUND_FROM = 20_000


class MemoryView(AnalysisView):
    title = "Memory & gradient"
    count_canvas_minimum = True

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.setObjectName("memoryView")
        self.curves: MemoryCurves | None = None
        self._key = None
        self.compute_count = 0  # how many times the gradients were computed (tests read it)
        from lstmviz.gui.workers import Job

        self._job = Job(self, name="memoryGradients")
        self._job.show_after_ms = 10**9  # (no dialog: the readout says it is computing)
        self._pending = None  # the key of the gradients being computed in the background
        self._target = document.T - 1
        self._target_is_last = True

        # -- controls ---------------------------------------------------------------------------
        self.target_box = SpinBox()
        self.target_box.setObjectName("memoryTarget")
        self.target_box.setPrefix("target T = ")
        common.set_tip(self.target_box, "The step T whose h_T[k] (or c_T[k]) the gradients are taken of. "
                       "It stays put while you step; press ‘T = t’ to move it to the current step.")
        self.target_box.setMinimumWidth(120)
        self.target_box.valueChanged.connect(self._target_edited)
        self.here_button = QtWidgets.QToolButton()
        self.here_button.setText("T = t")
        self.here_button.setObjectName("memoryTargetHere")
        common.set_tip(self.here_button, "Make the current step the target step T")
        self.here_button.clicked.connect(lambda: self.set_target(self.document.step))
        self.last_button = QtWidgets.QToolButton()
        self.last_button.setText("last")
        common.set_tip(self.last_button, "Make the last step the target (and keep it there when the "
                       "input grows)")
        self.last_button.clicked.connect(lambda: self.set_target(self.document.T - 1))

        self.unit_box = SpinBox()
        self.unit_box.setObjectName("memoryUnit")
        self.unit_box.setPrefix("unit k = ")
        common.set_tip(self.unit_box, "The unit k of h_T[k]: the Document's selected unit, the same "
                       "in every view")
        self.unit_box.setMinimumWidth(100)
        self.unit_box.valueChanged.connect(self._unit_edited)
        self.sum_box = QtWidgets.QCheckBox("Σ all units")
        common.set_tip(self.sum_box, "Take the gradient of the sum over all units of h_T instead of one unit")
        self.sum_box.toggled.connect(lambda _on: self._controls_changed())

        self.wrt_box = QtWidgets.QComboBox()
        self.wrt_box.setObjectName("memoryWrt")
        self.wrt_box.addItem("of h_T[k]", "h")
        self.wrt_box.addItem("of c_T[k]", "c")
        common.set_tip(self.wrt_box, "Differentiate the hidden state h_T[k] or the cell state c_T[k]")
        self.wrt_box.currentIndexChanged.connect(lambda _i: self._controls_changed())

        self.log_box = QtWidgets.QCheckBox("log scale")
        self.log_box.setObjectName("memoryLog")
        self.log_box.setChecked(True)
        common.set_tip(self.log_box, "Log y axis for the decay curves and a log color scale for the heatmap "
                       "(gradients decay exponentially through time)")
        self.log_box.toggled.connect(self._log_toggled)

        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for widget in (self.target_box, self.here_button, self.last_button, self.unit_box, self.sum_box,
                       self.wrt_box, self.log_box):
            controls.addWidget(widget)
        controls.addStretch(1)

        self.readout = common.small_label()
        self.readout.setObjectName("memoryReadout")
        self.readout.setMinimumHeight(18)

        # -- plots ------------------------------------------------------------------------------
        self.view = common.layout_widget()
        self.view.setMinimumHeight(200)
        self.forget_vb = ClickViewBox()
        self.forget_plot = new_plot(view_box=self.forget_vb)
        self.decay_vb = ClickViewBox()
        self.decay_plot = new_plot(view_box=self.decay_vb)
        self.heat_vb = ClickViewBox()
        self.heat_plot = new_plot(view_box=self.heat_vb, bottom="step t")
        # a y label per plot, as long as its plot is tall (rotated, a long one ran over the
        # plots above and below it in a 290-px dock)
        self.y_labels = {
            "forget": common.FittedAxisLabel(self.forget_plot, "left", ("f<sub>t</sub>[k]", "f"),
                                             "the forget gate f_t[k]"),
            "decay": common.FittedAxisLabel(self.decay_plot, "left", ("share / gradient", "share, ∂"),
                                            "share of c_t kept, and gradients (log scale when ticked)"),
            "heat": common.FittedAxisLabel(self.heat_plot, "left", ("unit",), "unit (one row each)"),
        }
        self.view.addItem(self.forget_plot, row=0, col=0)
        self.view.addItem(self.decay_plot, row=1, col=0)
        self.view.addItem(self.heat_plot, row=2, col=0)
        layout = self.view.ci.layout
        layout.setRowStretchFactor(0, 2)
        layout.setRowStretchFactor(1, 5)  # the log decay curves span 17 decades: the most room
        layout.setRowStretchFactor(2, 3)
        # Each plot at least as tall as its tick labels need (0 and 1; two unit rows; three
        # decades), the rest shared out by the stretch: that shares out only the height above the
        # plots' preferred ones, and with pyqtgraph's (taller than a 290-px dock has) every plot
        # got the same 28 px.
        for vb, least in ((self.forget_vb, 22), (self.decay_vb, 34), (self.heat_vb, 24)):
            vb.setMinimumHeight(least)
        self._share_heights()
        for plot in (self.forget_plot, self.decay_plot):
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("bottom").setHeight(3)
            plot.setXLink(self.heat_plot)
        for vb in (self.forget_vb, self.decay_vb, self.heat_vb):
            vb.setMouseEnabled(x=True, y=False)
            vb.sigClicked.connect(self._clicked)

        self.forget_plot.setYRange(-0.05, 1.05, padding=0)
        self.forget_plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")], []])
        self.forget_curve = common.fast_curve(self.forget_plot.plot(pen=pen(common.FORGET_COLOR, 1.5)))
        half = pg.InfiniteLine(pos=0.5, angle=0, pen=pen((180, 180, 180), 1, common.DOT))
        self.forget_plot.addItem(half, ignoreBounds=True)

        self.decay_plot.setLogMode(y=self.log_box.isChecked())
        # decade labels 2 px apart read as one smudge in a 40-px plot: half a line between them
        self.decay_plot.getAxis("left").label_gap = 7.0
        self.fprod_curve, self.dc_curve, self.direct_curve, self.dx_curve = (
            common.fast_curve(self.decay_plot.plot()) for _ in range(4))
        self.legend = common.small_label()
        self.legend.setObjectName("memoryLegend")

        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setLookupTable(common.diverging_lut())
        self.heat.setLevels((-1.0, 1.0))
        self.heat_plot.addItem(self.heat)
        self.heat_vb.invertY(True)
        self.unit_ticks = common.UnitTicks(self.heat_plot)
        self.unit_box_item = QtWidgets.QGraphicsRectItem()
        self.unit_box_item.setPen(pen((0, 0, 0, 200), 1.0))
        self.unit_box_item.setZValue(20)
        self.heat_vb.addItem(self.unit_box_item, ignoreBounds=True)

        self.target_lines = []
        self.cursors = []
        for plot in (self.forget_plot, self.decay_plot, self.heat_plot):
            line = pg.InfiniteLine(angle=90, pen=pen(common.TARGET_COLOR, 1.2, common.DASH))
            plot.addItem(line, ignoreBounds=True)
            self.target_lines.append(line)
            self.cursors.append(common.add_cursor(plot, self._dragged))

        self.hint = common.hint_label(
            "How far back does unit k remember? The green curve is the product of the forget gates "
            "after t: the share of c<sub>t</sub> that reaches c<sub>T</sub> along the cell-state line "
            "(∂c<sub>t</sub>/∂c<sub>t−1</sub> = f<sub>t</sub> on that path). Where f<sub>t</sub> drops "
            "to 0 the product, and the gradient with it, dies. Click any plot to move the step.")

        # The legend and the readout: under the plots in a narrow view; in a wide one (the
        # bottom dock, 290 px tall at 1280 x 720) in a column beside them, where they cost the
        # plots no height (under them they pushed the heatmap's axis out of the dock).
        self.notes = QtWidgets.QWidget()
        self.notes.setObjectName("memoryNotes")
        notes = QtWidgets.QVBoxLayout(self.notes)
        notes.setContentsMargins(0, 0, 0, 0)
        notes.setSpacing(6)
        notes.addWidget(self.legend)
        notes.addWidget(self.readout)
        notes.addStretch(1)
        self.body = QtWidgets.QWidget()
        self.body.setObjectName("memoryBody")
        body = QtWidgets.QHBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        body.addWidget(self.view, 1)
        self.body.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Ignored)
        self.body.setMinimumHeight(self.view.minimumHeight())
        self._side_notes = None

        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.setSpacing(4)
        root.addLayout(controls)
        root.addWidget(self.hint)
        root.addWidget(self.body, 1)
        self._place_notes(False)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.unit_changed, "unit")
        self.listen(doc.step_changed, "step")
        self._stale = {"data", "unit", "step"}
        if self.isVisible():
            self._flush()

    # -- layout -----------------------------------------------------------------------------------
    @property
    def notes_beside(self) -> bool:
        """Whether the legend and readout are in a column beside the plots (else under them)."""
        return bool(self._side_notes)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_notes(self.width() >= SIDE_NOTES_FROM)

    def _place_notes(self, beside: bool) -> None:
        if beside == self._side_notes:
            return
        self._side_notes = beside
        root, body = self.layout(), self.body.layout()
        root.removeWidget(self.notes)
        body.removeWidget(self.notes)
        if beside:
            self.notes.setFixedWidth(NOTES_WIDTH)
            body.addWidget(self.notes)
        else:
            self.notes.setMinimumWidth(0)
            self.notes.setMaximumWidth(16777215)
            root.addWidget(self.notes)
        self.notes.show()
        if self.curves is not None:
            self._write_legend()
            self._show_step()

    # -- controls -> state -------------------------------------------------------------------------
    @property
    def target(self) -> int:
        return self._target

    @property
    def wrt(self) -> str:
        return self.wrt_box.currentData()

    @property
    def unit(self) -> int | None:
        return None if self.sum_box.isChecked() else self.document.unit

    def set_target(self, step: int) -> None:
        step = int(min(max(step, 0), self.document.T - 1))
        self._target_is_last = step == self.document.T - 1
        if step != self._target:
            self._target = step
            self.mark("data")
        self._sync_controls()

    def set_wrt(self, wrt: str) -> None:
        self.wrt_box.setCurrentIndex(0 if wrt == "h" else 1)

    def _target_edited(self, value: int) -> None:
        self.set_target(value)

    def _unit_edited(self, value: int) -> None:
        try:
            self.document.set_unit(value)
        except LstmvizError as error:
            self.report(str(error))

    def _controls_changed(self) -> None:
        self.mark("data")

    def _log_toggled(self, on: bool) -> None:
        self.decay_plot.setLogMode(y=on)
        self.mark("data")

    def _clicked(self, x: float, _y: float) -> None:
        self.document.set_step(int(round(x)))

    def _dragged(self, x: float) -> None:
        self.document.set_step(int(round(x)))

    # -- Document -> view -------------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        if "data" in kinds or "unit" in kinds:
            if self._target_is_last or self._target >= doc.T:
                self._target = doc.T - 1
            self._sync_controls()
            self._recompute()
        self._show_step()

    def _sync_controls(self) -> None:
        doc = self.document
        boxes = ((self.target_box, doc.T - 1, self._target), (self.unit_box, doc.n - 1, doc.unit))
        for box, top, value in boxes:
            box.blockSignals(True)
            box.setRange(0, top)
            box.setValue(value)
            box.blockSignals(False)
        self.unit_box.setEnabled(not self.sum_box.isChecked())

    def _recompute(self) -> None:
        doc = self.document
        key = (weakref.ref(doc.trace), self._target, self.unit, self.wrt)
        if key == self._key and self.curves is not None:  # (back to the ones shown)
            self._job.cancel(silent=True)
            self._pending = None
            self._draw()
            return
        args = (doc.params, doc.trace, self._target, self.unit, self.wrt)
        if self._target + 1 < IN_BACKGROUND_FROM:
            self._job.cancel(silent=True)
            try:
                curves = memory_curves(*args)
            except LstmvizError as error:
                self.report(str(error))
                return
            self._land(key, curves)
            return
        if self.curves is not None and self.curves.flow.dc.shape[1] != doc.n:
            self.curves = None  # (another model: its curves are not this one's)
        self._pending = key

        def landed(curves) -> None:
            if self._pending == key == (weakref.ref(self.document.trace), self._target, self.unit, self.wrt):
                self._land(key, curves)

        def failed(error: BaseException) -> None:
            if not isinstance(error, LstmvizError):
                raise error  # a bug: surfaces
            self.report(str(error))

        self._job.start(lambda _progress: memory_curves(*args), landed, failed)

    @property
    def computing(self) -> bool:
        """The gradients are being computed in the background (the plots show the last ones)."""
        return self._job.busy

    def _land(self, key: tuple, curves: MemoryCurves) -> None:
        self.curves, self._key, self._pending = curves, key, None
        self.compute_count += 1
        self._draw()
        self._show_step()

    def _draw(self) -> None:
        doc, cv = self.document, self.curves
        if cv is None:  # (the first gradients of a long run are still being computed)
            return
        log = self.log_box.isChecked()
        k = doc.unit
        color = unit_rgb(None if cv.unit is None else k)
        trace = doc.trace
        T = doc.T
        self.forget_curve.setData(trace.f[:, k], pen=common.trace_pen(common.FORGET_COLOR, 1.5, T))
        self.y_labels["forget"].set_choices((f"f<sub>t</sub>[{k}]", "f"))

        fix = log_safe if log else (lambda v: v)
        self.fprod_curve.setData(cv.steps, fix(cv.fprod), pen=common.trace_pen(FPROD_COLOR, 3.5, T))
        self.dc_curve.setData(cv.steps, fix(cv.dc), pen=common.trace_pen(color, 2.0, T))
        self.direct_curve.setData(cv.steps, fix(cv.dc_direct), pen=pen(DIRECT_COLOR, 1.0, common.DASH))
        self.dx_curve.setData(cv.steps, fix(cv.dx), pen=common.trace_pen(DX_COLOR, 1.5, T))
        out_html = (f"{cv.wrt}<sub>T</sub>[{cv.out_unit}]" if cv.unit is not None
                    else f"Σ<sub>k</sub> {cv.wrt}<sub>T</sub>[k]")
        common.set_title(self.decay_plot, f"<b>Decay through time</b> &nbsp;out = {out_html}, T = {cv.target}"
                         + ("&nbsp;&nbsp;<span style='color:#777'>(log)</span>" if log else ""))
        self._write_legend()
        if log:
            top = max(1.0, float(max(cv.dc.max(), cv.dx.max(), 1.0)))
            self.decay_plot.setYRange(-16.5, math.log10(top) + 0.3, padding=0)
        else:
            top = max(1.0, float(max(cv.dc.max(), cv.dx.max(), cv.dc_direct.max())))
            self.decay_plot.setYRange(0, top * 1.05, padding=0)

        n = doc.n
        image = heat_image(cv.heat, cv.heat_max, log=log)
        self.heat.setImage(image, autoLevels=False, levels=(-1.0, 1.0))
        self.heat.setRect(QtCore.QRectF(-0.5, -0.5, cv.heat.shape[1], n))
        self.heat_vb.setYRange(-0.5, n - 0.5, padding=0)
        self.unit_ticks.set_count(n)
        self.unit_box_item.setVisible(cv.unit is not None)
        self.unit_box_item.setRect(QtCore.QRectF(-0.5, k - 0.5, cv.target + 1, 1))
        scale = "log, 8 decades" if log else "linear"
        common.set_title(self.heat_plot, f"<b>∂out/∂c_t</b> for every unit &nbsp;<span style='color:#777'>"
                         f"(red +, blue −; full color = {num(cv.heat_max)}, {scale})</span>")
        common.set_title(self.forget_plot, f"<b>Forget gate</b> f<sub>t</sub>[{k}] &nbsp;"
                         "<span style='color:#777'>near 1 keeps the memory and its gradient, "
                         "near 0 cuts both</span>")
        self._share_heights()
        for line in self.target_lines:
            line.setValue(cv.target)
        self.heat_vb.setLimits(xMin=-0.5, xMax=max(doc.T - 0.5, 1.0))
        self.heat_vb.setXRange(-0.5, doc.T - 0.5, padding=0)

    def _write_legend(self) -> None:
        cv, k = self.curves, self.document.unit
        color = unit_rgb(None if cv.unit is None else k)
        dc_name = f"|∂out/∂c<sub>t</sub>[{k}]|" if cv.unit is not None else "‖∂out/∂c<sub>t</sub>‖"
        self.legend.setText(("<br>" if self._side_notes else "&nbsp;&nbsp;").join([
            common.swatch(FPROD_COLOR) + " ∏<sub>s=t+1..T</sub> f<sub>s</sub>: share of c<sub>t</sub> kept",
            common.swatch(color) + f" {dc_name} through every path",
            common.swatch(DIRECT_COLOR, dashed=True) + " along the cell-state line only",
            common.swatch(DX_COLOR) + " ‖∂out/∂x<sub>t</sub>‖",
        ]))

    def _share_heights(self) -> None:
        """Each plot's preferred height its minimum (called again when its title changes)."""
        minimum = QtCore.Qt.SizeHint.MinimumSize
        for plot in (self.forget_plot, self.decay_plot, self.heat_plot):
            plot.setPreferredHeight(-1)  # (an explicit preferred height caps the minimum)
            plot.setPreferredHeight(plot.layout.effectiveSizeHint(minimum).height())

    def _show_step(self) -> None:
        doc, cv = self.document, self.curves
        t = common.current_step(doc)
        for cursor in self.cursors:
            cursor.set_step(t)
        if self._pending is not None:  # (the values shown would be another unit's or run's)
            self.readout.setText(f"Computing the gradient back from T = {self._target} "
                                 f"({self._target + 1:,} steps)…".replace(",", " "))
            return
        if cv is None:
            self.readout.setText("")
            return
        k = doc.unit
        parts = [f"<b>t = {t}</b>", f"f<sub>t</sub>[{k}] = {num(doc.trace.f[t, k])}"]
        values = cv.at(t)
        if values is None:
            parts.append(f"<span style='color:#777'>after the target T = {cv.target}: no gradient</span>")
        else:
            dc_name = f"∂out/∂c<sub>t</sub>[{k}]" if cv.unit is not None else "∂out/∂c<sub>t</sub>"
            parts += [f"∏f = {num(values['fprod'])}",
                      f"|{dc_name}| = {num(values['dc'])} (cell path alone {num(values['dc_direct'])})",
                      f"‖∂out/∂x<sub>t</sub>‖ = {num(values['dx'])}"]
        self.readout.setText(("<br>" if self._side_notes else " &nbsp;·&nbsp; ").join(parts))
