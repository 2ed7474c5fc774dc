"""`tc.special`: PyTorch's torch.special, as thin differentiable wrappers over tc's ops (layer: tensor).

Values and gradients as PyTorch's (tests/parity/test_fft_special_parity.py), including the edges:
``xlogy``/``xlog1py`` are 0 at x = 0 (NaN if y is NaN) with gradient 0 to x there; ``entr`` is
−x ln x, 0 at 0 and −∞ below 0; ``log_ndtr`` stays accurate far into the left tail (an asymptotic
series below −10, where Φ underflows).

    >>> import tinygrad_course as tc
    >>> tc.special.ndtr(tc.tensor([0.0]))
    tensor([0.5000])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.tensor import Tensor, where
from tinygrad_course.tensor.dtypes import get_default_dtype

__all__ = [
    "digamma", "entr", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammaln", "log1p", "log_ndtr", "log_softmax",
    "logit", "logsumexp", "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py",
    "xlogy",
]


def _t(x: Any) -> Tensor:
    """A number or array as a Tensor (of the default float dtype for Python floats)."""
    return x if isinstance(x, Tensor) else Tensor._make(np.asarray(x, dtype=get_default_dtype() if isinstance(
        x, float) else None), None)


def _float(x: Tensor) -> Tensor:
    return x if x.dtype.kind in "fc" else x.to(get_default_dtype())


def expit(input: Tensor) -> Tensor:
    """1 / (1 + e^(−x)), the logistic sigmoid."""
    return _float(input).sigmoid()


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """ln(x / (1 − x)), the inverse of expit (x first clamped to [eps, 1 − eps] when eps is given)."""
    return input.logit(eps)


def erf(input: Tensor) -> Tensor:
    """The error function 2/√π ∫₀ˣ e^(−t²) dt."""
    return _float(input).erf()


def erfc(input: Tensor) -> Tensor:
    """1 − erf(x), accurate where erf(x) is close to 1."""
    return _float(input).erfc()


def erfinv(input: Tensor) -> Tensor:
    """The inverse of erf on (−1, 1)."""
    return _float(input).erfinv()


def exp2(input: Tensor) -> Tensor:
    """2ˣ."""
    return input.exp2()


def expm1(input: Tensor) -> Tensor:
    """eˣ − 1, accurate for small x."""
    return _float(input).expm1()


def log1p(input: Tensor) -> Tensor:
    """ln(1 + x), accurate for small x."""
    return _float(input).log1p()


def gammaln(input: Tensor) -> Tensor:
    """ln |Γ(x)| (torch.lgamma)."""
    return _float(input).lgamma()


def digamma(input: Tensor) -> Tensor:
    """ψ(x) = d/dx ln Γ(x)."""
    return _float(input).digamma()


psi = digamma


def polygamma(n: int, input: Tensor) -> Tensor:
    """ψ⁽ⁿ⁾(x), the n-th derivative of digamma."""
    return _float(input).polygamma(n)


def multigammaln(input: Tensor, p: int) -> Tensor:
    """The log of the multivariate gamma function: p(p−1)/4 ln π + Σⱼ ln Γ(x − j/2), j = 0 … p−1."""
    if p < 1:
        raise RuntimeError(f"special.multigammaln: p has to be greater than or equal to 1, got {p}")
    x = _float(input)
    if bool(((x <= (p - 1) / 2).any()).item()):
        raise RuntimeError(f"special.multigammaln: all elements must be greater than (p-1)/2 = {(p - 1) / 2}")
    total = sum((x - j / 2).lgamma() for j in range(p))
    return total + p * (p - 1) / 4 * math.log(math.pi)


def xlogy(input: Any, other: Any) -> Tensor:
    """x ln y, 0 where x = 0 (unless y is NaN); gradient ln y to x (0 at x = 0), x / y to y."""
    return _float(_t(input)).xlogy(other)


class XLog1py(Primitive):
    """z = x ln(1 + y), 0 where x = 0 (y not NaN); grad x = ln(1 + y) (0 where x = 0 and y ≤ −1), grad y = x / (1 + y)."""

    broadcasts = True

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where((x == 0) & ~np.isnan(y), 0, x * np.log1p(y)).astype(np.result_type(x, y), copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = where((x == 0) & (y <= -1), 0.0, XLog1py.apply(g, y))
        return gx, g * x / (y + 1)


def xlog1py(input: Any, other: Any) -> Tensor:
    """x ln(1 + y), 0 where x = 0 (unless y is NaN); gradients as PyTorch's (see XLog1py)."""
    return XLog1py.apply(_float(_t(input)), _float(_t(other)))


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """ln Σ eˣ over `dim`, without overflow."""
    return _float(input).logsumexp(dim, keepdim)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """eˣ / Σ eˣ along dim (the input first cast to `dtype` when given)."""
    return (_float(input) if dtype is None else input.to(dtype)).softmax(dim)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """x − logsumexp(x) along dim (the input first cast to `dtype` when given)."""
    return (_float(input) if dtype is None else input.to(dtype)).log_softmax(dim)


def sinc(input: Tensor) -> Tensor:
    """sin(πx) / (πx), 1 at 0."""
    return _float(input).sinc()


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even, to `decimals` decimal places; gradient 0."""
    return input.round(decimals=decimals)


class Entr(Primitive):
    """y = −x ln x (0 at 0, −∞ below 0, NaN for NaN); grad x = −(1 + ln x), PyTorch's (+∞ at 0, NaN below 0)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0, -np.inf))
        return np.where(np.isnan(x), x, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * -(1 + x.log())


def entr(input: Tensor) -> Tensor:
    """The elementwise entropy −x ln x: 0 at x = 0, −∞ for x < 0."""
    return Entr.apply(_float(input))


SQRT1_2 = 1 / math.sqrt(2)


def ndtr(input: Tensor) -> Tensor:
    """Φ(x), the standard normal CDF: erfc(−x/√2) / 2 (accurate in the left tail)."""
    return (-_float(input) * SQRT1_2).erfc() * 0.5


def ndtri(input: Tensor) -> Tensor:
    """Φ⁻¹(p), the standard normal quantile: √2 erfinv(2p − 1) (−∞ at 0, +∞ at 1, NaN outside [0, 1])."""
    return (_float(input) * 2 - 1).erfinv() * math.sqrt(2)


def _log_ndtr_tail(x: Tensor) -> Tensor:
    """ln Φ(x) for x ≤ −10: −x²/2 − ln(−x) − ln √(2π) + ln(1 + Σₖ (−1)ᵏ (2k−1)!! / x²ᵏ)."""
    inv2 = 1 / (x * x)
    term, series = 1.0, 0.0
    odd = 1.0
    for k in range(1, 11):
        odd *= 2 * k - 1
        term = term * -inv2 if k > 1 else -inv2
        series = series + odd * term
    return -0.5 * x * x - (-x).log() - 0.5 * math.log(2 * math.pi) + (series + 1).log()


def log_ndtr(input: Tensor) -> Tensor:
    """ln Φ(x), accurate in both tails (x down to −∞; near 0 for large x)."""
    x = _float(input)
    tail = _log_ndtr_tail(x.clamp(max=-10.0))
    left = ((-x.clamp(min=-10.0, max=0.0)) * SQRT1_2).erfc().mul(0.5).log()
    right = (-0.5 * (x.clamp(min=0.0) * SQRT1_2).erfc()).log1p()
    return where(x < -10, tail, where(x > 0, right, left))
