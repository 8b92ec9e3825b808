"""The Train view (Alt+8): train a small LSTM live and watch its gates learn to remember.

Pick a task and its difficulty, n, the learning rate, the batch size and the forget-gate bias
at initialisation (1, as Jozefowicz et al. 2015 recommend, or 0), then Run, Pause, Step one
iteration or Reset. Training runs in short chunks (lstmviz.core.train.Trainer.run_chunk) from
a QTimer between frames, so the window keeps painting and answering while it trains.

Every few iterations the model under training is pushed into the Document on the task's fixed
probe sequence, so the diagram, the inspector, the trace panels and the memory view all show
the gates changing. Beside them: the loss curve, the forget-gate histogram on the probe, and
how far back the gradient reaches (|d sum h_T / d c_t|, relative to t = T). With "side by side"
a second run with the other forget bias trains alongside, its curves dashed. The scrubber
replays the checkpoints (iteration 0 ... now) in the Document. Save model writes the cell with
its readout (.npz; opens like any other model).

Opening the view leaves the window's model alone: it is replaced when the user presses Run,
Step or Reset, as one undo step (Edit > Undo brings the model back), after asking unless it is
a preset as it was opened. When the window has moved on to another model meanwhile (a file
opened, an undo), training pauses instead of overwriting it, and the scrubber replays into
the Train view's own plots only.

The numbers come from lstmviz.core.train (the trainer) and lstmviz.core.train.probe (histogram,
gradient reach); this module only schedules, lays out and draws.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtWidgets

from lstmviz.core.train.probe import summarize
from lstmviz.core.train.tasks import DEFAULT_DIFFICULTY, KNOBS, MAX_DIFFICULTY, MIN_DIFFICULTY, make_task
from lstmviz.core.train.trainer import TrainConfig, Trainer, model_arrays
from lstmviz.document.state import CellState, Sources
from lstmviz.edits import StateEdit
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis.common import DASH, AnalysisView, layout_widget, new_plot, pen, set_title

TASK_CHOICES = ("first-value", "adding", "brackets", "sine", "text")
CHUNK_SECONDS = 0.04  # training time per timer tick: the event loop runs between ticks
CURVE_SECONDS = 0.25  # how often the loss curve and the status line redraw while training
# How often the model under training goes into the Document (diagram, inspector, panels all
# redraw: ~0.1-0.2 s of work here), so most of the time goes to training.
PUSH_SECONDS = 1.0
RUN_COLORS = ((200, 60, 40), (40, 90, 200))
ASIDE_NOTE = "the window keeps its model until Run, Step or Reset shows this one there (undoable)"


class ShowTraining(StateEdit):
    """One undo step: the window's model replaced by the model under training on the probe
    (what-if interventions cleared: they were for the other model; undo brings them back).
    Training on amends it (`latest`): redo shows the model as it was last shown."""

    def __init__(self, doc, after: CellState):
        super().__init__(doc.cell, after, "Train: show the model under training")
        self._old_interventions = tuple(doc.interventions)
        self.latest = after

    def after(self, doc) -> CellState:
        return self.latest

    def interventions(self, doc, forward: bool) -> tuple:
        return () if forward else self._old_interventions


class TrainView(AnalysisView):
    title = "Train"

    def __init__(self, document, parent=None, undo=None):
        super().__init__(document, parent)
        self.undo = undo  # the window's UndoController (None: a view on its own, no undo)
        # the question before the window's model is replaced: {"replace": True / False, or a
        # callable taking the question}; where nobody can answer (offscreen) it is "keep"
        self.answers: dict = {}
        self.asked: list[str] = []
        self._shown = None  # the Document's CellState as this view last left it
        self._edit: ShowTraining | None = None  # the undo step that showed the training
        self.runs: list[Trainer] = []
        self.text: str | None = None
        self.text_path: str | None = None
        self._last_push = 0.0
        self._last_curve = 0.0
        self._pushed_iteration = -1
        self._scrubbing = False
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(1)
        self.timer.timeout.connect(self._tick)
        self._build()
        self._new_runs()  # (drawn here only: the window's model stays until the user acts)

    # -- layout ---------------------------------------------------------------------------------
    def _build(self) -> None:
        form = QtWidgets.QHBoxLayout()
        self.task_box = QtWidgets.QComboBox()
        self.task_box.addItems(TASK_CHOICES)
        self.task_box.setToolTip("The task: each one needs memory; its knob makes it harder")
        self.task_box.currentTextChanged.connect(self._task_chosen)
        self.difficulty_box = QtWidgets.QSpinBox()
        self.n_box = QtWidgets.QSpinBox()
        self.n_box.setRange(1, 256)
        self.n_box.setValue(16)
        self.n_box.setToolTip("hidden units n")
        self.lr_box = QtWidgets.QDoubleSpinBox()
        self.lr_box.setDecimals(4)
        self.lr_box.setRange(0.0001, 1.0)
        self.lr_box.setSingleStep(0.005)
        self.lr_box.setValue(0.01)
        self.lr_box.setToolTip("Adam's learning rate")
        self.batch_box = QtWidgets.QSpinBox()
        self.batch_box.setRange(1, 512)
        self.batch_box.setValue(32)
        self.batch_box.setToolTip("sequences per iteration")
        self.bias_box = QtWidgets.QComboBox()
        self.bias_box.addItems(["1", "0"])
        self.bias_box.setToolTip("the forget-gate bias every unit starts with: 1 starts with f near 0.73 "
                                 "(the cell state is kept), 0 with f near 0.5 (it halves each step)")
        self.compare_box = QtWidgets.QCheckBox("side by side")
        self.compare_box.setToolTip("train a second run with the other forget bias alongside (dashed)")
        for label, widget in (("task", self.task_box), ("", self.difficulty_box), ("n", self.n_box),
                              ("lr", self.lr_box), ("batch", self.batch_box), ("forget bias", self.bias_box)):
            if label:
                form.addWidget(QtWidgets.QLabel(label))
            form.addWidget(widget)
        form.addWidget(self.compare_box)
        form.addStretch(1)
        self.difficulty_label = QtWidgets.QLabel()
        form.insertWidget(2, self.difficulty_label)

        buttons = QtWidgets.QHBoxLayout()
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setCheckable(True)
        self.run_button.toggled.connect(self._run_toggled)
        self.step_button = QtWidgets.QPushButton("Step")
        self.step_button.setToolTip("one iteration")
        self.step_button.clicked.connect(self.step_once)
        self.reset_button = QtWidgets.QPushButton("Reset")
        self.reset_button.setToolTip("a new run from the settings above (iteration 0)")
        self.reset_button.clicked.connect(self.reset)
        self.save_button = QtWidgets.QPushButton("Save model…")
        self.save_button.setToolTip("the trained cell with its readout, as .npz")
        self.save_button.clicked.connect(self._save_dialog)
        self.animate_button = QtWidgets.QPushButton("Export animation…")
        self.animate_button.setToolTip("the lead run iteration by iteration (its checkpoints) as a GIF, "
                                       "an MP4 or PNGs, for slides")
        self.animate_button.clicked.connect(self._animation_dialog)
        for button in (self.run_button, self.step_button, self.reset_button, self.save_button,
                       self.animate_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QtWidgets.QLabel()
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        # a long status line must never widen the dock (and with it the window)
        policy = QtWidgets.QSizePolicy.Policy
        self.status.setSizePolicy(policy.Ignored, policy.Preferred)

        scrub = QtWidgets.QHBoxLayout()
        scrub.addWidget(QtWidgets.QLabel("checkpoint"))
        self.scrubber = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.scrubber.setToolTip("replay the model as it was at an earlier iteration (pauses training)")
        self.scrubber.valueChanged.connect(self._scrubbed)
        scrub.addWidget(self.scrubber, 1)
        self.scrub_label = QtWidgets.QLabel("iteration 0")
        scrub.addWidget(self.scrub_label)

        self.plots = layout_widget()
        self.loss_plot = new_plot("Loss", left="loss", bottom="iteration")
        self.loss_plot.setLogMode(y=True)
        self.hist_plot = new_plot("Forget gate f on the probe", left="share", bottom="f")
        self.hist_plot.setXRange(0, 1)
        self.reach_plot = new_plot("Gradient reach", left="|dh_T/dc_t| rel.", bottom="t")
        self.reach_plot.setLogMode(y=True)
        for col, plot in enumerate((self.loss_plot, self.hist_plot, self.reach_plot)):
            self.plots.addItem(plot, row=0, col=col)
        self.loss_curves = [self.loss_plot.plot(pen=pen(RUN_COLORS[k], 1.5, DASH if k else None))
                            for k in range(2)]
        self.reach_curves = [self.reach_plot.plot(pen=pen(RUN_COLORS[k], 1.5, DASH if k else None))
                             for k in range(2)]
        self.hist_bars: list[pg.BarGraphItem] = []

        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.plots, 1)
        layout.addLayout(scrub)
        self._task_chosen(self.task_box.currentText())

    def _task_chosen(self, name: str) -> None:
        self.difficulty_box.setRange(MIN_DIFFICULTY[name], MAX_DIFFICULTY)
        self.difficulty_box.setValue(DEFAULT_DIFFICULTY[name])
        self.difficulty_label.setText(KNOBS[name].split(" (")[0])
        self.difficulty_box.setToolTip(KNOBS[name])
        if name == "text" and self.text is None and self.isVisible():
            self._choose_text()

    def _choose_text(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Text to train on", "", "Text (*.txt);;All (*)")
        if path:
            try:
                with open(path, encoding="utf-8") as handle:
                    self.text = handle.read(16 << 20)
                self.text_path = path
            except (OSError, UnicodeDecodeError) as error:
                self._problem(f"{path}: {error}")

    # -- configuration --------------------------------------------------------------------------
    def config(self, forget_bias: float | None = None) -> TrainConfig:
        if forget_bias is None:
            forget_bias = float(self.bias_box.currentText())
        return TrainConfig(task=self.task_box.currentText(), difficulty=self.difficulty_box.value(),
                           n=self.n_box.value(), lr=self.lr_box.value(), batch=self.batch_box.value(),
                           forget_bias=forget_bias, iterations=10**9, seed=0)

    def reset(self) -> None:
        """New runs from the settings (iteration 0), shown in the Document."""
        self.pause()
        if self._new_runs():
            self._refresh(force=True, take=True)

    def _new_runs(self) -> bool:
        try:
            first = self.config()
            task = make_task(first.task, first.difficulty, text=self.text, source=self.text_path)
            configs = [first]
            if self.compare_box.isChecked():
                configs.append(self.config(forget_bias=1.0 - first.forget_bias))  # the other of 0 and 1
            self.runs = [Trainer(c, task=task) for c in configs]
        except LstmvizError as error:
            self._problem(str(error))
            return
        self.probe = task.probe()
        self._pushed_iteration = -1
        self._refresh(force=True, push=False)
        return True

    # -- running --------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.timer.isActive()

    def run(self) -> None:
        self.run_button.setChecked(True)

    def pause(self) -> None:
        self.run_button.setChecked(False)

    def _run_toggled(self, on: bool) -> None:
        if on and not self.runs:
            self.pause()
            return
        if on and not self.showing:
            if not self._push(self.runs[0].params(), ask=True):
                self.pause()
                return
        self.run_button.setText("Pause" if on else "Run")
        if on:
            self._follow_latest()
            self.timer.start()
        else:
            self.timer.stop()
            if self.runs:
                self._refresh(force=True)

    def step_once(self) -> None:
        """One iteration of every run (paused), then show it."""
        self.pause()
        if not self.showing and not self._push(self.runs[0].params(), ask=True):
            return  # (the user kept the window's model: nothing trained)
        for trainer in self.runs:
            self._guarded(trainer.step)
        self._follow_latest()
        self._refresh(force=True)

    def _tick(self) -> None:
        budget = CHUNK_SECONDS / max(len(self.runs), 1)
        for trainer in self.runs:
            if not self._guarded(lambda t=trainer: t.run_chunk(max_seconds=budget)):
                self.pause()
                return
        self._refresh(force=False)

    def _guarded(self, call) -> bool:
        try:
            call()
            return True
        except LstmvizError as error:
            self._problem(str(error))
            return False

    # -- showing --------------------------------------------------------------------------------
    def _refresh(self, force: bool, push: bool = True, take: bool = False) -> None:
        now = time.perf_counter()
        if not force and now - self._last_curve < CURVE_SECONDS:
            return
        self._last_curve = now
        lead = self.runs[0]
        self._draw_loss()
        self._update_scrubber()
        if force or (now - self._last_push >= PUSH_SECONDS and lead.iteration != self._pushed_iteration):
            self._last_push = now
            self._show_model(lead.params(), [t.params() for t in self.runs], push=push, take=take)
            self._pushed_iteration = lead.iteration
        self._status()

    # -- the window's Document ------------------------------------------------------------------
    @property
    def showing(self) -> bool:
        """True while the Document holds the model (and probe) this view last put there."""
        return self._shown is not None and self.document.cell is self._shown

    def _training_title(self) -> str:
        task = self.runs[0].task
        return f"Training {task.name} ({task.knob.split(' (')[0]} = {task.difficulty})"

    def would_lose(self) -> bool:
        """Whether replacing the window's model loses something of the user's: anything but a
        preset as it was opened (a model or document file, or edits)."""
        doc = self.document
        return not self.showing and (doc.dirty or doc.preset_name is None)

    def _push(self, params, ask: bool) -> bool:
        """Put `params` on the probe into the Document. Over the model this view put there:
        at once. Over another one: only when `ask` (a user's action) and, when the user would
        lose something, the user agrees; then as one undo step. False: the Document is as it was."""
        doc = self.document
        try:
            cell = CellState(params, self.probe, sources=Sources(title=self._training_title())).check()
            if self.showing:
                if self.undo is not None:
                    self.undo.amend(lambda: doc.set_cell(cell))
                else:
                    doc.set_cell(cell)
            else:
                if not ask or (self.would_lose() and not self.confirm_replace()):
                    return False
                if self.undo is not None:
                    edit = ShowTraining(doc, cell)
                    if not self.undo.submit(edit, supersede=True):
                        return False
                    self._edit = edit
                else:
                    doc.replace(cell, interventions=())
        except LstmvizError as error:
            self._problem(str(error))
            return False
        if doc.params is not params:  # (the undo stack computes a large one in the background)
            return False
        self._shown = doc.cell
        if self._edit is not None:
            self._edit.latest = doc.cell
        return True

    def confirm_replace(self) -> bool:
        """Ask before the window's model is replaced (scripted by `answers["replace"]`)."""
        doc = self.document
        what = doc.title or (doc.model_path and Path(doc.model_path).name) or "the current model"
        question = (f"Show the model under training in the window? It replaces {what} there; "
                    "Edit › Undo brings it back.")
        self.asked.append(question)
        if "replace" in self.answers:
            answer = self.answers["replace"]
            return bool(answer(question) if callable(answer) else answer)
        from lstmviz.gui.editors.session import interactive

        if not interactive():
            return False
        box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Question, "Train", question,
                                    QtWidgets.QMessageBox.StandardButton.NoButton, self)
        box.setObjectName("lstmviz-train-replace")
        box.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        role = QtWidgets.QMessageBox.ButtonRole
        replace = box.addButton("Show the training model", role.AcceptRole)
        keep = box.addButton(f"Keep {what}", role.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is replace

    def _show_model(self, params, all_params, push: bool = True, take: bool = False) -> None:
        """Push the lead run's model into the Document on the probe (over another model only
        when `take`: a user's action); draw the probe plots."""
        if push and not self._push(params, ask=take) and self.running:
            self.pause()  # the window moved on to another model: it is not overwritten
            self.report("Paused: the window shows another model now; Run shows the training again")
        for bar in self.hist_bars:
            self.hist_plot.removeItem(bar)
        self.hist_bars = []
        self.summaries = [summarize(p, self.probe) for p in all_params]
        width = 1.0 / len(self.summaries[0].f_counts) / len(self.summaries)
        for k, summary in enumerate(self.summaries):
            centers = summary.f_edges[:-1] + width * (k + 0.5)
            bars = pg.BarGraphItem(x=centers, height=summary.f_counts, width=width * 0.9,
                                   brush=pg.mkBrush(*RUN_COLORS[k], 170), pen=pg.mkPen(None))
            self.hist_plot.addItem(bars)
            self.hist_bars.append(bars)
            reach = np.maximum(summary.reach, 1e-12)
            self.reach_curves[k].setData(np.arange(reach.size), reach)
        for k in range(len(self.summaries), 2):
            self.reach_curves[k].setData([], [])
        means = ", ".join(f"<span style='color:rgb{RUN_COLORS[k]}'>{s.f_mean:.2f}</span>"
                          for k, s in enumerate(self.summaries))
        set_title(self.hist_plot, f"Forget gate f on the probe: mean {means}")

    def _draw_loss(self) -> None:
        for k in range(2):
            if k < len(self.runs) and self.runs[k].losses:
                losses = np.maximum(np.asarray(self.runs[k].losses), 1e-12)
                self.loss_curves[k].setData(np.arange(1, losses.size + 1), losses)
            else:
                self.loss_curves[k].setData([], [])

    def _status(self) -> None:
        parts = []
        for k, trainer in enumerate(self.runs):
            loss = f"{np.mean(trainer.losses[-10:]):.4g}" if trainer.losses else "–"
            acc = f"{np.mean(trainer.accuracies[-10:]):.2f}" if trainer.accuracies else "–"
            speed = f"{trainer.iteration / trainer.seconds:.0f} it/s" if trainer.seconds > 0 else ""
            reach = self.summaries[k].reach_steps if k < len(getattr(self, "summaries", [])) else 0
            parts.append(f"<span style='color:rgb{RUN_COLORS[k]}'>■</span> bias "
                         f"{trainer.config.forget_bias:g}: it {trainer.iteration}, loss {loss}, "
                         f"acc {acc}, gradient reach {reach} steps, {speed}")
        if not self.showing:
            parts.append(f"<i>{ASIDE_NOTE}</i>")
        self.status.setText(" &nbsp; ".join(parts))

    # -- checkpoints ----------------------------------------------------------------------------
    def _update_scrubber(self) -> None:
        lead = self.runs[0]
        at_end = self.scrubber.value() >= self.scrubber.maximum()
        self._scrubbing = True
        try:
            self.scrubber.setMaximum(max(len(lead.checkpoints) - 1, 0))
            if at_end or self.running:
                self.scrubber.setValue(self.scrubber.maximum())
        finally:
            self._scrubbing = False
        index = self.scrubber.value()
        if index < len(lead.checkpoints):
            self.scrub_label.setText(f"iteration {lead.checkpoints[index].iteration}")

    def _follow_latest(self) -> None:
        self._scrubbing = True
        self.scrubber.setValue(self.scrubber.maximum())
        self._scrubbing = False

    def _scrubbed(self, index: int) -> None:
        if self._scrubbing or not self.runs:
            return
        self.pause()
        self.show_checkpoint(index)

    def show_checkpoint(self, index: int) -> None:
        """Show checkpoint `index` of every run (the lead run's in the Document)."""
        lead = self.runs[0]
        index = int(min(max(index, 0), len(lead.checkpoints) - 1))
        iteration = lead.checkpoints[index].iteration
        chosen = [self._nearest(t, iteration).params() for t in self.runs]
        self.scrub_label.setText(f"iteration {iteration}")
        # (into the window only while it shows the training: a drag must not ask at every move)
        self._show_model(chosen[0], chosen)
        self._pushed_iteration = -1  # training on shows the newest again

    @staticmethod
    def _nearest(trainer: Trainer, iteration: int):
        return min(trainer.checkpoints, key=lambda cp: abs(cp.iteration - iteration))

    # -- saving ---------------------------------------------------------------------------------
    def _save_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save the trained model", "trained.npz",
                                                        "lstmviz model (*.npz)")
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> bool:
        """Write the lead run's cell and readout (.npz); a dialog on failure."""
        from lstmviz.io.atomic import atomic_write

        if not path.lower().endswith(".npz"):
            path += ".npz"
        lead = self.runs[0]
        try:
            with atomic_write(path, "wb") as handle:
                np.savez(handle, **model_arrays(lead.params(), lead.V, lead.d))
        except LstmvizError as error:
            self._problem(str(error))
            return False
        self.report(f"saved {path} (iteration {lead.iteration})")
        return True

    def _animation_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(
            self, "Export the training as an animation", "training.gif",
            "GIF (*.gif);;MP4 (*.mp4);;A folder of PNGs (*)")
        if path:
            self.export_animation(path)

    def export_animation(self, path: str, size=(1280, 720), fps: float = 4.0, view: str = "window") -> int:
        """One frame per checkpoint of the lead run (iteration 0 ... now) on the probe, rendered
        by a window of its own; returns the frames written (0 when cancelled or refused)."""
        from lstmviz.gui.animation import training_frames
        from lstmviz.gui.animation_action import copy_document, save_with_progress

        self.pause()
        checkpoints = list(self.runs[0].checkpoints)
        models = [cp.params() for cp in checkpoints]
        try:
            written = save_with_progress(self, training_frames(copy_document(self.document), models,
                                                               size=size, view=view),
                                         len(models), path, fps)
        except LstmvizError as error:
            self._problem(str(error))
            return 0
        if written:
            self.report(f"wrote {path} ({written} frames: iterations {checkpoints[0].iteration}.."
                        f"{checkpoints[-1].iteration})")
        return written

    def _problem(self, message: str) -> None:
        from lstmviz.gui.editors.messages import show_error

        self.report(message)
        if self.isVisible():
            show_error(self, message)
