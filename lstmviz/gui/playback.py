"""Stepping through the sequence: a playback timer and the stepping toolbar.

The timer never moves state itself: on each tick it asks the Document for `next_step()`.
Speeds above FRAME_RATE_MAX steps/s skip steps: the timer still ticks at most 60 times a
second and each frame moves several steps, so a 100 000-step trace plays through in 20 s at
the top speed (5000 steps/s) without asking the views for more than 60 frames a second.
If the views have not drawn the previous frame yet (no paint event seen on a watched
viewport since the last step), the tick is skipped rather than queued, so a slow machine
plays slower instead of falling behind (napari's AnimationThread does the same).
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtWidgets import (
    QAbstractSlider,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QStyleOptionToolBar,
    QToolBar,
    QWidget,
)

from lstmviz.gui.binding import bind
from lstmviz.gui.spinbox import SpinBox
from lstmviz.io.view_options import OPTION_RULES

# playback speed in steps per second: the "playback_fps" option's range (what a document keeps)
FPS_MIN, FPS_MAX = (int(bound) for bound in OPTION_RULES["playback_fps"][1:])
FRAME_RATE_MAX = 60  # frames per second; faster speeds move several steps per frame
SPEEDS = (1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 100, 200, 500, 1000, 2000, 5000)
MAX_WAIT_MS = 500  # never wait longer than this for a frame that may never be painted


class Playback(QObject):
    """Plays the Document's steps at `playback_fps` steps per second, looping at the end."""

    @property
    def frame_rate(self) -> float:
        """Frames per second: the speed, up to FRAME_RATE_MAX."""
        return min(self.fps, FRAME_RATE_MAX)

    @property
    def stride(self) -> int:
        """Steps per frame: 1 up to FRAME_RATE_MAX steps/s, more above it."""
        return max(1, round(self.fps / self.frame_rate))

    playing_changed = Signal(bool)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._watched: list[QObject] = []
        self._pending = False
        self._since = QElapsedTimer()
        # Pace by the clock, not by the timer's whole-millisecond interval (17 ms would be
        # 58.8 steps/s at 60): the timer ticks a little faster and a tick that comes before the
        # next step is due does nothing.
        self._clock = QElapsedTimer()
        self._played = 0  # steps taken since the clock started
        self.frames = 0  # steps taken by the timer
        self.skipped = 0  # ticks skipped because the last frame was not drawn yet
        self._apply_fps()
        bind(self, document.option_changed, self._on_option)

    # -- control ---------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    def play(self) -> None:
        if not self.is_playing:
            self._pending = False
            self._restart_clock()
            self._timer.start()
            self.playing_changed.emit(True)

    def pause(self) -> None:
        if self.is_playing:
            self._timer.stop()
            self._pending = False
            self._clock.invalidate()
            self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.is_playing else self.play()

    @property
    def fps(self) -> float:
        value = self.document.option("playback_fps") or 10.0
        return float(min(max(float(value), FPS_MIN), FPS_MAX))

    def set_fps(self, fps: float) -> None:
        self.document.set_option("playback_fps", float(min(max(float(fps), FPS_MIN), FPS_MAX)))

    def faster(self) -> None:
        self.set_fps(next((s for s in SPEEDS if s > self.fps), SPEEDS[-1]))

    def slower(self) -> None:
        self.set_fps(next((s for s in reversed(SPEEDS) if s < self.fps), SPEEDS[0]))

    def _on_option(self, key: str, value) -> None:
        if key == "playback_fps":
            self._apply_fps()

    def _apply_fps(self) -> None:
        self._timer.setInterval(max(int(1000.0 / self.frame_rate), 1))
        if self.is_playing:
            self._restart_clock()

    def _restart_clock(self) -> None:
        self._clock.start()
        self._played = 0

    # -- frames ------------------------------------------------------------------------------------
    def watch(self, widget: QWidget) -> None:
        """Wait for a paint of this widget (a view's viewport) before the next step."""
        widget.installEventFilter(self)
        self._watched.append(widget)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self._pending = False
        return False

    def _tick(self) -> None:
        stride = self.stride
        if self._clock.isValid():
            due = self._clock.elapsed() * self.frame_rate / 1000.0  # frames that should be shown
            if self._played >= due:
                return  # early: the timer ticks slightly faster than the frame rate
            if self._played < due - 2:
                self._played = int(due) - 1  # behind (slow frames): drop them, do not burst
        if self._pending and self._since.isValid() and self._since.elapsed() < MAX_WAIT_MS:
            self.skipped += 1
            return
        self._pending = any(w.isVisible() for w in self._watched if isinstance(w, QWidget))
        self._since.restart()
        self.frames += 1
        self._played += 1
        self._advance(stride)

    def _advance(self, stride: int) -> None:
        doc = self.document
        if stride == 1:
            doc.next_step()
            return
        # several steps per frame: stop once on the last step before looping to the first
        last = doc.T - 1
        doc.set_step(0 if doc.step >= last else min(doc.step + stride, last))


def _opaque_on_toolbar(widget: QWidget, event=None) -> None:
    """Let `widget` (a child of a QToolBar) repaint without its parents: it paints the
    toolbar's own background under itself (the style's gradient, so the pixels are the same)
    and says it is opaque, so a change repaints one widget, not also the toolbar and the
    main window behind it. Again after each (re)polish: Fusion's polish clears the flag."""
    if event is None or event.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange):
        widget.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)


def _paint_toolbar_background(widget: QWidget, event) -> None:
    toolbar = widget.parentWidget()
    if not isinstance(toolbar, PlaybackBar):
        return
    option = QStyleOptionToolBar()
    toolbar.initStyleOption(option)
    painter = QPainter(widget)
    painter.setClipRegion(event.region())
    painter.translate(-widget.pos())
    toolbar.style().drawControl(QStyle.ControlElement.CE_ToolBar, option, painter, toolbar)
    painter.end()


class StepLabel(QLabel):
    """The "t = step / T - 1" label; opaque, so a new text repaints the label alone."""

    def __init__(self, parent=None):
        super().__init__(parent)
        _opaque_on_toolbar(self)

    def event(self, event) -> bool:
        handled = super().event(event)
        _opaque_on_toolbar(self, event)
        return handled

    def paintEvent(self, event) -> None:
        _paint_toolbar_background(self, event)
        super().paintEvent(event)


class TimeSlider(QSlider):
    """A QSlider that repaints on a new value only when its handle moves by a pixel: at
    T = 100 000 a step moves the handle 1/100 000 of the groove, so almost every step of a
    playback would otherwise repaint the whole 1000-px slider (and the toolbar under it)
    for nothing."""

    def __init__(self, orientation, parent=None):
        super().__init__(orientation, parent)
        self._painted_handle = None  # the handle's rect at the last paint
        _opaque_on_toolbar(self)

    def _handle_rect(self):
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        return self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )

    def sliderChange(self, change) -> None:
        if (change == QAbstractSlider.SliderChange.SliderValueChange
                and self._painted_handle is not None and self._handle_rect() == self._painted_handle):
            return  # the same pixels (a pending repaint, if any, draws the new value anyway)
        super().sliderChange(change)

    def event(self, event) -> bool:
        handled = super().event(event)
        _opaque_on_toolbar(self, event)
        return handled

    def paintEvent(self, event) -> None:
        self._painted_handle = self._handle_rect()
        _paint_toolbar_background(self, event)
        super().paintEvent(event)


class PlaybackBar(QToolBar):
    """First / back / play / forward / last, a time slider, the step, and the speed."""

    def __init__(self, document, playback: Playback, parent=None):
        super().__init__("Stepping", parent)
        self.setObjectName("playbackToolbar")
        self.document = document
        self.playback = playback
        icon = self.style().standardIcon
        P = QStyle.StandardPixmap

        def action(text, tip, shortcuts, slot, pixmap, name):
            act = QAction(icon(pixmap), text, self)
            act.setObjectName(name)
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            keys = ", ".join(shortcuts)
            act.setToolTip(f"{tip} ({keys})")
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            return act

        doc = document
        self.first_action = action(
            "First step",
            "Go to the first step",
            ["Home"],
            lambda: doc.set_step(0),
            P.SP_MediaSkipBackward,
            "actionFirst",
        )
        self.back_action = action(
            "Step back",
            "One step back",
            ["Left"],
            lambda: doc.set_step(doc.step - 1),
            P.SP_MediaSeekBackward,
            "actionBack",
        )
        self.play_action = action(
            "Play", "Play / pause the sequence", ["Space"], playback.toggle, P.SP_MediaPlay, "actionPlay"
        )
        self.play_action.setCheckable(True)
        self.forward_action = action(
            "Step forward",
            "One step forward",
            ["Right"],
            lambda: doc.set_step(doc.step + 1),
            P.SP_MediaSeekForward,
            "actionForward",
        )
        self.last_action = action(
            "Last step",
            "Go to the last step",
            ["End"],
            lambda: doc.set_step(doc.T - 1),
            P.SP_MediaSkipForward,
            "actionLast",
        )
        self.slower_action = action(
            "Slower", "Play slower", ["["], playback.slower, P.SP_ArrowDown, "actionSlower"
        )
        self.faster_action = action(
            "Faster", "Play faster", ["]"], playback.faster, P.SP_ArrowUp, "actionFaster"
        )
        for act in (
            self.first_action,
            self.back_action,
            self.play_action,
            self.forward_action,
            self.last_action,
        ):
            self.addAction(act)

        self.slider = TimeSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timeSlider")
        self.slider.setToolTip("The current step t: drag to scrub through the sequence")
        self.slider.setMinimumWidth(160)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._slider_moved)
        self.addWidget(self.slider)

        self.step_label = StepLabel()
        self.step_label.setObjectName("stepLabel")
        self.step_label.setToolTip("The current step t and the last step T − 1")
        self.step_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.step_label)

        self.addSeparator()
        self.speed = SpinBox()
        self.speed.setObjectName("speedBox")
        self.speed.setRange(FPS_MIN, FPS_MAX)
        self.speed.setSuffix(" steps/s")
        self.speed.setToolTip(
            f"Playback speed in steps per second ([ slower, ] faster); above {FRAME_RATE_MAX} "
            "steps/s each frame moves several steps"
        )
        self.speed.valueChanged.connect(playback.set_fps)
        speed_label = QLabel(" speed ")
        speed_label.setBuddy(self.speed)
        self.addWidget(speed_label)
        self.addWidget(self.speed)

        playback.playing_changed.connect(self._on_playing)
        bind(self, doc.step_changed, self._sync_step)
        bind(self, doc.trace_changed, self._sync)
        bind(self, doc.option_changed, self._on_option)
        self._sync()

    def step_actions(self) -> list[QAction]:
        return [
            self.first_action,
            self.back_action,
            self.play_action,
            self.forward_action,
            self.last_action,
            self.slower_action,
            self.faster_action,
        ]

    def _slider_moved(self, value: int) -> None:
        self.document.set_step(value)

    def _sync(self, *args) -> None:
        doc = self.document
        self.slider.blockSignals(True)
        self.slider.setRange(0, doc.T - 1)
        self.slider.blockSignals(False)
        self._fit_step_label()
        self._sync_step()
        if self.speed.value() != int(round(self.playback.fps)):
            self.speed.blockSignals(True)
            self.speed.setValue(int(round(self.playback.fps)))
            self.speed.blockSignals(False)

    def _fit_step_label(self) -> None:
        """A fixed width, from the widest text this sequence can show: a label whose size
        hint changed at each step would make the toolbar (and the window) lay out and repaint."""
        last = str(self.document.T - 1)
        widest = f"t = {'8' * len(last)} / {last}"
        label = self.step_label
        width = max(96, label.fontMetrics().horizontalAdvance(widest) + 12)
        height = label.fontMetrics().height() + 6
        if label.minimumSize() != label.maximumSize() or label.maximumWidth() != width:
            # fixed in both directions: QLabel.setText then asks nobody for a new layout
            label.setFixedSize(width, height)

    def _sync_step(self, *args) -> None:
        """Per step: the slider's value and the label's text, nothing that changes a size."""
        doc = self.document
        if self.slider.value() != doc.step:
            self.slider.blockSignals(True)
            self.slider.setValue(doc.step)
            self.slider.blockSignals(False)
        self.step_label.setText(f"t = {doc.step} / {doc.T - 1}")

    def _on_option(self, key: str, value) -> None:
        if key == "playback_fps":
            self._sync()

    def _on_playing(self, playing: bool) -> None:
        P = QStyle.StandardPixmap
        self.play_action.setChecked(playing)
        self.play_action.setText("Pause" if playing else "Play")
        self.play_action.setIcon(self.style().standardIcon(P.SP_MediaPause if playing else P.SP_MediaPlay))
