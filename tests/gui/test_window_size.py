"""The first window fits the screen: at 1280 x 720 a 1280 x 800 window put the status bar
and the rerun's Cancel button below the screen's edge (found by a new-user tester). A
geometry saved at the last exit still wins."""

from __future__ import annotations

from PySide6.QtCore import QRect

from lstmviz.gui import main_window, settings
from lstmviz.gui.main_window import DEFAULT_SIZE, TITLE_BAR_PX, MainWindow, default_window_size


class Screen:
    def __init__(self, width, height, top=0):
        self._available = QRect(0, top, width, height - top)

    def availableGeometry(self):
        return self._available


def on_a_real_screen(monkeypatch, width, height, top=0):
    # (only while the window is built: an "xcb" platform would also make the editors ask
    # questions and autosave)
    monkeypatch.setattr(main_window.QGuiApplication, "platformName", staticmethod(lambda: "xcb"))
    monkeypatch.setattr(MainWindow, "screen", lambda self: Screen(width, height, top))


def test_the_default_size_fits_the_available_area(monkeypatch):
    assert default_window_size(None) == DEFAULT_SIZE
    assert default_window_size(Screen(1280, 720)) == DEFAULT_SIZE  # offscreen: no real screen
    on_a_real_screen(monkeypatch, 1, 1)
    assert default_window_size(Screen(1920, 1080)) == DEFAULT_SIZE
    assert default_window_size(Screen(1280, 720, top=32)) == (1280, 720 - 32 - TITLE_BAR_PX)
    assert default_window_size(Screen(1024, 768)) == (1024, 768 - TITLE_BAR_PX)


def test_a_1280_x_720_screen_gets_a_window_that_fits(qtbot, monkeypatch, make_document, tmp_path):
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path))
    with monkeypatch.context() as patch:
        on_a_real_screen(patch, 1280, 720)
        window = MainWindow(make_document())
    qtbot.addWidget(window)
    assert (window.width(), window.height()) == (1280, 720 - TITLE_BAR_PX)
    window.show()
    qtbot.waitUntil(lambda: window._editors_installed, timeout=2000)
    qtbot.wait(20)
    assert window.height() <= 720 - TITLE_BAR_PX
    assert window.statusBar().geometry().bottom() < window.height()


def test_a_geometry_from_the_last_exit_wins(qtbot, monkeypatch, make_document, tmp_path):
    monkeypatch.setenv(settings.CONFIG_ENV, str(tmp_path))
    first = MainWindow(make_document())
    qtbot.addWidget(first)
    first.resize(760, 600)
    first.show()
    qtbot.waitUntil(lambda: first._editors_installed, timeout=2000)
    qtbot.wait(20)
    first.resize(760, 600)
    settings.save_window_state(first)
    first.close()

    with monkeypatch.context() as patch:
        on_a_real_screen(patch, 1280, 720)
        window = MainWindow(make_document())
    qtbot.addWidget(window)
    assert (window.width(), window.height()) == (1280, 720 - TITLE_BAR_PX)
    window.show()
    qtbot.waitUntil(lambda: window._editors_installed, timeout=2000)
    assert window.session.restore_layout()  # (what an interactive session does next)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (760, 600), timeout=2000)
