"""The strip above the plots: which plots, lines or heatmaps, playback style, read-out."""

from __future__ import annotations

from PySide6 import QtCore, QtWidgets

from lstmviz.io.view_options import OPTION_RULES

DISPLAY_MODES = (("auto", "Auto"), ("lines", "Lines"), ("heatmap", "Heatmap"))
ANIMATIONS = (("cursor", "Moving cursor"), ("grow", "Growing trace"))


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
        self.readout.setMinimumWidth(80)

        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        for widget in (
            QtWidgets.QLabel("Show:"), self.show_x, self.show_z, _separator(),
            QtWidgets.QLabel("Draw:"), self.display, _separator(),
            QtWidgets.QLabel("Playback:"), self.animation, self.follow, self.window, self.fit,
        ):
            layout.addWidget(widget)
        layout.addWidget(self.readout, 1)

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


def _separator() -> QtWidgets.QFrame:
    line = QtWidgets.QFrame()
    line.setFrameShape(QtWidgets.QFrame.Shape.VLine)
    line.setFrameShadow(QtWidgets.QFrame.Shadow.Sunken)
    return line
