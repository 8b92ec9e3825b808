#!/usr/bin/env python3
"""Render lstmviz/resources/icons/lstmviz.svg to the PNG sizes a desktop's icon theme uses.

The PNGs are committed (file managers and menus read hicolor PNGs most reliably, and
`lstmviz install-desktop` then only copies files); rerun this after editing the SVG:
    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lstmviz.commands.install_desktop import ICON_SIZES  # noqa: E402
from lstmviz.resources_path import resource  # noqa: E402


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (fonts need an app)
    svg = resource("icons", "lstmviz.svg")
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        print(f"{svg}: not a valid SVG", file=sys.stderr)
        return 2
    for size in ICON_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        renderer.render(painter)
        painter.end()
        out = svg.with_name(f"lstmviz-{size}.png")
        if not image.save(str(out), "PNG", 0):  # quality 0: the smallest file (lossless)
            print(f"{out}: could not write", file=sys.stderr)
            return 2
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
