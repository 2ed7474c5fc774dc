"""More of ``torch.nn.functional``: activations, distances, and losses, composed of Tensor ops.

Every function here is built from differentiable Tensor operations (so gradcheck and
gradgradcheck apply) and follows PyTorch's formula, defaults and argument names. All are
re-exported by `tinygrad_course.nn.functional`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd.function import NeedsLoop
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.batched import BatchedTensor

__all__ = [
    "celu", "cdist", "cosine_embedding_loss", "cosine_similarity", "elu", "gaussian_nll_loss", "glu",
    "gumbel_softmax", "hardshrink", "hardsigmoid", "hardswish", "hardtanh", "hinge_embedding_loss", "kl_div",
    "logsigmoid", "margin_ranking_loss", "mish", "multilabel_soft_margin_loss", "normalize", "one_hot",
    "pairwise_distance", "poisson_nll_loss", "prelu", "relu6", "rrelu", "selu", "silu", "smooth_l1_loss", "softmin",
    "softshrink", "softsign", "tanhshrink", "threshold", "triplet_margin_loss",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _const(array: np.ndarray) -> Tensor:
    return Tensor._make(np.asarray(array), None)


def _values(t: Tensor) -> np.ndarray:
    """t's values for a check on all of them (no gradient): under vmap, every sample's at once."""
    return t._inner._array if isinstance(t, BatchedTensor) else t._array


def _softplus(x: Tensor) -> Tensor:
    # log(1 + eˣ) = max(x, 0) + log(1 + e^−|x|), stable for any x
    return x.relu() + ((-x.abs()).exp() + 1.0).log()


# ---------------------------------------------------------------------- activations
def _result(input: Tensor, fn: Any, inplace: bool, name: str = "activation") -> Tensor:
    """fn(input), or with inplace=True fn(input) written into input, which is returned.

    In place it goes through the Tensor's one in-place mechanism (`_write`, as `relu_` does):
    the leaf rule, a rebased history whose node reads a copy of the old value, the version bump.
    """
    return input._write(f"{name}_", fn) if inplace else fn(input)


def _clamp_strict(x: Tensor, lo: float, hi: float) -> Tensor:
    """clamp(x, lo, hi) whose gradient is 1 only strictly inside (lo, hi), 0 at the bounds.

    PyTorch's hardtanh family masks with strict inequalities (unlike clamp, which passes the
    gradient at the bounds); matching it keeps a unit sitting exactly on 0 or 6 in step.
    """
    inside = (x > lo) & (x < hi)
    return x.where(inside, x.detach().clamp(lo, hi))


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val); ∂/∂x = 1 on (min_val, max_val), 0 elsewhere."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    return _result(input, lambda x: _clamp_strict(x, min_val, max_val), inplace, "hardtanh")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6); ∂/∂x = 1 on (0, 6), 0 elsewhere."""
    return _result(input, lambda x: _clamp_strict(x, 0.0, 6.0), inplace, "relu6")


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6: 0 below −3, 1 above 3, linear between (gradient 1/6 on (−3, 3) only)."""
    return _result(input, lambda x: _clamp_strict(x + 3.0, 0.0, 6.0) / 6.0, inplace, "hardsigmoid")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · relu6(x + 3) / 6 (MobileNetV3)."""
    # PyTorch's derivative is x/3 + 1/2 on the open (−3, 3), 0 at −3 and 1 at 3: exactly
    # what the product rule gives with hardsigmoid's strict gradient mask.
    return _result(input, lambda x: x * hardsigmoid(x), inplace, "hardswish")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x · σ(x) (swish)."""
    return _result(input, lambda x: x * x.sigmoid(), inplace, "silu")


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x · tanh(softplus(x))."""
    return _result(input, lambda x: x * _softplus(x).tanh(), inplace, "mish")


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x for x > 0, else α (eˣ − 1)."""
    return _result(input, lambda x: x.where(x > 0, (x.clamp(max=0.0).exp() - 1.0) * alpha), inplace, "elu")


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale · elu(x, α) with the self-normalising constants α ≈ 1.6733, scale ≈ 1.0507."""
    return _result(input, lambda x: elu(x, _SELU_ALPHA) * _SELU_SCALE, inplace, "selu")


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, α (e^(x/α) − 1))."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")
    return _result(input, lambda x: x.where(x > 0, ((x.clamp(max=0.0) / alpha).exp() - 1.0) * alpha), inplace, "celu")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x − λ for x > λ, x + λ for x < −λ, 0 between; ∂/∂x = 1[|x| > λ] (0 at |x| = λ, as PyTorch)."""
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be non-negative, got {lambd}")
    inside = (input >= -lambd) & (input <= lambd)  # NaN is not inside: it passes through, as PyTorch's
    shrunk = (input - lambd).where(input > lambd, input + lambd)
    return shrunk.where(~inside, input * 0.0)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0; ∂/∂x = 1[|x| > λ] (0 at |x| = λ, as PyTorch)."""
    inside = (input >= -lambd) & (input <= lambd)
    return input.where(~inside, 0.0)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value; ∂/∂x = 1[x > threshold] (0 at x = threshold, as PyTorch)."""
    return _result(input, lambda x: x.where(~(x <= threshold), value), inplace, "threshold")


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x for x > 0, else a·x with learnt slopes a = weight (one, or one per channel = dim 1); ∂/∂x = a at x ≤ 0."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = "input" if not isinstance(input, Tensor) else "weight"
        raise TypeError(f"prelu: {bad} must be a Tensor, got {type(input if bad == 'input' else weight).__name__}")
    if weight.ndim > 1:
        raise ValueError(f"prelu: expected weight to be a scalar or 1-D tensor, got weight of shape {weight.shape}")
    n = math.prod(weight.shape)
    if n == 1:
        slope = weight.reshape(())
    else:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if n != channels:
            raise ValueError(f"prelu: mismatch of parameter numbers and input channel size: found {n} parameters "
                             f"and channel size {channels} (dim 1 of input of shape {input.shape})")
        slope = weight.reshape((n,) + (1,) * (input.ndim - 2))
    return input.where(input > 0, input * slope)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """x for x > 0, else a·x: a ~ U(lower, upper) per element in training (the library's generator), (lower + upper)/2 in eval."""
    if lower > upper:
        raise ValueError(f"rrelu: lower bound should be less than or equal to the upper bound, got lower={lower} "
                         f"and upper={upper}")
    if training:
        # PyTorch's rrelu_with_noise: a random slope where x ≤ 0 (x = 0 too: its gradient is that slope)
        slopes = _const(_random.generator().uniform(lower, upper, size=input.shape).astype(input.dtype))
        return _result(input, lambda x: x.where(~(x <= 0), x * slopes), inplace, "rrelu")
    slope = (lower + upper) / 2
    return _result(input, lambda x: x.where(x > 0, x * slope), inplace, "rrelu")


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x − tanh x."""
    return input - input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log σ(x) = −softplus(−x), stable for any x."""
    return -_softplus(-input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """Gated linear unit: a ⊗ σ(b), where a, b are the two halves of the input along `dim`."""
    if input.ndim == 0:
        raise ValueError("glu: does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise ValueError(f"glu: halving dimension must be even, but dimension {dim} is size {input.shape[dim]}")
    a, b = input.chunk(2, dim)
    return a * b.sigmoid()


def softmin(input: Tensor, dim: int | None = None) -> Tensor:
    """softmax(−x) along `dim` (PyTorch's implicit dim for dim=None: 0 for 0-, 1- and 3-D input, else 1)."""
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1
    return (-input).softmax(dim)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 tensor of shape (*tensor.shape, num_classes) with a 1 at each index (num_classes=-1: max + 1)."""
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        raise TypeError("one_hot is only applicable to index tensor of integer dtype")
    levels = getattr(tensor, "_levels", None)  # batched by vmap: the indices of all samples at once
    idx = (tensor._array if levels is None else tensor._inner._array).astype(np.int64)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("one_hot: can not infer total number of classes from empty tensor")
        if levels is not None:  # one count for every sample, or (as the loop would) one per sample
            most = idx.reshape(idx.shape[:len(levels)] + (-1,)).max(-1)
            if np.any(most != most.flat[0]):
                raise NeedsLoop("one_hot infers a different num_classes for different samples")
        num_classes = int(idx.max()) + 1
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise RuntimeError("one_hot: class values must be non-negative and smaller than num_classes")
    out = _const((idx[..., None] == np.arange(num_classes)).astype(np.int64))
    return out if levels is None else BatchedTensor(out, levels)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """softmax((logits + g) / τ) with Gumbel(0, 1) noise g = −log E, E ~ Exp(1) (from the library's generator).

    hard=True returns the one-hot of the argmax in the forward pass with the soft sample's
    gradient (straight-through: y_hard − y_soft.detach() + y_soft).
    """
    e = _random.generator().exponential(1.0, size=logits.shape).astype(logits.dtype)
    gumbels = (logits + _const(-np.log(e))) / tau
    y_soft = gumbels.softmax(dim)
    if not hard:
        return y_soft
    # 1 at the first maximum along dim: its index compared with every position (batched under vmap)
    d = dim % y_soft.ndim
    positions = _const(np.arange(y_soft.shape[d]).reshape((-1,) + (1,) * (y_soft.ndim - 1 - d)))
    y_hard = (y_soft.detach().argmax(d, keepdim=True) == positions).to(y_soft.dtype)
    return y_hard - y_soft.detach() + y_soft


# ---------------------------------------------------------------------- distances
def _pnorm(x: Tensor, p: float, dim: int, keepdim: bool = False) -> Tensor:
    if p == 2:
        return (x * x).sum(dim, keepdim=keepdim).sqrt()
    if p == 1:
        return x.abs().sum(dim, keepdim=keepdim)
    if math.isinf(p):
        return x.abs().amax(dim, keepdim=keepdim)
    if p == 0:
        return (x != 0).sum(dim, keepdim=keepdim).to(x.dtype)  # no gradient (a count)
    return (x.abs() ** p).sum(dim, keepdim=keepdim) ** (1.0 / p)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None) -> Tensor:
    """x / max(‖x‖_p, ε) along `dim`."""
    return input / _pnorm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Σ x1·x2 / (max(‖x1‖, ε) · max(‖x2‖, ε)) along `dim` (x1, x2 broadcast)."""
    n1 = _pnorm(x1, 2, dim, keepdim=True).clamp(min=eps)
    n2 = _pnorm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + ε‖_p over the last dim."""
    return _pnorm(x1 - x2 + eps, p, -1, keepdim)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """Distances ‖x1ᵢ − x2ⱼ‖_p between the rows of x1 (…, P, M) and x2 (…, R, M): shape (…, P, R)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise ValueError(f"cdist: expected x1 (…, P, M) and x2 (…, R, M) with equal M, got {x1.shape} and {x2.shape}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return _pnorm(diff, p, -1)


# ---------------------------------------------------------------------- losses
def _check(op: str, reduction: str, allowed: Sequence[str] = ("none", "mean", "sum")) -> None:
    if reduction not in allowed:
        raise ValueError(f"{op}: reduction must be one of {', '.join(map(repr, allowed))}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def kl_div(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Pointwise KL: y (log y − x) (0 where y = 0); log_target: e^y (y − x). 'batchmean' divides the sum by N."""
    _check("kl_div", reduction, ("none", "mean", "sum", "batchmean"))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        # y log y, 0 at y = 0; its derivative log y + 1 reaches a target that requires grad
        ylogy = (target * target.where(target > 0, 1).log()).where(target != 0, 0.0)
        loss = ylogy - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: None = None, eps: float = 1e-8, reduce: None = None,
                     reduction: str = "mean") -> Tensor:
    """log_input: eˣ − y x; else x − y log(x + ε); full adds Stirling's y log y − y + ½ log(2πy) where y > 1."""
    _check("poisson_nll_loss", reduction)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        safe = target.where(target > 1, 1)
        stirling = safe * safe.log() - safe + (safe * (2 * np.pi)).log() * 0.5
        loss = loss + stirling.where(target > 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """½ (log max(var, ε) + (x − y)² / max(var, ε)) (+ ½ log 2π if full); the clamp passes gradients through."""
    _check("gaussian_nll_loss", reduction)
    if not isinstance(var, Tensor):
        var = _const(np.full(input.shape, float(var), dtype=input.dtype))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:
            var = var.unsqueeze(-1)
        elif not (input.shape[:-1] == var.shape[:-1] and var.shape[-1] == 1):
            raise ValueError("gaussian_nll_loss: var is of incorrect size")
    if np.any(_values(var) < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    v = var.detach()
    var = var + (v.clamp(min=eps) - v)  # clamped value, identity gradient (PyTorch's no_grad clamp_)
    diff = input - target
    loss = (var.log() + diff * diff / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: None = None, reduce: None = None, reduction: str = "mean") -> Tensor:
    """max(0, −y (x1 − x2) + margin)."""
    _check("margin_ranking_loss", reduction)
    return _reduce((-target * (input1 - input2) + margin).relu(), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: None = None, reduce: None = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) − d(a, n) + margin, 0) with d = pairwise_distance; swap uses min(d(a, n), d(p, n))."""
    _check("triplet_margin_loss", reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_neg = d_neg.minimum(d_swap)
    return _reduce((d_pos - d_neg + margin).relu(), reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: None = None, reduce: None = None, reduction: str = "mean") -> Tensor:
    """1 − cos(x1, x2) where y = 1, max(0, cos(x1, x2) − margin) where y = −1 (cos along the last dim)."""
    _check("cosine_embedding_loss", reduction)
    d = input1.ndim - 1
    prod = (input1 * input2).sum(d)
    mag1 = (input1 * input1).sum(d) + 1e-12
    mag2 = (input2 * input2).sum(d) + 1e-12
    cos = prod / (mag1 * mag2).sqrt()
    pos = (1.0 - cos).where(target == 1, 0.0)
    neg = (cos - margin).relu().where(target == -1, 0.0)
    return _reduce(pos + neg, reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: None = None,
                         reduce: None = None, reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin − x) where y = −1."""
    _check("hinge_embedding_loss", reduction)
    loss = (margin - input).relu().where(target != 1, 0.0) + input.where(target != -1, 0.0)
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: None = None, reduce: None = None, reduction: str = "mean") -> Tensor:
    """−mean_c [y log σ(x) + (1 − y) log σ(−x)] (per sample, times weight_c), then reduced over samples."""
    _check("multilabel_soft_margin_loss", reduction)
    loss = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    c = input.ndim - 1
    loss = loss.sum(c) / input.shape[c]
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: None = None, reduce: None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """½ d² / β where |d| < β, else |d| − ½β (d = x − y); β = 0 is the L1 loss."""
    _check("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    diff = input - target
    size = diff.abs()
    if beta == 0:
        return _reduce(size, reduction)
    loss = (diff * diff * (0.5 / beta)).where(size < beta, size - 0.5 * beta)
    return _reduce(loss, reduction)
