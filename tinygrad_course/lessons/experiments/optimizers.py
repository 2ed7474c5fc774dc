"""The lecture's learning algorithms side by side: GD, SGD, momentum, Nesterov, RMSprop, Adam.

(a) A narrow curved valley, Rosenbrock's f(x, y) = (1 − x)² + 100 (y − x²)², minimum f(1, 1) = 0,
from (−1.5, 2). Across the valley the curvature is ~1,000 times larger than along it, so plain
gradient descent must take steps small enough for the steep walls and then crawls along the
floor; momentum keeps the velocity that builds up along the floor (v ← γ v − η ∇C, p ← p + v)
and adaptive rates (RMSprop, Adam) rescale every coordinate by its own gradient size. "gd"
follows the exact gradient; the other five see a mini-batch-like estimate, the gradient of
f(p) + σ ξ·p with fresh ξ ~ N(0, I) every step (unbiased, standard deviation σ), as SGD does.

(b) A 2 → 16 → 16 → 2 tanh MLP classifying `two_moons` with the cross-entropy cost: "gd" takes
one step per epoch on the full data set, the others one step per mini-batch of 32, all from the
same initial weights. Table: epochs until the training cost first falls below a target.

Run with ``python -m tinygrad_course optimizers`` (writes to ./out/optimizers by default).
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import datasets, nn, optim
from tinygrad_course.data import DataLoader, TensorDataset
from tinygrad_course.lessons.experiments.common import print_table, pyplot, save_figure, series_style, write_json
from tinygrad_course.training import evaluate, fit

NAMES = ("gd", "sgd", "momentum", "nesterov", "rmsprop", "adam")
MakeOptimizer = Callable[[Iterable[tc.Tensor]], optim.Optimizer]

VALLEY_START = (-1.5, 2.0)
VALLEY_TARGET = 1e-2
VALLEY_NOISE = 0.5
VALLEY_OPTIMIZERS: dict[str, MakeOptimizer] = {
    "gd": lambda p: optim.SGD(p, lr=1e-3),  # ~2/λ_max: the walls' curvature at the start is ~1,900
    "sgd": lambda p: optim.SGD(p, lr=1e-3),
    "momentum": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9),
    "nesterov": lambda p: optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2),
    "adam": lambda p: optim.Adam(p, lr=0.05),
}

MOONS_TARGET = 0.1
MOONS_BATCH = 32
MOONS_OPTIMIZERS: dict[str, MakeOptimizer] = {
    "gd": lambda p: optim.SGD(p, lr=0.5),
    "sgd": lambda p: optim.SGD(p, lr=0.1),
    "momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
    "nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2),
    "adam": lambda p: optim.Adam(p, lr=1e-2),
}


def rosenbrock(p: tc.Tensor) -> tc.Tensor:
    """f(x, y) = (1 − x)² + 100 (y − x²)² for p = (x, y)."""
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def first_below(values: list[float], target: float) -> int | None:
    """1-based index of the first value below `target` (None if none is)."""
    return next((i + 1 for i, v in enumerate(values) if v < target), None)


def descend_valley(make: MakeOptimizer, steps: int, noise: float, seed: int) -> tuple[np.ndarray, list[float]]:
    """Minimise rosenbrock from VALLEY_START; returns the path (steps + 1, 2) and f after each step."""
    rng = np.random.default_rng(seed)
    p = nn.Parameter(np.array(VALLEY_START))
    optimizer = make([p])
    path = [p._array.copy()]
    losses = []
    for _ in range(steps):
        cost = rosenbrock(p)
        if noise:
            cost = cost + (tc.from_numpy(noise * rng.standard_normal(2)) * p).sum()
        optimizer.zero_grad()
        cost.backward()
        optimizer.step()
        path.append(p._array.copy())
        losses.append(float(rosenbrock(p.detach()).item()))
    return np.array(path), losses


def train_moons(make: MakeOptimizer, batch_size: int, epochs: int, seed: int) -> list[float]:
    """Train the MLP on two_moons; returns the full-data cost after each epoch."""
    tc.manual_seed(seed)
    x, y = datasets.two_moons(512, noise=0.15)
    data = TensorDataset(x, y)
    tc.manual_seed(seed + 1)  # the same initial weights and batch order for every optimizer
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = make(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(data, batch_size=batch_size, shuffle=True)
    everything = DataLoader(data, batch_size=len(data))
    losses = []
    for _ in range(epochs):
        fit(model, loss_fn, optimizer, loader, epochs=1, verbose=False)
        losses.append(evaluate(model, loss_fn, everything)["loss"])
    return losses


def _plot(
    plt: Any,
    paths: dict[str, np.ndarray],
    valley: dict[str, list[float]],
    moons: dict[str, list[float]],
    out_dir: pathlib.Path,
    files: list[pathlib.Path],
) -> None:
    xs, ys = np.meshgrid(np.linspace(-2, 2, 300), np.linspace(-1, 3, 300))
    surface = (1 - xs) ** 2 + 100 * (ys - xs**2) ** 2
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.4))
    ax.contour(xs, ys, np.log10(surface + 1e-3), levels=20, cmap="Greys", linewidths=0.7)
    for k, name in enumerate(NAMES):
        path = paths[name]
        ax.plot(path[:, 0], path[:, 1], lw=1.2, label=name, **series_style(k, len(path)))
        steps = np.arange(1, len(valley[name]) + 1)
        ax_loss.plot(steps, valley[name], lw=1.2, label=name, **series_style(k, len(steps)))
    ax.plot(*VALLEY_START, "ko", ms=7, mfc="none", linestyle="none", label="start")
    ax.plot(1, 1, "k*", ms=12, linestyle="none", label="minimum (1, 1)")
    ax.set(xlim=(-2, 2), ylim=(-1, 3), xlabel="x", ylabel="y", title="Rosenbrock valley: trajectories")
    ax.legend(fontsize=8, loc="lower right")
    ax_loss.axhline(VALLEY_TARGET, color="k", ls=":", lw=1, label=f"target f = {VALLEY_TARGET:g}")
    ax_loss.set(xscale="log", yscale="log", xlabel="step", ylabel="f(x, y)", title="cost along the way")
    ax_loss.legend(fontsize=8, loc="lower left")
    save_figure(fig, out_dir / "optimizers_valley.png", files)

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for k, name in enumerate(NAMES):
        epochs = np.arange(1, len(moons[name]) + 1)
        ax.plot(epochs, moons[name], lw=1.4, label=name, **series_style(k, len(epochs)))
    ax.axhline(MOONS_TARGET, color="k", ls=":", lw=1, label=f"target {MOONS_TARGET:g}")
    ax.set(yscale="log", xlabel="epoch", ylabel="training cost (cross-entropy)", title="MLP on two moons")
    ax.legend(fontsize=8)
    save_figure(fig, out_dir / "optimizers_two_moons.png", files)


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Run (a) and (b) for all six optimizers; write the tables, plots and ``optimizers.json``.

    Returns {"files", "epochs_to_target", "final_loss"} for the MLP and {"valley": {"steps_to_target",
    "final_loss"}} for the valley.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = 1500 if quick else 3000
    epochs = 60 if quick else 100
    paths, valley, moons = {}, {}, {}
    for name in NAMES:
        noise = 0.0 if name == "gd" else VALLEY_NOISE
        paths[name], valley[name] = descend_valley(VALLEY_OPTIMIZERS[name], steps, noise, seed)
        batch = 512 if name == "gd" else MOONS_BATCH
        moons[name] = train_moons(MOONS_OPTIMIZERS[name], batch, epochs, seed)
    valley_steps = {name: first_below(valley[name], VALLEY_TARGET) for name in NAMES}
    valley_final = {name: valley[name][-1] for name in NAMES}
    epochs_to_target = {name: first_below(moons[name], MOONS_TARGET) for name in NAMES}
    final_loss = {name: moons[name][-1] for name in NAMES}
    print_table(
        f"(a) Rosenbrock valley from {VALLEY_START}: steps until f < {VALLEY_TARGET:g} (budget {steps}; — = not reached)",
        ["optimizer", "steps to target", "final f"],
        [[name, valley_steps[name], valley_final[name]] for name in NAMES],
    )
    print_table(
        f"(b) MLP on two moons: epochs until the training cost < {MOONS_TARGET:g} (budget {epochs})",
        ["optimizer", "epochs to target", "final cost"],
        [[name, epochs_to_target[name], final_loss[name]] for name in NAMES],
    )
    files: list[pathlib.Path] = []
    plt = pyplot()
    if plt is not None:
        _plot(plt, paths, valley, moons, out_dir, files)
    write_json(out_dir, "optimizers", {"epochs_to_target": epochs_to_target, "final_loss": final_loss}, files)
    return {
        "files": files,
        "epochs_to_target": epochs_to_target,
        "final_loss": final_loss,
        "valley": {"steps_to_target": valley_steps, "final_loss": valley_final},
    }
