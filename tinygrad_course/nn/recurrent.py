"""Recurrent layers with PyTorch's parameter names, shapes, gate order and init: RNN, LSTM, GRU and their cells.

Parameters of layer k (suffix ``_reverse`` for the backward direction): ``weight_ih_l{k}``
(G·H, in), ``weight_hh_l{k}`` (G·H, H), ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G·H,), with G = 1
(RNN), 4 (LSTM: gates i, f, g, o) or 3 (GRU: r, z, n); every entry starts U(−1/√H, 1/√H). So
``load_state_dict(torch_model.state_dict())`` works, and the outputs agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn import init
from tinygrad_course.nn.module import Module, Parameter
from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor.movement_methods import cat, stack

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _param(shape: tuple[int, ...], dtype: Any) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)))


def _rnn_step(mode: str, x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
              b_hh: Tensor | None) -> Tensor:
    z = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    return z.tanh() if mode == "RNN_TANH" else z.relu()


def _lstm_step(x: Tensor, h: Tensor, c: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
               b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, -1)
    c = f.sigmoid() * c + i.sigmoid() * g.tanh()
    return o.sigmoid() * c.tanh(), c


def _gru_step(x: Tensor, h: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    xr, xz, xn = F.linear(x, w_ih, b_ih).chunk(3, -1)
    hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, -1)
    r = (xr + hr).sigmoid()
    z = (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1.0 - z) * n + z * h


class _CellBase(Module):
    _mode = "RNN_TANH"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        g = _GATES[self._mode]
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _param((g * hidden_size, input_size), dtype)
        self.weight_hh = _param((g * hidden_size, hidden_size), dtype)
        if bias:
            self.bias_ih = _param((g * hidden_size,), dtype)
            self.bias_hh = _param((g * hidden_size,), dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(−1/√H, 1/√H)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _batched(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor | None, bool]:
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input (N, {self.input_size}) or ({self.input_size},), got {input.shape}")
        single = input.ndim == 1
        if single:
            input = input.unsqueeze(0)
            if hx is not None:
                hx = hx.unsqueeze(0)
        return input, hx, single

    def _zeros(self, input: Tensor) -> Tensor:
        return Tensor._make(np.zeros((input.shape[0], self.hidden_size), dtype=input.dtype), None)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(_CellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 dtype: Any = None) -> None:
        """Create and initialise the weights."""
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        self.__dict__["_mode"] = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """One step: h' of shape (N, H) (or (H,) for unbatched input)."""
        input, hx, single = self._batched(input, hx)
        h = self._zeros(input) if hx is None else hx
        out = _rnn_step(self._mode, input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if single else out


class LSTMCell(_CellBase):
    """Gates i, f, g, o = σ, σ, tanh, σ of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh; c' = f c + i g, h' = o tanh c'."""

    _mode = "LSTM"

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        """One step: (h', c')."""
        h0, c0 = (None, None) if hx is None else hx
        input, h0, single = self._batched(input, h0)
        if single and c0 is not None:
            c0 = c0.unsqueeze(0)
        h = self._zeros(input) if h0 is None else h0
        c = self._zeros(input) if c0 is None else c0
        h, c = _lstm_step(input, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if single else (h, c)


class GRUCell(_CellBase):
    """r, z = σ(…), n = tanh(x W_inᵀ + b_in + r (h W_hnᵀ + b_hn)), h' = (1 − z) n + z h."""

    _mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        """One step: h'."""
        input, hx, single = self._batched(input, hx)
        h = self._zeros(input) if hx is None else hx
        out = _gru_step(input, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if single else out


class RNNBase(Module):
    """Multi-layer, optionally bidirectional recurrence over a sequence (L, N, H_in) or (N, L, H_in) if batch_first."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, dtype: Any = None) -> None:
        """Create weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, weight_hr_l{k} (and _reverse) in PyTorch's order."""
        super().__init__()
        if proj_size < 0:
            raise ValueError(f"{mode}: proj_size should be a positive integer or zero to disable projections, got {proj_size}")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if proj_size >= hidden_size and proj_size:
            raise ValueError(f"LSTM: proj_size ({proj_size}) has to be smaller than hidden_size ({hidden_size})")
        if not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1]")
        if num_layers < 1:
            raise ValueError("num_layers must be at least 1")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        g = _GATES[mode]
        dirs = 2 if bidirectional else 1
        # With a projection (LSTM only) the hidden state h is W_hr (o ⊙ tanh c), of size proj_size.
        out_size = proj_size or hidden_size
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else out_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                setattr(self, "weight_ih" + sfx, _param((g * hidden_size, size_in), dtype))
                setattr(self, "weight_hh" + sfx, _param((g * hidden_size, out_size), dtype))
                if bias:
                    setattr(self, "bias_ih" + sfx, _param((g * hidden_size,), dtype))
                    setattr(self, "bias_hh" + sfx, _param((g * hidden_size,), dtype))
                if proj_size:
                    setattr(self, "weight_hr" + sfx, _param((proj_size, hidden_size), dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(−1/√H, 1/√H)."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def _weights(self, layer: int, d: int) -> tuple[Any, ...]:
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        get = self.__dict__.get
        return (get("weight_ih" + sfx), get("weight_hh" + sfx), get("bias_ih" + sfx), get("bias_hh" + sfx),
                get("weight_hr" + sfx))

    def forward(self, input: Tensor, hx: Any = None) -> tuple[Tensor, Any]:
        """(output, h_n) — for LSTM (output, (h_n, c_n)); output (L, N, D·H_out), h_n (D·num_layers, N, H_out).

        H_out is proj_size when set (c_n keeps hidden_size), else hidden_size.
        """
        lstm = self.mode == "LSTM"
        if input.ndim not in (2, 3) or input.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: expected input with {self.input_size} features in its last dim "
                             f"and 2 or 3 dims, got {input.shape}")
        single = input.ndim == 2
        if single:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        seq, n = input.shape[:2]
        dirs = 2 if self.bidirectional else 1
        out_size = self.proj_size or self.hidden_size
        want_h = (self.num_layers * dirs, n, out_size)
        want_c = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            h0 = Tensor._make(np.zeros(want_h, dtype=input.dtype), None)
            c0 = Tensor._make(np.zeros(want_c, dtype=input.dtype), None) if lstm else None
        elif lstm:
            h0, c0 = hx
        else:
            h0, c0 = hx, None
        if h0.shape != want_h:
            raise ValueError(f"{type(self).__name__}: expected hidden size {want_h}, got {h0.shape}")
        if c0 is not None and c0.shape != want_c:
            raise ValueError(f"{type(self).__name__}: expected cell size {want_c}, got {c0.shape}")
        layer_input = input
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(layer, d)
                h = h0[k]
                c = c0[k] if lstm else None
                steps = range(seq - 1, -1, -1) if d else range(seq)
                ys: list[Tensor] = [None] * seq  # type: ignore[list-item]
                for t in steps:
                    x = layer_input[t]
                    if lstm:
                        h, c = _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh)
                        if w_hr is not None:
                            h = h @ w_hr.T
                    elif self.mode == "GRU":
                        h = _gru_step(x, h, w_ih, w_hh, b_ih, b_hh)
                    else:
                        h = _rnn_step(self.mode, x, h, w_ih, w_hh, b_ih, b_hh)
                    ys[t] = h
                outs.append(stack(ys, 0))
                h_n.append(h)
                if lstm:
                    c_n.append(c)
            layer_input = outs[0] if dirs == 1 else cat(outs, 2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        output = layer_input
        hn = stack(h_n, 0)
        cn = stack(c_n, 0) if lstm else None
        if single:
            output = output.squeeze(1)
            hn = hn.squeeze(1)
            cn = cn.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (hn, cn)) if lstm else (output, hn)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh) (nonlinearity='relu' for ReLU)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None) -> None:
        """PyTorch's signature (positional order as torch.nn.RNN)."""
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or 'relu'")
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o (PyTorch's order); forward returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 dtype: Any = None) -> None:
        """PyTorch's signature; proj_size > 0 projects h to that size with weight_hr_l{k}."""
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n (PyTorch's order)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 dtype: Any = None) -> None:
        """PyTorch's signature."""
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         dtype=dtype)
