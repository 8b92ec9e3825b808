"""Recently opened and saved files, kept in QSettings, shown as File > Open Recent."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from lstmviz.gui import settings as prefs

KEY = "recent/files"


class RecentFiles:
    def __init__(self, limit: int | None = None):
        self.limit = int(limit or prefs.get("recent/max"))

    def paths(self) -> list[str]:
        value = prefs.settings().value(KEY, [])
        if isinstance(value, str):
            value = [value] if value else []
        return [str(p) for p in (value or [])][: self.limit]

    def _store(self, paths: list[str]) -> None:
        prefs.put(KEY, paths[: self.limit])

    def add(self, path) -> None:
        path = str(Path(path).resolve())
        self._store([path, *(p for p in self.paths() if p != path)])

    def remove(self, path) -> None:
        self._store([p for p in self.paths() if p != str(path)])

    def clear(self) -> None:
        self._store([])

    def fill_menu(self, menu: QMenu, open_path: Callable[[str], None]) -> None:
        """Rebuild `menu` (call it from aboutToShow): one entry per file that still exists."""
        menu.clear()
        paths = [p for p in self.paths() if Path(p).exists()]
        for number, path in enumerate(paths, start=1):
            label = f"&{number} {Path(path).name}" if number < 10 else Path(path).name
            action = QAction(label, menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: open_path(p))
            menu.addAction(action)
        if not paths:
            empty = menu.addAction("(no recent files)")
            empty.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear the list", self.clear).setEnabled(bool(paths))
