"""Views cache what they computed from a trace under weakref.ref(trace): a later trace must
never match the key of a freed one, even when it lands at the freed one's address (which
CPython reuses at once, so an id()-based key would match and show the old results)."""

import dataclasses
import weakref

import numpy as np

from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams


def _trace(seed: int):
    params = LSTMParams.random(3, 2, seed=seed)  # n = 3, m = 2
    return run(params, np.random.default_rng(seed).standard_normal((5, 2)))


def test_a_new_trace_at_a_freed_traces_address_does_not_match_its_cache_key():
    run_ = _trace(0)
    old = dataclasses.replace(run_)  # (what a rerun's end installs: a new Trace object)
    key, address = weakref.ref(old), id(old)
    del old
    kept, reused = [], None
    for _ in range(200):  # (kept alive, so each new one takes another address)
        new = dataclasses.replace(run_)
        if id(new) == address:
            reused = new
            break
        kept.append(new)
    assert reused is not None, "CPython did not reuse the address: the test shows nothing"
    assert key != weakref.ref(reused)


def test_two_runs_are_equal_only_when_they_are_one_object():
    trace = _trace(0)
    assert trace == trace
    assert trace != dataclasses.replace(trace)
