"""Overfitting, the lecture's slides: polynomials of degree 1, 3 and 10 fitted to y = 2x + s.

Training data as in the lecture: x = linspace(0.05, 0.95, N_train), y = 2x + s, s ~ N(0, 1);
test data from the same distribution: x_test ~ U(0, 1) (1,000 points, so that the test error is
a number, not a lottery). Each model is p(x) = Σ_k w_k φ_k(x) with the Legendre polynomials
φ_k(x) = √(2k+1) P_k(2x − 1), orthonormal on [0, 1]: the same polynomials as 1, x, …, x^d, but a
basis in which gradient descent converges in hundreds of steps instead of millions. The cost is
the MSE C = (1/N) Σ (p(x_i) − y_i)², minimised by the lecture's momentum rule (optim.SGD with
momentum, full batch) from w = 0 — which converges to the least-squares fit, and for degree 10
on 10 points (11 coefficients, an exact interpolation) to its minimum-norm solution, the one
numpy.linalg.lstsq returns.

Lessons: degree 10 fits the 10 training points perfectly and predicts worst; with 100 and 1,000
points, or with weight decay (C + (λ/2)‖w‖²), its test error falls back towards the noise floor
(the variance of s, 1).

Run with ``python -m tinygrad_course overfitting`` (writes to ./out/overfitting by default).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np
from numpy.polynomial import legendre

import tinygrad_course as tc
from tinygrad_course import datasets, nn, optim
from tinygrad_course.lessons.experiments.common import print_table, pyplot, save_figure, series_style, write_json
from tinygrad_course.nn import functional as F

DEGREES = (1, 3, 10)
N_TRAIN = (10, 100, 1000)
N_TEST = 1000
WEIGHT_DECAY = 0.1


def features(x: np.ndarray, degree: int) -> tc.Tensor:
    """φ_k(x) = √(2k+1) P_k(2x − 1) for k = 0..degree, as a float64 tensor (N, degree + 1)."""
    scale = np.sqrt(2 * np.arange(degree + 1) + 1)
    return tc.from_numpy(legendre.legvander(2 * np.asarray(x, dtype=np.float64) - 1, degree) * scale)


def fit_polynomial(
    x: np.ndarray,
    y: np.ndarray,
    degree: int,
    weight_decay: float = 0.0,
    steps: int = 1500,
    lr: float = 0.5,
    momentum: float = 0.95,
) -> np.ndarray:
    """Coefficients w minimising (1/N) Σ (Σ_k w_k φ_k(x_i) − y_i)² + (λ/2)‖w‖², by SGD with momentum from w = 0."""
    phi = features(x, degree)
    target = tc.from_numpy(np.asarray(y, dtype=np.float64))
    w = nn.Parameter(np.zeros(degree + 1))
    optimizer = optim.SGD([w], lr=lr, momentum=momentum, weight_decay=weight_decay)
    for _ in range(steps):
        loss = F.mse_loss(phi @ w, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return w._array.copy()


def mse(x: np.ndarray, y: np.ndarray, coefficients: np.ndarray) -> float:
    """(1/N) Σ (p(x_i) − y_i)² for the polynomial with these Legendre coefficients."""
    prediction = features(x, len(coefficients) - 1)._array @ coefficients
    return float(np.mean((prediction - y) ** 2))


def linear_fit(seed: int = 0, steps: int = 200, lr: float = 0.5, n: int = 100, every: int = 20) -> float:
    """The lecture's first experiment: fit y = w·x + b to y = 2x + s, s ~ N(0, 1), by plain GD.

    Gradient descent p → p − η ∇_p C on C = (1/N) Σ (w xᵢ + b − yᵢ)², written out by hand.
    Returns the fitted slope w.
    """
    tc.manual_seed(seed)
    x, y, _, _ = datasets.polynomial_regression(n_train=n, n_test=0)
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
            w._array -= lr * w.grad._array
            b._array -= lr * b.grad._array
        w.grad = None
        b.grad = None
    exact = np.polyfit(x._array.astype(np.float64), y._array.astype(np.float64), 1)[0]
    print(f"fitted slope w = {w.item():.4f} (least squares: {exact:.4f}; the data were made with slope 2)\n")
    return float(w.item())


def _plot(
    plt: Any,
    data: dict[int, tuple[np.ndarray, ...]],
    fits: dict[tuple[int, int, float], np.ndarray],
    results: list[dict[str, Any]],
    out_dir: pathlib.Path,
    files: list[pathlib.Path],
) -> None:
    grid = np.linspace(0.0, 1.0, 400)
    fig, axes = plt.subplots(1, len(N_TRAIN), figsize=(4.2 * len(N_TRAIN), 3.9), sharey=True)
    for ax, n in zip(axes, N_TRAIN):
        x, y, x_test, y_test = data[n]
        ax.scatter(x_test, y_test, s=4, color="0.75", label="test data")
        ax.scatter(x, y, s=14 if n <= 100 else 3, color="k", label="training data", zorder=3)
        ax.plot(grid, 2 * grid, "k:", lw=1.2, label="truth y = 2x")
        for k, degree in enumerate(DEGREES):
            prediction = features(grid, degree)._array @ fits[(n, degree, 0.0)]
            ax.plot(grid, prediction, lw=1.6, label=f"degree {degree}", **series_style(k, len(grid), marks=10))
        ax.set_title(f"N_train = {n}")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_ylim(-4, 6)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Polynomial fits to y = 2x + noise: degree 10 follows the noise when data are few")
    save_figure(fig, out_dir / "overfitting_fits.png", files)

    fig, (ax_train, ax_test) = plt.subplots(1, 2, figsize=(9.5, 3.9))
    for k, degree in enumerate(DEGREES):
        rows = [r for r in results if r["degree"] == degree and r["weight_decay"] == 0.0]
        ns = [r["n_train"] for r in rows]
        style = series_style(k)
        ax_train.plot(ns, [max(r["train_mse"], 1e-16) for r in rows], label=f"degree {degree}", **style)
        line = ax_test.plot(ns, [r["test_mse"] for r in rows], label=f"degree {degree}", **style)[0]
        decayed = [r for r in results if r["degree"] == degree and r["weight_decay"] > 0]
        ax_test.plot(
            [r["n_train"] for r in decayed],
            [r["test_mse"] for r in decayed],
            linestyle="none",
            marker="*",
            ms=12,
            mfc="none",
            color=line.get_color(),
            label=f"degree {degree}, weight decay λ = {WEIGHT_DECAY:g}",
        )
    for ax, title in ((ax_train, "training error (0 drawn at 1e-16)"), (ax_test, "test error")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("N_train (training points)")
        ax.set_ylabel("MSE")
        ax.set_title(title)
    ax_test.axhline(1.0, color="k", ls=":", lw=1, label="noise floor Var(s) = 1")
    ax_train.legend(fontsize=8)
    ax_test.legend(fontsize=7)
    fig.suptitle("Overfitting: more data or weight decay bring the test error down")
    save_figure(fig, out_dir / "overfitting_mse.png", files)


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Fit every degree to N_train = 10, 100, 1,000 points (and with weight decay at 10); write the table, plots and JSON.

    Returns {"files": [...], "results": [{"degree", "n_train", "weight_decay", "train_mse", "test_mse"}, ...]}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = 800 if quick else 1500
    data: dict[int, tuple[np.ndarray, ...]] = {}
    fits: dict[tuple[int, int, float], np.ndarray] = {}
    results: list[dict[str, Any]] = []
    runs = [(n, degree, 0.0) for n in N_TRAIN for degree in DEGREES] + [(N_TRAIN[0], d, WEIGHT_DECAY) for d in DEGREES]
    for n, degree, decay in runs:
        if n not in data:
            tc.manual_seed(seed + n)
            tensors = datasets.polynomial_regression(n_train=n, n_test=N_TEST, dtype=tc.float64)
            data[n] = tuple(t._array for t in tensors)
        x, y, x_test, y_test = data[n]
        fits[(n, degree, decay)] = w = fit_polynomial(x, y, degree, weight_decay=decay, steps=steps)
        results.append(
            {
                "degree": degree,
                "n_train": n,
                "weight_decay": decay,
                "train_mse": mse(x, y, w),
                "test_mse": mse(x_test, y_test, w),
            }
        )
    print_table(
        "Polynomial fits to y = 2x + s, s ~ N(0, 1) (MSE; the noise floor is 1)",
        ["degree", "N_train", "weight decay", "train MSE", "test MSE"],
        [[r["degree"], r["n_train"], r["weight_decay"], r["train_mse"], r["test_mse"]] for r in results],
    )
    files: list[pathlib.Path] = []
    plt = pyplot()
    if plt is not None:
        _plot(plt, data, fits, results, out_dir, files)
    write_json(out_dir, "overfitting", {"results": results}, files)
    return {"files": files, "results": results}
