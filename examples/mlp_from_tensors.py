"""An MLP built tensor by tensor, no `nn`: weights are plain Tensors, the forward pass is `@`.

    python examples/mlp_from_tensors.py

Classifies the two-moons data with a 2 → 16 → 1 network in the lecture's notation:
z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾, a⁽¹⁾ = tanh(z⁽¹⁾), a⁽²⁾ = sigmoid(z⁽²⁾), with the cross-entropy cost
C = −(1/|𝓑|) Σ [y log a⁽²⁾ + (1 − y) log(1 − a⁽²⁾)] on mini-batches 𝓑, and trains it with the
lecture's update rule W ← W − η ∂C/∂W, b ← b − η ∂C/∂b (backward() supplies the derivatives).
"""

import numpy as np

import tinygrad_course as tc
from tinygrad_course import datasets


def init_layer(n_in: int, n_out: int) -> tuple[tc.Tensor, tc.Tensor]:
    """W ~ N(0, 1/n_in) (keeps the variance of z near that of a), b = 0; both require grad."""
    W = (tc.randn(n_in, n_out) / n_in**0.5).requires_grad_()
    b = tc.zeros(n_out, requires_grad=True)
    return W, b


def forward(x: tc.Tensor, params: list[tc.Tensor]) -> tc.Tensor:
    """a⁽²⁾ = sigmoid(tanh(x W⁽¹⁾ + b⁽¹⁾) W⁽²⁾ + b⁽²⁾), the probability of class 1, shape (N,)."""
    W1, b1, W2, b2 = params
    a1 = (x @ W1 + b1).tanh()
    return (a1 @ W2 + b2).sigmoid().reshape(-1)


def cost(p: tc.Tensor, y: tc.Tensor) -> tc.Tensor:
    """Binary cross-entropy, averaged over the batch (p clipped away from 0 and 1)."""
    p = p.clamp(1e-7, 1 - 1e-7)
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def main(epochs: int = 60, lr: float = 0.5, batch_size: int = 32) -> float:
    """Train and return the final accuracy on the training set."""
    tc.manual_seed(0)
    x, labels = datasets.two_moons(400, noise=0.1)
    y = labels.float()
    params = [*init_layer(2, 16), *init_layer(16, 1)]
    for epoch in range(1, epochs + 1):
        order = tc.randperm(len(x)).numpy()
        for start in range(0, len(x), batch_size):
            batch = order[start : start + batch_size]  # a random mini-batch 𝓑
            loss = cost(forward(x[batch], params), y[batch])
            loss.backward()
            with tc.no_grad():
                for p in params:  # p ← p − η ∂C/∂p
                    p.data -= lr * p.grad.data
                    p.grad = None
        if epoch % 10 == 0:
            with tc.no_grad():
                p = forward(x, params)
                accuracy = float(np.mean((p.numpy() > 0.5) == labels.numpy()))
                print(f"epoch {epoch:3d}   C = {cost(p, y).item():.4f}   accuracy = {accuracy:.3f}")
    print(f"final training accuracy: {accuracy:.3f}")
    return accuracy


if __name__ == "__main__":
    main()
