"""Undo and redo for every edit, on a QUndoStack.

An edit (lstmviz/edits.py) is first turned into the state it leads to and that state's
trace — checked and computed before anything changes, synchronously when it is quick. On a
long sequence the window's Document reruns in steps (lstmviz.document.rerun): the edit is
pushed at once and its trace streams in between frames (lstmviz.gui.rerun); where that
cannot be (what-if on, another layout) the trace, and with what-if on its replay, are
computed in a background Job (progress and Cancel in the status line after half a second)
first; a further edit meanwhile is refused with a notice. Only then is it pushed; the QUndoCommand just hands
the ready state and trace to the Document, so a push can never half-fail. Undo and redo go
the same way (the Edit menu's actions call UndoController.undo()/redo(), not the stack).

The stack's clean state is the saved document: returning to it marks the Document saved.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QWidget

from lstmviz.document import CellState, fitting_interventions
from lstmviz.edits import Edit, compute_landing
from lstmviz.errors import LstmvizError
from lstmviz.gui.binding import bind
from lstmviz.gui.workers import Job, describe_error

# Work (CellState.cost) below this runs on the GUI thread: about 0.05 s here.
SYNC_COST_LIMIT = 20_000 * 4 * 8 * 9
UNDO_LIMIT = 100  # whole-state edits (a generated input) keep their arrays


class EditCommand(QUndoCommand):
    def __init__(self, edit: Edit, document, controller: UndoController):
        super().__init__(edit.text)
        self.edit, self.document, self._controller = edit, document, controller
        self._ready: tuple[CellState, object] | None = None

    def prepare(self, state: CellState, trace) -> None:
        self._ready = (state, trace)

    def _apply(self, forward: bool) -> None:
        ready, self._ready = self._ready, None
        self._controller._applying = True
        try:
            if ready is not None:
                self.edit.land(self.document, ready[0], ready[1], forward)
            elif forward:
                self.edit.do(self.document)
            else:
                self.edit.undo(self.document)
        except LstmvizError as error:  # only when the stack is driven directly (QUndoView)
            self._controller.report(str(error))
        finally:
            self._controller._applying = False

    def redo(self) -> None:
        self._apply(True)

    def undo(self) -> None:
        self._apply(False)


class UndoController(QObject):
    """The window's undo stack plus the rule: compute first, then change the Document."""

    edit_applied = Signal(str)  # the edit's text, after it landed in the Document
    edit_failed = Signal(str)  # a one-line message

    def __init__(self, document, parent: QObject | None = None, report: Callable[[str], None] | None = None,
                 widget: QWidget | None = None):
        super().__init__(parent)
        self.document = document
        self.stack = QUndoStack(self)
        self.stack.setUndoLimit(UNDO_LIMIT)
        self.stack.cleanChanged.connect(self._clean_changed)
        self.job = Job(self, "trace")
        self.sync_cost_limit = SYNC_COST_LIMIT
        self._report = report
        # a passing notice (the status line) rather than a message box, when the window has one
        self.notify: Callable[[str], None] | None = None
        self.widget = widget
        self.undo_action = self._make_action("&Undo", QKeySequence.StandardKey.Undo, self.undo)
        self.redo_action = self._make_action("&Redo", QKeySequence.StandardKey.Redo, self.redo)
        self.undo_action.setStatusTip("Undo the last change to the weights, the input or the model")
        self.redo_action.setStatusTip("Redo the change just undone")
        self.stack.canUndoChanged.connect(self._update_actions)
        self.stack.canRedoChanged.connect(self._update_actions)
        self.stack.indexChanged.connect(self._update_actions)
        self.job.busy_changed.connect(self._update_actions)
        self._held: Callable[[], None] | None = None  # Document.hold_trace's release, while the Job reads
        self.job.busy_changed.connect(self._release_hold)
        self._applying = False
        self._forgetting = False
        self._streaming: tuple[QUndoCommand, bool] | None = None  # (command, forward) rerunning
        self._cancelling = False  # cancel_rerun is undoing (redoing) the streaming command
        self._restoring = False  # see `restoring`
        # streaming commands whose rerun a later edit restarted before it ended (oldest first):
        # a Cancel of the later one leaves the earlier one's rerun going, cancellable in turn
        self._unfinished: list[tuple[QUndoCommand, bool]] = []
        bind(self, document.trace_progress, self._rerun_progress)
        bind(self, document.params_changed, self._external_change)
        bind(self, document.input_changed, self._external_change)
        self._update_actions()

    # -- reporting ---------------------------------------------------------------------------
    def report(self, message: str) -> None:
        self.edit_failed.emit(message)
        if self._report is not None:
            self._report(message)

    # -- the three entry points --------------------------------------------------------------
    def submit(self, edit: Edit | Callable[[], Edit], trace=None, supersede: bool = False,
               saved: bool = False) -> bool:
        """Check the edit, compute its trace (unless `trace` is it, computed elsewhere), then
        push it. False (and a message) when the edit is refused; the Document is unchanged
        then. While a change is still computed in the background the edit is refused, unless
        `supersede` (a file opened, a preset: they replace the state it was computed for),
        which drops that change with a notice. `saved`: the state it lands is as good as saved
        (a model opened into an unchanged document: nothing in it would be lost)."""
        if self.job.busy and supersede:
            self.job.cancel(silent=True)
            (self.notify or self.report)("The change still being computed was dropped")
        elif self.job.busy:  # its edit is not on the stack yet: this one would be made without it
            message = "Still computing the last change: wait for it, or Cancel it in the status line"
            self.job.show_progress_now()  # the Cancel the notice speaks of
            (self.notify or self.report)(message)
            return False
        try:
            if not isinstance(edit, Edit):
                edit = edit()
            state = edit.after(self.document)
            interventions = edit.interventions(self.document, True)
        except LstmvizError as error:
            self.report(str(error))
            return False
        command = EditCommand(edit, self.document, self)

        def land(trace) -> None:
            command.prepare(state, trace)
            self.stack.push(command)
            if saved:
                self.set_saved()
            self._note_streaming(command, True)
            self.edit_applied.emit(edit.text)

        if trace is not None:
            try:
                land(trace)
            except LstmvizError as error:
                self.report(str(error))
                return False
            return True
        return self._with_trace(state, interventions, land, f"{edit.text}: running the cell")

    def undo(self) -> bool:
        return self._step(back=True)

    def redo(self) -> bool:
        return self._step(back=False)

    def _step(self, back: bool) -> bool:
        """Undo (back) or redo the neighbouring command once its trace is computed."""
        index = self.stack.index()
        if (index <= 0 if back else index >= self.stack.count()) or self.job.busy:
            return False
        command = self.stack.command(index - 1 if back else index)
        try:
            state = command.edit.before(self.document) if back else command.edit.after(self.document)
            interventions = command.edit.interventions(self.document, not back)
        except LstmvizError as error:
            self.report(str(error))
            return False

        def land(trace) -> None:
            if self.stack.index() == index:
                command.prepare(state, trace)
                self.stack.undo() if back else self.stack.redo()
                self._note_streaming(command, not back)
                if self.notify is not None and not self._cancelling:  # (not a Cancel: it says so)
                    # replaces what the status line said of the state left behind
                    self.notify(f"{'Undid' if back else 'Redid'}: {command.text()}")

        verb = "Undo" if back else "Redo"
        return self._with_trace(state, interventions, land, f"{verb} {command.text()}: running the cell")

    def _note_streaming(self, command, forward: bool) -> None:
        if not self.document.rerunning:
            self._rerun_progress()
            return
        if not self._cancelling and self._streaming is not None:
            self._unfinished.append(self._streaming)
        self._streaming = (command, forward)
        self._restoring = self._cancelling

    def _rerun_progress(self, *_args) -> None:
        if not self.document.rerunning:  # a rerun ended: nothing of it is left to cancel
            self._streaming, self._unfinished, self._restoring = None, [], False

    def _continues(self) -> bool:
        """After a Cancel: is the rerun still going the earlier unfinished command's own?
        Then it is that command's to cancel, not a restore."""
        if not self._unfinished or not self.document.rerunning:
            return False
        command, forward = self._unfinished[-1]
        index = self.stack.index()
        if forward and index > 0 and self.stack.command(index - 1) is command:
            return True
        return not forward and index < self.stack.count() and self.stack.command(index) is command

    @property
    def restoring(self) -> bool:
        """The rerun in progress puts back the run from before a cancelled edit (the edit's
        rerun had rewritten it in place): there is nothing left to cancel."""
        return self._restoring and self.document.rerunning

    def cancel_rerun(self) -> None:
        """Cancel of a rerun in steps: undo the edit that started it (redo an undo); a rerun
        that the stack did not start goes back to the last whole run. The rerun that then
        restores the run before is not cancellable (`restoring`): a second Cancel would only
        flip the edit back."""
        doc = self.document
        if not doc.rerunning or self.restoring:
            return
        if self.job.busy:  # a change computed on top of the edit being cancelled goes with it
            self.job.cancel(silent=True)
            (self.notify or self.report)("Cancelled the rerun and the change computed after it")
        streaming, self._streaming = self._streaming, None
        if streaming is not None:
            command, forward = streaming
            index = self.stack.index()
            back = forward and index > 0 and self.stack.command(index - 1) is command
            ahead = not forward and index < self.stack.count() and self.stack.command(index) is command
            if back or ahead:
                self._cancelling = True
                try:
                    undone = self.undo() if back else self.redo()
                finally:
                    self._cancelling = False
                if not undone:  # refused (with its message): the rerun goes on, still cancellable
                    self._streaming = streaming
                elif self._continues():
                    self._streaming, self._restoring = self._unfinished.pop(), False
                return
        doc.cancel_rerun()
        self._restoring = doc.rerunning

    def _with_trace(self, state: CellState, interventions: tuple, land: Callable, label: str) -> bool:
        """land(what Document.replace needs for `state`): None when the Document streams the
        rerun itself, else the run (and with what-if on, its replay: a ComputedRun), computed
        here when quick, else in the background Job (progress and Cancel in the status line)."""
        doc = self.document
        interventions = fitting_interventions(interventions, state.n, state.T)
        if not interventions and doc.streams(state):
            land(None)  # lands now; the Document reruns in steps (lstmviz.gui.rerun)
            return True
        # The Document's own run serves when the state computes the same cell (a what-if edit).
        same = not doc.rerunning and doc.cell.same_run(state)
        baseline = doc.baseline_trace if same else None
        cost = (0 if same else state.cost()) + (2 * state.cost() if interventions else 0)
        if cost <= self.sync_cost_limit:
            try:
                computed = compute_landing(state, interventions, baseline=baseline)
            except LstmvizError as error:
                self.report(str(error))
                return False
            except MemoryError as error:
                self.report(describe_error(error))
                return False
            land(computed)
            return True
        if baseline is not None:  # read in the worker: nothing may rewrite it in place meanwhile
            self._release_hold()
            self._held = doc.hold_trace()
        steps = f"{state.T:,}".replace(",", " ")
        self.job.start(
            lambda progress: compute_landing(state, interventions, progress, baseline), land,
            lambda error: self.report(describe_error(error)),
            label=f"{label} over {steps} steps…", parent=self.widget,
        )
        return True

    def _release_hold(self, busy: bool = False) -> None:
        if not busy and self._held is not None:
            held, self._held = self._held, None
            held()

    def amend(self, change: Callable[[], None]) -> None:
        """Run `change` to the Document as the continuation of the edit on top of the stack
        (the Train view's model, trained on after the step that showed it): the history is
        kept, where any other change made outside the stack drops it."""
        self._applying = True
        try:
            change()
        finally:
            self._applying = False

    # -- clean state = saved ------------------------------------------------------------------
    def set_saved(self) -> None:
        self.stack.setClean()
        self.document.mark_saved()

    def clear(self) -> None:
        self.job.cancel(silent=True)
        self.stack.clear()
        self.stack.setClean()

    def _clean_changed(self, clean: bool) -> None:
        if clean and not self._forgetting:
            self.document.mark_saved()

    def _external_change(self, *_args) -> None:
        """The model or input changed outside the stack (a preset, another feature): the
        recorded edits no longer describe the Document, so they are dropped, and no point of
        the history counts as saved any more."""
        if self._applying:
            return
        self.job.cancel(silent=True)
        self._forgetting = True
        try:
            self.stack.clear()
            self.stack.resetClean()
        finally:
            self._forgetting = False

    # -- actions ------------------------------------------------------------------------------
    def _make_action(self, text: str, keys, slot) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _update_actions(self, *_args) -> None:
        busy = self.job.busy
        self.undo_action.setEnabled(self.stack.canUndo() and not busy)
        self.redo_action.setEnabled(self.stack.canRedo() and not busy)
        undo_text, redo_text = self.stack.undoText(), self.stack.redoText()
        self.undo_action.setText(f"&Undo {undo_text}" if undo_text else "&Undo")
        self.redo_action.setText(f"&Redo {redo_text}" if redo_text else "&Redo")
