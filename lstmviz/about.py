"""The facts a bug report needs: lstmviz's version and those of Python, Qt and the libraries.

`lstmviz --version` prints them and Help > About shows them (with "Copy to clipboard").
Versions come from the installed packages' metadata (importlib.metadata, imported only when
asked: the command line imports this module on every run), so nothing here imports Qt or an
optional extra: `--version` stays fast and works even when one of them is broken. Qt's own
runtime version is known only once Qt is loaded, so the window passes it in; without it the
line says where to find it.
"""

from __future__ import annotations

import argparse
import sys

UNKNOWN_VERSION = "0+unknown"  # running from a source tree that was never installed

# (what the line names, the distributions that provide it: the first one installed counts)
REQUIRED = (
    ("NumPy", ("numpy",)),
    ("PySide6", ("PySide6", "PySide6-Essentials")),
    ("pyqtgraph", ("pyqtgraph",)),
    ("platformdirs", ("platformdirs",)),
)
# Optional packages that change what lstmviz can do (h5py: Keras files, onnx, safetensors,
# Pillow and imageio-ffmpeg: pictures and video), and torch, never needed but worth knowing
# about in a report: in the same process it slows lstmviz (docs/benchmarks.md).
OPTIONAL = ("h5py", "onnx", "safetensors", "Pillow", "imageio-ffmpeg", "torch")


def distribution_version(*names: str) -> str | None:
    """The installed version of the first of these distributions that is installed."""
    from importlib import metadata  # here, not at import: the CLI imports this module every run

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def lstmviz_version() -> str:
    return distribution_version("lstmviz") or UNKNOWN_VERSION


def about_lines(qt_runtime: str | None = None) -> list[str]:
    """One fact a line, "lstmviz X.Y.Z" first. qt_runtime: Qt's qVersion(), when Qt is loaded."""
    import platform

    import lstmviz

    lines = [
        f"lstmviz {lstmviz_version()}",
        f"Python {platform.python_version()} ({platform.python_implementation()}) at {sys.executable}",
        f"Platform {platform.platform()}",
    ]
    pyside = distribution_version("PySide6", "PySide6-Essentials")
    if qt_runtime is not None:
        lines.append(f"Qt {qt_runtime}")
    elif pyside is not None:
        lines.append("Qt: not loaded by --version (Help > About shows the runtime version)")
    else:
        lines.append("Qt: not installed")
    for label, names in REQUIRED:
        lines.append(f"{label} {distribution_version(*names) or 'not installed'}")
    present, absent = [], []
    for name in OPTIONAL:
        version = distribution_version(name)
        (present if version else absent).append(f"{name} {version}" if version else name)
    lines.append(f"Optional, installed: {', '.join(present) or 'none'}")
    lines.append(f"Optional, not installed: {', '.join(absent) or 'none'}")
    lines.append(f"lstmviz package at {lstmviz.__path__[0]}")
    return lines


def about_text(qt_runtime: str | None = None) -> str:
    return "\n".join(about_lines(qt_runtime)) + "\n"


class PrintAboutAction(argparse.Action):
    """`--version`: print about_lines() and exit, computed only when the option is given."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the version of lstmviz, Python, Qt and the libraries, and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        sys.stdout.write(about_text())  # on stdout, as argparse's own version action does
        parser.exit()
