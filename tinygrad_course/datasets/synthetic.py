"""Small synthetic data sets, generated locally from the seeded generator (no downloads)."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor import random as _random


def _count(op: str, name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{op}: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def _noise(op: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0 or math.isinf(value):
        raise ValueError(f"{op}: noise must be a finite number >= 0, got {value!r}")
    return float(value)


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else _random.generator()


def _float(array: np.ndarray, dtype: Any) -> Tensor:
    return Tensor._make(array.astype(dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)), None)


def polynomial_regression(
    n_train: int = 10,
    n_test: int = 10,
    noise: float = 1.0,
    slope: float = 2.0,
    dtype: Any = None,
    generator: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The lecture's overfitting data: ``x = linspace(0.05, 0.95, N_train)``, y = 2x + s, s ~ N(0, 1),
    and test points ``x_test ~ U(0, 1)``, y_test = 2 x_test + s_test.

    Returns (x_train, y_train, x_test, y_test), 1-d tensors; draws in the lecture's order (s, then
    x_test, then s_test). `noise` is the standard deviation of s and `slope` the 2 of y = 2x.
    """
    n_train = _count("polynomial_regression", "n_train", n_train)
    n_test = _count("polynomial_regression", "n_test", n_test, low=0)
    noise = _noise("polynomial_regression", noise)
    rng = _rng(generator)
    x = np.linspace(0.05, 0.95, n_train)
    y = slope * x + noise * rng.standard_normal(n_train)
    x_test = rng.random(n_test)
    y_test = slope * x_test + noise * rng.standard_normal(n_test)
    return _float(x, dtype), _float(y, dtype), _float(x_test, dtype), _float(y_test, dtype)


def two_moons(
    n_samples: int = 200, noise: float = 0.1, dtype: Any = None, generator: np.random.Generator | None = None
) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles in 2D, class 0 on top, class 1 below (shuffled).

    Class 0: (cos θ, sin θ), class 1: (1 − cos θ, ½ − sin θ), θ evenly spaced in [0, π], plus
    Gaussian noise of standard deviation `noise`. Returns X (n, 2) floats and y (n,) int64.
    """
    n_samples = _count("two_moons", "n_samples", n_samples, low=2)
    noise = _noise("two_moons", noise)
    rng = _rng(generator)
    n_top = n_samples // 2
    n_bottom = n_samples - n_top
    theta_top = np.linspace(0.0, math.pi, n_top)
    theta_bottom = np.linspace(0.0, math.pi, n_bottom)
    top = np.stack([np.cos(theta_top), np.sin(theta_top)], axis=1)
    bottom = np.stack([1.0 - np.cos(theta_bottom), 0.5 - np.sin(theta_bottom)], axis=1)
    x = np.concatenate([top, bottom]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_top, dtype=np.int64), np.ones(n_bottom, dtype=np.int64)])
    order = rng.permutation(n_samples)
    return _float(x[order], dtype), Tensor._make(y[order], None)


def spirals(
    n_samples: int = 300,
    n_classes: int = 2,
    noise: float = 0.05,
    turns: float = 1.0,
    dtype: Any = None,
    generator: np.random.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """`n_classes` interleaved spiral arms in 2D (shuffled): a data set no linear model separates.

    Arm k: r from 0.05 to 1, angle θ = 2π·turns·r + 2πk/n_classes, point r (cos θ, sin θ) plus
    Gaussian noise of standard deviation `noise`. Returns X (n, 2) floats and y (n,) int64.
    """
    n_classes = _count("spirals", "n_classes", n_classes, low=2)
    n_samples = _count("spirals", "n_samples", n_samples, low=n_classes)
    noise = _noise("spirals", noise)
    if isinstance(turns, bool) or not isinstance(turns, numbers.Real) or not 0 < turns < math.inf:
        raise ValueError(f"spirals: turns must be a finite number > 0, got {turns!r}")
    rng = _rng(generator)
    sizes = [n_samples // n_classes + (k < n_samples % n_classes) for k in range(n_classes)]
    points, labels = [], []
    for k, size in enumerate(sizes):
        r = np.linspace(0.05, 1.0, size)
        theta = 2 * math.pi * turns * r + 2 * math.pi * k / n_classes
        points.append(np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1))
        labels.append(np.full(size, k, dtype=np.int64))
    x = np.concatenate(points) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate(labels)
    order = rng.permutation(n_samples)
    return _float(x[order], dtype), Tensor._make(y[order], None)
