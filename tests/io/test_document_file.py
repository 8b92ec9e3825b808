# ruff: noqa: E501
"""The .lstmviz document: round trip, metadata, only expected members, size caps, errors."""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from lstmviz.cli import main as cli_main
from lstmviz.core.params import LSTMParams
from lstmviz.document import Document, files
from lstmviz.errors import LstmvizError
from lstmviz.io import document_file as df
from lstmviz.io.csv import ExportCancelled, write_trace_csv
from lstmviz.io.npz import write_npz_model
from lstmviz.presets import load_preset


def _doc() -> Document:
    doc = Document.from_preset(load_preset("memory-cell"))
    doc.set_step(7)
    doc.set_selection("c")
    doc.set_units([1])
    doc.set_unit(1)
    doc.set_option("concat_h_first", False)
    doc.set_initial_state(h0=[0.1, -0.2], c0=[0.3, 0.4])
    return doc


def test_round_trip_restores_everything(tmp_path):
    doc = _doc()
    path = tmp_path / "a.lstmviz"
    df.write_document(files.snapshot(doc), path)
    state = df.read_document(path)
    for key, value in doc.params.arrays().items():
        np.testing.assert_array_equal(getattr(state.params, key), value)
    np.testing.assert_array_equal(state.xs, doc.xs)
    np.testing.assert_array_equal(state.h0, doc.h0)
    np.testing.assert_array_equal(state.c0, doc.c0)
    assert (state.step, state.selection, state.unit, state.units) == (7, "c", 1, (1,))
    assert state.options["concat_h_first"] is False
    assert state.input_names == ("value", "write", "erase")
    assert state.title == doc.title
    assert state.preset == "memory-cell"
    again = files.document_from_file(state)
    np.testing.assert_array_equal(again.trace.h, doc.trace.h)
    assert (again.step, again.selection, again.units, again.dirty) == (7, "c", (1,), False)


def test_restore_into_an_open_document_keeps_its_listeners(tmp_path):
    source = _doc()
    path = tmp_path / "b.lstmviz"
    df.write_document(files.snapshot(source), path)
    target = Document(LSTMParams.random(5, 2, seed=1), np.zeros((10, 2)))
    seen = []
    target.params_changed.connect(lambda p: seen.append("params"))
    target.step_changed.connect(lambda s: seen.append(("step", s)))
    files.restore(target, df.read_document(path))
    assert target.n == 2 and target.step == 7 and "params" in seen and ("step", 7) in seen
    np.testing.assert_array_equal(target.trace.h, source.trace.h)


def test_metadata_records_the_model_origin_and_sha256(tmp_path):
    model = tmp_path / "model.npz"
    params = LSTMParams.random(3, 2, seed=4)
    write_npz_model(params, model)
    doc = Document(params, np.ones((5, 2)))
    doc.set_sources(model_path=str(model))
    path = tmp_path / "c.lstmviz"
    df.write_document(files.snapshot(doc), path)
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read("document.json"))
        names = set(zf.namelist())
    assert meta["format"] == "lstmviz-document" and meta["format_version"] == 1  # no what-if: version 1
    assert meta["model"]["path"] == str(model)
    assert meta["model"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert "cells/0/W_f.npy" in names and "input/xs.npy" in names
    assert df.read_document(path).model_sha256 == meta["model"]["sha256"]


def test_stacked_and_peephole_cells_survive(tmp_path):
    first = LSTMParams.random(4, 2, seed=1)
    back = LSTMParams.random(4, 2, seed=2).replace(reverse=True)
    top = LSTMParams.random(3, 8, seed=3).replace(
        upstream=((first, back),), p_i=np.ones(3), p_f=np.zeros(3), p_o=np.full(3, 0.5),
        recurrent_activation="hard_sigmoid")
    doc = Document(top, np.random.default_rng(0).normal(size=(12, 2)))
    path = tmp_path / "stack.lstmviz"
    df.write_document(files.snapshot(doc), path)
    state = df.read_document(path)
    assert state.params.recurrent_activation == "hard_sigmoid"
    assert state.params.upstream[0][1].reverse is True
    np.testing.assert_array_equal(state.params.p_o, top.p_o)
    np.testing.assert_array_equal(files.document_from_file(state).trace.h, doc.trace.h)


def test_write_is_atomic_and_cancellable(tmp_path):
    path = tmp_path / "d.lstmviz"
    path.write_bytes(b"earlier")
    with pytest.raises(ExportCancelled):
        df.write_document(files.snapshot(_doc()), path, progress=lambda f: False)
    assert path.read_bytes() == b"earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["d.lstmviz"]
    fractions = []
    df.write_document(files.snapshot(_doc()), path, progress=lambda f: fractions.append(f) or True)
    assert fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)


def _rewrite(src, dst, change=None, extra=()):
    """Copy a document, letting `change(name, data)` alter (or drop, None) members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if change is not None:
                data = change(info.filename, data)
            if data is not None:
                zout.writestr(info.filename, data)
        for name, data in extra:
            zout.writestr(name, data)


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "ok.lstmviz"
    df.write_document(files.snapshot(_doc()), path)
    return path


def test_unexpected_members_are_never_read(saved, tmp_path, monkeypatch):
    evil = tmp_path / "evil.lstmviz"
    _rewrite(saved, evil, extra=[("../../etc/passwd", b"x"), ("cells/0/evil.npy", b"x" * 100),
                                  ("payload.pkl", b"cos\nsystem\n")])
    opened = []
    real_open = zipfile.ZipFile.open

    def spy(self, name, *args, **kwargs):
        opened.append(name if isinstance(name, str) else name.filename)
        return real_open(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    state = df.read_document(evil)
    assert state.step == 7
    assert not {"../../etc/passwd", "cells/0/evil.npy", "payload.pkl"} & set(opened)


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("change, message", [
    (lambda n, d: None if n == "cells/0/U_f.npy" else d, "cells/0/U_f.npy is missing"),
    (lambda n, d: None if n == "document.json" else d, "no document.json"),
    (lambda n, d: b"{not json" if n == "document.json" else d, "document.json is not valid JSON"),
    (lambda n, d: json.dumps({**json.loads(d), "format_version": 99}).encode() if n == "document.json" else d,
     "newer lstmviz .format version 99"),
    (lambda n, d: json.dumps({**json.loads(d), "format": "other"}).encode() if n == "document.json" else d,
     "does not describe a lstmviz-document"),
    (lambda n, d: _npy(np.zeros((3, 3))) if n == "cells/0/W_f.npy" else d,
     r"cells/0: W_f has shape \(3, 3\), expected \(2, 3\)"),
    (lambda n, d: _npy(np.array(["a", "b"])) if n == "cells/0/b_f.npy" else d, "b_f.npy has dtype <U1"),
    (lambda n, d: d[:-20] if n == "input/xs.npy" else d, "input/xs.npy is truncated"),
    (lambda n, d: _npy(np.full((4, 3), np.nan)) if n == "input/xs.npy" else d, "input/xs.npy row 1, column 1"),
    (lambda n, d: _npy(np.zeros((4, 2))) if n == "input/xs.npy" else d, "2 columns but the model expects m = 3"),
    (lambda n, d: d.replace(b"NUMPY", b"NOPEY") if n == "state/h0.npy" else d, "state/h0.npy is not a readable"),
])
def test_bad_documents_name_the_member(saved, tmp_path, change, message):
    bad = tmp_path / "bad.lstmviz"
    _rewrite(saved, bad, change)
    with pytest.raises(LstmvizError, match=message) as info:
        df.read_document(bad)
    assert str(info.value).startswith(str(bad))


def test_pickled_arrays_are_refused(saved, tmp_path):
    bad = tmp_path / "pickle.lstmviz"
    obj = io.BytesIO()
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _rewrite(saved, bad, lambda n, d: obj.getvalue() if n == "cells/0/b_i.npy" else d)
    with pytest.raises(LstmvizError, match="b_i.npy holds Python objects"):
        df.read_document(bad)


def test_size_caps(saved, tmp_path, monkeypatch):
    monkeypatch.setattr(df, "MAX_ARRAY_BYTES", 200)
    with pytest.raises(LstmvizError, match=r"input/xs.npy' is .*, more than lstmviz reads \(200 bytes\)"):
        df.read_document(saved)
    monkeypatch.setattr(df, "MAX_ARRAY_BYTES", 2**31)
    monkeypatch.setattr(df, "MAX_META_BYTES", 50)
    with pytest.raises(LstmvizError, match="document.json is .* bytes, more than 50"):
        df.read_document(saved)
    monkeypatch.setattr(df, "MAX_META_BYTES", 2**22)
    monkeypatch.setattr("lstmviz.io.zipsafe.MAX_MEMBERS", 3)  # the cap every zip reader shares
    with pytest.raises(LstmvizError, match="members, more than the 3 lstmviz reads"):
        df.read_document(saved)


def test_a_member_that_lies_about_its_size(saved, tmp_path):
    """A header declaring a huge array in a small member is refused before allocating."""
    bad = tmp_path / "lie.lstmviz"
    header = _npy(np.zeros((1, 3)))
    lie = header.replace(b"(1, 3)", b"(9999999, 3)")
    _rewrite(saved, bad, lambda n, d: lie if n == "input/xs.npy" else d)
    with pytest.raises(LstmvizError, match="input/xs.npy"):
        df.read_document(bad)


def test_duplicate_members_and_junk(saved, tmp_path):
    dup = tmp_path / "dup.lstmviz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _rewrite(saved, dup, extra=[("input/xs.npy", _npy(np.zeros((4, 3))))])
    with pytest.raises(LstmvizError, match="names 'input/xs.npy' twice"):
        df.read_document(dup)
    junk = tmp_path / "junk.lstmviz"
    junk.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(LstmvizError, match="not a .lstmviz document"):
        df.read_document(junk)
    with pytest.raises(LstmvizError, match="no such file"):
        df.read_document(tmp_path / "missing.lstmviz")


def test_cli_trace_reads_a_document(saved, tmp_path, capsys):
    out = tmp_path / "from-doc.csv"
    assert cli_main(["trace", "--document", str(saved), "--out", str(out), "--preactivations"]) == 0
    state = df.read_document(saved)
    from lstmviz.core.cell import run

    expected = tmp_path / "expected.csv"
    write_trace_csv(run(state.params, state.xs, h0=state.h0, c0=state.c0), expected, preactivations=True)
    assert out.read_bytes() == expected.read_bytes()
    assert cli_main(["trace", "--document", str(saved), "--model", "x.npz", "--out", str(out)]) == 2
    assert "without --model" in capsys.readouterr().err
    assert cli_main(["trace", "--out", str(out)]) == 2
    assert "--document" in capsys.readouterr().err
    assert cli_main(["trace", "--document", str(tmp_path / "nope.lstmviz"), "--out", str(out)]) == 2
    assert "nope.lstmviz: no such file" in capsys.readouterr().err


# -- what-if interventions -------------------------------------------------------------------------
def _whatif_doc() -> Document:
    from lstmviz.core.analysis.whatif import BiasOffset, ClampGate, ZeroUnit

    doc = _doc()
    doc.set_interventions((ClampGate("f", 0.0, units=(0,), steps=(10, 20)), ZeroUnit(units=(1,), steps=(30, 31)),
                           BiasOffset("i", 0.75)))
    return doc


def test_interventions_round_trip(tmp_path):
    doc = _whatif_doc()
    path = tmp_path / "whatif.lstmviz"
    df.write_document(files.snapshot(doc), path)
    state = df.read_document(path)
    assert state.interventions == doc.interventions
    assert state.meta["format_version"] == 2 and len(state.meta["whatif"]["interventions"]) == 3
    again = files.document_from_file(state)
    assert again.interventions == doc.interventions and not again.dirty
    np.testing.assert_array_equal(again.trace.c, doc.trace.c)
    assert not np.array_equal(again.trace.c, again.baseline_trace.c)
    # restoring a document without interventions into one with them drops them
    plain = tmp_path / "plain.lstmviz"
    df.write_document(files.snapshot(_doc()), plain)
    files.restore(again, df.read_document(plain))
    assert again.interventions == ()
    np.testing.assert_array_equal(again.trace.c, _doc().trace.c)


def test_documents_without_interventions_stay_version_1_and_old_ones_open(saved):
    state = df.read_document(saved)
    assert state.meta["format_version"] == 1 and "whatif" not in state.meta
    assert state.interventions == ()


@pytest.mark.parametrize("whatif, message", [
    ({"interventions": [{"kind": "melt"}]}, "whatif: unknown intervention kind 'melt'"),
    ({"interventions": [{"kind": "zero", "units": [5]}]}, r"whatif: h = c = 0 .*unit 5 is not in 0..1"),
    ({"interventions": "clamp"}, "whatif.interventions is 'clamp', expected list"),
])
def test_bad_interventions_are_named(saved, tmp_path, whatif, message):
    bad = tmp_path / "bad-whatif.lstmviz"
    _rewrite(saved, bad, lambda n, d: json.dumps({**json.loads(d), "whatif": whatif}).encode()
             if n == "document.json" else d)
    with pytest.raises(LstmvizError, match=message):
        df.read_document(bad)


def test_cli_trace_of_a_document_applies_its_interventions(tmp_path):
    from lstmviz.io.csv import write_trace_csv

    doc = _whatif_doc()
    path = tmp_path / "whatif.lstmviz"
    df.write_document(files.snapshot(doc), path)
    out, expected = tmp_path / "cli.csv", tmp_path / "expected.csv"
    assert cli_main(["trace", "--document", str(path), "--out", str(out)]) == 0
    write_trace_csv(doc.trace, expected)
    assert out.read_bytes() == expected.read_bytes()


# -- complete validation (issue 12): a document or autosave is checked in full before use ----------
def _with_meta(saved, tmp_path, edit) -> Path:
    bad = tmp_path / "edited.lstmviz"

    def change(name, data):
        if name != "document.json":
            return data
        meta = json.loads(data)
        edit(meta)
        return json.dumps(meta).encode()  # allow_nan: Infinity and NaN as JSON writes them

    _rewrite(saved, bad, change)
    return bad


def _set(*keys, value):
    def edit(meta):
        node = meta
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value

    return edit


@pytest.mark.parametrize("edit, message", [
    (_set("view", "options", "trace_window", value="abc"),
     r"view.options.trace_window is 'abc', expected a whole number in 10..1e\+07"),
    (_set("view", "options", "trace_window", value=5), "trace_window is 5, expected a whole number"),
    (_set("view", "options", "playback_fps", value=float("inf")), "playback_fps is inf, expected a number"),
    (_set("view", "options", "trace_display", value="zzz"), "trace_display is 'zzz', expected one of auto"),
    (_set("view", "options", "show_concat", value="yes"), "show_concat is 'yes', expected true or false"),
    (_set("view", "options", value=[1]), "view.options is \\[1\\], expected an object"),
    (_set("view", "selection", value="zzz"), "view.selection is 'zzz', expected one of"),
    (_set("view", "step", value=7.5), r"view.step is 7.5, expected a step in 0..\d+"),
    (_set("view", "step", value=10**6), r"view.step is 1000000, expected a step in 0..\d+"),
    (_set("view", "unit", value=-1), r"view.unit is -1, expected a unit in 0..1"),
    (_set("view", "units", value=[0, 99]), r"view.units is \[0, 99\], expected a list of units in 0..1"),
    (_set("view", "units", value=[True]), r"view.units is \[True\]"),
    (_set("view", value="abc"), "document.json: view is not an object"),
    (_set("title", value=["x"]), "title is not a text"),
    (_set("model", "sha256", value="xyz"), "model.sha256 is 'xyz', expected 64 hexadecimal digits"),
    (_set("input", "names", value=[1, 2]), "input.names is not a list of texts"),
    (_set("whatif", "interventions", value=[{"kind": "zero", "units": [float("inf")]}]),
     r"whatif.interventions\[0\].units is \[inf\], expected a list of unit numbers"),
    (_set("whatif", "interventions", value=[{"kind": "clamp", "gate": "f", "value": float("nan")}]),
     r"interventions\[0\].value is nan, expected a finite number"),
    (_set("whatif", "interventions", value=[{"kind": "clamp", "gate": "f", "value": 7}]),
     r"interventions\[0\].value is 7, expected -1..1"),
    (_set("whatif", "interventions", value=[{"kind": "bias", "gate": "i", "delta": 1, "steps": [0, 1e9]}]),
     r"interventions\[0\].steps is \[0, 1000000000.0\], expected \[start, stop\]"),
    (_set("whatif", "interventions", value=[{"kind": "zero", "steps": [2, 99]}]),
     "whatif: .*steps go to 98"),
])
def test_every_field_is_validated_and_named(saved, tmp_path, edit, message):
    bad = _with_meta(saved, tmp_path, edit)
    with pytest.raises(LstmvizError, match=message) as caught:
        df.read_document(bad)
    assert str(caught.value).startswith(f"{bad}: document.json: "), str(caught.value)


def test_unknown_options_are_dropped_not_taken_in(saved, tmp_path):
    bad = _with_meta(saved, tmp_path, _set("view", "options", "from_a_newer_lstmviz", value={"x": 1}))
    state = df.read_document(bad)
    assert "from_a_newer_lstmviz" not in state.options and state.options["concat_h_first"] is False


def test_a_document_with_no_units_names_the_file_and_the_cell(tmp_path):
    path = tmp_path / "n0.lstmviz"
    meta = {"format": df.FORMAT, "format_version": 1,
            "cells": [{"n": 0, "m": 2, "arrays": [], "upstream": []}]}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("document.json", json.dumps(meta))
        for k in "WUb":
            for g in "ifgo":
                shape = (0, 2) if k == "W" else (0, 0) if k == "U" else (0,)
                zf.writestr(f"cells/0/{k}_{g}.npy", _npy(np.zeros(shape)))
        zf.writestr("input/xs.npy", _npy(np.zeros((4, 2))))
    with pytest.raises(LstmvizError) as caught:
        df.read_document(path)
    assert str(caught.value) == (f"{path}: cells/0: the cell has n = 0 units and m = 2 inputs; "
                                 "both must be at least 1")


def test_cli_refuses_a_crafted_document_in_one_line(saved, tmp_path, capsys):
    bad = _with_meta(saved, tmp_path, _set("whatif", "interventions",
                                           value=[{"kind": "zero", "units": [float("inf")]}]))
    out = tmp_path / "out.csv"
    assert cli_main(["trace", "--document", str(bad), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"lstmviz: error: {bad}: document.json: whatif")
    assert not out.exists()


def test_projected_and_masked_cells_survive_a_document(tmp_path):
    """An LSTMP cell (h has p entries) and a Keras mask value come back from a .lstmviz file, and
    the reopened cell computes the same trace as a plain loop over its own arrays."""
    rng = np.random.default_rng(4)
    n, p, m = 4, 2, 3
    arrays = {f"{kind}_{g}": rng.normal(size=shape) for g in "ifgo"
              for kind, shape in (("W", (n, m)), ("U", (n, p)), ("b", (n,)))}
    params = LSTMParams(**arrays, W_hr=rng.normal(size=(p, n)), mask_value=0.0)
    xs = rng.normal(size=(6, m))
    xs[2] = 0.0  # a masked step
    path = tmp_path / "p.lstmviz"
    df.write_document(df.DocumentState(params=params, xs=xs), path)
    back = df.read_document(path).params
    np.testing.assert_array_equal(back.W_hr, params.W_hr)
    assert back.mask_value == 0.0 and back.h_size == p and back.n == n

    def sig(z):
        return 1 / (1 + np.exp(-z))

    h, c = np.zeros(p), np.zeros(n)
    from lstmviz.core.cell import run

    trace = run(back, xs)
    for t, x in enumerate(xs):
        z = {g: arrays[f"W_{g}"] @ x + arrays[f"U_{g}"] @ h + arrays[f"b_{g}"] for g in "ifgo"}
        c_new = sig(z["f"]) * c + sig(z["i"]) * np.tanh(z["g"])
        h_new = params.W_hr @ (sig(z["o"]) * np.tanh(c_new))
        if not (x == 0.0).all():
            h, c = h_new, c_new
        np.testing.assert_allclose(trace.h[t], h, atol=1e-12)
        np.testing.assert_allclose(trace.c[t], c, atol=1e-12)


def test_the_document_keeps_every_view_option_within_what_a_file_may_hold():
    """One list of view options and their values (OPTION_RULES): the Document's ViewOptions
    has the same keys, and a value it takes is one a document file opens with."""
    from lstmviz.document.state import ViewOptions
    from lstmviz.io.view_options import OPTION_RULES, check_option

    assert set(ViewOptions.keys()) == set(OPTION_RULES)
    options = ViewOptions()
    for key, (kind, *allowed) in OPTION_RULES.items():
        tries = {bool: [True, False], str: allowed}.get(kind, [-1e12, 0, 3.7, 1e12])
        for value in tries:
            kept = options.with_value(key, value).get(key)
            assert check_option(key, kept, key) is None, (key, value, kept)
        assert check_option(key, options.get(key), key) is None  # the defaults too
