"""lstmviz.from_torch / from_keras / show on live framework objects.

The conversion is tested without any framework through fake objects with the attributes the
real ones have (state_dict(), _modules, get_weights(), activation functions), checked against
a plain loop written here; the live tests run against torch itself where it is installed
(a throwaway venv with `pip install torch==2.13.0`) and skip elsewhere."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

import lstmviz
from lstmviz.errors import LstmvizError


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _loop(W, U, b, xs, order="ifgo"):
    """h_t of a standard LSTM, W (4n, m), U (4n, n), stacked blocks in `order`."""
    n = U.shape[1]
    h, c, out = np.zeros(n), np.zeros(n), []
    for x in xs:
        z = W @ x + U @ h + b
        gate = {name: z[k * n : (k + 1) * n] for k, name in enumerate(order)}
        i, f, g, o = _sigmoid(gate["i"]), _sigmoid(gate["f"]), np.tanh(gate["g"]), _sigmoid(gate["o"])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.array(out)


# -- fakes with the attributes of torch's objects ------------------------------------------
class FakeTensor:
    def __init__(self, array):
        self.array = np.asarray(array, np.float32)
        self.shape = self.array.shape
        self.dtype = "torch.float32"

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.array


def _fake_class(name, module="torch.nn.modules.rnn"):
    return type(name, (FakeModule,), {"__module__": module})


class FakeModule:
    def __init__(self, **children):
        self._modules = dict(children)
        self._parameters = {}

    def state_dict(self, prefix=""):
        out = {f"{prefix}{k}": v for k, v in self._parameters.items()}
        for name, child in self._modules.items():
            out.update(child.state_dict(f"{prefix}{name}."))
        return out


def _fake_lstm(rng, m, n, cell=False):
    lstm = _fake_class("LSTMCell" if cell else "LSTM")()
    suffix = "" if cell else "_l0"
    lstm._parameters = {
        f"weight_ih{suffix}": FakeTensor(rng.uniform(-1, 1, (4 * n, m))),
        f"weight_hh{suffix}": FakeTensor(rng.uniform(-1, 1, (4 * n, n))),
        f"bias_ih{suffix}": FakeTensor(rng.uniform(-1, 1, 4 * n)),
        f"bias_hh{suffix}": FakeTensor(rng.uniform(-1, 1, 4 * n)),
    }
    lstm.input_size, lstm.hidden_size, lstm.batch_first = m, n, True
    return lstm


def _weights(module, suffix="_l0"):
    p = {k: v.array.astype(np.float64) for k, v in module._parameters.items()}
    return p[f"weight_ih{suffix}"], p[f"weight_hh{suffix}"], p[f"bias_ih{suffix}"] + p[f"bias_hh{suffix}"]


def test_from_torch_on_a_module_holding_an_lstm_and_a_cell():
    rng = np.random.default_rng(5)
    lstm, cell = _fake_lstm(rng, 3, 4), _fake_lstm(rng, 4, 2, cell=True)
    net = _fake_class("TaggerNet", "__main__")(
        encoder=_fake_class("Sequential", "torch.nn")(lstm=lstm), cell=cell
    )
    xs = rng.normal(size=(6, 3))
    params = lstmviz.from_torch(net, layer="encoder.lstm")
    assert params.name == "encoder.lstm.l0" and (params.n, params.m) == (4, 3)
    np.testing.assert_allclose(lstmviz.run(params, xs).h, _loop(*_weights(lstm), xs), atol=1e-12)
    xc = rng.normal(size=(5, 4))
    params = lstmviz.from_torch(net, layer="cell")
    np.testing.assert_allclose(lstmviz.run(params, xc).h, _loop(*_weights(cell, ""), xc), atol=1e-12)
    assert any("batch_first=True" in note for note in lstmviz.from_torch(lstm).notes)


def test_from_torch_refuses_a_module_without_lstm():
    net = _fake_class("Linear", "torch.nn.modules.linear")()
    net._parameters = {"weight": FakeTensor(np.ones((2, 3)))}
    with pytest.raises(LstmvizError, match="holds no nn.LSTM"):
        lstmviz.from_torch(net)


class FakeKerasLSTM:
    def __init__(self, rng, m, n, name="lstm", go_backwards=False):
        self.name, self.go_backwards = name, go_backwards
        self.kernel = rng.uniform(-1, 1, (m, 4 * n))
        self.recurrent = rng.uniform(-1, 1, (n, 4 * n))
        self.bias = rng.uniform(-1, 1, 4 * n)
        self.activation, self.recurrent_activation = np.tanh, _sigmoid_named

    def get_weights(self):
        return [self.kernel, self.recurrent, self.bias]


def _sigmoid_named(x):
    return _sigmoid(x)


_sigmoid_named.__name__ = "sigmoid"
FakeKerasLSTM.__module__ = "keras.src.layers.rnn.lstm"
FakeKerasLSTM.__name__ = FakeKerasLSTM.__qualname__ = "LSTM"


def test_from_keras_on_a_model():
    rng = np.random.default_rng(8)
    first, second = FakeKerasLSTM(rng, 3, 4, "lstm"), FakeKerasLSTM(rng, 4, 2, "lstm_1", go_backwards=True)
    model = types.SimpleNamespace(name="seq", layers=[first, second])
    xs = rng.normal(size=(6, 3))
    params = lstmviz.from_keras(model, layer="lstm")
    # Keras stores kernel (m, 4n) in the order i, f, c, o: the same blocks as torch, transposed
    expected = _loop(first.kernel.T, first.recurrent.T, first.bias, xs)
    np.testing.assert_allclose(lstmviz.run(params, xs).h, expected, atol=1e-12)
    assert lstmviz.from_keras(model, layer="lstm_1").reverse
    with pytest.raises(LstmvizError, match="has no LSTM layer 'nope'"):
        lstmviz.from_keras(model, layer="nope")


def test_show_hands_the_converted_model_to_the_viewer(monkeypatch):
    opened, built = [], []

    class Viewer:
        def __init__(self, show=True, document=None):
            self.show, self.document = show, document
            built.append(document)

        def open(self, path, layer=None, input=None):  # noqa: A002
            opened.append((path, layer, input))
            return self

    monkeypatch.setitem(sys.modules, "lstmviz.gui.viewer", types.SimpleNamespace(Viewer=Viewer))
    rng = np.random.default_rng(2)
    lstm = _fake_lstm(rng, 3, 4)
    xs = rng.normal(size=(5, 3))
    viewer = lstmviz.show(lstm, input=xs.tolist())
    assert viewer.show is True and not opened  # a live model goes in as a Document, no file
    np.testing.assert_array_equal(viewer.document.xs, xs)
    np.testing.assert_allclose(viewer.document.trace.h, _loop(*_weights(lstm), xs), atol=1e-6)
    lstmviz.show("model.pt", layer="lstm")
    assert opened[-1] == ("model.pt", "lstm", None)
    with pytest.raises(LstmvizError, match="cannot show a dict"):
        lstmviz.show({"a": 1})


def test_import_lstmviz_imports_no_framework_and_no_qt():
    code = (
        "import sys, lstmviz; lstmviz.from_torch; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('torch', 'keras', 'PySide6', 'pyqtgraph')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


# -- live, where torch is installed -----------------------------------------------------------
def _torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("torch")


def test_live_torch_bidirectional_stack_and_cell():
    torch = _torch()
    torch.manual_seed(4)
    lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = torch.randn(6, 1, 3)
    with torch.no_grad():
        out = lstm(x)[0][:, 0].numpy()
    xs = x[:, 0].numpy().astype(np.float64)
    np.testing.assert_allclose(lstmviz.run(lstmviz.from_torch(lstm, "l1"), xs).h, out[:, :4], atol=1e-5)
    np.testing.assert_allclose(
        lstmviz.run(lstmviz.from_torch(lstm, "l1_reverse"), xs).h, out[::-1, 4:], atol=1e-5
    )
    cell = torch.nn.LSTMCell(3, 2)
    h = c = torch.zeros(1, 2)
    rows = []
    with torch.no_grad():
        for t in range(6):
            h, c = cell(x[t], (h, c))
            rows.append(h[0].numpy().copy())
    holder = torch.nn.Sequential(torch.nn.Linear(3, 3), cell)
    np.testing.assert_allclose(lstmviz.run(lstmviz.from_torch(holder, "1"), xs).h, np.array(rows), atol=1e-5)


def test_live_torch_projection():
    torch = _torch()
    lstm = torch.nn.LSTM(3, 5, proj_size=2)
    x = torch.randn(6, 1, 3)
    with torch.no_grad():
        out = lstm(x)[0][:, 0].numpy()
    trace = lstmviz.run(lstmviz.from_torch(lstm), x[:, 0].numpy().astype(np.float64))
    np.testing.assert_allclose(trace.h, out, atol=1e-5)
