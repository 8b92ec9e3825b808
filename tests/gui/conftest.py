"""Fixtures for the window tests (pytest-qt, offscreen).

Every test here fails if it leaves a top-level widget behind (ndv's and napari's check):
a leaked window usually means a strong reference kept a view alive after it was closed,
e.g. a Document signal still connected to a dead widget. Mark a test
`@pytest.mark.allow_leaks` to opt out (say why).
"""

from __future__ import annotations

import gc

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "allow_leaks: the test may leave top-level widgets behind")


def _flush(qapp) -> None:
    from PySide6.QtCore import QCoreApplication, QEvent

    for _ in range(3):
        qapp.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(autouse=True)
def fail_on_leaked_widgets(request, qapp):
    """pytest-qt closes and deletes the widgets registered with qtbot.addWidget before this
    runs; anything still top-level afterwards was leaked by the test or the code under test."""
    _flush(qapp)
    before = {id(w) for w in qapp.topLevelWidgets()}
    failures_before = request.session.testsfailed
    yield
    if "allow_leaks" in request.keywords or request.session.testsfailed > failures_before:
        return
    _flush(qapp)
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before and not _is_qt_internal(w)]
    if leaked:
        names = ", ".join(f"{type(w).__name__}({w.objectName()!r})" for w in leaked)
        for w in leaked:  # don't let one leak fail every later test
            w.close()
            w.deleteLater()
        _flush(qapp)
        pytest.fail(f"top-level widgets leaked by {request.node.name}: {names}", pytrace=False)


def _is_qt_internal(widget) -> bool:
    # Qt keeps a few hidden helper windows around (tooltips, completer popups, QMenu tear-offs).
    name = type(widget).__name__
    return name in ("QTipLabel", "QMenu", "QComboBoxPrivateContainer", "QCompleterPopup") or (
        not widget.isVisible()
        and widget.parent() is None
        and name.startswith("Q")
        and name != "QWidget"
        and widget.objectName().startswith("qt_")
    )


@pytest.fixture
def make_document():
    """make_document("forget-worked") -> a fresh Document on a preset."""
    from lstmviz.document import Document
    from lstmviz.presets import load_preset

    def make(name: str = "memory-cell"):
        return Document.from_preset(load_preset(name))

    return make


@pytest.fixture
def make_window(qtbot, make_document):
    """make_window("forget-worked") -> a shown MainWindow (closed after the test)."""
    from lstmviz.gui.main_window import MainWindow

    def make(name: str = "memory-cell", document=None):
        window = MainWindow(document if document is not None else make_document(name))
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.wait(5)  # let zero-timers queued by show() run while the window is alive
        return window

    return make
