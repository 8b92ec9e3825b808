"""The window's side of a rerun in steps (lstmviz.document.rerun): compute between frames.

An edit on a long sequence lands in the Document at once; RerunDriver then calls
`Document.advance_rerun` from a zero-interval timer, each time for what is left of a
FRAME_BUDGET frame after the paints and other events around it, so Qt paints, steps, scrubs
and hovers between the chunks, no frame runs long, and a further edit simply restarts the
rerun. The status bar shows a progress bar with Cancel (which undoes the edit) while it runs;
no dialog is shown. StaleStep tells a view when the row of its current step has just been
computed (or has become stale), which is when it must redraw.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QWidget

from lstmviz.errors import LstmvizError
from lstmviz.gui.binding import bind
from lstmviz.gui.status_progress import StatusProgress

# A tick computes at most this long (its announcement included): the chunks between frames.
FRAME_BUDGET = 0.015
# The longest a frame should take while a rerun runs: the paint and other events since the
# last tick plus one tick. A tick computes FRAME_BUDGET unless the paint leaves less than that
# of FRAME_LIMIT, so a frame that paints a lot computes less instead of running long (on a
# machine twice as slow the paints double and the chunks shrink) while an ordinary paint costs
# the rerun nothing. (Taking the paint off FRAME_BUDGET instead made one 13 ms paint, an
# inspector's refresh, cut the next ten ticks to 4-12 ms: ~7 ms more an edit at T = 10 000.)
FRAME_LIMIT = 0.028
# The rest of a frame is taken as the larger of the time since the last tick and what recent
# gaps and announcements took, each remembered decaying by this much per tick: a paint can
# come after the tick that caused it, in the same pass of the event loop (glib), and the
# trace panels copy a plot's rows inside the announcement every few ticks.
RECENT_DECAY = 0.85
# The least a tick computes, whatever the frame spent painting: the rerun always moves on.
MIN_TICK = 0.004
# The first tick after an edit lands computes one small chunk only: that frame already holds
# the edit's own handling and the paint of everything it changed (the one the user waits for).
LANDING_TICK = 0.0
# The progress bar appears once a rerun has run this long (a short one just happens).
SHOW_AFTER_S = 0.15
BAR_EVERY_S = 0.1  # the bar moves at most this often (a repaint of the status bar each time)


# Document -> weakref to the RerunDriver of its window (weak both ways: neither keeps the other)
_DRIVERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def before_a_tick(document, work: Callable[[], None]) -> bool:
    """While `document`'s rerun streams in, run `work` (a view's deferred redraw, a bound
    method, held weakly) at the start of a coming tick, not in the frame of the edit: the
    tick then computes that much less, so the frame stays as long as any. False (nothing
    queued) when no rerun is streaming in; the caller redraws its own way."""
    ref = _DRIVERS.get(document)
    driver = ref() if ref is not None else None
    if driver is None or not document.rerunning:
        return False
    driver.queue(work)
    return True


class StaleStep:
    """Calls `changed()` when the current step's trace row turns from stale to computed (or
    back, when an edit lands), so a view that shows one step redraws exactly then; and says
    whether a new trace is only the end of a rerun in steps (`caught_up`), whose row at the
    current step the view already shows.

    A plain object the view keeps (not a QObject child: a Python QObject parented to a
    QGraphicsView crashed PySide 6.11 while it painted the view's cached items)."""

    def __init__(self, owner: QObject, document, changed: Callable[[], None]):
        self.document = document
        self._changed = changed
        self.stale = document.stale()
        self._cell = document.cell  # the cell whose values the view shows
        self._ended = None  # the trace a rerun in steps ended with, while the view was fresh
        bind(owner, document.trace_progress, self._progress)
        bind(owner, document.step_changed, self._step)

    def _progress(self, _computed: int) -> None:
        doc = self.document
        cell, now = doc.cell, doc.stale()
        if doc.landing:  # its rows through this step are computed and announced next
            return
        if doc.rerunning:
            self._ended = None
            if now != self.stale or cell is not self._cell:  # (an edit landing changes the cell)
                self.stale, self._cell = now, cell
                self._changed()
        else:  # a whole trace: trace_changed comes next, and the view asks caught_up
            fresh = cell is self._cell and not self.stale
            self._ended = doc.trace if fresh else None

    def _step(self, *_args) -> None:
        self.stale = self.document.stale()

    def caught_up(self, trace) -> bool:
        """`trace` (just announced by trace_changed) is the end of a rerun in steps of the
        cell the view shows, whose row at the current step it already shows: nothing to redraw."""
        ended, self._ended = self._ended, None
        doc = self.document
        self.stale, self._cell = doc.stale(), doc.cell
        return trace is ended


class RerunProgress(StatusProgress):
    """The status bar's "Rerunning the cell" bar with Cancel."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(
            "Rerunning the cell",
            "The edited cell is being run over the sequence; the parts of the trace not reached "
            "yet still show the run before the edit (shaded in the traces)",
            "Stop this rerun and undo the change that started it", name="rerun", parent=parent)
        self.setObjectName("rerunProgress")

    def show_progress(self, computed: int, T: int) -> None:
        self.show_steps(computed, T)

    def set_restoring(self, restoring: bool) -> None:
        """A rerun that puts back the run from before a cancelled edit: nothing to cancel."""
        if restoring == (not self.cancel_button.isEnabled()):
            return
        self.label.setText("Restoring the run before the cancelled change" if restoring
                           else "Rerunning the cell")
        self.cancel_button.setEnabled(not restoring)


class RerunDriver(QObject):
    """Runs the Document's rerun between frames; reports an overflow in a dialog."""

    def __init__(self, document, window: QWidget | None, cancel: Callable[[], None],
                 report: Callable[[str], None], restoring: Callable[[], bool] | None = None):
        super().__init__(window)
        self.document = document
        self.budget = FRAME_BUDGET
        self.frame_limit = FRAME_LIMIT
        self._cancel = cancel
        self._restoring = restoring  # True: the rerun puts back a cancelled edit's run
        self._report = report
        self._started = 0.0
        self._shown_at = 0.0
        self._tick_end = 0.0  # when the last tick (or the edit that started the rerun) ended
        self._overhead = 0.0  # seconds a tick spends past its compute budget (announcing it), recent max
        self._gap = 0.0  # seconds between two ticks (paints, other events), recent max
        self.longest_tick = 0.0  # seconds, the longest advance of the last rerun (benchmarks)
        self._ticking = False
        self._landed = False  # an edit landed since the last tick
        document.stream_reruns = True
        self.timer = QTimer(self)
        self.timer.setInterval(0)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._queued: list[weakref.WeakMethod] = []  # before_a_tick
        _DRIVERS[document] = weakref.ref(self)
        self.progress = RerunProgress()
        self.progress.cancel_button.clicked.connect(self.cancel)
        self.progress.hide()
        status = getattr(window, "statusBar", None)
        if callable(status):
            status().addPermanentWidget(self.progress)
        bind(self, document.trace_progress, self._on_progress)
        # A Document can outlive its window (a script, a second window on it): with nobody
        # left to run its reruns between frames, it computes its changes at once again.
        self.destroyed.connect(lambda *_args, doc=document: detach(doc))

    @property
    def running(self) -> bool:
        return self.document.rerunning

    def _on_progress(self, computed: int) -> None:
        doc = self.document
        if doc.rerunning:
            now = time.perf_counter()
            if not self.timer.isActive():
                self._started = now
                self.longest_tick = 0.0
                self.timer.start()
            if not self._ticking:  # an edit (re)started the rerun: its paint is in this frame
                self._tick_end = now
                self._landed = True
            left = doc.rerun_seconds_left
            ends_soon = left is not None and left < BAR_EVERY_S and not self.progress.isVisible()
            if (now - self._started >= SHOW_AFTER_S and now - self._shown_at >= BAR_EVERY_S
                    and not ends_soon):  # (a bar shown only to be hidden costs two relayouts)
                self._shown_at = now
                self.progress.show_progress(computed, doc.T)
                self.progress.set_restoring(self._restoring is not None and self._restoring())
                self.progress.show()
        else:
            self.timer.stop()
            self.progress.hide()
            self._run_queued()

    def queue(self, work: Callable[[], None]) -> None:
        ref = weakref.WeakMethod(work)
        if ref not in self._queued:
            self._queued.append(ref)

    def _run_queued(self) -> None:
        queued, self._queued = self._queued, []
        for ref in queued:
            work = ref()
            if work is not None:
                work()

    def _tick(self) -> None:
        doc = self.document
        if not doc.rerunning:
            self.timer.stop()
            self.progress.hide()
            self._run_queued()
            return
        now = time.perf_counter()
        if not self._landed:  # (the frame of an edit holds enough: the next one)
            self._run_queued()
        start = time.perf_counter()
        # the queued redraws are this frame's only (a one-off): not remembered as a gap
        budget = self.tick_budget(now, queued=start - now)
        self._ticking = True
        try:
            doc.advance_rerun(budget)
        except LstmvizError as error:
            self._report(f"{error} — the change was undone")
        except BaseException:
            self.timer.stop()  # surfaced once, not at every tick
            raise
        finally:
            self._ticking = False
            end = time.perf_counter()
            self.longest_tick = max(self.longest_tick, end - start)
            over = max(0.0, end - start - budget)
            self._overhead = max(over, RECENT_DECAY * self._overhead)
            self._tick_end = end

    def tick_budget(self, now: float, queued: float = 0.0) -> float:
        """Seconds of compute for the tick starting `now`: the chunk budget, or less when what
        the event loop did since the last tick (the paint), the redraws queued for this tick
        (`queued` seconds, already spent) and the tick's own announcement leave less of the
        frame than that."""
        if self._landed:
            self._landed = False
            self._gap = self._overhead = 0.0  # (a new rerun: what the last one met is past)
            return LANDING_TICK
        spent = now - self._tick_end if self._tick_end else 0.0
        self._gap = max(min(spent, self.frame_limit), RECENT_DECAY * self._gap)
        left = self.frame_limit - max(spent, self._gap) - queued
        return max(MIN_TICK, min(self.budget, left) - self._overhead)

    def cancel(self) -> None:
        if self.document.rerunning:
            self._cancel()

    def finish(self) -> None:
        """Compute the rest now (for what needs the whole trace at once)."""
        try:
            self.document.finish_rerun()
        except LstmvizError as error:
            self._report(f"{error} — the change was undone")


def detach(document) -> None:
    """The window that ran `document`'s reruns is gone: finish one in progress, stream no more."""
    document.stream_reruns = False
    try:
        document.finish_rerun()
    except LstmvizError:
        pass  # it went back to the last whole run, which is computed by now
