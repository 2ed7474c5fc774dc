"""Transformer layers with PyTorch's names: TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer,
TransformerDecoder and Transformer (Vaswani et al., 2017).

Submodules and parameters are named as in PyTorch (``self_attn``, ``multihead_attn``, ``linear1``,
``norm1``, ``layers.0.…``), so a torch state_dict loads into them and gives the same outputs and
gradients. The attention is `nn.MultiheadAttention`; the encoder and decoder stack deep copies
of the layer they are given, as PyTorch's do.

    >>> import tinygrad_course as tc
    >>> from tinygrad_course import nn
    >>> layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
    >>> encoder = nn.TransformerEncoder(layer, num_layers=2)
    >>> encoder(tc.randn(3, 5, 8)).shape  # (N, S, E)
    (3, 5, 8)
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn import init
from tinygrad_course.nn.activation import GELU, ReLU
from tinygrad_course.nn.attention import MultiheadAttention
from tinygrad_course.nn.containers import ModuleList
from tinygrad_course.nn.functional import _float_mask
from tinygrad_course.nn.layers import Dropout, LayerNorm, Linear
from tinygrad_course.nn.module import Module
from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor import device as device_

__all__ = ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
           "TransformerEncoderLayer"]

Activation = str | Callable[[Tensor], Tensor]


# ----------------------------------------------------------------- helpers
def _generate_square_subsequent_mask(sz: int, dtype: Any = None) -> Tensor:
    """(sz, sz) float mask: 0 on and below the diagonal, −inf above (position i may attend to j ≤ i)."""
    if isinstance(sz, bool) or not isinstance(sz, (int, np.integer)) or sz < 0:
        raise ValueError(f"generate_square_subsequent_mask: sz must be a non-negative int, got {sz!r}")
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"generate_square_subsequent_mask: dtype must be floating point, got {dt}")
    mask = np.triu(np.full((sz, sz), -np.inf, dtype=dt), 1)
    return Tensor._make(mask, None)


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None, size: int | None) -> bool:
    """PyTorch's: is_causal if given; else whether `mask` equals the causal mask of the sequence's size.

    A bool mask is causal when True exactly above the diagonal, a float one when −inf there and 0 elsewhere.
    """
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    if tuple(mask.shape) != (sz, sz):
        return False
    above = np.triu(np.ones((sz, sz), dtype=bool), 1)
    values = mask.detach().numpy()
    if values.dtype == np.bool_:
        return bool(np.array_equal(values, above))
    if values.dtype.kind != "f":
        return False
    return bool(np.all(np.where(above, values == -np.inf, values == 0)))


def _seq_len(src: Tensor, batch_first: bool) -> int | None:
    """The sequence length of (S, E), (S, N, E) or (N, S, E) input."""
    if src.ndim == 2:
        return src.shape[0]
    if src.ndim == 3:
        return src.shape[1 if batch_first else 0]
    return None


def _canonical_masks(op: str, dtype: Any, mask: Tensor | None, mask_name: str, key_padding_mask: Tensor | None,
                     kpm_name: str) -> tuple[Tensor | None, Tensor | None]:
    """PyTorch's _canonical_mask for a (mask, key padding mask) pair: bool → float (−inf where True), in `dtype`."""
    if (key_padding_mask is not None and mask is not None and isinstance(key_padding_mask, Tensor)
            and isinstance(mask, Tensor) and key_padding_mask.dtype != mask.dtype):
        warnings.warn(f"{op}: support for mismatched {kpm_name} and {mask_name} is deprecated. Use same type for "
                      "both instead.", stacklevel=4)
    return (_float_mask(mask, mask_name, op, dtype), _float_mask(key_padding_mask, kpm_name, op, dtype))


def _activation(op: str, activation: Activation) -> Callable[[Tensor], Tensor]:
    """"relu" → F.relu, "gelu" → F.gelu, a callable as it is."""
    if isinstance(activation, str):
        if activation == "relu":
            return F.relu
        if activation == "gelu":
            return F.gelu
        raise ValueError(f"{op}: activation should be relu/gelu, not {activation!r}")
    if not callable(activation):
        raise TypeError(f"{op}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _check_sizes(op: str, d_model: Any, nhead: Any, dim_feedforward: Any, dropout: Any) -> None:
    for name, n in (("d_model", d_model), ("nhead", nhead), ("dim_feedforward", dim_feedforward)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"{op}: {name} must be a positive int, got {n!r}")
    if d_model % nhead:
        raise ValueError(f"{op}: d_model={d_model} must be divisible by nhead={nhead} (each head gets "
                         "d_model / nhead features)")
    if not 0.0 <= dropout <= 1.0:
        raise ValueError(f"{op}: dropout must be between 0 and 1, got {dropout}")


def _check_sequence(op: str, name: str, x: Any, d_model: int, batch_first: bool) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3) or x.shape[-1] != d_model:
        batched = "(N, L, E)" if batch_first else "(L, N, E)"
        raise ValueError(f"{op}: expected {name} of shape {batched} (batch_first={batch_first}) or unbatched (L, E) "
                         f"with E = d_model = {d_model}, got {name} of shape {tuple(x.shape)}")


def _get_clones(op: str, module: Module, n: int) -> ModuleList:
    if not isinstance(module, Module):
        raise TypeError(f"{op}: the layer must be an nn.Module, got {type(module).__name__}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{op}: num_layers must be a non-negative int, got {n!r}")
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


# ----------------------------------------------------------------- encoder
class TransformerEncoderLayer(Module):
    """x + SA(x) then x + FF(x), each followed by a LayerNorm (post-norm) or with it applied first (norm_first).

    SA is self-attention (nn.MultiheadAttention), FF(x) = linear2(dropout(activation(linear1(x)))),
    each sub-block's output passing through dropout1/dropout2. Input (S, N, E), (N, S, E) with
    batch_first, or unbatched (S, E). Submodules are initialised with their own defaults.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Activation = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        """Create self_attn, linear1, dropout, linear2, norm1, norm2, dropout1, dropout2 (PyTorch's names)."""
        super().__init__()
        op = type(self).__name__
        _check_sizes(op, d_model, nhead, dim_feedforward, dropout)
        device_.check(device, op)
        activation = _activation(op, activation)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        """The layer's output, shaped as src.

        src_mask (S, S) or (N·nhead, S, S) and src_key_padding_mask (N, S) (unbatched: (S,)):
        bool True = may not attend, or float added to the attention scores. is_causal is a hint
        that src_mask is the causal mask (src_mask must be given, as in PyTorch).
        """
        op = type(self).__name__
        _check_sequence(op, "src", src, self.self_attn.embed_dim, self.self_attn.batch_first)
        src_mask, src_key_padding_mask = _canonical_masks(op, src.dtype, src_mask, "src_mask", src_key_padding_mask,
                                                          "src_key_padding_mask")
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False) -> Tensor:
        """dropout1(self_attn(x, x, x))."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """dropout2(linear2(dropout(activation(linear1(x)))))."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


class TransformerEncoder(Module):
    """num_layers deep copies of encoder_layer applied in turn (``layers.0``, …), then `norm` if given."""

    def __init__(self, encoder_layer: Module, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        """Clone the layer num_layers times; enable_nested_tensor and mask_check are accepted and ignored."""
        super().__init__()
        self.layers = _get_clones(type(self).__name__, encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False  # no nested tensors here: always the padded computation
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """src through every layer with the same masks, then norm.

        mask and src_key_padding_mask as in TransformerEncoderLayer (bool masks become float);
        is_causal=None detects whether mask is the causal mask, as PyTorch.
        """
        op = type(self).__name__
        if not isinstance(src, Tensor):
            raise TypeError(f"{op}: src must be a Tensor, got {type(src).__name__}")
        mask, src_key_padding_mask = _canonical_masks(op, src.dtype, mask, "mask", src_key_padding_mask,
                                                      "src_key_padding_mask")
        output = src
        if len(self.layers):
            attn = getattr(self.layers[0], "self_attn", None)
            batch_first = bool(getattr(attn, "batch_first", False))
            is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
            for mod in self.layers:
                output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


# ----------------------------------------------------------------- decoder
class TransformerDecoderLayer(Module):
    """x + SA(x), x + CA(x, memory), x + FF(x), each followed by a LayerNorm (post-norm) or with it applied first.

    SA is self-attention over the target, CA attention to the encoder's output (memory), FF(x) =
    linear2(dropout(activation(linear1(x)))); the sub-blocks' outputs pass through
    dropout1/dropout2/dropout3. Submodules are initialised with their own defaults.
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Activation = F.relu, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        """Create self_attn, multihead_attn, linear1, dropout, linear2, norm1-3, dropout1-3 (PyTorch's names)."""
        super().__init__()
        op = type(self).__name__
        _check_sizes(op, d_model, nhead, dim_feedforward, dropout)
        device_.check(device, op)
        activation = _activation(op, activation)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                            dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                                 dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = activation

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """The layer's output, shaped as tgt.

        tgt_mask (T, T) or (N·nhead, T, T), memory_mask (T, S) or (N·nhead, T, S), key padding
        masks (N, T) and (N, S) (unbatched: (T,), (S,)): bool True = may not attend, or float added
        to the scores. The *_is_causal flags are hints that the matching mask is causal.
        """
        op = type(self).__name__
        d, batch_first = self.self_attn.embed_dim, self.self_attn.batch_first
        _check_sequence(op, "tgt", tgt, d, batch_first)
        _check_sequence(op, "memory", memory, d, batch_first)
        if memory.ndim != tgt.ndim:
            raise ValueError(f"{op}: tgt and memory must both be batched (3-D) or both unbatched (2-D), got tgt of "
                             f"shape {tuple(tgt.shape)} and memory of shape {tuple(memory.shape)}")
        b = 0 if batch_first else 1
        if tgt.ndim == 3 and tgt.shape[b] != memory.shape[b]:
            raise ValueError(f"{op}: the batch size of tgt and memory must be equal (dim {b}, batch_first="
                             f"{batch_first}), got tgt of shape {tuple(tgt.shape)} and memory of shape "
                             f"{tuple(memory.shape)}")
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool = False) -> Tensor:
        """dropout1(self_attn(x, x, x))."""
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                   is_causal: bool = False) -> Tensor:
        """dropout2(multihead_attn(x, mem, mem))."""
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        """dropout3(linear2(dropout(activation(linear1(x)))))."""
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerDecoder(Module):
    """num_layers deep copies of decoder_layer applied in turn to (tgt, memory), then `norm` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm: Module | None = None) -> None:
        """Clone the layer num_layers times."""
        super().__init__()
        self.layers = _get_clones(type(self).__name__, decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """tgt through every layer (each attending to memory) with the same masks, then norm.

        Masks as in TransformerDecoderLayer; tgt_is_causal=None detects whether tgt_mask is the
        causal mask, as PyTorch.
        """
        op = type(self).__name__
        if not isinstance(tgt, Tensor):
            raise TypeError(f"{op}: tgt must be a Tensor, got {type(tgt).__name__}")
        output = tgt
        if len(self.layers):
            attn = getattr(self.layers[0], "self_attn", None)
            seq_len = _seq_len(tgt, bool(getattr(attn, "batch_first", False)))
            tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
            for mod in self.layers:
                output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                             tgt_key_padding_mask=tgt_key_padding_mask,
                             memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                             memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


# ----------------------------------------------------------------- the whole model
class Transformer(Module):
    """decoder(tgt, encoder(src)): an encoder and a decoder stack, each ending in a LayerNorm (Vaswani et al., 2017).

    Every parameter with more than one dim is initialised Xavier-uniform (PyTorch's
    _reset_parameters); custom_encoder/custom_decoder replace the stacks.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: Activation = F.relu,
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        """Build encoder (TransformerEncoder with a final LayerNorm) and decoder, then Xavier-initialise."""
        super().__init__()
        op = type(self).__name__
        _check_sizes(op, d_model, nhead, dim_feedforward, dropout)
        _activation(op, activation)
        device_.check(device, op)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias, dtype=dtype)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias, dtype=dtype)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        """decoder(tgt, encoder(src)), shaped as tgt: (T, N, E), (N, T, E) with batch_first, or (T, E).

        src (S, N, E); src_mask (S, S), tgt_mask (T, T), memory_mask (T, S) (or with N·nhead in
        front); key padding masks (N, S), (N, T), (N, S). Bool True = may not attend, float = added.
        """
        op = type(self).__name__
        for name, x in (("src", src), ("tgt", tgt)):
            if not isinstance(x, Tensor):
                raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")
        b = 0 if self.batch_first else 1
        if src.ndim == 3 and (tgt.ndim != 3 or src.shape[b] != tgt.shape[b]):
            raise ValueError(f"{op}: the batch number of src and tgt must be equal (dim {b}, batch_first="
                             f"{self.batch_first}), got src of shape {tuple(src.shape)} and tgt of shape "
                             f"{tuple(tgt.shape)}")
        if src.shape[-1:] != (self.d_model,) or tgt.shape[-1:] != (self.d_model,):
            raise ValueError(f"{op}: the feature number of src and tgt must be equal to d_model={self.d_model}, "
                             f"got src of shape {tuple(src.shape)} and tgt of shape {tuple(tgt.shape)}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """(sz, sz) causal mask: 0 where j ≤ i, −inf where j > i (float, the default dtype unless given)."""
        device_.check(device, "generate_square_subsequent_mask")
        return _generate_square_subsequent_mask(sz, dtype)

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform on every parameter with more than one dim (the others keep their init)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
