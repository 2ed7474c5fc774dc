"""cross_entropy and nll_loss inside ``vmap``: every sample's items as one flat batch, reduced per sample.

The unbatched losses read their targets as numpy arrays (class indices are not differentiable),
which a batched target cannot give. Here the batch dims are merged into the loss's own batch,
the loss runs once with reduction='none', and "sum"/"mean" are taken per sample — "mean" with
each sample's own divisor (Σ of the class weights of its targets that are not ignored).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.batched import BatchedTensor, levels_of, physical


def batched_class_loss(loss: Callable[..., Tensor], input: Tensor, target: Tensor, weight: Tensor | None,
                       ignore_index: int, reduction: str, **extra: Any) -> Tensor:
    """loss(input, target, …) for one sample, run on the whole batch at once (see the module docstring)."""
    levels = tuple(sorted(set(levels_of(input)) | set(levels_of(target))))
    sizes = tuple(mode.vmap_sizes[lv] for lv in levels)
    count = math.prod(sizes)
    z_all = physical(input, levels, mode.vmap_sizes)
    t_all = physical(target, levels, mode.vmap_sizes)
    probabilities = target.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape)
    if input.ndim == 1:  # one item per sample: (C,) logits, a () label or (C,) probabilities
        z = z_all.reshape((count,) + tuple(input.shape))
        t = t_all.reshape((count,) + tuple(target.shape))
        item_shape: tuple[int, ...] = ()
    else:  # (N, C, d1, …): the samples' N items side by side
        z = z_all.reshape((count * input.shape[0],) + tuple(input.shape[1:]))
        t = t_all.reshape((count * target.shape[0],) + tuple(target.shape[1:]))
        item_shape = (input.shape[0],) + tuple(input.shape[2:])
    losses = loss(z, t, weight=weight, ignore_index=ignore_index, reduction="none", **extra)
    if reduction == "none":
        return BatchedTensor(losses.reshape(sizes + item_shape), levels)
    per = losses.reshape(count, -1).sum(1)
    if reduction == "mean":
        if probabilities:
            per = per / float(max(math.prod(item_shape), 1)) if item_shape else per
        else:
            labels = t._array.reshape(count, -1)
            c = input.shape[0] if input.ndim == 1 else input.shape[1]
            w = np.ones(c, dtype=input.dtype) if weight is None else np.asarray(weight.detach().numpy(), dtype=input.dtype)
            keep = labels != ignore_index
            total = np.where(keep, w[np.where(keep, labels, 0)], 0).sum(1)
            # A sample whose targets are all ignored: 0/0 = nan, as PyTorch, with gradient 0.
            per = per / Tensor._make(np.where(total > 0, total, 1).astype(input.dtype), None)
            if not total.all():
                per = per + Tensor._make(np.where(total > 0, 0.0, np.nan).astype(input.dtype), None)
    return BatchedTensor(per.reshape(sizes), levels)
