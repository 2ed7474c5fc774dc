"""Elementwise math methods of `Tensor` (exp, log, …, softmax), and `where`.

A mixin: `Tensor` inherits these, so ``x.exp()`` lands here and calls ``Exp.apply`` in one step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.ops.elementwise import (
    Abs,
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atan2,
    Atanh,
    Clamp,
    Copysign,
    Cos,
    Cosh,
    Erf,
    Erfc,
    Erfinv,
    Exp,
    Exp2,
    Expm1,
    Fmax,
    Fmin,
    Fmod,
    Heaviside,
    Hypot,
    Lgamma,
    Log,
    Log1p,
    LogAddExp,
    LogAddExp2,
    Logit,
    Maximum,
    Minimum,
    NanToNum,
    Polygamma,
    Sigmoid,
    Sin,
    Sinc,
    Sinh,
    Sqrt,
    Step,
    Tan,
    Tanh,
    Where,
    Xlogy,
)
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor.promotion import result_type

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor


class MathMethods:
    """exp, log, sqrt, sin, cos, tanh, sigmoid, relu, leaky_relu, erf, gelu, abs, clamp,
    maximum, minimum, where, softmax, log_softmax."""

    __slots__ = ()

    def exp(self) -> Tensor:
        """eˣ; ∂/∂x = eˣ."""
        return Exp.apply(self._floating("exp"))

    def log(self) -> Tensor:
        """ln x; ∂/∂x = 1/x."""
        return Log.apply(self._floating("log"))

    def log2(self) -> Tensor:
        """log₂ x = ln x / ln 2; ∂/∂x = 1 / (x ln 2)."""
        return self.log() * (1.0 / math.log(2.0))

    def log10(self) -> Tensor:
        """log₁₀ x = ln x / ln 10; ∂/∂x = 1 / (x ln 10)."""
        return self.log() * (1.0 / math.log(10.0))

    def square(self) -> Tensor:
        """x²; ∂/∂x = 2x."""
        return self * self

    def rsqrt(self) -> Tensor:
        """1/√x; ∂/∂x = −½ x^(−3/2)."""
        return 1.0 / self.sqrt()

    def sqrt(self) -> Tensor:
        """√x; ∂/∂x = 1/(2√x)."""
        return Sqrt.apply(self._floating("sqrt"))

    def sin(self) -> Tensor:
        """sin x; ∂/∂x = cos x."""
        return Sin.apply(self._floating("sin"))

    def cos(self) -> Tensor:
        """cos x; ∂/∂x = −sin x."""
        return Cos.apply(self._floating("cos"))

    def tanh(self) -> Tensor:
        """tanh x; ∂/∂x = 1 − tanh²x."""
        return Tanh.apply(self._floating("tanh"))

    def sigmoid(self) -> Tensor:
        """σ(x) = 1/(1 + e⁻ˣ); ∂/∂x = σ(1 − σ)."""
        return Sigmoid.apply(self._floating("sigmoid"))

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, else negative_slope · x."""
        return self.where(self > 0, self * negative_slope)

    def erf(self) -> Tensor:
        """The error function erf x; ∂/∂x = (2/√π) e^(−x²)."""
        return Erf.apply(self._floating("erf"))

    def gelu(self, approximate: str = "none") -> Tensor:
        """GELU: x·Φ(x) = ½x(1 + erf(x/√2)); approximate="tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
        if approximate == "none":
            return self * 0.5 * (1.0 + (self * (1.0 / math.sqrt(2.0))).erf())
        if approximate == "tanh":
            inner = (self + 0.044715 * self * self * self) * math.sqrt(2.0 / math.pi)
            return self * 0.5 * (1.0 + inner.tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def abs(self) -> Tensor:
        """|x|; ∂/∂x = sign(x) (for complex z: |z| with gradient z/|z|)."""
        if self.dtype.kind == "c":
            return self._complex_abs()
        return Abs.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Elements limited to [min, max]; ∂/∂x = 1 inside the range, 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        if isinstance(min, MathMethods) or isinstance(max, MathMethods):
            # Tensor bounds (broadcast), as PyTorch: x where lo ≤ x ≤ hi (x gets the gradient at a
            # tie), lo below, hi above; hi wins where lo > hi.
            out = self
            if min is not None:
                out = out.where(out >= min, min)
            if max is not None:
                out = out.where(out <= max, max)
            return out
        return Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max(self, other) (broadcast); ties split the gradient."""
        return self._binary(Maximum, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min(self, other) (broadcast); ties split the gradient."""
        return self._binary(Minimum, other)

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where condition else other (PyTorch's ``x.where(cond, y)``)."""
        return where(condition, self, other)

    def softmax(self, dim: int = -1) -> Tensor:
        """softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), m = max x (stable for any logits)."""
        e = (self - self._row_max(dim)).exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim: int = -1) -> Tensor:
        """log softmax(x)ᵢ = (xᵢ − m) − log Σⱼ e^(xⱼ − m), m = max x (stable and precise for any logits)."""
        # Subtracting m before the log keeps float32 precision for large logits, where
        # x − logsumexp(x) would cancel two large numbers.
        shifted = self - self._row_max(dim)
        return shifted - shifted.exp().sum(dim, keepdim=True).log()

    def _row_max(self, dim: int) -> Any:
        """m = max x along dim (a constant, kept dims), the shift of the softmax family; 0 along an empty dim."""
        if self.ndim and self.shape[self._dim(dim, "softmax")] == 0:
            return 0.0
        return self.amax(dim, keepdim=True).detach()

    # ------------------------------------------------------------ more math (issue 12)
    def tan(self) -> Tensor:
        """tan x; ∂/∂x = 1 + tan²x."""
        return Tan.apply(self._floating("tan"))

    def sinh(self) -> Tensor:
        """sinh x; ∂/∂x = cosh x."""
        return Sinh.apply(self._floating("sinh"))

    def cosh(self) -> Tensor:
        """cosh x; ∂/∂x = sinh x."""
        return Cosh.apply(self._floating("cosh"))

    def asin(self) -> Tensor:
        """asin x (NaN outside [−1, 1]); ∂/∂x = 1/√(1 − x²)."""
        return Asin.apply(self._floating("asin"))

    def acos(self) -> Tensor:
        """acos x (NaN outside [−1, 1]); ∂/∂x = −1/√(1 − x²)."""
        return Acos.apply(self._floating("acos"))

    def atan(self) -> Tensor:
        """atan x; ∂/∂x = 1/(1 + x²)."""
        return Atan.apply(self._floating("atan"))

    def asinh(self) -> Tensor:
        """asinh x; ∂/∂x = 1/√(x² + 1)."""
        return Asinh.apply(self._floating("asinh"))

    def acosh(self) -> Tensor:
        """acosh x (NaN below 1); ∂/∂x = 1/√(x² − 1)."""
        return Acosh.apply(self._floating("acosh"))

    def atanh(self) -> Tensor:
        """atanh x (±∞ at ±1, NaN outside); ∂/∂x = 1/(1 − x²)."""
        return Atanh.apply(self._floating("atanh"))

    arcsin, arccos, arctan = asin, acos, atan
    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def atan2(self, other: Any) -> Tensor:
        """atan2(self, other): the angle of the point (other, self), in (−π, π] (broadcast)."""
        return self._binary(Atan2, other, floating=True)

    arctan2 = atan2

    def exp2(self) -> Tensor:
        """2ˣ; ∂/∂x = 2ˣ ln 2."""
        return Exp2.apply(self._floating("exp2"))

    def expm1(self) -> Tensor:
        """eˣ − 1, precise for small x; ∂/∂x = eˣ."""
        return Expm1.apply(self._floating("expm1"))

    def log1p(self) -> Tensor:
        """ln(1 + x), precise for small x; ∂/∂x = 1/(1 + x)."""
        return Log1p.apply(self._floating("log1p"))

    def logaddexp(self, other: Any) -> Tensor:
        """ln(eˣ + eʸ) without overflow (broadcast); ∂/∂x = σ(x − y)."""
        return self._binary(LogAddExp, other, floating=True)

    def logaddexp2(self, other: Any) -> Tensor:
        """log₂(2ˣ + 2ʸ) without overflow (broadcast)."""
        return self._binary(LogAddExp2, other, floating=True)

    def xlogy(self, other: Any) -> Tensor:
        """x · ln y, and 0 where x = 0 (unless y is NaN), as PyTorch (broadcast)."""
        return self._binary(Xlogy, other, floating=True)

    def erfc(self) -> Tensor:
        """1 − erf x, precise in the tail; ∂/∂x = −(2/√π) e^(−x²)."""
        return Erfc.apply(self._floating("erfc"))

    def erfinv(self) -> Tensor:
        """The inverse of erf on (−1, 1) (±∞ at ±1, NaN outside); ∂/∂x = (√π/2) e^(erfinv(x)²)."""
        return Erfinv.apply(self._floating("erfinv"))

    def lgamma(self) -> Tensor:
        """ln |Γ(x)| (+∞ at 0, −1, −2, …); ∂/∂x = ψ(x), the digamma function."""
        return Lgamma.apply(self._floating("lgamma"))

    def digamma(self) -> Tensor:
        """ψ(x) = d/dx ln Γ(x) (−∞ at 0, NaN at −1, −2, …, as PyTorch); ∂/∂x = ψ′(x)."""
        return Polygamma.apply(self._floating("digamma"), n=0)

    def polygamma(self, n: int) -> Tensor:
        """ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n ≥ 0); ∂/∂x = ψ⁽ⁿ⁺¹⁾(x)."""
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"polygamma: n must be a non-negative int, got {n!r}")
        return Polygamma.apply(self._floating("polygamma"), n=int(n))

    def sinc(self) -> Tensor:
        """sin(πx)/(πx), 1 at 0 (the normalized sinc)."""
        return Sinc.apply(self._floating("sinc"))

    def hypot(self, other: Any) -> Tensor:
        """√(x² + y²) without overflow (broadcast); ∂/∂x = x/√(x² + y²)."""
        return self._binary(Hypot, other, floating=True)

    def _step(self, fn: Any) -> Tensor:
        if self.dtype.kind in "biu":  # integers are already whole: a copy, as PyTorch
            return self._make(self._array.copy(), None)
        return Step.apply(self, fn=fn)

    def floor(self) -> Tensor:
        """The largest integer ≤ x (same dtype); gradient 0."""
        return self._step(np.floor)

    def ceil(self) -> Tensor:
        """The smallest integer ≥ x (same dtype); gradient 0."""
        return self._step(np.ceil)

    def trunc(self) -> Tensor:
        """x rounded toward 0 (same dtype); gradient 0."""
        return self._step(np.trunc)

    fix = trunc

    def round(self, decimals: int = 0) -> Tensor:
        """x rounded to `decimals` places, halves to even (as PyTorch and numpy); gradient 0."""
        if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool):
            raise TypeError(f"round: decimals must be an int, got {decimals!r}")
        if decimals == 0:
            return self._step(np.round)
        if self.dtype.kind in "biu":
            raise TypeError(f"round: decimals={decimals} needs a floating tensor, got dtype {self.dtype}")
        scale = 10.0 ** abs(decimals)
        if decimals > 0:  # PyTorch's order: round(x · 10ᵈ) / 10ᵈ
            return Step.apply(self, fn=lambda a: (np.round(a * scale) / scale).astype(a.dtype, copy=False))
        return Step.apply(self, fn=lambda a: (np.round(a / scale) * scale).astype(a.dtype, copy=False))

    def frac(self) -> Tensor:
        """x − trunc(x) (the sign of x); ∂/∂x = 1."""
        if self.dtype.kind != "f":
            raise TypeError(f"frac: needs a floating tensor, got dtype {self.dtype} (as PyTorch)")
        with np.errstate(invalid="ignore"):  # frac(±∞) is NaN
            return self - self.trunc()

    def sgn(self) -> Tensor:
        """−1, 0 or +1 by the sign (0 for NaN, as PyTorch; sign for real tensors); gradient 0."""
        if self.dtype == np.bool_:
            return self._make(self._array.copy(), None)
        if self.dtype.kind == "c":  # z / |z| (0 at 0), differentiable as PyTorch's
            a = self.abs()
            return self / a.where(a != 0, 1.0)
        return Step.apply(self, fn=lambda a: np.nan_to_num(np.sign(a), nan=0.0, posinf=np.inf, neginf=-np.inf))

    def fmod(self, other: Any) -> Tensor:
        """x − y · trunc(x/y): the remainder with the sign of x (C's fmod; % has the sign of y)."""
        return self._binary(Fmod, other)

    def fmax(self, other: Any) -> Tensor:
        """Elementwise max ignoring NaN (NaN only where both are); ties give the gradient to self."""
        return self._binary(Fmax, other)

    def fmin(self, other: Any) -> Tensor:
        """Elementwise min ignoring NaN (NaN only where both are); ties give the gradient to self."""
        return self._binary(Fmin, other)

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        """NaN → `nan`, +∞ → `posinf`, −∞ → `neginf` (default: the dtype's largest/smallest); gradient 0 there."""
        if self.dtype.kind != "f":
            return self._make(self._array.copy(), None)
        return NanToNum.apply(self, nan=nan, posinf=posinf, neginf=neginf)

    def rad2deg(self) -> Tensor:
        """x · 180/π."""
        return self._floating("rad2deg") * (180.0 / math.pi)

    def deg2rad(self) -> Tensor:
        """x · π/180."""
        return self._floating("deg2rad") * (math.pi / 180.0)

    def reciprocal(self) -> Tensor:
        """1/x (integers give the default float); ∂/∂x = −1/x²."""
        with np.errstate(divide="ignore"):  # 1/0 = ±∞, quietly as PyTorch
            return 1.0 / self._floating("reciprocal")

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """self + weight · (end − self), as PyTorch: exact at weight 0 and 1 (from the nearer end for weight ≥ ½)."""
        start = self
        w = weight if isinstance(weight, MathMethods) else float(weight)
        diff = end - start
        near_start = start + w * diff
        near_end = end - diff * (1.0 - w)
        wa = w._array if isinstance(w, MathMethods) else np.asarray(w)
        small = np.broadcast_to(np.abs(wa) < 0.5, np.broadcast_shapes(wa.shape, near_start.shape))
        return near_start.where(small, near_end)

    def addcmul(self, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
        """self + value · tensor1 · tensor2 (broadcast)."""
        return self + value * (tensor1 * tensor2) if value != 1 else self + tensor1 * tensor2

    def addcdiv(self, tensor1: Any, tensor2: Any, *, value: float = 1) -> Tensor:
        """self + value · tensor1 / tensor2 (broadcast)."""
        return self + value * (tensor1 / tensor2) if value != 1 else self + tensor1 / tensor2

    def logit(self, eps: float | None = None) -> Tensor:
        """ln(x / (1 − x)), the inverse of sigmoid; with eps, x is first clamped to [eps, 1 − eps].

        Integers give the default float dtype. Gradient 1 / (x (1 − x)), as PyTorch's: 0 outside
        [eps, 1 − eps] when eps is given, NaN outside [0, 1] without it, ±∞ at 0 and 1.
        """
        if eps is not None and (isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating))):
            raise TypeError(f"logit: eps must be a number or None, got {eps!r}")
        return Logit.apply(self._floating("logit"), eps=None if eps is None else float(eps))

    def copysign(self, other: Any) -> Tensor:
        """|self| with the sign of other (its sign bit: −0.0 counts as negative), broadcast; integers give the
        default float. Gradient: sign(self)·sign(other) to self (0 where self is 0), 0 to other, as PyTorch."""
        if self.dtype.kind == "c" or getattr(other, "dtype", np.dtype(float)).kind == "c" or isinstance(other, complex):
            raise TypeError(f"copysign: not implemented for complex tensors (got {self.dtype}), as in PyTorch")
        return self._binary(Copysign, other, floating=True)

    def heaviside(self, values: Any) -> Tensor:
        """The step function: 0 where self < 0, `values` (a Tensor of self's dtype, broadcast) where self == 0,
        1 where self > 0; NaN gives 0, as PyTorch. No gradient: a backward through it raises, as PyTorch's."""
        if not isinstance(values, MathMethods):
            raise TypeError(f"heaviside: values must be a Tensor, got {type(values).__name__}")
        if self.dtype.kind == "c" or values.dtype.kind == "c":
            raise TypeError("heaviside: not implemented for complex tensors, as in PyTorch")
        if values.dtype != self.dtype:
            raise RuntimeError(
                f"heaviside: input ({self.dtype}) and values ({values.dtype}) must have the same dtype "
                "(PyTorch does not promote them either)"
            )
        return Heaviside.apply(self, values)

    def _floating(self, name: str) -> Tensor:
        # PyTorch computes exp/log/... of an integer tensor in the default float dtype.
        return self if self.dtype.kind in "fc" else self.to(dtypes.get_default_dtype())


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where condition else other (broadcast); the condition gets no gradient."""
    tensor = input if isinstance(input, MathMethods) else other  # every Tensor is a MathMethods
    if not isinstance(tensor, MathMethods):
        raise TypeError("where: input or other must be a Tensor")
    dtype = result_type(input, other)
    x, y = tensor._as_operand(dtype, input), tensor._as_operand(dtype, other)
    if isinstance(condition, MathMethods) and hasattr(condition, "_levels"):
        # A condition batched by vmap (see tensor/batched.py) stays a tensor: Where's rule batches it.
        return Where.apply(condition if condition.dtype == np.bool_ else condition.to(dtypes.bool_), x, y)
    cond = condition._array if isinstance(condition, MathMethods) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    return Where.apply(x._make(cond, None), x, y)
