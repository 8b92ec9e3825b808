"""lstmviz.show(model, layer=K) on a live torch module: the window opens on layer K of a stack
as `lstmviz FILE --layer K` opens it (the layers below run first on the input). Without torch:
a fake module with the attributes torch's have (state_dict(), _modules, _parameters), checked
against a plain two-layer loop written here."""

from __future__ import annotations

import numpy as np
import pytest

import lstmviz


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _loop(W, U, b, xs):
    """h_t of a standard LSTM layer, W (4n, m), U (4n, n), gate blocks i, f, g, o."""
    n = U.shape[1]
    h, c, out = np.zeros(n), np.zeros(n), []
    for x in xs:
        z = W @ x + U @ h + b
        i, f, g, o = (z[k * n:(k + 1) * n] for k in range(4))
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        out.append(h)
    return np.array(out)


class FakeTensor:
    def __init__(self, array):
        self.array = np.asarray(array, np.float32)
        self.shape, self.dtype = self.array.shape, "torch.float32"

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.array


class LSTM:  # the attributes of a torch.nn.LSTM(m, n, num_layers=2) that lstmviz reads
    __module__ = "torch.nn.modules.rnn"

    def __init__(self, rng, m, n):
        self._modules = {}
        self._parameters = {}
        for layer, inputs in enumerate((m, n)):
            for name, shape in ((f"weight_ih_l{layer}", (4 * n, inputs)), (f"weight_hh_l{layer}", (4 * n, n)),
                                (f"bias_ih_l{layer}", (4 * n,)), (f"bias_hh_l{layer}", (4 * n,))):
                self._parameters[name] = FakeTensor(rng.uniform(-1, 1, shape))
        self.input_size, self.hidden_size, self.num_layers = m, n, 2

    def state_dict(self, prefix=""):
        return {f"{prefix}{k}": v for k, v in self._parameters.items()}

    def weights(self, layer):
        p = {k: v.array.astype(np.float64) for k, v in self._parameters.items()}
        return (p[f"weight_ih_l{layer}"], p[f"weight_hh_l{layer}"],
                p[f"bias_ih_l{layer}"] + p[f"bias_hh_l{layer}"])


@pytest.fixture
def shown(qtbot, monkeypatch):
    from lstmviz.gui import errors_dialog

    monkeypatch.setattr(errors_dialog, "install", lambda: None)  # keep pytest's own hooks
    viewers = []

    def show(*args, **kwargs):
        viewer = lstmviz.show(*args, **kwargs)
        qtbot.addWidget(viewer.window)
        viewers.append(viewer)
        return viewer

    yield show
    for viewer in viewers:
        viewer.close()


@pytest.mark.parametrize("layer", [1, "1", "l1"])
def test_show_opens_the_second_layer_of_a_live_stack(shown, layer):
    rng = np.random.default_rng(3)
    lstm = LSTM(rng, 3, 4)
    xs = rng.normal(size=(7, 3))
    viewer = shown(lstm, input=xs, layer=layer)
    doc = viewer.document
    expected = _loop(*lstm.weights(1), _loop(*lstm.weights(0), xs))
    assert doc.params.name == "l1" and len(doc.params.upstream) == 1
    np.testing.assert_array_equal(doc.xs, xs)  # the user's sequence, not layer 0's output
    np.testing.assert_allclose(doc.trace.h, expected, atol=1e-6)
    assert "l1" in viewer.window.windowTitle()
    viewer.set_step(5)
    doc.set_selection("h")
    viewer._process()
    from lstmviz.gui.inspector import Inspector

    text = viewer.window.findChild(Inspector).plain_text()
    assert "Step t = 5" in text


def test_show_without_an_input_runs_a_generated_one_like_the_command_line(shown):
    from lstmviz.document.opening import generated_input

    rng = np.random.default_rng(4)
    lstm = LSTM(rng, 2, 3)
    viewer = shown(lstm, layer=1)
    doc = viewer.document
    # the input `lstmviz FILE --layer 1` makes up for a model opened without one
    np.testing.assert_array_equal(doc.xs, generated_input(2))
    expected = _loop(*lstm.weights(1), _loop(*lstm.weights(0), doc.xs))
    np.testing.assert_allclose(doc.trace.h, expected, atol=1e-6)


def test_show_refuses_an_input_of_the_wrong_width(shown):
    from lstmviz.errors import LstmvizError

    lstm = LSTM(np.random.default_rng(5), 3, 4)
    with pytest.raises(LstmvizError, match="m = 3 inputs per step"):
        shown(lstm, input=np.zeros((4, 2)), layer=1)
