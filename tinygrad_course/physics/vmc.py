"""The variational Monte Carlo driver (NetKet's `nk.driver.VMC` with the SR preconditioner).

One step: sample s ~ |ψ_θ|², compute E_loc(s), the per-sample log-derivatives O(s) =
∂ log ψ(s)/∂θ by `tc.func.vmap(tc.func.grad(...))`, solve SR for δθ and set θ ← θ − lr·δθ.

Complex parameters (`ComplexRBM`): log ψ is holomorphic in θ = x + iy, and O_k = ∂ log ψ/∂θ_k
is its complex derivative f′. tc's gradient of a real L is ∂L/∂x + i ∂L/∂y; for L = Re f that
is Re f′ − i Im f′ = conj(f′). tc.func.grad takes real arguments only, so the driver hands it
the real and imaginary parts of every parameter, builds θ = x + iy inside, and differentiates
Re log ψ: O = ∂(Re log ψ)/∂x − i ∂(Re log ψ)/∂y. SR then solves the complex system
(SR(holomorphic=True)) and θ ← θ − lr·δθ with a complex δθ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.physics.models import config_dtype, numpy_log_psi, real_part
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
        self.holomorphic = self._check_parameters()
        self.log_psi = numpy_log_psi(model)
        self.energy: Stats | None = None  # of the last step

    def step(self) -> Stats:
        """One SR step; returns the statistics of Re E_loc on this step's samples (before the update).

        For a complex ψ, E_loc(s) is complex; H is Hermitian, so its imaginary part averages to
        zero and Re E_loc is the estimator of the energy.
        """
        self.holomorphic = self._check_parameters()  # the dtypes may have changed (module.to(complex128))
        samples, _ = self.sampler.sample(self.log_psi, self.n_samples, self.n_discard)
        configs = samples.reshape(-1, samples.shape[-1])
        e_loc = self.operator.local_energy(self.log_psi, configs)
        self.energy = statistics(np.real(e_loc).reshape(samples.shape[:2]))
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

    def _check_parameters(self) -> bool:
        """Whether the parameters are complex (a holomorphic ansatz); a ValueError unless SR suits them."""
        kinds = {name: p.dtype for name, p in self.model.named_parameters()}
        if not kinds:
            raise ValueError("VMC: the model has no parameters to optimise")
        complex_ = [name for name, d in kinds.items() if d.kind == "c"]
        if complex_ and len(complex_) != len(kinds):
            raise ValueError(f"VMC: the model mixes complex parameters ({', '.join(complex_)}) with real ones; "
                             "give all parameters one kind: real (float32/float64) or complex (complex64/complex128)")
        if complex_ and not self.sr.holomorphic:
            raise ValueError(f"VMC: the model has complex parameters ({complex_[0]}: {kinds[complex_[0]]}), a "
                             "holomorphic ansatz such as ComplexRBM; it needs SR(holomorphic=True). "
                             "SR(holomorphic=False) accepts real parameters (float32/float64) only")
        if not complex_ and self.sr.holomorphic:
            name = next(iter(kinds))
            raise ValueError(f"VMC: SR(holomorphic=True) needs complex parameters (complex64/complex128, e.g. "
                             f"ComplexRBM); the model's are real ({name}: {kinds[name]}): use SR(holomorphic=False)")
        return bool(complex_)

    def _log_derivatives(self, configs: np.ndarray) -> np.ndarray:
        """O (Ns, P): ∂ log ψ(s)/∂θ per sample, the parameters flattened in named_parameters order."""
        params = {name: p.detach() for name, p in self.model.named_parameters()}
        s = tc.tensor(configs.astype(config_dtype(self.model)))
        if not self.holomorphic:
            def log_psi_one(p: dict[str, tc.Tensor], s: tc.Tensor) -> tc.Tensor:
                return func.functional_call(self.model, p, (s.unsqueeze(0),)).squeeze()

            grads = func.vmap(func.grad(log_psi_one), in_dims=(None, 0))(params, s)
            return np.concatenate([grads[n].numpy().reshape(len(configs), -1) for n in params], axis=1)

        # Complex θ = x + iy: differentiate Re log ψ with respect to the real parts x and y.
        parts = {}
        for n, p in params.items():
            parts[n + ".real"], parts[n + ".imag"] = real_part(p), real_part(p * -1j)  # Im θ = Re(−iθ)

        def re_log_psi_one(q: dict[str, tc.Tensor], s: tc.Tensor) -> tc.Tensor:
            theta = {n: tc.complex(q[n + ".real"], q[n + ".imag"]) for n in params}
            return real_part(func.functional_call(self.model, theta, (s.unsqueeze(0),)).squeeze())

        grads = func.vmap(func.grad(re_log_psi_one), in_dims=(None, 0))(parts, s)
        # grad Re f = conj f′ = ∂/∂x + i ∂/∂y, so f′ = ∂(Re f)/∂x − i ∂(Re f)/∂y.
        return np.concatenate([(grads[n + ".real"].numpy() - 1j * grads[n + ".imag"].numpy()).reshape(len(configs), -1)
                               for n in params], axis=1)


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
