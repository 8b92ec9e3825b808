"""The Weights table shows every value and header whole, on one line (a new-user tester saw
"x_0 (" over ")" for the bracket model's input named "\\n", and "−0.0048…" at n = 64)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QStyle

from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.gui.editors.weight_editor import WeightEditor

H = Qt.Orientation.Horizontal


def open_editor(qtbot, document) -> WeightEditor:
    editor = WeightEditor(document)
    qtbot.addWidget(editor)
    editor.resize(420, 520)
    editor.show()
    qtbot.waitExposed(editor)
    return editor


def cut_cells(editor) -> list[str]:
    """The texts that do not fit their column (with the item delegate's margins)."""
    view, model = editor.view, editor.model
    style = view.style()
    margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1)
    metrics = view.fontMetrics()
    cut = []
    for row in range(model.rowCount()):
        for col in range(model.columnCount()):
            text = model.data(model.index(row, col))
            if metrics.horizontalAdvance(text) + margin > view.columnWidth(col) - 1:
                cut.append(text)
    return cut


@pytest.mark.parametrize("kind", ["W", "U", "b"])
def test_every_value_fits_its_column_at_n_64(qtbot, kind):
    params = LSTMParams.random(64, 32, seed=1)
    editor = open_editor(qtbot, Document(params, np.random.default_rng(2).normal(size=(20, 32))))
    editor.show_array("f", kind)
    assert cut_cells(editor) == []
    # (and after an edit that makes a longer number)
    editor.model.setData(editor.model.index(3, 0), "-0.0001234")
    assert editor.model.data(editor.model.index(3, 0)) == "−0.0001234"
    assert cut_cells(editor) == []


def test_headers_are_one_line_and_fit(qtbot):
    params = LSTMParams.random(3, 4, seed=0)
    names = ("\n", " ", "a rather long input name, longer than any number", "(")
    editor = open_editor(qtbot, Document(params, np.zeros((5, 4)), input_names=names))
    model, header = editor.model, editor.view.horizontalHeader()
    labels = [model.headerData(c, H) for c in range(4)]
    assert labels[0] == "x_0 (\\n)" and labels[1] == "x_1 ( )" and labels[3] == "x_3 (()"
    assert all(label.isprintable() for label in labels)
    assert "\\n" in model.headerData(0, H, Qt.ItemDataRole.ToolTipRole)
    bold = QFont(header.font())
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    for c in (0, 1, 3):  # short names: whole
        assert metrics.horizontalAdvance(labels[c]) < editor.view.columnWidth(c), labels[c]
    # a long one is elided (its tooltip has it whole), not wrapped or clipped mid-letter
    assert header.textElideMode() == Qt.TextElideMode.ElideRight
    assert "longer than any number" in model.headerData(2, H, Qt.ItemDataRole.ToolTipRole)
    assert editor.view.columnWidth(2) < metrics.horizontalAdvance(labels[2])
    assert header.sectionSizeFromContents(0).height() <= metrics.height() + 12  # one line
