"""Elementwise primitives. Forward on arrays, backward on Tensors (so it is differentiable again).

Binary ops broadcast like numpy; the engine sums each gradient back to its input's shape, so
no op here undoes broadcasting itself. Notation: z = f(x, y), g = ∂c/∂z.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.ops._kernels import power, zero_where


class Add(Primitive):
    """z = x + y; ∂c/∂x = g, ∂c/∂y = g."""

    broadcasts = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        return x + y

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Primitive):
    """z = x − y; ∂c/∂x = g, ∂c/∂y = −g."""

    broadcasts = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        return x - y

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Primitive):
    """z = x · y; ∂c/∂x = g · y, ∂c/∂y = g · x."""

    broadcasts = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        return (g * y if nx else None), (g * x if ny else None)


class Div(Primitive):
    """z = x / y; ∂c/∂x = g / y, ∂c/∂y = −g · (x / y) / y."""

    broadcasts = True
    array_backward = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        # −g·(x/y)/y, not −g·x/y²: y² underflows to 0 for |y| < 1e−23 in float32 (PyTorch's order)
        return (g / y if nx else None), (-g * (x / y) / y if ny else None)


class Neg(Primitive):
    """z = −x; ∂c/∂x = −g."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, g):
        return -g


class Pow(Primitive):
    """z = x^y; ∂c/∂x = g · y · x^(y−1), ∂c/∂y = g · z · ln x."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        try:
            out = power(x, y)
        except ValueError as err:  # numpy: integers to negative integer powers
            raise RuntimeError(f"pow: {err} (base dtype {x.dtype}, exponent dtype {y.dtype}), as in PyTorch") from None
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, y, out = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        xs, ys = x._array, y._array
        with np.errstate(divide="ignore", invalid="ignore"):
            # PyTorch's special cases: x⁰ has gradient 0 (also at x = 0, where y·x^(y−1) is 0·∞),
            # and 0^y has gradient 0 with respect to y for y ≥ 0 (where z·ln x is 0·(−∞)).
            gx = zero_where(g * y * x ** (y - 1), ys == 0) if nx else None
            gy = zero_where(g * out * x.log(), (xs == 0) & (ys >= 0)) if ny else None
        return gx, gy


class FloorDiv(Primitive):
    """z = ⌊x / y⌋ (PyTorch's //, rounding toward −∞); ∂c/∂x = ∂c/∂y = 0 (a step function)."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.shapes = (x.shape, y.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(x, y)

    @staticmethod
    def backward(ctx, g):
        zero = g * 0.0
        return zero, zero


class Remainder(Primitive):
    """z = x − y ⌊x / y⌋ (PyTorch's %, the sign of y); ∂c/∂x = g, ∂c/∂y = −g ⌊x / y⌋."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.mod(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            return (g if nx else None), (-g * np.floor_divide(x._array, y._array) if ny else None)


class Exp(Primitive):
    """z = eˣ; ∂c/∂x = g · z (the output is saved, not recomputed)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out


class Log(Primitive):
    """z = ln x; ∂c/∂x = g / x."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.log(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g / x


class Sqrt(Primitive):
    """z = √x; ∂c/∂x = g / (2z)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g / (out * 2.0)


class Sin(Primitive):
    """z = sin x; ∂c/∂x = g · cos x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Primitive):
    """z = cos x; ∂c/∂x = −g · sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return -g * x.sin()


class Tanh(Primitive):
    """z = tanh x; ∂c/∂x = g · (1 − z²)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * (1.0 - out * out)


class Sigmoid(Primitive):
    """z = σ(x) = 1 / (1 + e⁻ˣ); ∂c/∂x = g · z (1 − z)."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        # With e = e^(−|x|) ≤ 1 nothing overflows, and σ(x) = e / (1 + e) for x < 0 keeps the
        # tiny values of the left tail (σ(−20) = 2.06e−9 in float32, not 0) that log needs.
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        return g * out * (1.0 - out)


class Relu(Primitive):
    """z = max(x, 0); ∂c/∂x = g · 1[x > 0]."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        out = np.maximum(x, 0)
        # relu'' = 0, so backward needs only the array, never a Tensor of the graph; saving it
        # too lets backward refuse an output that was written in place since.
        ctx.out = out
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return zero_where(g, ctx.out <= 0)  # (a NaN input passes its gradient, as in PyTorch)


class Abs(Primitive):
    """z = |x|; ∂c/∂x = g · sgn(x) (0 at x = 0 and at NaN, like PyTorch)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.abs(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xs = x._array
        sign = (xs > 0).astype(g.dtype) - (xs < 0)  # sgn, with sgn(NaN) = 0 as PyTorch's
        return zero_where(g * sign, sign == 0)


class Erf(Primitive):
    """z = erf x = (2/√π)∫₀ˣ e^(−t²) dt; ∂c/∂x = g · (2/√π) e^(−x²)."""

    # numpy has no erf; math.erf is exact to double precision, applied element by element.
    _erf = np.frompyfunc(math.erf, 1, 1)

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.asarray(Erf._erf(x), dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()


class Clamp(Primitive):
    """z = min(max(x, lo), hi); ∂c/∂x = g · 1[lo ≤ x ≤ hi]."""

    @staticmethod
    def forward(ctx, x, lo=None, hi=None):
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return np.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        outside = np.zeros(x.shape, dtype=bool)
        if ctx.lo is not None:
            outside |= x._array < ctx.lo
        if ctx.hi is not None:
            outside |= x._array > ctx.hi
        return zero_where(g, outside)  # the bounds themselves pass the gradient, as in PyTorch


class Maximum(Primitive):
    """z = max(x, y); ∂c/∂x = g · (1[x > y] + ½·1[x = y]) (ties split the gradient, like PyTorch)."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _split_ties(g, x._array > y._array, x._array == y._array)


class Minimum(Primitive):
    """z = min(x, y); ∂c/∂x = g · (1[x < y] + ½·1[x = y])."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _split_ties(g, x._array < y._array, x._array == y._array)


def _split_ties(g: Any, wins: np.ndarray, ties: np.ndarray) -> tuple[Any, Any]:
    """The gradients of max/min(x, y): all of g to the winner, half to each on a tie (by selection)."""
    wx = wins + 0.5 * ties  # 1, ½ or 0
    wy = 1.0 - wx
    return zero_where(g * wx.astype(g.dtype), wx == 0), zero_where(g * wy.astype(g.dtype), wy == 0)


class Where(Primitive):
    """z = x where cond else y; ∂c/∂x = g · 1[cond], ∂c/∂y = g · 1[¬cond] (cond gets no gradient)."""

    broadcasts = True

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.cond = cond
        ctx.save_for_backward(cond)  # not read by backward: saved so that a later write to cond is refused
        return np.where(cond, x, y)

    @staticmethod
    def backward(ctx, g):
        _, nx, ny = ctx.needs_input_grad
        gx = g.where(ctx.cond, 0.0) if nx else None
        gy = g.where(~ctx.cond, 0.0) if ny else None
        return None, gx, gy


class Cast(Primitive):
    """z = x converted to another dtype; ∂c/∂x = g converted back."""

    @staticmethod
    def forward(ctx, x, dtype=None):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        return Cast.apply(g, dtype=ctx.in_dtype)
