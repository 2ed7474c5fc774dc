"""Reduction methods of `Tensor`: sum, mean, var, std, amax/amin, max/min, argmax/argmin,
prod, logsumexp, norm, aminmax (`dim`/`keepdim` like PyTorch, `axis` accepted too); the scans
(cumsum, cumprod, cummax, cummin, logcumsumexp, diff), sorting and order statistics (sort, argsort,
topk, kthvalue, median, nanmedian, mode, quantile, nanquantile, unique) and nansum, nanmean,
var_mean, std_mean, count_nonzero.

A mixin: `Tensor` inherits these.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from tinygrad_course.ops.movement import GetItem
from tinygrad_course.ops.reduce import (
    Amax,
    Amin,
    Prod,
    Root,
    Sum,
    Unique,
    Var,
)
from tinygrad_course.ops.scan import Cumprod, Cumsum, Logcumsumexp, SpreadOverTies
from tinygrad_course.ops.torch_order import all_nan_median_index, mode_rows, sort_order

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor

Dim = int | Sequence[int] | None


class ValuesIndices(NamedTuple):
    """What `max(dim)`/`min(dim)` return, like PyTorch's ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


class MinMax(NamedTuple):
    """What `aminmax` returns, like PyTorch's ``torch.return_types.aminmax``."""

    min: Tensor
    max: Tensor


def _on_physical(x: Any, fn: Callable[[Tensor, int], Any]) -> Any:
    """For x batched by vmap (a `BatchedTensor`, see tensor/batched.py): fn(physical tensor, number
    of batch dims), each tensor of its result batched as x.

    The physical tensor holds every sample, batch dims first: fn, given dims shifted past them,
    computes all the samples at once with recorded ops on it (so gradients flow), as
    BatchedTensor._extreme does, instead of reading x's array (which sends vmap to its loop).
    """
    batched = type(x)  # BatchedTensor, reached through x (tensor/batched.py imports this module)
    out = fn(x._inner, len(x._levels))
    if isinstance(out, tuple):
        return type(out)(*(batched(o, x._levels) for o in out))
    return batched(out, x._levels)


def _shift(dims: tuple[int, ...] | None, ndim: int, nb: int) -> tuple[int, ...]:
    """Normalised dims (None: all) of a sample as dims of the physical tensor, past nb batch dims."""
    return tuple(range(nb, nb + ndim)) if dims is None else tuple(d + nb for d in dims)


def _median_of_rows(rows: Tensor, ignore_nan: bool = False) -> Tensor:
    """median() (nanmedian() if ignore_nan) of each row (last dim) of a plain tensor, as that of the row alone.

    The value is found on the array (the lower median, or the row's first NaN; for nanmedian the
    lower median of the row's other elements, NaN if it has none); the gradient is
    split evenly between the row's elements equal to it (its NaNs for NaN), as SpreadOverTies
    does for one row, built from recorded ops: out = v − Σ w·(v' − x) over those elements, where
    v' − x is exactly 0 for a finite v (v' = v), so that out is exactly v; v' = 0 for an infinite
    v keeps ±inf (inf − (−inf)), and NaN stays NaN.
    """
    a = rows._array
    n = a.shape[-1]
    if n == 0:  # no elements: NaN (the sum, 0, for integers), as median() of an empty tensor
        return rows._make(np.full(a.shape[:-1], np.nan, dtype=a.dtype), None) if a.dtype.kind == "f" else rows.sum(-1)
    srt = np.sort(a, axis=-1, kind="stable")  # NaN last, in their order: the first NaN at n − #NaN
    if a.dtype.kind != "f":  # no gradient to route
        return rows._make(np.ascontiguousarray(srt[..., (n - 1) // 2]), None)
    nans = np.isnan(a)
    nan_count = nans.sum(axis=-1)
    if ignore_nan:  # the lower median of the k elements that are not NaN (sorted first); an all-NaN row: a NaN
        k = n - nan_count
        pos = np.where(k > 0, (k - 1) // 2, 0)
    else:
        pos = np.where(nan_count > 0, n - nan_count, (n - 1) // 2)
    value = np.take_along_axis(srt, pos[..., None], axis=-1)  # (…, 1)
    mask = np.where(np.isnan(value), nans, a == value)
    weight = (1.0 / np.maximum(mask.sum(axis=-1, keepdims=True), 1)).astype(a.dtype)
    finite = rows._make(np.where(np.isfinite(value), value, 0).astype(a.dtype), None)
    spread = ((finite - rows).where(mask, 0.0) * rows._make(weight, None)).sum(-1)
    return rows._make(value[..., 0], None) - spread


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
        if n == 0:
            with np.errstate(divide="ignore", invalid="ignore"):  # the mean of nothing is NaN, as in PyTorch
                return x.sum(dims, keepdim) / n
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
        if self.dtype.kind == "c":  # Σ|z − z̄|² / (n − c), a real number (as PyTorch)
            d = self - self.mean(dims, keepdim=True)
            n = self._count(dims)
            with np.errstate(divide="ignore", invalid="ignore"):
                return (d.real * d.real + d.imag * d.imag).sum(dims, keepdim) / max(n - correction, 0)
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

    def aminmax(self, *, dim: int | None = None, keepdim: bool = False) -> MinMax:
        """(min, max) over all elements, or along dim, as a named tuple; each gradient splits between ties, as amin/amax."""
        if dim is not None and (not isinstance(dim, (int, np.integer)) or isinstance(dim, bool)):
            raise TypeError(f"aminmax: dim must be an int or None, got {dim!r}")
        dims = self._dims(dim, None, "aminmax")
        if dims is None and self.numel() == 0:
            raise ValueError(
                f"aminmax: cannot reduce an empty tensor of shape {self.shape} over all dims; give a dim whose size is not 0"
            )
        self._nonempty("aminmax", dims or ())
        return MinMax(Amin.apply(self, axis=dims, keepdim=keepdim), Amax.apply(self, axis=dims, keepdim=keepdim))

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
        if self.dtype.kind == "c":  # the norm of complex numbers is the norm of their moduli
            return self.abs().norm(p, dim, keepdim)
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

    # ------------------------------------------------------------ scans (issue 12)
    def _scan_dim(self, dim: Any, name: str) -> int:
        if dim is None:
            raise TypeError(f"{name}: dim is required (got None)")
        return self._dim(dim, name)

    def _on_1d(self, fn: Callable[[Tensor], Any]) -> Any:
        """fn on a 0-d tensor seen as shape (1,), reshaped back (PyTorch accepts dim 0 or −1 there)."""
        out = fn(self.reshape(1))
        if isinstance(out, tuple):
            return type(out)(*(o.reshape(()) for o in out))
        return out.reshape(())

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """zᵢ = Σ_{j ≤ i} xⱼ along dim (integers and bools give int64, as PyTorch); ∂/∂x = a reversed cumsum of g."""
        d = self._scan_dim(dim, "cumsum")
        if self.ndim == 0:
            return self._on_1d(lambda t: t.cumsum(0, dtype=dtype))
        if dtype is not None:
            return self.to(dtype).cumsum(d)
        return Cumsum.apply(self, axis=d)

    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """zᵢ = Π_{j ≤ i} xⱼ along dim; the gradient is exact when some xⱼ are 0."""
        d = self._scan_dim(dim, "cumprod")
        if dtype is not None:
            return self.to(dtype).cumprod(d)
        if self.ndim == 0:
            return self._on_1d(lambda t: t.cumprod(0))
        x = self.long() if self.dtype.kind in "biu" and self.dtype != np.int64 else self
        return Cumprod.apply(x, axis=d)

    def logcumsumexp(self, dim: int) -> Tensor:
        """zᵢ = ln Σ_{j ≤ i} e^(xⱼ) along dim, without overflow; ∂/∂xᵢ = Σ_{j ≥ i} gⱼ e^(xᵢ − zⱼ)."""
        d = self._scan_dim(dim, "logcumsumexp")
        if self.ndim == 0:
            return self._on_1d(lambda t: t.logcumsumexp(0))
        return Logcumsumexp.apply(self._floating("logcumsumexp"), axis=d)

    def cummax(self, dim: int) -> ValuesIndices:
        """(values, indices): the running max along dim and where it was last reached (NaN propagates); gradient to those elements."""
        return self._cum_extreme(dim, "cummax")

    def cummin(self, dim: int) -> ValuesIndices:
        """(values, indices): the running min along dim and where it was last reached (NaN propagates)."""
        return self._cum_extreme(dim, "cummin")

    def _cum_extreme(self, dim: int, name: str) -> ValuesIndices:
        d = self._scan_dim(dim, name)
        if self.ndim == 0:
            return self._on_1d(lambda t: t._cum_extreme(0, name))
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p._cum_extreme(d + nb, name))
        a = np.moveaxis(self._array, d, -1)
        idx = np.zeros(a.shape, dtype=np.int64)
        if a.shape[-1]:
            best, k = a[..., 0].copy(), np.zeros(a.shape[:-1], dtype=np.int64)
            float_kind = a.dtype.kind == "f"
            for j in range(a.shape[-1]):
                v = a[..., j]
                better = v >= best if name == "cummax" else v <= best
                if float_kind:  # PyTorch: a NaN takes over, and nothing replaces a NaN but another NaN
                    better = np.isnan(v) | (~np.isnan(best) & better)
                best = np.where(better, v, best)
                k = np.where(better, j, k)
                idx[..., j] = k
        idx = np.moveaxis(idx, -1, d)
        return ValuesIndices(self._take(idx, d), self._make(idx, None))

    def _take(self, idx: np.ndarray, d: int) -> Tensor:
        """x gathered along dim d at idx (same ndim as x): differentiable, repeats add their gradients."""
        grid: list[Any] = list(np.indices(idx.shape, sparse=True))
        grid[d] = idx
        return GetItem.apply(self, index=tuple(grid))

    def diff(self, n: int = 1, dim: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
        """The n-th forward difference x[i+1] − x[i] along dim, after joining prepend and append (as PyTorch)."""
        from tinygrad_course.tensor.movement_methods import cat

        if self.ndim == 0:
            raise ValueError("diff: expects a tensor of at least one dimension, got a 0-d tensor")
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"diff: n must be a non-negative int, got {n!r}")
        d = self._dim(dim, "diff")
        parts = []
        for extra, which in ((prepend, "prepend"), (append, "append")):
            if extra is None:
                parts.append(None)
                continue
            # a plain Tensor (type(self)(…) would make a Parameter, or fail for a BatchedTensor inside vmap)
            t = extra if isinstance(extra, ReduceMethods) else self.new_tensor(extra)
            if t.ndim == 0:  # a number: broadcast to one slice, as PyTorch does with a scalar
                shape = list(self.shape)
                shape[d] = 1
                t = t.expand(*shape)
            if t.ndim != self.ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, self.shape)) if k != d):
                raise ValueError(
                    f"diff: {which} of shape {tuple(t.shape)} must match the input's shape {self.shape} except in dim {d}"
                )
            parts.append(t)
        x = self
        if parts[0] is not None or parts[1] is not None:
            x = cat([p for p in (parts[0], self, parts[1]) if p is not None], dim=d)
        for _ in range(n):
            length = x.shape[d]
            if length == 0:
                break
            hi = [slice(None)] * x.ndim
            lo = [slice(None)] * x.ndim
            hi[d], lo[d] = slice(1, length), slice(0, length - 1)
            a, b = x[tuple(hi)], x[tuple(lo)]
            x = (a != b) if x.dtype == np.bool_ else a - b
        return x

    # ------------------------------------------------------------ sorting and order statistics
    def _order(self, d: int, descending: bool) -> np.ndarray:
        """Stable argsort along d (NaN counts as the largest), descending keeping equal elements in order."""
        a = self._array
        if not descending:
            return np.argsort(a, axis=d, kind="stable")
        n = a.shape[d]
        flipped = np.argsort(np.flip(a, d), axis=d, kind="stable")
        return np.flip(n - 1 - flipped, d)

    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> ValuesIndices:
        """(values, indices) sorted along dim (NaN counts as the largest; always stable); gradient to the chosen elements."""
        if self.ndim == 0:
            self._dim(dim, "sort")
            return ValuesIndices(self._take_0d(), self._make(np.zeros((), dtype=np.int64), None))
        d = self._dim(dim, "sort")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.sort(d + nb, descending))
        idx = self._order(d, descending)
        return ValuesIndices(self._take(idx, d), self._make(idx.astype(np.int64), None))

    def _take_0d(self) -> Tensor:
        return GetItem.apply(self, index=())

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """The indices that sort along dim (always stable); no gradient."""
        return self.sort(dim, descending, stable=stable).indices

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> ValuesIndices:
        """(values, indices) of the k largest (smallest if not largest) along dim, in order."""
        d = self._dim(dim, "topk")
        n = self.shape[d] if self.ndim else 1
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= n:
            raise ValueError(f"topk: k ({k!r}) is out of range for dim {d} of shape {self.shape} (size {n})")
        if self.ndim == 0:
            return self.sort(d) if k == 1 else ValuesIndices(self.reshape(1)[:0], self._make(np.zeros(0, np.int64), None))
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.topk(k, d + nb, largest, sorted))
        idx = np.take(self._order(d, largest), np.arange(k), axis=d)
        return ValuesIndices(self._take(idx, d), self._make(idx.astype(np.int64), None))

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """(values, indices) of the k-th smallest element along dim (k from 1; NaN counts as the largest)."""
        d = self._dim(dim, "kthvalue")
        n = self.shape[d] if self.ndim else 1
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= n:
            raise ValueError(f"kthvalue: k ({k!r}) is out of range for dim {d} of shape {self.shape} (accepted: 1 to {n})")
        if self.ndim == 0:
            return self.sort(d)
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.kthvalue(k, d + nb, keepdim))
        idx = np.take(self._order(d, False), [k - 1], axis=d)
        return self._selected(idx, d, keepdim)

    def _selected(self, idx: np.ndarray, d: int, keepdim: bool) -> ValuesIndices:
        """Values and indices at idx (size 1 along d), the dim kept or dropped."""
        values = self._take(idx, d)
        if not keepdim:
            values, idx = values.squeeze(d), np.squeeze(idx, d)
        return ValuesIndices(values, self._make(idx.astype(np.int64), None))

    def median(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The lower median (NaN if any NaN). Without dim: a 0-d value whose gradient splits between ties;
        with dim: (values, indices) along it."""
        if dim is None:
            if hasattr(self, "_levels"):  # batched by vmap: each sample's elements as one row of the physical tensor
                return _on_physical(self, lambda p, nb: _median_of_rows(p.reshape(tuple(p.shape[:nb]) + (-1,))))
            a = self._array.reshape(-1)
            if a.size == 0:
                return self._make(np.asarray(np.nan, dtype=self.dtype), None) if a.dtype.kind == "f" else self.sum()
            nans = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
            value = a[nans][0] if nans.any() else np.sort(a, kind="stable")[(a.size - 1) // 2]
            return SpreadOverTies.apply(self, value=value)
        d = self._dim(dim, "median")
        if self.ndim == 0:
            return self.sort(d)
        n = self.shape[d]
        if n == 0:
            raise ValueError(f"median: dim {d} of shape {self.shape} has size 0; there is no median to take")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.median(d + nb, keepdim))
        order = self._order(d, False)
        a = self._array
        pos = np.full(np.delete(np.array(a.shape), d), (n - 1) // 2, dtype=np.int64)
        if a.dtype.kind == "f":  # a row with NaN: its first NaN (sorted last, stable)
            nan_count = np.isnan(a).sum(axis=d)
            pos = np.where(nan_count > 0, n - nan_count, pos)
        idx = np.take_along_axis(order, np.expand_dims(pos, d), axis=d)
        return self._selected(idx, d, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """median() ignoring NaN: the lower median of the elements that are not NaN (NaN where all are).
        Without dim: a 0-d value whose gradient splits between ties (between the NaNs if all are NaN);
        with dim: (values, indices) along it, the gradient to the element the index names."""
        if self.dtype.kind not in "fiu":
            raise TypeError(f"nanmedian: not implemented for dtype {self.dtype} (as in PyTorch)")
        if dim is None:
            if hasattr(self, "_levels"):  # batched by vmap: each sample's elements as one row of the physical tensor
                return _on_physical(self, lambda p, nb: _median_of_rows(p.reshape(tuple(p.shape[:nb]) + (-1,)), True))
            a = self._array.reshape(-1)
            if a.dtype.kind != "f" or a.size == 0:  # no NaN to leave out: median's value (NaN if empty)
                return self.median()
            kept = np.sort(a[~np.isnan(a)])
            value = kept[(kept.size - 1) // 2] if kept.size else a[0]  # all NaN: NaN, the gradient spread over them
            return SpreadOverTies.apply(self, value=value)
        d = self._dim(dim, "nanmedian")
        if self.ndim == 0:
            return self.sort(d)
        n = self.shape[d]
        if n == 0:
            raise ValueError(f"nanmedian: dim {d} of shape {self.shape} has size 0; there is no median to take")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.nanmedian(d + nb, keepdim))
        if self.dtype.kind != "f":
            return self.median(d, keepdim)
        count = n - np.isnan(self._array).sum(axis=d)  # the elements that are not NaN, sorted first
        pos = np.expand_dims(np.where(count > 0, (count - 1) // 2, 0), d)
        idx = np.take_along_axis(self._order(d, False), pos, axis=d)
        if (count == 0).any():  # an all-NaN row: PyTorch's kernel leaves an index its nth_element picks
            idx = np.where(np.expand_dims(count == 0, d), all_nan_median_index(n), idx)
        return self._selected(idx, d, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False) -> ValuesIndices:
        """(values, indices): the most frequent value along dim (the smallest of equally frequent ones; each NaN
        counts once) and an index where it occurs, PyTorch's CPU choice (ops/torch_order.py: mode_rows); the
        gradient goes to that element."""
        if self.dtype.kind == "c":
            raise TypeError(f"mode: not implemented for complex tensors (got {self.dtype}), as in PyTorch")
        d = self._dim(dim, "mode")
        if self.ndim == 0:
            return self.sort(d)
        n = self.shape[d]
        if n == 0:
            raise ValueError(f"mode: dim {d} of shape {self.shape} has size 0; there is no mode to take")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.mode(d + nb, keepdim))
        rows = np.moveaxis(self._array, d, -1)
        _, idx = mode_rows(rows.reshape(-1, n))
        return self._selected(np.expand_dims(idx.reshape(rows.shape[:-1]), d), d, keepdim)

    def unique(
        self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002 - PyTorch's name
        dim: int | None = None,
    ) -> Any:
        """The distinct elements as a 1-D tensor (dim None) or the distinct slices along dim, in ascending
        (lexicographic) order whatever `sorted` says, as PyTorch on the CPU; NaNs are all distinct.

        return_inverse adds where each element (slice) of self went, return_counts how often each
        occurs (both int64); the result is then a tuple. No gradient: the values require grad when
        self does, and a backward through them raises, as PyTorch's.
        """
        a = self._array
        if dim is None:
            flat = a.reshape(-1)
            order = sort_order(flat)  # PyTorch's order: which NaN is which group, which zero (±0) comes out
            srt = flat[order]
            new = np.ones(srt.shape, dtype=bool)
            new[1:] = srt[1:] != srt[:-1]  # NaN != NaN: every NaN is distinct, as in PyTorch
            values = srt[new]
            shape = a.shape
        else:
            if self.ndim == 0:
                raise IndexError(f"unique: dim {dim} is out of range for a 0-d tensor (it has no dims); use dim=None")
            d = self._dim(dim, "unique")
            moved = np.moveaxis(a, d, 0)
            n = moved.shape[0]
            rows = moved.reshape(n, math.prod(moved.shape[1:]))
            if n and rows.shape[1] == 0:
                raise RuntimeError(
                    f"unique: shape {self.shape} has a dim of size 0 other than dim {d}, so unique cannot be applied along dim {d}"
                )
            order = np.lexsort(rows.T[::-1]) if n else np.zeros(0, dtype=np.int64)  # rows in lexicographic order
            srt = rows[order]
            new = np.ones(n, dtype=bool)
            new[1:] = (srt[1:] != srt[:-1]).any(axis=1)
            values = np.moveaxis(srt[new].reshape((-1,) + moved.shape[1:]), 0, d)
            shape = (n,)
        out = Unique.apply(self, values=np.ascontiguousarray(values))
        if not (return_inverse or return_counts):
            return out
        extra = []
        if return_inverse:
            inverse = np.empty(order.shape, dtype=np.int64)
            inverse[order] = np.cumsum(new) - 1
            extra.append(self._make(inverse.reshape(shape), None))
        if return_counts:
            starts = np.nonzero(new)[0]
            extra.append(self._make(np.diff(np.append(starts, len(new))).astype(np.int64), None))
        return (out, *extra)

    def quantile(
        self, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
    ) -> Tensor:
        """The q-quantiles along dim (all elements if None), interpolating between order statistics
        (linear, lower, higher, nearest or midpoint); a tensor q of shape (m,) adds a first dim of size m."""
        return self._quantile(q, dim, keepdim, interpolation, "quantile")

    def nanquantile(
        self, q: Any, dim: int | None = None, keepdim: bool = False, *, interpolation: str = "linear"
    ) -> Tensor:
        """quantile() ignoring NaN: the q-quantiles of the elements that are not NaN (NaN where all are)."""
        return self._quantile(q, dim, keepdim, interpolation, "nanquantile")

    def _quantile(self, q: Any, dim: int | None, keepdim: bool, interpolation: str, name: str) -> Tensor:
        if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
            raise ValueError(f"{name}: interpolation must be linear, lower, higher, nearest or midpoint, got {interpolation!r}")
        if self.dtype.kind != "f":
            raise TypeError(f"{name}: the input must be a floating tensor, got dtype {self.dtype}")
        qa = np.asarray(q._array if isinstance(q, ReduceMethods) else q, dtype=np.float64)
        if qa.ndim > 1:
            raise ValueError(f"{name}: q must be a number or a 0-d or 1-d tensor, got shape {qa.shape}")
        if np.any(~((qa >= 0) & (qa <= 1))):
            raise ValueError(f"{name}: q values must be in the range [0, 1], got {qa.tolist()}")
        if self.numel() == 0:
            raise ValueError(f"{name}: the input must be non-empty, got shape {self.shape}")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: self._batched_quantile(p, nb, q, qa.ndim, dim, keepdim, interpolation, name))
        x, d = (self.reshape(-1), 0) if dim is None else (self, self._dim(dim, name))
        if x.ndim == 0:
            x, d = x.reshape(1), 0
        others = [k for k in range(x.ndim) if k != d]
        xs = x.permute(others + [d]) if others else x
        n = xs.shape[-1]
        order = np.argsort(xs._array, axis=-1, kind="stable")
        srt = xs._take(order, xs.ndim - 1)  # (…, n), NaN last
        nan_count = np.isnan(xs._array).sum(axis=-1, keepdims=True)
        if name == "nanquantile":  # ranks among the elements that are not NaN (sorted first); all NaN: rank 0, a NaN
            ranks = np.maximum(qa.reshape(-1) * (n - nan_count - 1.0), 0.0)
        else:
            ranks = np.broadcast_to(qa.reshape(-1) * (n - 1), srt.shape[:-1] + (qa.size,))
            ranks = np.where(nan_count > 0, n - 1.0, ranks)  # a row with NaN gives NaN (its last, a NaN)
        lo, hi = np.floor(ranks), np.ceil(ranks)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = np.round(ranks)
        weight = np.full(ranks.shape, 0.5) if interpolation == "midpoint" else ranks - lo
        below = srt._take(lo.astype(np.int64), srt.ndim - 1)
        above = srt._take(hi.astype(np.int64), srt.ndim - 1)
        out = below.lerp(above, type(self)._make(weight.astype(srt.dtype), None))  # (…, m)
        out = out.permute([out.ndim - 1] + list(range(out.ndim - 1)))  # (m, …)
        if keepdim:
            kept = [1] * self.ndim if dim is None else [1 if k == d else s for k, s in enumerate(self.shape)]
            out = out.reshape([qa.size] + kept)
        return out.reshape(out.shape[1:]) if qa.ndim == 0 else out

    def _batched_quantile(self, p: Tensor, nb: int, q: Any, q_ndim: int, dim: int | None, keepdim: bool,
                          interpolation: str, name: str = "quantile") -> Tensor:
        """quantile (or nanquantile) of each sample (self batched by vmap) on its physical tensor p (nb batch dims)."""
        lead = tuple(p.shape[:nb])
        if dim is None or self.ndim == 0:  # each sample's elements as one row
            out = p.reshape(lead + (-1,))._quantile(q, nb, False, interpolation, name)
            if keepdim:
                out = out.reshape(tuple(out.shape) + (1,) * self.ndim)
        else:
            out = p._quantile(q, self._dim(dim, name) + nb, keepdim, interpolation, name)
        if q_ndim == 1:  # the dim of q comes first: after the batch dims instead
            out = out.permute(tuple(range(1, nb + 1)) + (0,) + tuple(range(nb + 1, out.ndim)))
        return out

    # ------------------------------------------------------------ NaN-aware and paired reductions
    def nansum(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Σ over dim treating NaN as 0; gradient 0 at the NaNs."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind == "f":
            x = x.where(x == x, 0.0)  # x == x: False exactly at the NaNs (a comparison, batched under vmap)
        return x.sum(dim, keepdim)

    def nanmean(self, dim: Dim = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """The mean over dim of the elements that are not NaN (NaN where all are)."""
        x = self if dtype is None else self.to(dtype)
        if x.dtype.kind != "f":
            raise TypeError(f"nanmean: expected a floating tensor, got dtype {x.dtype} (as PyTorch)")
        dims = x._dims(dim, None, "nanmean")
        if hasattr(x, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(x, lambda p, nb: p.nanmean(_shift(dims, x.ndim, nb), keepdim))
        count = np.sum(~np.isnan(x._array), axis=dims, keepdims=keepdim).astype(x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return x.nansum(dims, keepdim) / count

    def var_mean(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None
    ) -> tuple[Tensor, Tensor]:
        """(var, mean) over dim, var unbiased (correction=1) by default, as torch.var_mean."""
        return self.var(dim, unbiased, keepdim, correction=correction), self._floating("var_mean").mean(dim, keepdim)

    def std_mean(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None
    ) -> tuple[Tensor, Tensor]:
        """(std, mean) over dim, std unbiased (correction=1) by default, as torch.std_mean."""
        return self.std(dim, unbiased, keepdim, correction=correction), self._floating("std_mean").mean(dim, keepdim)

    def count_nonzero(self, dim: Dim = None) -> Tensor:
        """The number of nonzero elements over dim (int64); no gradient."""
        dims = self._dims(dim, None, "count_nonzero")
        if hasattr(self, "_levels"):  # batched by vmap: all samples at once on the physical tensor
            return _on_physical(self, lambda p, nb: p.count_nonzero(_shift(dims, self.ndim, nb)))
        return self._make(np.asarray(np.count_nonzero(self._array, axis=dims), dtype=np.int64), None)
