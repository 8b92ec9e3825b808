"""Fixtures shared by the editing, document, export, autosave and bad-input tests."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.document import Document
from lstmviz.presets import load_preset


@pytest.fixture
def user_dirs(tmp_path_factory, monkeypatch):
    """Autosaves, locks and settings of this test only (not in tmp_path, which stays clean)."""
    from lstmviz.gui.editors import messages

    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("LSTMVIZ_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("LSTMVIZ_CONFIG_DIR", str(base / "config"))
    monkeypatch.delenv("LSTMVIZ_OFFER_RECOVERY", raising=False)
    monkeypatch.delenv("LSTMVIZ_AUTOSAVE_SECONDS", raising=False)
    messages.history.clear()
    return base


@pytest.fixture
def doc() -> Document:
    return Document.from_preset(load_preset("memory-cell"))


def open_window(qtbot, document, central=None):
    """A bare main window with everything install_actions adds (the real one is tested too)."""
    from PySide6.QtWidgets import QLabel, QMainWindow

    from lstmviz.gui.editors import install_actions

    window = QMainWindow()
    window.setCentralWidget(central or QLabel("cell diagram"))
    qtbot.addWidget(window)
    session = install_actions(window, document)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window, session


@pytest.fixture
def window(qtbot, doc, user_dirs):
    window, session = open_window(qtbot, doc)
    yield window
    session.shutdown()


@pytest.fixture
def session(window):
    return window.session


def last_message() -> str:
    from lstmviz.gui.editors import messages

    return messages.history[-1] if messages.history else ""


def snapshot_state(document):
    """Everything a failed operation must leave as it was."""
    return {
        "params": {k: v.copy() for k, v in document.params.arrays().items()},
        "xs": document.xs.copy(),
        "h": document.trace.h.copy(),
        "step": document.step,
        "selection": document.selection,
        "dirty": document.dirty,
        "model_path": document.model_path,
        "input_path": document.input_path,
    }


def assert_unchanged(document, before) -> None:
    after = snapshot_state(document)
    assert after["params"].keys() == before["params"].keys()
    for key, value in before["params"].items():
        np.testing.assert_array_equal(after["params"][key], value)
    np.testing.assert_array_equal(after["xs"], before["xs"])
    np.testing.assert_array_equal(after["h"], before["h"])
    for key in ("step", "selection", "dirty", "model_path", "input_path"):
        assert after[key] == before[key], key


def segfault_loader(path, layer=None):
    """A model reader that crashes its process (for lstmviz.io.isolated's child)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGSEGV)


def drop(window, *paths) -> None:
    """Drag files over the window and drop them (Qt delivers a drop only after an accepted enter)."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                       Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    assert event.isAccepted()
