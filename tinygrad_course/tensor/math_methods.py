"""Elementwise math methods of `Tensor` (exp, log, …, softmax), and `where`.

A mixin: `Tensor` inherits these, so ``x.exp()`` lands here and calls ``Exp.apply`` in one step.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.ops.elementwise import (
    Abs,
    Clamp,
    Cos,
    Erf,
    Exp,
    Log,
    Maximum,
    Minimum,
    Relu,
    Sigmoid,
    Sin,
    Sqrt,
    Tanh,
    Where,
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

    def relu(self) -> Tensor:
        """max(x, 0); ∂/∂x = 1[x > 0]."""
        return Relu.apply(self)

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
        """|x|; ∂/∂x = sign(x)."""
        return Abs.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Elements limited to [min, max]; ∂/∂x = 1 inside the range, 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
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

    def _floating(self, name: str) -> Tensor:
        # PyTorch computes exp/log/... of an integer tensor in the default float dtype.
        return self if self._array.dtype.kind == "f" else self.to(dtypes.get_default_dtype())


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where condition else other (broadcast); the condition gets no gradient."""
    cond = condition._array if isinstance(condition, MathMethods) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    tensor = input if isinstance(input, MathMethods) else other  # every Tensor is a MathMethods
    if not isinstance(tensor, MathMethods):
        raise TypeError("where: input or other must be a Tensor")
    dtype = result_type(input, other)
    x, y = tensor._as_operand(dtype, input), tensor._as_operand(dtype, other)
    return Where.apply(x._make(cond, None), x, y)
