# ruff: noqa: F811 - pytest fixtures imported from editing_fixtures
"""Opening files of another size through every entry point, as a user does it.

The finding of issue 10, reproduced first: on the memory-cell demo (n = 2, m = 3), open a
model with n = 7, m = 5 and choose a zero input; the views then showed the old 2-unit cell
and a ValueError came from a listener that read the new params with the old trace. Here a
checker subscribed to every Document signal asserts, at the moment of each emission, that
params, input and trace agree; and after each open every view shows the current model.
"""

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.errors import LstmvizError
from lstmviz.io.npz import write_npz_model
from lstmviz.io.sequences import write_sequence
from lstmviz.presets import load_preset
from tests.gui.editing_fixtures import user_dirs  # noqa: F401

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "frameworks"
SIGNALS = ("state_changed", "params_changed", "input_changed", "trace_changed", "step_changed",
           "selection_changed", "unit_changed", "units_changed", "option_changed", "source_changed",
           "dirty_changed", "interventions_changed")


class ConsistencyChecker:
    """Subscribed to every Document signal: records any emission at which the Document's
    params, input, trace and view disagree."""

    def __init__(self, doc: Document):
        self.doc, self.problems, self.emissions = doc, [], 0
        for name in SIGNALS:
            getattr(doc, name).connect(lambda *args, _name=name: self.check(_name))

    def check(self, name: str) -> None:
        self.emissions += 1
        d = self.doc
        p, xs, tr = d.params, d.xs, d.trace
        if not (p.n == tr.n and xs.shape[0] == tr.T and xs.shape[1] == p.input_size
                and 0 <= d.step < tr.T and 0 <= d.unit < p.n and d.baseline_trace.T == tr.T):
            self.problems.append((name, p.n, p.input_size, xs.shape, tr.n, tr.T, d.step, d.unit))


def assert_views_show(window, n: int, m: int, T: int) -> None:
    doc = window.document
    assert (doc.n, doc.m, doc.T) == (n, m, T)
    QApplication.processEvents()
    for cid in ("f", "i", "g", "o", "c", "h"):
        assert window.diagram.column(cid).count == n, cid
    assert window.diagram._title._text.endswith(f"n = {n}, m = {m}")
    assert doc.title in window.diagram._title._text
    assert window.inspector.unit_box.maximum() == n - 1
    assert window.inspector.unit_box.value() == doc.unit
    assert f"n = {n}, m = {m}" in window.windowTitle()
    assert window.window_name() in window.windowTitle()
    traces = window.traces
    assert traces._T == T and traces.units.list.count() == n
    np.testing.assert_allclose(doc.trace.h, run(doc.params, doc.xs, h0=doc.h0, c0=doc.c0).h)


@pytest.fixture
def viewer(qtbot, user_dirs):  # noqa: F811
    from lstmviz import Viewer

    v = Viewer(show=True)
    qtbot.addWidget(v.window)
    qtbot.waitExposed(v.window)
    v.checker = ConsistencyChecker(v.document)
    yield v
    v.window.session.prompt = False


@pytest.fixture
def model_7x5(tmp_path) -> Path:
    path = tmp_path / "seven.npz"
    write_npz_model(LSTMParams.random(7, 5, seed=4), path)
    return path


def test_reproduction_open_a_7_unit_model_on_the_demo_with_a_zero_input(viewer, model_7x5, monkeypatch):
    """File > Open through the menu (file dialog mocked), answer "Use a zero input"."""
    window, doc = viewer.window, viewer.document
    assert (doc.n, doc.m) == (2, 3)
    questions = viewer.controller.questions
    questions.answers.update(open_file=str(model_7x5), mismatch="zero")
    window.open_action.trigger()
    window.session.wait()
    assert viewer.checker.problems == [] and viewer.checker.emissions > 0
    assert_views_show(window, 7, 5, 40)
    assert not doc.xs.any() and doc.model_path == str(model_7x5)
    assert "seven.npz" in window.windowTitle()
    viewer.undo()
    assert_views_show(window, 2, 3, 40)
    assert doc.preset_name == "memory-cell" and "Memory cell" in window.windowTitle()
    assert viewer.checker.problems == []


def test_opening_a_model_into_an_unchanged_document_leaves_nothing_unsaved(viewer, model_7x5, tmp_path):
    """Open a torch file, pick a preset: lstmviz asked "The document has unsaved changes.
    Save them?" though nothing had been edited (a new-user helper). A model (or sequence)
    opened into an unchanged document is as good as saved; into a saved .lstmviz, which no
    longer holds what the window shows, it is not."""
    window, doc, session = viewer.window, viewer.document, viewer.window.session
    viewer.controller.questions.answers.update(mismatch="zero")
    viewer.open(model_7x5)
    assert doc.model_path == str(model_7x5)
    assert not doc.dirty and not window.isWindowModified()
    asked = []
    session.prompt = True
    session.ask_unsaved = lambda action: asked.append(action) or "cancel"
    window.preset_actions["brackets"].trigger()
    assert asked == [] and doc.preset_name == "brackets"
    viewer.undo()  # back to the model: still nothing unsaved
    assert doc.model_path == str(model_7x5) and not doc.dirty
    from lstmviz.edits import SetWeight

    session.undo.submit(SetWeight(doc, "W_f", (0, 0), 0.5))
    assert doc.dirty  # an edit is unsaved
    session.save_to(tmp_path / "mine.lstmviz", synchronous=True)
    seq = tmp_path / "five.csv"
    write_sequence(np.linspace(-1, 1, 45).reshape(9, 5), seq)
    viewer.open(seq)
    assert doc.input_path == str(seq) and doc.document_path == str((tmp_path / "mine.lstmviz").resolve())
    assert doc.dirty and window.isWindowModified()  # mine.lstmviz holds the old input
    session.prompt = False


@pytest.mark.parametrize("choice, T, zeros", [("zero", 40, True), ("generated", 40, False),
                                               ("sequence", 9, False), ("cancel", None, None)])
def test_each_mismatch_choice(viewer, model_7x5, tmp_path, choice, T, zeros):
    seq = tmp_path / "five.csv"
    write_sequence(np.linspace(-1, 1, 45).reshape(9, 5), seq)
    q = viewer.controller.questions
    q.answers.update(mismatch=choice, open_file=str(seq))
    viewer.open(model_7x5)  # confirm=True: the same questions as the menu
    asked = [s for kind, s in q.asked if kind == "mismatch"]
    assert [c.key for c in asked[0].choices] == ["sequence", "generated", "zero", "cancel"]
    if choice == "cancel":
        assert_views_show(viewer.window, 2, 3, 40)
        assert viewer.window.session.undo.stack.count() == 0
    else:
        assert_views_show(viewer.window, 7, 5, T)
        assert bool(not viewer.document.xs.any()) == zeros
        if choice == "sequence":
            assert viewer.document.input_path == str(seq)
    assert viewer.checker.problems == []


def _drop_file(target, path, at=QPoint(50, 50)) -> None:
    """Drag `path` over `target` and drop it, as a file manager does; the enter must be accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    assert QApplication.sendEvent(target, enter) and enter.isAccepted()
    drop = QDropEvent(QPointF(at), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)


def test_drop_on_the_cell_diagram_opens(viewer, model_7x5, qtbot):
    viewer.controller.questions.answers["mismatch"] = "zero"
    _drop_file(viewer.window.diagram.viewport(), model_7x5)
    viewer.window.session.wait()
    assert_views_show(viewer.window, 7, 5, 40)
    assert viewer.checker.problems == []


def test_drop_on_an_analysis_view_opened_later_opens(viewer, model_7x5):
    from PySide6.QtWidgets import QAbstractScrollArea

    manager = viewer.window.analysis
    manager.show("saturation")
    QApplication.processEvents()
    dock = viewer.window.docks["saturation"]
    viewer.controller.questions.answers["mismatch"] = "zero"
    _drop_file(dock.findChildren(QAbstractScrollArea)[-1].viewport(), model_7x5, QPoint(5, 5))
    viewer.window.session.wait()
    assert_views_show(viewer.window, 7, 5, 40)
    assert viewer.checker.problems == []


def test_recent_presets_documents_and_back(viewer, model_7x5, tmp_path):
    window, doc = viewer.window, viewer.document
    viewer.open(model_7x5, confirm=False)  # no input given: a zero input
    assert_views_show(window, 7, 5, 40)
    # the recent-files menu opens through the same path
    menu = window.findChild(type(window.menus["file"]), "menuRecent")
    menu.aboutToShow.emit()
    recent = [a for a in menu.actions() if a.data() == str(model_7x5) or str(model_7x5) in a.text()
              or model_7x5.name in a.text()]
    assert recent
    viewer.apply_preset("forget-worked")  # the Presets menu's way
    assert_views_show(window, 3, 3, 4)
    q = viewer.controller.questions
    recent[0].trigger()  # m = 5 vs the preset's 3: asked; unanswered offscreen, so cancelled
    window.session.wait()
    assert q.asked[-1][0] == "mismatch" and doc.preset_name == "forget-worked"
    q.answers["mismatch"] = "generated"
    recent[0].trigger()
    window.session.wait()
    assert doc.model_path == str(model_7x5)
    assert_views_show(window, 7, 5, 4)  # a generated input as long as the sequence it replaces
    window.preset_actions["brackets"].trigger()
    brackets = load_preset("brackets")
    assert_views_show(window, brackets.params.n, brackets.params.m, brackets.xs.shape[0])
    assert doc.unit == brackets.unit and doc.preset_name == "brackets"
    # a saved document of another size opens over it, in one step
    path = tmp_path / "seven.lstmviz"
    viewer.open(model_7x5, confirm=False)  # a zero input as long as the brackets text
    T7 = doc.T
    assert T7 == brackets.xs.shape[0]
    doc.set_step(7)
    window.session.save_to(path, synchronous=True)
    viewer.apply_preset("memory-cell")
    viewer.open(path)
    assert_views_show(window, 7, 5, T7)
    assert doc.step == 7 and not doc.dirty and doc.document_path == str(path.resolve())
    assert window.windowTitle().startswith("seven.lstmviz")
    viewer.undo()
    assert_views_show(window, 2, 3, 40)
    viewer.redo()
    assert_views_show(window, 7, 5, T7)
    assert viewer.checker.problems == []


def test_text_view_brackets_button_goes_through_the_controller(viewer, model_7x5):
    viewer.open(model_7x5, confirm=False)
    asked = []
    viewer.window.session.confirm_discard = lambda action: asked.append(action) or True
    viewer.controller.apply_preset("brackets")  # what TextView._open_brackets calls
    assert asked == ["switch to a preset"]
    assert viewer.document.preset_name == "brackets"
    viewer.undo()  # the switch is one undo step, not a dropped history
    assert viewer.document.model_path is not None and viewer.document.n == 7


def test_several_layers_are_offered_and_the_layer_menu_switches(viewer):
    path = FIXTURES / "torch_model.pt"
    q = viewer.controller.questions
    q.answers["layer"] = lambda infos: [i.name for i in infos if i.n == 2][0]
    q.answers["mismatch"] = "zero"
    viewer.open(path)
    layers = [s for kind, s in q.asked if kind == "layer"][0]
    assert [(i.name, i.m, i.n) for i in layers] == [("model_state_dict.encoder.l0", 3, 4),
                                                   ("model_state_dict.decoder.l0", 4, 2),
                                                   ("model_state_dict.cell", 2, 3)]
    doc = viewer.document
    assert doc.layer_name == "model_state_dict.decoder.l0"
    assert_views_show(viewer.window, 2, 4, 40)
    assert "decoder.l0" in viewer.window.windowTitle()
    viewer.open(path, layer="model_state_dict.encoder.l0", confirm=False)
    assert_views_show(viewer.window, 4, 3, 40)
    assert viewer.checker.problems == []


def test_viewer_open_raises_naming_the_file_and_changes_nothing(viewer, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3\n")
    before = viewer.document.state
    with pytest.raises(LstmvizError, match="bad.csv"):
        viewer.open(bad, confirm=False)
    assert viewer.document.state is before
    shot = viewer.screenshot(tmp_path / "shot.png")
    assert Path(shot).stat().st_size > 1000


def test_real_fixtures_of_every_format_in_turn(viewer):
    for name in ("torch_lstm.pt", "torch_bf16.safetensors", "onnx_peephole.onnx", "keras2_weights.h5",
                 "torch_lstm.safetensors"):
        doc = viewer.open(FIXTURES / name, confirm=False)
        assert_views_show(viewer.window, doc.n, doc.m, doc.T)
        assert doc.title.startswith(name)
    assert viewer.checker.problems == []


def test_cell_layer_menu_lists_and_switches_the_layers_of_the_open_file(viewer):
    path = FIXTURES / "torch_stack.pth"  # l0 (m = 2), l1 and l2 (m = 4), n = 4 each
    q = viewer.controller.questions
    q.answers.update(layer="l0", mismatch="zero")
    viewer.open(path)
    window = viewer.window
    window.fill_layer_menu()
    names = [a.data() for a in window.layer_menu.actions()]
    assert names == ["l0", "l1", "l2"]
    assert [a.isChecked() for a in window.layer_menu.actions()] == [True, False, False]
    assert "m = 4 inputs, n = 4 units, forward" in window.layer_menu.actions()[2].text()
    window.layer_menu.actions()[2].trigger()  # m = 4 vs the open 2 columns: the same question
    window.session.wait()
    assert viewer.document.layer_name == "l2" and "(l2)" in window.windowTitle()
    assert_views_show(window, 4, 4, 40)
    viewer.undo()
    assert viewer.document.layer_name == "l0" and "(l0)" in window.windowTitle()
    assert viewer.checker.problems == []


def test_recovering_an_autosave_of_another_size(qtbot, user_dirs, model_7x5):  # noqa: F811
    from lstmviz import Viewer
    from lstmviz.autosave import find_recoverable

    first = Viewer(show=False)
    qtbot.addWidget(first.window)
    first.open(model_7x5, confirm=False)
    first.set_step(11)
    session = first.window.session
    assert not first.document.dirty  # a model opened, nothing changed: nothing to autosave
    assert not session.autosave_now(background=False)
    from lstmviz.edits import SetWeight

    assert session.undo.submit(SetWeight(first.document, "W_f", (0, 0), 0.5))  # unsaved work
    assert session.autosave_now(background=False)
    session.autosaver.close(keep=True)  # as if the window had died: the autosave stays
    session._autosaver = None
    second = Viewer(show=False)
    qtbot.addWidget(second.window)
    checker = ConsistencyChecker(second.document)
    found = find_recoverable(second.window.session.autosaver.directory)
    assert len(found) == 1
    assert second.window.session.recover(found[0])
    doc = second.document
    assert_views_show(second.window, 7, 5, 40)
    assert doc.step == 11 and doc.dirty and doc.model_path == str(model_7x5)
    assert checker.problems == []
    second.undo()  # the recovery is one undo step too
    assert_views_show(second.window, 2, 3, 40)
    for v in (first, second):
        v.window.session.prompt = False


def test_the_inspector_shows_a_model_opened_right_after_it_refreshed(viewer, model_7x5):
    """The inspector throttles refreshes while steps stream in; a file opened is not a stream:
    its page describes the new cell at once, not up to 0.4 s later."""
    window = viewer.window
    window.inspector.refresh()  # just refreshed: a throttled refresh would now wait
    assert "unit k = 0 of 2" in window.inspector.browser.toPlainText()
    viewer.open(model_7x5, confirm=False)
    text = window.inspector.browser.toPlainText()
    assert "unit k = 0 of 7" in text and "of 2." not in text
    window.inspector.refresh()
    window.document.set_step(5)  # a step, by contrast, may wait for the throttle
    window.document.set_unit(3)  # a unit picked is shown at once
    assert "unit k = 3 of 7" in window.inspector.browser.toPlainText()
