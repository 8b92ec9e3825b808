"""The Document's small observer (lstmviz.document.signals): what views rely on."""

from __future__ import annotations

import gc

import pytest

from lstmviz.document.signals import EmitLoopError, Signal


class Source:
    changed = Signal(int, str)
    other = Signal()


class Listener:
    def __init__(self, seen):
        self.seen = seen

    def one(self, number):
        self.seen.append(("one", number))

    def both(self, number, text):
        self.seen.append(("both", number, text))


def test_each_instance_has_its_own_signal():
    a, b = Source(), Source()
    seen = []
    a.changed.connect(lambda n, t: seen.append(("a", n, t)))
    b.changed.emit(1, "b")
    a.changed.emit(2, "a")
    assert seen == [("a", 2, "a")]
    assert a.changed is a.changed and a.changed is not b.changed


def test_slots_get_as_many_arguments_as_they_take_in_connection_order():
    source, seen = Source(), []
    listener = Listener(seen)
    source.changed.connect(listener.both)
    source.changed.connect(listener.one)
    source.changed.connect(lambda: seen.append("none"))
    source.changed.connect(lambda *args: seen.append(("all",) + args))
    source.changed.connect(seen.append)  # a builtin method: one positional argument
    source.changed.emit(7, "x")
    assert seen == [("both", 7, "x"), ("one", 7), "none", ("all", 7, "x"), 7]


def test_methods_are_held_weakly_functions_strongly():
    source, seen = Source(), []
    listener = Listener(seen)
    source.changed.connect(listener.one)
    source.changed.connect(lambda n: seen.append(("lambda", n)))
    del listener
    gc.collect()
    source.changed.emit(3, "y")
    assert seen == [("lambda", 3)]
    assert len(source.changed) == 1  # the dead method's entry is gone


def test_disconnect_the_same_method_or_function():
    source, seen = Source(), []
    listener = Listener(seen)
    source.changed.connect(listener.one)

    def fn(n):
        seen.append(("fn", n))

    source.changed.connect(fn)
    source.changed.disconnect(listener.one)  # a new bound-method object, the same method
    source.changed.disconnect(fn)
    source.changed.disconnect(fn)  # missing is fine by default
    with pytest.raises(ValueError):
        source.changed.disconnect(fn, missing_ok=False)
    source.changed.emit(1, "z")
    assert seen == []


def test_a_slot_that_raises_stops_the_emission_and_reaches_the_emitter():
    source, seen = Source(), []

    def broken():
        raise ValueError("broken listener")

    source.other.connect(broken)
    source.other.connect(lambda: seen.append("after"))
    with pytest.raises(EmitLoopError, match="broken listener") as caught:
        source.other.emit()
    assert isinstance(caught.value.__cause__, ValueError)
    assert seen == []


def test_a_slot_may_disconnect_itself_while_emitting():
    source, seen = Source(), []

    def once():
        seen.append("once")
        source.other.disconnect(once)

    source.other.connect(once)
    source.other.connect(lambda: seen.append("second"))
    source.other.emit()
    source.other.emit()
    assert seen == ["once", "second", "second"]
