"""`lstmviz --version`: lstmviz's version (from pyproject.toml, through the installed metadata)
and the versions a bug report needs, without loading Qt."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pyqtgraph

ROOT = Path(__file__).resolve().parents[2]
# The one place the version is written (tomllib is not in Python 3.10).
PROJECT_VERSION = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]

PROBE = """
import sys
from lstmviz import cli
try:
    cli.main(["--version"])
except SystemExit as exit:
    print("exit", exit.code)
heavy = ("PySide6", "pyqtgraph", "h5py", "onnx", "safetensors")
print("loaded:", sorted(m for m in heavy if m in sys.modules))
"""


def version_output() -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_version_lists_lstmviz_python_and_the_libraries_without_loading_them():
    lines = version_output()
    assert lines[0] == f"lstmviz {PROJECT_VERSION}"
    facts = dict(line.split(" ", 1) for line in lines if " " in line)
    assert facts["Python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert facts["NumPy"] == numpy.__version__
    assert facts["pyqtgraph"] == pyqtgraph.__version__
    import PySide6

    assert facts["PySide6"] == PySide6.__version__
    assert any(line.startswith("Qt: not loaded") for line in lines)
    # Versions come from metadata: Qt, pyqtgraph and the extras are never imported for --version.
    assert lines[-2:] == ["exit 0", "loaded: []"]


def test_version_says_which_optional_packages_are_installed():
    lines = version_output()
    installed = next(line for line in lines if line.startswith("Optional, installed:"))
    missing = next(line for line in lines if line.startswith("Optional, not installed:"))
    for name in ("h5py", "onnx", "safetensors", "torch"):
        present = importlib.util.find_spec(name) is not None
        assert (name in installed) == present, (name, installed)
        assert (name in missing) == (not present), (name, missing)
    import h5py  # in the test extra

    assert f"h5py {h5py.__version__}" in installed


def test_the_package_version_is_the_installed_one():
    import lstmviz

    assert lstmviz.__version__ == PROJECT_VERSION


def test_a_source_tree_that_was_never_installed_says_so(monkeypatch):
    from importlib import metadata

    from lstmviz import about

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    import lstmviz

    assert lstmviz.__version__ == "0+unknown"
    assert about.about_lines()[0] == "lstmviz 0+unknown"
