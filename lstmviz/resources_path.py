"""Where the bundled resources (icons, the trained bracket model) are.

In a source checkout they are the top-level resources/ folder; a wheel carries the same
folder inside the package as lstmviz/resources/ (pyproject.toml maps it there).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "resources", _PACKAGE.parent / "resources")


def resource(*parts: str) -> Path:
    """The path of a bundled file, e.g. resource("models", "bracket.npz") (first that exists)."""
    for base in _CANDIDATES:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    return _CANDIDATES[-1].joinpath(*parts)
