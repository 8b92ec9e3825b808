"""The worked arithmetic the inspector shows (lstmviz.core.explain), the diagram's component
table (lstmviz.components) and its colormap (lstmviz.core.colormap). No Qt."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from lstmviz.components import COMPONENT_IDS, COMPONENTS, quantity_for, shapes_summary, term_shapes, to_html
from lstmviz.core.cell import run
from lstmviz.core.colormap import (
    LUT,
    cell_colors,
    color_indices,
    diverging_rgb,
    format_cell,
    ink_rgb,
    text_rgb,
)
from lstmviz.core.explain import (
    TERMS_ALL,
    TERMS_COLLAPSED,
    CellWork,
    GateWork,
    HiddenWork,
    VectorWork,
    cell_work,
    explain,
    fits_matvec,
    format_number,
    gate_unit,
    gate_work,
    hidden_work,
    step_arrays,
    step_vectors,
    term_count,
    term_limit,
    vector_work,
)
from lstmviz.core.params import LSTMParams
from lstmviz.presets import load_preset


def worked(name: str):
    preset = load_preset(name)
    return preset.params, run(preset.params, preset.xs)


# -- the worked examples from the learners' threads ------------------------------------------------
def test_forget_gate_worked_example_gives_92_177_136():
    params, trace = worked("forget-worked")
    work = gate_work(params, trace, 0, "f", 0)
    assert work.matvec is not None
    assert work.matvec.z == (92.0, 177.0, 136.0)
    units = [gate_unit(params, trace, 0, "f", k) for k in range(3)]
    assert [u.z for u in units] == [92.0, 177.0, 136.0]
    assert [u.z_recorded for u in units] == [92.0, 177.0, 136.0]
    u = units[0]
    # x_t = (1, 2, 3) against W_f row (1, 2, 3); h = (4, 5, 6) against U_f row (4, 5, 6)
    assert [t.product for t in u.input_terms.terms] == [1.0, 4.0, 9.0]
    assert [t.product for t in u.recurrent_terms.terms] == [16.0, 25.0, 36.0]
    assert (u.input_terms.total, u.recurrent_terms.total, u.bias) == (14.0, 77.0, 1.0)
    assert u.input_terms.terms[2].coef_name == "W_f[0,2]" and u.input_terms.terms[2].var_name == "x_t[2]"
    assert u.value == 1.0  # sigmoid(92) is 1 in float64 ...
    assert u.distance_to_bound == pytest.approx(math.exp(-92), rel=1e-12)  # ... but not really


def test_input_gate_worked_example_gives_22_43_64_not_42_62():
    params, trace = worked("input-worked")
    work = gate_work(params, trace, 0, "i", 1)
    assert work.matvec.z == (22.0, 43.0, 64.0)
    assert work.unit.z == 43.0 and work.unit.unit == 1


def test_concatenated_forms_hold_the_same_numbers():
    params, trace = worked("forget-worked")
    mv = gate_work(params, trace, 0, "f", 0).matvec
    rows, vec, names = mv.concatenated(h_first=False)  # the thread's [x_t, h_{t-1}]
    assert names == ("W", "U")
    assert rows[0] == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    assert vec == (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    rows_h, vec_h, names_h = mv.concatenated(h_first=True)  # Colah's [h_{t-1}, x_t]
    assert names_h == ("U", "W")
    assert vec_h == (4.0, 5.0, 6.0, 1.0, 2.0, 3.0)
    for r, rh, b, z in zip(rows, rows_h, mv.b, mv.z):
        assert sum(a * v for a, v in zip(r, vec)) + b == z
        assert sum(a * v for a, v in zip(rh, vec_h)) + b == z
    assert mv.Wx_plus_Uh == tuple(a + b for a, b in zip(mv.Wx, mv.Uh))


# -- agreement with the recorded run for any cell ---------------------------------------------------
@pytest.mark.parametrize("variant", ["plain", "peepholes", "hard_sigmoid"])
def test_gate_arithmetic_matches_the_run(variant):
    params = LSTMParams.random(5, 3, seed=4)
    if variant == "peepholes":
        rng = np.random.default_rng(1)
        params = params.replace(p_i=rng.normal(size=5), p_f=rng.normal(size=5), p_o=rng.normal(size=5))
    elif variant == "hard_sigmoid":
        params = params.replace(recurrent_activation="hard_sigmoid")
    xs = np.random.default_rng(2).normal(size=(6, 3))
    trace = run(params, xs)
    for t in (0, 3, 5):
        for gate in "ifgo":
            for k in range(params.n):
                u = gate_unit(params, trace, t, gate, k)
                assert u.z == pytest.approx(u.z_recorded, abs=1e-12)
                assert u.value == pytest.approx(u.value_recorded, abs=1e-12)
                assert (u.peephole is not None) == (variant == "peepholes" and gate != "g")
        cw = cell_work(trace, t, 2)
        for cu in cw.units:
            assert cu.c == pytest.approx(cu.c_recorded, abs=1e-12)
            assert cu.kept == pytest.approx(cu.f * cu.c_prev)
        hw = hidden_work(params, trace, t, 2)
        for hu in hw.units:
            assert hu.h == pytest.approx(hu.h_recorded, abs=1e-12)


def test_explain_dispatches_every_component():
    params, trace = worked("memory-cell")
    kinds = {}
    for cid in COMPONENT_IDS:
        ex = explain(params, trace, 3, cid, 1, input_names=("value", "write", "erase"))
        assert ex.component.id == cid and ex.unit == 1 and ex.step == 3
        assert ex.shapes and ex.shapes_line
        kinds[cid] = type(ex.work)
    assert all(kinds[g] is GateWork for g in "figo")
    assert all(kinds[c] is CellWork for c in ("mul_f", "mul_i", "add_c", "c"))
    assert all(kinds[c] is HiddenWork for c in ("tanh_c", "mul_o", "h"))
    assert all(kinds[c] is VectorWork for c in ("x", "h_prev", "c_prev", "concat"))
    x = explain(params, trace, 3, "x", 0, input_names=("value", "write", "erase")).work
    assert x.names == ("value", "write", "erase") and x.values == tuple(trace.x[3])
    concat = explain(params, trace, 0, "concat", 0).work
    assert concat.blocks == (("h_{t-1}", 2), ("x_t", 3)) and len(concat.values) == 5
    h_prev = explain(params, trace, 0, "h_prev", 0).work
    assert "initial" in h_prev.origin


def test_explain_rejects_bad_arguments():
    params, trace = worked("forget-worked")
    with pytest.raises(KeyError, match="unknown component"):
        explain(params, trace, 0, "nope")
    with pytest.raises(IndexError, match="step 9"):
        explain(params, trace, 9, "f")
    with pytest.raises(IndexError, match="unit 3"):
        explain(params, trace, 0, "f", 3)


def test_large_layers_list_the_biggest_terms_and_skip_the_matrix():
    params = LSTMParams.random(64, 32, seed=0)
    trace = run(params, np.random.default_rng(0).normal(size=(3, 32)))
    work = gate_work(params, trace, 2, "o", 5)
    assert work.matvec is None and not fits_matvec(64, 32) and fits_matvec(3, 3)
    shown, rest, rest_sum = work.unit.recurrent_terms.shown(12)
    assert len(shown) == 12 and rest == 52
    assert math.fsum(t.product for t in shown) + rest_sum == pytest.approx(work.unit.recurrent_terms.total)
    smallest_shown = min(abs(t.product) for t in shown)
    others = [t for t in work.unit.recurrent_terms.terms if t not in shown]
    assert all(abs(t.product) <= smallest_shown for t in others)


def test_step_vectors_are_what_the_diagram_draws():
    params, trace = worked("memory-cell")
    v = step_vectors(trace, 4)
    assert set(v) == {"x", "h_prev", "c_prev", "f", "i", "g", "o", "mul_f", "mul_i", "c", "tanh_c", "h"}
    assert v["c_prev"] == tuple(trace.c[3]) and v["h_prev"] == tuple(trace.h[3])
    for k in range(2):
        assert v["mul_f"][k] + v["mul_i"][k] == pytest.approx(v["c"][k])
        assert v["o"][k] * v["tanh_c"][k] == pytest.approx(v["h"][k])


def test_memory_cell_story_write_hold_erase():
    """The default preset really stores, holds and wipes (what the window opens on)."""
    params, trace = worked("memory-cell")
    assert trace.i[3][0] > 0.99 and trace.f[3][0] < 0.01  # write at t = 3
    assert trace.f[8][0] > 0.99 and trace.c[8][0] == pytest.approx(trace.c[4][0], rel=0.05)  # hold
    assert trace.f[14][0] < 0.01 and abs(trace.c[14][0]) < 0.05  # erase at t = 14


# -- components ------------------------------------------------------------------------------------
def test_component_ids_and_quantities():
    for cid in "ifgoch":
        assert cid in COMPONENTS and quantity_for(cid) == cid
    assert quantity_for("mul_f") == "c" and quantity_for("mul_o") == "h" and quantity_for("x") == "x"
    assert quantity_for("nope") is None
    assert all(COMPONENTS[c].is_gate for c in "figo")


def test_shapes_read_like_the_issue():
    assert shapes_summary("f", 3, 3).startswith("W_f: 3x3, U_f: 3x3, b_f: 3; [h_{t-1}, x_t]: 6")
    assert shapes_summary("i", 2, 5).startswith("W_i: 2x5, U_i: 2x2, b_i: 2; [h_{t-1}, x_t]: 7")
    assert ("p_f", "4") in term_shapes("f", 4, 1, peepholes=True)
    assert ("p_g", "4") not in term_shapes("g", 4, 1, peepholes=True)
    assert to_html("h_{t-1}") == "h<sub>t−1</sub>"
    assert to_html("W_f·x_t < 1") == "W<sub>f</sub>·x<sub>t</sub> &lt; 1"


# -- colormap and number formats --------------------------------------------------------------------
def test_diverging_colormap():
    rgb = diverging_rgb([-5.0, -1.0, 0.0, 1.0, 5.0, float("nan")])
    assert rgb.dtype == np.uint8 and rgb.shape == (6, 3)
    assert tuple(rgb[0]) == tuple(rgb[1])  # saturates beyond -1
    assert tuple(rgb[3]) == tuple(rgb[4])
    assert rgb[2].min() > 240  # 0 is (nearly) white
    assert rgb[3][0] > rgb[3][2] and rgb[1][2] > rgb[1][0]  # +1 red, -1 blue
    assert tuple(rgb[5]) == tuple(rgb[2])  # NaN drawn as 0
    assert text_rgb((250, 250, 250)) == (20, 20, 20) and text_rgb((103, 0, 31)) == (255, 255, 255)
    assert len(cell_colors([0.1, 0.9])) == 2


@pytest.mark.parametrize(
    ("value", "cell", "number"),
    [
        (92.0, "92", "92"),
        (-0.6, "−0.60", "−0.6"),
        (0.98201379, "0.98", "0.982"),
        (12.345, "12.3", "12.345"),
        (0.000335, "0.00", "0.000335"),
        (1.1e-40, "0.00", "1.1e−40"),
        (-3.0, "−3", "−3"),
        (0.0, "0", "0"),
    ],
)
def test_number_formats(value, cell, number):
    assert format_cell(value) == cell
    assert format_number(value) == number
    assert len(format_cell(value)) <= 5


def test_explain_and_components_import_without_qt():
    code = (
        "import sys, lstmviz.core.explain, lstmviz.components, lstmviz.core.colormap, "
        "lstmviz.commands.open, lstmviz.commands.screenshot; "
        "assert 'PySide6' not in sys.modules and 'pyqtgraph' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (53.395, "53.4"),
        (-1.335, "−1.33"),
        (0.9663, "0.966"),
        (0.0034, "0.0034"),
        (3.0, "3"),
        (123.6, "124"),
        (2.5e-7, "2.5e−07"),
        (0.0, "0"),
        (1.5e6, "1.5e+06"),
    ],
)
def test_short_numbers_for_wide_tables(value, text):
    from lstmviz.core.explain import format_short

    assert format_short(value) == text


# -- collapsing long term lists and vectors (the inspector at n = 64, m = 32) --------------------
def test_small_units_list_every_term_large_ones_the_largest():
    params, trace = worked("forget-worked")
    small = gate_unit(params, trace, 0, "f", 0)
    assert term_count(small) == 6 and term_limit(small) is None
    params = LSTMParams.random(64, 32, seed=0)
    trace = run(params, np.random.default_rng(0).normal(size=(3, 32)))
    big = gate_unit(params, trace, 2, "f", 7)
    assert term_count(big) == 96 > TERMS_ALL
    assert term_limit(big) == TERMS_COLLAPSED and term_limit(big, expanded=True) is None
    shown, rest, rest_sum = big.input_terms.shown(term_limit(big))
    assert len(shown) == TERMS_COLLAPSED and rest == 32 - TERMS_COLLAPSED
    assert math.fsum(t.product for t in shown) + rest_sum == pytest.approx(big.input_terms.total)
    # exactly at the threshold: still everything
    params = LSTMParams.random(6, 10, seed=1)
    trace = run(params, np.zeros((2, 10)))
    edge = gate_unit(params, trace, 1, "i", 0)
    assert term_count(edge) == TERMS_ALL and term_limit(edge) is None


def test_long_vectors_list_their_largest_entries():
    params, trace = worked("forget-worked")
    short = vector_work(trace, 0, "x")
    assert short.shown() == ((0, 1, 2), 0)
    values = np.zeros((1, 40))
    values[0, [3, 17, 39]] = (5.0, -9.0, 2.0)
    params = LSTMParams.random(2, 40, seed=0)
    trace = run(params, values)
    work = vector_work(trace, 0, "x")
    shown, rest = work.shown()
    assert rest == 40 - len(shown) and len(shown) == TERMS_ALL - 4
    assert {3, 17, 39} <= set(shown) and list(shown) == sorted(shown)
    assert work.shown(expanded=True) == (tuple(range(40)), 0)


def test_step_arrays_match_step_vectors_and_are_copies():
    params, trace = worked("memory-cell")
    arrays = step_arrays(trace, 4)
    vectors = step_vectors(trace, 4)
    assert set(arrays) == set(vectors)
    for cid, values in vectors.items():
        assert tuple(arrays[cid]) == values and arrays[cid].dtype == np.float64
    arrays["c"][0] = 1234.0
    assert trace.c[4][0] != 1234.0


def test_color_indices_are_the_diverging_colors():
    values = np.concatenate([np.linspace(-3, 3, 2001), [np.nan, np.inf, -np.inf, 0.0, 1e-300]])
    indices = color_indices(values)
    assert indices.dtype == np.uint8 and indices.shape == values.shape
    assert (LUT[indices] == diverging_rgb(values)).all()
    assert (LUT[color_indices(values, vmax=2.5)] == diverging_rgb(values, vmax=2.5)).all()
    assert color_indices([np.nan])[0] == color_indices([0.0])[0]
    for k in range(len(LUT)):
        assert ink_rgb(k) == text_rgb(LUT[k])
    pairs = cell_colors(values[:50])
    assert [fill for fill, _ in pairs] == [tuple(int(c) for c in LUT[k]) for k in indices[:50]]


def test_the_output_gate_of_a_projected_cell_gates_r_not_h():
    from lstmviz.core.explain import gate_reading

    assert "as h_t" in gate_reading("o", 0.5)
    for value in (0.02, 0.5, 0.99):
        text = gate_reading("o", value, projected=True)
        assert "r_t" in text and "as h_t" not in text and "h_t is near 0" not in text
