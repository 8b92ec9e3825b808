"""Stepping: keys, toolbar, slider, and playback that only asks the Document for next_step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from lstmviz.gui.playback import MAX_WAIT_MS, Playback


def activate(qtbot, window):
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(window.isActiveWindow, timeout=3000)


def test_keys_move_the_step(qtbot, make_window):
    window = make_window("memory-cell")
    doc = window.document
    activate(qtbot, window)
    start = doc.step
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert doc.step == start + 1
    qtbot.keyClick(window, Qt.Key.Key_Left)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert doc.step == start - 1
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert doc.step == doc.T - 1
    qtbot.keyClick(window, Qt.Key.Key_Right)  # stays at the last step
    assert doc.step == doc.T - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert doc.step == 0
    # the keys work while the diagram has the focus, too
    window.diagram.setFocus()
    qtbot.keyClick(window.diagram, Qt.Key.Key_Right)
    assert doc.step == 1
    # the toolbar and slider follow the Document
    assert window.playback_bar.slider.value() == 1
    assert window.playback_bar.step_label.text() == f"t = 1 / {doc.T - 1}"
    window.playback_bar.slider.setValue(20)
    assert doc.step == 20


def test_unit_and_selection_keys(qtbot, make_window):
    window = make_window("forget-worked")
    doc = window.document
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert doc.unit == 1
    qtbot.keyClick(window, Qt.Key.Key_Up)
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert doc.unit == 0
    for key, cid in (
        (Qt.Key.Key_I, "i"),
        (Qt.Key.Key_G, "g"),
        (Qt.Key.Key_O, "o"),
        (Qt.Key.Key_C, "c"),
        (Qt.Key.Key_H, "h"),
        (Qt.Key.Key_X, "x"),
        (Qt.Key.Key_F, "f"),
    ):
        qtbot.keyClick(window, key)
        assert doc.selection == cid
    qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ShiftModifier)
    assert doc.selection == "c_prev"


def test_space_plays_and_playback_advances(qtbot, make_window):
    window = make_window("memory-cell")
    doc = window.document
    activate(qtbot, window)
    doc.set_option("playback_fps", 60.0)
    doc.set_step(0)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playback.is_playing and window.playback_bar.play_action.isChecked()
    qtbot.waitUntil(lambda: doc.step >= 3, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playback.is_playing and window.playback_bar.play_action.text() == "Play"
    stopped = doc.step
    qtbot.wait(100)
    assert doc.step == stopped


def test_playback_wraps_at_the_end(qtbot, make_document):
    doc = make_document("forget-worked")  # T = 4
    playback = Playback(doc)
    doc.set_step(doc.T - 1)
    playback._tick()
    assert doc.step == 0


def test_timer_only_asks_the_document_and_skips_undrawn_frames(qtbot, make_document, monkeypatch):
    doc = make_document("memory-cell")
    asked = []
    real_next = doc.next_step
    monkeypatch.setattr(doc, "next_step", lambda wrap=True: asked.append(1) or real_next(wrap))
    playback = Playback(doc)
    view = QWidget()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    playback.watch(view)
    start = doc.step
    playback._tick()  # steps, then waits for the view to paint
    playback._tick()  # not painted yet: skipped, not queued
    assert (len(asked), playback.frames, playback.skipped, doc.step) == (1, 1, 1, start + 1)
    view.update()  # the frame is drawn
    qtbot.waitUntil(lambda: not playback._pending, timeout=2000)
    playback._tick()
    assert (len(asked), playback.skipped, doc.step) == (2, 1, start + 2)
    # a frame that is never drawn does not stall playback for good
    playback._since.restart()
    qtbot.wait(MAX_WAIT_MS + 50)
    playback._tick()
    assert len(asked) == 3


def test_speed_control(qtbot, make_window):
    window = make_window("memory-cell")
    doc, bar, playback = window.document, window.playback_bar, window.playback
    bar.speed.setValue(20)
    assert doc.option("playback_fps") == 20 and playback._timer.interval() == 50
    playback.faster()
    assert bar.speed.value() == 30
    playback.slower()
    playback.slower()
    assert doc.option("playback_fps") == 15
    doc.set_option("playback_fps", 100000.0)
    assert playback.fps == 5000 and bar.speed.value() == 5000


def test_fast_speeds_skip_steps_at_most_60_frames_a_second(qtbot, make_document):
    """Above 60 steps/s each frame moves several steps (issue 10: a 100 000-step trace must
    play through in under a minute at the top speed, and the views draw at most 60 frames/s)."""
    from lstmviz.document import Document
    from lstmviz.gui.playback import FRAME_RATE_MAX

    playback = Playback(make_document("memory-cell"))
    playback.set_fps(1)
    assert (playback.frame_rate, playback.stride) == (1, 1)
    for speed, stride in ((60, 1), (100, 2), (1000, 17), (5000, 83)):
        playback.set_fps(speed)
        assert playback.frame_rate == FRAME_RATE_MAX and playback.stride == stride
        assert playback._timer.interval() == 1000 // FRAME_RATE_MAX
    playback.faster()
    assert playback.fps == 5000  # the top of the speed list
    # the top speed covers a 100 000-step trace in under a minute of frames
    T = 100_000
    frames_needed = -(-T // playback.stride)
    assert frames_needed / FRAME_RATE_MAX < 60
    # each frame moves `stride` steps, stops on the last step, then loops
    doc = Document(playback.document.params, np.zeros((1000, playback.document.m)))
    fast = Playback(doc)
    fast.set_fps(1000)
    fast._tick()
    assert doc.step == 17
    doc.set_step(990)
    fast._tick()
    assert doc.step == 999
    fast._tick()
    assert doc.step == 0


@pytest.mark.parametrize("action", ["first_action", "back_action", "forward_action", "last_action"])
def test_toolbar_buttons(qtbot, make_window, action):
    window = make_window("memory-cell")
    doc = window.document
    doc.set_step(10)
    getattr(window.playback_bar, action).trigger()
    assert (
        doc.step
        == {"first_action": 0, "back_action": 9, "forward_action": 11, "last_action": doc.T - 1}[action]
    )
    assert getattr(window.playback_bar, action).toolTip().endswith(")")  # names its key


def test_step_keys_work_after_clicking_the_inspector_text(qtbot, make_window):
    window = make_window("memory-cell")
    doc = window.document
    activate(qtbot, window)
    browser = window.inspector.browser
    qtbot.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton)
    start = doc.step
    qtbot.keyClick(browser, Qt.Key.Key_Right)
    assert doc.step == start + 1
    qtbot.keyClick(browser, Qt.Key.Key_Home)
    assert doc.step == 0


def test_a_step_repaints_the_label_alone_and_the_slider_only_when_its_handle_moves(qtbot, make_window):
    """At T = 100 000 one step moves the slider's handle by a hundred-thousandth of its
    groove: no repaint of the slider then, and the label's new text repaints the label, not
    the toolbar and the window behind it. The values still follow every step."""
    from PySide6.QtCore import QEvent, QObject

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document

    doc = Document(LSTMParams.random(4, 2, seed=1), np.zeros((100_000, 2)))
    window = make_window(document=doc)
    bar = window.playback_bar
    painted = []

    class Spy(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                # the window repaints for other views too: count only what covers the bar
                if obj is not window or event.region().intersects(bar.geometry()):
                    painted.append(obj)
            return False

    spy = Spy()
    doc.set_step(50_000)
    qtbot.wait(20)
    for widget in (bar, bar.slider, bar.step_label, window):
        widget.installEventFilter(spy)
    for step in range(50_001, 50_004):
        painted.clear()
        doc.set_step(step)
        qtbot.wait(20)
        assert bar.slider.value() == step
        assert bar.step_label.text() == f"t = {step} / {doc.T - 1}"
        assert bar.step_label in painted
        assert bar.slider not in painted and bar not in painted and window not in painted
    painted.clear()
    doc.set_step(90_000)  # the handle moves: the slider repaints, alone
    qtbot.wait(20)
    assert bar.slider in painted and bar not in painted and window not in painted
