"""The text view: typing reruns the trace, each character colored by a unit, hover steps."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint

from lstmviz.core.colormap import diverging_rgb
from lstmviz.gui.analysis.text import TextView


@pytest.fixture
def text_view(qtbot, make_document):
    doc = make_document("brackets")
    view = TextView(doc)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_shows_the_input_as_colored_text(text_view):
    doc, view = text_view
    assert view.vocab is not None and view.vocab.size == doc.m
    assert view.text == view.editor.toPlainText()
    assert len(view.text) == doc.T
    k = doc.unit
    c = doc.trace.c[:, k]
    np.testing.assert_array_equal(view.colored._colors, diverging_rgb(c, max(1.0, np.abs(c).max())))
    view.quantity_box.setCurrentIndex(view.quantity_box.findData("h"))
    np.testing.assert_array_equal(view.colored._colors, diverging_rgb(doc.trace.h[:, k], 1.0))
    doc.set_unit(5)
    assert view.unit_box.value() == 5
    np.testing.assert_array_equal(view.colored._colors, diverging_rgb(doc.trace.h[:, 5], 1.0))


def test_hovering_a_character_moves_the_step(qtbot, text_view):
    doc, view = text_view
    rect = view.colored.rect_of(17)
    qtbot.mouseMove(view.colored, QPoint(int(rect.center().x()), int(rect.center().y())))
    qtbot.waitUntil(lambda: doc.step == 17, timeout=2000)
    assert view.colored._current == 17


def test_typing_reruns_the_trace(qtbot, text_view):
    doc, view = text_view
    view.editor.setPlainText("((a))")
    qtbot.waitUntil(lambda: doc.T == 5, timeout=3000)
    assert view.text == "((a))"
    assert doc.input_names == view.vocab.chars  # still a character model
    np.testing.assert_array_equal(doc.xs, view.vocab.encode("((a))"))
    # characters outside the vocabulary are read as its unknown character
    assert view.apply_text("A(b)")
    assert view.text == " (b)"
    # empty text is not applied
    assert not view.apply_text("")
    assert doc.T == 4


def test_typing_is_undoable_with_the_window_stack(qtbot, make_document):
    from lstmviz.gui.undo import UndoController

    doc = make_document("brackets")
    view = TextView(doc)
    qtbot.addWidget(view)
    controller = UndoController(doc, view)
    view.undo = controller
    view.show()
    T = doc.T
    assert view.apply_text("(x)")
    assert doc.T == 3 and controller.stack.count() == 1
    assert controller.undo() and doc.T == T
    assert view.editor.toPlainText() == view.text and len(view.text) == T


def test_load_a_text_file(tmp_path, text_view):
    doc, view = text_view
    path = tmp_path / "t.txt"
    path.write_text("say \"hi\" (now)\n", encoding="utf-8")
    assert view.load_file(path)
    assert doc.T == len("say \"hi\" (now)\n")
    assert not view.load_file(tmp_path / "missing.txt")


def test_without_a_vocabulary_it_offers_the_bracket_model(qtbot, make_document):
    doc = make_document("memory-cell")
    view = TextView(doc)
    qtbot.addWidget(view)
    view.show()
    assert view.vocab is None and view.stack.currentIndex() == 1
    view.open_brackets.click()
    assert view.vocab is not None and view.stack.currentIndex() == 0
    assert doc.m == view.vocab.size
