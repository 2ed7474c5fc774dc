"""Attention layers: MultiheadAttention, with PyTorch's parameter names, shapes, initialisation and forward.

The computation is `F.multi_head_attention_forward` (nn/functional.py), as in PyTorch, so a
torch state_dict loads into the layer and gives the same outputs and gradients.

    >>> import tinygrad_course as tc
    >>> from tinygrad_course import nn
    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = tc.randn(3, 5, 8)  # (N, L, E)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 5))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn import init
from tinygrad_course.nn.layers import Linear
from tinygrad_course.nn.module import Module, Parameter
from tinygrad_course.tensor import Tensor, dtypes


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under PyTorch's name for MultiheadAttention.out_proj (the name only keeps torch's quantization off it).

    It is a plain nn.Linear in every other way; the class exists so that ``repr`` matches PyTorch's.
    """


class MultiheadAttention(Module):
    """Multi-head attention: softmax(Q Kᵀ/√d + M) V per head, heads concatenated and projected by out_proj.

    Parameters as PyTorch: in_proj_weight (3E, E) when kdim = vdim = E, else q_proj_weight (E, E),
    k_proj_weight (E, kdim), v_proj_weight (E, vdim); in_proj_bias (3E,) (bias=True); out_proj a
    Linear(E, E); with add_bias_kv, bias_k and bias_v (1, 1, E). Init as PyTorch: the projection
    weights Xavier-uniform, in_proj_bias and out_proj.bias zero, out_proj.weight Linear's default,
    bias_k/bias_v Xavier-normal. Inputs are (L, N, E) (batch_first: (N, L, E)) or unbatched (L, E);
    dropout drops attention weights in training mode.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype: Any = None) -> None:
        """Check the sizes, create the parameters and initialise them as PyTorch."""
        super().__init__()
        for name, n in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
                raise TypeError(f"MultiheadAttention: {name} must be an int, got {n!r}")
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim={embed_dim} must be divisible by num_heads={num_heads}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout must be between 0 and 1, got {dropout}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)

        def empty(*shape: int) -> Parameter:
            return Parameter(np.zeros(shape, dtype=dt))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's: Xavier-uniform projection weights, zero in_proj_bias and out_proj.bias, Xavier-normal bias_k/v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """(attn_output, attn_weights): output (L, N, E) ((N, L, E) with batch_first; (L, E) unbatched).

        key_padding_mask (N, S) (unbatched: (S,)) and attn_mask (L, S) or (N·num_heads, L, S):
        bool True = may not attend, or float added to the scores. attn_weights (N, L, S) averaged
        over the heads, (N, num_heads, L, S) with average_attn_weights=False, or None with
        need_weights=False. is_causal is a hint only: attn_mask must hold the causal mask.
        """
        if not isinstance(query, Tensor):
            raise TypeError(f"MultiheadAttention: query must be a Tensor, got {type(query).__name__}")
        batched = query.ndim == 3
        if self.batch_first and batched and isinstance(key, Tensor) and isinstance(value, Tensor):
            # (N, L, E) → (L, N, E), keeping "query is key is value" (self-attention: one projection matmul)
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = query.transpose(1, 0), key.transpose(1, 0), value.transpose(1, 0)
        for name, x, want in (("query", query, self.embed_dim), ("key", key, self.kdim), ("value", value, self.vdim)):
            if isinstance(x, Tensor) and x.ndim and x.shape[-1] != want:
                raise ValueError(f"{self._describe()}: expected {name} with {want} features in its last dim, "
                                 f"got {name} of shape {tuple(x.shape)}")
        out, weights = F.multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal, _op="MultiheadAttention",
        )
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def _describe(self) -> str:
        return (f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads}, kdim={self.kdim}, "
                f"vdim={self.vdim}, batch_first={self.batch_first})")
