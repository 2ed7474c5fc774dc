"""Matrix product with numpy's batched broadcasting: z = x @ y over the last two dims."""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd.function import Primitive


class MatMul(Primitive):
    """z = x @ y (≥ 2-D, batch dims broadcast); ∂c/∂x = g @ yᵀ, ∂c/∂y = xᵀ @ g.

    In the lecture's notation, for z = a W: ∂c/∂W = aᵀ δ (eq. 3) and ∂c/∂a = δ Wᵀ (eq. 2).
    The engine sums the gradients over broadcast batch dims.
    """

    complex_rule = "holomorphic"

    no_grad_kernel = np.matmul

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.matmul(x, y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = g @ y.transpose(-1, -2) if nx else None
        gy = x.transpose(-1, -2) @ g if ny else None
        return gx, gy
