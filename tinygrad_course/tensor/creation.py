"""Factories: tensors made from a shape, a range or the seeded random generator (PyTorch's names)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.movement_methods import shape_arg
from tinygrad_course.tensor.tensor import Tensor, infer_dtype


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, None)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new leaf tensor from data (copied), its dtype inferred from the data like ``torch.tensor``."""
    device_.check(device, "tensor")
    if dtype is None and not isinstance(data, Tensor):
        dtype = infer_dtype(data)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: dtype {array.dtype} is not supported; accepted: floating, integer, bool")
    return Tensor._make(array, None)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros."""
    device_.check(device, "zeros")
    return _leaf(np.zeros(shape_arg(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    device_.check(device, "ones")
    return _leaf(np.ones(shape_arg(size), dtype=_float(dtype)), requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor filled with `fill_value` (int fill → int64, float → default float, like PyTorch)."""
    device_.check(device, "full")
    if dtype is None:
        dtype = infer_dtype(fill_value)
    return _leaf(np.full(shape_arg((size,)), fill_value, dtype=dtypes.as_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """The n×m identity matrix."""
    device_.check(device, "eye")
    return _leaf(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Values start, start+step, … below end (ints → int64, any float → default float)."""
    device_.check(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _leaf(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    device_.check(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _leaf(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def rand(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform samples on [0, 1) from the seeded generator."""
    device_.check(device, "rand")
    data = _random.generator().random(shape_arg(size)).astype(_float(dtype))
    return _leaf(data, requires_grad)


def randn(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Standard normal samples N(0, 1) from the seeded generator."""
    device_.check(device, "randn")
    data = _random.generator().standard_normal(shape_arg(size)).astype(_float(dtype))
    return _leaf(data, requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), dtype: Any = None, device: Any = None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` means low = 0), int64 by default."""
    device_.check(device, "randint")
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = shape_arg((size,)) if not isinstance(size, int) else (size,)
    data = _random.generator().integers(low, high, shape, dtype=np.int64)
    return Tensor._make(data.astype(dtypes.as_dtype(dtype)) if dtype is not None else data, None)


def randperm(n: int, device: Any = None) -> Tensor:
    """A random permutation of 0..n−1 (int64)."""
    device_.check(device, "randperm")
    return Tensor._make(_random.generator().permutation(n).astype(np.int64), None)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Zeros with t's shape and dtype."""
    device_.check(device, "zeros_like")
    return _leaf(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones with t's shape and dtype."""
    device_.check(device, "ones_like")
    return _leaf(np.ones(t.shape, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """`fill_value` with t's shape and dtype."""
    device_.check(device, "full_like")
    return _leaf(np.full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform [0, 1) samples with t's shape and dtype."""
    device_.check(device, "rand_like")
    return rand(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """N(0, 1) samples with t's shape and dtype."""
    device_.check(device, "randn_like")
    return randn(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)
