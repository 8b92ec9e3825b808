"""The inspector's cell-state page shows dc_t/dc_{t-1} = f_t with this step's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.analysis import cell_path_factor, forget_product
from lstmviz.core.cell import run
from lstmviz.core.explain import explain, format_number
from lstmviz.core.params import LSTMParams
from lstmviz.gui.inspector import Inspector


def test_cell_path_numbers_come_from_core(make_document):
    doc = make_document("memory-cell")
    ex = explain(doc.params, doc.trace, 14, "c", 0)
    path = ex.cell_path
    assert path.f == pytest.approx(doc.trace.f[14, 0]) and path.factor == path.f and path.peephole == 0.0
    assert path.survives_from_start == pytest.approx(forget_product(doc.trace, 14, 0)[0])
    assert explain(doc.params, doc.trace, 14, "f", 0).cell_path is None


def test_cell_path_with_peepholes_adds_their_terms():
    rng = np.random.default_rng(3)
    p = LSTMParams.random(3, 2, seed=2).replace(p_i=rng.normal(size=3), p_f=rng.normal(size=3),
                                                  p_o=rng.normal(size=3))
    trace = run(p, rng.normal(size=(6, 2)))
    path = explain(p, trace, 4, "c", 1).cell_path
    assert path.factor == pytest.approx(cell_path_factor(p, trace, 4)[1])
    assert path.peephole == pytest.approx(path.factor - trace.f[4, 1]) and path.peephole != 0.0


def test_inspector_shows_it_for_the_cell_state(qtbot, make_document):
    doc = make_document("memory-cell")
    view = Inspector(doc)
    qtbot.addWidget(view)
    view.show()
    doc.set_selection("c")
    doc.set_step(14)
    text = view.plain_text()
    assert "The gradient along the cell-state line" in text
    assert format_number(doc.trace.f[14, 0]) in text
    doc.set_selection("h")
    assert "cell-state line" not in view.plain_text()
