"""The inspector's worked equations for every cell variant lstmviz runs: ONNX input_forget
(f = 1 - i) and clip, peepholes, Keras masking (a masked step carries c and h), a projection
(LSTMP) and non-default activations. Each test opens such a cell (LSTMParams built here), reads
the inspector's text as a learner sees it, and checks the numbers shown against a plain
one-unit-at-a-time loop written in this file."""

from __future__ import annotations

import numpy as np
import pytest

from lstmviz.core.explain import format_number
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document
from lstmviz.gui.inspector import Inspector

ACT = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "tanh": np.tanh,
    "hard_sigmoid": lambda z: min(max(0.2 * z + 0.5, 0.0), 1.0),
    "relu": lambda z: max(z, 0.0),
}


def reference(params: LSTMParams, xs):
    """Per step: dict of the unclipped sums, z, gates, c, r and h, one unit at a time (ONNX
    semantics for clip and input_forget, Keras for masking)."""
    n, p = params.n, params.h_size
    rec, act = ACT[params.recurrent_activation], ACT[params.cell_activation]
    h, c = np.zeros(p), np.zeros(n)
    out = []
    for x in xs:
        step = {key: np.zeros(n) for key in ("sum_i", "sum_f", "sum_g", "sum_o", "zi", "zf", "zg", "zo",
                                             "i", "f", "g", "o", "c", "r")}
        for k in range(n):
            def pre(gate, extra=0.0, k=k):
                W, U, b = (getattr(params, f"{a}_{gate}") for a in "WUb")
                total = sum(W[k, j] * x[j] for j in range(len(x))) + sum(U[k, j] * h[j] for j in range(p))
                return total + b[k] + extra

            def clip(v):
                return v if params.clip is None else min(max(v, -params.clip), params.clip)

            peep = {g: (0.0 if getattr(params, f"p_{g}") is None else getattr(params, f"p_{g}")[k])
                    for g in "ifo"}
            for gate, extra in (("i", peep["i"] * c[k]), ("f", peep["f"] * c[k]), ("g", 0.0)):
                step[f"sum_{gate}"][k] = pre(gate, extra)
                step[f"z{gate}"][k] = clip(step[f"sum_{gate}"][k])
            i, g = rec(step["zi"][k]), act(step["zg"][k])
            f = 1.0 - i if params.input_forget else rec(step["zf"][k])
            c_new = f * c[k] + i * g
            step["sum_o"][k] = pre("o", peep["o"] * c_new)
            step["zo"][k] = clip(step["sum_o"][k])
            o = rec(step["zo"][k])
            step["i"][k], step["f"][k], step["g"][k], step["o"][k], step["c"][k] = i, f, g, o, c_new
        masked = params.mask_value is not None and all(v == params.mask_value for v in x)
        step["masked"] = masked
        if masked:
            step["c"] = c.copy()
        step["r"] = np.array([step["o"][k] * act(step["c"][k]) for k in range(n)])
        h_new = step["r"] if params.W_hr is None else np.array(
            [sum(params.W_hr[q, k] * step["r"][k] for k in range(n)) for q in range(p)])
        if masked:
            h_new = h.copy()
        step["h"], step["c_prev"], step["h_prev"] = h_new, c.copy(), h.copy()
        h, c = h_new, step["c"]
        out.append(step)
    return out


def cell(**changes) -> LSTMParams:
    rng = np.random.default_rng(7)
    base = LSTMParams.random(3, 2, seed=3, proj_size=changes.pop("proj_size", None))
    if changes.pop("peepholes", False):
        changes.update({f"p_{g}": rng.uniform(-1, 1, 3) for g in "ifo"})
    return base.replace(**changes)


XS = np.array([[1.5, -2.0], [0.4, 2.5], [0.0, 0.0], [-3.0, 1.0], [2.0, 2.0]])


@pytest.fixture
def open_cell(qtbot):
    def make(params, step=1, unit=0):
        doc = Document(params, XS)
        widget = Inspector(doc)
        qtbot.addWidget(widget)
        widget.resize(460, 900)
        widget.show()
        qtbot.waitExposed(widget)
        doc.set_step(step)
        doc.set_unit(unit)

        def text(selection):
            doc.set_selection(selection)
            widget.refresh()
            return widget.plain_text()

        return doc, text

    return make


def fmt(value) -> str:
    return format_number(float(value))


def test_input_forget_and_clip_are_worked_through(open_cell):
    params = cell(input_forget=True, clip=0.5)
    ref = reference(params, XS)
    t = 1
    k = int(np.argmax(np.abs(ref[t]["sum_f"])))  # a unit whose z_f is clipped
    doc, text = open_cell(params, t, k)
    np.testing.assert_allclose(doc.trace.f[t], ref[t]["f"], atol=1e-12)  # the run is what we check
    page = text("f")
    assert "ft = 1 − it" in page and "σ(Wf" not in page
    assert f"1 − it[{k}] = 1 − {fmt(ref[t]['i'][k])}" in page
    assert f"= {fmt(ref[t]['f'][k])}" in page
    assert "input_forget" in page and "not used" in page
    # the clip: the sum, then z held at the bound (this unit's sum is outside ±0.5)
    s, z = ref[t]["sum_f"][k], ref[t]["zf"][k]
    assert abs(s) > 0.5 and z == pytest.approx(np.sign(s) * 0.5)
    assert f"= {fmt(s)}" in page and f"clip({fmt(s)}, ±0.5) (held at the bound)" in page
    assert "something changed it" not in page  # the numbers shown are the recorded ones
    for gate in "igo":
        page = text(gate)
        act = "tanh" if gate == "g" else "σ"
        assert f"{gate}t = {act}(clip(W{gate}·xt + U{gate}·ht−1 + b{gate}, ±0.5))" in page
        zk = ref[t][f"z{gate}"][k]
        assert f"{act}({fmt(zk)})" in page and f"= {fmt(ref[t][gate][k])}" in page
        assert "something changed it" not in page
    page = text("c")
    assert "ct = (1 − it) ⊙ ct−1 + it ⊙ gt" in page
    assert f"= {fmt(ref[t]['c'][k])}" in page


def test_peepholes_enter_the_sum_of_each_gate(open_cell):
    params = cell(peepholes=True, clip=2.0)
    ref = reference(params, XS)
    t, k = 3, 1
    doc, text = open_cell(params, t, k)
    page = text("o")
    assert "ot = σ(clip(Wo·xt + Uo·ht−1 + bo + po ⊙ ct, ±2))" in page
    assert f"po[{k}]·ct[{k}]" in page  # the unit's heading names the peephole term
    assert f"po[{k}] · ct[{k}] (peephole)" in page and fmt(ref[t]["c"][k]).lstrip("−") in page
    assert f"= {fmt(ref[t]['sum_o'][k])}" in page and f"= {fmt(ref[t]['o'][k])}" in page
    page = text("f")
    assert "ft = σ(clip(Wf·xt + Uf·ht−1 + bf + pf ⊙ ct−1, ±2))" in page
    assert f"= {fmt(ref[t]['sum_f'][k])}" in page and f"= {fmt(ref[t]['f'][k])}" in page
    assert "something changed it" not in page
    # the concatenated form's one-line sum includes the peephole product and ends at the sum
    doc.set_option("concat_h_first", True)
    doc.set_option("show_concat", True)
    page = text("f")
    peep = params.p_f[k] * ref[t]["c_prev"][k]
    first = f"{format_number(params.U_f[k, 0])}·"
    line = next(row for row in page.splitlines() if row.strip().startswith(first))
    assert format_number(params.p_f[k]) in line and line.rstrip().endswith(f"= {fmt(ref[t]['sum_f'][k])}")
    assert abs(peep) > 1e-3


def test_a_masked_step_carries_c_and_h(open_cell):
    params = cell(mask_value=0.0)
    ref = reference(params, XS)
    t, k = 2, 1  # XS[2] is all zeros: masked
    assert ref[t]["masked"]
    doc, text = open_cell(params, t, k)
    np.testing.assert_allclose(doc.trace.c[t], ref[t]["c"], atol=1e-12)
    page = text("c")
    assert "Masked step" in page
    update = ref[t]["f"][k] * ref[t]["c_prev"][k] + ref[t]["i"][k] * ref[t]["g"][k]
    assert f"= {fmt(update)}" in page  # what an unmasked step would write ...
    assert f"ct[{k}] = ct−1[{k}] = {fmt(ref[t]['c_prev'][k])}" in page  # ... and what is kept
    assert "∂ct[1] / ∂ct−1[1] = 1 (a masked step carries c)" in page and "peepholes" not in page
    page = text("h")
    assert "Masked step" in page and f"entry {k}: {fmt(ref[t]['h_prev'][k])}" in page
    assert ref[t]["h"][k] == ref[t]["h_prev"][k]
    page = text("f")  # the gates are still worked, from x_t, and said to be unused
    assert "nothing they give is used" in page and f"= {fmt(ref[t]['f'][k])}" in page
    assert "Masked step" not in text_at(doc, text, 1)


def text_at(doc, text, step):
    doc.set_step(step)
    return text("c")


def test_a_projected_cell_works_r_and_h(open_cell):
    params = cell(proj_size=2, mask_value=0.0)
    ref = reference(params, XS)
    t, k = 3, 1
    _, text = open_cell(params, t, k)
    page = text("h")
    r = ref[t]["r"]
    assert "ht = Whr·rt, rt = ot ⊙ tanh(ct)" in page
    assert f"rt[{k}] = ot[{k}] · tanh(ct[{k}])" in page and f"= {fmt(r[k])}" in page
    assert f"ht[{k}] = Σ = {fmt(ref[t]['h'][k])}" in page
    page = text("f")
    assert "Uf (3×2)" in page and f"= {fmt(ref[t]['f'][k])}" in page
    # at the masked step the projection is computed but h is carried
    _, text = open_cell(params, 2, k)
    page = text("h")
    assert f"ht[{k}] = ht−1[{k}] = {fmt(reference(params, XS)[2]['h_prev'][k])}" in page


def test_non_default_activations_are_named_and_used(open_cell):
    params = cell(recurrent_activation="hard_sigmoid", cell_activation="relu")
    ref = reference(params, XS)
    t, k = 1, 2
    _, text = open_cell(params, t, k)
    page = text("i")
    assert "it = hard_sigmoid(Wi·xt + Ui·ht−1 + bi)" in page
    assert f"hard_sigmoid({fmt(ref[t]['zi'][k])})" in page and f"= {fmt(ref[t]['i'][k])}" in page
    assert "clip(0.2·z + 0.5, 0, 1)" in page and "σ(z) = 1 / (1 + exp" not in page
    page = text("g")
    assert "gt = relu(Wg·xt + Ug·ht−1 + bg)" in page and "(-1, 1)" not in page
    assert "relu(z) = max(z, 0)" in page and f"= {fmt(ref[t]['g'][k])}" in page
    page = text("h")
    assert "ht = ot ⊙ relu(ct)" in page and "tanh" not in page
    assert f"= {fmt(ref[t]['h'][k])}" in page
    assert "relu of the cell state" in text("tanh_c")
