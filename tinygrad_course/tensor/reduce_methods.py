"""Reduction methods of `Tensor`: sum, mean, var, std, amax/amin, max/min, argmax/argmin,
prod, logsumexp, norm (`dim`/`keepdim` like PyTorch, `axis` accepted too).

A mixin: `Tensor` inherits these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from tinygrad_course.ops.movement import GetItem
from tinygrad_course.ops.reduce import Amax, Amin, Prod, Root, Sum, Var

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor

Dim = int | Sequence[int] | None


class ValuesIndices(NamedTuple):
    """What `max(dim)`/`min(dim)` return, like PyTorch's ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


class ReduceMethods:
    """Reductions over all elements or over `dim`."""

    __slots__ = ()

    def sum(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> Tensor:
        """Σ over `dim` (all elements if None); ∂/∂x = 1 broadcast back. (`keepdims` is numpy's name, accepted as PyTorch does.)"""
        keepdim = keepdim if keepdims is None else keepdims
        return Sum.apply(self, axis=self._dims(dim, axis, "sum"), keepdim=keepdim)

    def mean(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None, keepdims: bool | None = None) -> Tensor:
        """(1/n) Σ over `dim`; ∂/∂x = 1/n."""
        keepdim = keepdim if keepdims is None else keepdims
        dims = self._dims(dim, axis, "mean")
        n = self._count(dims)
        x = self._floating("mean")
        if x.dtype == np.float16:  # accumulated and divided in float32, returned in float16 (as PyTorch)
            return (x.float().sum(dims, keepdim) / n).half()
        with np.errstate(divide="ignore", invalid="ignore"):  # the mean of nothing is NaN, as in PyTorch
            return x.sum(dims, keepdim) / n

    def _count(self, dims: tuple[int, ...] | None) -> int:
        if dims is None:
            return int(self._array.size)
        return int(np.prod([self.shape[d] for d in dims], dtype=np.int64))

    def var(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None, axis: Dim = None,
    ) -> Tensor:
        """Σ(x − x̄)² / (n − correction); unbiased (correction=1) by default, like PyTorch."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        elif unbiased is not None:
            raise TypeError("var: give unbiased or correction, not both")
        dims = self._dims(dim, axis, "var")
        return Var.apply(self._floating("var"), axis=dims, correction=correction, keepdim=keepdim)

    def std(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None, axis: Dim = None,
    ) -> Tensor:
        """√var (unbiased by default); the gradient is 0 where all values are equal, as PyTorch's."""
        return Root.apply(self.var(dim, unbiased, keepdim, correction=correction, axis=axis), p=2)

    def amax(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """Max over `dim`; ties split the gradient evenly."""
        dims = self._dims(dim, axis, "amax")
        self._nonempty("amax", dims)
        return Amax.apply(self, axis=dims, keepdim=keepdim)

    def amin(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """Min over `dim`; ties split the gradient evenly."""
        dims = self._dims(dim, axis, "amin")
        self._nonempty("amin", dims)
        return Amin.apply(self, axis=dims, keepdim=keepdim)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        """Without dim: the largest element (0-d). With dim: (values, indices) along it, like PyTorch."""
        if isinstance(dim, ReduceMethods):  # max(other_tensor) is maximum, as in PyTorch
            return self.maximum(dim)
        return self._extreme(dim if axis is None else axis, keepdim, "max")

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        """Without dim: the smallest element (0-d). With dim: (values, indices) along it."""
        if isinstance(dim, ReduceMethods):  # max(other_tensor) is maximum, as in PyTorch
            return self.minimum(dim)
        return self._extreme(dim if axis is None else axis, keepdim, "min")

    def _extreme(self, dim: int | None, keepdim: bool, name: str) -> Any:
        self._nonempty(name, None if dim is None else (self._dim(dim, name),) if self.ndim else ())
        if dim is None:
            return self.amax() if name == "max" else self.amin()
        if self.ndim == 0:
            self._dim(dim, name)
            return ValuesIndices(self, self._make(np.zeros((), dtype=np.int64), None))
        d = self._dim(dim, name)
        idx = np.argmax(self._array, axis=d) if name == "max" else np.argmin(self._array, axis=d)
        # The gradient goes to the element the index names (PyTorch's rule for max(dim)).
        grid = list(np.indices(idx.shape, sparse=True))
        grid.insert(d, idx)
        values = GetItem.apply(self, index=tuple(grid))
        if keepdim:
            values, idx = values.unsqueeze(d), np.expand_dims(idx, d)
        return ValuesIndices(values, self._make(idx.astype(np.int64), None))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest element (flat when dim is None); no gradient."""
        return self._arg(np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the smallest element (flat when dim is None); no gradient."""
        return self._arg(np.argmin, dim, keepdim, "argmin")

    def _arg(self, fn: Callable[..., Any], dim: int | None, keepdim: bool, name: str) -> Tensor:
        self._nonempty(name, None if dim is None else (self._dim(dim, name),) if self.ndim else ())
        if dim is None:
            out = np.asarray(fn(self._array))
            return self._make(out.reshape((1,) * self.ndim) if keepdim else out.astype(np.int64), None)
        d = self._dim(dim, name) if self.ndim else None
        out = np.asarray(fn(self._array, axis=d))
        if keepdim and d is not None:
            out = np.expand_dims(out, d)
        return self._make(out.astype(np.int64), None)

    def _nonempty(self, name: str, dims: tuple[int, ...] | None) -> None:
        """An extreme over no elements has no value: refuse a reduced dim of size 0 (as PyTorch)."""
        if dims is None and self._array.size == 0:
            raise ValueError(
                f"{name}: cannot reduce an empty tensor of shape {self.shape} over all dims; give a dim whose size is not 0"
            )
        for d in dims or ():
            if self.shape[d] == 0:
                raise ValueError(f"{name}: dim {d} of shape {self.shape} has size 0; there is no extreme to take")

    def prod(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        """Π over `dim`; ∂/∂xᵢ = Π_{j≠i} xⱼ (exact with zeros too)."""
        return Prod.apply(self, axis=self._dims(dim, axis, "prod"), keepdim=keepdim)

    def logsumexp(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """log Σ eˣ = m + log Σ e^(x − m) with m = max x (no overflow); ∂/∂x = softmax(x)."""
        dims = self._dims(dim, axis, "logsumexp")
        x = self._floating("logsumexp")
        if x.dtype == np.float16:  # accumulated in float32, as PyTorch on the CPU
            return x.float().logsumexp(dim, keepdim, axis=axis).half()
        if any(x.shape[d] == 0 for d in (range(x.ndim) if dims is None else dims)):
            return x.sum(dims, keepdim) - math.inf  # log of an empty sum: −∞
        m = x.amax(dims, keepdim=True).detach()
        m = m.where(m.isfinite(), 0.0)  # all −inf rows stay −inf instead of becoming nan
        out = (x - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.reshape(np.sum(self._array, axis=dims).shape)

    def norm(self, p: float | str = "fro", dim: Dim = None, keepdim: bool = False) -> Tensor:
        """The p-norm (Σ|x|ᵖ)^(1/p) over `dim` ("fro" and 2 give √Σx², inf gives max|x|)."""
        dims = self._dims(dim, None, "norm")
        x = self._floating("norm")
        if x.dtype == np.float16:  # accumulated in float32, as PyTorch on the CPU
            return x.float().norm(p, dim, keepdim).half()
        if p in ("fro", 2, 2.0):
            return Root.apply((x * x).sum(dims, keepdim), p=2)  # gradient 0 at a zero vector
        if p == 1:
            return x.abs().sum(dims, keepdim)
        if p == math.inf:
            return x.abs().amax(dims, keepdim)
        if p == -math.inf:
            return x.abs().amin(dims, keepdim)
        if isinstance(p, (int, float)) and p > 0:
            return Root.apply((x.abs() ** p).sum(dims, keepdim), p=p)
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")
