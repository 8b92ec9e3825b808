"""Text: a character-level input mode, and the text colored by one unit (Karpathy's figure).

Type (or load) text; it is read one-hot over the model's vocabulary (the .vocab.json beside
the model, or the characters the input columns are named by) and becomes the Document's
input — the trace reruns as you type. Below, every character is drawn on the color of the
selected unit's c or h at its step (blue negative, white 0, red positive), the current
step outlined; hover a character to move the step there.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from lstmviz import edits
from lstmviz.colors import unit_color
from lstmviz.core.colormap import gradient_stops, text_rgb
from lstmviz.core.explain import format_number
from lstmviz.core.text import display_name
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis import common
from lstmviz.gui.analysis.common import AnalysisView
from lstmviz.gui.analysis.data import decoded_text, text_colors, unit_values, vocabulary_for
from lstmviz.gui.spinbox import SpinBox

TYPING_DELAY_MS = 350
MAX_CHARS = 200_000


class ColoredText(QtWidgets.QWidget):
    """Characters on colored cells, wrapped to the width; reports the character under the mouse."""

    hovered = QtCore.Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setObjectName("coloredText")
        font = QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(11.0, font.pointSizeF() * 1.15))
        self.setFont(font)
        self._text = ""
        self._colors = None  # (T, 3) uint8
        self._values = None
        self._label = ""
        self._current = -1
        self._rects: list[QtCore.QRectF] = []
        self._rows: list[int] = [0]
        self._margin = 6.0
        self._hover = -1
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Preferred)

    # -- content ------------------------------------------------------------------------------------
    def set_content(self, text: str, colors, values, label: str) -> None:
        self._text, self._colors, self._values, self._label = text, colors, values, label
        self._layout()
        self.update()

    def set_current(self, index: int) -> None:
        if index == self._current:
            return
        old, self._current = self._current, index
        for j in (old, index):
            if 0 <= j < len(self._rects):
                self.update(self._rects[j].adjusted(-3, -3, 3, 3).toAlignedRect())

    def rect_of(self, index: int) -> QtCore.QRectF:
        return self._rects[index]

    # -- geometry -----------------------------------------------------------------------------------
    def _cell(self) -> tuple[float, float]:
        metrics = QtGui.QFontMetricsF(self.font())
        return metrics.horizontalAdvance("M") + 2.0, metrics.height() + 6.0

    def _layout(self) -> None:
        w, h = self._cell()
        margin = 6.0
        width = max(self.width(), int(w * 10 + 2 * margin))
        x, y = margin, margin
        rects = []
        rows = [0]  # index of the first character of each row
        for j, ch in enumerate(self._text):
            if x + w > width - margin and ch != "\n":  # a line break may hang past the edge
                x, y = margin, y + h
                rows.append(j)
            rects.append(QtCore.QRectF(x, y, w, h))
            x += w
            if ch == "\n":
                x, y = margin, y + h
                rows.append(j + 1)
        self._rects = rects
        self._rows = rows
        self._margin = margin
        height = int((rects[-1].bottom() if rects else 0) + margin + 2)
        if self.minimumHeight() != height:
            self.setMinimumHeight(height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._layout()

    def sizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(600, max(self.minimumHeight(), 80))

    # -- drawing --------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        painter = QtGui.QPainter(self)
        painter.fillRect(self.rect(), QtGui.QColor(255, 255, 255))
        if not self._rects:
            return
        clip = QtCore.QRectF(event.rect())
        painter.setFont(self.font())
        colors = self._colors
        _w, h = self._cell()
        first = max(0, int((clip.top() - self._margin) // h))
        last = int((clip.bottom() - self._margin) // h) + 1
        if first >= len(self._rows):
            first = len(self._rows) - 1
        lo = self._rows[first]
        hi = self._rows[last] if last < len(self._rows) else len(self._rects)
        for j in range(lo, hi):  # only the rows in the repainted strip
            ch, rect = self._text[j], self._rects[j]
            if not rect.intersects(clip):
                continue
            rgb = tuple(int(c) for c in colors[j]) if colors is not None else (255, 255, 255)
            painter.fillRect(rect, QtGui.QColor(*rgb))
            fg = text_rgb(rgb)
            shown = display_name(ch) if ch in ("\n", "\t", "\r") else ch
            painter.setPen(QtGui.QColor(*fg) if ch not in ("\n", "\t", " ") else QtGui.QColor(*fg, 110))
            painter.drawText(rect, QtCore.Qt.AlignmentFlag.AlignCenter, shown)
        if 0 <= self._current < len(self._rects):
            painter.setPen(QtGui.QPen(QtGui.QColor(20, 20, 20), 2.5))
            painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
            painter.drawRect(self._rects[self._current].adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    # -- mouse ----------------------------------------------------------------------------------------
    def index_at(self, pos: QtCore.QPointF) -> int:
        """The character under a point, or -1 (row from y, then column from x)."""
        if not self._rects:
            return -1
        w, h = self._cell()
        row = int((pos.y() - self._margin) // h)
        if not 0 <= row < len(self._rows):
            return -1
        start = self._rows[row]
        stop = self._rows[row + 1] if row + 1 < len(self._rows) else len(self._rects)
        j = start + int((pos.x() - self._margin) // w)
        return j if start <= j < stop and self._rects[j].contains(pos) else -1

    def mouseMoveEvent(self, event) -> None:
        j = self.index_at(event.position())
        if j >= 0 and j != self._hover:
            self._hover = j
            self.hovered.emit(j)
            if self._values is not None:
                ch = display_name(self._text[j])
                value = format_number(self._values[j], 3)
                QtWidgets.QToolTip.showText(event.globalPosition().toPoint(),
                                            f"t = {j}  ‘{ch}’   {self._label} = {value}", self)
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event) -> None:
        j = self.index_at(event.position())
        if j >= 0:
            self.hovered.emit(j)
        super().mousePressEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = -1
        super().leaveEvent(event)


class TextView(AnalysisView):
    title = "Text"

    def __init__(self, document, parent=None, undo=None):
        super().__init__(document, parent)
        self.setObjectName("textView")
        self.undo = undo
        self.vocab = None
        self.text: str | None = None
        self._applied_text: str | None = None

        self.quantity_box = QtWidgets.QComboBox()
        self.quantity_box.setObjectName("textQuantity")
        self.quantity_box.addItem("cell state c", "c")
        self.quantity_box.addItem("hidden state h", "h")
        common.set_tip(self.quantity_box, "Color each character by the selected unit's c or h at its step")
        self.quantity_box.currentIndexChanged.connect(lambda _i: self.mark("colors"))
        self.unit_box = SpinBox()
        self.unit_box.setObjectName("textUnit")
        self.unit_box.setPrefix("unit k = ")
        self.unit_box.setMinimumWidth(100)
        common.set_tip(self.unit_box, "The unit whose state colors the text: the selected unit everywhere")
        self.unit_box.valueChanged.connect(self._unit_edited)
        self.load_button = QtWidgets.QPushButton("Load text…")
        self.load_button.setObjectName("textLoad")
        common.set_tip(self.load_button, "Read a UTF-8 text file as the input")
        self.load_button.clicked.connect(self.load_dialog)
        self.scale = common.small_label()
        self.scale.setObjectName("textScale")
        controls = QtWidgets.QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        for widget in (self.quantity_box, self.unit_box, self.load_button):
            controls.addWidget(widget)
        controls.addWidget(self.scale, 1)

        self.editor = QtWidgets.QPlainTextEdit()
        self.editor.setObjectName("textEditor")
        self.editor.setPlaceholderText("Type text here: it becomes the input, one character per step")
        self.editor.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.SystemFont.FixedFont))
        self.editor.setMaximumHeight(84)
        self.editor.setToolTip("The input, one character per step. Characters outside the model's "
                               "vocabulary are read as its ‘unknown’ character.")
        self.editor.textChanged.connect(self._typed)
        self.timer = QtCore.QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(TYPING_DELAY_MS)
        self.timer.timeout.connect(self.apply_text)
        self.status = common.hint_label()
        self.status.setObjectName("textStatus")

        self.colored = ColoredText()
        self.colored.hovered.connect(self._hovered)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.colored)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.StyledPanel)

        self.missing = QtWidgets.QWidget()
        missing_layout = QtWidgets.QVBoxLayout(self.missing)
        missing_text = common.hint_label(
            "Text mode needs a model that reads characters: its input columns one-hot over a vocabulary "
            "(a <i>model</i>.vocab.json file beside the model). The bracket model that ships with lstmviz "
            "has one.")
        self.open_brackets = QtWidgets.QPushButton("Open the bracket model")
        self.open_brackets.setObjectName("textOpenBrackets")
        common.set_tip(self.open_brackets, "Switch to the preset ‘Trained model: a unit that counts "
                       "brackets’")
        self.open_brackets.clicked.connect(self._open_brackets)
        missing_layout.addWidget(missing_text)
        missing_layout.addWidget(self.open_brackets, 0, QtCore.Qt.AlignmentFlag.AlignLeft)
        missing_layout.addStretch(1)

        self.stack = QtWidgets.QStackedWidget()
        page = QtWidgets.QWidget()
        page_layout = QtWidgets.QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.setSpacing(4)
        page_layout.addLayout(controls)
        page_layout.addWidget(self.editor)
        page_layout.addWidget(self.status)
        page_layout.addWidget(self.scroll, 1)
        self.stack.addWidget(page)
        self.stack.addWidget(self.missing)
        root = QtWidgets.QVBoxLayout(self)
        root.setContentsMargins(6, 6, 6, 4)
        root.addWidget(self.stack)

        doc = document
        self.listen(doc.trace_changed, "data")
        self.listen(doc.source_changed, "data")
        self.listen(doc.unit_changed, "colors")
        self.listen(doc.step_changed, "step")
        self._stale = {"data", "step"}
        if self.isVisible():
            self._flush()

    # -- view -> Document -------------------------------------------------------------------------------
    def _typed(self) -> None:
        self.timer.start()

    def apply_text(self, text: str | None = None) -> bool:
        """Make `text` (default: what is typed) the Document's input, one-hot over the vocabulary."""
        self.timer.stop()
        if self.vocab is None:
            return False
        if text is None:
            text = self.editor.toPlainText()
        if text == self.text:
            return True
        if not text:
            self.status.setText("Type at least one character.")
            return False
        if len(text) > MAX_CHARS:
            self.status.setText(f"The text has {len(text):,} characters; at most {MAX_CHARS:,} are read.")
            text = text[:MAX_CHARS]
        try:
            xs = self.vocab.encode(text)
        except LstmvizError as error:
            self.status.setText(f"<span style='color:#b00020'>{error}</span>")
            return False
        doc = self.document
        self._applied_text = text
        if self.undo is not None:
            return self.undo.submit(lambda: edits.set_input(doc, xs, names=doc.input_names, text="Type text"))
        doc.set_input(xs)
        return True

    def load_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load text", "", "Text (*.txt);;All files (*)")
        if path:
            self.load_file(path)

    def load_file(self, path) -> bool:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            self.report(f"{Path(path).name}: cannot read it as UTF-8 text ({error})")
            return False
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        return self.apply_text(text)

    def _unit_edited(self, value: int) -> None:
        try:
            self.document.set_unit(value)
        except LstmvizError as error:
            self.report(str(error))

    def _hovered(self, index: int) -> None:
        self.document.set_step(index)

    def _open_brackets(self) -> None:
        # Through the window's controller, like the Presets menu: it asks before unsaved work
        # goes and makes the switch one undo step.
        from lstmviz.gui.controller import controller_of

        controller = controller_of(self)
        if controller is not None:
            controller.apply_preset("brackets")
            return
        from lstmviz.document.opening import open_preset

        try:  # a text view outside a main window (its own tests): straight into its Document
            opened = open_preset("brackets")
            self.document.replace(opened.cell, view=opened.view, interventions=(), dirty=False)
        except LstmvizError as error:
            self.report(str(error))

    # -- Document -> view ---------------------------------------------------------------------------------
    def refresh_now(self, kinds: set[str]) -> None:
        doc = self.document
        if "data" in kinds:
            self.vocab = vocabulary_for(doc)
            self.stack.setCurrentIndex(0 if self.vocab is not None else 1)
            if self.vocab is None:
                return
            self.text = decoded_text(doc, self.vocab)
            typed = self.editor.toPlainText()
            if self.text is not None and self.text != typed and self._applied_text != typed:
                self.editor.blockSignals(True)
                self.editor.setPlainText(self.text)
                self.editor.blockSignals(False)
            self._applied_text = None
            if self.text is None:
                self.status.setText("The current input is not one-hot characters; type text to replace it.")
            else:
                unknown = self.vocab.unknown
                others = f"; others are read as ‘{display_name(unknown)}’" if unknown is not None else ""
                self.status.setText(
                    f"{len(self.text)} characters, one-hot over the model's {self.vocab.size}-character "
                    f"vocabulary{others}. Hover a character to step there.")
            kinds.add("colors")
        if self.vocab is None:
            return
        if "colors" in kinds:
            self._draw_colors()
        self.colored.set_current(doc.step if self.text is not None else -1)

    def _draw_colors(self) -> None:
        doc = self.document
        k = doc.unit
        self.unit_box.blockSignals(True)
        self.unit_box.setRange(0, doc.n - 1)
        self.unit_box.setValue(k)
        self.unit_box.blockSignals(False)
        if self.text is None:
            self.colored.set_content("", None, None, "")
            return
        quantity = self.quantity_box.currentData()
        colors, vmax = text_colors(doc.trace, quantity, k)
        values = unit_values(doc.trace, quantity, k)
        self.colored.set_content(self.text, colors, values, f"{quantity}[{k}]")
        swatches = "".join(
            f"<span style='background:rgb{rgb}'>&nbsp;&nbsp;&nbsp;</span>" for _pos, rgb in gradient_stops(9))
        color = "#{:02x}{:02x}{:02x}".format(*unit_color(k))
        vm = format_number(vmax, 3)
        self.scale.setText(f"<span style='color:{color}'><b>{quantity}[{k}]</b></span>: "
                           f"−{vm} {swatches} +{vm}")
