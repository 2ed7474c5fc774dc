"""`tc.fft`: PyTorch's torch.fft on numpy, differentiable (twice), for real and complex tensors (layer: tensor).

Names, arguments (``n``/``s``, ``dim``, ``norm``) and dtypes as PyTorch's: float32 → complex64,
float64 → complex128, integers → the default float's complex dtype. ``norm`` is "backward" (the
default: no scale forward, 1/N inverse), "ortho" (1/√N both ways) or "forward" (1/N forward).
Gradients follow PyTorch's conjugate-Wirtinger convention (docs/complex-numbers.md); the
primitives and their formulas are in ``tinygrad_course/ops/fft.py``.

    >>> import tinygrad_course as tc
    >>> tc.fft.fft(tc.tensor([1.0, 0.0, 0.0, 0.0]))
    tensor([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_course.ops.fft import C2C, C2R, R2C, Resize, complex_of
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.dtypes import get_default_dtype

__all__ = [
    "fft", "fft2", "fftfreq", "fftn", "fftshift", "ifft", "ifft2", "ifftn", "ifftshift", "irfft", "irfft2", "irfftn",
    "rfft", "rfft2", "rfftfreq", "rfftn",
]

NORMS = ("backward", "ortho", "forward")


def _norm(name: str, norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise RuntimeError(f'fft.{name}: invalid normalization mode "{norm}"; norm must be one of '
                           '"backward", "ortho", "forward" or None')
    return norm


def _dims(name: str, x: Tensor, s: Any, dim: Any) -> tuple[tuple[int, ...], list[int] | None]:
    """The transformed dims (wrapped, unique) and the signal sizes (None: the input's), as torch's fftn."""
    nd = x.ndim
    s = None if s is None else [int(v) for v in ((s,) if isinstance(s, (int, np.integer)) else s)]
    if dim is None:
        dims = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    else:
        dims = [int(dim)] if isinstance(dim, (int, np.integer)) else [int(d) for d in dim]
    if s is not None and len(s) != len(dims):
        raise RuntimeError(f"fft.{name}: when given, dim and shape arguments must have the same length "
                           f"(got s={tuple(s)}, dim={tuple(dims)})")
    wrapped = []
    for d in dims:
        if not -max(nd, 1) <= d < max(nd, 1) or nd == 0:
            raise IndexError(f"fft.{name}: dimension out of range (expected to be in range of "
                             f"[{-max(nd, 1)}, {max(nd, 1) - 1}], but got {d})")
        wrapped.append(d % nd)
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"fft.{name}: FFT dims must be unique, got {tuple(dims)}")
    if not wrapped:
        raise RuntimeError(f"fft.{name}: needs at least one dim to transform")
    return tuple(wrapped), s


def _check_sizes(name: str, sizes: Sequence[int]) -> None:
    for n in sizes:
        if n < 1:
            raise RuntimeError(f"fft.{name}: invalid number of data points ({n}) specified; n and s must be >= 1")


def _floating(x: Tensor) -> Tensor:
    """Integers and bools as the default float dtype (PyTorch promotes them so)."""
    return x if x.dtype.kind in "fc" else x.to(get_default_dtype())


def _resized(x: Tensor, dims: tuple[int, ...], sizes: Sequence[int]) -> Tensor:
    shape = list(x.shape)
    for d, n in zip(dims, sizes):
        shape[d] = n
    return x if tuple(shape) == tuple(x.shape) else Resize.apply(x, shape=tuple(shape))


def _c2c(name: str, x: Tensor, s: Any, dim: Any, norm: str | None, inverse: bool) -> Tensor:
    norm = _norm(name, norm)
    dims, s = _dims(name, x, s, dim)
    sizes = [x.shape[d] if s is None or s[k] == -1 else s[k] for k, d in enumerate(dims)]
    _check_sizes(name, sizes)
    x = _floating(x)
    if x.dtype.kind != "c":
        x = x.to(complex_of(x.dtype))
    return C2C.apply(_resized(x, dims, sizes), dims=dims, norm=norm, inverse=inverse)


def _r2c(name: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(name, norm)
    if x.dtype.kind == "c":
        raise RuntimeError(f"fft.{name} expects a real input tensor, but got {x.dtype}")
    dims, s = _dims(name, x, s, dim)
    sizes = [x.shape[d] if s is None or s[k] == -1 else s[k] for k, d in enumerate(dims)]
    _check_sizes(name, sizes)
    return R2C.apply(_resized(_floating(x), dims, sizes), dims=dims, norm=norm)


def _c2r(name: str, x: Tensor, s: Any, dim: Any, norm: str | None) -> Tensor:
    norm = _norm(name, norm)
    dims, s = _dims(name, x, s, dim)
    sizes = [x.shape[d] if s is None or s[k] == -1 else s[k] for k, d in enumerate(dims)]
    if s is None or s[-1] == -1:
        sizes[-1] = 2 * (x.shape[dims[-1]] - 1)  # the default output length of irfft
    _check_sizes(name, sizes)
    x = _floating(x)
    if x.dtype.kind != "c":
        x = x.to(complex_of(x.dtype))
    n = sizes[-1]
    return C2R.apply(_resized(x, dims, sizes[:-1] + [n // 2 + 1]), dims=dims, norm=norm, n=n)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-d discrete Fourier transform along `dim`, of the input cropped or zero-padded to `n`."""
    return _c2c("fft", input, None if n is None else (n,), dim, norm, False)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The 1-d inverse discrete Fourier transform along `dim`."""
    return _c2c("ifft", input, None if n is None else (n,), dim, norm, True)


def fft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The 2-d discrete Fourier transform over `dim` (the last two by default)."""
    return _c2c("fft2", input, s, dim, norm, False)


def ifft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The 2-d inverse discrete Fourier transform over `dim`."""
    return _c2c("ifft2", input, s, dim, norm, True)


def fftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The n-d discrete Fourier transform over `dim` (all dims, or the last len(s), by default)."""
    return _c2c("fftn", input, s, dim, norm, False)


def ifftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The n-d inverse discrete Fourier transform over `dim`."""
    return _c2c("ifftn", input, s, dim, norm, True)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The one-sided transform of a real input: the first n//2 + 1 entries of fft."""
    return _r2c("rfft", input, None if n is None else (n,), dim, norm)


def rfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The 2-d one-sided transform of a real input (the last of `dim` halved)."""
    return _r2c("rfft2", input, s, dim, norm)


def rfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The n-d one-sided transform of a real input (the last of `dim` halved)."""
    return _r2c("rfftn", input, s, dim, norm)


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """The inverse of rfft: a real output of length n (default 2 (m − 1) for m input entries)."""
    return _c2r("irfft", input, None if n is None else (n,), dim, norm)


def irfft2(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] = (-2, -1), norm: str | None = None) -> Tensor:
    """The inverse of rfft2 (real output)."""
    return _c2r("irfft2", input, s, dim, norm)


def irfftn(input: Tensor, s: Sequence[int] | None = None, dim: Sequence[int] | None = None, norm: str | None = None) -> Tensor:
    """The inverse of rfftn (real output; the last of `dim` has length s[-1], default 2 (m − 1))."""
    return _c2r("irfftn", input, s, dim, norm)


def _frequencies(name: str, values: np.ndarray, n: int, dtype: Any, requires_grad: bool) -> Tensor:
    if n < 1 and name != "fftfreq" or n < 0:
        raise RuntimeError(f"fft.{name}: n must be >= {0 if name == 'fftfreq' else 1}, got {n}")
    out = Tensor._make(values.astype(np.dtype(dtype or get_default_dtype())), None)
    return out.requires_grad_() if requires_grad else out


def fftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of fft's output: [0, 1, …, ⌈n/2⌉ − 1, −⌊n/2⌋, …, −1] / (d n)."""
    return _frequencies("fftfreq", np.fft.fftfreq(n, d) if n else np.zeros(0), n, dtype, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The sample frequencies of rfft's output: [0, 1, …, ⌊n/2⌋] / (d n)."""
    return _frequencies("rfftfreq", np.fft.rfftfreq(n, d) if n > 0 else np.zeros(0), n, dtype, requires_grad)


def _shift(input: Tensor, dim: Any, sign: int) -> Tensor:
    dims = range(input.ndim) if dim is None else [dim] if isinstance(dim, (int, np.integer)) else dim
    dims = [int(d) % max(input.ndim, 1) for d in dims]
    if not dims:
        return input
    return input.roll([sign * (input.shape[d] // 2) for d in dims], dims)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Roll the zero frequency to the centre of `dim` (all dims by default)."""
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """The inverse of fftshift."""
    return _shift(input, dim, -1)
