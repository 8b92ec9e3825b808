"""An LSTMP model (PyTorch proj_size > 0) in the window, as a user opening it sees it: the
diagram draws h with p entries and the W_hr box, the inspector works h_t[k] = Σ_j W_hr[k, j]·r_t[j]
through with the real numbers. The reference is a plain NumPy loop in this file and torch's own
outputs saved beside the fixture."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lstmviz.core.explain import format_number
from lstmviz.gui.diagram.items import ProjectionItem
from lstmviz.gui.diagram.view import CellDiagram
from lstmviz.gui.inspector import Inspector
from lstmviz.gui.viewer import Viewer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LSTMP = FIXTURES / "torch" / "lstmp_state_dict.pt"


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_lstmp(params, xs):
    """h (T, p) and r (T, n) of a projected LSTM, one unit and one step at a time."""
    n, p = params.W_i.shape[0], params.W_hr.shape[0]
    h = np.zeros(p) if params.h0 is None else np.array(params.h0, dtype=float)
    c = np.zeros(n) if params.c0 is None else np.array(params.c0, dtype=float)
    hs, rs = [], []
    for x in xs:
        new_c, r = np.zeros(n), np.zeros(n)
        for k in range(n):
            def z(gate, k=k):
                W, U, b = (getattr(params, f"{a}_{gate}") for a in "WUb")
                return (sum(W[k, j] * x[j] for j in range(len(x)))
                        + sum(U[k, j] * h[j] for j in range(p)) + b[k])
            i, f, g, o = _sigmoid(z("i")), _sigmoid(z("f")), np.tanh(z("g")), _sigmoid(z("o"))
            new_c[k] = f * c[k] + i * g
            r[k] = o * np.tanh(new_c[k])
        h = np.array([sum(params.W_hr[q, j] * r[j] for j in range(n)) for q in range(p)])
        c = new_c
        hs.append(h)
        rs.append(r)
    return np.array(hs), np.array(rs)


@pytest.fixture
def viewer(qtbot, tmp_path):
    expected = np.load(str(LSTMP) + ".expected.npz")
    np.save(tmp_path / "x0.npy", expected["x0"])
    v = Viewer(show=False)
    qtbot.addWidget(v.window)
    v.open(LSTMP, input=tmp_path / "x0.npy", confirm=False)
    yield v, expected
    v.close()


def test_lstmp_window_draws_the_projection_and_works_it_through(viewer):
    v, expected = viewer
    doc = v.document
    params = doc.params
    n, p = params.n, params.h_size
    assert (n, p) == (6, 2) and params.W_hr.shape == (p, n)
    # the file's own outputs (torch) and a plain loop agree with what the window runs
    h_ref, r_ref = reference_lstmp(params, doc.xs)
    np.testing.assert_allclose(h_ref, expected["h0"], atol=1e-5)
    np.testing.assert_allclose(doc.trace.h, h_ref, atol=1e-6)

    t = 3
    v.set_step(t)
    diagram = v.window.findChild(CellDiagram)
    assert diagram.column("h").column.count == p
    assert diagram.column("h_prev").column.count == p
    assert diagram.column("c").column.count == n
    r_column = diagram.column("mul_o")  # r_t = o_t ⊙ tanh(c_t), before W_hr
    assert r_column.column.count == n
    assert any(isinstance(item, ProjectionItem) for item in diagram.items_for("h"))
    tip = diagram.tooltip_for("h", 1)
    assert "W<sub>hr</sub>" in tip and f"{p}x{n}" in tip
    assert "U_i: 6x2" in diagram.tooltip_for("i").replace("<sub>", "_").replace("</sub>", "")

    doc.set_unit(1)
    doc.set_selection("h")
    v._process()
    inspector = v.window.findChild(Inspector)
    inspector.refresh()
    text = inspector.plain_text()
    k = 1
    assert f"Projection: ht[{k}] = Σq Whr[{k}, q]·rt[q]" in text
    for j in range(n):  # every term of the sum with its numbers
        assert f"Whr[{k},{j}] · rt[{j}]" in text
        assert format_number(params.W_hr[k, j]) in text
    h_loop = sum(params.W_hr[k, j] * r_ref[t, j] for j in range(n))
    assert h_loop == pytest.approx(doc.trace.h[t, k], abs=1e-6)
    assert f"ht[{k}] = Σ = {format_number(h_loop)}" in text
    assert "n × p = 6 × 2" in text

    # a gate's shapes say U is n × p
    doc.set_selection("f")
    v._process()
    inspector.refresh()
    text = inspector.plain_text()
    assert "Uf\n6 × 2" in text
    assert "Uf (6×2)" in text and "Uf (6×6)" not in text  # the whole-layer product's caption


def test_h0_of_a_projected_cell_has_p_entries_and_is_kept(viewer):
    v, _ = viewer
    doc = v.document
    p, n = doc.params.h_size, doc.params.n
    h0 = np.array([0.5, -0.25])
    doc.set_initial_state(h0=h0, c0=np.zeros(n))
    v._process()
    assert doc.h0.shape == (p,)
    h_ref, _ = reference_lstmp(doc.params.replace(h0=h0, c0=np.zeros(n)), doc.xs)
    np.testing.assert_allclose(doc.trace.h, h_ref, atol=1e-6)
    # a model change of the same shapes keeps it (it used to be checked against n and dropped)
    v.open(LSTMP, confirm=False)
    assert doc.h0 is not None and doc.h0.shape == (p,)


def test_torch_proj_fixture_opens_with_p_cells(viewer):
    v, _ = viewer
    v.open(FIXTURES / "frameworks" / "torch_proj.pt", confirm=False)
    diagram = v.window.findChild(CellDiagram)
    doc = v.document
    assert doc.params.projected
    assert diagram.column("h").column.count == doc.params.h_size != doc.params.n


def test_trace_panels_plot_every_unit_of_c_and_the_p_entries_of_h(viewer):
    """`lstmviz open` on the LSTMP file selects all 6 units: the h plot (p = 2 entries) used to
    index unit 2 of h and raise IndexError before the window showed."""
    from lstmviz.gui.panels.widget import TracePanels

    v, _ = viewer
    doc = v.document
    doc.set_units(range(doc.n))
    doc.set_unit(4)
    v._process()
    panels = v.window.findChild(TracePanels)
    assert panels is not None
    v.set_step(2)  # the plots follow without an exception (the conftest fails on any)


def test_the_status_line_after_opening_names_p(viewer):
    v, _ = viewer
    message = v.window.statusBar().currentMessage()
    assert "(n = 6, m = 3, p = 2)" in message, message
