"""An edit on a long sequence never stops the window: it lands at once, its trace streams in
between frames, the status bar shows progress with Cancel, and no dialog appears.

Numbers are checked against a plain loop over lstmviz.core.cell.step().
"""

# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressBar, QToolButton, QWidget

from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.edits import SetInputValue, SetWeight
from lstmviz.gui.inspector import MAX_GAP_S
from tests.gui.editing_fixtures import last_message, user_dirs  # noqa: F401
from tests.step_reference import step_loop

T = 40_000


def reference_h(params, xs):
    return step_loop(params, xs)[1]


@pytest.fixture
def viewer(qtbot, user_dirs):
    from lstmviz.gui.viewer import Viewer

    params = LSTMParams.random(8, 2, seed=4)
    xs = np.random.default_rng(4).normal(size=(T, 2))
    v = Viewer(show=False, document=Document(params, xs, title="long"))
    v.window.resize(1280, 720)
    v.window.show()
    qtbot.waitExposed(v.window)
    yield v
    v.close()


def status_widgets(window):
    bar = window.findChild(QProgressBar, "rerunBar")
    cancel = window.findChild(QToolButton, "rerunCancel")
    return bar, cancel


def always_show_the_bar(monkeypatch) -> None:
    """The status-line bar at once, even for a rerun about to end (which skips it)."""
    import lstmviz.gui.rerun as rerun_module

    monkeypatch.setattr(rerun_module, "SHOW_AFTER_S", 0.0)
    monkeypatch.setattr(rerun_module, "BAR_EVERY_S", 0.0)


def test_a_weight_edit_lands_at_once_and_streams_in(qtbot, viewer, monkeypatch):
    always_show_the_bar(monkeypatch)
    window, doc = viewer.window, viewer.document
    session = window.session
    doc.set_step(30_000)
    assert session.undo.submit(SetWeight(doc, "W_f", (0, 0), 3.0))
    # landed: the new weight is in the Document, on the undo stack, and nothing waits on it
    assert doc.params.W_f[0, 0] == 3.0 and session.undo.stack.count() == 1
    assert doc.rerunning and doc.stale()
    assert "not reached yet" in window.diagram.stale_note
    window.inspector.refresh()
    assert "Rerunning the edited cell" in window.inspector.browser.toPlainText()
    # the window keeps working while the rerun streams in
    qtbot.waitUntil(lambda: doc.computed_steps > 0)
    doc.set_step(29_000)
    assert doc.step == 29_000 and QApplication.activeModalWidget() is None
    bar, cancel = status_widgets(window)
    qtbot.waitUntil(lambda: bar.isVisible())
    assert cancel.isVisible() and "of 40 000" in bar.format()
    assert window.traces.plot("h").stale_mask.isVisible()
    session.wait()
    assert not doc.rerunning and not bar.isVisible()
    assert window.diagram.stale_note == ""
    # each plot's shade goes once its lines hold the whole new run (a frame or two later)
    qtbot.waitUntil(lambda: not window.traces.plot("h").stale_mask.isVisible(), timeout=3000)
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    # the lines were filled in as the rerun went (the last rows a frame or two after it)
    def lines_hold_the_new_run():
        for name in ("h", "i", "f"):
            lines = window.traces.plot(name).lines
            expected = doc.trace.quantity(name)[:, list(lines.labels)].T.astype(np.float32)
            if not np.array_equal(lines.rows, expected):
                return False
        return True

    qtbot.waitUntil(lines_hold_the_new_run, timeout=3000)
    assert session.rerun.longest_tick < 1.0  # one tick is a chunk, never the whole run


def test_cancel_undoes_the_edit_and_redo_brings_it_back(qtbot, viewer, monkeypatch):
    always_show_the_bar(monkeypatch)
    window, doc = viewer.window, viewer.document
    session = window.session
    original = doc.params
    session.undo.submit(SetWeight(doc, "U_o", (1, 2), -2.0))
    bar, cancel = status_widgets(window)
    qtbot.waitUntil(lambda: cancel.isVisible())
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert doc.params.U_o[1, 2] == original.U_o[1, 2]
    assert session.undo.redo_action.isEnabled()
    # the rerun that puts the old run back (the edit's rewrote it in place) has nothing to
    # cancel: a second Cancel used to flip the edit back on (found by a new-user helper)
    assert doc.rerunning and session.undo.restoring
    qtbot.waitUntil(lambda: not cancel.isEnabled(), timeout=3000)
    assert "Restoring" in window.findChild(QWidget, "rerunProgress").label.text()
    session.undo.cancel_rerun()  # (as a click would, were it enabled)
    assert doc.params.U_o[1, 2] == original.U_o[1, 2] and doc.rerunning
    session.wait()
    assert np.abs(doc.trace.h - reference_h(original, doc.xs)).max() < 1e-12
    assert viewer.redo()
    assert doc.params.U_o[1, 2] == -2.0 and not doc.rerunning
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    # Cancel of an undo's rerun redoes the edit, once
    assert session.undo.undo() and doc.rerunning
    qtbot.waitUntil(lambda: cancel.isVisible() and cancel.isEnabled(), timeout=3000)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert doc.params.U_o[1, 2] == -2.0 and session.undo.stack.index() == 1
    session.undo.cancel_rerun()
    assert doc.params.U_o[1, 2] == -2.0 and session.undo.stack.index() == 1
    session.wait()
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    assert not session.undo.restoring


def test_an_input_edit_reruns_from_its_step_and_a_second_edit_restarts(qtbot, viewer):
    window, doc = viewer.window, viewer.document
    session = window.session
    before = doc.trace.h[:25_000].copy()
    session.undo.submit(SetInputValue(doc, 25_000, 1, 4.0))
    assert doc.computed_steps == 25_000 and not doc.stale(24_999)
    session.undo.submit(SetWeight(doc, "b_i", (3,), 0.5))  # before it finished: from 0 again
    # (the rows through the step on screen, 0, are computed as it lands)
    assert 0 < doc.computed_steps < 25_000 and not doc.stale() and session.undo.stack.count() == 2
    done = doc.computed_steps
    assert np.abs(doc.trace.h[:done] - reference_h(doc.params, doc.xs)[:done]).max() < 1e-12
    session.wait()
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    assert not np.array_equal(doc.trace.h[:25_000], before)
    assert viewer.undo() and viewer.undo()
    assert np.abs(doc.trace.h[:25_000] - before).max() < 1e-12


def test_an_overflow_found_during_the_rerun_is_one_message_and_the_edit_is_undone(qtbot, viewer):
    from lstmviz.edits import set_params

    window, doc = viewer.window, viewer.document
    session = window.session
    original = doc.params
    # where x_0 > 0, W x = +inf pushes i, g, o to 1 while U_i h = -inf once h has grown:
    # z_i = inf - inf = NaN after a few steps (as in tests/core/test_cell.py)
    big = np.zeros((8, 2))
    big[:, 0] = 1e308
    bad = original.replace(W_i=big, W_g=big, W_o=big, U_i=np.full((8, 8), -1.7e308))
    session.undo.submit(set_params(doc, bad))
    assert doc.params is not original and doc.rerunning  # landed at once
    session.wait()
    assert "overflows float64 at step" in last_message() and "undone" in last_message()
    assert not doc.rerunning and np.array_equal(doc.params.U_i, original.U_i)
    assert np.abs(doc.trace.h - reference_h(original, doc.xs)).max() < 1e-12


def test_an_open_analysis_view_says_it_shows_the_run_before_the_edit(qtbot, viewer):
    from lstmviz.gui.analysis import install_analysis

    window, doc = viewer.window, viewer.document
    panels = install_analysis(window, doc)  # the Analysis menu (made once per window)
    for key in ("saturation", "memory"):
        panels.actions[key].trigger()  # Alt+2, Alt+1: as a user opens them
    views = [panels.views[key] for key in ("saturation", "memory")]
    window.session.undo.submit(SetWeight(doc, "W_o", (2, 1), 1.5))
    assert doc.rerunning and all(v.rerun_note_shown for v in views)
    window.session.wait()
    assert not any(v.rerun_note_shown for v in views)
    # a view hidden while a rerun starts and ends does not come back saying it is stale
    memory_dock = panels.docks["memory"]
    memory_dock.hide()
    window.session.undo.submit(SetWeight(doc, "W_o", (2, 1), -1.5))
    assert doc.rerunning
    window.session.wait()
    panels.show("memory")
    qtbot.waitUntil(lambda: views[1].isVisible())
    assert not views[1].rerun_note_shown


def test_a_document_that_outlives_its_window_computes_its_changes_at_once(qtbot, user_dirs):
    from lstmviz.gui.viewer import Viewer

    params = LSTMParams.random(8, 2, seed=4)
    doc = Document(params, np.random.default_rng(4).normal(size=(T, 2)))
    viewer = Viewer(show=False, document=doc)
    assert doc.stream_reruns
    viewer.window.session.undo.submit(SetWeight(doc, "W_f", (0, 0), 3.0))
    assert doc.rerunning
    viewer.close()
    QApplication.sendPostedEvents(None, 0)
    qtbot.waitUntil(lambda: not doc.stream_reruns)
    assert not doc.rerunning  # finished when its window went
    doc.set_params(params)  # nobody runs reruns between frames now: computed at once
    assert not doc.rerunning
    assert np.abs(doc.trace.h - reference_h(params, doc.xs)).max() < 1e-12


def test_the_step_on_screen_shows_the_edit_as_it_lands_and_the_end_redraws_nothing_there(
        qtbot, viewer, monkeypatch):
    window, doc = viewer.window, viewer.document
    session = window.session
    doc.set_step(5)
    # the inspector's throttle forgets its last refresh (which set_step may have deferred)
    qtbot.waitUntil(lambda: not window.inspector._stale)
    qtbot.wait(int(MAX_GAP_S * 1000) + 100)
    session.undo.submit(SetWeight(doc, "U_f", (1, 1), 2.0))
    # before the event loop ran: step 5 is computed, the diagram shows the new c_5 there
    assert doc.rerunning and not doc.stale() and window.diagram.stale_note == ""
    c_ref, h_ref = step_loop(doc.params, doc.xs[:6])
    column = window.diagram.column("c")
    assert np.abs(np.array([column.value(k) for k in range(doc.n)]) - c_ref[5]).max() < 1e-12
    # the inspector does not refresh inside the edit: it does so in a frame of its own
    assert window.inspector._stale
    qtbot.waitUntil(lambda: not window.inspector._stale)
    assert "Rerunning the edited cell" not in window.inspector.browser.toPlainText()
    # the end of the rerun: the diagram and inspector already show step 5 of the new run
    redrawn = []
    monkeypatch.setattr(window.diagram, "_refresh_values", lambda: redrawn.append("diagram"))
    monkeypatch.setattr(window.inspector, "refresh", lambda: redrawn.append("inspector"))
    ends = []
    doc.trace_changed.connect(lambda trace: ends.append(trace))
    session.wait()
    assert len(ends) == 1 and redrawn == []
    # a change computed at once (the rerun over) redraws them again
    doc.set_step(6)
    assert redrawn[:1] == ["diagram"]


def test_a_rerun_that_fails_redraws_the_run_it_goes_back_to(qtbot, viewer):
    window, doc = viewer.window, viewer.document
    original = doc.params
    big = np.zeros((8, 2))
    big[:, 0] = 1e308
    bad = original.replace(W_i=big, W_g=big, W_o=big, U_i=np.full((8, 8), -1.7e308))
    doc.set_step(T - 1)
    from lstmviz.edits import set_params

    window.session.undo.submit(set_params(doc, bad))
    window.session.wait()
    assert np.array_equal(doc.params.U_i, original.U_i) and not doc.rerunning
    h_ref = reference_h(original, doc.xs)
    column = window.diagram.column("h")
    assert np.abs(np.array([column.value(k) for k in range(doc.n)]) - h_ref[T - 1]).max() < 1e-12


def test_a_tick_computes_its_chunk_unless_the_paint_leaves_less_of_the_frame(qtbot, viewer):
    from lstmviz.gui import rerun as driver_module

    driver = viewer.window.session.rerun
    driver._landed = False
    driver._overhead = driver._gap = 0.0
    driver._tick_end = 10.0
    assert driver.budget < driver.frame_limit
    full = driver.tick_budget(10.0)  # nothing happened since the last tick
    assert full == driver.budget
    # an ordinary 5 ms paint since the last tick still leaves the frame room for a whole chunk
    assert driver.tick_budget(10.005) == driver.budget
    driver._gap = 0.0
    # a 20 ms paint: only the rest of the frame
    assert driver.tick_budget(10.020) == pytest.approx(driver.frame_limit - 0.020)
    # and the next tick still expects one (a paint may follow the tick in the same pass)
    assert driver.frame_limit - 0.020 <= driver.tick_budget(10.0) < driver.budget
    assert driver.tick_budget(10.050) == driver_module.MIN_TICK  # it always moves on
    driver._overhead, driver._gap = 0.002, 0.0  # what announcing a chunk costs past its budget
    assert driver.tick_budget(10.0) == pytest.approx(driver.budget - 0.002)
    driver._landed = True  # the frame that paints an edit: one small chunk only
    assert driver.tick_budget(10.0) == driver_module.LANDING_TICK
    assert driver.tick_budget(10.0) == driver.budget  # a new rerun forgets the last one's


def test_work_queued_before_a_tick_runs_in_a_frame_after_the_edit(qtbot, viewer):
    from lstmviz.gui.rerun import before_a_tick

    window, doc = viewer.window, viewer.document
    driver = window.session.rerun

    class View:
        def __init__(self):
            self.ran = []

        def redraw(self):
            self.ran.append((doc.computed_steps, doc.rerunning))

    view = View()
    assert not before_a_tick(doc, view.redraw)  # no rerun: the caller redraws its own way
    window.session.undo.submit(SetWeight(doc, "W_o", (0, 1), 1.0))
    assert before_a_tick(doc, view.redraw) and before_a_tick(doc, view.redraw)  # queued once
    landed = doc.computed_steps
    driver._tick()  # the frame of the edit: one small chunk, the queued work waits
    assert view.ran == [] and doc.computed_steps > landed
    driver._tick()
    assert len(view.ran) == 1 and view.ran[0][1]
    # queued when the rerun ends before another tick: it runs as the rerun ends
    assert before_a_tick(doc, view.redraw)
    doc.finish_rerun()
    assert len(view.ran) == 2 and view.ran[1] == (T, False)
    # a view that is gone is not called
    gone = View()
    window.session.undo.submit(SetWeight(doc, "W_o", (0, 1), 2.0))
    assert before_a_tick(doc, gone.redraw)
    del gone
    window.session.wait()
    assert not doc.rerunning


def test_with_what_if_on_an_edit_runs_in_the_background_with_the_status_bar_not_a_dialog(qtbot, viewer):
    """What-if reruns from the whole baseline, so the edit cannot stream in: its trace is
    computed in the background, with progress and Cancel in the status line (no dialog),
    and the window keeps its state until the new trace lands whole."""
    from lstmviz.core.analysis import ClampGate

    window, doc = viewer.window, viewer.document
    session = window.session
    doc.set_interventions([ClampGate("f", 1.0, units=(0,))])
    session.undo.job.show_after_ms = 0
    before = doc.params.W_i.copy()
    assert session.undo.submit(SetWeight(doc, "W_i", (1, 0), 2.5))
    bar = window.findChild(QProgressBar, "traceProgressBar")
    cancel = window.findChild(QToolButton, "traceProgressCancel")
    qtbot.waitUntil(lambda: bar.isVisible(), timeout=3000)
    assert QApplication.activeModalWidget() is None and session.undo.job.dialog is None
    assert "running the cell" in window.findChild(QWidget, "traceProgress").label.text()
    assert np.array_equal(doc.params.W_i, before)  # nothing lands before its trace
    doc.set_step(123)  # the window keeps working meanwhile
    assert doc.step == 123
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert not session.undo.job.busy and not bar.isVisible()
    assert np.array_equal(doc.params.W_i, before) and session.undo.stack.count() == 0
    # and when it is left to finish, the edit lands with its what-if trace
    assert session.undo.submit(SetWeight(doc, "W_i", (1, 0), 2.5))
    session.undo.job.wait()
    assert doc.params.W_i[1, 0] == 2.5 and not bar.isVisible()
    assert np.all(doc.trace.f[:, 0] == 1.0)


def test_opening_a_model_of_another_size_mid_rerun_reloads_the_plots(qtbot, viewer):
    """A rerun ended by a model of another size: the plots' catch-up must not copy the new
    trace's rows by the old units (an IndexError in the panels, seen by a new user)."""
    from pathlib import Path

    window, doc = viewer.window, viewer.document
    assert window.session.undo.submit(SetWeight(doc, "W_f", (0, 0), 3.0))
    qtbot.waitUntil(lambda: doc.computed_steps > 0)
    assert doc.rerunning
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "torch" / "cellnet.pt"
    viewer.open(fixture, confirm=False)
    qtbot.wait(300)
    assert doc.n == 4 and not doc.rerunning
    lines = window.traces.plot("h").lines
    assert max(lines.labels) < 4
    expected = doc.trace.quantity("h")[:, list(lines.labels)].T.astype(np.float32)
    assert np.array_equal(lines.rows, expected)


def clamped_forget_loop(params, xs, unit: int):
    """h of every step with f_t of `unit` forced to 1: a plain NumPy loop over the equations."""
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h, c, hs = np.zeros(params.n), np.zeros(params.n), []
    for x in xs:
        i, f, g, o = (params.W(k) @ x + params.U(k) @ h + params.b(k) for k in "ifgo")
        i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
        f[unit] = 1.0
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.array(hs)


def test_turning_what_if_on_and_editing_with_it_on_replay_in_the_background(qtbot, viewer, monkeypatch):
    """Seen at T = 100 000: turning what-if on froze the window 3 s, and an edit with what-if
    on landed and then replayed the what-if on the GUI thread (2.8 s). Both now compute the
    replay in the background Job (status-line progress, no dialog) and only install it."""
    import lstmviz.document.document as document_module
    from lstmviz.core.analysis import ClampGate
    from lstmviz.gui.analysis.interventions import add_intervention, clear_interventions

    def no_replay_here(*_args):
        raise AssertionError("the what-if replay ran on the GUI thread")

    monkeypatch.setattr(document_module, "_rerun", no_replay_here)
    window, doc = viewer.window, viewer.document
    undo = window.session.undo
    undo.job.show_after_ms = 60_000
    clamp = ClampGate("f", 1.0, units=(0,))
    plain = doc.trace
    window.analysis.show("whatif")
    view = window.analysis.view("whatif")
    assert undo.submit(add_intervention(doc, clamp))
    assert undo.job.busy and doc.interventions == () and doc.trace is plain  # nothing landed yet
    # the What-if view says it is computing and takes no new intervention meanwhile
    assert not view.add_button.isEnabled() and "Computing" in view.summary.text()
    bar = window.findChild(QProgressBar, "traceProgressBar")
    assert not bar.isVisible()
    # a second change while the first is computed is refused, not made without the first, and
    # the first one's progress and Cancel show at once
    assert not undo.submit(SetWeight(doc, "W_i", (1, 0), 2.5))
    assert bar.isVisible() and QApplication.activeModalWidget() is None
    assert "Still computing" in window.statusBar().currentMessage()  # a notice, not a dialog
    assert QApplication.activeModalWidget() is None
    assert undo.job.wait()
    assert doc.interventions == (clamp,) and doc.baseline_trace is plain
    assert view.add_button.isEnabled() and view.clear_button.isEnabled()
    assert np.all(doc.trace.f[:, 0] == 1.0)
    np.testing.assert_allclose(doc.trace.h[:2000], clamped_forget_loop(doc.params, doc.xs[:2000], 0),
                               atol=1e-12)

    # an edit with what-if on: its run and its replay both come from the Job
    assert undo.submit(SetWeight(doc, "W_i", (1, 0), 2.5))
    assert doc.params.W_i[1, 0] != 2.5
    assert undo.job.wait()
    assert doc.params.W_i[1, 0] == 2.5 and doc.interventions == (clamp,)
    np.testing.assert_allclose(doc.trace.h[-300:], clamped_forget_loop(doc.params, doc.xs, 0)[-300:],
                               atol=1e-12)
    np.testing.assert_allclose(doc.baseline_trace.h[:2000], reference_h(doc.params, doc.xs[:2000]),
                               atol=1e-12)

    # undo twice: back to the plain run of the first weights, without rerunning anything here
    assert undo.undo() and undo.job.wait()
    assert doc.params.W_i[1, 0] != 2.5 and doc.interventions == (clamp,)
    assert undo.undo() and undo.job.wait()
    assert doc.interventions == ()
    np.testing.assert_allclose(doc.trace.h[:2000], reference_h(doc.params, doc.xs[:2000]), atol=1e-12)
    # clearing the what-if needs no run at all: the baseline is installed as it is
    assert undo.redo() and undo.job.wait()
    assert undo.submit(clear_interventions(doc)) and not undo.job.busy
    assert doc.interventions == () and doc.trace is doc.baseline_trace


def test_exporting_mid_rerun_writes_the_new_cell_without_finishing_the_rerun_here(qtbot, viewer, tmp_path):
    """Export used to finish the rerun on the GUI thread first (0.8 s at T = 100 000): the
    worker runs the cell itself now, and the file holds the edited cell's numbers."""
    from lstmviz.gui.export import TraceExportOptions

    window, doc = viewer.window, viewer.document
    session = window.session
    assert session.undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0))
    assert doc.rerunning
    target = tmp_path / "mid.npz"
    session.exporter.export_traces(TraceExportOptions(str(target), "npz"))
    assert doc.rerunning  # not finished here
    assert session.exporter.job.wait()
    with np.load(target) as data:
        assert data["h"].shape == (T, doc.n)
        np.testing.assert_allclose(data["h"][-500:], reference_h(doc.params, doc.xs)[-500:], atol=1e-12)
    session.wait()
    assert not doc.rerunning
    with np.load(target) as data:
        np.testing.assert_array_equal(data["h"], doc.trace.h)  # the streamed rerun: the same bits


def test_every_unshaded_step_of_a_plot_shows_the_new_run_while_it_streams_in(qtbot, user_dirs):
    """The shade used to move for every plot at once while their lines were copied one plot
    at a time, leaving 3k-22k unshaded rows of the old run. Each plot now shades from the
    rows its own lines hold of the new run."""
    from lstmviz.gui.viewer import Viewer

    params = LSTMParams.random(32, 2, seed=5)
    xs = np.random.default_rng(5).normal(size=(150_000, 2))
    viewer = Viewer(show=False, document=Document(params, xs, title="longer"))
    viewer.window.resize(1280, 720)
    viewer.window.show()
    qtbot.waitExposed(viewer.window)
    window, doc = viewer.window, viewer.document
    session = window.session
    old_h = doc.trace.h.copy()
    assert session.undo.submit(SetWeight(doc, "W_f", (0, 0), 3.0))
    checked = 0
    while doc.rerunning:
        qtbot.wait(15)
        for name in window.traces.shown:
            plot = window.traces.plot(name)
            if plot.mode != "lines" or not doc.rerunning:
                continue
            start = int(plot.stale_mask._edge + 0.5) if plot.stale_mask.isVisible() else doc.T
            assert start <= doc.computed_steps
            if start:
                rows = doc.trace.quantity(name)
                expected = rows[:start, list(plot.lines.labels)].T.astype(np.float32)
                assert np.array_equal(plot.lines.rows[:, :start], expected), name
                checked += 1
    assert checked > 3  # the check ran while rows streamed in
    assert not np.array_equal(old_h, doc.trace.h)
    viewer.close()


def test_a_new_trace_of_the_same_shape_reloads_the_plots_one_per_frame(qtbot, viewer):
    """Turning what-if on at T = 100 000 reloaded every plot in one ~70 ms frame; a new trace
    of the same shape is now copied in one plot per frame, each shaded whole until then."""
    from lstmviz.core.analysis import ClampGate

    window, doc = viewer.window, viewer.document
    traces = window.traces
    lines = [name for name in traces.shown if traces.plot(name).mode == "lines"]
    assert len(lines) >= 3
    doc.set_interventions([ClampGate("f", 1.0, units=(0,))])
    waiting = [name for name in lines if traces.plot(name).stale_mask.isVisible()]
    assert len(waiting) >= len(lines) - 1  # at most one copied in the frame of the change
    for name in waiting:  # shaded from step 0: none of the old trace is shown as the new one
        assert traces.plot(name).stale_mask._edge == -0.5
    assert traces.catching_up
    assert window.session.wait() and not traces.catching_up  # (a Viewer's screenshot waits so)
    for name in lines:
        plot = traces.plot(name)
        assert not plot.stale_mask.isVisible()
        expected = doc.trace.quantity(name)[:, list(plot.lines.labels)].T.astype(np.float32)
        assert np.array_equal(plot.lines.rows, expected), name
    f_lines = traces.plot("f").lines
    assert 0 in f_lines.labels and np.all(f_lines.rows[f_lines.labels.index(0)] == 1.0)  # the clamp


def test_what_if_coming_back_with_an_undo_or_a_document_is_replayed_in_the_background(
        qtbot, viewer, tmp_path, monkeypatch):
    """Found by a new-user helper at T = 100 000: undoing File > Open or a preset, or opening
    a .lstmviz saved with what-if on, replayed the what-if on the GUI thread as it landed
    (2.5-3 s frozen). The opening's interventions are now computed with its run."""
    import lstmviz.document.document as document_module
    from lstmviz.core.analysis import ClampGate
    from lstmviz.gui.analysis.interventions import add_intervention

    session = viewer.window.session
    undo, doc = session.undo, viewer.document
    clamp = ClampGate("f", 1.0, units=(0,))
    assert undo.submit(add_intervention(doc, clamp)) and undo.job.wait()
    long_with_whatif = tmp_path / "long.lstmviz"
    session.save_to(long_with_whatif, synchronous=True)
    small = tmp_path / "small.lstmviz"
    from lstmviz.gui.viewer import Viewer

    other = Viewer(show=False, document=Document(LSTMParams.random(4, 2, seed=1), np.zeros((30, 2))))
    other.window.session.save_to(small, synchronous=True)
    other.close()

    def no_replay_here(*_args):
        raise AssertionError("the what-if replay ran on the GUI thread")

    monkeypatch.setattr(document_module, "_rerun", no_replay_here)
    expected_h = clamped_forget_loop(doc.params, doc.xs[:3000], 0)
    viewer.open(small, confirm=False)
    assert viewer.document.n == 4 and viewer.document.interventions == ()
    assert viewer.undo()  # back to the long document with its what-if
    doc = viewer.document
    assert doc.T == T and doc.interventions == (clamp,)
    np.testing.assert_allclose(doc.trace.h[:3000], expected_h, atol=1e-12)
    viewer.apply_preset("random-sine")
    assert viewer.document.interventions == ()
    assert viewer.undo()
    assert viewer.document.interventions == (clamp,)
    np.testing.assert_allclose(viewer.document.trace.h[:3000], expected_h, atol=1e-12)
    viewer.open(small, confirm=False)
    viewer.open(long_with_whatif, confirm=False)  # a document saved with what-if on
    assert viewer.document.interventions == (clamp,) and viewer.document.T == T
    np.testing.assert_allclose(viewer.document.trace.h[:3000], expected_h, atol=1e-12)


def test_cancel_of_a_rerun_while_a_what_if_change_computes_undoes_just_the_edit(qtbot, viewer):
    """Found by an attacking helper: the first Cancel was swallowed (undo refused while the
    Job ran) and the second went around the undo stack, which cleared the whole history."""
    from lstmviz.core.analysis import ZeroUnit
    from lstmviz.gui.analysis.interventions import add_intervention

    window, doc = viewer.window, viewer.document
    undo = window.session.undo
    first = doc.params.W_f[0, 0] + 0.5
    assert undo.submit(SetWeight(doc, "W_f", (0, 0), first)) and window.session.wait()
    original = doc.params.W_f[0, 1]
    assert undo.submit(SetWeight(doc, "W_f", (0, 1), 0.5)) and doc.rerunning
    assert undo.submit(add_intervention(doc, ZeroUnit(units=(3,)))) and undo.job.busy
    undo.cancel_rerun()
    assert not undo.job.busy and "change computed after it" in window.statusBar().currentMessage()
    assert doc.params.W_f[0, 1] == original and doc.params.W_f[0, 0] == first
    assert undo.stack.index() == 1 and undo.stack.count() == 2 and doc.interventions == ()
    assert window.session.wait()
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    assert viewer.undo() and doc.params.W_f[0, 0] != first  # the history is all there


def test_a_preset_or_a_file_opened_while_a_change_computes_replaces_it(qtbot, viewer, tmp_path):
    """An open or a preset during a what-if Job was dropped without a word to a script (the
    Viewer raised nothing); it now drops the pending change, with a notice, and lands."""
    from lstmviz.core.analysis import ClampGate
    from lstmviz.gui.analysis.interventions import add_intervention

    window, doc = viewer.window, viewer.document
    undo = window.session.undo
    clamp = ClampGate("f", 1.0, units=(0,))
    assert undo.submit(add_intervention(doc, clamp)) and window.session.wait()
    before = doc.params.W_f[0, 0]
    assert undo.submit(SetWeight(doc, "W_f", (0, 0), before + 1.0)) and undo.job.busy
    viewer.apply_preset("random-sine")
    assert viewer.document.sources.preset_name == "random-sine" and not undo.job.busy
    assert viewer.undo()  # back to the long document, with its what-if, without the dropped edit
    doc = viewer.document
    assert doc.T == T and doc.interventions == (clamp,) and doc.params.W_f[0, 0] == before


def test_cancel_after_two_quick_edits_undoes_them_one_at_a_time(qtbot, viewer):
    """W1's rerun is restarted by W2 before it ends: Cancel undoes W2, and W1's rerun, still
    going, is W1's to cancel (it was labelled a restore, its Cancel disabled)."""
    window, doc = viewer.window, viewer.document
    undo = window.session.undo
    w0 = doc.params
    assert undo.submit(SetWeight(doc, "W_f", (0, 0), 2.0)) and doc.rerunning
    assert undo.submit(SetWeight(doc, "W_f", (1, 0), 2.0)) and doc.rerunning
    undo.cancel_rerun()
    assert doc.params.W_f[1, 0] != 2.0 and doc.params.W_f[0, 0] == 2.0 and undo.stack.index() == 1
    assert doc.rerunning and not undo.restoring  # W1's own rerun
    undo.cancel_rerun()
    assert doc.params.W_f[0, 0] == w0.W_f[0, 0] and undo.stack.index() == 0
    assert undo.restoring  # now it puts W0's run back
    undo.cancel_rerun()
    assert undo.stack.index() == 0
    assert window.session.wait() and not undo.restoring
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
    assert viewer.redo() and viewer.redo() and doc.params.W_f[1, 0] == 2.0
    assert np.abs(doc.trace.h - reference_h(doc.params, doc.xs)).max() < 1e-12
