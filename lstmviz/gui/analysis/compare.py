"""Compare the current model (A) with a second one of the same shape (B) on the same input.

B is a snapshot of the current model (take it, then edit the weights: B is "before my
edits") or a model file. One time cursor, the Document's step; for the selected unit, A and
B overlaid (or B's matched unit); B − A for every unit as a heatmap; and a table that matches
the units of A to those of B by the correlation of their time series (Hungarian algorithm,
lstmviz.core.analysis.match_units). Clicking a row selects A's unit.
"""

from __future__ import annotations

import time
import weakref
from pathlib import Path

import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.colors import unit_color
from lstmviz.core.analysis import match_units
from lstmviz.core.explain import format_number
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView, ClickViewBox, new_plot, unit_rgb
from lstmviz.gui.analysis.data import check_second_model, overlay, second_run
from lstmviz.gui.workers import Job, describe_error, load_model_file

# From this many values (T x n) model B's run, the unit matching and the overlay are computed
# off the GUI thread: at T = 100 000, n = 64 they took ~2.7 s, 0.85 s and 0.2 s, and showing
# the view (or any new input) stood the window still for seconds.
IN_BACKGROUND_FROM = 1_000_000

QUANTITIES = (("h", "h_t  hidden state"), ("c", "c_t  cell state"), ("f", "f_t  forget gate"),
              ("i", "i_t  input gate"), ("g", "g_t  candidate"), ("o", "o_t  output gate"))
B_COLOR = (40, 40, 40)
MODEL_FILTER = "Models (*.npz *.pt *.pth *.safetensors *.keras *.h5 *.onnx);;All files (*)"


def num(value: float, digits: int = 3) -> str:
    return format_number(value, digits)


class CompareView(AnalysisView):
    title = "Compare"

    def __init__(self, document, parent=None):
        super().__init__(document, parent)
        self.setObjectName("compareView")
        self.params_b = None
        self.label_b = ""
        self.trace_b = None
        self.matching = None
        self.overlay = None
        self._match_key = None
        self._b_input = None
        self.loader = Job(self, "compare-load")
        self._compute = Job(self, "compare-compute")
        self._compute.show_after_ms = 10**9  # (no dialog: the summary says it is computing)
        self._b_pending = None  # (params, label) of a B whose run is being computed

        self.source = common.small_label()
        self.source.setObjectName("compareSource")
        self.snapshot_button = QtWidgets.QPushButton("B = the model now")
        self.snapshot_button.setObjectName("compareSnapshot")
        common.set_tip(self.snapshot_button, "Keep a copy of the current model as B; then edit the weights "
                       "(or intervene) and compare with B, the model before your edits")
        self.snapshot_button.clicked.connect(self.snapshot)
        self.open_button = QtWidgets.QPushButton("Open model B…")
        self.open_button.setObjectName("compareOpen")
        common.set_tip(self.open_button, "Compare with another checkpoint of the same shape (n and m)")
        self.open_button.clicked.connect(self.open_dialog)
        self.quantity_box = QtWidgets.QComboBox()
        self.quantity_box.setObjectName("compareQuantity")
        for key, label in QUANTITIES:
            self.quantity_box.addItem(label, key)
        self.quantity_box.currentIndexChanged.connect(lambda _i: self.mark("data"))
        self.matched_box = QtWidgets.QCheckBox("B's matched unit")
        self.matched_box.setObjectName("compareMatched")
        common.set_tip(self.matched_box, "Overlay the unit of B that best matches A's unit (by correlation) "
                       "instead of B's unit with the same number")
        self.matched_box.toggled.connect(lambda _on: self.mark("unit"))
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.snapshot_button)
        top.addWidget(self.open_button)
        top.addWidget(self.quantity_box)
        top.addWidget(self.matched_box)
        top.addWidget(self.source, 1)

        self.view = common.layout_widget()
        self.view.setMinimumHeight(240)
        self.values_vb, self.heat_vb = ClickViewBox(), ClickViewBox()
        self.values_plot = new_plot(view_box=self.values_vb)
        self.heat_plot = new_plot(view_box=self.heat_vb, left="unit", bottom="step t")
        self.view.addItem(self.values_plot, row=0, col=0)
        self.view.addItem(self.heat_plot, row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 3)
        self.values_plot.setXLink(self.heat_plot)
        self.values_plot.getAxis("bottom").setStyle(showValues=False)
        self.values_plot.getAxis("bottom").setHeight(6)
        for vb in (self.values_vb, self.heat_vb):
            vb.setMouseEnabled(x=True, y=False)
            vb.sigClicked.connect(lambda x, _y: self.document.set_step(int(round(x))))
        self.a_curve = common.fast_curve(self.values_plot.plot())
        self.b_curve = common.fast_curve(self.values_plot.plot())
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setLookupTable(common.diverging_lut())
        self.heat.setLevels((-1.0, 1.0))
        self.heat_plot.addItem(self.heat)
        self.heat_vb.invertY(True)
        self.unit_ticks = common.UnitTicks(self.heat_plot)
        self.cursors = [common.add_cursor(p, lambda x: self.document.set_step(int(round(x))))
                        for p in (self.values_plot, self.heat_plot)]
        self.legend = common.small_label()
        self.summary = common.small_label()
        self.summary.setObjectName("compareSummary")
        self.summary.setWordWrap(True)

        self.table = QtWidgets.QTableWidget(0, 3)
        self.table.setObjectName("compareTable")
        self.table.setHorizontalHeaderLabels(["A unit", "B unit", "r"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Each unit of A with the unit of B whose time series correlates best "
                              "(one-to-one, Hungarian algorithm; |r| is maximised, so a mirrored unit "
                              "matches with r < 0). Click a row to select A's unit.")
        self.table.cellClicked.connect(self._row_clicked)
        self.table.setMinimumWidth(170)
        self.table.setMaximumWidth(240)
        table_box = QtWidgets.QVBoxLayout()
        table_label = QtWidgets.QLabel("<b>Units matched by correlation</b>")
        table_box.addWidget(table_label)
        table_box.addWidget(self.table, 1)

        body = QtWidgets.QHBoxLayout()
        left = QtWidgets.QVBoxLayout()
        left.addWidget(self.view, 1)
        left.addWidget(self.legend)
        left.addWidget(self.summary)
        body.addLayout(left, 1)
        body.addLayout(table_box)
        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.addLayout(top)
        root.addLayout(body, 1)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.unit_changed, "unit")
        self.listen(doc.step_changed, "step")
        self.snapshot()

    # -- model B -----------------------------------------------------------------------------------
    def snapshot(self) -> None:
        """B = the current model, as it is now."""
        doc = self.document
        name = doc.params.name or doc.title or "the model"
        self.set_model_b(doc.params, f"snapshot of {name} taken at {time.strftime('%H:%M:%S')}")

    def set_model_b(self, params, label: str) -> bool:
        doc = self.document
        try:
            if self._long():
                check_second_model(doc, params)
                trace_b = None  # (run in the background by refresh_now)
            else:
                trace_b = second_run(doc, params)
        except LstmvizError as error:
            self.report(str(error))
            return False
        self.params_b, self.label_b, self.trace_b = params, label, trace_b
        self._match_key = None
        self._b_input = None
        self.source.setText(f"<b>B</b> = {label}")
        self.mark("data")
        return True

    def _long(self) -> bool:
        doc = self.document
        return doc.T * doc.n >= IN_BACKGROUND_FROM

    @property
    def computing(self) -> bool:
        """B's run or the comparison is being computed in the background."""
        return self._compute.busy

    def open_dialog(self) -> None:
        start = str(Path(self.document.model_path or ".").parent)
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open model B", start, MODEL_FILTER)
        if path:
            self.open_model(path)

    def open_model(self, path, synchronous: bool = False) -> None:
        """Read a model file in the background, then compare with it."""
        name = Path(path).name
        from lstmviz.gui.controller import controller_of

        controller = controller_of(self)
        if controller is not None:  # the window's way of reading a model (layer question included)
            controller.read_model(path, self.set_model_b, parent=self, synchronous=synchronous,
                                  job=self.loader)
            return

        def done(result) -> None:
            params, _digest = result
            self.set_model_b(params, f"{name}" + (f" ({params.name})" if params.name else ""))

        self.loader.start(lambda progress: load_model_file(path), done,
                          lambda error: self.report(f"{name}: {describe_error(error)}"),
                          label=f"Reading {name}…", parent=self, synchronous=synchronous)

    # -- view -> Document ----------------------------------------------------------------------------
    def _row_clicked(self, row: int, _col: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.document.set_unit(int(item.data(QtCore.Qt.ItemDataRole.UserRole)))

    # -- Document -> view ------------------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        if self.params_b is not None and self._long():
            if "data" in kinds or "unit" in kinds or self.trace_b is None:
                self._refresh_in_background()
        elif self.params_b is not None:
            self._refresh_here(kinds)
        for cursor in self.cursors:
            cursor.set_step(doc.step)

    def _refresh_here(self, kinds: set[str]) -> None:
        doc = self.document
        if "data" in kinds:
            if self.trace_b is None or self.trace_b.T != doc.T or self._b_input is not doc.xs:
                try:
                    self.trace_b = second_run(doc, self.params_b)
                except LstmvizError as error:
                    self.report(str(error))
                    self.trace_b = None
                    return
            self._b_input = doc.xs
        if self.trace_b is None:
            return
        quantity = self.quantity_box.currentData()
        key = (weakref.ref(doc.trace), weakref.ref(self.trace_b), quantity)
        if key != self._match_key:
            self.matching = match_units(doc.trace, self.trace_b, quantity, absolute=True)
            self._match_key = key
            self._fill_table()
            kinds.add("unit")
        if "unit" in kinds or "data" in kinds:
            self._draw(quantity)

    def partner(self, unit: int) -> int:
        if self.matching is None:
            return unit
        unit = min(unit, len(self.matching.partner) - 1)  # h of a projected cell: p entries
        k = int(self.matching.partner[unit])
        return unit if k < 0 else k

    def _fill_table(self) -> None:
        m = self.matching
        self.table.setRowCount(len(m.partner))
        for j, k in enumerate(m.partner):
            r = m.corr[j]
            cells = (str(j), "–" if k < 0 else str(int(k)), "" if k < 0 else f"{r:+.2f}")
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, j)
                item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
                if col == 0:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(*unit_color(j))))
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if col == 2 and k >= 0 and abs(r) < 0.5:
                    item.setForeground(QtGui.QBrush(QtGui.QColor(150, 150, 150)))
                self.table.setItem(j, col, item)
        self.table.resizeRowsToContents()

    def _draw(self, quantity: str) -> None:
        doc = self.document
        k = doc.unit
        j = self.partner(k) if self.matched_box.isChecked() else k
        try:
            ov = overlay(doc.trace, self.trace_b, quantity, k, partner=j)
        except LstmvizError as error:
            self.report(str(error))
            return
        self._show_overlay(ov)

    def _refresh_in_background(self) -> None:
        """A long run: B's run (when the input or B changed), the matching (when the runs or the
        quantity did) and the overlay computed in one background job; the view keeps the last
        comparison until it lands. A result for a state that changed meanwhile is dropped (the
        change started a newer one)."""
        doc = self.document
        trace_a, xs, h0, c0 = doc.trace, doc.xs, doc.h0, doc.c0
        params_b, trace_b = self.params_b, self.trace_b
        if trace_b is not None and (trace_b.T != doc.T or self._b_input is not xs):
            trace_b = None
        quantity, unit, matched = self.quantity_box.currentData(), doc.unit, self.matched_box.isChecked()
        key_old, matching_old = self._match_key, self.matching
        asked = (quantity, unit, matched)
        from lstmviz.core.cell import run

        def work(_progress):
            b = trace_b if trace_b is not None else run(params_b, xs, h0=h0, c0=c0)
            key = (weakref.ref(trace_a), weakref.ref(b), quantity)
            matching = matching_old if key == key_old else match_units(trace_a, b, quantity, absolute=True)
            partner = unit
            if matched:
                unit_m = min(unit, len(matching.partner) - 1)
                partner = unit_m if int(matching.partner[unit_m]) < 0 else int(matching.partner[unit_m])
            return b, key, matching, overlay(trace_a, b, quantity, unit, partner=partner)

        def landed(result) -> None:
            d = self.document
            # (runs and models by identity: their == compares arrays, which has no truth value)
            if (d.trace is not trace_a or self.params_b is not params_b or d.xs is not xs
                    or asked != (self.quantity_box.currentData(), d.unit, self.matched_box.isChecked())):
                return
            b, key, matching, ov = result
            self.trace_b, self._b_input = b, xs
            if key != self._match_key:
                self.matching, self._match_key = matching, key
                self._fill_table()
            self._show_overlay(ov)

        def failed(error: BaseException) -> None:
            if not isinstance(error, LstmvizError):
                raise error  # a bug: surfaces
            self.report(str(error))

        what = "Running model B and comparing" if trace_b is None else "Comparing"
        self.summary.setText(f"{what} over {doc.T:,} steps…".replace(",", " "))
        self._compute.start(work, landed, failed)

    def _show_overlay(self, ov) -> None:
        doc = self.document
        quantity = ov.quantity
        k = doc.unit
        self.overlay = ov
        if 0 <= k < self.table.rowCount():
            self.table.selectRow(k)
        k, j = ov.unit, ov.partner  # (entries of h for a projected cell: p, not n)
        color = unit_rgb(k)
        n, T = ov.rows, len(ov.before)
        self.a_curve.setData(ov.before, pen=common.trace_pen(color, 2.0, T))
        self.b_curve.setData(ov.after, pen=common.trace_pen(B_COLOR, 1.5, T, common.DASH))
        self.heat.setImage(ov.heat, autoLevels=False, levels=(-1.0, 1.0))
        self.heat.setRect(QtCore.QRectF(-0.5, -0.5, T, n))
        self.heat_vb.setYRange(-0.5, n - 0.5, padding=0)
        self.heat_vb.setLimits(xMin=-0.5, xMax=max(T - 0.5, 1.0))
        self.heat_vb.setXRange(-0.5, T - 0.5, padding=0)
        self.unit_ticks.set_count(n)
        hexcolor = "#{:02x}{:02x}{:02x}".format(*color)
        common.set_title(self.values_plot, f"<b>{quantity}<sub>t</sub></b>: A's unit {k} and B's unit {j}")
        common.set_title(self.heat_plot, f"<b>B − A</b> of {quantity}<sub>t</sub>, unit by unit "
                         f"<span style='color:#777'>(red: B larger; full color = {num(ov.heat_max)})</span>")
        self.legend.setText("&nbsp;&nbsp;".join([
            f"<span style='color:{hexcolor}; font-weight:bold'>━━</span> A: the current model, unit {k}",
            common.swatch(B_COLOR, dashed=True) + f" B, unit {j}",
        ]))
        r = self.matching.correlation[k, j] if self.matching is not None else float("nan")
        best = self.partner(k)
        text = [f"A's unit {k} correlates r = {r:+.2f} with B's unit {j} over the run"]
        if best != j:
            text.append(f"its best match in B is unit {best} (r = {self.matching.corr[k]:+.2f})")
        if ov.changed:
            unit, step, change = ov.largest
            text.append(f"largest |B − A| = {num(abs(change))} (unit {unit}, t = {step})")
        else:
            text.append("the runs are identical")
        self.summary.setText("; ".join(text) + ".")
