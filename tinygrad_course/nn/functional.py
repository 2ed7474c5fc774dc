"""`tinygrad_course.nn.functional` (conventionally ``F``): layers and losses as plain functions.

Activations, normalisations and attention (scaled_dot_product_attention, the computation of
nn.MultiheadAttention) live here; convolution and pooling in `functional_conv`, losses in
`functional_losses`, rms_norm, channel dropout and pixel shuffling in `functional_layers` — all
re-exported, so ``F.conv1d``, ``F.max_pool1d``, ``F.cross_entropy`` and ``F.rms_norm`` work as in
PyTorch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_course.nn.functional_conv import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    avg_pool1d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv_transpose2d,
    fold,
    interpolate,
    max_pool1d,
    max_pool2d,
    unfold,
)
from tinygrad_course.nn.functional_extra import (  # more activations, distances and losses
    cdist,
    celu,
    cosine_embedding_loss,
    cosine_similarity,
    elu,
    gaussian_nll_loss,
    glu,
    gumbel_softmax,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hinge_embedding_loss,
    kl_div,
    logsigmoid,
    margin_ranking_loss,
    mish,
    multilabel_soft_margin_loss,
    normalize,
    one_hot,
    pairwise_distance,
    poisson_nll_loss,
    prelu,
    relu6,
    rrelu,
    selu,
    silu,
    smooth_l1_loss,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    triplet_margin_loss,
)
from tinygrad_course.nn.functional_layers import (  # rms_norm, channel dropout, pixel shuffling
    dropout1d,
    dropout2d,
    dropout3d,
    pixel_shuffle,
    pixel_unshuffle,
    rms_norm,
)
from tinygrad_course.nn.functional_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_course.ops import fused
from tinygrad_course.tensor import Tensor, pad
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.batched import BatchedTensor
from tinygrad_course.tensor.movement_methods import cat as _cat

__all__ = [
    "adaptive_avg_pool1d", "adaptive_max_pool1d", "avg_pool1d", "avg_pool2d", "batch_norm", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "conv1d", "conv2d", "cross_entropy", "dropout", "embedding", "fold", "gelu",
    "huber_loss", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool1d", "max_pool2d", "mse_loss", "nll_loss",
    "multi_head_attention_forward", "pad", "relu", "scaled_dot_product_attention", "sigmoid", "softmax", "softplus",
    "tanh", "unfold",
]


# ---------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0); ∂/∂x = 1[x > 0]. With inplace=True, input itself is overwritten and returned."""
    return input.relu_() if inplace else input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x for x > 0, else negative_slope · x (inplace=True: written into input and returned)."""
    return input.leaky_relu_(negative_slope) if inplace else input.leaky_relu(negative_slope)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x · Φ(x) = ½x(1 + erf(x/√2)); approximate="tanh" uses ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
    return input.gelu(approximate)


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ) (no overflow for any x)."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """tanh x."""
    return input.tanh()


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β) log(1 + e^(βx)), and x itself where βx > threshold (as PyTorch); ∂/∂x = σ(βx)."""
    if beta == 1.0:
        soft = fused.Softplus.apply(input)
    else:
        soft = fused.Softplus.apply(input * beta) / beta
    return soft.where(input * beta <= threshold, input)  # (a comparison of tensors: batches inside vmap)


def _softmax_dim(name: str, ndim: int) -> int:
    # PyTorch's legacy rule for dim=None, kept so that old code gives the same numbers.
    warnings.warn(f"{name}: implicit dimension choice is deprecated; pass dim=", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """e^(xᵢ − m) / Σⱼ e^(xⱼ − m) along `dim`, m = max x (stable for logits of any size)."""
    return input.softmax(_softmax_dim("softmax", input.ndim) if dim is None else dim)


def log_softmax(input: Tensor, dim: int | None = None) -> Tensor:
    """(xᵢ − m) − log Σⱼ e^(xⱼ − m) along `dim`, m = max x (stable for logits of any size).

    Subtracting m first keeps the precision of float32 for large logits: x − logsumexp(x)
    would round m + log Σ (e.g. 10⁴ + log 2) to the float32 grid before subtracting.
    """
    d = _softmax_dim("log_softmax", input.ndim) if dim is None else dim
    shifted = input - input.amax(d, keepdim=True).detach()
    return shifted - shifted.exp().sum(d, keepdim=True).log()


# ---------------------------------------------------------------------- affine, dropout
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """z = x Wᵀ + b for x (…, in), W (out, in), b (out,) — one fused op."""
    for name, value in (("input", input), ("weight", weight), ("bias", bias)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"linear: {name} must be a Tensor, got {type(value).__name__}; wrap it with tc.tensor(...)")
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} "
            f"features in its last dim, but weight of shape {weight.shape} expects {weight.shape[1]}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        raise TypeError(
            f"linear: input has dtype {input.dtype} but weight has {weight.dtype}"
            + ("" if bias is None else f" and bias {bias.dtype}")
            + "; convert the input, e.g. x.float() or x.double()"
        )
    if bias is None:
        return fused.Linear.apply(input, weight)
    return fused.Linear.apply(input, weight, bias)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1/(1 − p) (E unchanged)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = np.zeros(input.shape, dtype=input.dtype)
    else:
        keep = _random.generator().random(input.shape) >= p
        mask = keep.astype(input.dtype) * np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    if inplace:
        return input.mul_(Tensor._make(mask, None))
    return input * Tensor._make(mask, None)


# ---------------------------------------------------------------------- normalisation
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β per channel (dim 1).

    Training: μ, σ² are the batch's mean and biased variance over all dims but 1, and the
    running statistics (if given) move by `momentum`: r ← (1 − m) r + m · stat, using the
    unbiased variance n/(n − 1) σ² for running_var. Otherwise μ, σ² are the running statistics.
    """
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, …) with ≥ 2 dims, got {input.shape}")
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for input of shape {input.shape}, got {t.shape}")
    shape = (1, c) + (1,) * (input.ndim - 2)
    axes = (0,) + tuple(range(2, input.ndim))
    if training:
        n = input._array.size // c
        if n <= 1:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}"
            )
        mean = input.mean(axes, keepdim=True)
        centred = input - mean
        var = (centred * centred).mean(axes, keepdim=True)
        if running_mean is not None:
            running_mean._array[...] = (1 - momentum) * running_mean._array + momentum * mean._array.reshape(c)
        if running_var is not None:
            unbiased = var._array.reshape(c) * (n / (n - 1))
            running_var._array[...] = (1 - momentum) * running_var._array + momentum * unbiased
        out = centred / (var + eps).sqrt()
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are required when training=False")
        inv_std = 1.0 / np.sqrt(running_var._array + eps)
        out = (input - running_mean._array.reshape(shape).astype(input.dtype)) * inv_std.reshape(shape).astype(input.dtype)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """y = (x − μ) / √(σ² + ε) · γ + β, with μ, σ² (biased) over the last len(normalized_shape) dims."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if input.shape[input.ndim - k :] != shape or input.ndim < k:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end with normalized_shape {shape}; "
            f"expected input of shape (*, {', '.join(str(s) for s in shape)})"
        )
    axes = tuple(range(input.ndim - k, input.ndim))
    mean = input.mean(axes, keepdim=True)
    centred = input - mean
    var = (centred * centred).mean(axes, keepdim=True)
    out = centred / (var + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of `weight` (num_embeddings, dim) picked by the integer indices in `input`; shape (*input, dim).

    The row `padding_idx` gets no gradient.
    """
    if not isinstance(input, Tensor) or input.dtype.kind not in "iu":
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise TypeError(f"embedding: indices must be an integer Tensor (int64), got {got}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    n = weight.shape[0]
    if isinstance(input, BatchedTensor):  # indices batched by vmap: the same lookup on all of them at once
        return BatchedTensor(embedding(input._inner, weight, padding_idx), input._levels)
    idx = input._array
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (valid: 0 to {n - 1})")
    if padding_idx is not None:
        padding_idx = _padding_index(padding_idx, n)
    return fused.Embedding.apply(weight, idx=idx, padding_idx=padding_idx)


def _padding_index(padding_idx: int, n: int) -> int:
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({n})")
    return padding_idx % n


__all__ += ["celu", "cdist", "cosine_embedding_loss", "cosine_similarity", "elu", "gaussian_nll_loss", "glu", "gumbel_softmax", "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss", "kl_div", "logsigmoid", "margin_ranking_loss", "mish", "multilabel_soft_margin_loss", "normalize", "one_hot", "pairwise_distance", "poisson_nll_loss", "relu6", "selu", "silu", "smooth_l1_loss", "softmin", "softsign", "tanhshrink", "triplet_margin_loss", "adaptive_avg_pool2d", "conv_transpose2d", "group_norm", "instance_norm", "interpolate"]
__all__ += ["dropout1d", "dropout2d", "dropout3d", "hardshrink", "pixel_shuffle", "pixel_unshuffle", "prelu",
            "rms_norm", "rrelu", "softshrink", "threshold"]


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """y = (x − μ_g) / √(σ²_g + ε) · γ_c + β_c, with μ, σ² (biased) over each group of C/G channels and all positions."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ValueError(f"group_norm: expected input (N, C, …) with C divisible by num_groups={num_groups}, got {input.shape}")
    n, c = input.shape[:2]
    x = input.reshape(n, num_groups, -1)
    mean = x.mean(2, keepdim=True)
    centred = x - mean
    var = (centred * centred).mean(2, keepdim=True)
    out = (centred / (var + eps).sqrt()).reshape(input.shape)
    shape = (1, c) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch norm of each sample separately: statistics per (sample, channel) over the positions.

    As in PyTorch, the input is seen as (1, N·C, …) and given to batch_norm with the running
    statistics repeated N times; the updated copies are averaged back into running_mean/var.
    """
    n, c = input.shape[:2]
    x = input.reshape((1, n * c) + input.shape[2:])
    rm = None if running_mean is None else Tensor._make(np.tile(running_mean._array, n), None)
    rv = None if running_var is None else Tensor._make(np.tile(running_var._array, n), None)
    w = None if weight is None else weight.repeat(n)
    b = None if bias is None else bias.repeat(n)
    out = batch_norm(x, rm, rv, w, b, use_input_stats, momentum, eps)
    if use_input_stats:
        if running_mean is not None:
            running_mean._array[...] = rm._array.reshape(n, c).mean(0)
        if running_var is not None:
            running_var._array[...] = rv._array.reshape(n, c).mean(0)
    return out.reshape(input.shape)


# ---------------------------------------------------------------------- attention
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
        weights = dropout(weights, dropout_p)
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
            proj = linear(query, in_proj_weight, in_proj_bias)
            q, k, v = proj[..., :e], proj[..., e:2 * e], proj[..., 2 * e:]
        else:
            q = linear(query, in_proj_weight[:e], b_q)
            k = linear(key, in_proj_weight[e:2 * e], b_k)
            v = linear(value, in_proj_weight[2 * e:], b_v)
    else:
        weights_in = (("q_proj_weight", q_proj_weight, query), ("k_proj_weight", k_proj_weight, key),
                      ("v_proj_weight", v_proj_weight, value))
        for name, w, x in weights_in:
            if w is None:
                raise ValueError(f"{op}: use_separate_proj_weight is True but {name} is None")
            if w.ndim != 2 or w.shape != (e, x.shape[-1]):
                raise ValueError(f"{op}: {name} must have shape ({e}, {x.shape[-1]}) for inputs with "
                                 f"{x.shape[-1]} features, got {w.shape}")
        q, k, v = linear(query, q_proj_weight, b_q), linear(key, k_proj_weight, b_k), linear(value, v_proj_weight, b_v)

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
            weights = dropout(weights, dropout_p)
        out = weights @ v
    else:
        weights = None
        out = scaled_dot_product_attention(q, k, v, mask, dropout_p, is_causal)
    out = linear(out.permute(2, 0, 1, 3).reshape(tgt_len, bsz, embed_dim), out_proj_weight, out_proj_bias)
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
