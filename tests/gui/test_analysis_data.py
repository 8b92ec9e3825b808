"""The Qt-free display step of the analysis views (lstmviz.gui.analysis.data)."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.analysis import ClampGate, ZeroUnit
from lstmviz.errors import LstmvizError
from lstmviz.gui.analysis.data import (
    LOG_FLOOR,
    curve_gate,
    format_units,
    heat_image,
    intervention_spans,
    log_safe,
    parse_units,
    span_text,
    vocabulary_for,
)


def test_heat_image_scales():
    v = np.array([[2.0, -1.0, 0.0, 2e-9]])
    np.testing.assert_allclose(heat_image(v, 2.0), [[1.0, -0.5, 0.0, 1e-9]], atol=1e-7)
    log = heat_image(v, 2.0, log=True, decades=8)
    assert log[0, 0] == pytest.approx(1.0) and log[0, 2] == 0.0 and log[0, 3] == 0.0
    assert log[0, 1] == pytest.approx(-(1 - np.log10(2) / 8), rel=1e-6)
    assert heat_image(v, 0.0).max() == 0.0
    assert log_safe(np.array([0.0, 1.0]))[0] == LOG_FLOOR


def test_units_text_round_trip():
    assert parse_units("3, 0-2", 8) == (0, 1, 2, 3)
    assert parse_units("all", 8) is None and parse_units("", 8) is None
    assert format_units((0, 1, 2, 3, 7)) == "0-3, 7" and format_units(None) == "all"
    with pytest.raises(LstmvizError):
        parse_units("9", 8)


def test_spans_merge_and_gates_map():
    ivs = [ClampGate("f", 1.0, steps=(2, 5)), ZeroUnit(steps=(4, 8)), ClampGate("i", 0.0, steps=(10, 11))]
    assert intervention_spans(ivs, 20) == [(2, 8), (10, 11)]
    assert intervention_spans([ZeroUnit()], 20) == [(0, 20)]
    assert curve_gate("mul_f") == "f" and curve_gate("tanh_c") == "c" and curve_gate("x", "g") == "g"


def test_vocabulary_from_input_names(make_document):
    doc = make_document("brackets")
    vocab = vocabulary_for(doc)
    assert vocab is not None and vocab.size == doc.m and vocab.unknown == " "
    assert vocabulary_for(make_document("memory-cell")) is None
    assert span_text("ab\ncd", 1, 4) == "b⏎c"
