"""Pictures of every analysis view for the docs: python -m lstmviz.gui.analysis.screenshots [DIR]

Each view is rendered offscreen on a preset in a state that tells its story (the bracket
model's depth unit, the memory cell with its forget gate clamped open, ...) and saved as
DIR/view_<key>.png (default DIR: docs/).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SIZE = (1000, 620)


def _text(doc) -> str:
    return "".join(doc.input_names[j] for j in doc.xs.argmax(axis=1))


def _memory(view, doc):
    text = _text(doc)
    newlines = [j for j, ch in enumerate(text) if ch == "\n"]
    doc.set_unit(5)  # the unit that counts brackets (lstmviz/resources/models/bracket.info.json)
    view.set_target(newlines[1] - 1)  # the end of the second line
    doc.set_step(newlines[0])  # the newline before it, where the forget gate closes


def _saturation(view, doc):
    doc.set_unit(5)


def _curves(view, doc):
    text = _text(doc)
    doc.set_unit(5)
    doc.set_selection("f")
    doc.set_step([j for j, ch in enumerate(text) if ch == "\n"][1])


def _whatif(view, doc):
    doc.set_unit(0)
    view.quick("f1")
    view.quantity_box.setCurrentIndex(view.quantity_box.findData("c"))
    doc.set_step(33)


def _compare(view, doc):
    doc.set_unit(5)
    view.quantity_box.setCurrentIndex(view.quantity_box.findData("c"))
    doc.set_params(doc.params.replace(b_f=doc.params.b_f - 1.5, name="bracket model, b_f - 1.5"))
    doc.set_step(60)


def _match(view, doc):
    text = _text(doc)
    start = text.index('"look') + 1
    doc.set_unit(11)  # the quote unit
    view.pad_box.setValue(0)
    view.set_span(start, text.index('this"', start) + 4)
    doc.set_step(start + 4)


def _text_view(view, doc):
    doc.set_unit(5)
    doc.set_step(100)


SCENES = {
    "memory": ("brackets", _memory),
    "saturation": ("brackets", _saturation),
    "curves": ("brackets", _curves),
    "whatif": ("memory-cell", _whatif),
    "compare": ("brackets", _compare),
    "match": ("brackets", _match),
    "text": ("brackets", _text_view),
}


def save_screenshots(folder="docs", keys=None) -> list[Path]:
    """Render the views to folder/view_<key>.png; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from lstmviz.document import Document
    from lstmviz.gui.analysis import view_class
    from lstmviz.presets import load_preset

    app = QApplication.instance() or QApplication([])
    folder = Path(folder)
    written = []
    for key in keys or SCENES:
        preset, arrange = SCENES[key]
        doc = Document.from_preset(load_preset(preset))
        view = view_class(key)(doc)
        view.resize(*SIZE)
        view.show()
        app.processEvents()
        arrange(view, doc)
        for _ in range(3):
            app.processEvents()
        focus = app.focusWidget()
        if focus is not None:
            focus.clearFocus()
        path = folder / f"view_{key}.png"
        view.grab().save(str(path))
        written.append(path)
        view.close()
        view.deleteLater()
        app.processEvents()
    return written


if __name__ == "__main__":  # pragma: no cover
    for path in save_screenshots(sys.argv[1] if len(sys.argv) > 1 else "docs", sys.argv[2:] or None):
        print(path)
