"""Subscribe a Qt view to a Document signal for exactly as long as the view lives."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject

from lstmviz.document.signals import positional_arity
from lstmviz.gui.errors_dialog import report_exception


def bind(owner: QObject, signal, slot) -> None:
    """Connect the Document `signal` to `slot` (a bound method of `owner`) until owner is destroyed.

    The slot is held weakly (a view is not kept alive by the Document it shows); when Qt
    deletes the C++ side first (a parent deleting its children) the Python wrapper may live
    on, so it is also disconnected on `destroyed`.

    An exception in the slot is reported (lstmviz.gui.errors_dialog: a dialog in the app, a
    failed test in the suite) instead of propagating into the emitter: the signal would turn it
    into EmitLoopError in whatever Document setter emitted and skip the listeners after this
    one, leaving the other views on the old state.
    """
    ref = weakref.WeakMethod(slot)
    arity = positional_arity(slot)

    def call(*args) -> None:
        method = ref()
        if method is None:
            return
        try:
            method(*args[:arity])
        except Exception as error:  # noqa: BLE001 - reported, never swallowed
            report_exception(error)

    signal.connect(call)

    def drop(*_args) -> None:
        signal.disconnect(call, missing_ok=True)

    owner.destroyed.connect(drop)


def weak_method(method):
    """A callable that calls `method` while its object lives (and returns None after).

    Items and scenes call back into their view through this, so that no reference cycle
    keeps a view alive until the garbage collector runs -- which may happen in the middle
    of a paint event and delete the view under Qt's feet.
    """
    ref = weakref.WeakMethod(method)

    def call(*args, **kwargs):
        target = ref()
        return None if target is None else target(*args, **kwargs)

    return call
