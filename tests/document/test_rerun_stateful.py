"""Any sequence of edits, partial advances, steps, cancels and finishes on a Document that
reruns in steps: the rows it calls computed are always the current cell's run (a plain loop
over lstmviz.core.cell.step()), and finishing always gives the whole run."""

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from tests.step_reference import step_loop

T, N, M = 300, 3, 2


def reference_c(params, xs):
    return step_loop(params, xs)[0]


class StreamingUser(RuleBasedStateMachine):
    @initialize(seed=st.integers(0, 50))
    def start(self, seed):
        params = LSTMParams.random(N, M, seed=seed)
        xs = np.random.default_rng(seed).normal(size=(T, M))
        self.doc = Document(params, xs)
        self.doc.stream_reruns = True
        self.doc.stream_cost_min = 0

    @rule(key=st.sampled_from(["W_f", "U_i", "W_g"]), row=st.integers(0, N - 1),
          value=st.floats(-3, 3, allow_nan=False))
    def edit_weight(self, key, row, value):
        array = getattr(self.doc.params, key).copy()
        array[row, 0] = value
        self.doc.set_params(self.doc.params.replace(**{key: array}))

    @rule(t=st.integers(0, T - 1), col=st.integers(0, M - 1), value=st.floats(-3, 3, allow_nan=False))
    def edit_input(self, t, col, value):
        xs = self.doc.xs.copy()
        xs[t, col] = value
        self.doc.set_input(xs)

    @rule(times=st.integers(1, 4))
    def advance(self, times):
        for _ in range(times):
            self.doc.advance_rerun(budget=0.0)

    @rule(t=st.integers(0, T - 1))
    def step_to(self, t):
        self.doc.set_step(t)

    @rule()
    def cancel(self):
        self.doc.cancel_rerun()

    @rule()
    def finish(self):
        self.doc.finish_rerun()
        assert not self.doc.rerunning and self.doc.state.complete

    @invariant()
    def computed_rows_are_the_cells_run(self):
        doc = self.doc
        done = doc.computed_steps
        assert 0 <= done <= T and doc.rerunning == (done < T) == (not doc.state.complete)
        if done:
            expected = reference_c(doc.params, doc.xs)[:done]
            assert np.abs(doc.trace.c[:done] - expected).max() < 1e-12
        assert np.array_equal(doc.trace.x, doc.xs)


StreamingUser.TestCase.settings = settings(max_examples=25, stateful_step_count=12, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestStreamingUser = StreamingUser.TestCase
