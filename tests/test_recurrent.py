"""RNN/LSTM/GRU and their cells: shapes, names, step-by-step equality with the cells, gradcheck."""

from __future__ import annotations

import numpy as np

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
