"""ONNX LSTM attributes clip and input_forget, run by the engine and read from hand-built graphs.

The reference is a plain NumPy loop written here straight from the ONNX operator text
(`onnx.defs.get_schema('LSTM')`): clip bounds the input of every activation to
[-clip, clip]; input_forget couples the gates, f = 1 - i. onnx's own ReferenceEvaluator
(onnx/reference/ops/op_lstm.py) ignores both attributes, so it cannot serve as the reference
for them; the test below pins that down so a future onnx that implements them is noticed.
"""

from __future__ import annotations

import numpy as np
import pytest

import lstmviz
from lstmviz.core.cell import run, step
from lstmviz.core.params import LSTMParams
from lstmviz.io import document_file as df
from lstmviz.io.models import inspect_model


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def onnx_loop(W, R, B, P, xs, clip=None, input_forget=False):
    """ONNX LSTM, one direction, batch 1, from the operator's equations (gates i, o, f, c)."""
    n = R.shape[1]
    bound = np.inf if clip is None else clip
    Wi, Wo, Wf, Wc = np.split(W, 4)
    Ri, Ro, Rf, Rc = np.split(R, 4)
    b = B[: 4 * n] + B[4 * n :]
    bi, bo, bf, bc = np.split(b, 4)
    pi, po, pf = np.split(P, 3)
    h, c = np.zeros(n), np.zeros(n)
    hs, cs = [], []
    for x in xs:
        i = _sigmoid(np.clip(Wi @ x + Ri @ h + pi * c + bi, -bound, bound))
        if input_forget:
            f = 1.0 - i
        else:
            f = _sigmoid(np.clip(Wf @ x + Rf @ h + pf * c + bf, -bound, bound))
        g = np.tanh(np.clip(Wc @ x + Rc @ h + bc, -bound, bound))
        c = f * c + i * g
        o = _sigmoid(np.clip(Wo @ x + Ro @ h + po * c + bo, -bound, bound))
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.array(hs), np.array(cs)


def _random_onnx(seed, n=3, m=2, peepholes=False, scale=1.5):
    rng = np.random.default_rng(seed)
    W = rng.normal(scale=scale, size=(4 * n, m))
    R = rng.normal(scale=scale, size=(4 * n, n))
    B = rng.normal(size=8 * n)
    P = rng.normal(size=3 * n) if peepholes else np.zeros(3 * n)
    xs = rng.normal(scale=2.0, size=(9, m))
    return W, R, B, P, xs


def _params(W, R, B, P, **kwargs):
    n = R.shape[1]
    peep = {"p_i": P[:n], "p_o": P[n : 2 * n], "p_f": P[2 * n :]} if np.any(P) else {}
    return LSTMParams.from_stacked(W, R, B[: 4 * n] + B[4 * n :], order="iofg", **peep, **kwargs)


@pytest.mark.parametrize("peepholes", [False, True])
@pytest.mark.parametrize(("clip", "input_forget"), [(0.5, False), (None, True), (0.7, True)])
def test_engine_matches_the_onnx_equations(clip, input_forget, peepholes):
    W, R, B, P, xs = _random_onnx(1 + peepholes, peepholes=peepholes)
    params = _params(W, R, B, P, clip=clip, input_forget=input_forget)
    want_h, want_c = onnx_loop(W, R, B, P, xs, clip, input_forget)
    trace = run(params, xs)
    np.testing.assert_allclose(trace.h, want_h, atol=1e-12)
    np.testing.assert_allclose(trace.c, want_c, atol=1e-12)
    # the attributes change the numbers (a test that cannot fail proves nothing)
    plain_h, _ = onnx_loop(W, R, B, P, xs)
    assert np.abs(plain_h - want_h).max() > 1e-3
    if clip is not None:  # the recorded pre-activations are the clipped ones
        assert np.abs(trace.z).max() <= clip
    if input_forget:
        np.testing.assert_allclose(trace.gate("f"), 1.0 - trace.gate("i"), atol=1e-15)
    # step(), the reference, agrees step by step
    h, c = np.zeros(params.n), np.zeros(params.n)
    for t, x in enumerate(xs):
        s = step(params, x, h, c)
        np.testing.assert_allclose(s.h, want_h[t], atol=1e-12)
        h, c = s.h, s.c


def test_float32_run_agrees():
    W, R, B, P, xs = _random_onnx(5)
    params = _params(W, R, B, P, clip=0.5, input_forget=True)
    want_h, _ = onnx_loop(W, R, B, P, xs, 0.5, True)
    np.testing.assert_allclose(run(params, xs, dtype=np.float32).h, want_h, atol=1e-5)


def test_bad_clip_is_refused():
    W, R, B, P, _ = _random_onnx(0)
    for bad in (0.0, -1.0, float("inf")):
        with pytest.raises(lstmviz.LstmvizError, match="clip"):
            _params(W, R, B, P, clip=bad)


def _onnx_file(tmp_path, W, R, B, P, **attrs):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    n, m = R.shape[1], W.shape[1]
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "", "", "P"], ["Y"], hidden_size=n, **attrs)
    graph = helper.make_graph(
        [node], "g",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 1, m])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(a[None].astype(np.float32), name)
                     for a, name in ((W, "W"), (R, "R"), (B, "B"), (P, "P"))],
    )
    path = tmp_path / "lstm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    return path


@pytest.mark.parametrize("attrs", [{"clip": 0.5}, {"input_forget": 1}, {"clip": 0.5, "input_forget": 1}])
def test_onnx_graph_with_the_attribute_opens_and_runs(tmp_path, attrs):
    pytest.importorskip("onnx")
    W, R, B, P, xs = _random_onnx(7, peepholes=True)
    W, R, B, P = (a.astype(np.float32).astype(np.float64) for a in (W, R, B, P))
    path = _onnx_file(tmp_path, W, R, B, P, **attrs)
    params = lstmviz.load_model(path)
    assert params.clip == attrs.get("clip") and params.input_forget == bool(attrs.get("input_forget"))
    want_h, want_c = onnx_loop(W, R, B, P, xs, attrs.get("clip"), bool(attrs.get("input_forget")))
    trace = run(params, xs)
    np.testing.assert_allclose(trace.h, want_h, atol=1e-6)
    np.testing.assert_allclose(trace.c, want_c, atol=1e-6)
    [info] = inspect_model(path)
    assert not info.unsupported
    words = " ".join(info.notes)
    assert ("clip=0.5" in words) == ("clip" in attrs)
    assert ("f = 1 - i" in words) == ("input_forget" in attrs)


def test_onnx_reference_evaluator_ignores_clip(tmp_path):
    """Why the suite's reference for clip is the loop above: onnx's evaluator drops it."""
    pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    W, R, B, P, xs = _random_onnx(7)
    W, R, B, P = (a.astype(np.float32).astype(np.float64) for a in (W, R, B, P))
    path = _onnx_file(tmp_path, W, R, B, P, clip=0.5)
    [Y] = ReferenceEvaluator(str(path)).run(None, {"X": xs[:, None].astype(np.float32)})
    unclipped, _ = onnx_loop(W, R, B, P, xs)
    np.testing.assert_allclose(Y[:, 0, 0], unclipped, atol=1e-5)
    # and without clip the evaluator agrees with the loop (and so with lstmviz)
    plain = _onnx_file(tmp_path, W, R, B, P)
    [Y] = ReferenceEvaluator(str(plain)).run(None, {"X": xs[:, None].astype(np.float32)})
    np.testing.assert_allclose(Y[:, 0, 0], run(lstmviz.load_model(plain), xs).h, atol=1e-5)


def test_clip_and_input_forget_survive_a_document(tmp_path):
    W, R, B, P, xs = _random_onnx(3)
    params = _params(W, R, B, P, clip=0.5, input_forget=True)
    path = tmp_path / "c.lstmviz"
    df.write_document(df.DocumentState(params=params, xs=xs), path)
    back = df.read_document(path).params
    assert back.clip == 0.5 and back.input_forget is True
    want_h, _ = onnx_loop(W, R, B, P, xs, 0.5, True)
    np.testing.assert_allclose(run(back, xs).h, want_h, atol=1e-12)


def test_the_inspector_arithmetic_agrees_with_the_recorded_gates():
    from lstmviz.core.explain import gate_unit

    W, R, B, P, xs = _random_onnx(9)
    params = _params(W, R, B, P, clip=0.5, input_forget=True)
    trace = run(params, xs)
    for gate in "ifgo":
        for k in range(params.n):
            unit = gate_unit(params, trace, 4, gate, k)
            assert abs(unit.z - unit.z_recorded) < 1e-12 and abs(unit.z) <= 0.5
            assert abs(unit.value - unit.value_recorded) < 1e-12


def test_the_committed_clip_fixture_runs_clipped():
    """tests/fixtures/frameworks/onnx_clip.onnx (scripts/fixtures/frameworks.py, clip=3.0)."""
    import json

    from tests.io.frameworks_helpers import FIXTURES

    path = FIXTURES / "onnx_clip.onnx"
    params = lstmviz.load_model(path)
    assert params.clip == 3.0 and not params.input_forget
    cases = json.loads((FIXTURES / "manifest.json").read_text())
    assert "onnx_clip.onnx" not in json.dumps(cases)  # no longer listed as refused
    xs = np.random.default_rng(0).normal(scale=3.0, size=(12, params.m))
    trace = run(params, xs)
    assert np.abs(trace.z).max() <= 3.0
