"""Complex-number methods of `Tensor`: real, imag, conj, abs, angle, and the free functions
view_as_real, view_as_complex, complex, polar, is_complex.

All are built on two primitives (ops/complex.py: Re z and z̄) and the holomorphic ops, so their
gradients follow PyTorch's convention: for a real loss L the gradient of z = x + iy is
∂L/∂x + i ∂L/∂y. Two classic checks: L = |z|² gives 2z; for a holomorphic f, the gradient of
Re f(z) is the conjugate of f′(z).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from tinygrad_course.ops.complex import Conj, Real
from tinygrad_course.ops.reduce import Root
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor.movement_methods import stack

if TYPE_CHECKING:
    from tinygrad_course.tensor.tensor import Tensor


class ComplexMethods:
    """The complex-number methods mixed into Tensor."""

    __slots__ = ()

    def is_complex(self) -> bool:
        """True for complex64/complex128 tensors."""
        return self.dtype.kind == "c"

    @property
    def real(self) -> Tensor:
        """Re z (a real tensor); a real tensor's real part is the tensor itself, as PyTorch."""
        return Real.apply(self) if self.dtype.kind == "c" else self

    @property
    def imag(self) -> Tensor:
        """Im z = Re(−i z) (a real tensor); refused for real tensors, as PyTorch."""
        if self.dtype.kind != "c":
            raise RuntimeError(f"imag is not implemented for tensors with non-complex dtypes (got {self.dtype}).")
        return Real.apply(self * -1j)

    def conj(self) -> Tensor:
        """The complex conjugate z̄ (a real tensor itself)."""
        return Conj.apply(self) if self.dtype.kind == "c" else self

    def conj_physical(self) -> Tensor:
        """The complex conjugate, computed now (here every conj is)."""
        return self.conj()

    def resolve_conj(self) -> Tensor:
        """This tensor: conjugation is never lazy here."""
        return self

    def resolve_neg(self) -> Tensor:
        """This tensor: negation is never lazy here."""
        return self

    def is_conj(self) -> bool:
        """False: conjugation is never lazy here."""
        return False

    def angle(self) -> Tensor:
        """arg z = atan2(Im z, Re z) in (−π, π]; for real x, 0 or π (gradient 0)."""
        if self.dtype.kind == "c":
            return self.imag.atan2(self.real)
        x = self._floating("angle")
        return (x < 0).to(x.dtype) * np.pi + x * 0.0

    def _complex_abs(self) -> Tensor:
        """|z| = √((Re z)² + (Im z)²), with gradient z/|z| and 0 at z = 0 (PyTorch's sgn)."""
        re, im = self.real, self.imag
        return Root.apply(re * re + im * im, p=2)


def is_complex(input: Tensor) -> bool:
    """True for complex64/complex128 tensors."""
    return input.dtype.kind == "c"


def real(input: Tensor) -> Tensor:
    """Re z."""
    return input.real


def imag(input: Tensor) -> Tensor:
    """Im z."""
    return input.imag


def conj(input: Tensor) -> Tensor:
    """z̄."""
    return input.conj()


def angle(input: Tensor) -> Tensor:
    """arg z."""
    return input.angle()


def view_as_real(input: Tensor) -> Tensor:
    """A complex (…) tensor as a real (…, 2) one: [..., 0] = Re z, [..., 1] = Im z (a copy here)."""
    if input.dtype.kind != "c":
        raise RuntimeError(f"view_as_real is only supported for complex tensors, got dtype {input.dtype}")
    return stack([input.real, input.imag], -1)


def view_as_complex(input: Tensor) -> Tensor:
    """A real (…, 2) tensor as a complex (…) one: x[..., 0] + i x[..., 1] (a copy here)."""
    if input.dtype not in (dtypes.float32, dtypes.float64):
        raise RuntimeError(f"view_as_complex is only supported for float32 and float64 tensors, got {input.dtype}")
    if input.ndim == 0 or input.shape[-1] != 2:
        raise RuntimeError(f"view_as_complex: the last dimension must have size 2, got shape {tuple(input.shape)}")
    return complex(input[..., 0], input[..., 1])


def complex(real: Tensor, imag: Tensor) -> Tensor:
    """real + i·imag, of the complex dtype of the parts' (equal) floating dtype."""
    for name, t in (("real", real), ("imag", imag)):
        if not isinstance(t, ComplexMethods):  # (every Tensor is one)
            raise TypeError(f"complex: {name} must be a Tensor, got {type(t).__name__}")
        if t.dtype not in (dtypes.float16, dtypes.float32, dtypes.float64):
            raise RuntimeError(f"complex: expected both inputs to be half, float or double tensors, got {name} of dtype {t.dtype}")
    if real.dtype != imag.dtype:
        raise RuntimeError(f"complex: expected real and imag to have the same dtype, got {real.dtype} and {imag.dtype}")
    d = dtypes.to_complex(real.dtype)
    return real.to(d) + imag.to(d) * 1j


def polar(abs: Tensor, angle: Tensor) -> Tensor:
    """abs · (cos angle + i sin angle)."""
    return complex(abs * angle.cos(), abs * angle.sin())

