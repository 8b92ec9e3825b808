"""The match view: a span and a threshold select units; other spans are listed to jump to."""

from __future__ import annotations

import pytest

from lstmviz.core.analysis import match_span
from lstmviz.gui.analysis.match import MatchView


@pytest.fixture
def match(qtbot, make_document):
    doc = make_document("brackets")
    view = MatchView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 560)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def quote_span(doc) -> tuple[int, int]:
    text = "".join(doc.input_names[j] for j in doc.xs.argmax(axis=1))
    start = text.index('"look') + 1
    return start, text.index('this"', start) + 4


def test_opening_the_view_does_not_change_the_selection(match):
    doc, view = match
    assert doc.units == tuple(range(8))
    assert view.result is not None  # it searched, and only listed


def test_span_selects_the_units_that_are_on_there(match):
    doc, view = match
    start, stop = quote_span(doc)
    view.pad_box.setValue(0)
    view.set_span(start, stop)
    assert view.span() == (start, stop)
    expected = match_span(doc.trace, start, stop, 0.3, pad_before=0, pad_after=0)
    assert expected.units and doc.units == expected.units
    assert view.result.units == expected.units
    assert "look at this" in view.span_label.text()
    assert len(view.lines) == len(doc.units)
    assert view.table.rowCount() == len(expected.matches) > 0
    # the other quoted word is found, with its text
    texts = [view.table.item(r, 3).text() for r in range(view.table.rowCount())]
    assert any("odd" in t for t in texts)


def test_jump_moves_the_step(match):
    doc, view = match
    start, stop = quote_span(doc)
    view.pad_box.setValue(0)
    view.set_span(start, stop)
    first = view.result.matches[0]
    view.table.cellClicked.emit(0, 0)
    assert doc.step == first.start
    assert view.cursor.step == first.start


def test_threshold_and_quantity_search_again(match):
    doc, view = match
    start, stop = quote_span(doc)
    view.pad_box.setValue(0)
    view.set_span(start, stop)
    count = view.compute_count
    view.threshold_box.setValue(0.6)
    assert view.compute_count == count + 1
    assert view.threshold_line.value() == pytest.approx(0.6)
    assert view.result.units == match_span(doc.trace, start, stop, 0.6, pad_before=0, pad_after=0).units
    view.quantity_box.setCurrentIndex(view.quantity_box.findData("c"))
    assert view.result.quantity == "c"
    # nothing found: the selection is kept and it says why
    view.quantity_box.setCurrentIndex(view.quantity_box.findData("h"))
    units = doc.units
    view.threshold_box.setValue(2.0)  # |h| < 1
    assert view.result.units == () and doc.units == units
    assert "no unit" in view.span_label.text()


def test_follows_the_trace(match):
    doc, view = match
    count = view.compute_count
    doc.set_step(40)
    assert view.compute_count == count
    doc.set_input(doc.xs[:100])
    assert view.compute_count == count + 1
    lo, hi = view.span()
    assert 0 <= lo < hi <= 100
