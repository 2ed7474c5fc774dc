"""End to end: small models trained with plain SGD (p._array -= η p.grad) learn generated problems."""

from __future__ import annotations

import numpy as np

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F


def two_moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles, labels 0 and 1."""
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    points = np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))
    return points.astype(np.float32), label.astype(np.int64)


def sgd_step(model: nn.Module, lr: float) -> None:
    for p in model.parameters():
        p._array -= lr * p.grad._array


def test_mlp_learns_two_moons_above_95_percent():
    rng = np.random.default_rng(0)
    x_train, y_train = two_moons(512, 0.1, rng)
    x_test, y_test = two_moons(512, 0.1, rng)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(), nn.Linear(32, 2))
    xt, yt = tc.from_numpy(x_train), tc.from_numpy(y_train)
    first = None
    for _ in range(300):
        model.zero_grad()
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        sgd_step(model, 0.5)
        first = loss.item() if first is None else first
    assert loss.item() < 0.2 * first
    with tc.no_grad():
        accuracy = (model(tc.from_numpy(x_test)).argmax(1)._array == y_test).mean()
    assert accuracy > 0.95


def test_small_cnn_with_batchnorm_and_pooling_learns_bar_orientation():
    rng = np.random.default_rng(1)
    n = 64
    images = 0.1 * rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
    labels = rng.integers(0, 2, n)
    where = rng.integers(1, 7, n)
    for k in range(n):  # a horizontal (0) or vertical (1) bar at a random place
        if labels[k] == 0:
            images[k, 0, where[k], 1:7] += 1.0
        else:
            images[k, 0, 1:7, where[k]] += 1.0
    tc.manual_seed(1)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16, 2),
    )
    x, y = tc.from_numpy(images), tc.from_numpy(labels)
    for _ in range(60):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        sgd_step(model, 0.1)
    model.eval()
    with tc.no_grad():
        accuracy = (model(x).argmax(1)._array == labels).mean()
    assert accuracy > 0.95
