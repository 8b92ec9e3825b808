"""The strip above the plots: which plots, lines or heatmaps, playback style, read-out.

Its controls flow onto more rows when the Traces dock is narrow (it shares the window's width
with the Inspector), so the strip never sets how wide the Inspector may be dragged."""

from __future__ import annotations

from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz.io.view_options import OPTION_RULES

DISPLAY_MODES = (("auto", "Auto"), ("lines", "Lines"), ("heatmap", "Heatmap"))
ANIMATIONS = (("cursor", "Moving cursor"), ("grow", "Growing trace"))

SPACING = 6  # between controls of one group
GROUP_GAP = 13  # between groups, with a sunken line in the middle
READOUT_MIN = 80  # less room than this on every row, and the read-out goes on a row of its own


class PanelsToolbar(QtWidgets.QWidget):
    """Controls that edit Document options; `sync` shows the Document's values."""

    optionEdited = QtCore.Signal(str, object)
    fitRequested = QtCore.Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._syncing = False
        self.show_x = QtWidgets.QCheckBox("x\u209c")
        self.show_x.setToolTip("Show the input xₜ")
        self.show_z = QtWidgets.QCheckBox("z (pre-activations)")
        self.show_z.setToolTip("Show each gate's pre-activation z = W x + U h + b above the gate")
        self.display = QtWidgets.QComboBox()
        for key, label in DISPLAY_MODES:
            self.display.addItem(label, key)
        self.display.setToolTip(
            "Auto: up to 12 selected units as lines, otherwise every unit as a heatmap"
        )
        self.animation = QtWidgets.QComboBox()
        for key, label in ANIMATIONS:
            self.animation.addItem(label, key)
        self.animation.setToolTip(
            "Moving cursor: the whole trace stays and a cursor marks the step.\n"
            "Growing trace: the traces are drawn up to the current step only."
        )
        self.follow = QtWidgets.QCheckBox("Follow")
        self.follow.setToolTip("Scroll the time axis with the cursor, showing a window of fixed width")
        self.window = QtWidgets.QSpinBox()
        self.window.setRange(*OPTION_RULES["trace_window"][1:])  # (what a document keeps)
        self.window.setSingleStep(50)
        self.window.setSuffix(" steps")
        self.window.setToolTip("Width of the followed window")
        self.window.setKeyboardTracking(False)
        self.fit = QtWidgets.QToolButton(text="Fit")
        self.fit.setToolTip("Show the whole trace")
        self.readout = QtWidgets.QLabel("")
        self.readout.setTextFormat(QtCore.Qt.TextFormat.RichText)
        policy = QtWidgets.QSizePolicy.Policy
        self.readout.setSizePolicy(policy.Ignored, policy.Preferred)
        self.readout.setAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
        self.readout.setMinimumWidth(READOUT_MIN)

        # A row breaks only between these pieces: a label stays with the control it names.
        layout = self.flow = FlowLayout(self)
        for group, pieces in enumerate((
            ((QtWidgets.QLabel("Show:"), self.show_x), (self.show_z,)),
            ((QtWidgets.QLabel("Draw:"), self.display),),
            ((QtWidgets.QLabel("Playback:"), self.animation), (self.follow, self.window), (self.fit,)),
        )):
            for widgets in pieces:
                layout.add(_piece(widgets), group)
        layout.set_readout(self.readout)

        self.show_x.toggled.connect(lambda on: self._edit("trace_show_x", bool(on)))
        self.show_z.toggled.connect(lambda on: self._edit("trace_show_z", bool(on)))
        self.display.currentIndexChanged.connect(
            lambda i: self._edit("trace_display", self.display.itemData(i))
        )
        self.animation.currentIndexChanged.connect(
            lambda i: self._edit("trace_animation", self.animation.itemData(i))
        )
        self.follow.toggled.connect(lambda on: self._edit("trace_follow", bool(on)))
        self.window.valueChanged.connect(lambda v: self._edit("trace_window", int(v)))
        self.fit.clicked.connect(self.fitRequested)

    def _edit(self, key: str, value) -> None:
        if not self._syncing:
            self.optionEdited.emit(key, value)

    def sync(self, options: dict) -> None:
        self._syncing = True
        try:
            self.show_x.setChecked(bool(options["trace_show_x"]))
            self.show_z.setChecked(bool(options["trace_show_z"]))
            self.display.setCurrentIndex(max(0, self.display.findData(options["trace_display"])))
            self.animation.setCurrentIndex(max(0, self.animation.findData(options["trace_animation"])))
            self.follow.setChecked(bool(options["trace_follow"]))
            self.window.setValue(int(options["trace_window"]))
            self.window.setEnabled(bool(options["trace_follow"]))
        finally:
            self._syncing = False

    def set_readout(self, html: str) -> None:
        if html != self.readout.text():
            self.readout.setText(html)

    def paintEvent(self, event) -> None:
        # the sunken line between two groups that share a row
        painter = QtGui.QPainter(self)
        palette = self.palette()
        for top, bottom, x in self.flow.separators():
            painter.setPen(palette.color(QtGui.QPalette.ColorRole.Mid))
            painter.drawLine(x, top, x, bottom)
            painter.setPen(palette.color(QtGui.QPalette.ColorRole.Light))
            painter.drawLine(x + 1, top, x + 1, bottom)
        painter.end()


class FlowLayout(QtWidgets.QLayout):
    """Pieces left to right, onto a new row when the next one does not fit; the read-out takes
    the rest of the row with the most room left (or a row of its own)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setContentsMargins(0, 0, 0, 0)
        self._items: list[QtWidgets.QLayoutItem] = []
        self._groups: list[int] = []
        self._readout: QtWidgets.QLayoutItem | None = None
        self._separators: list[tuple[int, int, int]] = []

    # -- building ---------------------------------------------------------------------------------
    def add(self, widget: QtWidgets.QWidget, group: int) -> None:
        self.addChildWidget(widget)
        self._items.append(QtWidgets.QWidgetItem(widget))
        self._groups.append(group)
        self.invalidate()

    def set_readout(self, widget: QtWidgets.QWidget) -> None:
        self.addChildWidget(widget)
        self._readout = QtWidgets.QWidgetItem(widget)
        self.invalidate()

    def pieces(self) -> list[QtWidgets.QWidget]:
        return [item.widget() for item in self._items]

    def separators(self) -> list[tuple[int, int, int]]:
        return list(self._separators)

    # -- QLayout ----------------------------------------------------------------------------------
    def addItem(self, item) -> None:  # (a widget added the generic way joins the last group)
        self._items.append(item)
        self._groups.append(self._groups[-1] if self._groups else 0)

    def _all(self) -> list[QtWidgets.QLayoutItem]:
        return self._items + ([self._readout] if self._readout is not None else [])

    def count(self) -> int:
        return len(self._all())

    def itemAt(self, index: int):
        items = self._all()
        return items[index] if 0 <= index < len(items) else None

    def takeAt(self, index: int):
        if 0 <= index < len(self._items):
            self._groups.pop(index)
            return self._items.pop(index)
        if index == len(self._items) and self._readout is not None:
            item, self._readout = self._readout, None
            return item
        return None

    def expandingDirections(self):
        return QtCore.Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QtCore.QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)
        if self.parentWidget() is not None:
            self.parentWidget().update()

    def sizeHint(self) -> QtCore.QSize:
        # everything on one row
        width = sum(item.sizeHint().width() for item in self._items)
        width += sum(self._gap(i) for i in range(1, len(self._items)))
        if self._readout is not None:
            width += GROUP_GAP + READOUT_MIN
        return QtCore.QSize(width, self._row_height()) + self._margin_size()

    def minimumSize(self) -> QtCore.QSize:
        # one piece a row: as narrow as the widest piece
        widths = [item.sizeHint().width() for item in self._items]
        if self._readout is not None:
            widths.append(self._readout.minimumSize().width())
        return QtCore.QSize(max(widths, default=0), self._row_height()) + self._margin_size()

    # -- placing ----------------------------------------------------------------------------------
    def _margin_size(self) -> QtCore.QSize:
        m = self.contentsMargins()
        return QtCore.QSize(m.left() + m.right(), m.top() + m.bottom())

    def _row_height(self) -> int:
        return max((item.sizeHint().height() for item in self._all()), default=0)

    def _gap(self, index: int) -> int:
        return GROUP_GAP if self._groups[index] != self._groups[index - 1] else SPACING

    def _arrange(self, rect: QtCore.QRect, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        rows: list[list[int]] = []  # indexes of the pieces on each row
        ends: list[int] = []  # where each row's last piece ends (relative to area.left)
        x = 0
        for i, item in enumerate(self._items):
            w = item.sizeHint().width()
            if rows and x + self._gap(i) + w <= area.width():
                x += self._gap(i)
                rows[-1].append(i)
            else:
                rows.append([i])
                x = 0
            x += w
            if len(rows) > len(ends):
                ends.append(x)
            else:
                ends[-1] = x
        readout_row = None
        if self._readout is not None:
            need = max(READOUT_MIN, self._readout.minimumSize().width())
            room = [area.width() - end - GROUP_GAP for end in ends]
            if room and max(room) >= need:
                readout_row = room.index(max(room))
            else:
                rows.append([])
                ends.append(-GROUP_GAP)
                readout_row = len(rows) - 1
        row_h = self._row_height()
        vgap = SPACING // 2
        height = len(rows) * row_h + max(0, len(rows) - 1) * vgap
        if apply:
            self._separators = []
            for r, row in enumerate(rows):
                top = area.top() + r * (row_h + vgap)
                x = area.left()
                for k, i in enumerate(row):
                    item = self._items[i]
                    hint = item.sizeHint()
                    if k:
                        gap = self._gap(i)
                        if gap == GROUP_GAP:
                            self._separators.append((top + 2, top + row_h - 3, x + gap // 2 - 1))
                        x += gap
                    item.setGeometry(QtCore.QRect(x, top + (row_h - hint.height()) // 2,
                                                  hint.width(), hint.height()))
                    x += hint.width()
                if r == readout_row:
                    left = area.left() + ends[r] + GROUP_GAP
                    self._readout.setGeometry(QtCore.QRect(left, top, area.right() + 1 - left, row_h))
        return height + m.top() + m.bottom()


def _piece(widgets) -> QtWidgets.QWidget:
    piece = QtWidgets.QWidget()
    box = QtWidgets.QHBoxLayout(piece)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(SPACING)
    for widget in widgets:
        box.addWidget(widget)
    piece.setSizePolicy(QtWidgets.QSizePolicy.Policy.Fixed, QtWidgets.QSizePolicy.Policy.Fixed)
    return piece
