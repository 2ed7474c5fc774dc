"""Movement primitives: they move or copy elements without arithmetic.

Each backward is the adjoint movement: reshape ↔ reshape, permute ↔ inverse permute,
expand ↔ sum, index ↔ scatter-add, cat ↔ slice, pad ↔ slice, flip ↔ flip.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.autograd.function import Primitive
from tinygrad_course.autograd.graph import sum_to_shape


def _is_basic(index: Any) -> bool:
    """True for ints, slices, None and Ellipsis only (no index arrays)."""
    items = index if type(index) is tuple else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, slice) or (isinstance(i, (int, np.integer)) and not isinstance(i, bool))
        for i in items
    )


class Reshape(Primitive):
    """z = x viewed with a new shape (same elements, row-major order); ∂c/∂x = g reshaped back."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


class Permute(Primitive):
    """z = x with dims reordered (zᵢⱼ… = x at permuted index); ∂c/∂x = g with the inverse order."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axes=()):
        ctx.axes = axes
        return np.transpose(x, axes)

    @staticmethod
    def backward(ctx, g):
        return g.permute(tuple(np.argsort(ctx.axes)))


class Expand(Primitive):
    """z = x broadcast to a larger shape (a view); ∂c/∂x = g summed over the broadcast dims."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to_shape(g, ctx.in_shape, ctx)


class GetItem(Primitive):
    """z = x[index] (basic or advanced); ∂c/∂x = zeros with g added at the index (repeats accumulate)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, index=None):
        ctx.in_shape = x.shape
        ctx.index = index
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return IndexAdd.apply(g, index=ctx.index, shape=ctx.in_shape)


class IndexAdd(Primitive):
    """z = zeros(shape) with x added at `index` (np.add.at, so repeated indices add up); ∂c/∂x = g[index]."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, index=None, shape=()):
        ctx.index = index
        out = np.zeros(shape, dtype=x.dtype)
        if _is_basic(index):
            out[index] = x  # a basic index selects each element at most once
        else:
            np.add.at(out, index, x)  # advanced: repeated indices must add up
        return out

    @staticmethod
    def backward(ctx, g):
        return GetItem.apply(g, index=ctx.index)


class Clone(Primitive):
    """z = a copy of x (its own memory); ∂c/∂x = g."""

    complex_rule = "holomorphic"

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class SetItem(Primitive):
    """z = x with z[index] = v (v broadcast to x[index]); ∂c/∂x = g with zeros at index, ∂c/∂v = g[index].

    The out-of-place form of ``x[index] = v``: Tensor.__setitem__ writes z back into x.
    """

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, v, index=None):
        ctx.index = index
        out = x.copy()
        out[index] = v
        return out

    @staticmethod
    def backward(ctx, g):
        nx, nv = ctx.needs_input_grad
        zero = function.Tensor._make(np.zeros((), dtype=g.dtype), None)
        gx = SetItem.apply(g, zero, index=ctx.index) if nx else None
        return gx, (GetItem.apply(g, index=ctx.index) if nv else None)


class Cat(Primitive):
    """z = the inputs joined along `axis`; ∂c/∂xₖ = the k-th slice of g."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, *xs, axis=0):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return np.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, g):
        grads: list[Any] = []
        start = 0
        index: list[Any] = [slice(None)] * g.ndim
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            index[ctx.axis] = slice(start, start + size)
            grads.append(g[tuple(index)] if needed else None)
            start += size
        return tuple(grads)


class Pad(Primitive):
    """z = x with `widths` ((before, after) per dim) of constant `value` around it; ∂c/∂x = the middle of g."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, widths=(), value=0.0):
        ctx.index = tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x.shape))
        return np.pad(x, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.index]


class Flip(Primitive):
    """z = x reversed along `axes`; ∂c/∂x = g reversed along the same axes."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, axes=()):
        ctx.axes = axes
        return np.flip(x, axes)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.axes)
