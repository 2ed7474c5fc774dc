"""Writing your own differentiable op: a `tc.Function` and its gradcheck unit test.

    python examples/custom_function.py        # runs the checks below and a tiny demo
    python -m pytest examples/custom_function.py

A Function has two static methods. `forward(ctx, *arrays)` computes the output from numpy
arrays and saves what backward will need. `backward(ctx, g)` receives g = ∂c/∂out as a Tensor
and returns ∂c/∂input for each input, written with Tensor ops, so that the gradient is itself
differentiable (second derivatives, ``create_graph=True``). The engine undoes broadcasting.
`gradcheck` compares backward with finite differences in float64: the unit test every op needs.
"""

import numpy as np

import tinygrad_course as tc


class SiLU(tc.Function):
    """y = x·σ(x) (the "swish"); ∂y/∂x = σ(x) (1 + x (1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)  # comes back in backward as the input Tensor
        return x / (1.0 + np.exp(-x))

    @staticmethod
    def backward(ctx, g: tc.Tensor) -> tc.Tensor:
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * s * (1 + x * (1 - s))


class Hypot(tc.Function):
    """z = √(x² + y²), broadcast; ∂z/∂x = x/z, ∂z/∂y = y/z."""

    @staticmethod
    def forward(ctx, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        z = np.hypot(x, y)
        ctx.save_for_backward(x, y, z)  # z, the output, comes back as the output Tensor
        return z

    @staticmethod
    def backward(ctx, g: tc.Tensor) -> tuple[tc.Tensor | None, tc.Tensor | None]:
        x, y, z = ctx.saved_tensors
        # Only compute what is asked for; shapes may be broadcast, the engine sums them back.
        gx = g * x / z if ctx.needs_input_grad[0] else None
        gy = g * y / z if ctx.needs_input_grad[1] else None
        return gx, gy


def test_silu_values_and_gradients() -> None:
    """Forward against the formula; first and second derivatives against finite differences."""
    tc.manual_seed(0)
    x = tc.randn(3, 4, dtype=tc.float64, requires_grad=True)
    xs = x.detach().numpy()
    expected = xs / (1 + np.exp(-xs))
    assert np.allclose(SiLU.apply(x).detach().numpy(), expected, rtol=1e-14, atol=0)
    assert tc.gradcheck(SiLU.apply, (x,))
    assert tc.gradgradcheck(SiLU.apply, (x,))


def test_hypot_broadcast_gradients() -> None:
    """Shapes (3, 1) and (4,) broadcast to (3, 4); gradients come back in the input shapes."""
    tc.manual_seed(1)
    x = (tc.rand(3, 1, dtype=tc.float64) + 0.5).requires_grad_()
    y = (tc.rand(4, dtype=tc.float64) + 0.5).requires_grad_()
    z = Hypot.apply(x, y)
    assert z.shape == (3, 4)
    z.sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    xs, ys = x.detach().numpy(), y.detach().numpy()
    assert np.allclose(x.grad.numpy(), (xs / np.hypot(xs, ys)).sum(axis=1, keepdims=True))
    assert tc.gradcheck(Hypot.apply, (x, y))
    assert tc.gradgradcheck(Hypot.apply, (x, y))


if __name__ == "__main__":
    test_silu_values_and_gradients()
    test_hypot_broadcast_gradients()
    print("gradcheck and gradgradcheck passed for SiLU and Hypot")
    x = tc.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    y = SiLU.apply(x)
    y.sum().backward()
    print(
        f"SiLU({x.tolist()}) = {[round(v, 4) for v in y.tolist()]}, dSiLU/dx = {[round(v, 4) for v in x.grad.tolist()]}"
    )
