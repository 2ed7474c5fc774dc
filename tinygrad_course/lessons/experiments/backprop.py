"""Backpropagation by hand, equations (1)–(4) of the lecture, next to the package's autograd.

A 3-layer MLP 4 → 6 → 5 → 3 in float64, in the lecture's notation: z⁽ˡ⁾ = a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾,
a⁽ˡ⁾ = g_l(z⁽ˡ⁾) with g₁ = sigmoid, g₂ = tanh, g₃ = sigmoid, and the quadratic cost
c = ½ ‖a⁽³⁾ − y‖² per sample, C = (1/|𝒟|) Σ c. Written out in numpy for the whole batch:

    (1)  δ⁽ᴸ⁾ = ∂c/∂a⁽ᴸ⁾ ⊙ g_L'(z⁽ᴸ⁾)                    = (a⁽ᴸ⁾ − y) ⊙ a⁽ᴸ⁾ (1 − a⁽ᴸ⁾)
    (2)  δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾ᵀ) ⊙ g_l'(z⁽ˡ⁾)
    (3)  ∂C/∂W⁽ˡ⁾ = (1/|𝒟|) Σ_x a⁽ˡ⁻¹⁾ᵀ δ⁽ˡ⁾             (the outer product a_i⁽ˡ⁻¹⁾ δ_j⁽ˡ⁾, averaged)
    (4)  ∂C/∂b⁽ˡ⁾ = (1/|𝒟|) Σ_x δ⁽ˡ⁾

The same network is built from nn.Linear (which stores W⁽ˡ⁾ᵀ as ``weight``) and differentiated
by ``loss.backward()``. The two must agree to rounding: max |difference| ≤ 1e-12.

Run with ``python -m tinygrad_course backprop`` (writes to ./out/backprop by default).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.lessons.experiments.common import print_table, pyplot, save_figure, write_json

SIZES = (4, 6, 5, 3)
TOLERANCE = 1e-12


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def backprop_numpy(
    x: np.ndarray, y: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]
) -> dict[str, np.ndarray]:
    """∂C/∂W⁽ˡ⁾ and ∂C/∂b⁽ˡ⁾ by equations (1)–(4); W⁽ˡ⁾ has shape (n_{l−1}, n_l). Keys 'W1', 'b1', …"""
    activations = [_sigmoid, np.tanh, _sigmoid]
    derivatives = [lambda a: a * (1 - a), lambda a: 1 - a**2, lambda a: a * (1 - a)]  # g'(z) from a = g(z)
    a = [x]  # forward pass: a⁽⁰⁾ = x, a⁽ˡ⁾ = g_l(a⁽ˡ⁻¹⁾ W⁽ˡ⁾ + b⁽ˡ⁾)
    for W, b, g in zip(weights, biases, activations):
        a.append(g(a[-1] @ W + b))
    n = len(x)
    grads: dict[str, np.ndarray] = {}
    delta = (a[-1] - y) * derivatives[-1](a[-1])  # (1): ∂c/∂a⁽ᴸ⁾ = a⁽ᴸ⁾ − y for c = ½‖a⁽ᴸ⁾ − y‖²
    for l in range(len(weights), 0, -1):
        grads[f"W{l}"] = a[l - 1].T @ delta / n  # (3), averaged over 𝒟
        grads[f"b{l}"] = delta.sum(axis=0) / n  # (4)
        if l > 1:
            delta = (delta @ weights[l - 1].T) * derivatives[l - 2](a[l - 1])  # (2)
    return {key: grads[key] for key in sorted(grads, key=lambda k: (int(k[1:]), k[0] != "W"))}


def backprop_autograd(x: np.ndarray, y: np.ndarray, model: nn.Sequential) -> dict[str, np.ndarray]:
    """The same gradients from ``loss.backward()``, mapped to the lecture's names (W⁽ˡ⁾ = weightᵀ)."""
    output = model(tc.from_numpy(x))
    cost = (0.5 * ((output - tc.from_numpy(y)) ** 2).sum(dim=1)).mean()
    model.zero_grad()
    cost.backward()
    linears = [m for m in model if isinstance(m, nn.Linear)]
    grads = {}
    for l, layer in enumerate(linears, start=1):
        grads[f"W{l}"] = layer.weight.grad._array.T
        grads[f"b{l}"] = layer.bias.grad._array
    return grads


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Compare both sets of gradients on one batch; print the table, plot, and write ``backprop.json``.

    Returns {"files", "max_abs_diff", "per_parameter": {"W1": max |Δ|, "b1": …}}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tc.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(SIZES[0], SIZES[1], dtype=tc.float64), nn.Sigmoid(),
        nn.Linear(SIZES[1], SIZES[2], dtype=tc.float64), nn.Tanh(),
        nn.Linear(SIZES[2], SIZES[3], dtype=tc.float64), nn.Sigmoid(),
    )  # fmt: skip
    batch = 16 if quick else 64
    x = tc.randn(batch, SIZES[0], dtype=tc.float64)._array
    y = tc.rand(batch, SIZES[3], dtype=tc.float64)._array
    linears = [m for m in model if isinstance(m, nn.Linear)]
    by_hand = backprop_numpy(x, y, [m.weight._array.T for m in linears], [m.bias._array for m in linears])
    by_engine = backprop_autograd(x, y, model)
    per_parameter = {key: float(np.max(np.abs(by_hand[key] - by_engine[key]))) for key in by_hand}
    worst = max(per_parameter.values())
    print_table(
        f"∂C/∂W and ∂C/∂b of a {' → '.join(map(str, SIZES))} MLP, float64, |𝒟| = {batch}: eqs. (1)–(4) in numpy vs autograd",
        ["parameter", "shape", "max |∂C/∂p|", "max |difference|"],
        [
            [key, "×".join(map(str, by_hand[key].shape)), float(np.max(np.abs(by_hand[key]))), per_parameter[key]]
            for key in by_hand
        ],
    )
    verdict = "agree" if worst <= TOLERANCE else "DISAGREE"
    print(f"largest difference {worst:.3e}: the two {verdict} (tolerance {TOLERANCE:g})\n")
    files: list[pathlib.Path] = []
    plt = pyplot()
    if plt is not None:
        keys = list(by_hand)
        fig, (ax_norm, ax_diff) = plt.subplots(1, 2, figsize=(10, 3.8))
        positions = np.arange(len(keys))
        ax_norm.bar(
            positions - 0.2, [np.linalg.norm(by_hand[k]) for k in keys], 0.4, hatch="//", label="eqs. (1)–(4), numpy"
        )
        ax_norm.bar(positions + 0.2, [np.linalg.norm(by_engine[k]) for k in keys], 0.4, label="autograd")
        ax_norm.set(xticks=positions, xticklabels=keys, xlabel="parameter p", ylabel="‖∂C/∂p‖", title="gradient norms")
        ax_norm.legend(fontsize=8)
        ax_diff.bar(
            positions, [max(per_parameter[k], 1e-20) for k in keys], 0.6, color="tab:green", label="max |difference|"
        )
        ax_diff.axhline(TOLERANCE, color="k", ls=":", lw=1, label=f"tolerance {TOLERANCE:g}")
        ax_diff.set(
            xticks=positions,
            xticklabels=keys,
            xlabel="parameter p",
            yscale="log",
            ylim=(1e-20, 1e-10),
            ylabel="max |difference|",
            title="numpy − autograd (0 drawn at 1e-20)",
        )
        ax_diff.legend(fontsize=8)
        fig.suptitle("Backpropagation by hand, equations (1)–(4), against autograd")
        save_figure(fig, out_dir / "backprop.png", files)
    write_json(out_dir, "backprop", {"max_abs_diff": worst, "per_parameter": per_parameter}, files)
    return {"files": files, "max_abs_diff": worst, "per_parameter": per_parameter}
