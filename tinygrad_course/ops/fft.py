"""The primitives of `tc.fft`: a resize (crop or zero-pad), and the three kinds of discrete Fourier transform.

A transform with a signal size ``s`` is ``Resize`` followed by one of the transforms on the
resized array, so the transforms themselves never pad or crop and their gradients stay simple:

* `C2C` (fftn / ifftn) is linear and holomorphic, y = F x with a symmetric DFT matrix F (Fᵀ = F),
  so backward's Jᵀg is the same transform of g with the same normalisation.
* `R2C` (rfftn) takes a real x to the one-sided half of F x. Not holomorphic (``"explicit"``): the
  gradient of the real x is Re(Fᴴ ĝ), ĝ the gradient zero-padded to the full last dim (PyTorch's
  fft_r2c_backward).
* `C2R` (irfftn) fills the other half by conjugate symmetry, runs the inverse transform and keeps the
  real part. Its gradient is the forward r2c transform of g with the inverse's scale, the entries whose
  mirror image lies outside the one-sided range counted twice (PyTorch's fft_c2r_backward).

``norm`` is numpy's and PyTorch's name of the scale: for the forward transform "backward" is 1,
"ortho" 1/√N, "forward" 1/N; the inverse transform has the opposite ("backward": 1/N).
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.autograd.function import Primitive

# The inverse direction with the same scale is numpy's transform with the other norm name.
SWAP = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def complex_of(dtype: np.dtype) -> np.dtype:
    """complex64 for float32 (and complex64), complex128 for float64 (and complex128)."""
    return np.dtype(np.complex64) if np.dtype(dtype) in (np.float32, np.complex64) else np.dtype(np.complex128)


def real_of(dtype: np.dtype) -> np.dtype:
    """float32 for complex64, float64 for complex128."""
    return np.dtype(np.float32) if np.dtype(dtype) == np.complex64 else np.dtype(np.float64)


class Resize(Primitive):
    """y = x cropped or zero-padded at the end of each dim to `shape`; its transpose is the resize back."""

    complex_rule = "holomorphic"  # real coefficients: Jᵀ g is the resize back, for real and complex x alike

    @staticmethod
    def forward(ctx, x, shape=()):
        ctx.in_shape = x.shape
        out = np.zeros(shape, dtype=x.dtype)
        common = tuple(slice(0, min(a, b)) for a, b in zip(x.shape, shape))
        out[common] = x[common]
        return out

    @staticmethod
    def backward(ctx, g):
        return Resize.apply(g, shape=ctx.in_shape)


class C2C(Primitive):
    """y = fftn(x) over `dims` (ifftn when `inverse`), scaled by `norm`; holomorphic, Jᵀ g = the same transform of g."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, dims=(), norm="backward", inverse=False):
        ctx.dims, ctx.norm, ctx.inverse = dims, norm, inverse
        run = np.fft.ifftn if inverse else np.fft.fftn
        return run(x, axes=dims, norm=norm).astype(complex_of(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        return C2C.apply(g, dims=ctx.dims, norm=ctx.norm, inverse=ctx.inverse)


class R2C(Primitive):
    """y = rfftn(x) of a real x over `dims` (the last one halved to n//2 + 1); grad x = Re(Fᴴ ĝ)."""

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, x, dims=(), norm="backward"):
        ctx.dims, ctx.norm, ctx.in_shape = dims, norm, x.shape
        return np.fft.rfftn(x, axes=dims, norm=norm).astype(complex_of(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        full = Resize.apply(g, shape=ctx.in_shape)  # zeros for the half that rfft left out
        # Fᴴ ĝ = conj(F conj(ĝ)); only its real part is wanted, and Re conj(w) = Re w.
        return C2C.apply(full.conj(), dims=ctx.dims, norm=ctx.norm).real


class C2R(Primitive):
    """y = irfftn(x) over `dims` with last output size `n` (x's last dim is n//2 + 1); real y."""

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, x, dims=(), norm="backward", n=1):
        ctx.dims, ctx.norm, ctx.n = dims, norm, n
        shape = [x.shape[d] for d in dims[:-1]] + [n]
        return np.fft.irfftn(x, s=shape, axes=dims, norm=norm).astype(real_of(x.dtype), copy=False)

    @staticmethod
    def backward(ctx, g):
        half = R2C.apply(g, dims=ctx.dims, norm=SWAP[ctx.norm])  # the adjoint's direction, the inverse's scale
        last = ctx.dims[-1] % g.ndim
        twice = ctx.n - half.shape[last]  # entries 1 … n − (n//2 + 1) stand for their mirror images too
        if twice <= 0:
            return half
        weight = np.ones(half.shape[last])
        weight[1:1 + twice] = 2.0
        weight = weight.reshape([-1] + [1] * (g.ndim - 1 - last)).astype(real_of(half.dtype))
        return half * function.Tensor._make(weight, None)
