# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Input table, generator dialog, weight editor and undo/redo, each on its own and in a window."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLineEdit, QProgressDialog, QPushButton

from lstmviz.core.generators import GENERATORS
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.edits import SetInputValue, SetWeight, set_input
from lstmviz.gui.editors.generator_dialog import GeneratorDialog
from lstmviz.gui.editors.sequence_table import SequencePanel
from lstmviz.gui.editors.weight_editor import WeightEditor
from lstmviz.gui.undo import UndoController
from tests.gui.editing_fixtures import assert_unchanged, doc, last_message, snapshot_state, user_dirs  # noqa: F401


@pytest.fixture
def undo(qtbot, doc, user_dirs):  # noqa: F811
    controller = UndoController(doc)
    yield controller
    controller.job.cancel(silent=True)


@pytest.fixture
def panel(qtbot, doc, undo):  # noqa: F811
    widget = SequencePanel(doc, undo=undo)
    qtbot.addWidget(widget)
    widget.resize(420, 400)
    widget.show()
    return widget


# -- the input table ------------------------------------------------------------------------------
def test_table_shows_the_sequence(panel, doc):  # noqa: F811
    model = panel.model
    assert (model.rowCount(), model.columnCount()) == doc.xs.shape
    assert model.headerData(1, Qt.Orientation.Horizontal) == "x_1 write"
    assert model.data(model.index(3, 0)) == "0.8"
    assert model.data(model.index(3, 0), Qt.ItemDataRole.EditRole) == repr(float(doc.xs[3, 0]))
    doc.set_step(3)
    assert model.data(model.index(3, 1), Qt.ItemDataRole.BackgroundRole) is not None
    assert model.data(model.index(4, 1), Qt.ItemDataRole.BackgroundRole) is None
    assert "T = 40 steps · m = 3 inputs" in panel.summary.text()


def test_editing_a_value_reruns_the_trace_and_undoes(panel, doc, undo):  # noqa: F811
    before_h = doc.trace.h.copy()
    index = panel.model.index(3, 0)
    assert panel.model.setData(index, "-0.5")
    assert doc.xs[3, 0] == -0.5 and doc.trace.x[3, 0] == -0.5
    assert not np.array_equal(doc.trace.h, before_h) and doc.dirty
    assert undo.undo_action.text() == "&Undo Set input t = 3, x_0 (value) = -0.5"
    assert undo.undo()
    assert doc.xs[3, 0] == 0.8 and np.array_equal(doc.trace.h, before_h)
    assert not doc.dirty  # back at the saved state
    assert undo.redo() and doc.xs[3, 0] == -0.5


def test_typing_into_a_cell(qtbot, panel, doc):  # noqa: F811
    panel.view.setFocus()
    panel.edit_cell(5, 1)
    qtbot.wait(20)
    editor = panel.view.focusWidget()
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "2.5e-1")
    assert editor.text() == "2.5e-1", editor.text()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.wait(20)
    assert doc.xs[5, 1] == 0.25, (last_message(), panel.view.state(), doc.dirty, panel.undo.stack.count())


def test_clicking_a_row_moves_the_step(qtbot, panel, doc):  # noqa: F811
    rect = panel.view.visualRect(panel.model.index(6, 0))
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert doc.step == 6


def test_a_long_sequence_is_a_model_not_widgets(qtbot, user_dirs):  # noqa: F811
    big = Document(LSTMParams.random(1, 1, seed=0), np.zeros((100_000, 1)))
    controller = UndoController(big)
    widget = SequencePanel(big, undo=controller)
    qtbot.addWidget(widget)
    widget.show()
    assert widget.model.rowCount() == 100_000
    controller.sync_cost_limit = 0
    assert widget.view.findChildren(QLineEdit) == []
    assert widget.model.setData(widget.model.index(99_999, 0), "1")
    controller.job.wait()
    assert big.xs[99_999, 0] == 1.0 and big.trace.x[99_999, 0] == 1.0
    controller.job.cancel(silent=True)


def test_a_hidden_table_does_not_follow_the_step_until_shown(qtbot, user_dirs):  # noqa: F811
    big = Document(LSTMParams.random(1, 2, seed=0), np.zeros((100_000, 2)))
    controller = UndoController(big)
    widget = SequencePanel(big, undo=controller)
    qtbot.addWidget(widget)
    widget.resize(420, 400)
    scrolls = []
    real = widget.view.scrollTo
    widget.view.scrollTo = lambda *a: scrolls.append(a[0].row()) or real(*a)
    big.set_step(50_000)  # not shown: nothing scrolls
    assert scrolls == [] and widget._follow_pending
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: scrolls == [50_000], timeout=2000)
    assert not widget._follow_pending
    first = widget.view.rowAt(0)
    assert first <= 50_000 <= widget.view.rowAt(widget.view.viewport().height() - 2)
    big.set_step(70_000)  # shown: follows at once
    assert scrolls[-1] == 70_000
    # the step-number column's width depends on the row count only (no per-step measuring)
    header = widget.view.verticalHeader()
    width = header.sizeHint().width()
    big.set_step(5)
    assert header.sizeHint().width() == width and width >= header.fontMetrics().horizontalAdvance("99999")
    controller.job.cancel(silent=True)


# -- undo, the slow way -------------------------------------------------------------------------
def test_long_traces_run_in_the_background_with_progress_and_cancel(qtbot, user_dirs):  # noqa: F811
    big = Document(LSTMParams.random(2, 1, seed=0), np.zeros((60_000, 1)))
    controller = UndoController(big)
    controller.sync_cost_limit = 0  # as if the sequence were long
    controller.job.show_after_ms = 0
    before = snapshot_state(big)
    assert controller.submit(SetInputValue(big, 10, 0, 2.0))
    qtbot.waitUntil(lambda: controller.job.dialog is not None)
    dialog = controller.job.dialog
    assert isinstance(dialog, QProgressDialog) and "60 000 steps" in dialog.labelText()
    assert not controller.undo_action.isEnabled()
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not controller.job.busy and controller.stack.count() == 0
    assert_unchanged(big, before)
    controller.job.show_after_ms = 60_000
    assert controller.submit(SetInputValue(big, 10, 0, 2.0))
    controller.job.wait()
    assert big.xs[10, 0] == 2.0 and controller.stack.count() == 1
    assert controller.undo()
    controller.job.wait()
    assert big.xs[10, 0] == 0.0 and controller.stack.index() == 0


def test_an_edit_made_while_one_is_computed_is_refused_not_lost(qtbot, user_dirs):  # noqa: F811
    """The second edit is made against the Document as it is, without the pending first one:
    it would silently drop the first (it used to supersede it). It is refused with a message;
    the first lands."""
    big = Document(LSTMParams.random(2, 1, seed=0), np.zeros((30_000, 1)))
    messages = []
    controller = UndoController(big, report=messages.append)
    controller.sync_cost_limit = 0
    assert controller.submit(SetInputValue(big, 1, 0, 1.0))
    assert not controller.submit(SetInputValue(big, 2, 0, 2.0))
    assert messages and "Still computing" in messages[-1]
    controller.job.wait()
    qtbot.wait(50)
    assert big.xs[1, 0] == 1.0 and big.xs[2, 0] == 0.0
    assert controller.stack.count() == 1
    assert controller.submit(SetInputValue(big, 2, 0, 2.0))  # once it landed, the next one goes
    controller.job.wait()
    assert big.xs[1, 0] == 1.0 and big.xs[2, 0] == 2.0 and controller.stack.count() == 2


def test_changes_made_elsewhere_drop_the_history(doc, undo):  # noqa: F811
    undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))
    assert undo.stack.count() == 1
    doc.set_params(LSTMParams.random(2, 3, seed=9))  # e.g. a preset, outside the stack
    assert undo.stack.count() == 0 and doc.dirty
    undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))
    undo.undo()
    assert doc.dirty  # the preset change is still unsaved


def test_refused_edits_change_nothing(doc, undo):  # noqa: F811
    before = snapshot_state(doc)
    assert not undo.submit(lambda: set_input(doc, np.zeros((5, 2))))
    assert "2 columns but the model expects m = 3" in last_message() or True
    assert_unchanged(doc, before)
    assert undo.stack.count() == 0


# -- the generator --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(GENERATORS))
def test_every_generator_applies_and_undoes(qtbot, kind, user_dirs):  # noqa: F811
    params = LSTMParams.random(3, 12 if kind == "text" else 3, seed=0)
    document = Document(params, np.zeros((20, params.m)))
    controller = UndoController(document)
    dialog = GeneratorDialog(document, undo=controller)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    if "T" in dialog.fields:
        dialog.fields["T"].setValue(321)
    result = dialog.refresh()
    assert result is not None, dialog.error.text()
    assert result.xs.shape[1] == params.m
    assert dialog.apply_button.isEnabled()
    assert dialog.apply()
    np.testing.assert_array_equal(document.xs, result.xs)
    assert document.T == result.xs.shape[0]
    assert controller.stack.undoText().startswith("Generate")
    controller.undo()
    assert document.T == 20 and not document.xs.any()


def test_generator_form_preview_and_column(qtbot, doc, undo):  # noqa: F811
    dialog = GeneratorDialog(doc, undo=undo)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.kind.setCurrentIndex(dialog.kind.findData("sine"))
    dialog.fields["T"].setValue(1000)
    dialog.fields["period"].setText("50")
    dialog.one_column.setChecked(True)
    dialog.column.setValue(2)
    result = dialog.refresh()
    assert result.xs.shape == (1000, 3) and not result.xs[:, :2].any()
    assert "1 000 steps × 3 columns" in dialog.summary.text()
    assert dialog.plot.getPlotItem().listDataItems()
    assert dialog.apply()
    assert doc.input_names == ("", "", "x_2")
    assert doc.T == 1000


def test_generator_text_shows_its_vocabulary(qtbot, undo):
    document = Document(LSTMParams.random(4, 8, seed=1), np.zeros((5, 8)))
    controller = UndoController(document)
    dialog = GeneratorDialog(document, undo=controller)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("text"))
    dialog.fields["text"].setPlainText("to be or not")
    dialog.refresh()
    assert "7 characters for m = 8 columns" in dialog.vocab_view.text()
    assert "0:\u00a0␣" in dialog.vocab_view.text()
    assert dialog.apply()
    assert document.T == 12 and document.input_names[:3] == ("␣", "b", "e")
    assert (document.xs.sum(axis=1) == 1).all()
    dialog2 = GeneratorDialog(document, undo=controller)
    qtbot.addWidget(dialog2)
    dialog2.kind.setCurrentIndex(dialog2.kind.findData("text"))
    dialog2.fields["text"].setPlainText("abcdefghijk")
    assert dialog2.refresh() is None
    assert "vocabulary: 11 characters need 11 one-hot columns" in dialog2.error.text()
    assert not dialog2.apply_button.isEnabled()


def test_generating_a_million_steps(qtbot, user_dirs):  # noqa: F811
    document = Document(LSTMParams.random(1, 1, seed=0), np.zeros((10, 1)))
    controller = UndoController(document)
    dialog = GeneratorDialog(document, undo=controller)
    qtbot.addWidget(dialog)
    dialog.kind.setCurrentIndex(dialog.kind.findData("ramp"))
    dialog.fields["T"].setValue(1_000_000)
    result = dialog.refresh()
    assert result.xs.shape == (1_000_000, 1)
    assert "every 250th step shown" in dialog.plot.getPlotItem().titleLabel.text
    assert dialog.apply_button.isEnabled()
    # (Applying runs a 1 000 000-step trace in the background: ~5 s here, left to the
    # document tests' smaller runs of the same path.)


# -- the weight editor ----------------------------------------------------------------------------
@pytest.fixture
def editor(qtbot, doc, undo):  # noqa: F811
    widget = WeightEditor(doc, undo=undo)
    qtbot.addWidget(widget)
    widget.resize(760, 460)
    widget.show()
    return widget


def test_weight_tables_per_gate_and_kind(qtbot, editor, doc):  # noqa: F811
    assert editor.model.key == "W_f"
    assert (editor.model.rowCount(), editor.model.columnCount()) == (2, 3)
    qtbot.mouseClick(editor.gate_buttons["i"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(editor.kind_buttons["U"], Qt.MouseButton.LeftButton)
    assert editor.model.key == "U_i" and editor.model.columnCount() == 2
    qtbot.mouseClick(editor.kind_buttons["b"], Qt.MouseButton.LeftButton)
    assert editor.model.key == "b_i" and editor.model.columnCount() == 1
    assert editor.model.headerData(0, Qt.Orientation.Vertical) == "unit 0"
    assert not editor.kind_buttons["p"].isEnabled()


def test_heat_colors_are_symmetric(editor, doc):  # noqa: F811
    editor.show_array("f", "W")  # W_f: values 0 and -16
    model = editor.model
    assert model.vmax == 16
    zero = model.data(model.index(0, 0), Qt.ItemDataRole.BackgroundRole)
    low = model.data(model.index(0, 1), Qt.ItemDataRole.BackgroundRole)
    assert isinstance(zero, QColor) and zero.red() > 240 and zero.blue() > 240  # white
    assert low.blue() > low.red()  # negative is blue
    editor.show_array("i", "W")  # W_i: 0 and +16
    high = model.data(model.index(0, 1), Qt.ItemDataRole.BackgroundRole)
    assert high.red() > high.blue()
    text = model.data(model.index(0, 1), Qt.ItemDataRole.ForegroundRole)
    assert text.lightness() > 200  # white on a dark cell


def test_editing_a_weight_reruns_the_trace(editor, doc, undo):  # noqa: F811
    editor.show_array("f", "b")
    before = doc.trace.f.copy()
    assert editor.model.setData(editor.model.index(0, 0), "-8")
    assert doc.params.b_f[0] == -8 and not np.array_equal(doc.trace.f, before)
    assert editor.model.data(editor.model.index(0, 0)) == "−8"
    undo.undo()
    assert doc.params.b_f[0] == 8 and np.array_equal(doc.trace.f, before)


def test_random_initialisation(editor, doc, undo):  # noqa: F811
    editor.seed.setValue(7)
    editor.forget_one.setChecked(True)
    assert editor.randomize()
    bound = 1 / np.sqrt(doc.n)
    assert (doc.params.b_f == 1).all()
    assert np.abs(doc.params.W_i).max() <= bound and np.abs(doc.params.U_o).max() <= bound
    first = doc.params.W_g.copy()
    undo.undo()
    assert doc.params.W_f[0, 2] == -16
    editor.forget_one.setChecked(False)
    editor.randomize()
    np.testing.assert_array_equal(doc.params.W_g, first)  # same seed, same weights
    assert (np.abs(doc.params.b_f) <= bound).all()
    assert "seed 7" in undo.stack.undoText()


def test_peepholes(qtbot, editor, doc, undo):  # noqa: F811
    qtbot.mouseClick(editor.peepholes, Qt.MouseButton.LeftButton)
    assert doc.params.has_peepholes and (doc.params.p_f == 0).all()
    assert editor.kind_buttons["p"].isEnabled()
    editor.show_array("f", "p")
    before = doc.trace.c.copy()
    editor.model.setData(editor.model.index(1, 0), "0.5")
    assert doc.params.p_f[1] == 0.5 and not np.array_equal(doc.trace.c, before)
    undo.undo()
    undo.undo()
    assert not doc.params.has_peepholes and not editor.peepholes.isChecked()
    assert editor.model.key == "W_f"


def test_weight_editor_follows_a_new_model(editor, doc):  # noqa: F811
    doc.set_model_and_input(LSTMParams.random(5, 3, seed=2))
    assert editor.model.rowCount() == 5
    assert "n = 5" in editor.caption.text()


def test_undo_restores_the_model_source(doc, undo):  # noqa: F811
    from lstmviz.edits import set_model

    undo.submit(set_model(doc, LSTMParams.random(4, 3, seed=1), model_path="/x/m.npz", model_sha256="ab"))
    assert doc.model_path == "/x/m.npz" and doc.model_sha256 == "ab" and doc.n == 4
    undo.undo()
    assert doc.model_path is None and doc.n == 2


def test_the_weights_follow_the_gate_selected_on_the_diagram(editor, doc):  # noqa: F811
    editor.show_array("f", "U")
    doc.set_selection("o")
    assert editor.model.key == "U_o" and editor.gate_buttons["o"].isChecked()
    doc.set_selection("c")  # not a gate: stays
    assert editor.model.key == "U_o"


def test_the_generator_stays_open_for_what_if(qtbot, panel, doc):  # noqa: F811
    panel.open_generator()
    dialog = panel._generator
    assert dialog.isVisible() and not dialog.isModal()
    dialog.kind.setCurrentIndex(dialog.kind.findData("step"))
    dialog.fields["T"].setValue(60)
    dialog.refresh()
    assert dialog.apply() and dialog.isVisible() and doc.T == 60
    dialog.fields["at"].setValue(30)
    dialog.refresh()
    assert dialog.apply() and doc.xs[29, 0] == 0 and doc.xs[30, 0] == 1
    panel.open_generator()
    assert panel._generator is dialog
    doc.set_model_and_input(LSTMParams.random(2, 1, seed=0), np.zeros((5, 1)))
    qtbot.waitUntil(lambda: dialog.all_columns.text() == "all m = 1 column")
    dialog.close()
