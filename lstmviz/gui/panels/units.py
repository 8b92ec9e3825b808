"""The unit selector: a checkable list of the n units, each in its shared color."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.colors import unit_color

Qt = QtCore.Qt


def color_swatch(rgb, size: int = 12) -> QtGui.QIcon:
    pixmap = QtGui.QPixmap(size, size)
    pixmap.fill(QtGui.QColor(*rgb))
    painter = QtGui.QPainter(pixmap)
    painter.setPen(QtGui.QColor(0, 0, 0, 90))
    painter.drawRect(0, 0, size - 1, size - 1)
    painter.end()
    return QtGui.QIcon(pixmap)


class UnitSelector(QtWidgets.QWidget):
    """Checks mean 'draw this unit as a line'. Emits `unitsEdited` on user edits only."""

    unitsEdited = QtCore.Signal(tuple)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._n = 0
        self._focus: int | None = None
        self._syncing = False
        self.list = QtWidgets.QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.setIconSize(QtCore.QSize(12, 12))
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setToolTip("Units drawn as lines (colors match the diagram and the inspector)")
        self.list.itemChanged.connect(self._on_item_changed)
        self.header = QtWidgets.QLabel("Units")
        self.header.setStyleSheet("font-weight: bold")
        self.count = QtWidgets.QLabel("")
        self.count.setStyleSheet("color: #666")
        all_button = QtWidgets.QToolButton(text="All")
        all_button.setToolTip("Select every unit (many units draw as heatmaps)")
        all_button.clicked.connect(lambda: self.unitsEdited.emit(tuple(range(self._n))))
        none_button = QtWidgets.QToolButton(text="None")
        none_button.setToolTip("Clear the selection (heatmaps show every unit)")
        none_button.clicked.connect(lambda: self.unitsEdited.emit(()))
        top = QtWidgets.QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.header)
        top.addStretch(1)
        top.addWidget(self.count)
        buttons = QtWidgets.QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(2)
        buttons.addWidget(all_button)
        buttons.addWidget(none_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self.setMinimumWidth(96)
        self.setMaximumWidth(130)

    def set_n(self, n: int) -> None:
        if n == self._n:
            return
        self._syncing = True
        try:
            self.list.clear()
            for k in range(n):
                item = QtWidgets.QListWidgetItem(color_swatch(unit_color(k)), f"unit {k}")
                item.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
                item.setCheckState(Qt.CheckState.Unchecked)
                self.list.addItem(item)
            self._n = n
            self._focus = None
        finally:
            self._syncing = False

    def set_units(self, units) -> None:
        chosen = set(units)
        self._syncing = True
        try:
            for k in range(self._n):
                state = Qt.CheckState.Checked if k in chosen else Qt.CheckState.Unchecked
                item = self.list.item(k)
                if item.checkState() != state:
                    item.setCheckState(state)
        finally:
            self._syncing = False
        self.count.setText(f"{len(chosen)}/{self._n}")

    def set_focus(self, unit: int | None) -> None:
        """Bold the unit the inspector works through."""
        if unit == self._focus:
            return
        for k in (self._focus, unit):
            if k is not None and 0 <= k < self._n:
                item = self.list.item(k)
                font = item.font()
                font.setBold(k == unit)
                item.setFont(font)
        self._focus = unit

    def checked(self) -> tuple[int, ...]:
        return tuple(k for k in range(self._n) if self.list.item(k).checkState() == Qt.CheckState.Checked)

    def _on_item_changed(self, item) -> None:
        if not self._syncing:
            self.unitsEdited.emit(self.checked())
