"""Subscribe a Qt view to a Document signal for exactly as long as the view lives."""

from __future__ import annotations

import weakref

from PySide6.QtCore import QObject


def bind(owner: QObject, signal, slot) -> None:
    """Connect the psygnal `signal` to `slot` (a bound method of `owner`) until owner is destroyed.

    psygnal holds bound methods weakly; when Qt deletes the C++ side first (a parent
    deleting its children) the Python wrapper may live on, so disconnect on `destroyed`.
    """
    signal.connect(slot)
    ref = weakref.WeakMethod(slot)

    def drop(*_args) -> None:
        method = ref()
        if method is not None:
            signal.disconnect(method, missing_ok=True)

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
