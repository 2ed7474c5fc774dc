"""Learning the phases of the 2D Ising model (Carrasquilla & Melko, Nature Physics 13, 431 (2017)), honestly.

A small MLP (L² raw spins → 32 ReLU → 1 logit) learns to tell ordered from disordered
configurations. It is trained only far from the transition, |T − T_c| ≥ 0.3, with the label
"ordered" exactly when T < T_c, and on both spin-flipped copies of every configuration (with one
sign of the magnetisation only, a network learns the sign, not the order). It never sees the
critical region. On fresh samples across 1.8 ≤ T ≤ 2.8 the mean "ordered" probability p̄(T) falls
from 1 to 0; where it crosses ½ (interpolated by a straight line through the points on the slope,
0.2 ≤ p̄ ≤ 0.8) is the network's estimate of T_c, compared with Onsager's exact T_c = 2/ln(1 + √2) ≈ 2.2692.

At finite L the crossing sits above T_c (a finite lattice still looks ordered a little above
T_c); with ν = 1 it shifts like T_c(L) = T_c + a/L, so the estimates for L = 8, 16, 32 are
extrapolated to L → ∞ by a straight-line fit in 1/L.

Samples come from datasets.ising: random starts at every temperature, checkerboard Metropolis
plus Swendsen–Wang cluster updates, cached on disk (the second run skips the sampling).

Run with ``python -m tinygrad_course ising`` (writes to ./out/ising by default).
"""

from __future__ import annotations

import os
import pathlib
import time
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import datasets, nn, optim
from tinygrad_course.data import DataLoader, TensorDataset
from tinygrad_course.datasets.ising import TC_EXACT
from tinygrad_course.lessons.experiments.common import print_table, pyplot, save_figure, series_style, write_json
from tinygrad_course.training import fit

GAP = 0.3  # no training data with |T − T_c| < GAP
# T_c ∓ (0.3, 0.35, …, 1.0): 15 temperatures on each side, none closer to T_c than GAP.
TRAIN_TEMPERATURES = np.concatenate(
    [TC_EXACT - GAP - np.arange(14, -1, -1) * 0.05, TC_EXACT + GAP + np.arange(15) * 0.05]
)
EVAL_TEMPERATURES = np.round(np.arange(1.8, 2.8 + 1e-9, 0.025), 4)
SAMPLER = {"n_equilibrate": 30, "n_decorrelate": 4}  # sweeps, each Metropolis + Swendsen–Wang
SAMPLES_PER_CHAIN = 4
HIDDEN = 32
EPOCHS = 10


def crossing(temperatures: np.ndarray, p_ordered: np.ndarray, window: tuple[float, float] = (0.2, 0.8)) -> float:
    """Where p̄(T) falls through ½: the straight line fitted (least squares) to the points with
    p̄ in `window`, solved for ½; NaN if p̄ never crosses ½.

    Interpolating between the two points that bracket ½ uses only those two noisy means; the
    fitted line uses every point on the slope (4 at L = 32, ~10 at L = 8) and so is several
    times less noisy, with the same answer for a straight slope. With fewer than two points in
    the window, the bracketing pair is used.
    """
    sides = np.nonzero((p_ordered[1:] < 0.5) & (p_ordered[:-1] >= 0.5))[0]
    if sides.size == 0:
        return float("nan")
    on_slope = (p_ordered >= window[0]) & (p_ordered <= window[1])
    if np.count_nonzero(on_slope) < 2:
        on_slope = np.zeros_like(on_slope)
        on_slope[sides[0] : sides[0] + 2] = True
    slope, intercept = np.polyfit(temperatures[on_slope], p_ordered[on_slope], 1)
    return float((0.5 - intercept) / slope)


def extrapolate(sizes: list[int], tc_per_size: list[float], errors: list[float] | None = None) -> tuple[float, float]:
    """Least-squares fit T_c(L) = T_c + a/L, each size weighted by 1/error (errors None: equal weights); returns (T_c, a).

    Weighting by the statistical error of each crossing is the usual finite-size practice: the
    transition of a small lattice is broad (width ∝ 1/L), so its crossing is the least certain.
    """
    weight = np.ones(len(sizes)) if errors is None else 1.0 / np.asarray(errors, dtype=np.float64)
    design = np.stack([np.ones(len(sizes)), 1.0 / np.asarray(sizes, dtype=np.float64)], axis=1)
    target = np.asarray(tc_per_size, dtype=np.float64)
    (intercept, slope), *_ = np.linalg.lstsq(design * weight[:, None], target * weight, rcond=None)
    return float(intercept), float(slope)


def bootstrap_error(temperatures: np.ndarray, p: np.ndarray, seed: int, n_resamples: int = 200) -> float:
    """Standard deviation of the crossing over resamplings of the evaluated configurations.

    p: P(ordered) of each fresh configuration, shape (len(temperatures), n per temperature).
    """
    rng = np.random.default_rng(seed)
    n = p.shape[1]
    estimates = [
        crossing(temperatures, np.take_along_axis(p, rng.integers(0, n, p.shape), axis=1).mean(axis=1))
        for _ in range(n_resamples)
    ]
    return float(np.nanstd(estimates))


def _sample(L: int, temperatures: np.ndarray, n: int, seed: int, cache_dir: Any) -> datasets.IsingSamples:
    return datasets.ising(
        L, temperatures, n, n_chains=n // SAMPLES_PER_CHAIN, seed=seed, cache_dir=cache_dir, **SAMPLER
    )


def _flat(spins: tc.Tensor) -> np.ndarray:
    return spins._array.reshape(spins.shape[0], -1).astype(np.float32)


def phase_curve(L: int, n_train: int, n_eval: int, seed: int, cache_dir: Any = None) -> dict[str, Any]:
    """Sample, train on |T − T_c| ≥ 0.3, evaluate on 1.8..2.8; returns p̄(T), the crossing and timings."""
    start = time.perf_counter()
    train = _sample(L, TRAIN_TEMPERATURES, n_train, seed * 1000 + 2 * L, cache_dir)
    fresh = _sample(L, EVAL_TEMPERATURES, n_eval, seed * 1000 + 2 * L + 1, cache_dir)
    sampled = time.perf_counter()

    x = _flat(train.spins)
    ordered = (train.temperature._array < TC_EXACT).astype(np.float32)
    x = np.concatenate([x, -x])  # both spin-flipped copies: the label is the order, not the sign
    y = np.concatenate([ordered, ordered])
    tc.manual_seed(seed)
    model = nn.Sequential(nn.Linear(L * L, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, 1), nn.Flatten(0))
    loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
    history = fit(
        model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=1e-3), loader, epochs=EPOCHS, verbose=False
    )

    model.eval()
    with tc.no_grad():
        p = np.concatenate(
            [model(tc.from_numpy(chunk)).sigmoid()._array for chunk in np.array_split(_flat(fresh.spins), 8)]
        )
    p = p.reshape(EVAL_TEMPERATURES.size, n_eval)
    p_ordered = p.mean(axis=1)
    done = time.perf_counter()
    return {
        "L": L,
        "p_ordered": p_ordered,
        "tc": crossing(EVAL_TEMPERATURES, p_ordered),
        "tc_error": bootstrap_error(EVAL_TEMPERATURES, p, seed * 1000 + L),
        "train_loss": history["train_loss"][-1],
        "sample_seconds": sampled - start,
        "train_seconds": done - sampled,
        "examples": {float(t): fresh.spins._array[i * n_eval] for i, t in enumerate(EVAL_TEMPERATURES) if i % 10 == 0},
    }


def _plot(
    plt: Any,
    curves: list[dict[str, Any]],
    fit_line: tuple[float, float] | None,
    out_dir: pathlib.Path,
    files: list[pathlib.Path],
) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.axvspan(TC_EXACT - GAP, TC_EXACT + GAP, color="0.92", label="never trained on")
    for k, curve in enumerate(curves):
        style = series_style(k, len(EVAL_TEMPERATURES), marks=14)
        line = ax.plot(EVAL_TEMPERATURES, curve["p_ordered"], lw=1.2, label=f"L = {curve['L']}", **style)[0]
        # the crossing p̄ = ½, with its bootstrap error as a horizontal bar
        ax.errorbar(
            curve["tc"],
            0.5,
            xerr=curve["tc_error"],
            fmt=style["marker"],
            ms=8,
            mfc="none",
            capsize=4,
            color=line.get_color(),
            label=f"L = {curve['L']}: T_c = {curve['tc']:.3f} ± {curve['tc_error']:.3f}",
        )
    ax.axvline(TC_EXACT, color="k", lw=1.2, label=f"Onsager T_c = {TC_EXACT:.4f}")
    ax.axhline(0.5, color="k", ls=":", lw=0.8)
    ax.set(xlabel="temperature T", ylabel="mean P(ordered)", title="What the network thinks, on unseen samples")
    ax.legend(fontsize=7)
    save_figure(fig, out_dir / "ising_phases.png", files)

    from matplotlib.patches import Patch

    L = curves[-1]["L"]
    examples = curves[-1]["examples"]
    fig, axes = plt.subplots(1, len(examples), figsize=(2.2 * len(examples), 2.9))
    for ax, (t, spins) in zip(np.atleast_1d(axes), examples.items()):
        ax.imshow(spins, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"L = {L}, T = {t:.2f}", fontsize=9)
        ax.set_xlabel("T < T_c: ordered" if t < TC_EXACT else "T > T_c: disordered", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.legend(
        handles=[Patch(facecolor="white", edgecolor="k", label="spin +1"), Patch(facecolor="black", label="spin −1")],
        loc="lower center",
        ncol=2,
        fontsize=8,
    )
    fig.suptitle(f"Ising configurations on the {L}×{L} lattice (fresh samples)", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save_figure(fig, out_dir / "ising_configurations.png", files, tight=False)

    if fit_line is not None:
        tc_inf, slope = fit_line
        sizes = np.array([c["L"] for c in curves], dtype=np.float64)
        fig, ax = plt.subplots(figsize=(5.6, 4.0))
        ax.errorbar(
            1 / sizes,
            [c["tc"] for c in curves],
            yerr=[c["tc_error"] for c in curves],
            fmt="o",
            ms=6,
            capsize=4,
            label="crossing of P(ordered) = ½ ± bootstrap error",
        )
        grid = np.linspace(0, 1.05 / sizes.min(), 50)
        ax.plot(grid, tc_inf + slope * grid, "--", lw=1, label="fit T_c + a/L (weights 1/error)")
        ax.plot(0, tc_inf, "*", ms=14, mfc="none", mew=1.5, linestyle="none", label=f"extrapolated T_c = {tc_inf:.4f}")
        ax.annotate(f"L → ∞: {tc_inf:.4f}", (0, tc_inf), textcoords="offset points", xytext=(12, 8), fontsize=8)
        ax.axhline(TC_EXACT, color="k", ls=":", lw=1, label=f"Onsager {TC_EXACT:.4f}")
        ax.set(xlabel="1 / L", ylabel="estimated T_c", title="finite-size extrapolation (ν = 1)")
        ax.legend(fontsize=7)
        save_figure(fig, out_dir / "ising_finite_size.png", files)


def run(
    out_dir: pathlib.Path, quick: bool = False, seed: int = 0, cache_dir: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Default: L = 8, 16, 32 and the extrapolation; quick: L = 16 only. Writes the table, plots and ``ising.json``.

    Returns {"files", "L", "tc_estimate", "tc_exact", "relative_error", "seconds", and "finite_size" when
    several sizes ran}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    sizes = (16,) if quick else (8, 16, 32)
    n_train = n_eval = 100 if quick else 200
    curves = [phase_curve(L, n_train, n_eval, seed, cache_dir) for L in sizes]
    main = curves[-1]
    rows = [
        [
            c["L"],
            f"{c['tc']:.4f} ± {c['tc_error']:.4f}",
            f"{100 * (c['tc'] / TC_EXACT - 1):+.2f}",
            c["train_loss"],
            f"{c['sample_seconds']:.1f}",
            f"{c['train_seconds']:.1f}",
        ]
        for c in curves
    ]
    result: dict[str, Any] = {
        "L": main["L"],
        "tc_estimate": main["tc"],
        "tc_exact": TC_EXACT,
        "relative_error": main["tc"] / TC_EXACT - 1,
    }
    fit_line = None
    if len(sizes) > 1:
        fit_line = extrapolate(list(sizes), [c["tc"] for c in curves], [c["tc_error"] for c in curves])
        result["finite_size"] = {
            "sizes": list(sizes),
            "tc_per_size": [c["tc"] for c in curves],
            "tc_error_per_size": [c["tc_error"] for c in curves],
            "tc_extrapolated": fit_line[0],
        }
        rows.append(["∞ (fit)", f"{fit_line[0]:.4f}", f"{100 * (fit_line[0] / TC_EXACT - 1):+.2f}", None, None, None])
    print_table(
        f"Ising phases: T_c where mean P(ordered) = ½ (Onsager: {TC_EXACT:.4f}); {n_train} training and {n_eval} "
        "fresh samples per temperature",
        ["L", "T_c estimate", "error %", "train loss", "sampling s", "training s"],
        rows,
    )
    files: list[pathlib.Path] = []
    plt = pyplot()
    if plt is not None:
        _plot(plt, curves, fit_line, out_dir, files)
    write_json(out_dir, "ising", result, files)
    seconds = time.perf_counter() - start
    print(f"ising: {seconds:.1f} s in all\n")
    return {"files": files, **result, "seconds": seconds, "p_ordered": {c["L"]: c["p_ordered"] for c in curves}}
