# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Autosave and crash recovery: only unsaved changes, a lock per window, kill -9 recovers."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from lstmviz.autosave import Autosaver, SessionLock, find_recoverable
from lstmviz.document.files import snapshot
from lstmviz.edits import SetWeight
from lstmviz.io.document_file import read_document
from tests.gui.editing_fixtures import doc, open_window, user_dirs, window  # noqa: F401


def test_autosave_only_when_there_are_unsaved_changes(tmp_path, doc):  # noqa: F811
    saver = Autosaver(tmp_path)
    try:
        assert not saver.tick(False, 1, lambda: snapshot(doc), background=False)
        assert not saver.exists
        assert saver.tick(True, 1, lambda: snapshot(doc), background=False)
        assert saver.exists and read_document(saver.path).title == doc.title
        mtime = saver.path.stat().st_mtime_ns
        assert not saver.tick(True, 1, lambda: snapshot(doc), background=False)  # nothing new
        assert saver.path.stat().st_mtime_ns == mtime
        assert saver.tick(True, 2, lambda: snapshot(doc), background=False)
        saver.discard()  # an explicit save
        assert not saver.exists
    finally:
        saver.close()
    assert list(tmp_path.iterdir()) == []  # clean exit: no autosave, no lock


def test_a_save_during_an_autosave_wins(tmp_path, doc):  # noqa: F811
    started, release = threading.Event(), threading.Event()

    def slow_write(state, path):
        started.set()
        release.wait(5)
        path.write_bytes(b"stale autosave")

    saver = Autosaver(tmp_path, write=slow_write)
    try:
        assert saver.tick(True, 1, lambda: snapshot(doc))
        assert started.wait(5)
        saver.discard()  # the user saved while the autosave was being written
        release.set()
        saver.wait(5)
        assert not saver.exists
        assert not [p for p in tmp_path.iterdir() if "pending" in p.name]
    finally:
        saver.close()


def test_a_running_window_is_never_taken_for_a_crash(tmp_path, doc):  # noqa: F811
    first = Autosaver(tmp_path)
    second = Autosaver(tmp_path)
    try:
        first.save(snapshot(doc), background=False)
        assert find_recoverable(tmp_path) == []
        assert SessionLock.claim(first.lock.path) is None
    finally:
        first.close()
        second.close()


def test_stale_lock_without_an_autosave_is_cleaned(tmp_path):
    lock = SessionLock.create(tmp_path)
    lock.release(remove=False)  # as if the process had died without an autosave
    assert find_recoverable(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


CHILD_QT_FREE = """
import sys, time
from lstmviz.autosave import Autosaver
from lstmviz.document import Document
from lstmviz.document.files import snapshot
from lstmviz.presets import load_preset
doc = Document.from_preset(load_preset("forget-worked"))
saver = Autosaver(sys.argv[1])
saver.save(snapshot(doc), background=False)
print("READY", flush=True)
time.sleep(60)
"""


def _start(code: str, *args, env=None):
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        proc.kill()
        pytest.fail(f"child did not start: {line!r} {proc.stderr.read()}")
    return proc, line


def _kill9(proc) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()


def test_kill_9_leaves_a_recoverable_autosave(tmp_path):
    proc, _ = _start(CHILD_QT_FREE, str(tmp_path))
    try:
        assert find_recoverable(tmp_path) == []  # alive: its lock is held
    finally:
        _kill9(proc)
    found = find_recoverable(tmp_path)
    assert len(found) == 1
    assert find_recoverable(tmp_path) == []  # claimed by us: nobody else offers it
    state = found[0].read()
    assert state.title.startswith("Worked example")
    found[0].discard()
    assert list(tmp_path.iterdir()) == []


CHILD_WINDOW = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
from lstmviz.document import Document
from lstmviz.edits import SetWeight
from lstmviz.gui.main_window import MainWindow
from lstmviz.presets import load_preset
doc = Document.from_preset(load_preset("memory-cell"))
window = MainWindow(doc)  # the real window, as `lstmviz` opens it
session = window.session
window.show()
session.undo.submit(SetWeight(doc, "W_f", (0, 0), 1.25))
doc.set_step(9)
def check():
    if session.autosaver.exists and not session.autosaver.busy:
        print("READY", session.autosaver.path, flush=True)
    else:
        QTimer.singleShot(50, check)
QTimer.singleShot(50, check)
app.exec()
"""


def test_kill_9_the_window_then_start_again_offers_the_state_back(qtbot, user_dirs, monkeypatch,  # noqa: F811
                                                                  make_window):
    from lstmviz.document import Document
    from lstmviz.presets import load_preset

    env = dict(os.environ, LSTMVIZ_AUTOSAVE_SECONDS="0.2")
    proc, line = _start(CHILD_WINDOW, env=env)
    autosave = line.split(maxsplit=1)[1].strip()
    try:
        # A second window while the first runs: nothing is offered.
        monkeypatch.setenv("LSTMVIZ_OFFER_RECOVERY", "1")
        other = Document.from_preset(load_preset("forget-worked"))
        window2, session2 = open_window(qtbot, other)
        qtbot.wait(100)
        assert not [w for w in QApplication.topLevelWidgets() + window2.findChildren(QMessageBox)
                    if w.objectName() == "lstmviz-recovery" and w.isVisible()]
        session2.shutdown()
    finally:
        _kill9(proc)

    fresh = Document.from_preset(load_preset("forget-worked"))
    window3 = make_window(document=fresh)  # the real main window again
    session3 = window3.session
    qtbot.waitUntil(lambda: getattr(session3, "recovery_box", None) is not None)
    box = session3.recovery_box
    assert "did not close cleanly" in box.text()
    recover = next(b for b in box.buttons() if b.text() == "Recover")
    recover.click()
    qtbot.waitUntil(lambda: fresh.n == 2)
    assert fresh.params.W_f[0, 0] == 1.25 and fresh.step == 9
    assert fresh.dirty  # recovered work is still unsaved
    assert not os.path.exists(autosave)  # the dead window's copy is gone ...
    assert session3.autosaver.exists  # ... after ours was written
    session3.shutdown()
    assert not session3.autosaver.exists and not session3.autosaver.lock.path.exists()


def test_the_window_autosaves_within_30_seconds_and_cleans_up(qtbot, window, monkeypatch):  # noqa: F811
    session = window.session
    assert session.autosave_timer.interval() <= 30_000 and session.autosave_timer.isActive()
    doc = session.document
    assert not session.autosave_now(background=False)  # nothing unsaved yet
    session.undo.submit(SetWeight(doc, "W_i", (0, 1), 3.0))
    assert session.autosave_now(background=False)
    state = read_document(session.autosaver.path)
    assert state.params.W_i[0, 1] == 3.0
    assert state.meta["autosave"]["document_path"] is None
    session.save_to(session.autosaver.directory.parent / "saved.lstmviz", synchronous=True)
    assert not session.autosaver.exists and not doc.dirty
    session.undo.submit(SetWeight(doc, "W_i", (0, 1), 4.0))
    assert session.autosave_now(background=False)
    window.close()  # a clean exit (nothing to ask offscreen)
    assert not session.autosaver.exists and not session.autosaver.lock.path.exists()
    assert np.isfinite(doc.params.W_i).all()


def test_an_unwritable_state_dir_does_not_stop_the_window(qtbot, doc, user_dirs, monkeypatch):  # noqa: F811
    blocker = user_dirs / "blocked"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("LSTMVIZ_STATE_DIR", str(blocker / "state"))
    window, session = open_window(qtbot, doc)
    assert session.autosaver is None and "autosave folder" in session.autosave_error
    assert not session.autosave_now()
    session.shutdown()


def test_recovery_discard_and_later(qtbot, doc, user_dirs, monkeypatch, tmp_path):  # noqa: F811
    state_dir = user_dirs / "state"
    proc, _ = _start(CHILD_QT_FREE, str(state_dir))
    _kill9(proc)
    monkeypatch.setenv("LSTMVIZ_OFFER_RECOVERY", "1")
    window, session = open_window(qtbot, doc)
    qtbot.waitUntil(lambda: getattr(session, "recovery_box", None) is not None)
    later = next(b for b in session.recovery_box.buttons() if b.text() == "Later")
    later.click()
    assert doc.preset_name == "memory-cell"
    session.shutdown()
    window2, session2 = open_window(qtbot, doc)
    qtbot.waitUntil(lambda: getattr(session2, "recovery_box", None) is not None)
    discard = next(b for b in session2.recovery_box.buttons() if b.text() == "Discard")
    discard.click()
    assert find_recoverable(state_dir) == []
    session2.shutdown()
    time.sleep(0)
