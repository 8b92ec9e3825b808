"""No silent failure (issue 10 item 4): an exception in a view fails the test, and in the app
it is logged and shown in a dialog with the traceback under Details."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BROKEN_VIEWS = '''
import threading

from PySide6.QtCore import QRunnable, QThreadPool, QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from lstmviz.document import Document
from lstmviz.gui.binding import bind
from lstmviz.presets import load_preset


class BrokenStepView(QWidget):
    def __init__(self, doc):
        super().__init__()
        bind(self, doc.step_changed, self.on_step)

    def on_step(self, step):
        raise ValueError(f"broken step view at {step}")


def test_psygnal_callback_raises(qtbot):
    doc = Document.from_preset(load_preset("memory-cell"))
    view = BrokenStepView(doc)
    qtbot.addWidget(view)
    doc.set_step(doc.step + 1)  # the setter returns normally: only the hook sees the error


def test_psygnal_callback_connected_directly_raises(qtbot):
    doc = Document.from_preset(load_preset("memory-cell"))

    def broken(step):
        raise ValueError("broken direct listener")

    doc.step_changed.connect(broken)
    QTimer.singleShot(0, lambda: doc.set_step(doc.step + 1))  # emitted from a Qt slot
    qtbot.wait(20)


class BrokenPaint(QWidget):
    def paintEvent(self, event):
        raise RuntimeError("broken paintEvent")


def test_paint_event_raises(qtbot):
    widget = BrokenPaint()
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    widget.resize(200, 100)
    widget.update()
    qtbot.wait(50)  # painted by the event loop, as in the window


class BrokenCommand(QUndoCommand):
    def redo(self):
        raise RuntimeError("broken QUndoCommand.redo")


def test_undo_command_raises(qtbot):
    stack = QUndoStack()
    stack.push(BrokenCommand())


class BrokenRunnable(QRunnable):
    def run(self):
        raise RuntimeError("broken QRunnable.run")


def test_runnable_raises(qtbot):
    pool = QThreadPool()
    pool.start(BrokenRunnable())
    pool.waitForDone()


def test_thread_raises(qtbot):
    def broken():
        raise RuntimeError("broken thread")

    thread = threading.Thread(target=broken)
    thread.start()
    thread.join()


def test_healthy_view_passes(qtbot):
    doc = Document.from_preset(load_preset("memory-cell"))
    seen = []

    class Good(QWidget):
        def on_step(self, step):
            seen.append(step)

    view = Good()
    qtbot.addWidget(view)
    bind(view, doc.step_changed, view.on_step)
    doc.set_step(doc.step + 1)
    assert seen == [doc.step]
'''

BROKEN = {
    "test_psygnal_callback_raises": "broken step view at 4",
    "test_psygnal_callback_connected_directly_raises": "broken direct listener",
    "test_paint_event_raises": "broken paintEvent",
    "test_undo_command_raises": "broken QUndoCommand.redo",
    "test_runnable_raises": "broken QRunnable.run",
    "test_thread_raises": "broken thread",
}


def test_a_broken_view_fails_its_test(pytester):
    """The repository's own conftest files and pytest settings, over deliberately broken views:
    each broken one fails, the healthy one passes."""
    pytester.makeconftest((ROOT / "tests" / "conftest.py").read_text())
    gui = pytester.mkpydir("gui")
    (gui / "conftest.py").write_text((ROOT / "tests" / "gui" / "conftest.py").read_text())
    (gui / "test_broken_views.py").write_text(BROKEN_VIEWS)
    pytester.makeini(
        textwrap.dedent(
            """
            [pytest]
            qt_api = pyside6
            filterwarnings = error
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rf")
    result.assert_outcomes(failed=len(BROKEN), passed=1)
    out = result.stdout.str()
    for name, message in BROKEN.items():
        assert f"FAILED gui/test_broken_views.py::{name}" in out, name
        assert message in out, message


def test_one_broken_view_does_not_stop_the_others(qtbot, make_document):
    """psygnal stops at the first listener that raises; bind() reports it and goes on."""
    from PySide6.QtWidgets import QWidget

    from lstmviz.gui.binding import bind

    doc = make_document("memory-cell")
    seen = []

    class Broken(QWidget):
        def on_step(self, step):
            raise ValueError("broken")

    class Good(QWidget):
        def on_step(self, step):
            seen.append(step)

    broken, good = Broken(), Good()
    qtbot.addWidget(broken)
    qtbot.addWidget(good)
    bind(broken, doc.step_changed, broken.on_step)
    bind(good, doc.step_changed, good.on_step)
    with qtbot.captureExceptions() as exceptions:
        doc.set_step(doc.step + 2)
    assert [str(e[1]) for e in exceptions] == ["broken"]
    assert seen == [doc.step]


APP_SCRIPT = r'''
import os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from lstmviz.gui import errors_dialog

app = QApplication([])
errors_dialog.install()
window = QWidget()
window.show()

def broken_slot():
    raise ValueError("broken slot in the app")

def report():
    boxes = [w for w in app.topLevelWidgets()
             if isinstance(w, QMessageBox) and w.objectName() == "unexpectedErrorDialog"]
    for box in boxes:
        print("DIALOG", box.text().replace("\n", " | "))
        print("DETAILS", "broken_slot" in box.detailedText(), "Traceback" in box.detailedText())
    app.quit()

QTimer.singleShot(0, broken_slot)
QTimer.singleShot(10, broken_slot)  # the same error again: logged, not shown twice
QTimer.singleShot(300, report)
app.exec()
'''


def test_the_app_shows_and_logs_an_exception(tmp_path):
    """In the real app (errors_dialog.install), a slot that raises opens one dialog with the
    traceback under Details and writes the traceback to the log file."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LSTMVIZ_STATE_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", APP_SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    dialogs = [line for line in done.stdout.splitlines() if line.startswith("DIALOG")]
    assert dialogs == ["DIALOG Something went wrong inside lstmviz: | ValueError: broken slot in the app"]
    assert "DETAILS True True" in done.stdout
    log = (tmp_path / "lstmviz-errors.log").read_text()
    assert log.count("ValueError: broken slot in the app") == 2  # every occurrence is logged
    assert "broken_slot" in log
    assert "ValueError: broken slot in the app" in done.stderr


def test_views_subscribe_through_bind():
    """Every Document subscription in the window goes through bind(), which reports a broken
    listener instead of letting psygnal abort the emit loop (a grep, kept honest by the
    pattern: a Document signal name followed by .connect)."""
    import re

    pattern = re.compile(r"\b(doc|document)\.[a-z_]+_changed\.connect\(")
    offenders = []
    for path in (ROOT / "lstmviz" / "gui").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert offenders == []
