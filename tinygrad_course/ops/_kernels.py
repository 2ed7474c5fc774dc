"""Kernels: the size- and layout-dependent tricks that op formulas call by name.

An op's `backward` states its formula once (``g * relu_mask(out)``); how that is computed
fastest on numpy lives here, and nowhere else. Each kernel takes and returns numpy arrays,
or says which of its arguments may also be a Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def relu_mask(out: np.ndarray) -> np.ndarray:
    """1[x > 0] from relu's output out = max(x, 0), to multiply a gradient by.

    out ≥ 0, so np.sign(out) is the mask already in out's dtype, in one call: the cheapest on
    small arrays (g · mask 2.2× faster than with a bool mask at 16 elements, 1.3× at 1024). On
    large ones the bool comparison wins (2.1× at 2¹⁶); docs/how-autograd-works.md has the figures.
    """
    return np.sign(out) if out.size <= 1024 else out > 0


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
