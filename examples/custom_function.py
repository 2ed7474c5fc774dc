"""Writing your own differentiable op: a `tc.Function` in PyTorch's form, and its gradcheck unit test.

    python examples/custom_function.py        # runs the checks below and a tiny demo
    python -m pytest examples/custom_function.py

A Function has two static methods, exactly as in PyTorch. `forward(ctx, *inputs)` computes the
output from Tensors (nothing inside it is recorded) and saves what backward will need.
`backward(ctx, g)` receives g = ∂c/∂out and returns ∂c/∂input for each input, written with
Tensor ops, so that the gradient is itself differentiable (second derivatives,
``create_graph=True``). The engine undoes broadcasting. `gradcheck` compares backward with
finite differences in float64: the unit test every op needs.
"""

import numpy as np

import tinygrad_course as tc


class SiLU(tc.Function):
    """y = x·σ(x) (the "swish"); ∂y/∂x = σ(x) (1 + x (1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x: tc.Tensor) -> tc.Tensor:
        ctx.save_for_backward(x)  # comes back in backward as the input Tensor
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, g: tc.Tensor) -> tc.Tensor:
        (x,) = ctx.saved_tensors
        s = x.sigmoid()
        return g * s * (1 + x * (1 - s))


class Hypot(tc.Function):
    """z = √(x² + y²), broadcast; ∂z/∂x = x/z, ∂z/∂y = y/z."""

    @staticmethod
    def forward(ctx, x: tc.Tensor, y: tc.Tensor) -> tc.Tensor:
        z = (x * x + y * y).sqrt()
        ctx.save_for_backward(x, y, z)  # z, the output, comes back as the output Tensor
        return z

    @staticmethod
    def backward(ctx, g: tc.Tensor) -> tuple[tc.Tensor | None, tc.Tensor | None]:
        x, y, z = ctx.saved_tensors
        # Only compute what is asked for; shapes may be broadcast, the engine sums them back.
        gx = g * x / z if ctx.needs_input_grad[0] else None
        gy = g * y / z if ctx.needs_input_grad[1] else None
        return gx, gy


class LegendrePolynomial3(tc.Function):
    """P₃(x) = ½ (5x³ − 3x), the custom Function of PyTorch's tutorial; P₃′(x) = 1.5 (5x² − 1)."""

    @staticmethod
    def forward(ctx, input: tc.Tensor) -> tc.Tensor:
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output: tc.Tensor) -> tc.Tensor:
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


class MyReLU(tc.Function):
    """max(x, 0) as PyTorch's tutorial writes it: clamp forward, a masked copy of g backward."""

    @staticmethod
    def forward(ctx, input: tc.Tensor) -> tc.Tensor:
        ctx.save_for_backward(input)
        return input.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output: tc.Tensor) -> tc.Tensor:
        (input,) = ctx.saved_tensors
        grad_input = grad_output.clone()
        grad_input[input < 0] = 0
        return grad_input


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
    assert tc.gradcheck(Hypot.apply, (x, y))
    Hypot.apply(x, y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    xs, ys = x.detach().numpy(), y.detach().numpy()
    assert np.allclose(x.grad.numpy(), (xs / np.hypot(xs, ys)).sum(axis=1, keepdims=True))


def test_tutorial_functions() -> None:
    """The two custom Functions of PyTorch's tutorials, unchanged but for the import."""
    x = tc.tensor([-1.0, -0.5, 0.25, 2.0], dtype=tc.float64, requires_grad=True)
    assert tc.gradcheck(LegendrePolynomial3.apply, (x,)) and tc.gradgradcheck(LegendrePolynomial3.apply, (x,))
    MyReLU.apply(x).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0]


if __name__ == "__main__":
    test_silu_values_and_gradients()
    test_hypot_broadcast_gradients()
    test_tutorial_functions()
    x = tc.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    y = SiLU.apply(x)
    y.sum().backward()
    print(
        f"SiLU({x.tolist()}) = {[round(v, 4) for v in y.tolist()]}, dSiLU/dx = {[round(v, 4) for v in x.grad.tolist()]}"
    )
    print("gradcheck and gradgradcheck passed for SiLU, Hypot and the tutorial's LegendrePolynomial3; MyReLU's gradient is right")
