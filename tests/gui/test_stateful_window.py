"""A user who never stops: hypothesis drives a real offscreen main window through random
sequences of opening models (every format, several n, m and layers), sequences (matching and
mismatching columns), presets and saved documents, undo and redo, steps, selections, units,
weight edits, what-if clamps and analysis views; after every action nothing may have raised
and every view must show the Document's current model (issue 10 item 6).

CI runs a fixed, derandomized budget (SETTINGS below, well under two minutes on the 2-core
machine); `scripts/soak_gui.py --minutes N` runs the same machine with random seeds for longer.

The window is `lstmviz.Viewer(show=True)` on the offscreen platform; `WindowDriver` only adds
scripted answers to the window's own questions (cancel or take the offer on a size mismatch),
so both answers of the File > Open path are exercised.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ROOT / "tests" / "fixtures" / "frameworks"
TFKERAS2 = ROOT / "tests" / "fixtures" / "tfkeras2"

# (file, layer): every reader, sizes from n = 2 to 5 and m = 2 to 8, first and deeper layers,
# backward directions. n and m as `lstmviz inspect` lists them.
MODELS = (
    (FRAMEWORKS / "torch_lstm.pt", None),  # PyTorch, n = 5, m = 3
    (FRAMEWORKS / "torch_stack.pth", "l2"),  # 3-layer stack, third layer: n = 4, m = 4
    (FRAMEWORKS / "torch_bidir.pt", "l1_reverse"),  # bidirectional, 2nd layer backward: n = 3, m = 6
    (FRAMEWORKS / "torch_model.safetensors", "decoder.l0"),  # safetensors, n = 2, m = 4
    (FRAMEWORKS / "torch_bf16.safetensors", None),  # bfloat16, n = 3, m = 2
    (FRAMEWORKS / "keras_seq.keras", "lstm_b"),  # Keras 3, second layer: n = 3, m = 4
    (FRAMEWORKS / "keras2_weights.h5", None),  # Keras 2 weights, n = 3, m = 2
    (TFKERAS2 / "tfkeras2_weights.h5", None),  # tf.keras 2, n = 5, m = 3
    (FRAMEWORKS / "onnx_peephole.onnx", None),  # ONNX with peepholes, n = 4, m = 3
    (FRAMEWORKS / "onnx_torch.onnx", "/LSTM_1/forward"),  # ONNX stack, n = 4, m = 8
)
NPZ_MODEL_SIZES = ((1, 1), (6, 2), (9, 3))  # (n, m) of .npz models written at start
PRESET_NAMES = ("memory-cell", "forget-worked", "input-worked", "random-sine", "brackets")
ANALYSIS_KEYS = ("memory", "saturation", "curves", "whatif", "compare", "match", "text")
COMPONENTS = ("i", "f", "g", "o", "c", "h", "x", "c_prev", "h_prev", "concat", "mul_f")

# CI budget: 12 sequences of up to 15 actions (~80 s here, 25 s of it CPU; reading HDF5 and ONNX files in a
# child process dominates). The soak script overrides these through the environment.
SETTINGS = settings(
    max_examples=int(os.environ.get("LSTMVIZ_STATEFUL_EXAMPLES", "12")),
    stateful_step_count=int(os.environ.get("LSTMVIZ_STATEFUL_STEPS", "15")),
    derandomize=os.environ.get("LSTMVIZ_STATEFUL_RANDOM") != "1",
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
)


_SHAPES: dict = {}


def model_shape(path, layer) -> tuple[int, int, int]:
    """(n, the sequence's columns, the layer's own m) of a model file's layer (read once)."""
    key = (str(path), layer)
    if key not in _SHAPES:
        from lstmviz.io.models import load_model

        params = load_model(path, layer=layer)
        _SHAPES[key] = (params.n, params.input_size, params.m)
    return _SHAPES[key]


class WindowDriver:
    """lstmviz.Viewer, with the size-mismatch and layer questions answered by the script."""

    def __init__(self, preset: str = "memory-cell"):
        import lstmviz

        self.viewer = lstmviz.Viewer(show=True, preset=preset)
        self.window = self.viewer.window
        self.window.resize(1280, 800)
        self.session = self.window.session
        self.session.prompt = False  # a script answers no unsaved-work questions
        self.settle()

    @property
    def document(self):
        return self.viewer.document

    def settle(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.session.wait()
        for _ in range(3):
            QApplication.processEvents()

    def open(self, path, layer=None, input=None):
        """input: None cancels a size-mismatch question; "generated" takes the offer."""
        # File > Open exactly (the controller), with its questions answered here: Cancel, or
        # the offer (a zero input for a model, a random cell for a sequence).
        questions = self.session.controller.questions
        questions.answers["mismatch"] = "cancel" if input is None else (lambda m: m.default.key)
        questions.answers["layer"] = lambda infos: infos[0].name
        self.session.controller.open(str(path), layer=layer)
        self.settle()

    def save(self, path) -> None:
        self.session.save_to(path, synchronous=True)
        self.settle()

    def apply_preset(self, name: str) -> None:
        self.viewer.apply_preset(name)

    def undo(self) -> None:
        self.viewer.undo()

    def redo(self) -> None:
        self.viewer.redo()

    def submit(self, edit) -> None:
        self.session.undo.submit(edit)
        self.settle()

    def set_step(self, t: int) -> None:
        self.viewer.set_step(t)

    def close(self) -> None:
        self.session.shutdown()
        self.viewer.close()


class WindowUser(RuleBasedStateMachine):
    workdir: Path = None  # set by run_machine

    def __init__(self):
        super().__init__()
        self.raised: list[str] = []
        self._hooks = (sys.excepthook, threading.excepthook)
        sys.excepthook = self._record  # every view's exception lands here (lstmviz.gui.binding)
        threading.excepthook = lambda args: self._record(args.exc_type, args.exc_value, args.exc_traceback)
        self.viewer = WindowDriver()
        self.files = 0
        self.actions: list[str] = []

    def _record(self, exc_type, exc, tb) -> None:
        self.raised.append("".join(traceback.format_exception(exc_type, exc, tb)))

    def _path(self, suffix: str) -> Path:
        self.files += 1
        return self.workdir / f"f{self.files}{suffix}"

    # -- rules ---------------------------------------------------------------------------------
    @initialize()
    def start(self):
        self._close_messages()

    @rule(model=st.sampled_from(MODELS), accept=st.booleans())
    def open_model(self, model, accept):
        path, layer = model
        self.actions.append(f"open {path.name} layer={layer} accept={accept}")
        self.viewer.open(path, layer=layer, input="generated" if accept else None)

    @rule(size=st.sampled_from(NPZ_MODEL_SIZES) | st.just("same"), accept=st.booleans(),
          seed=st.integers(0, 3))
    def open_npz_model(self, size, accept, seed):
        """A .npz model of a listed size, or of the current cell's size (new weights)."""
        from lstmviz.core.params import LSTMParams
        from lstmviz.io.npz import write_npz_model

        doc = self.viewer.document
        if size == "same" or doc.params.input_size != doc.m:  # (a stack's layer: write n, m)
            size = (doc.n, doc.params.input_size)
        n, m = size
        path = self._path(".npz")
        write_npz_model(LSTMParams.random(n, m, seed=seed), path)
        self.actions.append(f"open npz n={n} m={m} accept={accept}")
        self.viewer.open(path, input="generated" if accept else None)

    @rule(matching=st.booleans(), T=st.integers(1, 40), suffix=st.sampled_from([".csv", ".npy"]),
          accept=st.booleans(), extra=st.integers(1, 3))
    def open_sequence(self, matching, T, suffix, accept, extra):
        doc = self.viewer.document
        m = doc.params.input_size if matching else doc.params.input_size + extra
        xs = np.random.default_rng(T).normal(size=(T, m))
        path = self._path(suffix)
        if suffix == ".csv":
            np.savetxt(path, xs, delimiter=",", header=",".join(f"in{j}" for j in range(m)), comments="")
        else:
            np.save(path, xs)
        self.actions.append(f"open sequence T={T} m={m} ({'matching' if matching else 'mismatching'}) "
                            f"accept={accept}")
        self.viewer.open(path, input="generated" if accept else None)

    @rule(name=st.sampled_from(PRESET_NAMES))
    def preset(self, name):
        self.actions.append(f"preset {name}")
        self.viewer.apply_preset(name)

    @rule()
    def save_and_reopen_document(self):
        path = self._path(".lstmviz")
        self.actions.append("save and reopen a document")
        self.viewer.save(path)
        self.viewer.open(path)

    @rule()
    def undo(self):
        self.actions.append("undo")
        self.viewer.undo()

    @rule()
    def redo(self):
        self.actions.append("redo")
        self.viewer.redo()

    @rule(where=st.floats(0, 1))
    def step(self, where):
        t = int(where * (self.viewer.document.T - 1))
        self.actions.append(f"step {t}")
        self.viewer.set_step(t)

    @rule(component=st.sampled_from(COMPONENTS))
    def select(self, component):
        self.actions.append(f"select {component}")
        self.viewer.document.set_selection(component)

    @rule(where=st.floats(0, 1))
    def unit(self, where):
        k = int(where * (self.viewer.document.n - 1))
        self.actions.append(f"unit {k}")
        self.viewer.document.set_unit(k)

    @rule(gate=st.sampled_from("ifgo"), kind=st.sampled_from("WUb"), value=st.floats(-3, 3),
          where=st.floats(0, 1))
    def edit_weight(self, gate, kind, value, where):
        from lstmviz.edits import SetWeight, weight_key

        doc = self.viewer.document
        key = weight_key(kind, gate)
        shape = getattr(doc.params, key).shape
        index = tuple(int(where * (s - 1)) for s in shape)
        self.actions.append(f"set {key}{list(index)} = {value:g}")
        self.viewer.submit(SetWeight(doc, key, index, value))

    @rule(gate=st.sampled_from("ifgo"), value=st.sampled_from([0.0, 1.0]), every_unit=st.booleans())
    def what_if_clamp(self, gate, value, every_unit):
        from lstmviz.core.analysis.whatif import ClampGate
        from lstmviz.gui.analysis.interventions import add_intervention

        doc = self.viewer.document
        units = None if every_unit else (doc.unit,)
        self.actions.append(f"what-if {gate} = {value:g} units={units}")
        self.viewer.submit(add_intervention(doc, ClampGate(gate, value, units=units)))

    @precondition(lambda self: bool(self.viewer.document.interventions))
    @rule()
    def what_if_off(self):
        from lstmviz.gui.analysis.interventions import clear_interventions

        self.actions.append("what-if off")
        self.viewer.submit(clear_interventions(self.viewer.document))

    @rule(key=st.sampled_from(ANALYSIS_KEYS), open_it=st.booleans())
    def analysis_view(self, key, open_it):
        self.actions.append(f"{'open' if open_it else 'close'} analysis view {key}")
        analysis = self.viewer.window.analysis
        if open_it:
            analysis.show(key)
        elif key in analysis.docks:
            analysis.docks[key].close()
        self.viewer.settle()

    # -- what must always hold -----------------------------------------------------------------
    @invariant()
    def nothing_raised(self):
        self._close_messages()
        if self.raised:
            raise AssertionError("a view raised after: " + " → ".join(self.actions[-6:]) + "\n\n"
                                 + self.raised[0])

    @invariant()
    def every_view_shows_the_documents_model(self):
        v = self.viewer
        doc, window = v.document, v.window
        n, m, T = doc.n, doc.m, doc.T
        after = " → ".join(self.actions[-6:])
        # the Document itself
        # (a deeper layer of a stack reads the sequence's input_size columns; its own x has m)
        assert doc.trace.n == n and doc.trace.T == doc.xs.shape[0], after
        assert doc.xs.shape[1] == doc.params.input_size and doc.trace.x.shape[1] == m, after
        assert 0 <= doc.step < T and 0 <= doc.unit < n, after
        # the diagram: its columns have n cells (x has m) and its title the sizes and step
        diagram = window.diagram
        assert diagram.column("c").count == n and diagram.column("h").count == n, after
        assert diagram.column("x").count == m, after
        title = diagram._title._text
        assert f"t = {doc.step} " in title and f"n = {n}, m = {m}" in title, (after, title)
        # the inspector: its unit box and the page it shows
        box = window.inspector.unit_box
        assert (box.value(), box.maximum()) == (doc.unit, n - 1), after
        page = window.inspector.plain_text()
        assert f"Step t = {doc.step} of 0…{T - 1}; unit k = {doc.unit} of {n}." in page, (after, page[:300])
        # the trace panels: n units listed, every plot T steps long, the inspector's unit drawn
        traces = window.traces
        assert traces.units.list.count() == n, after
        for name in traces.shown:
            plot = traces.plot(name)
            if plot.mode == "lines":
                rows = plot.lines.rows
                assert rows.shape[1] == T, (after, name, rows.shape)
                if plot.quantity.per_unit:
                    assert doc.unit in plot.lines.labels, (after, name)
                else:
                    assert len(plot.lines.labels) == min(m, 16), (after, name)
        assert traces.time_range()[1] <= T - 0.5 + 1e-6, after
        # the stepping bar and the title
        assert window.playback_bar.slider.maximum() == T - 1, after
        assert window.playback_bar.slider.value() == doc.step, after
        assert window.windowTitle().startswith(window.window_name()), after

    def _close_messages(self) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QMessageBox) and widget.isVisible():
                widget.done(0)

    def teardown(self):
        sys.excepthook, threading.excepthook = self._hooks
        self._close_messages()
        self.viewer.close()
        from PySide6.QtCore import QCoreApplication, QEvent
        from PySide6.QtWidgets import QApplication

        for _ in range(3):
            QApplication.processEvents()
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def run_machine(workdir) -> None:
    """Run the machine with SETTINGS in this process (a QApplication is made if needed)."""
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication([])
    WindowUser.workdir = Path(workdir)
    run_state_machine_as_test(WindowUser, settings=SETTINGS)


def test_the_window_holds_together(tmp_path):
    """In a child process: a hundred-odd windows and the Qt caches they fill would stay in the
    test process (and in the peak RSS that the memory-bomb tests' children inherit)."""
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        LSTMVIZ_STATE_DIR=str(tmp_path / "state"),
        LSTMVIZ_CONFIG_DIR=str(tmp_path / "config"),
        LSTMVIZ_AUTOSAVE_SECONDS="3600",
        PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    )
    work = tmp_path / "files"
    work.mkdir()
    done = subprocess.run([sys.executable, __file__, str(work)], env=env, capture_output=True, text=True,
                          timeout=900)
    noise = "propagateSizeHints"
    output = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if noise not in line)
    assert done.returncode == 0, output[-12000:]


if __name__ == "__main__":
    run_machine(sys.argv[1])
