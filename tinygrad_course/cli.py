"""The command line: ``python -m tinygrad_course <command>`` (also the ``tinygrad-course`` script)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

import tinygrad_course as tc


def linear_fit(seed: int = 0, steps: int = 200, lr: float = 0.5, n: int = 100, every: int = 20) -> float:
    """The lecture's first experiment: fit y = w·x + b to y = 2x + s, s ~ N(0, 1), by plain GD.

    Gradient descent p → p − η ∇_p C on the mean squared error C = (1/N) Σ (w xᵢ + b − yᵢ)².
    Returns the fitted slope w.
    """
    tc.manual_seed(seed)
    x = tc.linspace(0.05, 0.95, n)
    y = 2 * x + tc.randn(n)
    w = tc.zeros(1, requires_grad=True)
    b = tc.zeros(1, requires_grad=True)
    print(f"fitting y = w·x + b to y = 2x + noise ({n} points) by gradient descent, η = {lr}")
    for step in range(steps + 1):
        loss = ((w * x + b - y) ** 2).mean()
        if step % every == 0:
            print(f"  step {step:4d}   C = {loss.item():.5f}   w = {w.item():+.4f}   b = {b.item():+.4f}")
        if step == steps:
            break
        loss.backward()
        with tc.no_grad():
            w.data -= lr * w.grad.data
            b.data -= lr * b.grad.data
        w.grad = None
        b.grad = None
    # The exact least-squares slope, for comparison: what GD converges to.
    exact = np.polyfit(x.numpy(), y.numpy(), 1)[0]
    print(f"fitted slope w = {w.item():.4f} (least squares: {exact:.4f}; the data were made with slope 2)")
    return float(w.item())


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    parser = argparse.ArgumentParser(prog="tinygrad-course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the lecture's first experiment: fit y = 2x + noise by gradient descent")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--steps", type=int, default=200)
    args = parser.parse_args(argv)
    if args.command == "demo":
        linear_fit(seed=args.seed, steps=args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
