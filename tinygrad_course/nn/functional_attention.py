"""Attention as functions: scaled_dot_product_attention and multi_head_attention_forward (nn.MultiheadAttention's computation).

Re-exported by `tinygrad_course.nn.functional`, so ``F.scaled_dot_product_attention`` works as
in PyTorch. Built from Tensor ops (matmul, softmax, masked_fill), so gradients of any order and
vmap come from those.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

# F.linear and F.dropout are looked up when called: nn.functional imports this module while it loads.
from tinygrad_course.nn import functional as F
from tinygrad_course.tensor import Tensor, pad
from tinygrad_course.tensor.movement_methods import cat as _cat


def _float_mask(mask: Any, name: str, op: str, dtype: np.dtype, true_allows: bool = False) -> Tensor | None:
    """A mask as an additive float bias in `dtype` (PyTorch's _canonical_mask); None stays None.

    bool: −inf where the mask is True (MultiheadAttention's rule: True = may not attend), or
    where it is False with `true_allows` (scaled_dot_product_attention's rule), 0 elsewhere;
    float: added as it is (cast to `dtype`).
    """
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(mask).__name__}")
    if mask.dtype == np.bool_:
        blocked = ~mask if true_allows else mask
        return blocked.to(dtype).masked_fill(blocked, float("-inf"))
    if mask.dtype.kind != "f":
        raise TypeError(f"{op}: only bool and floating types of {name} are supported, got {mask.dtype}")
    return mask if mask.dtype == dtype else mask.to(dtype)


def _masked_softmax(scores: Tensor) -> Tensor:
    """softmax over the last dim, where a row that is all −inf (may attend nowhere) gives 0, not NaN.

    PyTorch's scaled_dot_product_attention does the same; the row is set to 0 before the softmax
    too, so that its gradient is 0 rather than NaN.
    """
    dead = scores.detach().amax(-1, keepdim=True) == float("-inf")
    return scores.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q Kᵀ · scale + M) V over the last two dims: query (…, L, E), key (…, S, E), value (…, S, Ev) → (…, L, Ev).

    scale defaults to 1/√E. attn_mask broadcasts to (…, L, S): a bool mask is True where a query
    may attend (the opposite of MultiheadAttention's masks), a float mask is added to the scores.
    is_causal lets query i attend to keys j ≤ i only (then attn_mask must be None). A query that
    may attend nowhere gets output 0 (as PyTorch's, not NaN). dropout_p > 0 drops attention
    weights whenever it is given (pass 0.0 in evaluation, as PyTorch). enable_gqa lets key and
    value have fewer heads (dim −3) than query, each shared by a group of query heads.
    """
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise ValueError(f"{op}: {name} must have at least 2 dims (…, length, features), got shape {t.shape}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must have the same dtype, got {query.dtype}, {key.dtype} "
                        f"and {value.dtype}")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{op}: query and key must have the same number of features (last dim), got shapes "
                         f"{query.shape} and {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{op}: key and value must have the same length (dim −2), got shapes {key.shape} and "
                         f"{value.shape}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{op}: dropout_p must be between 0 and 1, got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{op}: an explicit attn_mask should not be set when is_causal=True")
    if enable_gqa and min(query.ndim, key.ndim, value.ndim) >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise ValueError(f"{op}: with enable_gqa, query's {hq} heads (dim −3) must be a multiple of key's and "
                             f"value's, got {hk} and {value.shape[-3]}")
        key, value = key.repeat_interleave(hq // hk, -3), value.repeat_interleave(hq // hk, -3)
    try:
        np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"{op}: the batch dims of query {query.shape}, key {key.shape} and value {value.shape} "
                         "do not broadcast") from None
    length, source = query.shape[-2], key.shape[-2]
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    scores = (query @ key.transpose(-2, -1)) * factor
    if is_causal:
        allowed = np.tril(np.ones((length, source), dtype=bool))
        bias: Tensor | None = Tensor._make(np.where(allowed, 0.0, -np.inf).astype(query.dtype), None)
    else:
        bias = _float_mask(attn_mask, "attn_mask", op, query.dtype, true_allows=True)
    if bias is None:
        weights = scores.softmax(-1)
    else:
        try:
            fits = np.broadcast_shapes(bias.shape, scores.shape) == scores.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{op}: attn_mask of shape {bias.shape} does not broadcast to the attention weights' "
                             f"shape {scores.shape} (…, L, S)")
        weights = _masked_softmax(scores + bias)
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p)
    return weights @ value


def _check_mha_inputs(op: str, query: Any, key: Any, value: Any, key_padding_mask: Any, attn_mask: Any) -> bool:
    """PyTorch's _mha_shape_check: whether the input is batched (3-D) or not (2-D), with the masks' dims to match."""
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be floating point, got {t.dtype}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{op}: query, key and value must have the same dtype, got {query.dtype}, {key.dtype} "
                        f"and {value.dtype}")
    for name, m in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
        if m is not None and not isinstance(m, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(m).__name__}")
    if query.ndim not in (2, 3):
        raise ValueError(f"{op}: query should be unbatched 2-D (L, E) or batched 3-D tensor but received "
                         f"{query.ndim}-D query tensor of shape {query.shape}")
    batched = query.ndim == 3
    kind, mask_dims = ("batched (3-D)", 2) if batched else ("unbatched (2-D)", 1)
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ValueError(f"{op}: for {kind} query, expected key and value to be {query.ndim}-D but found "
                         f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != mask_dims:
        raise ValueError(f"{op}: for {kind} query, expected key_padding_mask to be None or {mask_dims}-D but found "
                         f"{key_padding_mask.ndim}-D tensor instead")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ValueError(f"{op}: for {kind} query, expected attn_mask to be None, 2-D or 3-D but found "
                         f"{attn_mask.ndim}-D tensor instead")
    return batched


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
    add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
    training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
    static_v: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False,
    *, _op: str = "multi_head_attention_forward",
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention as PyTorch's function (what nn.MultiheadAttention runs); sequence-first layout.

    query (L, N, E), key (S, N, E_k), value (S, N, E_v), or unbatched (L, E), (S, E_k), (S, E_v).
    Q, K, V are the input projections (in_proj_weight (3E, E) split in three, or q/k/v_proj_weight
    with use_separate_proj_weight; in_proj_bias (3E,)), split into num_heads heads of E/num_heads
    features; each head computes softmax(Q Kᵀ/√(E/num_heads) + M) V, the heads are concatenated
    and projected by out_proj. M merges attn_mask ((L, S) or (N·num_heads, L, S)) and
    key_padding_mask ((N, S)): bool True = may not attend, float = added. bias_k/bias_v append a
    learnt key/value position, add_zero_attn a zero one. Dropout (dropout_p) drops attention
    weights in training. Returns (output (L, N, E), weights (N, L, S) averaged over the heads, or
    (N, num_heads, L, S), or None when need_weights=False). With need_weights=False the heads run
    through scaled_dot_product_attention, where a query that may attend nowhere gets 0; with
    need_weights=True it gets NaN, as in PyTorch. is_causal is only a hint: attn_mask must be given.
    """
    op = _op
    batched = _check_mha_inputs(op, query, key, value, key_padding_mask, attn_mask)
    same_qkv = query is key and key is value
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    if embed_dim != embed_dim_to_check:
        raise ValueError(f"{op}: was expecting embedding dimension of {embed_dim_to_check} (query's last dim), "
                         f"but got {embed_dim}")
    if embed_dim % num_heads:
        raise ValueError(f"{op}: embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    head_dim = embed_dim // num_heads
    if key.shape[1] != bsz:
        raise ValueError(f"{op}: query has batch size {bsz} (dim 1) but key has {key.shape[1]}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"{op}: key's sequence and batch dims {key.shape[:2]} do not match value's "
                             f"{value.shape[:2]}")
    elif key.shape != value.shape:
        raise ValueError(f"{op}: key shape {key.shape} does not match value shape {value.shape}")
    src_len = key.shape[0] if static_k is None else static_k.shape[1]
    if key_padding_mask is not None and key_padding_mask.shape != (bsz, src_len):
        raise ValueError(f"{op}: expecting key_padding_mask of shape {(bsz, src_len)}, but got "
                         f"{key_padding_mask.shape}")

    # The masks as float biases (−inf where a bool mask is True); is_causal is a hint for SDPA.
    if key_padding_mask is not None and attn_mask is not None and key_padding_mask.dtype != attn_mask.dtype:
        warnings.warn("Support for mismatched key_padding_mask and attn_mask is deprecated. Use same type for both "
                      "instead.", stacklevel=3)
    kpm = _float_mask(key_padding_mask, "key_padding_mask", op, query.dtype)
    if is_causal and attn_mask is None:
        raise ValueError(f"{op}: is_causal=True needs attn_mask as well (it is only a hint): pass the causal mask, "
                         "e.g. True above the diagonal")
    if is_causal and kpm is None and not need_weights:
        mask = None  # scaled_dot_product_attention builds the causal mask itself
    else:
        mask = _float_mask(attn_mask, "attn_mask", op, query.dtype)
        if kpm is not None:
            is_causal = False
    if mask is not None:
        want = (tgt_len, src_len) if mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if mask.shape != want:
            raise ValueError(f"{op}: the shape of the {mask.ndim}-D attn_mask is {mask.shape}, but should be {want}")
        mask = mask.reshape(1, 1, tgt_len, src_len) if mask.ndim == 2 else mask.reshape(bsz, num_heads, tgt_len, src_len)

    # Input projections (one matmul for self-attention), as PyTorch's _in_projection(_packed).
    e = embed_dim
    proj_weight = q_proj_weight if use_separate_proj_weight else in_proj_weight
    if isinstance(proj_weight, Tensor) and proj_weight.dtype != query.dtype:
        raise TypeError(f"{op}: query has dtype {query.dtype} but the projection weights have {proj_weight.dtype}; "
                        "convert the input, e.g. x.float() or x.double()")
    if in_proj_bias is not None and in_proj_bias.shape != (3 * e,):
        raise ValueError(f"{op}: in_proj_bias must have shape ({3 * e},), got {in_proj_bias.shape}")
    b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else (
        in_proj_bias[:e], in_proj_bias[e:2 * e], in_proj_bias[2 * e:])
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise ValueError(f"{op}: use_separate_proj_weight is False but in_proj_weight is None")
        if in_proj_weight.shape != (3 * e, e):
            raise ValueError(f"{op}: in_proj_weight must have shape ({3 * e}, {e}), got {in_proj_weight.shape}")
        if same_qkv:
            proj = F.linear(query, in_proj_weight, in_proj_bias)
            q, k, v = proj[..., :e], proj[..., e:2 * e], proj[..., 2 * e:]
        else:
            q = F.linear(query, in_proj_weight[:e], b_q)
            k = F.linear(key, in_proj_weight[e:2 * e], b_k)
            v = F.linear(value, in_proj_weight[2 * e:], b_v)
    else:
        weights_in = (("q_proj_weight", q_proj_weight, query), ("k_proj_weight", k_proj_weight, key),
                      ("v_proj_weight", v_proj_weight, value))
        for name, w, x in weights_in:
            if w is None:
                raise ValueError(f"{op}: use_separate_proj_weight is True but {name} is None")
            if w.ndim != 2 or w.shape != (e, x.shape[-1]):
                raise ValueError(f"{op}: {name} must have shape ({e}, {x.shape[-1]}) for inputs with "
                                 f"{x.shape[-1]} features, got {w.shape}")
        q, k, v = F.linear(query, q_proj_weight, b_q), F.linear(key, k_proj_weight, b_k), F.linear(value, v_proj_weight, b_v)

    # bias_k/bias_v: one more (learnt) key/value position, allowed for every query.
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{op}: bias cannot be added to static key or value")
        k = _cat([k, bias_k.reshape(1, 1, e).repeat(1, bsz, 1)], 0)
        v = _cat([v, bias_v.reshape(1, 1, e).repeat(1, bsz, 1)], 0)
        mask = None if mask is None else pad(mask, (0, 1))
        kpm = None if kpm is None else pad(kpm, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise ValueError(f"{op}: bias_k and bias_v must be given together (one of them is None)")

    # Heads: (N, H, L, head_dim), batch first.
    q = q.reshape(tgt_len, bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    k = _heads(op, "static_k", k, static_k, bsz, num_heads, head_dim)
    v = _heads(op, "static_v", v, static_v, bsz, num_heads, head_dim)
    if add_zero_attn:
        zeros = Tensor._make(np.zeros((bsz, num_heads, 1, head_dim), dtype=k.dtype), None)
        k, v = _cat([k, zeros], 2), _cat([v, zeros], 2)
        mask = None if mask is None else pad(mask, (0, 1))
        kpm = None if kpm is None else pad(kpm, (0, 1))
    if kpm is not None:
        kpm = kpm.reshape(bsz, 1, 1, kpm.shape[-1])
        mask = kpm if mask is None else mask + kpm
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * math.sqrt(1.0 / head_dim)) @ k.transpose(-2, -1)  # (N, H, L, S)
        if mask is not None:
            scores = scores + mask
        weights: Tensor | None = scores.softmax(-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, dropout_p)
        out = weights @ v
    else:
        weights = None
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
    out = F.linear(out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, embed_dim), out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        weights = None if weights is None else weights.squeeze(0)
    return out, weights


def _heads(op: str, name: str, x: Tensor, static: Tensor | None, bsz: int, num_heads: int, head_dim: int) -> Tensor:
    """(S, N, E) → (N, H, S, head_dim), or the given static_k/static_v of shape (N·H, S, head_dim) as (N, H, S, head_dim)."""
    if static is None:
        return x.reshape(x.shape[0], bsz, num_heads, head_dim).permute(1, 2, 0, 3)
    if static.ndim != 3 or static.shape[0] != bsz * num_heads or static.shape[2] != head_dim:
        raise ValueError(f"{op}: expecting {name} of shape ({bsz * num_heads}, S, {head_dim}), got {static.shape}")
    return static.reshape(bsz, num_heads, static.shape[1], head_dim)
