"""Scan primitives: cumsum, cumprod, logcumsumexp along one dim, and a value spread over its ties.

Notation: z = scan(x) along `axis`; g = ∂c/∂z. Sort, cummax/cummin, topk, kthvalue and median
select elements, so their gradients come from indexing (GetItem) and need no primitive here.
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.ops._kernels import zero_where


def _reverse_cumsum(g, axis: int):
    """Σ_{j ≥ i} g_j along axis (a Tensor)."""
    return g.flip((axis,)).cumsum(axis).flip((axis,))


def _upper(n: int) -> np.ndarray:
    """The (n, n) mask j ≥ i (row i, column j)."""
    return np.triu(np.ones((n, n), dtype=bool))


class Cumsum(Primitive):
    """zᵢ = Σ_{j ≤ i} xⱼ; ∂c/∂xᵢ = Σ_{j ≥ i} gⱼ (a reversed cumsum)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axis=0, dtype=None):
        ctx.axis, ctx.in_dtype = axis, x.dtype
        if dtype is None and x.dtype.kind in "biu":
            dtype = np.int64  # integers and bools accumulate in int64, as PyTorch
        if dtype is None and x.dtype == np.float16:
            return np.cumsum(x, axis=axis, dtype=np.float32).astype(np.float16)
        return np.cumsum(x, axis=axis, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        out = _reverse_cumsum(g, ctx.axis)
        return out if out.dtype == ctx.in_dtype else out.to(ctx.in_dtype)


class Cumprod(Primitive):
    """zᵢ = Π_{j ≤ i} xⱼ; ∂c/∂xᵢ = Σ_{j ≥ i} gⱼ Π_{k ≤ j, k ≠ i} xₖ (exact with zeros too)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        out = np.cumprod(x, axis=axis)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axis = ctx.axis
        if np.all(x._array != 0):  # Σ_{j ≥ i} gⱼ zⱼ / xᵢ
            return _reverse_cumsum(g * out, axis) / x
        # With zeros, zⱼ / xᵢ is 0/0: build, for each i, the row x with xᵢ replaced by 1, and
        # take its cumprod: C[i, j] = Π_{k ≤ j, k ≠ i} xₖ; then Σ_{j ≥ i} gⱼ C[i, j].
        xt, gt = x.transpose(axis, -1), g.transpose(axis, -1)
        n = xt.shape[-1]
        rows = xt.unsqueeze(-2).expand(xt.shape[:-1] + (n, n))
        c = rows.where(~np.eye(n, dtype=bool), 1.0).cumprod(-1)
        terms = gt.unsqueeze(-2) * c
        grad = zero_where(terms, np.broadcast_to(~_upper(n), terms.shape)).sum(-1)
        return grad.transpose(axis, -1)


class Logcumsumexp(Primitive):
    """zᵢ = ln Σ_{j ≤ i} e^(xⱼ); ∂c/∂xᵢ = Σ_{j ≥ i} gⱼ e^(xᵢ − zⱼ)."""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        out = np.logaddexp.accumulate(x, axis=axis) if x.shape[axis] else x.copy()
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        axis = ctx.axis
        if not mode.grad_enabled:
            # A plain backward: O(n) on the arrays. g = g⁺ − g⁻ with g± ≥ 0, and
            # Σ_{j ≥ i} g±ⱼ e^(xᵢ − zⱼ) = exp(xᵢ + reversed-logcumsumexp(ln g± − z)ᵢ), stable.
            xs, zs, gs = x._array, out._array, g._array
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                parts = []
                for part in (np.maximum(gs, 0), np.maximum(-gs, 0)):
                    a = np.flip(np.log(part) - zs, axis)
                    r = np.flip(np.logaddexp.accumulate(a, axis=axis), axis)
                    parts.append(np.exp(xs + r))
                res = parts[0] - parts[1]
            return type(g)._make(np.asarray(res, dtype=gs.dtype), None)
        # Differentiable again: the (…, n, n) weights e^(xᵢ − zⱼ) for j ≥ i.
        xt, zt, gt = x.transpose(axis, -1), out.transpose(axis, -1), g.transpose(axis, -1)
        n = xt.shape[-1]
        d = xt.unsqueeze(-1) - zt.unsqueeze(-2)  # [i, j] = xᵢ − zⱼ
        lower = np.broadcast_to(~_upper(n), d.shape)
        w = d.where(~lower, -np.inf).exp()
        grad = (w * gt.unsqueeze(-2)).sum(-1)
        return grad.transpose(axis, -1)


class SpreadOverTies(Primitive):
    """z = a value of x chosen by `value` (as the median); ∂c/∂x = g split evenly between the
    elements equal to z (the NaNs when z is NaN), PyTorch's evenly_distribute_backward."""

    @staticmethod
    def forward(ctx, x, value=None):
        value = np.asarray(value, dtype=x.dtype)
        ctx.in_shape = x.shape
        mask = np.isnan(x) if np.isnan(value) else x == value
        ctx.mask = mask
        ctx.weight = 1.0 / max(int(mask.sum()), 1)
        return value

    @staticmethod
    def backward(ctx, g):
        spread = (g * ctx.weight).reshape((1,) * len(ctx.in_shape)).expand(ctx.in_shape)
        return zero_where(spread, ~ctx.mask)
