"""What-if: clamp a gate, zero a unit or offset a gate's bias, rerun, and see what changed.

Left, the interventions: quick buttons for the selected unit (f = 1, f = 0, i = 0, zero it),
a form for any gate, value, units and steps, and the list of what is on now. Every change is
one undoable edit (Edit > Undo, or the buttons here) on the window's UndoController, which
reruns the trace (lstmviz.core.analysis.whatif.rerun; in the background on a long one, progress
in the status line); the Document keeps the run without them as `baseline_trace`. Right, for
the chosen quantity: the selected unit before (dashed grey) and after (its color), their
difference, and the difference for every unit as a heatmap; the steps an intervention covers
are shaded. Click a plot to move the step.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.core.analysis.whatif import BiasOffset, ClampGate, ZeroUnit
from lstmviz.core.explain import format_number
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, ClickViewBox, new_plot, pen, unit_rgb
from lstmviz.gui.analysis.data import intervention_spans, overlay, parse_units
from lstmviz.gui.analysis.interventions import (
    add_intervention,
    clear_interventions,
    remove_intervention,
)
from lstmviz.gui.spinbox import DoubleSpinBox, SpinBox
from lstmviz.gui.undo import UndoController

QUANTITIES = (("h", "h_t  hidden state"), ("c", "c_t  cell state"), ("f", "f_t  forget gate"),
              ("i", "i_t  input gate"), ("g", "g_t  candidate"), ("o", "o_t  output gate"))
KINDS = (("clamp", "Clamp a gate to a value"), ("zero", "Zero a unit (h = c = 0)"),
         ("bias", "Offset a gate's bias"))
SPAN_BRUSH = (255, 210, 80, 38)
# From this many values (T x n) the before/after comparison is computed off the GUI thread
# (NumPy lets go of the GIL for arrays this size): at T = 100 000, n = 64 it took 0.1-0.6 s,
# and the window stood still when a what-if change landed (found by a new-user helper).
OVERLAY_IN_BACKGROUND_FROM = 1_000_000


def num(value: float, digits: int = 3) -> str:
    return format_number(value, digits)


# -- the view -----------------------------------------------------------------------------------------
class WhatIfView(AnalysisView):
    title = "What-if"

    def __init__(self, document, parent=None, undo: UndoController | None = None):
        super().__init__(document, parent)
        self.setObjectName("whatIfView")
        if undo is None:  # a view on its own keeps its own undo stack
            undo = UndoController(document, self, report=self.report, widget=self)
        self.undo = undo
        self.overlay = None
        self.compute_count = 0
        self._computed_for: tuple = ()  # what the overlay shown (or being computed) is of
        from lstmviz.gui.workers import Job

        self._overlay_job = Job(self, name="whatIfOverlay")
        self._overlay_job.show_after_ms = 10**9  # (no dialog: the summary says it is computing)
        self._spans: list[pg.LinearRegionItem] = []

        # -- quick interventions on the selected unit -------------------------------------------
        # one row with a label, not a group box: the panel fits the bottom dock of a 720-px screen
        quick = QtWidgets.QWidget()
        quick_layout = QtWidgets.QHBoxLayout(quick)
        quick_layout.setContentsMargins(2, 0, 2, 0)
        quick_layout.setSpacing(3)
        quick_label = QtWidgets.QLabel("Unit k, all steps:")
        common.set_tip(quick_label, "Quick interventions on the selected unit, at every step")
        quick_layout.addWidget(quick_label)
        self.quick_buttons = {}
        for key, label, tip in (
            ("f1", "f = 1", "Clamp the forget gate open: the unit never forgets"),
            ("f0", "f = 0", "Clamp the forget gate shut: the unit forgets at every step"),
            ("i0", "i = 0", "Clamp the input gate shut: nothing new is written"),
            ("zero", "zero it", "Set the unit's h and c to 0 after every step (a lesion)"),
        ):
            button = QtWidgets.QPushButton(label)
            button.setObjectName(f"whatIfQuick_{key}")
            common.set_tip(button, tip)
            button.clicked.connect(lambda _c=False, k=key: self.quick(k))
            button.setMinimumWidth(48)
            quick_layout.addWidget(button)
            self.quick_buttons[key] = button

        # -- the full form: four rows of a grid (a form of six rows and the list below it
        # needed ~560 px; the bottom dock of a 1280 x 720 window shows ~265) ---------------
        form_box = QtWidgets.QGroupBox("New intervention")
        form = QtWidgets.QGridLayout(form_box)
        form.setContentsMargins(6, 4, 6, 6)
        form.setHorizontalSpacing(4)
        form.setVerticalSpacing(3)
        self.kind_box = QtWidgets.QComboBox()
        self.kind_box.setObjectName("whatIfKind")
        for key, label in KINDS:
            self.kind_box.addItem(label, key)
        self.kind_box.currentIndexChanged.connect(self._kind_changed)
        self.gate_box = QtWidgets.QComboBox()
        self.gate_box.setObjectName("whatIfGate")
        for gate, label in (("f", "f  forget"), ("i", "i  input"), ("g", "g  candidate"), ("o", "o  output")):
            self.gate_box.addItem(label, gate)
        self.value_box = DoubleSpinBox()
        self.value_box.setObjectName("whatIfValue")
        self.value_box.setDecimals(3)
        self.value_box.setRange(-50.0, 50.0)
        self.value_box.setSingleStep(0.1)
        self.value_box.setValue(1.0)
        units_row = QtWidgets.QHBoxLayout()
        self.units_edit = QtWidgets.QLineEdit()
        self.units_edit.setObjectName("whatIfUnits")
        self.units_edit.setPlaceholderText("all")
        common.set_tip(self.units_edit, "Units: a number, ranges like 0-3, 7, or ‘all’")
        self.units_button = QtWidgets.QToolButton()
        self.units_button.setText("selected")
        common.set_tip(self.units_button, "Fill in the selected unit")
        self.units_button.clicked.connect(lambda: self.units_edit.setText(str(self.document.unit)))
        units_row.addWidget(self.units_edit, 1)
        units_row.addWidget(self.units_button)
        steps_row = QtWidgets.QHBoxLayout()
        self.all_steps = QtWidgets.QCheckBox("all")
        self.all_steps.setObjectName("whatIfAllSteps")
        self.all_steps.setChecked(True)
        self.step_from = SpinBox()
        self.step_to = SpinBox()
        self.step_from.setObjectName("whatIfFrom")
        self.step_to.setObjectName("whatIfTo")
        common.set_tip(self.step_from, "First step the intervention acts on")
        common.set_tip(self.step_to, "Last step the intervention acts on (included)")
        self.all_steps.toggled.connect(self._steps_toggled)
        steps_row.addWidget(self.all_steps)
        steps_row.addWidget(self.step_from, 1)
        steps_row.addWidget(QtWidgets.QLabel("to"))
        steps_row.addWidget(self.step_to, 1)
        self.add_button = QtWidgets.QPushButton("Add")
        self.add_button.setObjectName("whatIfAdd")
        self.add_button.setDefault(True)
        common.set_tip(self.add_button, "Add this intervention and rerun the cell (undoable)")
        self.add_button.clicked.connect(self.add_from_form)
        self.value_label = QtWidgets.QLabel("value")
        units_row.setContentsMargins(0, 0, 0, 0)
        steps_row.setContentsMargins(0, 0, 0, 0)
        form.addWidget(QtWidgets.QLabel("what"), 0, 0)
        form.addWidget(self.kind_box, 0, 1, 1, 3)
        form.addWidget(QtWidgets.QLabel("gate"), 1, 0)
        form.addWidget(self.gate_box, 1, 1)
        form.addWidget(self.value_label, 1, 2)
        form.addWidget(self.value_box, 1, 3)
        form.addWidget(QtWidgets.QLabel("units"), 2, 0)
        form.addLayout(units_row, 2, 1, 1, 3)
        form.addWidget(QtWidgets.QLabel("steps"), 3, 0)
        form.addLayout(steps_row, 3, 1, 1, 2)
        form.addWidget(self.add_button, 3, 3)
        form.setColumnStretch(1, 1)
        form.setColumnStretch(3, 1)

        # -- what is on ---------------------------------------------------------------------------
        on_box = QtWidgets.QGroupBox("On now (applied in order)")
        on_layout = QtWidgets.QVBoxLayout(on_box)
        on_layout.setContentsMargins(6, 4, 6, 6)
        self.list = QtWidgets.QListWidget()
        self.list.setObjectName("whatIfList")
        self.list.setMinimumHeight(44)
        self.list.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Ignored)
        self.list.setAlternatingRowColors(True)
        buttons = QtWidgets.QHBoxLayout()
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.remove_button.setObjectName("whatIfRemove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QtWidgets.QPushButton("Clear")
        self.clear_button.setObjectName("whatIfClear")
        self.clear_button.clicked.connect(self.clear)
        common.set_tip(self.remove_button, "Remove the selected intervention (undoable)")
        common.set_tip(self.clear_button, "Remove every intervention: back to the plain run (undoable)")
        self.undo_button = QtWidgets.QPushButton("↶ Undo")
        self.undo_button.setObjectName("whatIfUndo")
        self.undo_button.clicked.connect(lambda: self.undo.undo())
        self.redo_button = QtWidgets.QPushButton("↷ Redo")
        self.redo_button.setObjectName("whatIfRedo")
        self.redo_button.clicked.connect(lambda: self.undo.redo())
        for action in (self.undo.undo_action, self.undo.redo_action):
            action.changed.connect(self._undo_state)
        self._undo_state()
        self._summary_before_busy: str | None = None
        self.undo.job.busy_changed.connect(self._busy)
        for button in (self.remove_button, self.clear_button, self.undo_button, self.redo_button):
            buttons.addWidget(button)
        on_layout.addWidget(self.list, 1)
        on_layout.addLayout(buttons)

        side = QtWidgets.QWidget()
        side_layout = QtWidgets.QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(4)
        side_layout.addWidget(quick)
        side_layout.addWidget(form_box)
        side_layout.addWidget(on_box, 1)
        side.setMinimumWidth(300)
        side.setMaximumWidth(360)

        # -- plots --------------------------------------------------------------------------------
        self.quantity_box = QtWidgets.QComboBox()
        self.quantity_box.setObjectName("whatIfQuantity")
        for key, label in QUANTITIES:
            self.quantity_box.addItem(label, key)
        common.set_tip(self.quantity_box, "The quantity to compare before and after")
        self.quantity_box.currentIndexChanged.connect(lambda _i: self.mark("data"))
        self.summary = common.small_label()
        self.summary.setObjectName("whatIfSummary")
        self.summary.setWordWrap(True)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(QtWidgets.QLabel("Compare"))
        top.addWidget(self.quantity_box)
        top.addWidget(self.summary, 1)

        self.view = common.layout_widget()
        self.view.setMinimumHeight(170)  # (with the side panel, fits the bottom dock at 1280 x 720)
        self.values_vb, self.delta_vb, self.heat_vb = ClickViewBox(), ClickViewBox(), ClickViewBox()
        self.values_plot = new_plot(view_box=self.values_vb)
        self.delta_plot = new_plot(view_box=self.delta_vb)
        # (rotated beside a short plot the whole label ran over the plots above and below)
        self.delta_label = common.FittedAxisLabel(self.delta_plot, "left", ("after − before", "Δ"),
                                                  "after − before: the run with the interventions "
                                                  "minus the run without them")
        self.heat_plot = new_plot(view_box=self.heat_vb, left="unit", bottom="step t")
        for row, plot in enumerate((self.values_plot, self.delta_plot, self.heat_plot)):
            self.view.addItem(plot, row=row, col=0)
            plot.getViewBox().setMouseEnabled(x=True, y=False)
            plot.getViewBox().sigClicked.connect(self._clicked)
            if plot is not self.heat_plot:
                plot.setXLink(self.heat_plot)
                plot.getAxis("bottom").setStyle(showValues=False)
                plot.getAxis("bottom").setHeight(6)
        layout = self.view.ci.layout
        # the heatmap, every unit in a row, gets the most room: at 1280 x 720 with n = 64 it
        # was ~20 px tall (a new-user helper)
        layout.setRowStretchFactor(0, 3)
        layout.setRowStretchFactor(1, 2)
        layout.setRowStretchFactor(2, 4)
        self.before_curve = common.fast_curve(self.values_plot.plot())
        self.after_curve = common.fast_curve(self.values_plot.plot())
        self.delta_curve = common.fast_curve(self.delta_plot.plot(fillLevel=0.0, brush=(120, 120, 120, 60)))
        zero = pg.InfiniteLine(pos=0, angle=0, pen=pen((170, 170, 170), 1, common.DOT))
        self.delta_plot.addItem(zero, ignoreBounds=True)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setLookupTable(common.diverging_lut())
        self.heat.setLevels((-1.0, 1.0))
        self.heat_plot.addItem(self.heat)
        self.heat_vb.invertY(True)
        self.unit_ticks = common.UnitTicks(self.heat_plot)
        self.cursors = [common.add_cursor(p, self._clicked_x) for p in
                        (self.values_plot, self.delta_plot, self.heat_plot)]
        self.legend = common.small_label()
        # one line: wrapped, its height was not in the view's minimum and in a small floating
        # dock it was drawn over the plots; unwrapped, a narrow dock scrolls sideways instead
        self.legend.setWordWrap(False)

        right = QtWidgets.QWidget()
        right_layout = QtWidgets.QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(3)
        right_layout.addLayout(top)
        right_layout.addWidget(self.view, 1)
        right_layout.addWidget(self.legend)

        root = QtWidgets.QHBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.addWidget(side)
        root.addWidget(right, 1)

        self._kind_changed()
        self._steps_toggled(True)
        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.interventions_changed, "list")
        self.listen(doc.unit_changed, "data")
        self.listen(doc.step_changed, "step")
        self._stale = {"data", "list", "step"}
        if self.isVisible():
            self._flush()

    # -- the form --------------------------------------------------------------------------------
    def _kind_changed(self, *_args) -> None:
        kind = self.kind_box.currentData()
        self.gate_box.setEnabled(kind != "zero")
        self.value_box.setEnabled(kind != "zero")
        if kind == "clamp":
            self.value_label.setText("value")
            self.value_box.setRange(-1.0, 1.0)
            common.set_tip(self.value_box, "The value the gate is forced to (0..1 for i, f, o; −1..1 for g)")
        elif kind == "bias":
            self.value_label.setText("add to b")
            self.value_box.setRange(-50.0, 50.0)
            common.set_tip(self.value_box, "Added to the gate's bias, so to its pre-activation z")
        else:
            self.value_label.setText("value")

    def _steps_toggled(self, on: bool) -> None:
        self.step_from.setEnabled(not on)
        self.step_to.setEnabled(not on)

    def form_intervention(self):
        """The intervention the form describes (LstmvizError when it does not make sense)."""
        doc = self.document
        units = parse_units(self.units_edit.text(), doc.n)
        steps = None
        if not self.all_steps.isChecked():
            start, last = self.step_from.value(), self.step_to.value()
            if last < start:
                raise LstmvizError(f"steps: the last step {last} is before the first {start}")
            steps = (start, last + 1)
        kind = self.kind_box.currentData()
        if kind == "clamp":
            return ClampGate(self.gate_box.currentData(), self.value_box.value(), units=units, steps=steps)
        if kind == "bias":
            return BiasOffset(self.gate_box.currentData(), self.value_box.value(), units=units, steps=steps)
        return ZeroUnit(units=units, steps=steps)

    # -- view -> Document ------------------------------------------------------------------------
    def add(self, intervention) -> bool:
        return self._push(lambda: add_intervention(self.document, intervention))

    def add_from_form(self) -> bool:
        try:
            intervention = self.form_intervention()
        except LstmvizError as error:
            self.report(str(error))
            return False
        return self.add(intervention)

    def quick(self, key: str) -> bool:
        k = self.document.unit
        intervention = {
            "f1": lambda: ClampGate("f", 1.0, units=(k,)),
            "f0": lambda: ClampGate("f", 0.0, units=(k,)),
            "i0": lambda: ClampGate("i", 0.0, units=(k,)),
            "zero": lambda: ZeroUnit(units=(k,)),
        }[key]()
        return self.add(intervention)

    def remove_selected(self) -> bool:
        row = self.list.currentRow()
        if row < 0:
            if self.list.count() == 0:
                return False
            row = self.list.count() - 1
        return self._push(lambda: remove_intervention(self.document, row))

    def clear(self) -> bool:
        if not self.document.interventions:
            return False
        return self._push(lambda: clear_interventions(self.document))

    def _push(self, make) -> bool:
        try:
            edit = make()
        except LstmvizError as error:
            self.report(str(error))
            return False
        return self.undo.submit(edit)  # the replay runs in the background on a long trace

    def _undo_state(self) -> None:
        pairs = ((self.undo_button, self.undo.undo_action), (self.redo_button, self.undo.redo_action))
        for button, action in pairs:
            button.setEnabled(action.isEnabled())
            button.setToolTip(action.text().replace("&", ""))

    def _busy(self, busy: bool) -> None:
        """While the window computes a change in the background (a replay at T = 100 000 takes
        seconds), say so here and take no new intervention: it would be refused."""
        for button in (*self.quick_buttons.values(), self.add_button):
            button.setEnabled(not busy)
        if busy:
            self.remove_button.setEnabled(False)
            self.clear_button.setEnabled(False)
            if self._summary_before_busy is None:
                self._summary_before_busy = self.summary.text()
            self.summary.setText("Computing the change in the background (progress and Cancel in "
                                 "the status line)…")
            return
        self._fill_list()
        before, self._summary_before_busy = self._summary_before_busy, None
        if before is not None and self.summary.text().startswith("Computing the change"):
            self.summary.setText(before)

    def _clicked(self, x: float, _y: float) -> None:
        self.document.set_step(int(round(x)))

    def _clicked_x(self, x: float) -> None:
        self.document.set_step(int(round(x)))

    def report(self, message: str) -> None:
        super().report(message)
        self.summary.setText(f"<span style='color:#b00020'>{message}</span>")

    # -- Document -> view ------------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        if "list" in kinds or "data" in kinds:
            self._fill_list()
        # (a what-if change announces the new trace and the new list one after the other:
        # the list alone needs no second comparison of the same two runs)
        if "data" in kinds or ("list" in kinds and not self._same(self._inputs(), self._computed_for)):
            self._recompute()
        for cursor in self.cursors:
            cursor.set_step(self.document.step)

    def _inputs(self) -> tuple:
        doc = self.document
        return (doc.baseline_trace, doc.trace, doc.computed_steps, doc.rerunning,
                self.quantity_box.currentData(), doc.unit)

    @staticmethod
    def _same(a: tuple, b: tuple) -> bool:
        """The same runs (the very trace objects) and the same choices."""
        return len(a) == len(b) and all(x is y if j < 2 else x == y for j, (x, y) in enumerate(zip(a, b)))

    @property
    def computing(self) -> bool:
        """The comparison is being computed in the background (the plots show the last one)."""
        return self._overlay_job.busy

    def _fill_list(self) -> None:
        doc = self.document
        items = [iv.describe() for iv in doc.interventions]
        current = [self.list.item(j).text() for j in range(self.list.count())]
        if items != current:
            self.list.clear()
            self.list.addItems(items)
        empty = not items
        self.remove_button.setEnabled(not empty)
        self.clear_button.setEnabled(not empty)
        for spin in (self.step_from, self.step_to):
            spin.setRange(0, doc.T - 1)
        if self.step_to.value() == 0 and doc.T > 1 and not self.step_to.isEnabled():
            self.step_to.setValue(doc.T - 1)

    def _recompute(self) -> None:
        inputs = self._computed_for = self._inputs()
        before, after, _computed, _rerunning, quantity, k = inputs
        if after.T * after.quantity(quantity).shape[1] < OVERLAY_IN_BACKGROUND_FROM:
            self._overlay_job.cancel(silent=True)
            try:
                ov = overlay(before, after, quantity, k)
            except LstmvizError as error:
                self.report(str(error))
                return
            self._show_overlay(ov)
            return
        if not self.summary.text().startswith("Computing"):
            self.summary.setText(f"Computing the difference over {after.T:,} steps…".replace(",", " "))

        def landed(ov) -> None:
            # a rerun that began meanwhile rewrites the trace in place: its end computes anew
            if self._same(inputs, self._inputs()):
                self._show_overlay(ov)

        self._overlay_job.start(lambda _progress: overlay(before, after, quantity, k), landed,
                                self._overlay_failed)

    def _overlay_failed(self, error: BaseException) -> None:
        if not isinstance(error, LstmvizError):
            raise error  # a bug: surfaces (the app's error dialog, the tests)
        self.report(str(error))

    def _show_overlay(self, ov) -> None:
        doc = self.document
        quantity = ov.quantity
        self.overlay = ov
        self.compute_count += 1
        k = ov.unit  # (h of a projected cell has p entries: the last one for k >= p)
        color = unit_rgb(k)
        n, T = ov.rows, len(ov.before)
        self.before_curve.setData(ov.before, pen=common.trace_pen(common.BEFORE_COLOR, 2.0, T, common.DASH))
        self.after_curve.setData(ov.after, pen=common.trace_pen(color, 2.0, T))
        self.delta_curve.setData(ov.delta, pen=common.trace_pen((80, 80, 80), 1.5, T))
        self.heat.setImage(ov.heat, autoLevels=False, levels=(-1.0, 1.0))
        self.heat.setRect(QtCore.QRectF(-0.5, -0.5, T, n))
        self.heat_vb.setYRange(-0.5, n - 0.5, padding=0)
        self.heat_vb.setLimits(xMin=-0.5, xMax=max(T - 0.5, 1.0))
        self.heat_vb.setXRange(-0.5, T - 0.5, padding=0)
        self.unit_ticks.set_count(n)
        symbol = f"{quantity}<sub>t</sub>[{k}]"
        hexcolor = "#{:02x}{:02x}{:02x}".format(*color)
        common.set_title(self.values_plot, f"<b>{symbol}</b> before and after")
        common.set_title(self.delta_plot, f"<b>difference</b> of {symbol}")
        common.set_title(self.heat_plot, f"<b>difference of {quantity}<sub>t</sub> for every unit</b> "
                         "<span style='color:#777'>(red: after &gt; before; "
                         f"full color = {num(ov.heat_max)})</span>")
        self.values_plot.getAxis("left").setLabel(quantity, color="#444", **{"font-size": "8pt"})
        self.legend.setText("&nbsp;&nbsp;".join([
            common.swatch(common.BEFORE_COLOR, dashed=True) + " before (no interventions)",
            f"<span style='color:{hexcolor}; font-weight:bold'>━━</span> after (with them)",
            "<span style='background:#ffe9a8'>&nbsp;&nbsp;&nbsp;&nbsp;</span> steps an intervention covers",
        ]))
        self._draw_spans()
        if not doc.interventions:
            text = "No interventions: the run is the plain one. Add one on the left."
        elif not ov.changed:
            text = f"The interventions do not change {quantity} at all."
        else:
            unit, step, change = ov.largest
            text = (f"{quantity} first differs at t = {ov.first_divergence}; the largest change is "
                    f"{num(change)} (unit {unit}, t = {step}).")
        self.summary.setText(text)

    def _draw_spans(self) -> None:
        doc = self.document
        spans = intervention_spans(doc.interventions, doc.T)
        while self._spans:
            item = self._spans.pop()
            box = item.getViewBox()
            if box is not None:
                box.removeItem(item)
        for start, stop in spans:
            for plot in (self.values_plot, self.delta_plot):
                region = pg.LinearRegionItem(values=(start - 0.5, stop - 0.5), movable=False,
                                             brush=pg.mkBrush(*SPAN_BRUSH), pen=pg.mkPen(None))
                region.setZValue(-10)
                plot.addItem(region, ignoreBounds=True)
                self._spans.append(region)

    def keyPressEvent(self, event: QtGui.QKeyEvent) -> None:
        if event.key() == QtCore.Qt.Key.Key_Delete and self.list.hasFocus():
            self.remove_selected()
            return
        super().keyPressEvent(event)
