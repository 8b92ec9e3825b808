"""A progress bar with Cancel in the window's status line, for long work that leaves the
window usable: a rerun in steps (lstmviz.gui.rerun) and a trace computed in the background
(lstmviz.gui.workers.Job.show_progress_in). Not a dialog: nothing modal below 10^6 steps."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

LABEL_MAX_PX = 340


class StatusProgress(QWidget):
    """"<label> [bar] Cancel"; `cancel_button.clicked` is the caller's to connect."""

    def __init__(self, label: str, tooltip: str, cancel_tooltip: str, name: str = "statusProgress",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self.label = QLabel(label)
        self.bar = QProgressBar()
        self.bar.setObjectName(f"{name}Bar")
        self.bar.setRange(0, 1000)
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(True)
        self.cancel_button = QToolButton()
        self.cancel_button.setObjectName(f"{name}Cancel")
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip(cancel_tooltip)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 0, 4, 0)  # apart from the status line's message
        layout.setSpacing(6)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.setToolTip(tooltip)

    def set_label(self, text: str) -> None:
        """The label, elided to LABEL_MAX_PX (the status line's hint keeps its room at
        1280 px); the whole of it in the label's tooltip."""
        metrics = self.label.fontMetrics()
        self.label.setText(metrics.elidedText(text, Qt.TextElideMode.ElideMiddle, LABEL_MAX_PX))
        self.label.setToolTip(text)

    def show_steps(self, computed: int, T: int) -> None:
        # QProgressBar.setValue repaints at once (~5 ms here, in the middle of a rerun's tick):
        # with updates off it is one paint with the rest of the frame
        self.bar.setUpdatesEnabled(False)
        try:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * computed / max(T, 1)))
            self.bar.setFormat(f"step {computed:,} of {T:,}".replace(",", " "))
        finally:
            self.bar.setUpdatesEnabled(True)

    def show_fraction(self, fraction: float | None) -> None:
        """How far the work is (0..1), or None when it cannot say (a busy bar)."""
        if fraction is None:
            self.bar.setRange(0, 0)
            return
        self.bar.setUpdatesEnabled(False)
        try:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(1000 * min(max(fraction, 0.0), 1.0))))
            self.bar.setFormat("%p%")
        finally:
            self.bar.setUpdatesEnabled(True)
