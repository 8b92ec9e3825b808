"""What-if: interventions rerun the trace through the Document, and undo restores it."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lstmviz.core.analysis import BiasOffset, ClampGate, ZeroUnit, rerun
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis.data import parse_units
from lstmviz.gui.analysis.interventions import SetInterventions, add_intervention
from lstmviz.gui.analysis.whatif import WhatIfView
from tests.gui.plot_helpers import tick_label_rects


@pytest.fixture
def whatif(qtbot, make_document):
    doc = make_document("memory-cell")
    view = WhatIfView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    return doc, view


def test_document_keeps_the_baseline(make_document):
    doc = make_document("memory-cell")
    base = doc.trace
    seen = []
    doc.interventions_changed.connect(seen.append)
    clamp = ClampGate("f", 1.0, units=(0,))
    doc.set_interventions([clamp])
    assert doc.baseline_trace is base and doc.trace is not base
    np.testing.assert_allclose(doc.trace.f[:, 0], 1.0)
    np.testing.assert_allclose(doc.trace.h, rerun(doc.params, base, [clamp]).h)
    assert seen == [(clamp,)]
    # a new input keeps the intervention on and reruns it
    doc.set_input(doc.xs[:10])
    assert doc.interventions == (clamp,) and doc.T == 10
    np.testing.assert_allclose(doc.trace.f[:, 0], 1.0)
    # one that no longer fits is dropped (and said so)
    doc.set_interventions([clamp, ZeroUnit(units=(1,), steps=(5, 10))])
    doc.set_input(doc.xs[:4])
    assert doc.interventions == (clamp,) and seen[-1] == (clamp,)
    with pytest.raises(LstmvizError):
        doc.set_interventions([ZeroUnit(units=(7,))])
    assert doc.interventions == (clamp,)
    doc.set_interventions(())
    assert doc.trace is doc.baseline_trace


def test_quick_clamp_reruns_and_undo_restores(whatif):
    doc, view = whatif
    base_h = doc.trace.h.copy()
    doc.set_unit(0)
    assert view.quick("f1")
    assert doc.interventions == (ClampGate("f", 1.0, units=(0,)),)
    np.testing.assert_allclose(doc.trace.f[:, 0], 1.0)
    assert view.list.count() == 1 and "f = 1" in view.list.item(0).text()
    assert view.overlay.changed and "first differs" in view.summary.text()
    x, y = view.before_curve.getData()
    np.testing.assert_allclose(y, doc.baseline_trace.h[:, 0])
    np.testing.assert_allclose(view.after_curve.getData()[1], doc.trace.h[:, 0])
    assert view.undo.stack.count() == 1 and view.undo_button.isEnabled()
    view.undo_button.click()
    assert doc.interventions == ()
    np.testing.assert_allclose(doc.trace.h, base_h)
    assert view.list.count() == 0 and not view.overlay.changed
    view.redo_button.click()
    assert len(doc.interventions) == 1


def test_form_builds_every_kind(whatif):
    doc, view = whatif
    view.kind_box.setCurrentIndex(view.kind_box.findData("bias"))
    view.gate_box.setCurrentIndex(view.gate_box.findData("i"))
    view.value_box.setValue(2.5)
    view.units_edit.setText("0-1")
    view.all_steps.setChecked(False)
    view.step_from.setValue(3)
    view.step_to.setValue(9)
    assert view.form_intervention() == BiasOffset("i", 2.5, units=(0, 1), steps=(3, 10))
    assert view.add_from_form()
    view.kind_box.setCurrentIndex(view.kind_box.findData("zero"))
    assert not view.gate_box.isEnabled()
    view.units_edit.setText("1")
    assert view.add_from_form()
    assert [type(iv) for iv in doc.interventions] == [BiasOffset, ZeroUnit]
    assert len(view._spans) > 0  # the steps they cover are shaded
    view.list.setCurrentRow(0)
    assert view.remove_selected()
    assert [type(iv) for iv in doc.interventions] == [ZeroUnit]
    assert view.clear() and doc.interventions == ()
    view.undo.undo()
    assert [type(iv) for iv in doc.interventions] == [ZeroUnit]


def test_bad_form_input_is_reported_not_applied(whatif):
    doc, view = whatif
    view.units_edit.setText("0, 9")
    assert not view.add_from_form()
    assert "outside" in view.summary.text() and doc.interventions == ()
    view.units_edit.setText("x")
    assert not view.add_from_form()
    assert parse_units(" all ", 4) is None and parse_units("0-2, 3", 4) == (0, 1, 2, 3)
    with pytest.raises(LstmvizError):
        SetInterventions(doc, [ZeroUnit(units=(5,))])


def test_edit_objects_undo_through_the_document(make_document):
    doc = make_document("memory-cell")
    edit = add_intervention(doc, ClampGate("i", 0.0))
    edit.do(doc)
    np.testing.assert_allclose(doc.trace.i, 0.0)
    assert edit.after(doc).params is doc.params  # the model does not change
    edit.undo(doc)
    assert doc.interventions == ()


def test_interventions_on_the_window_undo_stack(qtbot, make_document):
    """With the window's UndoController the what-if edits share Edit > Undo with every other edit."""
    from lstmviz.gui.undo import UndoController

    doc = make_document("memory-cell")
    view = WhatIfView(doc, undo=None)
    qtbot.addWidget(view)
    controller = UndoController(doc, view)
    other = WhatIfView(doc, undo=controller)
    qtbot.addWidget(other)
    other.show()
    assert other.quick("i0")
    assert controller.stack.count() == 1
    assert controller.undo() and doc.interventions == ()
    assert controller.redo() and len(doc.interventions) == 1
    view.show()  # a hidden view catches up when shown; every view follows the Document
    assert view.list.count() == 1


def test_y_tick_labels_never_overprint_at_n_64_in_the_default_dock(qtbot, make_window):
    """At 1280 x 720 the What-if dock is ~290 px tall and its plots ~40 px: pyqtgraph printed
    five labels (-0.4 ... 0.4) into each other on the difference plot. Labels that would
    touch are left out; each plot keeps at least two to read it by."""
    from PySide6.QtWidgets import QApplication

    from lstmviz.document import Document
    from lstmviz.presets import random_sine

    window = make_window(document=Document.from_preset(random_sine(n=64)))
    window.resize(1280, 720)
    window.analysis.show("whatif")
    for _ in range(4):
        QApplication.processEvents()
    qtbot.wait(5)
    view = window.analysis.views["whatif"]
    for plot in (view.values_plot, view.delta_plot, view.heat_plot):
        assert plot.getViewBox().height() < 80  # (the cramped case this is about)
        rects = tick_label_rects(plot.getAxis("left"))
        assert len(rects) >= 2, plot.titleLabel.text
        for a, b in itertools.combinations(rects, 2):
            assert not a.intersects(b), (plot.titleLabel.text, a, b)


def test_a_long_run_is_compared_off_the_gui_thread_once_per_change(qtbot, make_document, monkeypatch):
    """At T = 100 000, n = 64 comparing the two runs took 0.1-0.6 s and ran twice per change
    on the GUI thread: the window stood still for ~1 s when a what-if landed (a new-user
    helper). Now a large comparison runs in the background, once per change, the plots keep
    the last one meanwhile, and what lands is the difference of the two runs."""
    import threading

    import lstmviz.gui.analysis.whatif as whatif_module

    monkeypatch.setattr(whatif_module, "OVERLAY_IN_BACKGROUND_FROM", 1)  # (this small run too)
    threads = []
    real_overlay = whatif_module.overlay

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return real_overlay(*args, **kwargs)

    monkeypatch.setattr(whatif_module, "overlay", recorded)
    doc = make_document("memory-cell")
    view = WhatIfView(doc)
    qtbot.addWidget(view)
    view.resize(1000, 600)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: not view.computing and view.overlay is not None, timeout=5000)
    count = view.compute_count
    doc.set_unit(1)
    qtbot.waitUntil(lambda: view.compute_count == count + 1, timeout=5000)
    assert view.quick("f1")
    assert view.computing and view.summary.text().startswith("Computing")
    qtbot.waitUntil(lambda: not view.computing, timeout=5000)
    qtbot.wait(20)
    assert view.compute_count == count + 2  # the new trace and the new list: one comparison
    assert threads and all(thread is not threading.main_thread() for thread in threads)
    ov = view.overlay
    before, after = doc.baseline_trace.h, doc.trace.h
    np.testing.assert_array_equal(ov.before, before[:, 1])
    np.testing.assert_array_equal(ov.after, after[:, 1])
    difference = after - before
    np.testing.assert_allclose(ov.heat, (difference / np.abs(difference).max()).T, atol=1e-6)
    assert ov.first_divergence == int(np.flatnonzero(np.abs(difference).max(axis=1) > 1e-6)[0])
    assert "first differs at t = " in view.summary.text()


def test_a_bug_in_the_background_comparison_surfaces(qtbot, make_document, monkeypatch):
    import lstmviz.gui.analysis.whatif as whatif_module

    monkeypatch.setattr(whatif_module, "OVERLAY_IN_BACKGROUND_FROM", 1)
    doc = make_document("memory-cell")
    view = WhatIfView(doc)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: not view.computing, timeout=5000)

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug in the comparison")

    monkeypatch.setattr(whatif_module, "overlay", broken)
    with qtbot.captureExceptions() as caught:
        doc.set_unit(1)
        qtbot.waitUntil(lambda: not view.computing, timeout=5000)
        qtbot.wait(10)
    assert any("a bug in the comparison" in str(error) for _, error, _ in caught)
