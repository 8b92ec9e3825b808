"""Compare: a second model (a snapshot or a file) against the current one on the same input."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.gui.analysis.compare import CompareView
from lstmviz.io.npz import write_npz_model


@pytest.fixture
def compare(qtbot, make_document):
    doc = make_document("random-sine")
    view = CompareView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 560)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_snapshot_is_the_model_before_an_edit(compare):
    doc, view = compare
    assert view.params_b is doc.params and not view.overlay.changed
    assert "snapshot" in view.source.text()
    before = doc.params
    doc.set_params(before.replace(b_f=before.b_f - 2.0))
    assert view.params_b is before
    ov = view.overlay
    assert ov.changed
    np.testing.assert_allclose(ov.before, doc.trace.h[:, doc.unit])
    np.testing.assert_allclose(ov.after, run(before, doc.xs).h[:, doc.unit])
    np.testing.assert_allclose(view.heat.image, ov.heat)
    assert view.table.rowCount() == doc.n
    # one time cursor: the Document's step
    doc.set_step(77)
    assert all(c.step == 77 for c in view.cursors)


def test_second_model_from_a_file_and_matching(tmp_path, compare):
    doc, view = compare
    # B: the same cell with its units in reverse order, so unit j of A is unit n-1-j of B
    p = doc.params
    order = np.arange(doc.n)[::-1]

    def perm_rows(a):
        return a[order]

    arrays = {}
    for gate in "ifgo":
        arrays[f"W_{gate}"] = perm_rows(p.W(gate))
        arrays[f"U_{gate}"] = perm_rows(p.U(gate))[:, order]
        arrays[f"b_{gate}"] = perm_rows(p.b(gate))
    path = tmp_path / "b.npz"
    write_npz_model(LSTMParams(**arrays, name="reversed"), path)
    view.open_model(path, synchronous=True)
    assert "b.npz" in view.source.text()
    assert list(view.matching.partner) == list(order)
    np.testing.assert_allclose(view.matching.corr, 1.0)
    doc.set_unit(2)
    view.matched_box.setChecked(True)
    np.testing.assert_allclose(view.overlay.after, view.overlay.before)  # the partner overlays exactly
    view.table.cellClicked.emit(5, 0)
    assert doc.unit == 5


def test_a_model_of_another_shape_is_refused(tmp_path, compare):
    doc, view = compare
    other = tmp_path / "small.npz"
    write_npz_model(LSTMParams.random(3, 1, seed=1), other)
    keep = view.params_b
    view.open_model(other, synchronous=True)
    assert view.params_b is keep
    assert "same shape" in view.last_message


def test_follows_a_new_input(compare):
    doc, view = compare
    doc.set_input(doc.xs[:50] * -1.0)
    assert view.trace_b.T == 50
    np.testing.assert_allclose(view.trace_b.h, run(view.params_b, doc.xs).h)
    assert view.table.item(0, 0).text() == "0"


def test_clicking_the_plot_moves_the_step(qtbot, compare):
    doc, view = compare
    from PySide6.QtCore import QPointF

    scene = view.values_plot.getViewBox().mapViewToScene(QPointF(33.0, 0.0))
    qtbot.mouseClick(view.view.viewport(), Qt.MouseButton.LeftButton, pos=view.view.mapFromScene(scene))
    assert doc.step == 33


def test_a_long_run_is_compared_off_the_gui_thread(qtbot, make_document, monkeypatch):
    """At T = 100 000, n = 64 showing Compare ran model B (~2.7 s), matched the units (0.85 s)
    and drew the overlay (0.2 s) on the GUI thread: the window stood still for seconds when
    the view was shown and at every new input. A long run is now compared in the background
    and lands what the inline path gives."""
    import threading

    import lstmviz.gui.analysis.compare as compare_module

    monkeypatch.setattr(compare_module, "IN_BACKGROUND_FROM", 1)  # (this short run too)
    threads = []
    real_run = compare_module.match_units

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_run(*args, **kwargs)

    monkeypatch.setattr(compare_module, "match_units", recorded)
    doc = make_document("random-sine")
    view = CompareView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 560)
    view.show()
    qtbot.waitExposed(view)
    assert view.computing and view.summary.text().startswith("Running model B")
    qtbot.waitUntil(lambda: not view.computing and view.overlay is not None, timeout=5000)
    before = doc.params
    doc.set_params(before.replace(b_f=before.b_f - 2.0))
    qtbot.waitUntil(lambda: not view.computing and view.overlay.changed, timeout=5000)
    assert threads and all(thread is not threading.main_thread() for thread in threads)
    ov = view.overlay
    np.testing.assert_allclose(ov.before, doc.trace.h[:, doc.unit])
    np.testing.assert_allclose(ov.after, run(before, doc.xs).h[:, doc.unit])
    assert view.table.rowCount() == doc.n
    view.matched_box.setChecked(True)  # the unit's matched partner, also in the background
    qtbot.waitUntil(lambda: not view.computing, timeout=5000)
    assert view.overlay.partner == view.partner(doc.unit)
    np.testing.assert_allclose(view.overlay.after, run(before, doc.xs).h[:, view.partner(doc.unit)])
