"""The Document without Qt: setters, signals, reruns, and that a refused change changes nothing."""

import numpy as np
import pytest

from lstmviz.core.analysis.whatif import ClampGate
from lstmviz.core.cell import run
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.errors import LstmvizError
from lstmviz.presets import load_preset


@pytest.fixture()
def doc():
    params = LSTMParams.random(4, 2, seed=3)
    return Document(params, np.random.default_rng(3).normal(size=(20, 2)))


def record(signal):
    seen = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def test_starts_clean_with_the_trace_of_its_params(doc):
    expected = run(doc.params, doc.xs)
    assert np.array_equal(doc.trace.h, expected.h)
    assert doc.step == 0 and not doc.dirty


def test_set_step_clamps_and_emits_only_on_change(doc):
    seen = record(doc.step_changed)
    doc.set_step(5)
    doc.set_step(5)
    doc.set_step(999)
    doc.set_step(-3)
    assert seen == [(5,), (19,), (0,)]


def test_next_step_wraps_or_stops(doc):
    doc.set_step(19)
    assert doc.next_step(wrap=False) == 19
    assert doc.next_step() == 0


def test_set_input_reruns_and_marks_dirty(doc):
    traces, inputs = record(doc.trace_changed), record(doc.input_changed)
    xs = np.ones((7, 2))
    doc.set_input(xs)
    assert len(traces) == 1 and len(inputs) == 1
    assert np.array_equal(doc.trace.h, run(doc.params, xs).h)
    assert doc.dirty


def test_a_shorter_trace_moves_the_step_before_anyone_sees_it(doc):
    doc.set_step(15)
    steps_seen_by_trace_listeners = []
    doc.trace_changed.connect(lambda trace: steps_seen_by_trace_listeners.append(doc.step))
    steps = record(doc.step_changed)
    doc.set_input(np.zeros((4, 2)))
    assert steps_seen_by_trace_listeners == [3]
    assert steps == [(3,)]


def test_refused_input_changes_nothing(doc):
    before_trace, before_xs = doc.trace, doc.xs
    seen = record(doc.trace_changed)
    bad = np.zeros((5, 2))
    bad[2, 1] = np.nan
    with pytest.raises(LstmvizError, match="row 3, column 2"):
        doc.set_input(bad)
    with pytest.raises(LstmvizError, match="3 columns"):
        doc.set_input(np.zeros((5, 3)))
    assert doc.trace is before_trace and doc.xs is before_xs and seen == [] and not doc.dirty


def test_model_with_other_input_size_is_refused_without_a_matching_sequence(doc):
    other = LSTMParams.random(4, 3, seed=1)
    with pytest.raises(LstmvizError, match="expects m = 3"):
        doc.set_model_and_input(other)
    assert doc.m == 2
    doc.set_model_and_input(other, np.zeros((6, 3)))
    assert doc.m == 3 and doc.T == 6


def test_new_model_with_fewer_units_keeps_unit_and_units_in_range(doc):
    doc.set_unit(3)
    doc.set_units([0, 3])
    doc.set_params(LSTMParams.random(2, 2, seed=0))
    assert doc.unit == 1 and doc.units == (0,)


def test_unit_range_is_checked(doc):
    with pytest.raises(LstmvizError, match="unit 4 is not in 0..3"):
        doc.set_unit(4)
    seen = record(doc.units_changed)
    doc.set_units([3, 1, 1, 9])
    assert doc.units == (1, 3) and seen == [((1, 3),)]


def test_interventions_rerun_and_keep_the_baseline(doc):
    baseline = doc.trace
    doc.set_interventions([ClampGate("f", 0.0)])
    assert np.all(doc.trace.f == 0.0)
    assert doc.baseline_trace is baseline
    # with f = 0 the cell forgets everything each step: c_t = i * g exactly
    np.testing.assert_allclose(doc.trace.c, doc.trace.i * doc.trace.g, rtol=0, atol=0)
    doc.set_interventions([])
    assert doc.trace is baseline


def test_from_preset_starts_where_the_preset_says():
    doc = Document.from_preset(load_preset("brackets"))
    assert doc.selection == "c" and doc.unit == 5 and doc.step > 0 and not doc.dirty


def test_saved_marks_clean(doc):
    seen = record(doc.dirty_changed)
    doc.set_input(np.ones((3, 2)))
    doc.mark_saved()
    assert seen == [(True,), (False,)]
