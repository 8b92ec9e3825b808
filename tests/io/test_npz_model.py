"""The native .npz model format."""

import numpy as np
import pytest

from lstmviz.core.params import LSTMParams
from lstmviz.errors import LstmvizError
from lstmviz.io.models import load_model
from lstmviz.io.npz import write_npz_model


def test_round_trip(tmp_path):
    params = LSTMParams.random(4, 2, seed=1).replace(p_f=np.arange(4.0), h0=np.ones(4))
    path = tmp_path / "m.npz"
    write_npz_model(params, path)
    back = load_model(path)
    for key, value in params.arrays().items():
        np.testing.assert_array_equal(getattr(back, key), value)
    assert back.p_i is None and back.c0 is None


def test_missing_key(tmp_path):
    arrays = LSTMParams.random(3, 2).arrays()
    del arrays["U_o"]
    path = tmp_path / "m.npz"
    np.savez(path, **arrays)
    with pytest.raises(LstmvizError, match=r"m.npz: missing U_o"):
        load_model(path)


def test_wrong_shape_names_file_and_array(tmp_path):
    arrays = LSTMParams.random(3, 2).arrays()
    arrays["W_g"] = np.zeros((3, 5))
    path = tmp_path / "m.npz"
    np.savez(path, **arrays)
    with pytest.raises(LstmvizError, match=r"m.npz: W_g has shape \(3, 5\), expected \(3, 2\)"):
        load_model(path)


def test_nan_and_pickle_are_refused(tmp_path):
    arrays = LSTMParams.random(3, 2).arrays()
    arrays["b_i"] = np.array([0.0, np.nan, 0.0])
    path = tmp_path / "m.npz"
    np.savez(path, **arrays)
    with pytest.raises(LstmvizError, match=r"b_i\[1\] is NaN"):
        load_model(path)
    arrays = LSTMParams.random(3, 2).arrays()
    arrays["W_i"] = np.array([object()] * 6, dtype=object).reshape(3, 2)
    np.savez(path, **arrays)
    with pytest.raises(LstmvizError, match="m.npz"):
        load_model(path)


def test_not_a_zip(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(LstmvizError, match="m.npz: not a readable .npz"):
        load_model(path)
