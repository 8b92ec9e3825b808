"""The core, the IO layer and the Document never load Qt."""

import subprocess
import sys


def test_core_io_document_import_no_qt():
    code = (
        "import sys, lstmviz, lstmviz.core, lstmviz.io.models, lstmviz.io.csv, lstmviz.document, "
        "lstmviz.document.opening, lstmviz.document.files, lstmviz.edits, lstmviz.autosave, "
        "lstmviz.presets, lstmviz.cli, lstmviz.commands.open; "
        "assert 'Viewer' in lstmviz.__all__; "
        "import pkgutil, importlib, lstmviz.core as c, lstmviz.io as i\n"
        "for pkg in (c, i):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')]\n"
        "assert not bad, bad\n"
        "print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_viewer_is_resolved_lazily():
    code = (
        "import sys, lstmviz\n"
        "assert 'PySide6' not in sys.modules and 'lstmviz.gui' not in sys.modules\n"
        "Viewer = lstmviz.Viewer\n"
        "from lstmviz.gui.viewer import Viewer as Real\n"
        "assert Viewer is Real\n"
        "print('ok')"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
