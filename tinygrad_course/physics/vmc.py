"""The variational Monte Carlo driver (NetKet's `nk.driver.VMC` with the SR preconditioner).

One step: sample s ~ |ψ_θ|², compute E_loc(s), the per-sample log-derivatives O(s) =
∂ log ψ(s)/∂θ by `tc.func.vmap(tc.func.grad(...))`, solve SR for δθ and set θ ← θ − lr·δθ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.physics.models import numpy_log_psi
from tinygrad_course.physics.operator import SpinHamiltonian
from tinygrad_course.physics.sampler import MetropolisSampler
from tinygrad_course.physics.sr import SR
from tinygrad_course.physics.stats import Stats, statistics

__all__ = ["VMC", "exact_energy"]

MAX_EXACT = 16  # 2¹⁶ states: one batched forward of the model


class VMC:
    """Minimises E(θ) = ⟨ψ_θ|H|ψ_θ⟩/⟨ψ_θ|ψ_θ⟩ by SR steps θ ← θ − lr·(S + λI)⁻¹F on n_samples per step."""

    def __init__(self, model: nn.Module, operator: SpinHamiltonian, sampler: MetropolisSampler, sr: SR,
                 lr: float, n_samples: int, n_discard: int = 5) -> None:
        """n_discard: sweeps thrown away per step (the chains carry on from the last step, so few are needed)."""
        N = getattr(model, "N", operator.hilbert.size)
        if N != operator.hilbert.size or sampler.hilbert.size != operator.hilbert.size:
            raise ValueError(f"VMC: the model has N={N} sites, the sampler {sampler.hilbert.size} and the operator "
                             f"{operator.hilbert.size}; they must match")
        self.model, self.operator, self.sampler, self.sr = model, operator, sampler, sr
        self.lr, self.n_samples, self.n_discard = float(lr), int(n_samples), int(n_discard)
        self.log_psi = numpy_log_psi(model)
        self.energy: Stats | None = None  # of the last step

    def step(self) -> Stats:
        """One SR step; returns the statistics of E_loc on this step's samples (before the update)."""
        samples, _ = self.sampler.sample(self.log_psi, self.n_samples, self.n_discard)
        configs = samples.reshape(-1, samples.shape[-1])
        e_loc = self.operator.local_energy(self.log_psi, configs)
        self.energy = statistics(e_loc.reshape(samples.shape[:2]))
        O = self._log_derivatives(configs)
        delta = self.sr(O, e_loc)
        with tc.no_grad():  # an update of the leaves, not an operation to differentiate
            start = 0
            for p in self.model.parameters():
                size = p.numel()
                p.sub_(tc.tensor(self.lr * delta[start:start + size].reshape(p.shape).astype(p.dtype)))
                start += size
        return self.energy

    def run(self, n_iter: int, callback: Callable[[int, Stats], Any] | None = None) -> list[Stats]:
        """n_iter steps; callback(step, energy) after each, and returning False stops the run. The energies."""
        history = []
        for k in range(n_iter):
            history.append(self.step())
            if callback is not None and callback(k, history[-1]) is False:
                break
        return history

    def _log_derivatives(self, configs: np.ndarray) -> np.ndarray:
        """O (Ns, P): ∂ log ψ(s)/∂θ per sample, the parameters flattened in named_parameters order."""
        params = {name: p.detach() for name, p in self.model.named_parameters()}

        def log_psi_one(p: dict[str, tc.Tensor], s: tc.Tensor) -> tc.Tensor:
            return func.functional_call(self.model, p, (s.unsqueeze(0),)).squeeze()

        dtype = next(iter(params.values())).dtype
        grads = func.vmap(func.grad(log_psi_one), in_dims=(None, 0))(params, tc.tensor(configs.astype(dtype)))
        return np.concatenate([grads[n].numpy().reshape(len(configs), -1) for n in params], axis=1)


def exact_energy(model: nn.Module | Callable[[np.ndarray], np.ndarray], operator: SpinHamiltonian) -> float:
    """⟨ψ|H|ψ⟩/⟨ψ|ψ⟩ = Σ_s |ψ(s)|² E_loc(s) / Σ_s |ψ(s)|², summed over every basis state (N ≤ 16)."""
    hilbert = operator.hilbert
    if hilbert.size > MAX_EXACT:
        raise ValueError(f"exact_energy: sums over all 2^N states, N ≤ {MAX_EXACT}; got N={hilbert.size}")
    log_psi = numpy_log_psi(model) if isinstance(model, nn.Module) else model
    states = hilbert.all_states()
    log_p = 2 * np.real(log_psi(states))
    weights = np.exp(log_p - log_p.max())  # |ψ|² up to a constant, without overflow
    return float(np.real(weights @ operator.local_energy(log_psi, states)) / weights.sum())
