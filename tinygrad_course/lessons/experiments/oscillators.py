"""Variational Monte Carlo in continuous space: the ground state of d coupled harmonic oscillators.

    H = Σᵢ [−½ ∂²/∂xᵢ² + ½ ω₀² xᵢ² + ½ k (xᵢ − xᵢ₊₁)²],  a ring (x_d = x₀), ω₀ = 1, k = 0.5, m = ħ = 1.

The exact ground energy is E₀ = ½ Σ_m ω_m with the normal modes ω_m² = ω₀² + 2k(1 − cos(2πm/d)).
The ansatz log ψ(x) = −½ xᵀ A x, A = L Lᵀ + εI (physics.continuous.GaussianAnsatz), contains the
exact ground state (A = √K), so VMC can reach E₀ itself; and as it gets there the local energy
E_loc(x) = −½ (Δ log ψ + |∇ log ψ|²) + V(x) becomes the same number at every x (the
zero-variance principle), so the error bar shrinks with the error.

Every step: 2,000 positions from Metropolis chains (Gaussian moves, step adapted to ~50 %
acceptance), E_loc by the forward Laplacian (tc.func.laplacian, values only under no_grad),
the per-sample O = ∂ log ψ/∂θ by tc.func.vmap(tc.func.grad(...)), and a stochastic-
reconfiguration step θ ← θ − lr·(S + λI)⁻¹F, i.e. imaginary-time evolution projected on the
ansatz. For comparison Adam runs on the plain gradient 2⟨(E_loc − ⟨E⟩) O⟩ from the same start
and the same number of samples per step. The final energy is measured on fresh samples.

Run with ``python -m tinygrad_course oscillators`` (writes to ./out/oscillators by default).
"""

from __future__ import annotations

import pathlib
import time
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import optim
from tinygrad_course.lessons.experiments.common import print_table, pyplot, save_figure, series_style, write_json
from tinygrad_course.physics.continuous import ContinuousVMC, CoupledOscillators, GaussianAnsatz, MetropolisGaussian
from tinygrad_course.physics.sr import SR

OMEGA0, K = 1.0, 0.5
SR_LR, DIAG_SHIFT = 0.2, 1e-4  # imaginary-time step τ = 0.2: stable below 1/ω_max ≈ 0.58
ADAM_LR = 0.01
TARGET = 1e-4  # the relative error the full run must reach
SIZES = {  # per run: d, SR iterations, Adam iterations, samples per step, chains, samples of the final estimate
    "full": {"d": 20, "iterations": 30, "adam_iterations": 150, "n_samples": 2000, "n_chains": 1000, "n_final": 10000},
    "quick": {"d": 6, "iterations": 20, "adam_iterations": 60, "n_samples": 1000, "n_chains": 500, "n_final": 4000},
}
BURN_IN = 100  # Metropolis steps before the first VMC step


def optimise(hamiltonian: CoupledOscillators, method: str, iterations: int, n_samples: int, n_chains: int,
             n_final: int, seed: int) -> dict[str, Any]:
    """VMC with `method` ("sr" or "adam") from A = I; the per-step energies, the final estimate and the timings."""
    d = hamiltonian.d
    tc.manual_seed(seed)
    model = GaussianAnsatz(d)
    sampler = MetropolisGaussian(d, n_chains=n_chains, rng=np.random.default_rng([seed, d]))
    if method == "sr":
        vmc = ContinuousVMC(model, hamiltonian, sampler, n_samples, sr=SR(DIAG_SHIFT), lr=SR_LR)
    else:
        vmc = ContinuousVMC(model, hamiltonian, sampler, n_samples, optimizer=optim.Adam(model.parameters(), lr=ADAM_LR))
    start = time.perf_counter()
    vmc.burn_in(BURN_IN)
    history = vmc.run(iterations)
    final = vmc.estimate(n_final)
    seconds = time.perf_counter() - start
    e0 = hamiltonian.exact_ground_energy()
    energy = np.array([s.mean for s in history])
    below = np.nonzero(np.abs(energy - e0) / e0 <= TARGET)[0]
    return {
        "method": method,
        "iterations": iterations,
        "samples": iterations * n_samples + n_final,
        "seconds": seconds,
        "energy": energy,
        "iterations_to_target": int(below[0]) + 1 if below.size else None,  # steps until ⟨E_loc⟩ first within TARGET
        "error": np.array([s.error_of_mean for s in history]),
        "variance": np.array([s.variance for s in history]),
        "energy_mc": final.mean,
        "energy_mc_error": final.error_of_mean,
        "relative_error": abs(final.mean - e0) / e0,
        "ansatz_energy": hamiltonian.gaussian_energy(model.matrix()),  # ⟨H⟩ of the final ψ in closed form
        "acceptance": sampler.acceptance,
        "timings": dict(vmc.timings),
    }


def _plot(plt: Any, e0: float, runs: list[dict[str, Any]], d: int, out_dir: pathlib.Path,
          files: list[pathlib.Path]) -> None:
    fig, (ax_e, ax_rel) = plt.subplots(1, 2, figsize=(11, 4.2))
    labels = {"sr": f"SR (lr = {SR_LR})", "adam": f"Adam (lr = {ADAM_LR})"}
    for k, r in enumerate(runs):
        steps = np.arange(len(r["energy"]))
        style = series_style(k, len(steps))
        ax_e.errorbar(steps, r["energy"], yerr=r["error"], lw=1, capsize=2, label=labels[r["method"]], **style)
        ax_rel.semilogy(steps, np.abs(r["energy"] - e0) / e0, lw=1, label=f"{labels[r['method']]}: |E − E₀|/E₀", **style)
        ax_rel.semilogy(steps, r["error"] / e0, lw=0.8, ls=":", color=ax_rel.lines[-1].get_color(),
                        label=f"{labels[r['method']]}: error bar / E₀")
    ax_e.axhline(e0, color="k", ls="--", lw=1, label=f"exact E₀ = {e0:.6f}")
    ax_e.set(xlabel="VMC iteration", ylabel="⟨E_loc⟩ ± error", title=f"{d} coupled oscillators: energy")
    top = max(r["energy"][0] for r in runs)
    ax_e.set_ylim(e0 - 0.05 * (top - e0), top + 0.1 * (top - e0))
    ax_e.legend(fontsize=8)
    ax_rel.axhline(TARGET, color="k", ls="--", lw=0.8, label=f"target {TARGET:g}")
    ax_rel.set(xlabel="VMC iteration", ylabel="relative to E₀",
               title="error and error bar (zero variance at the exact ψ)")
    ax_rel.legend(fontsize=7)
    save_figure(fig, out_dir / "oscillators_energy.png", files)


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 0, d: int | None = None) -> dict[str, Any]:
    """SR (and Adam for comparison) on d oscillators (default 20; quick: 6); table, plot, ``oscillators.json``.

    The JSON holds the SR run: {d, omega0, k, iterations, seconds, energy_exact, energy_mc,
    energy_mc_error, relative_error}; `seconds` is the SR run's wall time (burn-in, iterations
    and the final estimate). Returns {"files", those keys, "samples", "sr", "adam"} with each
    run's per-step energies and timings.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    size = dict(SIZES["quick" if quick else "full"])
    if d is not None:
        size["d"] = d
    hamiltonian = CoupledOscillators(size["d"], omega0=OMEGA0, k=K)
    e0 = hamiltonian.exact_ground_energy()
    common = {"n_samples": size["n_samples"], "n_chains": size["n_chains"], "n_final": size["n_final"], "seed": seed}
    sr = optimise(hamiltonian, "sr", size["iterations"], **common)
    adam = optimise(hamiltonian, "adam", size["adam_iterations"], **common)
    print_table(
        f"VMC for {hamiltonian.d} coupled oscillators on a ring (ω₀ = {OMEGA0}, k = {K}): exact E₀ = {e0:.10f}; "
        f"{size['n_samples']} samples per step, {size['n_final']} for the final estimate",
        ["method", "iterations", f"steps to {TARGET:g}", "samples", "E_MC ± error", "relative error", "ansatz ⟨H⟩ − E₀", "acceptance", "seconds"],
        [[r["method"], r["iterations"], r["iterations_to_target"], r["samples"], f"{r['energy_mc']:.10f} ± {r['energy_mc_error']:.1e}",
          r["relative_error"], r["ansatz_energy"] - e0, r["acceptance"], f"{r['seconds']:.2f}"] for r in (sr, adam)],
    )
    print_table("where the time goes (seconds)", ["method", *sr["timings"]],
                [[r["method"], *(f"{v:.2f}" for v in r["timings"].values())] for r in (sr, adam)])
    result = {
        "d": hamiltonian.d,
        "omega0": OMEGA0,
        "k": K,
        "iterations": sr["iterations"],
        "seconds": sr["seconds"],
        "energy_exact": e0,
        "energy_mc": sr["energy_mc"],
        "energy_mc_error": sr["energy_mc_error"],
        "relative_error": sr["relative_error"],
    }
    files: list[pathlib.Path] = []
    plt = pyplot()
    if plt is not None:
        _plot(plt, e0, [sr, adam], hamiltonian.d, out_dir, files)
    write_json(out_dir, "oscillators", result, files)
    verdict = "meets" if sr["relative_error"] <= TARGET else "MISSES"
    print(f"oscillators: SR relative error {sr['relative_error']:.2e} {verdict} the target {TARGET:g}, "
          f"in {sr['seconds']:.1f} s\n")
    return {"files": files, **result, "samples": sr["samples"], "sr": sr, "adam": adam}
