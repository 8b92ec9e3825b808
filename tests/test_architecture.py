"""The core, the IO layer and the Document never load Qt."""

import subprocess
import sys


def test_core_io_document_import_no_qt():
    code = (
        "import sys, lstmviz, lstmviz.core, lstmviz.io.models, lstmviz.io.csv, lstmviz.document, "
        "lstmviz.presets, lstmviz.cli; "
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
