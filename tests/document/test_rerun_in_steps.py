"""A change on a long sequence installed at once and computed in steps (Document.stream_reruns).

The reference is a plain loop over lstmviz.core.cell.step(), never an earlier run of lstmviz.
"""

import dataclasses

import numpy as np
import pytest

from lstmviz.core.analysis.whatif import ClampGate
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.errors import LstmvizError
from tests.step_reference import step_loop

T = 3000


def reference(params, xs):
    return step_loop(params, xs)


def streaming_doc(params, xs):
    doc = Document(params, xs)
    doc.stream_reruns = True
    doc.stream_cost_min = 0  # stream even these short runs
    return doc


def record(signal):
    seen = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def with_weight(params, key, index, value):
    array = getattr(params, key).copy()
    array[index] = value
    return dataclasses.replace(params, **{key: array})


@pytest.fixture()
def cell():
    params = LSTMParams.random(6, 3, seed=5)
    xs = np.random.default_rng(5).normal(size=(T, 3))
    return params, xs


def test_a_weight_edit_lands_at_once_and_streams_in_from_step_0(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.landing_budget = 0.0  # nothing computed before it lands (see the next tests)
    old_c = doc.trace.c.copy()
    progress, changed = record(doc.trace_progress), record(doc.trace_changed)
    edited = with_weight(params, "W_f", (0, 0), 2.5)
    doc.set_params(edited)
    # the new cell is there at once; nothing of its run is yet
    assert doc.params is edited and doc.rerunning and doc.computed_steps == 0
    assert doc.stale(0) and progress == [(0,)] and changed == []
    # the stale rows still show the previous run
    assert np.array_equal(doc.trace.c[T // 2:], old_c[T // 2:])
    steps = 0
    while not doc.advance_rerun(budget=0.0):  # one chunk per call
        steps += 1
        done = doc.computed_steps
        assert 0 < done < T and not doc.stale(done - 1) and doc.stale(done)
        assert np.array_equal(doc.trace.c[done:], old_c[done:])
    assert steps > 1 and not doc.rerunning and doc.state.complete
    assert len(changed) == 1 and changed[0][0] is doc.trace
    assert progress[-1] == (T,)
    ref_c, ref_h = reference(edited, xs)
    assert np.abs(doc.trace.c - ref_c).max() < 1e-13
    assert np.abs(doc.trace.h - ref_h).max() < 1e-13


def test_an_edit_lands_with_its_rows_through_the_step_on_screen_computed(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.set_step(200)
    old_c = doc.trace.c.copy()
    progress, changed = record(doc.trace_progress), record(doc.trace_changed)
    edited = with_weight(params, "W_f", (0, 0), 2.5)
    doc.set_params(edited)
    # it lands (nothing computed yet), then its rows through the step on screen are computed
    # and announced before set_params returns
    assert doc.rerunning and len(progress) == 2 and progress[0] == (0,) and changed == []
    done = progress[1][0]
    assert done == doc.computed_steps and 200 < done < T and not doc.stale()
    ref_c, ref_h = reference(edited, xs)
    assert np.abs(doc.trace.c[:done] - ref_c[:done]).max() < 1e-13
    assert np.array_equal(doc.trace.c[done:], old_c[done:])  # the rest is the run before
    assert not np.allclose(doc.trace.c[:done], old_c[:done])
    doc.finish_rerun()
    assert np.abs(doc.trace.h - ref_h).max() < 1e-13 and len(changed) == 1


def test_a_landing_that_computes_the_whole_run_announces_a_new_trace(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.landing_budget = 5.0  # time enough for all of it
    doc.set_step(T - 1)
    old = doc.trace
    progress, changed = record(doc.trace_progress), record(doc.trace_changed)
    edited = with_weight(params, "U_o", (1, 2), -1.5)
    doc.set_params(edited)
    assert not doc.rerunning and doc.state.complete and progress == [(0,), (T,)]
    assert len(changed) == 1 and changed[0][0] is doc.trace and doc.trace is not old
    assert np.abs(doc.trace.h - reference(edited, xs)[1]).max() < 1e-13


def test_an_input_edit_reruns_from_its_step_only(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    before = doc.trace.h.copy()
    edited = xs.copy()
    edited[2000, 1] = 7.0
    doc.set_input(edited)
    assert doc.computed_steps == 2000 and doc.rerunning
    assert np.array_equal(doc.trace.x[2000], edited[2000])
    doc.finish_rerun()
    ref_c, ref_h = reference(params, edited)
    assert np.abs(doc.trace.h - ref_h).max() < 1e-13
    assert np.array_equal(doc.trace.h[:2000], before[:2000])  # never recomputed
    assert not np.allclose(doc.trace.h[2000:], before[2000:])


def test_a_second_edit_during_a_rerun_restarts_it_where_it_must(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    first = xs.copy()
    first[1500] = 3.0
    doc.set_input(first)
    while doc.computed_steps < 2200:
        doc.advance_rerun(budget=0.0)
    second = first.copy()
    second[900] = -3.0  # earlier than what is computed: back to 900
    doc.set_input(second)
    assert doc.computed_steps == 900
    doc.set_step(2500)  # stepping meanwhile keeps the rerun
    assert doc.rerunning and doc.stale()
    doc.finish_rerun()
    assert not doc.stale()
    assert np.abs(doc.trace.c - reference(params, second)[0]).max() < 1e-13


def test_a_short_run_and_streaming_off_compute_at_once(cell):
    params, xs = cell
    doc = Document(params, xs)  # stream_reruns off: scripts and the CLI
    doc.set_params(with_weight(params, "b_i", 0, 1.0))
    assert not doc.rerunning and doc.state.complete
    doc.stream_reruns = True  # on, but the run is below stream_cost_min
    doc.set_params(with_weight(params, "b_i", 0, 2.0))
    assert not doc.rerunning


def test_cancel_goes_back_to_the_whole_run(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.set_params(with_weight(params, "U_g", (1, 1), -4.0))
    doc.advance_rerun(budget=0.0)
    doc.cancel_rerun()
    assert doc.params is params
    doc.finish_rerun()
    assert np.abs(doc.trace.h - reference(params, xs)[1]).max() < 1e-13


def test_an_overflow_found_midway_goes_back_and_says_where(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    # from step 2490 on, x pushes i, g, o to 1 (W x = +inf) while U_i h = -inf once h has
    # grown: z_i = inf - inf = NaN within a few steps (as in tests/core/test_cell.py)
    big = np.zeros((6, 3))
    big[:, 0] = 1e308
    bad = params.replace(W_i=big, W_g=big, W_o=big, U_i=np.full((6, 6), -1.7e308))
    huge = np.zeros_like(xs)
    huge[2490:2510, 0] = 10.0
    doc.set_model_and_input(bad, huge)
    with pytest.raises(LstmvizError, match=r"overflows float64 at step 2(49\d|50\d)"):
        doc.finish_rerun()
    assert doc.params is params and not doc.rerunning
    assert np.abs(doc.trace.h - reference(params, xs)[1]).max() < 1e-13


def test_what_if_and_held_traces_compute_at_once(cell):
    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.set_params(with_weight(params, "b_o", 0, 1.0))
    assert doc.rerunning
    doc.set_interventions([ClampGate("f", 1.0, units=(0,), steps=(0, 10))])  # finishes first
    assert not doc.rerunning and doc.interventions
    doc.set_params(params)  # what-if on: at once
    assert not doc.rerunning
    doc.set_interventions([])
    release = doc.hold_trace()
    held = doc.trace
    doc.set_params(with_weight(params, "b_o", 0, 3.0))
    assert not doc.rerunning and doc.trace is not held  # a new trace, the held one untouched
    release()
    doc.set_params(params)
    assert doc.rerunning


def test_projected_and_masked_cells_stream_too():
    rng = np.random.default_rng(8)
    params = LSTMParams.random(5, 2, seed=8, proj_size=3)
    xs = rng.normal(size=(T, 2))
    doc = streaming_doc(params, xs)
    edited = with_weight(params, "W_hr", (0, 0), 1.5)
    doc.set_params(edited)
    doc.finish_rerun()
    assert np.abs(doc.trace.h - reference(edited, xs)[1]).max() < 1e-13
    masked = dataclasses.replace(LSTMParams.random(4, 2, seed=9), mask_value=0.0)
    xs = rng.normal(size=(T, 2))
    xs[::7] = 0.0
    doc = streaming_doc(masked, xs)
    more = xs.copy()
    more[1000:1010] = 0.0
    doc.set_input(more)
    assert doc.computed_steps == 1000
    doc.finish_rerun()
    assert np.abs(doc.trace.c - reference(masked, more)[0]).max() < 1e-13
    assert doc.trace.mask[1005] and doc.trace.mask[7]


def test_chunks_end_on_blocks_of_z_and_the_run_still_matches_the_reference(cell, monkeypatch):
    """A chunk that ends inside a block of z computes that block's input products whole, and
    the next chunk does it again: long chunks end on a block boundary (or at T)."""
    import lstmviz.document.rerun as rerun_module
    from lstmviz.core.kernels import z_block_rows

    params, xs = cell
    doc = streaming_doc(params, xs)
    doc.landing_budget = 0.0
    chunks = []
    real_resume = rerun_module.resume

    def resume(p, trace, lo, hi, prepared=None):
        chunks.append((lo, hi))
        return real_resume(p, trace, lo, hi, prepared)

    monkeypatch.setattr(rerun_module, "resume", resume)
    edited = with_weight(params, "U_o", (1, 2), -1.5)
    doc.set_params(edited)
    while doc.rerunning:
        doc.advance_rerun(0.02)  # (a frame's worth: chunks of more than a block)
    block = z_block_rows(params.n, params.m)
    long_chunks = [(lo, hi) for lo, hi in chunks if hi - lo >= block]
    assert long_chunks, chunks  # the measured speed grows the chunks past a block
    assert all(hi % block == 0 or hi == T for _, hi in long_chunks), chunks
    assert chunks[0][0] == 0 and chunks[-1][1] == T
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:]))  # no row skipped or redone
    c_ref, h_ref = reference(edited, xs)
    assert np.abs(doc.trace.h - h_ref).max() < 1e-12 and np.abs(doc.trace.c - c_ref).max() < 1e-12
