"""PyTorch's "learning by examples" fits of sin(x) by a cubic, written as in PyTorch's tutorial.

    python examples/pytorch_tutorial_fits.py

Three programs, unchanged from PyTorch's style but for the import line (``import tinygrad_course
as torch`` would do too): (1) tensors with requires_grad and a manual SGD step under no_grad,
(2) the same polynomial as an nn.Linear on (x, x², x³) updated over model.parameters(), and
(3) the `.data` form of the update. Each prints its final loss and the fitted polynomial.
"""

import math

import tinygrad_course as tc
from tinygrad_course import nn


def with_tensors(steps: int = 2000) -> float:
    """y ≈ a + b x + c x² + d x³ with four scalar tensors and `param -= lr * param.grad`."""
    dtype = tc.float64
    x = tc.linspace(-math.pi, math.pi, 2000, dtype=dtype)
    y = x.sin()
    tc.manual_seed(0)
    a, b, c, d = (tc.randn((), dtype=dtype, requires_grad=True) for _ in range(4))
    learning_rate = 1e-6
    for _ in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with tc.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None
    print(f"tensors:  loss {loss.item():.2f}, y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 + {d.item():.4f} x^3")
    return loss.item()


def with_modules(steps: int = 2000, use_data: bool = False) -> float:
    """The same polynomial as Linear(3, 1) on (x, x², x³); the update over model.parameters()."""
    x = tc.linspace(-math.pi, math.pi, 2000)
    y = x.sin()
    p = tc.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 1), nn.Flatten(0, 1))
    loss_fn = nn.MSELoss(reduction="sum")
    learning_rate = 1e-6
    for _ in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        model.zero_grad()
        loss.backward()
        if use_data:
            for param in model.parameters():
                param.data -= learning_rate * param.grad.data
        else:
            with tc.no_grad():
                for param in model.parameters():
                    param -= learning_rate * param.grad
    linear = model[0]
    w = linear.weight[:, 0].item(), linear.weight[:, 1].item(), linear.weight[:, 2].item()
    kind = ".data:   " if use_data else "modules: "
    print(f"{kind} loss {loss.item():.2f}, y = {linear.bias.item():.4f} + {w[0]:.4f} x + {w[1]:.4f} x^2 + {w[2]:.4f} x^3")
    return loss.item()


if __name__ == "__main__":
    with_tensors()
    with_modules()
    with_modules(use_data=True)
