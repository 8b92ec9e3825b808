"""The inspector's page fits its dock: a learner reads every equation without scrolling
sideways, in the default layout and in the narrowest dock, for small and large cells and every
variant; the whole layer's matrices are laid out to the width there is, and come back when the
dock is widened (found by a new-user helper: at 1280 x 720 most small models scrolled)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.gui.inspector import Part, equation_lines
from lstmviz.gui.main_window import MainWindow, inspector_width

FORMS = ("separate", "h_first", "x_first")
PARTS = ("f", "i", "g", "o", "c", "h", "mul_f", "tanh_c", "concat", "x")


def model(n: int, m: int, **changes) -> Document:
    rng = np.random.default_rng(n * 10 + m)
    params = LSTMParams.random(n, m, seed=n * 10 + m, proj_size=changes.pop("proj_size", None))
    if changes.pop("peepholes", False):
        changes.update({f"p_{g}": rng.uniform(-1, 1, n) for g in "ifo"})
    # inputs of a few units' size: the sums' terms have the widest numbers (0.1234 × (−1.234))
    return Document(params.replace(**changes), rng.normal(0, 2, size=(6, m)))


def open_window(qtbot, document, size=(1280, 720)) -> MainWindow:
    window = MainWindow(document)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(20)
    return window


def set_dock_width(qtbot, window, width: int) -> None:
    dock = window.docks["inspector"]
    window.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
    qtbot.wait(30)  # (the dock layout applies the width in its next pass)
    viewport = window.inspector.browser.viewport()
    qtbot.waitUntil(lambda: window.inspector._laid_out_width == viewport.width(), timeout=2000)


def sideways(qtbot, window, form: str, part: str) -> int:
    doc, inspector = window.document, window.inspector
    doc.set_option("show_concat", form != "separate")
    doc.set_option("concat_h_first", form == "h_first")
    doc.set_selection(part)
    inspector.refresh()
    qtbot.wait(1)
    return inspector.browser.horizontalScrollBar().maximum()


def test_the_default_layout_gives_the_inspector_room(qtbot):
    window = open_window(qtbot, model(5, 3))
    qtbot.waitUntil(lambda: window.docks["inspector"].width() == inspector_width(1280), timeout=2000)
    assert window.docks["inspector"].width() >= 340
    assert window.centralWidget().width() >= 850  # the diagram keeps most of the window


@pytest.mark.parametrize("shape", [(3, 1), (3, 8), (5, 4), (8, 1), (8, 4), (8, 8), (64, 32)])
def test_no_part_scrolls_sideways_in_the_default_or_the_narrowest_dock(qtbot, shape):
    window = open_window(qtbot, model(*shape))
    for width in (inspector_width(1280), 1):  # 1: as narrow as the dock goes
        set_dock_width(qtbot, window, width)
        wide = [(form, part, px) for form in FORMS for part in PARTS
                if (px := sideways(qtbot, window, form, part)) > 0]
        assert wide == [], (shape, window.docks["inspector"].width())


@pytest.mark.parametrize("changes", [
    {"peepholes": True}, {"clip": 0.5, "input_forget": True}, {"proj_size": 2},
    {"peepholes": True, "clip": 0.3},
])
def test_variants_fit_the_narrowest_dock(qtbot, changes):
    window = open_window(qtbot, model(5, 3, **changes))
    set_dock_width(qtbot, window, 1)
    window.document.set_step(2)
    wide = [(form, part, px) for form in FORMS for part in PARTS + ("mul_o", "mul_i")
            if (px := sideways(qtbot, window, form, part)) > 0]
    assert wide == []


def test_the_whole_layer_is_laid_out_when_the_dock_is_widened(qtbot):
    """[U_f | W_f] of an 8-unit, 4-input cell is 8 x 12: in a narrow dock the page says how wide
    it must be; dragged that wide, the matrix is there and still nothing scrolls."""
    window = open_window(qtbot, model(8, 4), size=(1800, 900))
    inspector = window.inspector
    set_dock_width(qtbot, window, 1)
    assert sideways(qtbot, window, "h_first", "f") == 0
    text = inspector.plain_text()
    assert "[Uf | Wf] (8×12)" not in text and "px more than the inspector has" in text
    more = int(text.split("needs about ")[1].split(" px more")[0])
    set_dock_width(qtbot, window, window.docks["inspector"].width() + more)
    text = inspector.plain_text()
    assert "[Uf | Wf] (8×12)" in text and "more than the inspector has" not in text
    assert inspector.browser.horizontalScrollBar().maximum() == 0
    set_dock_width(qtbot, window, 1)  # and narrowed again, by a drag: laid out anew, no scroll
    assert "px more than the inspector has" in inspector.plain_text()
    assert inspector.browser.horizontalScrollBar().maximum() == 0


def test_equation_rows_break_before_operators_and_say_when_a_piece_cannot_fit():
    matrix, vector = Part("W", "", 150), Part("x", "", 40)
    eq, plus = Part("=", "", 20, breaks=True), Part("+", "", 20, breaks=True)
    row = [matrix, plus, vector, eq, vector]
    assert equation_lines(row, 400) == [row]
    lines = equation_lines(row, 220)
    assert [[p.body for p in line] for line in lines] == [["W", "+", "x"], ["", "=", "x"]]
    assert all(sum(p.width for p in line) <= 220 for line in lines)
    assert equation_lines(row, 140) is None  # the matrix alone is 150 px
