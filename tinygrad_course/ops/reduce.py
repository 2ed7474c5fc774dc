"""Reduction primitives: sum, max/min (amax/amin), prod. Mean, var, std, logsumexp and norm
are built from these in tensor.py, so their gradients come for free.

Notation: z = reduce(x) over `axis`; g = ∂c/∂z. `axis` is None (all) or a tuple of dims.
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.ops._kernels import zero_where
from tinygrad_course.ops.movement import Expand, Reshape


def _kept_shape(shape: tuple[int, ...], axis: tuple[int, ...] | None) -> tuple[int, ...]:
    """The output shape with reduced dims kept as size 1 (so g broadcasts against x)."""
    if axis is None:
        return (1,) * len(shape)
    return tuple(1 if d in axis else n for d, n in enumerate(shape))


class Sum(Primitive):
    """z = Σ_axis x; ∂c/∂x = g broadcast back over the summed dims."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        ctx.in_shape = x.shape
        ctx.axis = axis
        if x.dtype == np.float16:  # accumulated in float32, returned in float16 (PyTorch on the CPU)
            return np.sum(x, axis=axis, keepdims=keepdim, dtype=np.float32).astype(np.float16)
        if x.dtype.kind == "b":  # numpy's sum counts the True values (as PyTorch's), add.reduce would OR them
            return np.sum(x, axis=axis, keepdims=keepdim)
        return np.add.reduce(x, axis=axis, keepdims=keepdim)  # np.sum without its Python wrapper

    @staticmethod
    def backward(ctx, g):
        # The primitives directly: the shapes are known to be valid, so skip the user-facing checks.
        kept = Reshape.apply(g, shape=_kept_shape(ctx.in_shape, ctx.axis))
        return Expand.apply(kept, shape=ctx.in_shape)


class Amax(Primitive):
    """z = max_axis x; ∂c/∂x = g · 1[x = z] / #ties (ties split the gradient evenly)."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        out = np.max(x, axis=axis, keepdims=True)
        ctx.in_shape = x.shape
        ctx.axis = axis
        ctx.mask = x == out
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return _spread_over_ties(ctx, g)


class Amin(Primitive):
    """z = min_axis x; ∂c/∂x = g · 1[x = z] / #ties."""

    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        out = np.min(x, axis=axis, keepdims=True)
        ctx.in_shape = x.shape
        ctx.axis = axis
        ctx.mask = x == out
        return out if keepdim else np.squeeze(out, axis=axis)

    @staticmethod
    def backward(ctx, g):
        return _spread_over_ties(ctx, g)


def _spread_over_ties(ctx, g):
    """g to the elements equal to the extreme, split evenly between ties, 0 elsewhere (by selection)."""
    mask = ctx.mask
    weight = (mask / mask.sum(axis=ctx.axis, keepdims=True)).astype(g.dtype)
    return zero_where(g.reshape(_kept_shape(ctx.in_shape, ctx.axis)) * weight, ~mask)


class Root(Primitive):
    """z = s^(1/p) for s ≥ 0 (√s for p = 2); ∂c/∂s = g · z / (p s), and 0 where z = 0.

    The p-th root that ends a norm or a standard deviation: at a zero vector (a constant
    sample) PyTorch gives the gradient 0, where the plain root's derivative would be ∞.
    """

    @staticmethod
    def forward(ctx, s, p=2):
        ctx.p = p
        out = np.sqrt(s) if p == 2 else np.power(s, 1.0 / p)
        ctx.save_for_backward(s, out)
        return out

    @staticmethod
    def backward(ctx, g):
        s, out = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return zero_where(g * out / (s * ctx.p), out._array == 0)


class Var(Primitive):
    """z = Σ(x − x̄)² / (n − c) over `axis`; ∂c/∂x = g · 2 (x − x̄) / (n − c).

    The closed form, as PyTorch's: built from mean and subtraction, an infinite g would give
    ∞ − ∞ = NaN where PyTorch gives ±∞. float16 is accumulated in float32.
    """

    @staticmethod
    def forward(ctx, x, axis=None, correction=1, keepdim=False):
        ctx.axis, ctx.in_shape = axis, x.shape
        n = x.size if axis is None else int(np.prod([x.shape[d] for d in axis], dtype=np.int64))
        ctx.denominator = max(n - correction, 0)
        ctx.save_for_backward(x)
        acc = np.float32 if x.dtype == np.float16 else x.dtype
        with np.errstate(divide="ignore", invalid="ignore"):
            d = x.astype(acc, copy=False) - np.mean(x, axis=axis, keepdims=True, dtype=acc)
            out = np.sum(d * d, axis=axis, keepdims=keepdim) / ctx.denominator
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        mean = x.mean(ctx.axis, keepdim=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.divide(2.0, ctx.denominator)  # ∞ for n ≤ c, as the value's NaN
            return g.reshape(_kept_shape(ctx.in_shape, ctx.axis)) * ((x - mean) * factor)


class Prod(Primitive):
    """z = Π_axis x; ∂c/∂xᵢ = g · Π_{j≠i} xⱼ (= g · z / xᵢ when no xᵢ is zero)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axis=None, keepdim=False):
        ctx.save_for_backward(x)
        ctx.axis = axis
        ctx.in_shape = x.shape
        return np.prod(x, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        kept = _kept_shape(ctx.in_shape, ctx.axis)
        g = g.reshape(kept)
        if np.all(x._array != 0):
            return g * x.prod(dim=ctx.axis, keepdim=True) / x
        # With zeros, z / xᵢ is 0/0: form the product of the others explicitly. Move the
        # reduced dims last and flatten them to n, build an (..., n, n) stack in which row i
        # has xᵢ replaced by 1, and take its product: Π_{j≠i} xⱼ, differentiable again.
        nd = len(ctx.in_shape)
        axes = tuple(range(nd)) if ctx.axis is None else ctx.axis
        rest = [d for d in range(nd) if d not in axes]
        perm = rest + list(axes)
        xt = x.permute(perm)
        n = int(np.prod([ctx.in_shape[d] for d in axes], dtype=np.int64))
        flat = xt.reshape(xt.shape[: len(rest)] + (n,))
        rows = flat.unsqueeze(-2).expand(flat.shape[:-1] + (n, n))
        others = rows.where(~np.eye(n, dtype=bool), 1.0).prod(dim=-1)
        inverse = list(np.argsort(perm))
        others = others.reshape(xt.shape).permute(inverse)
        return g * others


class Unique(Primitive):
    """z = the distinct values of x (or slices), computed by the caller and passed as `values`.

    PyTorch records the op but has no derivative for it: the output requires grad when x does,
    and a backward through it raises, as PyTorch's (``the derivative for '_unique2' is not
    implemented``).
    """

    @staticmethod
    def forward(ctx, x, values=None):
        return values

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError("unique: the derivative for unique is not implemented (as in PyTorch)")
