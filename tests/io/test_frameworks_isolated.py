"""load_model_isolated: the reader runs in a child process; its crashes become LstmvizError."""

from __future__ import annotations

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError
from lstmviz.io.isolated import (
    inspect_model_isolated,
    load_model_isolated,
    params_from_arrays,
    params_to_arrays,
)
from lstmviz.io.models import inspect_model, needs_isolation
from tests.io.frameworks_helpers import FIXTURES


def _same(a, b):
    for key, value in a.arrays().items():
        np.testing.assert_array_equal(value, b.arrays()[key])
    assert set(a.arrays()) == set(b.arrays())
    assert (a.name, a.reverse, a.recurrent_activation, a.cell_activation, a.notes) == (
        b.name,
        b.reverse,
        b.recurrent_activation,
        b.cell_activation,
        b.notes,
    )
    assert len(a.upstream) == len(b.upstream)
    for da, db in zip(a.upstream, b.upstream):
        assert len(da) == len(db)
        for ca, cb in zip(da, db):
            _same(ca, cb)


def test_round_trip_without_pickle():
    params = lstmviz.load_model(FIXTURES / "onnx_torch.onnx", "/LSTM_1/reverse")
    arrays = params_to_arrays(params)
    assert all(value.dtype != object for value in arrays.values())
    _same(params, params_from_arrays(arrays, "x"))


def test_isolated_load_equals_direct_load():
    path = FIXTURES / "keras_func.keras"
    assert needs_isolation(path) and not needs_isolation(FIXTURES / "torch_bidir.pt")
    direct = lstmviz.load_model(path, "bi/backward")
    isolated = load_model_isolated(path, "bi/backward", timeout=60)
    _same(direct, isolated)
    assert isolated.upstream and isolated.reverse
    layers = inspect_model_isolated(FIXTURES / "onnx_peephole.onnx", timeout=60)
    assert [info.to_dict() for info in layers] == [
        info.to_dict() for info in inspect_model(FIXTURES / "onnx_peephole.onnx")
    ]


def test_errors_in_the_child_keep_their_message():
    path = FIXTURES / "keras2_model.h5"
    with pytest.raises(LstmvizError) as caught:
        load_model_isolated(path, "missing", timeout=60)
    assert str(caught.value).startswith(f"{path}: has no LSTM layer 'missing'")


@pytest.mark.parametrize("loader", ["abort_loader", "segfault_loader"])
def test_a_crashing_reader_becomes_an_error(loader):
    path = FIXTURES / "keras2_model.h5"
    with pytest.raises(LstmvizError) as caught:
        load_model_isolated(path, timeout=60, loader=f"tests.io.frameworks_helpers:{loader}")
    message = str(caught.value)
    assert message.startswith(f"{path}: the reader crashed on this file (killed by signal SIG")
    assert "\n" not in message


def test_a_hanging_reader_is_stopped():
    path = FIXTURES / "onnx_bidir.onnx"
    with pytest.raises(LstmvizError, match="took longer than 2 s"):
        load_model_isolated(path, timeout=2, loader="tests.io.frameworks_helpers:slow_loader")


def test_an_unexpected_exception_is_reported_in_one_line():
    path = FIXTURES / "onnx_bidir.onnx"
    with pytest.raises(
        LstmvizError, match="the reader failed on this file .RuntimeError: something unexpected"
    ):
        load_model_isolated(path, timeout=60, loader="tests.io.frameworks_helpers:broken_loader")
