"""Edit the cell's weights: W, U, b (and peepholes) of one gate at a time, heat-colored.

A QAbstractTableModel over one array of the Document's params; each cell is colored on the
diagram's diverging scale (blue negative, white 0, red positive), symmetric around 0 and
scaled to the array's largest magnitude. Typing a value pushes an undoable edit and the
trace reruns. Below: PyTorch's random initialisation with a seed, the "forget-gate bias = 1"
option, and peephole connections on or off.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QLinearGradient, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lstmviz.core.colormap import diverging_rgb, gradient_stops, text_rgb
from lstmviz.core.params import GATE_NAMES, GATES
from lstmviz.edits import SetWeight, input_column_name, randomize_weights, set_peepholes
from lstmviz.errors import LstmvizError
from lstmviz.gui.binding import bind
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.editors.table import EditorTable
from lstmviz.gui.undo import UndoController

KINDS = {
    "W": "W: the input weights (n × m), multiply xₜ",
    "U": "U: the recurrent weights (n × n), multiply hₜ₋₁",
    "b": "b: the bias (n)",
    "p": "p: the peephole weights (n), multiply the cell state",
}
MULTIPLIES = {"W": "multiplies x<sub>t</sub>", "U": "multiplies h<sub>t−1</sub>", "b": "the bias",
              "p": "the peephole"}


CHECKED_STYLE = (
    "QPushButton { padding: 3px 2px; }"
    "QPushButton:checked { background: #dbe8ff; border: 1px solid #1e6ee6; color: #0b3d91; }"
)


def format_weight(value: float) -> str:
    return f"{value:.4g}".replace("-", "−")


# Column widths: wide enough for every value of the array shown (the widest a value can print,
# for an array too big to measure), and for its header up to HEADER_EXTRA more; a longer
# header is elided (its tooltip has it whole).
WIDEST_WEIGHTS = ("−0.0001234", "−1.234e−05", "−1.234e+05")
MEASURE_AT_MOST = 4096  # values
MIN_COLUMN, CELL_PAD, HEADER_PAD, HEADER_EXTRA = 72, 12, 16, 48


def one_line(text: str) -> str:
    """A header on one line: a newline or tab in an input's name (a character model's '\\n')
    shows as its escape."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class MatrixModel(QAbstractTableModel):
    """One weight array of document.params (a vector shows as one column)."""

    def __init__(self, document, undo: UndoController, key: str = "W_f", parent=None):
        super().__init__(parent)
        self.document, self.undo = document, undo
        self._key = key
        self._cache()
        bind(self, document.params_changed, self._params_changed)
        bind(self, document.input_changed, self._names_changed)

    @property
    def key(self) -> str:
        return self._key

    def set_key(self, key: str) -> None:
        if key != self._key:
            self.beginResetModel()
            self._key = key
            self._cache()
            self.endResetModel()

    def array(self) -> np.ndarray | None:
        return getattr(self.document.params, self._key, None)

    def _cache(self) -> None:
        array = self.array()
        self._shape = (0, 0) if array is None else (array.shape[0], array.shape[1] if array.ndim == 2 else 1)
        vmax = float(np.abs(array).max()) if array is not None and array.size else 0.0
        self.vmax = vmax if vmax > 0 else 1.0

    def _value(self, row: int, col: int) -> float:
        array = self.array()
        return float(array[row, col] if array.ndim == 2 else array[row])

    def _index(self, row: int, col: int) -> tuple[int, ...]:
        return (row, col) if self.array().ndim == 2 else (row,)

    # -- read --------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._shape[1]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.array() is None:
            return None
        value = self._value(index.row(), index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return format_weight(value)
        if role == Qt.ItemDataRole.EditRole:
            return repr(value)
        if role == Qt.ItemDataRole.BackgroundRole:
            r, g, b = (int(c) for c in diverging_rgb([value], self.vmax)[0])
            return QColor(r, g, b)
        if role == Qt.ItemDataRole.ForegroundRole:
            rgb = diverging_rgb([value], self.vmax)[0]
            return QColor(*text_rgb(rgb))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            where = ", ".join(map(str, self._index(index.row(), index.column())))
            return f"{self._key}[{where}] = {value!r}"
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        kind = self._key[0]
        if orientation == Qt.Orientation.Vertical:
            display = role == Qt.ItemDataRole.DisplayRole
            return f"unit {section}" if display else f"row {section}: unit {section}"
        if kind == "W":
            label = one_line(input_column_name(self.document, section))
            return label if role == Qt.ItemDataRole.DisplayRole else f"column {section}: input {label}"
        if kind == "U":
            display = role == Qt.ItemDataRole.DisplayRole
            return f"h_{section}" if display else f"column {section}: h_{{t−1}}[{section}]"
        return self._key

    def flags(self, index):
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    # -- write -------------------------------------------------------------------------------
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        try:
            edit = SetWeight(self.document, self._key, self._index(index.row(), index.column()), value)
        except LstmvizError as error:
            self.undo.report(str(error))
            return False
        if edit.new == edit.old:
            return True
        return self.undo.submit(edit)

    # -- follow ------------------------------------------------------------------------------
    def _params_changed(self, _params) -> None:
        array = self.array()
        shape = (0, 0) if array is None else (array.shape[0], array.shape[1] if array.ndim == 2 else 1)
        if shape != self._shape:
            self.beginResetModel()
            self._cache()
            self.endResetModel()
        else:
            self._cache()
            if shape[0] and shape[1]:
                self.dataChanged.emit(self.index(0, 0), self.index(shape[0] - 1, shape[1] - 1))

    def _names_changed(self, _xs) -> None:
        if self._key.startswith("W_") and self._shape[1]:
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self._shape[1] - 1)


class ColorScale(QWidget):
    """The diverging scale, labelled −vmax … 0 … +vmax."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.vmax = 1.0
        self.setMinimumHeight(self.fontMetrics().height() + 18)
        self.setMinimumWidth(180)

    def set_vmax(self, vmax: float) -> None:
        self.vmax = vmax
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        fm = self.fontMetrics()
        left_text, right_text = format_weight(-self.vmax), format_weight(self.vmax)
        lw, rw = fm.horizontalAdvance(left_text) + 6, fm.horizontalAdvance(right_text) + 6
        bar_h = 10
        x0, x1 = lw, self.width() - rw
        gradient = QLinearGradient(x0, 0, x1, 0)
        for pos, rgb in gradient_stops():
            gradient.setColorAt(pos, QColor(*rgb))
        painter.fillRect(x0, 3, max(1, x1 - x0), bar_h, gradient)
        painter.setPen(QColor(110, 110, 110))
        painter.drawRect(x0, 3, max(1, x1 - x0), bar_h)
        painter.setPen(self.palette().windowText().color())
        baseline = 3 + bar_h // 2 + fm.ascent() // 2 - 1
        painter.drawText(0, baseline, left_text)
        painter.drawText(x1 + 6, baseline, right_text)
        painter.drawText((x0 + x1) // 2 - fm.horizontalAdvance("0") // 2, 3 + bar_h + fm.ascent() + 2, "0")
        painter.end()


class WeightEditor(QWidget):
    def __init__(self, document, parent=None, undo: UndoController | None = None):
        super().__init__(parent)
        self.setObjectName("lstmviz-weight-editor")
        self.document = document
        self.undo = undo or UndoController(document, self, report=lambda m: show_error(self, m), widget=self)
        self.model = MatrixModel(document, self.undo, "W_f", self)

        self.gate_buttons: dict[str, QPushButton] = {}
        self.kind_buttons: dict[str, QPushButton] = {}
        picker = QHBoxLayout()
        picker.setSpacing(2)
        picker.addWidget(QLabel("Gate:", self))
        self.gate_group = QButtonGroup(self)
        for gate in GATES:
            button = self._segment(gate, f"the {GATE_NAMES[gate]}", f"gate-{gate}")
            self.gate_group.addButton(button)
            self.gate_buttons[gate] = button
            picker.addWidget(button)
            button.clicked.connect(lambda _c=False, g=gate: self.show_array(g, self.kind))
        picker.addSpacing(10)
        picker.addWidget(QLabel("Array:", self))
        self.kind_group = QButtonGroup(self)
        for kind, text in KINDS.items():
            button = self._segment(kind, text, f"kind-{kind}")
            self.kind_group.addButton(button)
            self.kind_buttons[kind] = button
            picker.addWidget(button)
            button.clicked.connect(lambda _c=False, k=kind: self.show_array(self.gate, k))
        picker.addStretch(1)

        self.caption = QLabel(self)
        self.caption.setObjectName("caption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.view = EditorTable(self)
        self.view.setObjectName("lstmviz-weight-table")
        self.view.setModel(self.model)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        for header in (self.view.verticalHeader(), self.view.horizontalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        width = self.fontMetrics().horizontalAdvance("−0.0000") + 18
        self.view.horizontalHeader().setDefaultSectionSize(max(MIN_COLUMN, width))
        self.view.horizontalHeader().setTextElideMode(Qt.TextElideMode.ElideRight)
        self.scale = ColorScale(self)
        scale_row = QHBoxLayout()
        scale_label = QLabel("color:", self)
        scale_row.addWidget(scale_label)
        scale_row.addWidget(self.scale, 1)

        init_box = QGroupBox("Random initialisation", self)
        init_box.setToolTip("PyTorch's default: every weight and bias uniform in ±1/√n")
        init = QGridLayout(init_box)
        init.setHorizontalSpacing(8)
        init.addWidget(QLabel("seed", init_box), 0, 0)
        self.seed = QSpinBox(init_box)
        self.seed.setObjectName("seed")
        self.seed.setRange(0, 2**31 - 1)
        init.addWidget(self.seed, 0, 1)
        self.randomize_button = QPushButton("Randomise", init_box)
        self.randomize_button.setObjectName("randomize")
        self.randomize_button.setToolTip("New W, U, b: uniform in ±1/√n with this seed (PyTorch's init)")
        self.randomize_button.clicked.connect(self.randomize)
        init.addWidget(self.randomize_button, 0, 2)
        self.forget_one = QCheckBox("forget-gate bias = 1", init_box)
        self.forget_one.setObjectName("forget-bias-one")
        self.forget_one.setToolTip("b_f = 1 for every unit, so the cell starts out remembering "
                                   "(Jozefowicz et al. 2015; Keras' unit_forget_bias)")
        init.addWidget(self.forget_one, 1, 0, 1, 3)
        self.peepholes = QCheckBox("peephole connections", init_box)
        self.peepholes.setObjectName("peepholes")
        self.peepholes.setToolTip("p_i, p_f look at cₜ₋₁; p_o at the new cₜ (added as zeros)")
        self.peepholes.clicked.connect(self._toggle_peepholes)
        init.addWidget(self.peepholes, 2, 0, 1, 3)
        init.setColumnStretch(3, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(picker)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)
        layout.addLayout(scale_row)
        layout.addWidget(init_box)

        self.gate, self.kind = "f", "W"
        bind(self, document.params_changed, self._params_changed)
        bind(self, document.selection_changed, self._selection_changed)
        bind(self, document.input_changed, self._input_changed)  # (the inputs' names)
        start = document.selection if document.selection in GATES else "f"
        self.show_array(start, "W")

    def _segment(self, text: str, tip: str, name: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setCheckable(True)
        button.setObjectName(name)
        button.setToolTip(tip)
        button.setStyleSheet(CHECKED_STYLE)
        width = max(self.fontMetrics().horizontalAdvance("W") + 14, 26)
        button.setFixedWidth(width)
        return button

    def show_array(self, gate: str, kind: str) -> None:
        if kind == "p" and (gate == "g" or self.document.params.peephole(gate) is None):
            kind = "W"
        self.gate, self.kind = gate, kind
        self.gate_buttons[gate].setChecked(True)
        self.kind_buttons[kind].setChecked(True)
        self.model.set_key(f"{kind}_{gate}")
        self._update()

    def _params_changed(self, _params) -> None:
        self.show_array(self.gate, self.kind)

    def _input_changed(self, _xs) -> None:
        self._fit_columns()

    def _selection_changed(self, component: str) -> None:
        """A gate clicked on the diagram shows that gate's weights here."""
        if component in GATES and component != self.gate:
            self.show_array(component, self.kind)

    def _update(self) -> None:
        params = self.document.params
        has_p = params.has_peepholes and self.gate != "g" and params.peephole(self.gate) is not None
        self.kind_buttons["p"].setEnabled(has_p)
        self.kind_buttons["p"].setToolTip(
            "" if has_p else "this gate has no peephole (tick 'peephole connections')")
        self.peepholes.setChecked(params.has_peepholes)
        key = self.model.key
        shape = " × ".join(map(str, self.model.array().shape))
        g = self.gate
        peeps = {"i": " + p_i ⊙ c_{t−1}", "f": " + p_f ⊙ c_{t−1}", "o": " + p_o ⊙ c_t"}
        peep = peeps.get(g, "") if has_p else ""
        act = "tanh" if g == "g" else "σ"
        sub = lambda name, k: f"{name}<sub>{k}</sub>"  # noqa: E731
        peeps = {"i": " + p<sub>i</sub> ⊙ c<sub>t−1</sub>", "f": " + p<sub>f</sub> ⊙ c<sub>t−1</sub>",
                 "o": " + p<sub>o</sub> ⊙ c<sub>t</sub>"}
        peep = peeps.get(g, "") if has_p else ""
        self.caption.setText(
            f"<b>{GATE_NAMES[g]}</b>: &nbsp;{g}<sub>t</sub> = {act}({sub('W', g)} x<sub>t</sub> + "
            f"{sub('U', g)} h<sub>t−1</sub> + {sub('b', g)}{peep}) &nbsp;&nbsp; showing "
            f"<b>{key.replace('_', '<sub>')}</sub></b> ({shape}, {MULTIPLIES[self.kind]}); "
            f"n = {params.n}, m = {params.m}. Double-click a value to edit it."
        )
        self.scale.set_vmax(self.model.vmax)
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Every value of the array in full ("−0.0048…" at n = 64 was elided), and the
        headers when they are not much wider."""
        array, header = self.model.array(), self.view.horizontalHeader()
        if array is None or not array.size:
            return
        if array.size <= MEASURE_AT_MOST:
            texts = {format_weight(float(v)) for v in np.unique(array)}
        else:
            texts = WIDEST_WEIGHTS
        cells = max(self.view.fontMetrics().horizontalAdvance(t) for t in texts) + CELL_PAD
        bold = QFont(header.font())
        bold.setBold(True)  # (the current column's header is bold)
        metrics = QFontMetrics(bold)
        columns = min(self.model.columnCount(), MEASURE_AT_MOST)
        labels = [str(self.model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(columns)]
        heads = max((metrics.horizontalAdvance(label) for label in labels), default=0) + HEADER_PAD
        width = max(MIN_COLUMN, cells, min(heads, cells + HEADER_EXTRA))
        if width != header.defaultSectionSize():
            header.setDefaultSectionSize(width)

    def randomize(self) -> bool:
        return self.undo.submit(lambda: randomize_weights(self.document, self.seed.value(),
                                                          self.forget_one.isChecked()))

    def _toggle_peepholes(self, checked: bool) -> None:
        if not self.undo.submit(lambda: set_peepholes(self.document, checked)):
            self.peepholes.setChecked(self.document.params.has_peepholes)
