import os

# Before any Qt import: tests run without a display unless a test says otherwise.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Autosaves, session locks and QSettings go to a throwaway folder, never the user's own
# (lstmviz.autosave.STATE_ENV, lstmviz.gui.settings.CONFIG_ENV).
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

_user_dirs = tempfile.mkdtemp(prefix="lstmviz-test-user-")
atexit.register(shutil.rmtree, _user_dirs, True)
os.environ.setdefault("LSTMVIZ_STATE_DIR", os.path.join(_user_dirs, "state"))
os.environ.setdefault("LSTMVIZ_CONFIG_DIR", os.path.join(_user_dirs, "config"))

# The proof that a broken view fails a test (tests/gui/test_no_silent_failure.py) runs a small
# suite of deliberately broken views through pytester.
pytest_plugins = ["pytester"]


def pytest_configure(config):
    """No silent failure (issue 10): every exception raised while Qt or psygnal dispatches an
    event must fail the test that caused it. The paths all end in sys.excepthook:
    - Qt virtual overrides and slots (paintEvent, QUndoCommand.redo, QRunnable.run, timers):
      PySide6 hands the exception to sys.excepthook and carries on;
    - psygnal callbacks of the views: lstmviz.gui.binding.bind catches them per listener and
      calls sys.excepthook (lstmviz.gui.errors_dialog.report_exception); callbacks connected
      any other way raise EmitLoopError into the test itself;
    - Python threads: pytest's threadexception warning, an error under filterwarnings=error.
    pytest-qt replaces sys.excepthook during every test and fails it on anything recorded;
    refuse to run with that switched off."""
    import pytest

    if not config.pluginmanager.has_plugin("pytest-qt"):
        raise pytest.UsageError("pytest-qt is required: it fails tests on exceptions inside Qt")
    if config.getini("qt_no_exception_capture"):
        raise pytest.UsageError("qt_no_exception_capture would let exceptions in views pass silently")


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if item.get_closest_marker("qt_no_exception_capture") is not None:
            raise pytest.UsageError(
                f"{item.nodeid}: qt_no_exception_capture hides exceptions raised in views; "
                "use qtbot.captureExceptions() around the code that is expected to raise"
            )
