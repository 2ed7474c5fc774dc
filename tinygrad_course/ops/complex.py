"""The two primitives of complex numbers that are not holomorphic: z ↦ Re z and z ↦ z̄.

Everything else about complex tensors is built from them and the holomorphic ops (whose
backward the engines run as conj(backward(conj g)), see ``Function.complex_rule``): Im z is
Re(−i z), |z| is the root of (Re z)² + (Im z)², view_as_real stacks Re and Im. The gradient
convention is PyTorch's: for a real loss L, the gradient of z is ∂L/∂Re z + i ∂L/∂Im z
(= 2 ∂L/∂z̄), so that gradient descent z ← z − η·grad works unchanged.
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.ops.elementwise import Cast


class Real(Primitive):
    """x = Re z (a copy, of z's parts' dtype); grad z = g (a real g seen as complex: ∂x/∂Re z = 1, ∂x/∂Im z = 0)."""

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, z):
        ctx.in_dtype = z.dtype
        return np.real(z).copy()

    @staticmethod
    def backward(ctx, g):
        return Cast.apply(g, dtype=ctx.in_dtype)


class Conj(Primitive):
    """w = z̄; grad z = ḡ (conjugation is its own inverse and maps ∂L/∂w̄ to ∂L/∂z̄ conjugated)."""

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, z):
        return np.conj(z)

    @staticmethod
    def backward(ctx, g):
        return Conj.apply(g)
