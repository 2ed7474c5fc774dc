"""`tinygrad_course.nn.functional` (conventionally ``F``): layers and losses as plain functions.

Activations and normalisations live here; convolution and pooling in `functional_conv`, losses
in `functional_losses`, attention in `functional_attention` — all re-exported, so ``F.conv1d``,
``F.max_pool1d``, ``F.cross_entropy`` and ``F.scaled_dot_product_attention`` work as in PyTorch.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

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
    relu6,
    selu,
    silu,
    smooth_l1_loss,
    softmin,
    softsign,
    tanhshrink,
    triplet_margin_loss,
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


# Attention last: functional_attention calls F.linear and F.dropout, defined above.
from tinygrad_course.nn.functional_attention import (  # noqa: E402
    multi_head_attention_forward,
    scaled_dot_product_attention,
)
