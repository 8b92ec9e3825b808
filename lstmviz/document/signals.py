"""The Document's events: a small observer, no Qt.

What the views rely on, and all it does:
- `Signal(*types)` declared on a class gives each instance its own `SignalInstance`;
- `connect(slot)` holds a bound Python method weakly (a view is not kept alive by the
  Document it shows) and any other callable strongly; it returns the slot;
- `emit(*args)` calls the slots in the order they were connected, each with as many of the
  arguments as it takes positionally;
- a slot that raises stops the emission: `EmitLoopError` (the slot and its error in the
  message, the error as its cause) reaches the emitter. Views subscribe through
  lstmviz.gui.binding.bind, which catches and reports their errors per listener instead.

It replaced psygnal, whose import (importlib.metadata, email, ...) was ~25 ms of the window's
start-up for the dozen signals of one class.
"""

from __future__ import annotations

import inspect
import types
import weakref
from collections.abc import Callable

ALL_ARGUMENTS = 1 << 16


class EmitLoopError(Exception):
    """A slot raised while a signal was being emitted (its error is the __cause__)."""


class Signal:
    """Declares an event on a class; `instance.name` is that instance's SignalInstance."""

    def __init__(self, *types_: object):
        self.types = types_
        self.name = ""

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        signal = instance.__dict__.get(self.name)
        if signal is None:
            signal = instance.__dict__[self.name] = SignalInstance(self.name, len(self.types))
        return signal


class SignalInstance:
    def __init__(self, name: str, nargs: int):
        self.name = name
        self.nargs = nargs
        # (key, strong callable or None, weak method or None, positional arity)
        self._slots: list[tuple[object, Callable | None, weakref.WeakMethod | None, int]] = []

    def __len__(self) -> int:
        return len(self._slots)

    def connect(self, slot: Callable) -> Callable:
        if not callable(slot):
            raise TypeError(f"{self.name}.connect: {slot!r} is not callable")
        if isinstance(slot, types.MethodType):
            entry = (_key(slot), None, weakref.WeakMethod(slot, self._drop_dead), positional_arity(slot))
        else:
            entry = (_key(slot), slot, None, positional_arity(slot))
        self._slots.append(entry)
        return slot

    def disconnect(self, slot: Callable, missing_ok: bool = True) -> None:
        key = _key(slot)
        for index, entry in enumerate(self._slots):
            if entry[0] == key:
                del self._slots[index]
                return
        if not missing_ok:
            raise ValueError(f"{slot!r} is not connected to {self.name}")

    def _drop_dead(self, ref: weakref.WeakMethod) -> None:
        self._slots = [entry for entry in self._slots if entry[2] is not ref]

    def emit(self, *args) -> None:
        for _, strong, weak, arity in tuple(self._slots):
            slot = strong if weak is None else weak()
            if slot is None:
                continue
            try:
                slot(*args[:arity])
            except Exception as error:
                message = f"{self.name}: {slot!r} raised {type(error).__name__}: {error}"
                raise EmitLoopError(message) from error

    __call__ = emit


def _key(slot: Callable) -> object:
    """Equal for the same function, or the same method of the same object."""
    if isinstance(slot, types.MethodType):
        return (id(slot.__self__), slot.__func__)
    return slot


def positional_arity(slot: Callable) -> int:
    """How many positional arguments `slot` takes (all of them when it takes *args)."""
    try:
        parameters = inspect.signature(slot).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return ALL_ARGUMENTS
    count = 0
    for parameter in parameters:
        if parameter.kind == parameter.VAR_POSITIONAL:
            return ALL_ARGUMENTS
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count
