"""Generate an input sequence: pick a kind, fill in its numbers, see a preview, apply.

The form is built from lstmviz.core.generators.GENERATORS. Numbers are typed as text and
checked when the preview is made, so "abc" in a number field shows a message naming the
field and Apply stays off. Applying pushes one undoable edit; the trace reruns.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lstmviz.core.generators import GENERATORS, Generated, Param, char_label, default_vocabulary, generate
from lstmviz.edits import set_input
from lstmviz.errors import LstmvizError
from lstmviz.gui import settings as prefs
from lstmviz.gui.binding import bind
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.undo import UndoController

PREVIEW_POINTS = 4000
PREVIEW_COLUMNS = 8
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")
ERROR_STYLE = "color: #b00020;"
MUTED_STYLE = "color: #555555;"


def _model_vocabulary(document) -> str | None:
    """The vocabulary stored beside the model (<model>.vocab.json), when there is one."""
    path = document.model_path
    if not path:
        return None
    try:
        from lstmviz.core.text import load_model_vocabulary
    except ImportError:
        return None
    try:
        vocab = load_model_vocabulary(path)
    except (LstmvizError, OSError, ValueError):
        return None
    return "".join(vocab.chars) if vocab is not None else None


class GeneratorDialog(QDialog):
    def __init__(self, document, parent=None, undo: UndoController | None = None):
        super().__init__(parent)
        self.setObjectName("lstmviz-generator-dialog")
        self.setWindowTitle("Generate an input sequence")
        self.document = document
        self.undo = undo or UndoController(document, self, report=lambda m: show_error(self, m), widget=self)
        self.result_: Generated | None = None
        self.fields: dict[str, QWidget] = {}
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.refresh)

        self.kind = QComboBox(self)
        self.kind.setObjectName("kind")
        for key, gen in GENERATORS.items():
            self.kind.addItem(gen.title, key)
        self.description = QLabel(self)
        self.description.setWordWrap(True)
        self.description.setStyleSheet(MUTED_STYLE)

        self.form_box = QGroupBox("Settings", self)
        self.form = QFormLayout(self.form_box)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.columns_box = QGroupBox("Columns", self)
        columns = QHBoxLayout(self.columns_box)
        self.all_columns = QRadioButton(self.columns_box)
        self.one_column = QRadioButton("only column", self.columns_box)
        self.column = QSpinBox(self.columns_box)
        self.column.setObjectName("column")
        self.column_note = QLabel("(the others 0)", self.columns_box)
        self.column_note.setStyleSheet(MUTED_STYLE)
        group = QButtonGroup(self)
        group.addButton(self.all_columns)
        group.addButton(self.one_column)
        self.all_columns.setChecked(True)
        for w in (self.all_columns, self.one_column, self.column, self.column_note):
            columns.addWidget(w)
        columns.addStretch(1)
        self.all_columns.toggled.connect(self._schedule)
        self.column.valueChanged.connect(self._schedule)

        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setObjectName("preview")
        self.plot.setMinimumHeight(190)
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "step t")
        self.plot.addLegend(offset=(-6, 6), labelTextSize="8pt", labelTextColor="#222222",
                            brush=pg.mkBrush(255, 255, 255, 225), pen=pg.mkPen("#bbbbbb"))
        self.plot.getPlotItem().hideButtons()

        self.summary = QLabel(self)
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Close, self)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setText("Apply to the input")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel("Kind:", self))
        top.addWidget(self.kind, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 14, 14, 14)
        layout.setSpacing(8)
        layout.addLayout(top)
        layout.addWidget(self.description)
        layout.addWidget(self.form_box)
        layout.addWidget(self.columns_box)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.resize(560, 640)

        self.kind.currentIndexChanged.connect(self._kind_changed)
        bind(self, document.params_changed, self._model_changed)
        start = str(prefs.get("generator/kind") or "sine")
        index = self.kind.findData(start)
        self.kind.setCurrentIndex(index if index >= 0 else 0)
        self._kind_changed()

    # -- form --------------------------------------------------------------------------------
    @property
    def generator(self):
        return GENERATORS[self.kind.currentData()]

    def _kind_changed(self, *_args) -> None:
        gen = self.generator
        self.description.setText(gen.description)
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        for param in gen.params:
            widget = self._field(param)
            self.fields[param.key] = widget
            label = QLabel(param.label + ":", self.form_box)
            if param.help:
                widget.setToolTip(param.help)
                label.setToolTip(param.help)
            self.form.addRow(label, widget)
        if gen.key == "text":
            self._add_vocabulary_row()
        m = self.document.params.input_size
        self.columns_box.setVisible(gen.uses_columns)
        self.all_columns.setText(f"all m = {m} column{'s' if m != 1 else ''}")
        self.column.setRange(0, max(0, m - 1))
        self.one_column.setEnabled(m > 1)
        self.column.setEnabled(m > 1)
        self.refresh()

    def _model_changed(self, _params) -> None:
        """Another model (another m): the columns and the preview follow."""
        m = self.document.params.input_size
        self.all_columns.setText(f"all m = {m} column{'s' if m != 1 else ''}")
        self.column.setRange(0, max(0, m - 1))
        self.one_column.setEnabled(m > 1)
        self.column.setEnabled(m > 1)
        self._schedule()

    def _field(self, param: Param) -> QWidget:
        if param.key == "text":
            edit = QPlainTextEdit(self.form_box)
            edit.setObjectName("text")
            edit.setPlaceholderText("type the text; each character is one step")
            edit.setPlainText(str(param.default))
            edit.setFixedHeight(4 * self.fontMetrics().lineSpacing() + 12)
            edit.textChanged.connect(self._schedule)
            return edit
        if param.kind == "int":
            spin = QSpinBox(self.form_box)
            spin.setObjectName(param.key)
            top = param.maximum if param.maximum is not None else 2**31 - 1
            spin.setRange(int(param.minimum or 0), int(top))
            spin.setGroupSeparatorShown(True)
            spin.setValue(int(param.default))
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(self._schedule)
            return spin
        edit = QLineEdit(self.form_box)
        edit.setObjectName(param.key)
        edit.setText(str(param.default) if param.kind == "text" else f"{param.default:g}")
        edit.textChanged.connect(self._schedule)
        return edit

    def _add_vocabulary_row(self) -> None:
        vocab_edit = self.fields["vocabulary"]
        model_vocab = _model_vocabulary(self.document)
        if model_vocab:
            vocab_edit.setText(model_vocab)
        vocab_edit.setPlaceholderText("empty: the distinct characters of the text")
        row = QWidget(self.form_box)
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        from_text = QPushButton("From the text", row)
        from_text.setToolTip("Set the vocabulary to the text's distinct characters, sorted")
        from_text.clicked.connect(
            lambda: vocab_edit.setText(default_vocabulary(self.values().get("text", ""))))
        box.addWidget(from_text)
        box.addStretch(1)
        self.form.addRow("", row)
        self.vocab_view = QLabel(self.form_box)
        self.vocab_view.setObjectName("vocabulary-view")
        self.vocab_view.setWordWrap(True)
        self.vocab_view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow("columns:", self.vocab_view)

    def values(self) -> dict:
        out = {}
        for key, widget in self.fields.items():
            if isinstance(widget, QSpinBox):
                out[key] = widget.value()
            elif isinstance(widget, QPlainTextEdit):
                out[key] = widget.toPlainText()
            else:
                out[key] = widget.text()
        return out

    def _schedule(self, *_args) -> None:
        self.apply_button.setEnabled(False)
        self._debounce.start()

    # -- preview -----------------------------------------------------------------------------
    def refresh(self) -> Generated | None:
        """Generate from the form now; show the preview, or the problem."""
        self._debounce.stop()
        gen = self.generator
        values = self.values()
        T = values.pop("T", None)
        column = "all" if self.all_columns.isChecked() else self.column.value()
        m = self.document.params.input_size
        try:
            self.result_ = generate(gen.key, T=T, m=m, column=column, **values)
        except LstmvizError as error:
            self.result_ = None
            self.error.setText(str(error))
            self.error.show()
            self.summary.setText("")
            self.apply_button.setEnabled(False)
            self._draw(None)
            self._show_vocabulary(values)
            return None
        self.error.hide()
        self.apply_button.setEnabled(True)
        xs = self.result_.xs
        steps = f"{xs.shape[0]:,}".replace(",", " ")
        self.summary.setText(
            f"{self.result_.description}\n{steps} steps × {xs.shape[1]} columns "
            f"(the model reads m = {m})."
        )
        self._draw(self.result_)
        self._show_vocabulary(values)
        return self.result_

    def _show_vocabulary(self, values: dict) -> None:
        if self.generator.key != "text" or not hasattr(self, "vocab_view"):
            return
        vocab = values.get("vocabulary") or default_vocabulary(values.get("text", ""))
        m = self.document.params.input_size
        cells = "   ".join(f"{k}:\u00a0{char_label(ch)}" for k, ch in enumerate(vocab[:200]))
        more = " …" if len(vocab) > 200 else ""
        self.vocab_view.setText(f"{len(vocab)} characters for m = {m} columns —  {cells}{more}")

    def _draw(self, result: Generated | None) -> None:
        plot = self.plot.getPlotItem()
        plot.clear()
        if plot.legend is not None:
            plot.legend.clear()
        left = plot.getAxis("left")
        left.setTicks(None)
        if result is None:
            plot.setTitle("")
            return
        xs = result.xs
        stride = max(1, int(np.ceil(xs.shape[0] / PREVIEW_POINTS)))
        t = np.arange(0, xs.shape[0], stride)
        names = result.names
        if self.generator.key == "text":
            self._draw_text(plot, xs, t, stride)
            return
        same = xs.shape[1] > 1 and bool((xs == xs[:, :1]).all())
        shown = 0
        for col in range(1 if same else xs.shape[1]):
            if shown >= PREVIEW_COLUMNS:
                break
            name = names[col] if col < len(names) and names[col] else ""
            if not name and not xs[:, col].any():
                continue  # an unused column
            if same:
                name = f"x_0 … x_{xs.shape[1] - 1} (all the same)"
            pen = pg.mkPen(COLORS[shown % len(COLORS)], width=1.5)
            plot.plot(t, xs[::stride, col], pen=pen, name=name or f"x_{col}")
            shown += 1
        if result.target is not None:
            dashed = pg.mkPen("#444444", width=1.2, style=Qt.PenStyle.DashLine)
            plot.plot(t, result.target[::stride], pen=dashed, name="the answer")
        plot.setTitle(f"every {stride}th step shown" if stride > 1 else "", size="8pt", color="#555555")
        lo, hi = float(xs.min()), float(xs.max())
        if result.target is not None:
            lo, hi = min(lo, float(result.target.min())), max(hi, float(result.target.max()))
        span = (hi - lo) or 1.0
        # Headroom above the data for the legend, so it never covers a curve.
        plot.setYRange(lo - 0.05 * span, hi + (0.12 + 0.12 * (shown + (result.target is not None))) * span,
                       padding=0)
        plot.setXRange(0, max(1, xs.shape[0] - 1), padding=0.02)

    def _draw_text(self, plot, xs, t, stride: int) -> None:
        """One dot per character at the height of its column: the one-hot code, readable."""
        codes = xs[::stride].argmax(axis=1)
        vocab = [n for n in self.result_.names if n]
        plot.plot(t, codes, pen=None, symbol="s", symbolSize=7, symbolBrush=COLORS[0], symbolPen=None)
        if len(vocab) <= 40:
            plot.getAxis("left").setTicks([[(k, ch) for k, ch in enumerate(vocab)]])
        plot.setTitle("each step's hot column (the character)", size="8pt", color="#555555")

    # -- apply -------------------------------------------------------------------------------
    def apply(self) -> bool:
        result = self.refresh() if self._debounce.isActive() or self.result_ is None else self.result_
        if result is None:
            if self.error.text():
                show_error(self, self.error.text())
            return False
        gen = self.generator
        T = result.xs.shape[0]
        steps = f"{T:,}".replace(",", " ")
        try:
            text = f"Generate {gen.title.lower()} (T = {steps})"
            edit = set_input(self.document, result.xs, result.names, text=text)
        except LstmvizError as error:
            self.error.setText(str(error))
            self.error.show()
            show_error(self, str(error))
            return False
        prefs.put("generator/kind", gen.key)
        if self.undo.submit(edit):
            # Stays open: change a number, apply again, watch the cell respond.
            cut = f"\n{edit.note}." if edit.note else ""  # the model's ONNX sequence_lens cut the input
            applied = "\nApplied — the trace reruns; Edit > Undo goes back."
            self.summary.setText(self.summary.text() + applied + cut)
            if edit.note:
                status = getattr(self.parent(), "statusBar", None)
                if callable(status):
                    status().showMessage(edit.note + ".", 10000)
            return True
        return False

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), 560))
        return hint

