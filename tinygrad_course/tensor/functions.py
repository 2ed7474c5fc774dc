"""The function forms of Tensor methods that PyTorch also has at top level: ``tc.exp(x)`` is ``x.exp()``.

One explicit definition per name (no generated code), so that each is one step from its method;
`tests/test_surface.py` checks the list against PyTorch's names for the ops this library has.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor.movement_methods import shape_arg
from tinygrad_course.tensor.tensor import Tensor

# ----------------------------------------------------------------- elementwise


def abs(input: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|."""
    return input.abs()


def neg(input: Tensor) -> Tensor:
    """−x."""
    return -input


def exp(input: Tensor) -> Tensor:
    """eˣ."""
    return input.exp()


def log(input: Tensor) -> Tensor:
    """ln x."""
    return input.log()


def log2(input: Tensor) -> Tensor:
    """log₂ x."""
    return input.log2()


def log10(input: Tensor) -> Tensor:
    """log₁₀ x."""
    return input.log10()


def sqrt(input: Tensor) -> Tensor:
    """√x."""
    return input.sqrt()


def rsqrt(input: Tensor) -> Tensor:
    """1/√x."""
    return input.rsqrt()


def square(input: Tensor) -> Tensor:
    """x²."""
    return input.square()


def sin(input: Tensor) -> Tensor:
    """sin x."""
    return input.sin()


def cos(input: Tensor) -> Tensor:
    """cos x."""
    return input.cos()


def tanh(input: Tensor) -> Tensor:
    """tanh x."""
    return input.tanh()


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ)."""
    return input.sigmoid()


def relu(input: Tensor) -> Tensor:
    """max(x, 0)."""
    return input.relu()


def erf(input: Tensor) -> Tensor:
    """The error function (2/√π) ∫₀ˣ e^(−t²) dt."""
    return input.erf()


def sign(input: Tensor) -> Tensor:
    """−1, 0 or +1 (no gradient)."""
    return input.sign()


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """x limited to [min, max]."""
    return input.clamp(min, max)


clip = clamp


def softmax(input: Tensor, dim: int) -> Tensor:
    """softmax along dim."""
    return input.softmax(dim)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """log softmax along dim."""
    return input.log_softmax(dim)


def add(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """input + alpha · other."""
    return input + (other if alpha == 1 else other * alpha)


def sub(input: Tensor, other: Any, *, alpha: float = 1) -> Tensor:
    """input − alpha · other."""
    return input - (other if alpha == 1 else other * alpha)


def mul(input: Tensor, other: Any) -> Tensor:
    """input · other."""
    return input * other


def div(input: Tensor, other: Any) -> Tensor:
    """input / other."""
    return input / other


def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """inputᵉˣᵖᵒⁿᵉⁿᵗ."""
    return input**exponent


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other), broadcast; ties split the gradient."""
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other), broadcast; ties split the gradient."""
    return input.minimum(other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """input @ other with batched broadcasting."""
    return input.matmul(other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """The product of two matrices."""
    return input.mm(mat2)


# ----------------------------------------------------------------- reductions


def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - PyTorch's name
    """Σ over dim (all if None)."""
    return input.sum(dim, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The mean over dim (all if None)."""
    return input.mean(dim, keepdim)


def prod(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Π over dim (all if None)."""
    return input.prod(dim, keepdim)


def var(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """The variance, unbiased by default."""
    return input.var(dim, unbiased, keepdim, correction=correction)


def std(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """The standard deviation, unbiased by default."""
    return input.std(dim, unbiased, keepdim, correction=correction)


def amax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The maximum over dim."""
    return input.amax(dim, keepdim)


def amin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The minimum over dim."""
    return input.amin(dim, keepdim)


def max(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A001 - PyTorch's name
    """max(x) (0-d), max(x, dim) → (values, indices), or max(x, other) elementwise."""
    if args and isinstance(args[0], Tensor):
        return input.maximum(args[0])
    return input.max(*args, **kwargs)


def min(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A001 - PyTorch's name
    """min(x) (0-d), min(x, dim) → (values, indices), or min(x, other) elementwise."""
    if args and isinstance(args[0], Tensor):
        return input.minimum(args[0])
    return input.min(*args, **kwargs)


def argmax(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The index of the maximum."""
    return input.argmax(dim, keepdim)


def argmin(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The index of the minimum."""
    return input.argmin(dim, keepdim)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log Σ eˣ over dim, computed stably."""
    return input.logsumexp(dim, keepdim)


def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The p-norm."""
    return input.norm(p, dim, keepdim)


def all(input: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """True if every element is nonzero."""
    return input.all()


def any(input: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """True if some element is nonzero."""
    return input.any()


def numel(input: Tensor) -> int:
    """The number of elements."""
    return input.numel()


# ----------------------------------------------------------------- movement


def reshape(input: Tensor, shape: Any) -> Tensor:
    """input with a new shape."""
    return input.reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims start_dim..end_dim merged into one."""
    return input.flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Size-1 dims removed."""
    return input.squeeze() if dim is None else input.squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """A size-1 dim inserted at dim."""
    return input.unsqueeze(dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """dim0 and dim1 swapped."""
    return input.transpose(dim0, dim1)


swapaxes = transpose


def t(input: Tensor) -> Tensor:
    """The transpose of a ≤ 2-D tensor."""
    return input.t()


def permute(input: Tensor, dims: Any) -> Tensor:
    """Dims reordered."""
    return input.permute(dims)


def flip(input: Tensor, dims: Any) -> Tensor:
    """Reversed along dims."""
    return input.flip(dims)


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of the given size (or sizes) along dim."""
    return tensor.split(split_size_or_sections, dim)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`chunks` nearly equal pieces along dim."""
    return input.chunk(chunks, dim)


def clone(input: Tensor) -> Tensor:
    """A copy, still in the graph."""
    return input.clone()


def detach(input: Tensor) -> Tensor:
    """The same values, cut off from the graph."""
    return input.detach()


# ----------------------------------------------------------------- comparisons


def isnan(input: Tensor) -> Tensor:
    """Elementwise x is nan."""
    return input.isnan()


def isinf(input: Tensor) -> Tensor:
    """Elementwise x is ±inf."""
    return input.isinf()


def isfinite(input: Tensor) -> Tensor:
    """Elementwise x is finite."""
    return input.isfinite()


def eq(input: Tensor, other: Any) -> Tensor:
    """Elementwise input == other."""
    return input == other


def ne(input: Tensor, other: Any) -> Tensor:
    """Elementwise input != other."""
    return input != other


def lt(input: Tensor, other: Any) -> Tensor:
    """Elementwise input < other."""
    return input < other


def le(input: Tensor, other: Any) -> Tensor:
    """Elementwise input <= other."""
    return input <= other


def gt(input: Tensor, other: Any) -> Tensor:
    """Elementwise input > other."""
    return input > other


def ge(input: Tensor, other: Any) -> Tensor:
    """Elementwise input >= other."""
    return input >= other


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise |input − other| ≤ atol + rtol·|other| (bool, no gradient)."""
    return Tensor._make(np.isclose(input._array, other._array, rtol=rtol, atol=atol, equal_nan=equal_nan), None)


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True if isclose holds everywhere."""
    return bool(np.allclose(input._array, other._array, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: Tensor, other: Tensor) -> bool:
    """True if both have the same shape and elements."""
    return input.shape == other.shape and bool(np.array_equal(input._array, other._array))


# ----------------------------------------------------------------- factories


def empty(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of the given size. PyTorch leaves its memory uninitialised; here it holds zeros."""
    device_.check(device, "empty")
    d = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, "empty")
    out = Tensor._make(np.zeros(shape_arg(size), dtype=d), None)
    return out.requires_grad_() if requires_grad else out


def empty_like(input: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of input's size and dtype (zeros here)."""
    return empty(input.shape, dtype=input.dtype if dtype is None else dtype, requires_grad=requires_grad, device=device)


def is_tensor(obj: Any) -> bool:
    """True for a Tensor."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """True for a floating dtype."""
    return input.dtype.kind == "f"

# ----------------------------------------------------------------- more math (the Tensor methods of the same name)


def tan(input: Tensor) -> Tensor:
    """input.tan()."""
    return input.tan()


def sinh(input: Tensor) -> Tensor:
    """input.sinh()."""
    return input.sinh()


def cosh(input: Tensor) -> Tensor:
    """input.cosh()."""
    return input.cosh()


def asin(input: Tensor) -> Tensor:
    """input.asin()."""
    return input.asin()


def acos(input: Tensor) -> Tensor:
    """input.acos()."""
    return input.acos()


def atan(input: Tensor) -> Tensor:
    """input.atan()."""
    return input.atan()


def asinh(input: Tensor) -> Tensor:
    """input.asinh()."""
    return input.asinh()


def acosh(input: Tensor) -> Tensor:
    """input.acosh()."""
    return input.acosh()


def atanh(input: Tensor) -> Tensor:
    """input.atanh()."""
    return input.atanh()


def arcsin(input: Tensor) -> Tensor:
    """input.arcsin()."""
    return input.arcsin()


def arccos(input: Tensor) -> Tensor:
    """input.arccos()."""
    return input.arccos()


def arctan(input: Tensor) -> Tensor:
    """input.arctan()."""
    return input.arctan()


def arcsinh(input: Tensor) -> Tensor:
    """input.arcsinh()."""
    return input.arcsinh()


def arccosh(input: Tensor) -> Tensor:
    """input.arccosh()."""
    return input.arccosh()


def arctanh(input: Tensor) -> Tensor:
    """input.arctanh()."""
    return input.arctanh()


def exp2(input: Tensor) -> Tensor:
    """input.exp2()."""
    return input.exp2()


def expm1(input: Tensor) -> Tensor:
    """input.expm1()."""
    return input.expm1()


def log1p(input: Tensor) -> Tensor:
    """input.log1p()."""
    return input.log1p()


def erfc(input: Tensor) -> Tensor:
    """input.erfc()."""
    return input.erfc()


def erfinv(input: Tensor) -> Tensor:
    """input.erfinv()."""
    return input.erfinv()


def lgamma(input: Tensor) -> Tensor:
    """input.lgamma()."""
    return input.lgamma()


def digamma(input: Tensor) -> Tensor:
    """input.digamma()."""
    return input.digamma()


def sinc(input: Tensor) -> Tensor:
    """input.sinc()."""
    return input.sinc()


def floor(input: Tensor) -> Tensor:
    """input.floor()."""
    return input.floor()


def ceil(input: Tensor) -> Tensor:
    """input.ceil()."""
    return input.ceil()


def trunc(input: Tensor) -> Tensor:
    """input.trunc()."""
    return input.trunc()


def fix(input: Tensor) -> Tensor:
    """input.fix()."""
    return input.fix()


def frac(input: Tensor) -> Tensor:
    """input.frac()."""
    return input.frac()


def sgn(input: Tensor) -> Tensor:
    """input.sgn()."""
    return input.sgn()


def rad2deg(input: Tensor) -> Tensor:
    """input.rad2deg()."""
    return input.rad2deg()


def deg2rad(input: Tensor) -> Tensor:
    """input.deg2rad()."""
    return input.deg2rad()


def reciprocal(input: Tensor) -> Tensor:
    """input.reciprocal()."""
    return input.reciprocal()


def atan2(input: Tensor, other: Any) -> Tensor:
    """input.atan2(other)."""
    return input.atan2(other)


def arctan2(input: Tensor, other: Any) -> Tensor:
    """input.arctan2(other)."""
    return input.arctan2(other)


def logaddexp(input: Tensor, other: Any) -> Tensor:
    """input.logaddexp(other)."""
    return input.logaddexp(other)


def logaddexp2(input: Tensor, other: Any) -> Tensor:
    """input.logaddexp2(other)."""
    return input.logaddexp2(other)


def xlogy(input: Tensor, other: Any) -> Tensor:
    """input.xlogy(other)."""
    return input.xlogy(other)


def hypot(input: Tensor, other: Any) -> Tensor:
    """input.hypot(other)."""
    return input.hypot(other)


def fmod(input: Tensor, other: Any) -> Tensor:
    """input.fmod(other)."""
    return input.fmod(other)


def remainder(input: Any, other: Any) -> Tensor:
    """input − other ⌊input / other⌋ (sign of other); input may be a Python number, as in PyTorch."""
    if isinstance(input, Tensor):
        return input.remainder(other)
    if isinstance(other, Tensor):
        return input % other
    raise TypeError(f"remainder: one of input, other must be a Tensor, got {type(input).__name__} and {type(other).__name__}")


def masked_fill(input: Tensor, mask: Any, value: Any) -> Tensor:
    """input.masked_fill(mask, value): value where mask, else input."""
    return input.masked_fill(mask, value)


def fmax(input: Tensor, other: Any) -> Tensor:
    """input.fmax(other)."""
    return input.fmax(other)


def fmin(input: Tensor, other: Any) -> Tensor:
    """input.fmin(other)."""
    return input.fmin(other)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """input rounded half to even, to `decimals` places."""
    return input.round(decimals=decimals)


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and −inf replaced by finite numbers."""
    return input.nan_to_num(nan, posinf, neginf)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight · (end − input)."""
    return input.lerp(end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value · tensor1 · tensor2."""
    return input.addcmul(tensor1, tensor2, value=value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: float = 1) -> Tensor:
    """input + value · tensor1 / tensor2."""
    return input.addcdiv(tensor1, tensor2, value=value)


def polygamma(n: int, input: Tensor) -> Tensor:
    """ψ⁽ⁿ⁾(input), the n-th derivative of digamma (PyTorch's argument order)."""
    return input.polygamma(n)


# ----------------------------------------------------------------- scans, sorting, order statistics


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along dim."""
    return input.cumsum(dim, dtype=dtype) if dtype is not None else input.cumsum(dim)


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along dim."""
    return input.cumprod(dim, dtype=dtype) if dtype is not None else input.cumprod(dim)


def cummax(input: Tensor, dim: int) -> Any:
    """Running maximum along dim: (values, indices)."""
    return input.cummax(dim)


def cummin(input: Tensor, dim: int) -> Any:
    """Running minimum along dim: (values, indices)."""
    return input.cummin(dim)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log Σ_{j≤i} e^{x_j} along dim."""
    return input.logcumsumexp(dim)


def sort(input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """(values, indices) sorted along dim."""
    return input.sort(*args, **kwargs)


def argsort(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """The indices that sort input along dim."""
    return input.argsort(*args, **kwargs)


def topk(input: Tensor, k: int, *args: Any, **kwargs: Any) -> Any:
    """(values, indices) of the k largest (or smallest) along dim."""
    return input.topk(k, *args, **kwargs)


def kthvalue(input: Tensor, k: int, *args: Any, **kwargs: Any) -> Any:
    """(values, indices) of the k-th smallest along dim."""
    return input.kthvalue(k, *args, **kwargs)


def median(input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """The lower median (all elements, or (values, indices) along dim)."""
    return input.median(*args, **kwargs)


def nanmean(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """The mean of the non-NaN elements."""
    return input.nanmean(*args, **kwargs)


def nansum(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """The sum of the non-NaN elements."""
    return input.nansum(*args, **kwargs)


def quantile(input: Tensor, q: Any, *args: Any, **kwargs: Any) -> Tensor:
    """The q-th quantiles (linear interpolation by default)."""
    return input.quantile(q, *args, **kwargs)


def var_mean(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """(variance, mean), unbiased by default."""
    return input.var_mean(*args, **kwargs)


def std_mean(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """(standard deviation, mean), unbiased by default."""
    return input.std_mean(*args, **kwargs)


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """The number of nonzero elements (over dim)."""
    return input.count_nonzero(dim)


def diff(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """The n-th forward difference along dim."""
    return input.diff(*args, **kwargs)


# ----------------------------------------------------------------- more math, reductions and order statistics


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """ln(x / (1 − x)), x clamped to [eps, 1 − eps] first when eps is given."""
    return input.logit(eps)


def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other."""
    return input.copysign(other)


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """The step function: 0 below 0, values at 0, 1 above 0."""
    return input.heaviside(values)


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max), a named tuple, over all elements or along dim."""
    return input.aminmax(dim=dim, keepdim=keepdim)


def nanmedian(input: Tensor, *args: Any, **kwargs: Any) -> Any:
    """The lower median of the non-NaN elements (all elements, or (values, indices) along dim)."""
    return input.nanmedian(*args, **kwargs)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """(values, indices): the most frequent value along dim and where it occurs."""
    return input.mode(dim, keepdim)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,  # noqa: A002
           dim: int | None = None) -> Any:
    """The distinct elements (or slices along dim), sorted; with the inverse indices and counts if asked."""
    return input.unique(sorted, return_inverse, return_counts, dim)


def nanquantile(input: Tensor, q: Any, *args: Any, **kwargs: Any) -> Tensor:
    """The q-th quantiles of the non-NaN elements."""
    return input.nanquantile(q, *args, **kwargs)
