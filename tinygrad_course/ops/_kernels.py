"""Kernels: the size- and layout-dependent tricks that op formulas call by name.

An op's `backward` states its formula once (``g * relu_mask(out)``); how that is computed
fastest on numpy lives here, and nowhere else. Each kernel takes and returns numpy arrays,
or says which of its arguments may also be a Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_mask(out: np.ndarray) -> np.ndarray:
    """Where relu passes its gradient: everywhere but out = max(x, 0) ≤ 0 (so a NaN input passes it, as in PyTorch)."""
    return ~(out <= 0)


def select(g: Any, mask: np.ndarray) -> Any:
    """g where mask is True, else 0, for g a numpy array or a Tensor; mask is a constant bool array.

    Gradients are masked by selection, never by multiplying with 0/1: an inf or NaN in g where
    the mask is False must give 0, not inf · 0 = NaN (PyTorch's rule).
    """
    if isinstance(g, (np.ndarray, np.generic)):  # (numpy gives scalars for 0-d results)
        return np.where(mask, g, np.zeros((), dtype=g.dtype))
    return g.where(mask, 0.0)


def minus_one_hot(p: Any, labels: np.ndarray) -> Any:
    """p − onehot(labels) for p (M, C), a numpy array or a Tensor; labels (M,) are class indices.

    On an array the one-hot matrix is never built: a copy of p has 1 subtracted at
    (i, labelsᵢ). On a Tensor (create_graph) it is an ordinary subtraction of a constant.
    """
    rows = np.arange(labels.shape[0])
    if isinstance(p, np.ndarray):
        out = p.copy()
        out[rows, labels] -= 1.0
        return out
    one_hot = np.zeros(p.shape, dtype=p.dtype)
    one_hot[rows, labels] = 1.0
    return p - one_hot
