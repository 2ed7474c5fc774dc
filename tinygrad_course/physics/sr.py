"""Stochastic reconfiguration (Sorella 1998): imaginary-time evolution projected on the variational manifold.

With O_k(s) = ∂ log ψ(s)/∂θ_k, the update δθ solves (S + λI) δθ = F, where
S_kl = ⟨O_k* O_l⟩ − ⟨O_k*⟩⟨O_l⟩ is the quantum geometric tensor (the metric of the parameter
space) and F_k = ⟨O_k* E_loc⟩ − ⟨O_k*⟩⟨E_loc⟩ is half the energy gradient; the driver then
sets θ ← θ − lr·δθ. λ = diag_shift regularises the directions the samples do not determine.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SR"]


class SR:
    """δθ = (S + λI)⁻¹ F, λ = max(diag_shift, eps); real parts of S and F unless holomorphic."""

    def __init__(self, diag_shift: float = 0.01, eps: float = 1e-10, holomorphic: bool = False) -> None:
        """diag_shift: λ; eps: its floor, so that diag_shift = 0 still gives a solvable system
        (S is singular when there are fewer samples than parameters); holomorphic: complex
        parameters of a holomorphic ψ (ComplexRBM): S and F complex, δθ complex. False: real
        parameters (also of a complex ψ), real parts of S and F, a real δθ."""
        if diag_shift < 0 or eps <= 0:
            raise ValueError(f"SR: need diag_shift ≥ 0 and eps > 0, got {diag_shift}, {eps}")
        self.diag_shift, self.eps, self.holomorphic = float(diag_shift), float(eps), bool(holomorphic)

    def __call__(self, O: np.ndarray, e_loc: np.ndarray) -> np.ndarray:
        """The update δθ (P,) from O (Ns, P) = ∂ log ψ(s)/∂θ per sample and E_loc (Ns,)."""
        O, e_loc = np.asarray(O), np.asarray(e_loc)
        if O.ndim != 2 or e_loc.shape != (O.shape[0],):
            raise ValueError(f"SR: expected O of shape (Ns, P) and e_loc of shape (Ns,), got {O.shape} and {e_loc.shape}")
        if not (np.all(np.isfinite(O)) and np.all(np.isfinite(e_loc))):
            raise ValueError("SR: O or e_loc holds non-finite values")
        ns = O.shape[0]
        # S = XᴴX and F = Xᴴe with the centred, 1/√Ns-scaled X and e.
        X = (O - O.mean(axis=0)) / np.sqrt(ns)
        e = (e_loc - e_loc.mean()) / np.sqrt(ns)
        if not self.holomorphic and (np.iscomplexobj(X) or np.iscomplexobj(e)):
            # Real parameters: Re S = XᵣᵀXᵣ + XᵢᵀXᵢ and Re F = Xᵣᵀeᵣ + Xᵢᵀeᵢ, one real system
            # with the real and imaginary parts stacked as extra samples.
            X = np.concatenate([X.real, X.imag])
            e = np.concatenate([e.real, np.imag(e)])
        shift = max(self.diag_shift, self.eps)
        if X.shape[0] < X.shape[1]:
            # Fewer samples than parameters: (XᴴX + λ)⁻¹Xᴴ = Xᴴ(XXᴴ + λ)⁻¹, an Ns × Ns system.
            return X.conj().T @ np.linalg.solve(X @ X.conj().T + shift * np.eye(X.shape[0]), e)
        return np.linalg.solve(X.conj().T @ X + shift * np.eye(X.shape[1]), X.conj().T @ e)

    def __repr__(self) -> str:
        """SR(diag_shift=0.01) or SR(diag_shift=0.01, holomorphic=True)."""
        return f"SR(diag_shift={self.diag_shift}{', holomorphic=True' if self.holomorphic else ''})"
