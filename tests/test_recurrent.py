"""RNN/LSTM/GRU and their cells: shapes, names, step-by-step equality with the cells, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn


def test_parameter_names_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert list(shapes)[:4] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert shapes["weight_ih_l0"] == (20, 3)
    assert shapes["weight_ih_l1_reverse"] == (20, 10)
    assert nn.GRU(3, 5).weight_hh_l0.shape == (15, 5)
    assert nn.RNNCell(3, 5, bias=False).bias_ih is None


def test_sequence_equals_cells_step_by_step():
    tc.manual_seed(0)
    x = tc.randn(4, 2, 3)
    for seq_cls, cell_cls in ((nn.RNN, nn.RNNCell), (nn.GRU, nn.GRUCell), (nn.LSTM, nn.LSTMCell)):
        seq = seq_cls(3, 5)
        cell = cell_cls(3, 5)
        cell.load_state_dict({k[:-3]: v for k, v in seq.state_dict().items()})
        out, hn = seq(x)
        state = None
        for t in range(4):
            state = cell(x[t], state)
            h = state[0] if isinstance(state, tuple) else state
            np.testing.assert_allclose(out[t].detach().numpy(), h.detach().numpy(), rtol=1e-5, atol=1e-6)
        last = hn[0] if isinstance(hn, tuple) else hn
        np.testing.assert_allclose(last[0].detach().numpy(), h.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_batch_first_bidirectional_shapes():
    gru = nn.GRU(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    out, hn = gru(tc.randn(2, 6, 3))
    assert out.shape == (2, 6, 8) and hn.shape == (4, 2, 4)
    out, (h, c) = nn.LSTM(3, 4)(tc.randn(6, 3))
    assert out.shape == (6, 4) and h.shape == (1, 4) and c.shape == (1, 4)


def test_gradcheck_lstm_and_gru():
    tc.set_default_dtype(tc.float64)
    try:
        lstm = nn.LSTM(2, 3, bidirectional=True)
        gru = nn.GRU(2, 3, num_layers=2)
        rnn = nn.RNN(2, 3, nonlinearity="tanh", batch_first=True)
    finally:
        tc.set_default_dtype(tc.float32)
    x = tc.tensor(np.random.default_rng(0).standard_normal((3, 2, 2)), requires_grad=True)
    assert tc.gradcheck(lambda a: lstm(a)[0], (x,))
    assert tc.gradcheck(lambda a: gru(a)[1], (x,))
    assert tc.gradcheck(lambda a: rnn(a)[0], (x,))
    # Second order too (create_graph through the gates), as the function transforms need.
    assert tc.gradgradcheck(lambda a: lstm(a)[0], (x,))
    assert tc.gradgradcheck(lambda a: gru(a)[1], (x,))
    assert tc.gradgradcheck(lambda a: rnn(a)[1], (x,))


def test_lstm_projection():
    tc.set_default_dtype(tc.float64)
    try:
        lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
        one = nn.LSTM(3, 5, proj_size=2)
    finally:
        tc.set_default_dtype(tc.float32)
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    # PyTorch's order and shapes: weight_hr after the biases; the next layer reads 2·proj_size.
    assert list(shapes)[:5] == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert shapes["weight_hh_l0"] == (20, 2) and shapes["weight_hr_l0_reverse"] == (2, 5)
    assert shapes["weight_ih_l1"] == (20, 4)
    x = tc.tensor(np.random.default_rng(1).standard_normal((4, 3, 3)), requires_grad=True)
    out, (h, c) = lstm(x)
    assert out.shape == (4, 3, 4) and h.shape == (4, 3, 2) and c.shape == (4, 3, 5)
    # By hand in numpy: gates i, f, g, o from x and the projected h; h = (σ(o) ⊙ tanh c) W_hrᵀ.
    w = {k: v.detach().numpy() for k, v in one.state_dict().items()}
    xs = x.detach().numpy()
    h, c, steps = np.zeros((3, 2)), np.zeros((3, 5)), []
    for t in range(4):
        z = xs[t] @ w["weight_ih_l0"].T + w["bias_ih_l0"] + h @ w["weight_hh_l0"].T + w["bias_hh_l0"]
        zi, zf, zg, zo = np.split(z, 4, axis=1)
        c = c / (1 + np.exp(-zf)) + np.tanh(zg) / (1 + np.exp(-zi))
        h = (np.tanh(c) / (1 + np.exp(-zo))) @ w["weight_hr_l0"].T
        steps.append(h)
    with tc.no_grad():
        out1, (h1, c1) = one(x.detach())
    np.testing.assert_allclose(out1.numpy(), np.stack(steps), rtol=1e-10)
    np.testing.assert_allclose(h1.numpy()[0], h, rtol=1e-10)
    np.testing.assert_allclose(c1.numpy()[0], c, rtol=1e-10)
    assert tc.gradcheck(lambda a: lstm(a)[0], (x,))
    with pytest.raises(ValueError, match=r"proj_size \(5\) has to be smaller than hidden_size \(5\)"):
        nn.LSTM(3, 5, proj_size=5)
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.RNNBase("GRU", 3, 5, proj_size=2)
    with pytest.raises(ValueError, match="expected hidden size"):
        lstm(x, (tc.zeros(4, 3, 5, dtype=tc.float64), tc.zeros(4, 3, 5, dtype=tc.float64)))
    assert "proj_size=2" in repr(lstm)
