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
