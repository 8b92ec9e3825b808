"""The input sequence as an editable table: a QAbstractTableModel over the Document's array.

Rows are steps t, columns the m inputs. Only the visible cells are ever formatted, so a
1 000 000-step sequence scrolls like a short one. Typing a value pushes an undoable edit
(the trace reruns); text that is not a number is refused with a message naming the cell.
The row of the current step is highlighted; clicking a row moves the step there.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from lstmviz.edits import SetInputValue, input_column_name
from lstmviz.errors import LstmvizError
from lstmviz.gui.binding import bind
from lstmviz.gui.editors.messages import show_error
from lstmviz.gui.editors.table import EditorTable
from lstmviz.gui.undo import UndoController

CURRENT_ROW = QColor(219, 232, 255)


def format_value(value: float) -> str:
    return f"{value:.6g}".replace("-", "−")


class SequenceModel(QAbstractTableModel):
    """Steps x inputs of document.xs; edits go through the UndoController."""

    def __init__(self, document, undo: UndoController, parent=None):
        super().__init__(parent)
        self.document, self.undo = document, undo
        self._shape = document.xs.shape
        self._step = document.step
        bind(self, document.input_changed, self._input_changed)
        bind(self, document.step_changed, self._step_changed)
        bind(self, document.params_changed, self._params_changed)

    # -- read --------------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else int(self.document.xs.shape[0])

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else int(self.document.xs.shape[1])

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return format_value(float(self.document.xs[row, col]))
        if role == Qt.ItemDataRole.EditRole:
            return repr(float(self.document.xs[row, col]))
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"x_{row}[{input_column_name(self.document, col)}] = {float(self.document.xs[row, col])!r}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and row == self.document.step:
            return CURRENT_ROW
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole:
            if orientation == Qt.Orientation.Horizontal:
                names = tuple(self.document.input_names or ())
                name = names[section] if section < len(names) else ""
                return f"x_{section}" if not name or name == f"x_{section}" else f"x_{section} {name}"
            return str(section)
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal:
            return f"input column {input_column_name(self.document, section)}"
        if role == Qt.ItemDataRole.FontRole and orientation == Qt.Orientation.Vertical:
            if section == self.document.step:
                font = QFont()
                font.setBold(True)
                return font
        return None

    def flags(self, index):
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsEditable if index.isValid() else base

    # -- write -------------------------------------------------------------------------------
    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        row, col = index.row(), index.column()
        try:
            edit = SetInputValue(self.document, row, col, value)
        except LstmvizError as error:
            self.undo.report(str(error))
            return False
        if edit.new == edit.old:
            return True
        return self.undo.submit(edit)

    # -- follow the Document -----------------------------------------------------------------
    def _input_changed(self, xs) -> None:
        if xs.shape != self._shape:
            self.beginResetModel()
            self._shape = xs.shape
            self.endResetModel()
        else:
            self.dataChanged.emit(self.index(0, 0), self.index(xs.shape[0] - 1, xs.shape[1] - 1))
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, xs.shape[1] - 1)

    def _params_changed(self, _params) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, max(0, self.columnCount() - 1))

    def _step_changed(self, step: int) -> None:
        old, self._step = self._step, step
        last = self.columnCount() - 1
        for row in (old, step):
            if 0 <= row < self.rowCount():
                self.dataChanged.emit(self.index(row, 0), self.index(row, last),
                                      [Qt.ItemDataRole.BackgroundRole])
                self.headerDataChanged.emit(Qt.Orientation.Vertical, row, row)


class StepHeader(QHeaderView):
    """The vertical header (step numbers) with a width that depends only on the number of rows.

    Qt's own size hint measures the first and last 100 sections (hundreds of headerData calls)
    whenever a header changes, and the current step's bold number can widen it: at every step
    that cost ~2 ms and could shift the table. Here: the widest number, in bold, measured once."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Vertical, parent)
        self._hint: tuple[tuple, QSize] | None = None

    def sizeHint(self) -> QSize:
        model = self.model()
        rows = model.rowCount() if model is not None else 0
        key = (rows, self.font().key(), self.defaultSectionSize())
        if self._hint is not None and self._hint[0] == key:
            return QSize(self._hint[1])
        size = QSize(super().sizeHint()) if rows == 0 else QSize(self.sectionSizeFromContents(rows - 1))
        if rows:
            text = "8" * len(str(rows - 1))
            bold = QFont(self.font())
            bold.setBold(True)
            extra = QFontMetrics(bold).horizontalAdvance(text) - self.fontMetrics().horizontalAdvance(
                str(rows - 1)
            )
            size.setWidth(size.width() + max(extra, 0))
            size.setHeight(self.defaultSectionSize())
        self._hint = (key, QSize(size))
        return size


class SequencePanel(QWidget):
    """A heading (T, m), buttons, and the table. Put in a dock by the session."""

    generate_requested = Signal()

    def __init__(self, document, parent=None, undo: UndoController | None = None):
        super().__init__(parent)
        self.setObjectName("lstmviz-sequence-panel")
        self.document = document
        self.undo = undo or UndoController(document, self, report=lambda m: show_error(self, m), widget=self)
        self.model = SequenceModel(document, self.undo, self)
        self.view = EditorTable(self)
        self.view.setObjectName("lstmviz-sequence-table")
        self.view.setVerticalHeader(StepHeader(self.view))
        self.view.setModel(self.model)
        self.view.setAlternatingRowColors(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # uniform rows: fast at 1e6 rows
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        vh.setDefaultAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setDefaultSectionSize(max(84, self.fontMetrics().horizontalAdvance("−0.000000") + 16))
        self.view.clicked.connect(self._row_clicked)

        self.summary = QLabel(self)
        self.summary.setObjectName("lstmviz-sequence-summary")
        self.toolbar = QHBoxLayout()
        self.toolbar.setContentsMargins(0, 0, 0, 0)
        self.toolbar.setSpacing(4)
        self.toolbar.addWidget(self.summary, 1)
        generate = QAction("Generate…", self)
        generate.setToolTip("Make an input: sine, square, step, noise, the memory tasks, text")
        generate.triggered.connect(self.open_generator)
        self.add_action(generate)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(self.toolbar)
        layout.addWidget(self.view, 1)
        bind(self, document.input_changed, self._update_summary)
        bind(self, document.params_changed, self._update_summary)
        bind(self, document.step_changed, self._follow_step)
        self._follow_pending = False  # a step arrived while the table could not be seen
        self.view.viewport().installEventFilter(self)  # catch up at its first paint
        self._update_summary()

    def add_action(self, action: QAction) -> QToolButton:
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addWidget(button)
        return button

    def open_generator(self) -> None:
        from lstmviz.gui.editors.generator_dialog import GeneratorDialog

        existing = getattr(self, "_generator", None)
        if existing is not None:
            existing.show()
            existing.raise_()
            existing.activateWindow()
            return
        dialog = GeneratorDialog(self.document, self.window(), undo=self.undo)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setModal(False)  # the window stays usable: step, play, look while generating
        dialog.destroyed.connect(lambda *_: setattr(self, "_generator", None))
        self._generator = dialog
        dialog.show()
        self.generate_requested.emit()

    def _update_summary(self, *_args) -> None:
        T, m = self.document.xs.shape
        steps = f"{T:,}".replace(",", " ")
        source = self.document.input_path
        origin = f" · from {source.rsplit('/', 1)[-1]}" if source else ""
        self.summary.setText(f"T = {steps} steps · m = {m} input{'s' if m != 1 else ''}{origin}")

    def _row_clicked(self, index) -> None:
        if index.isValid():
            self.document.set_step(index.row())

    def is_seen(self) -> bool:
        """Shown and not covered (a dock tabbed behind another one stays 'visible' to Qt)."""
        return self.isVisible() and not self.view.visibleRegion().isEmpty()

    def _follow_step(self, step: int) -> None:
        if not self.is_seen():
            self._follow_pending = True  # scrolled to when the table is seen again
            return
        self._follow_pending = False
        if 0 <= step < self.model.rowCount():
            current = self.view.currentIndex()
            col = current.column() if current.isValid() else 0
            self.view.scrollTo(self.model.index(step, col), QAbstractItemView.ScrollHint.EnsureVisible)

    def _catch_up(self) -> None:
        if self._follow_pending and self.is_seen():
            self._follow_step(self.document.step)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._follow_pending:
            QTimer.singleShot(0, self, self._catch_up)

    def eventFilter(self, obj, event) -> bool:
        if self._follow_pending and event.type() == QEvent.Type.Paint:
            QTimer.singleShot(0, self, self._catch_up)  # (not while painting)
        return False

    def edit_cell(self, row: int, col: int) -> QPersistentModelIndex:
        """Start editing a cell (for keyboard users and tests)."""
        index = self.model.index(row, col)
        self.view.setCurrentIndex(index)
        self.view.edit(index)
        return QPersistentModelIndex(index)
