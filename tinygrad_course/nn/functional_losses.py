"""Loss functions with PyTorch's formulas and reductions ("none", "mean", "sum").

Regression: mse_loss, l1_loss, huber_loss. Classification: cross_entropy (log-softmax and
negative log-likelihood fused in one op), nll_loss, binary_cross_entropy,
binary_cross_entropy_with_logits (stable for any logits).

For class targets both cross_entropy and nll_loss reduce to ℓᵢ = −Σₖ qᵢₖ log pᵢₖ with a
constant target matrix q: qᵢₖ = (1 − ε) w_yᵢ 1[k = yᵢ] + (ε/C) wₖ (label smoothing ε, class
weights w, rows of ignored targets zero), and "mean" divides by Σᵢ w_yᵢ over the kept targets,
which is PyTorch's weighted mean.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.nn.batched_losses import batched_class_loss
from tinygrad_course.ops import fused
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.batched import BatchedTensor

_REDUCTIONS = ("none", "mean", "sum")


def check_reduction(op: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _pair_of_tensors(op: str, input: Any, target: Any) -> Tensor:
    """Check that input and target are Tensors of one shape; returns the target."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: target shape {target.shape} differs from input shape {input.shape}; they must "
            "match (broadcasting them is almost always a bug, e.g. (N, 1) against (N,): reshape one)"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}")
    return target if target.dtype == input.dtype else target.to(input.dtype)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error: ℓᵢ = (xᵢ − yᵢ)², reduced."""
    check_reduction("mse_loss", reduction)
    target = _pair_of_tensors("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error: ℓᵢ = |xᵢ − yᵢ|, reduced."""
    check_reduction("l1_loss", reduction)
    target = _pair_of_tensors("l1_loss", input, target)
    return _reduce((input - target).abs(), reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """Huber: ℓᵢ = ½dᵢ² if |dᵢ| < δ else δ(|dᵢ| − ½δ), with d = x − y (quadratic near 0, linear far out)."""
    check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    target = _pair_of_tensors("huber_loss", input, target)
    diff = input - target
    size = diff.abs()
    loss = (0.5 * diff * diff).where(size < delta, (size - 0.5 * delta) * delta)
    return _reduce(loss, reduction)


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean") -> Tensor:
    """ℓᵢ = −wᵢ [yᵢ log xᵢ + (1 − yᵢ) log(1 − xᵢ)] for probabilities x ∈ [0, 1] (logs clamped at −100)."""
    check_reduction("binary_cross_entropy", reduction)
    target = _pair_of_tensors("binary_cross_entropy", input, target)
    x = input._inner._array if isinstance(input, BatchedTensor) else input._array  # under vmap: every sample's
    if x.size and (not np.all(x >= 0) or not np.all(x <= 1)):
        raise ValueError(
            "binary_cross_entropy: all elements of input should be probabilities between 0 and 1 "
            f"(got values from {x.min()} to {x.max()}); "
            "for raw scores use binary_cross_entropy_with_logits"
        )
    loss = fused.BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """ℓᵢ = −wᵢ [p yᵢ log σ(xᵢ) + (1 − yᵢ) log(1 − σ(xᵢ))], computed as
    wᵢ [(1 − yᵢ) xᵢ + (1 + (p − 1) yᵢ) softplus(−xᵢ)], which never overflows (p = pos_weight, per class)."""
    check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _pair_of_tensors("binary_cross_entropy_with_logits", input, target)
    soft = fused.Softplus.apply(-input)
    if pos_weight is not None:
        soft = soft * ((pos_weight - 1.0) * target + 1.0)
    loss = (1.0 - target) * input + soft
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def _class_targets(op: str, input: Tensor, target: Any, weight: Tensor | None, ignore_index: int,
                   label_smoothing: float, allow_probabilities: bool) -> tuple[Tensor, np.ndarray | None, np.ndarray | None, float, tuple[int, ...]]:
    """(logits as (M, C), the target matrix q (M, C) or, for plain class targets (all valid, no
    weight or smoothing), the labels (M,) instead, the divisor of "mean", the shape of "none")."""
    if not isinstance(input, Tensor) or input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be a floating-point Tensor of shape (N, C) or (N, C, d1, …), got {getattr(input, 'dtype', type(input).__name__)}")
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a Tensor, got {type(target).__name__}")
    if input.ndim == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d tensor")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    batch = () if input.ndim == 1 else (input.shape[0],) + input.shape[2:]
    if input.ndim == 1:
        z = input.reshape(1, c)
    elif input.ndim == 2:
        z = input
    else:
        z = input.permute((0,) + tuple(range(2, input.ndim)) + (1,)).reshape(-1, c)
    if weight is not None and (not isinstance(weight, Tensor) or weight.shape != (c,)):
        raise ValueError(f"{op}: weight must be a Tensor of shape ({c},), one per class, got {getattr(weight, 'shape', weight)}")
    eps = float(label_smoothing)
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    t = target._array
    if allow_probabilities and t.dtype.kind == "f" and target.shape == input.shape:
        # Class probabilities: q = w · ((1 − ε) y + ε/C); "mean" divides by the number of samples.
        y = target.permute((0,) + tuple(range(2, input.ndim)) + (1,))._array if input.ndim > 2 else t
        w = np.ones(c, dtype=input.dtype) if weight is None else weight._array.astype(input.dtype)
        q = (y.reshape(-1, c) * (1.0 - eps) + eps / c) * w
        return z, q.astype(input.dtype, copy=False), None, float(z.shape[0]), batch
    if t.dtype.kind not in "iu" or target.shape != batch:
        accepted = f"class indices (int64) of shape {batch}"
        if allow_probabilities:
            accepted += f" or class probabilities (float) of shape {input.shape}"
        raise ValueError(f"{op}: target of shape {target.shape} and dtype {t.dtype} does not fit input of shape {input.shape}; expected {accepted}")
    t = t.reshape(-1)
    # One max of the labels read as unsigned integers checks both ends: a negative label
    # becomes a huge unsigned number (two's complement), so max < C means all are in [0, C).
    in_range = t.size == 0 or int(np.maximum.reduce(t.view(f"u{t.itemsize}"))) < c
    if in_range and not 0 <= ignore_index < c:
        if weight is None and not eps:
            return z, None, t, float(t.size), batch  # the common case: plain labels, none ignored
        rows = np.arange(t.size)
    else:
        keep = t != ignore_index
        bad = keep & ((t < 0) | (t >= c))
        if bad.any():
            raise IndexError(
                f"{op}: target {int(t[bad][0])} is out of bounds for {c} classes (valid: 0 to {c - 1}, "
                f"or ignore_index={ignore_index})"
            )
        rows = np.flatnonzero(keep)
    labels = t[rows]
    q = np.zeros((t.size, c), dtype=input.dtype)
    if weight is None and not eps:
        q[rows, labels] = 1.0
        return z, q, None, float(rows.size), batch
    w = np.ones(c, dtype=input.dtype) if weight is None else weight._array.astype(input.dtype)
    q[rows, labels] = (1.0 - eps) * w[labels]
    if eps:
        q[rows] += (eps / c) * w
    return z, q, None, float(w[labels].sum()), batch


def _divisor(reduction: str, total: float) -> float | None:
    if reduction == "none":
        return None
    if reduction == "sum":
        return 1.0
    return 1.0 / total if total else float("nan")  # all targets ignored: nan, like PyTorch


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """−log softmax(x)_y per sample, with class weights, ignore_index and label smoothing as PyTorch.

    input: logits (N, C), (C,) or (N, C, d1, …); target: class indices of the shape without C,
    or class probabilities of the input's shape. One fused op: its backward is δ = p − q
    (softmax minus one-hot for plain targets, eq. 1 of the lecture).
    """
    check_reduction("cross_entropy", reduction)
    if isinstance(input, BatchedTensor) or isinstance(target, BatchedTensor):  # inside vmap
        return batched_class_loss(cross_entropy, input, target, weight, ignore_index, reduction,
                                  label_smoothing=label_smoothing)
    z, q, labels, total, batch = _class_targets("cross_entropy", input, target, weight, ignore_index, label_smoothing, True)
    out = fused.SoftmaxCrossEntropy.apply(z, q=q, labels=labels, scale=_divisor(reduction, total))
    return out.reshape(batch) if reduction == "none" else out


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood: ℓᵢ = −w_yᵢ xᵢ,yᵢ for log-probabilities x (e.g. from log_softmax)."""
    check_reduction("nll_loss", reduction)
    if isinstance(input, BatchedTensor) or isinstance(target, BatchedTensor):  # inside vmap
        return batched_class_loss(nll_loss, input, target, weight, ignore_index, reduction)
    x, q, labels, total, batch = _class_targets("nll_loss", input, target, weight, ignore_index, 0.0, False)
    if q is None:
        q = np.zeros(x.shape, dtype=x.dtype)
        q[np.arange(labels.size), labels] = 1.0
    losses = -(x * Tensor._make(q, None)).sum(1)
    if reduction == "none":
        return losses.reshape(batch)
    return losses.sum() * _divisor(reduction, total)
