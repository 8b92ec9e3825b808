"""Where the bundled resources (icons, the trained bracket model) are: lstmviz/resources/.

They live inside the package, so a source checkout, an editable install, a wheel, an sdist
and pipx all find them at the same place next to this file (pyproject.toml's package-data
and MANIFEST.in carry the folder).
"""

from __future__ import annotations

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent / "resources"


def resource(*parts: str) -> Path:
    """The path of a bundled file, e.g. resource("models", "bracket.npz")."""
    return RESOURCES.joinpath(*parts)
