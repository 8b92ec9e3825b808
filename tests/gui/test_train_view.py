"""The Train view: training runs in chunks between frames (other timers keep firing), the
Document shows the model under training on the probe, step/reset/scrubber/save, Alt+8."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from PySide6 import QtCore

import lstmviz
from lstmviz.gui.analysis import SPECS
from lstmviz.gui.train.view import TrainView
from tests.gui.editing_fixtures import user_dirs  # noqa: F401


@pytest.fixture
def view(qtbot, make_document):
    document = make_document("memory-cell")
    widget = TrainView(document)
    qtbot.addWidget(widget)
    widget.resize(1100, 420)
    widget.show()
    widget.n_box.setValue(6)
    widget.difficulty_box.setValue(8)
    widget.batch_box.setValue(8)
    widget.reset()
    return widget


def test_reset_shows_the_untrained_model_on_the_probe(view):
    doc = view.document
    lead = view.runs[0]
    assert lead.iteration == 0 and doc.n == 6 and doc.T == 9  # first-value, delay 8
    np.testing.assert_array_equal(doc.params.W_f, lead.params().W_f)
    assert np.all(doc.params.b_f == 1.0)  # forget bias 1 by default


def test_timers_keep_firing_while_it_trains(view, qtbot):
    ticks = []
    other = QtCore.QTimer(view)
    other.setInterval(10)
    other.timeout.connect(lambda: ticks.append(1))
    other.start()
    before = view.document.params
    view.run()
    qtbot.waitUntil(lambda: view.runs[0].iteration >= 30 and len(ticks) >= 10, timeout=20000)
    assert view.running
    view.pause()
    assert not view.running
    iteration = view.runs[0].iteration
    qtbot.wait(50)
    assert view.runs[0].iteration == iteration  # paused means paused
    # the Document holds the trained model now (the diagram and panels redraw from it)
    assert view.document.params is not before
    np.testing.assert_array_equal(view.document.params.U_i, view.runs[0].params().U_i)
    other.stop()


def test_step_reset_scrubber_and_side_by_side(view, qtbot):
    view.step_once()
    view.step_once()
    assert view.runs[0].iteration == 2 and len(view.runs[0].checkpoints) == 3
    view.compare_box.setChecked(True)
    view.bias_box.setCurrentText("0")
    view.reset()
    assert [t.config.forget_bias for t in view.runs] == [0.0, 1.0]
    assert [t.iteration for t in view.runs] == [0, 0]
    for _ in range(3):
        view.step_once()
    assert [t.iteration for t in view.runs] == [3, 3]
    assert len(view.hist_bars) == 2  # a histogram for each run
    view.scrubber.setValue(1)  # the user drags the scrubber back to iteration 1
    np.testing.assert_array_equal(view.document.params.W_i, view.runs[0].checkpoints[1].params().W_i)
    assert view.scrub_label.text() == "iteration 1"
    assert not np.array_equal(view.document.params.W_i, view.runs[0].params().W_i)


def test_save_model_writes_an_npz_that_opens_as_a_model(view, tmp_path):
    view.step_once()
    path = tmp_path / "trained.npz"
    assert view.save_model(str(path))
    params = lstmviz.load_model(path)
    np.testing.assert_array_equal(params.W_o, view.runs[0].params().W_o)
    assert view.save_model(str(tmp_path / "missing" / "x.npz")) is False
    assert "the folder " in view.last_message and "missing does not exist" in view.last_message


def test_registered_as_an_analysis_view_on_alt_8(make_window):
    spec = SPECS["train"]
    assert spec.shortcut == "Alt+8"
    window = make_window("memory-cell")
    window.analysis.show("train")
    assert isinstance(window.analysis.views["train"], TrainView)


def test_export_animation_renders_one_frame_per_checkpoint_showing_the_gates_change(view, tmp_path):
    """The run exported iteration by iteration: one PNG per checkpoint, and the frames differ
    because the cell changed while it trained (the user's own window stays on its model)."""
    from PySide6.QtGui import QImage

    for _ in range(3):
        view.step_once()
    checkpoints = view.runs[0].checkpoints
    assert len(checkpoints) >= 2
    before = view.document.params.W_f.copy()
    out = tmp_path / "frames"
    written = view.export_animation(f"{out}/", size=(320, 200), view="diagram")
    assert written == len(checkpoints)
    frames = sorted(out.iterdir())
    assert len(frames) == written
    first, last = QImage(str(frames[0])), QImage(str(frames[-1]))
    assert (first.width(), first.height()) == (320, 200)
    assert first != last  # the gates on the probe moved between iteration 0 and now
    np.testing.assert_array_equal(view.document.params.W_f, before)


def test_log_axis_labels_do_not_overprint_in_a_short_dock(view, qtbot):
    """In log mode pyqtgraph labels every minor tick (0.1, 0.09, 0.08, ...): in the ~100-px
    plots of the default dock they printed into each other. Only the 1-2-5 labels that fit are
    drawn between the decades."""
    from PySide6.QtWidgets import QApplication

    from tests.gui.plot_helpers import tick_label_rects

    view.resize(1100, 300)
    for _ in range(12):
        view.step_once()
    QApplication.processEvents()
    qtbot.wait(5)
    for plot in (view.loss_plot, view.reach_plot):
        axis = plot.getAxis("left")
        assert axis.logMode and plot.getViewBox().height() < 160
        rects = tick_label_rects(axis)
        assert len(rects) >= 2, plot.titleLabel.text
        for a, b in itertools.combinations(rects, 2):
            assert not a.intersects(b), (plot.titleLabel.text, a, b)


@pytest.fixture
def viewer(qtbot, user_dirs):  # noqa: F811
    from lstmviz.gui.viewer import Viewer

    v = Viewer(show=False, preset="memory-cell")
    v.window.resize(1280, 720)
    v.window.show()
    qtbot.waitExposed(v.window)
    yield v
    v.close()


def small_run(train: TrainView) -> None:
    train.n_box.setValue(4)
    train.difficulty_box.setValue(6)
    train.batch_box.setValue(8)


def test_showing_the_train_view_keeps_the_users_model_and_asks_before_replacing_it(viewer, tmp_path):
    """A new user opened their model, then the Train view: the model was gone, replaced by
    the training model without a word. Now showing the view changes nothing; Step asks
    first (No keeps the model and trains nothing); Yes replaces it as one undo step."""
    from lstmviz.core.params import LSTMParams
    from lstmviz.io.npz import write_npz_model

    path = tmp_path / "mine.npz"
    write_npz_model(LSTMParams.random(5, 3, seed=3), path)
    doc = viewer.open(path, confirm=False)
    mine = doc.params
    assert doc.n == 5 and doc.model_path == str(path)
    viewer.window.analysis.show("train")
    viewer._process()
    train = viewer.window.analysis.views["train"]
    assert doc.params is mine and doc.model_path == str(path)  # only showing it: still there
    assert train.asked == [] and "keeps its model until Run, Step or Reset" in train.status.text()

    train.step_button.click()  # offscreen nobody answers: recorded, and the model is kept
    assert len(train.asked) == 1 and "mine.npz" in train.asked[0] and "Undo brings it back" in train.asked[0]
    assert doc.params is mine and train.runs[0].iteration == 0
    train.answers["replace"] = False  # "Keep mine.npz"
    train.run_button.click()
    assert not train.running and doc.params is mine and len(train.asked) == 2

    train.answers["replace"] = True  # "Show the training model"
    train.step_button.click()
    assert len(train.asked) == 3 and train.showing and train.runs[0].iteration == 1
    assert "keeps its model" not in train.status.text()
    assert doc.n == train.runs[0].config.n == 16 and doc.model_path is None
    assert doc.title.startswith("Training first-value")
    train.step_button.click()  # the window shows the training now: no further question
    assert len(train.asked) == 3 and train.runs[0].iteration == 2
    np.testing.assert_array_equal(doc.params.W_f, train.runs[0].params().W_f)

    assert viewer.undo()  # Edit > Undo: the user's model is back
    assert doc.params is mine and doc.model_path == str(path) and not train.showing
    assert viewer.redo()  # and Redo shows the training model as it was last shown
    np.testing.assert_array_equal(doc.params.W_f, train.runs[0].params().W_f)
    assert train.showing


def test_a_pristine_preset_is_replaced_without_a_question_and_undo_brings_it_back(viewer):
    doc = viewer.document
    preset = doc.params
    viewer.window.analysis.show("train")
    train = viewer.window.analysis.views["train"]
    assert doc.params is preset
    small_run(train)
    train.reset()  # Reset shows the new run in the window
    assert train.asked == [] and train.showing and doc.n == 4
    assert viewer.undo() and doc.params is preset and doc.preset_name == "memory-cell"


def test_training_pauses_when_the_window_moves_on_to_another_model(viewer, qtbot):
    doc = viewer.document
    viewer.window.analysis.show("train")
    train = viewer.window.analysis.views["train"]
    small_run(train)
    train.run()
    assert train.running and train.showing
    qtbot.waitUntil(lambda: train.runs[0].iteration >= 3, timeout=20000)
    viewer.apply_preset("forget-worked")  # the user opens something else while it trains
    opened = doc.params
    qtbot.waitUntil(lambda: not train.running, timeout=20000)
    assert doc.params is opened and doc.preset_name == "forget-worked"
    assert "Paused" in train.last_message
