"""Preferences and window layout, kept with QSettings in an .ini file.

The file is platformdirs' user config dir (lstmviz/lstmviz.ini), or $LSTMVIZ_CONFIG_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

CONFIG_ENV = "LSTMVIZ_CONFIG_DIR"
LAYOUT_VERSION = 1  # bump when the docks change so an old layout is not restored onto new docks

DEFAULTS: dict[str, object] = {
    "autosave/interval_s": 15.0,
    "export/layout": "wide",
    "export/preactivations": False,
    "export/format": "csv",
    "export/image_scale": 2,
    "paths/last_dir": "",
    "recent/max": 10,
    "generator/kind": "sine",
}


def config_path() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override) / "lstmviz.ini"
    import platformdirs

    return Path(platformdirs.user_config_dir("lstmviz", appauthor=False)) / "lstmviz.ini"


def settings() -> QSettings:
    return QSettings(str(config_path()), QSettings.Format.IniFormat)


def get(key: str, default=None):
    """A preference with the right Python type (QSettings' ini format stores text)."""
    fallback = DEFAULTS.get(key, default) if default is None else default
    value = settings().value(key, fallback)
    if isinstance(fallback, bool):
        return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")
    if isinstance(fallback, int):
        try:
            return int(value)
        except (TypeError, ValueError):
            return fallback
    if isinstance(fallback, float):
        try:
            return float(value)
        except (TypeError, ValueError):
            return fallback
    return value


def put(key: str, value) -> None:
    s = settings()
    s.setValue(key, value)
    s.sync()


def last_dir() -> str:
    value = str(get("paths/last_dir") or "")
    return value if value and Path(value).is_dir() else str(Path.home())


def remember_dir(path) -> None:
    put("paths/last_dir", str(Path(path).resolve().parent))


def save_window_state(window: QMainWindow) -> None:
    s = settings()
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState(LAYOUT_VERSION))
    s.sync()


def restore_window_state(window: QMainWindow) -> bool:
    """Geometry and dock layout from the last clean exit; False when there is none."""
    s = settings()
    geometry, state = s.value("window/geometry"), s.value("window/state")
    restored = False
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        restored = window.restoreGeometry(geometry)
    if isinstance(state, QByteArray) and not state.isEmpty():
        restored = window.restoreState(state, LAYOUT_VERSION) or restored
    return restored
