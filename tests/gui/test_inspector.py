"""The Inspector: the selected component's equation, shapes and worked arithmetic."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QUrl

from lstmviz.components import COMPONENT_IDS
from lstmviz.gui.inspector import Inspector


@pytest.fixture
def inspector(qtbot, make_document):
    def make(name="forget-worked"):
        widget = Inspector(make_document(name))
        qtbot.addWidget(widget)
        widget.resize(460, 900)
        widget.show()
        qtbot.waitExposed(widget)
        return widget

    return make


def numbers_in(text: str) -> set[str]:
    import re

    return set(re.findall(r"(?<![\d.])−?\d+(?:\.\d+)?(?![\d.])", text))


def test_forget_gate_worked_example_shows_92_177_136(inspector):
    widget = inspector("forget-worked")
    text = widget.plain_text()
    assert "Forget gate" in text
    assert {"92", "177", "136"} <= numbers_in(text)
    # unit 0 worked term by term: (1, 2, 3)·(1, 2, 3) = 14, (4, 5, 6)·(4, 5, 6) = 77, + 1
    for piece in ("1 × 1", "2 × 2", "3 × 3", "= 14", "4 × 4", "= 77", "14 + 77 + 1", "= 92", "σ(92)"):
        assert piece in text, piece
    assert "1 − 1.11e−40, which float64 rounds to exactly 1" in text  # why the thread saw [1, 1, 1]
    assert "Wf: 3x3" not in text and "Wf" in text  # shapes table: "Wf  3 × 3"
    assert "3 × 3" in text and "3 × 6" in text


def test_input_gate_worked_example_shows_22_43_64(inspector):
    widget = inspector("input-worked")
    text = widget.plain_text()
    assert "Input gate" in text
    assert {"22", "43", "64"} <= numbers_in(text)
    # sigmoid(22) is not 1 in float64: say so instead of printing "= 1"
    assert "= 1 − 2.79e−10" in text and "rounds to exactly" not in text
    widget.document.set_unit(2)
    text = widget.plain_text()
    assert "Unit k = 2" in text and "= 64" in text


def test_concatenated_form_toggle(inspector):
    widget = inspector("forget-worked")
    doc = widget.document
    widget.form_box.setCurrentIndex(1)  # W·[h_{t-1}, x_t], Colah's order
    assert doc.option("show_concat") is True and doc.option("concat_h_first") is True
    text = widget.plain_text()
    assert "[Uf | Wf]" in text and "Both orders give the same z" in text
    assert "4·4 + 5·5 + 6·6 + 1·1 + 2·2 + 3·3 + 1 = 92" in text
    widget.form_box.setCurrentIndex(2)  # W·[x_t, h_{t-1}], the thread's order
    assert doc.option("concat_h_first") is False
    text = widget.plain_text()
    assert "[Wf | Uf]" in text
    assert "1·1 + 2·2 + 3·3 + 4·4 + 5·5 + 6·6 + 1 = 92" in text
    assert "Wf xt + Uf ht−1" in text  # both equal W x_t + U h_{t-1}
    doc.set_option("show_concat", False)  # the Document drives the combo box back
    assert widget.form_box.currentIndex() == 0
    assert "Both orders" not in widget.plain_text()


def test_every_form_says_what_it_writes_for_a_large_cell_too(qtbot):
    """The concatenated forms named the joined matrix W_f like its own x block, the shapes
    table wrote [U_f | W_f] in the x-first form too, and at n = 64 (no whole-layer product
    laid out) the three forms gave the same page (new-user helper)."""
    import numpy as np

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document
    from lstmviz.gui.inspector import Inspector

    doc = Document(LSTMParams.random(64, 32, seed=1), np.random.default_rng(0).normal(size=(4, 32)))
    widget = Inspector(doc)
    qtbot.addWidget(widget)
    widget.resize(460, 900)
    widget.show()
    pages = {}
    for index in range(3):
        widget.form_box.setCurrentIndex(index)
        pages[index] = widget.plain_text()
    assert len(set(pages.values())) == 3
    assert "row 0 of [Uf | Wf] (64 × 96) times [ht−1; xt]" in pages[1]
    assert "row 0 of [Wf | Uf] (64 × 96) times [xt; ht−1]" in pages[2]
    assert "[Wf | Uf] (Colah's Wf)" in pages[2] and "[Uf | Wf]" not in pages[2]
    assert "where Wf = " not in "".join(pages.values())


def test_unit_box_and_document_agree(inspector):
    widget = inspector("forget-worked")
    doc = widget.document
    widget.unit_box.setValue(1)
    assert doc.unit == 1 and "Unit k = 1" in widget.plain_text() and "= 177" in widget.plain_text()
    doc.set_unit(2)
    assert widget.unit_box.value() == 2 and widget.unit_box.maximum() == 2


def test_cell_update_and_hidden_state_are_worked_unit_by_unit(inspector):
    widget = inspector("memory-cell")
    doc = widget.document
    doc.set_step(3)
    doc.set_selection("add_c")
    text = widget.plain_text()
    assert "ct[0] = ft[0] · ct−1[0] + it[0] · gt[0]" in text
    c = doc.trace.c[3][0]
    assert f"{c:.4f}".rstrip("0") in text
    doc.set_selection("h")
    text = widget.plain_text()
    assert "ht[0] = ot[0] · tanh(ct[0])" in text
    doc.set_selection("mul_f")
    assert "Forget multiply" in widget.plain_text()


def test_every_component_has_an_inspector_page(inspector):
    widget = inspector("memory-cell")
    for cid in COMPONENT_IDS:
        widget.document.set_selection(cid)
        text = widget.plain_text()
        assert "Shapes" in text and "Step t = " in text, cid


def test_links_in_the_text_select_and_pick(inspector):
    widget = inspector("memory-cell")
    doc = widget.document
    doc.set_selection("c")
    widget.browser.anchorClicked.emit(QUrl("select:f"))
    assert doc.selection == "f"
    widget.browser.anchorClicked.emit(QUrl("unit:1"))
    assert doc.unit == 1


def test_hidden_inspector_catches_up_when_shown(qtbot, make_document):
    doc = make_document("forget-worked")
    widget = Inspector(doc)
    qtbot.addWidget(widget)
    doc.set_selection("i")  # not visible: nothing rendered yet
    assert widget._stale
    widget.show()
    qtbot.waitExposed(widget)
    assert not widget._stale and "Input gate" in widget.browser.toPlainText()


def test_fast_steps_are_coalesced_but_the_last_one_is_shown(qtbot, inspector):
    widget = inspector("memory-cell")
    doc = widget.document
    widget._min_gap = 0.2  # as if the last refresh took 70 ms
    widget._last_end = __import__("time").perf_counter()
    calls = []
    real = widget.refresh
    widget.refresh = lambda: calls.append(doc.step) or real()
    for step in range(5, 15):
        doc.set_step(step)
    assert calls == []  # all within the gap: one refresh is scheduled
    qtbot.waitUntil(lambda: bool(calls), timeout=2000)
    assert calls == [14] and "t = 14" in widget.browser.toPlainText()


@pytest.fixture
def large_inspector(qtbot):
    import numpy as np

    from lstmviz.core.params import LSTMParams
    from lstmviz.document import Document

    doc = Document(LSTMParams.random(64, 32, seed=0), np.random.default_rng(0).normal(size=(20, 32)))
    widget = Inspector(doc)
    qtbot.addWidget(widget)
    widget.resize(460, 900)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_large_units_list_the_largest_terms_and_can_show_them_all(large_inspector):
    from lstmviz.core.explain import TERMS_COLLAPSED

    widget = large_inspector
    doc = widget.document
    doc.set_step(5)
    text = widget.plain_text()
    assert f"… {32 - TERMS_COLLAPSED} more terms, sum" in text
    assert f"… {64 - TERMS_COLLAPSED} more terms, sum" in text
    assert "show all terms" in text and "(of 96 in all)" in text
    collapsed_rows = text.count(" × ")
    widget.browser.anchorClicked.emit(QUrl("terms:all"))
    assert widget.all_terms
    text = widget.plain_text()
    assert "more terms, sum" not in text and "All 96 terms are listed" in text
    assert text.count(" × ") == collapsed_rows + 96 - 2 * TERMS_COLLAPSED
    doc.set_step(6)  # stays expanded while stepping
    assert "All 96 terms are listed" in widget.plain_text()
    widget.browser.anchorClicked.emit(QUrl("terms:fewer"))
    assert not widget.all_terms and "more terms, sum" in widget.plain_text()
    # a long vector: the largest entries, and the same toggle
    doc.set_selection("concat")
    assert "96 entries" not in widget.plain_text() and "show all 96" in widget.plain_text()
    widget.set_all_terms(True)
    assert "All 96 entries are listed" in widget.plain_text()


def test_small_units_keep_every_term_and_the_whole_layer(inspector):
    widget = inspector("forget-worked")
    text = widget.plain_text()
    assert "more terms" not in text and "show all" not in text and "show only" not in text
    assert "The whole layer at once" in text


def test_stepping_does_not_touch_the_unit_box_or_the_layout(large_inspector):
    widget = large_inspector
    calls = []
    box = widget.unit_box
    box.setRange = lambda *a: calls.append(a)  # noqa: ARG005 - would relayout the dock
    for step in (3, 4, 5):
        widget.document.set_step(step)
        widget.refresh()
    assert calls == []
    assert widget.browser.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOn
