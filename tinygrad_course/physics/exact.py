"""Exact ground-state energies: the free-fermion solution of the Ising chain, Lanczos, dense diagonalisation.

These are the references a variational energy is measured against.
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.physics.operator import MAX_DENSE, SpinHamiltonian

__all__ = ["exact_ground_state", "lanczos_ground_energy", "tfim_ground_energy"]


def tfim_ground_energy(N: int, h: float, J: float = 1.0) -> float:
    """E₀ of H = −J Σᵢ σᶻᵢσᶻᵢ₊₁ − h Σᵢ σˣᵢ on a ring of N ≥ 3 sites, exact for finite N (Jordan–Wigner).

    Rotated (σᶻ ↔ σˣ), H = −J Σ σˣσˣ − h Σ σᶻ commutes with the parity P = Πᵢ σᶻᵢ. Jordan–Wigner
    fermions (σᶻ = 1 − 2n) see the bond that closes the ring with a sign −P: antiperiodic
    momenta k = (2m − 1)π/N in the even sector (P = +1), periodic k = 2πm/N in the odd one.
    Each k pairs with −k into quasiparticles of energy εₖ = 2√(J² + h² − 2Jh cos k), except
    k = 0, π, where sin k = 0: an unpaired mode of energy aₖ = 2(h − J cos k), |aₖ| = εₖ. So
    in each sector E = −½ Σₖ εₖ for the best occupation (unpaired modes filled when aₖ < 0).
    If that occupation has the wrong fermion parity (even sector: even; odd: odd), the cheapest
    fix adds one quasiparticle or empties/fills one unpaired mode: E += minₖ εₖ.
    E₀ is the lower of the two sectors. (N = 2 is excluded: its ring counts one bond twice,
    which Chain(2) counts once.)
    """
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 3:
        raise ValueError(f"tfim_ground_energy: N must be an integer ≥ 3 (a ring), got {N!r}")
    energies = []
    for offset, parity in ((0.5, 0), (0.0, 1)):  # (even sector: antiperiodic), (odd: periodic)
        k = 2 * np.pi * (np.arange(N) + offset) / N
        eps = 2 * np.sqrt(J**2 + h**2 - 2 * J * h * np.cos(k))
        unpaired = np.isclose(np.sin(k), 0, atol=1e-12)
        filled = int(np.sum(2 * (h - J * np.cos(k[unpaired])) < 0))
        energy = -0.5 * eps.sum()
        if filled % 2 != parity:
            energy += eps.min()
        energies.append(energy)
    return float(min(energies))


def lanczos_ground_energy(operator: SpinHamiltonian, k: int = 300, tol: float = 1e-12,
                          rng: np.random.Generator | None = None) -> float:
    """The lowest eigenvalue of H by Lanczos: H restricted to the Krylov space span{v, Hv, …, Hᵏ⁻¹v}.

    Matrix-free (operator.matvec); the small tridiagonal T = VᵀHV is diagonalised by
    np.linalg.eigvalsh each step, until its lowest eigenvalue moves by less than
    tol·max(1, |E|) between steps. Every new vector is orthogonalised against all the earlier
    ones: without it, rounding makes copies of converged eigenvectors reappear (ghost
    eigenvalues). Memory: up to k vectors of n_states floats (8 MB each at N = 20). rng draws
    the random start vector (default: seed 0, so the result is reproducible).
    """
    if k < 1:
        raise ValueError(f"lanczos_ground_energy: k must be ≥ 1, got {k}")
    n = operator.hilbert.n_states
    rng = np.random.default_rng(0) if rng is None else rng
    steps = min(k, n)
    V = np.empty((min(steps, 32), n))  # the Lanczos vectors as rows; grown by doubling
    v = rng.standard_normal(n)
    V[0] = v / np.linalg.norm(v)
    alphas: list[float] = []
    betas: list[float] = []
    energy = np.inf
    for m in range(1, steps + 1):
        w = operator.matvec(V[m - 1])
        alphas.append(float(V[m - 1] @ w))
        # The three-term recurrence w = Hv_m − α_m v_m − β_{m−1} v_{m−1} removes what exact
        # arithmetic would; one pass over all earlier vectors then removes the rounding drift.
        w -= alphas[-1] * V[m - 1]
        if m > 1:
            w -= betas[-1] * V[m - 2]
        w -= (V[:m] @ w) @ V[:m]
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        new_energy = float(np.linalg.eigvalsh(T)[0])
        beta = float(np.linalg.norm(w))
        # Converged, or the Krylov space is invariant or the whole space (then T's eigenvalues are exact).
        scale = max(1.0, abs(new_energy))
        if abs(new_energy - energy) < tol * scale or beta < 1e-12 * scale or m == n:
            return new_energy
        energy = new_energy
        if m == steps:
            break
        if m == len(V):
            V = np.concatenate([V, np.empty((min(len(V), steps - m), n))])
        betas.append(beta)
        V[m] = w / beta
    raise RuntimeError(f"lanczos_ground_energy: not converged to tol={tol} in k={k} steps (last E = {energy}); "
                       "raise k")


def exact_ground_state(operator: SpinHamiltonian) -> tuple[float, np.ndarray]:
    """(E₀, ψ₀) by dense diagonalisation, np.linalg.eigh(H) (N ≤ 14); ψ₀ over hilbert.all_states()."""
    if operator.hilbert.size > MAX_DENSE:
        raise ValueError(f"exact_ground_state: N ≤ {MAX_DENSE}, got N={operator.hilbert.size}; "
                         "use lanczos_ground_energy")
    energies, vectors = np.linalg.eigh(operator.to_dense())
    return float(energies[0]), vectors[:, 0]
