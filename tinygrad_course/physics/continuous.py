"""Variational Monte Carlo in continuous space: d coupled harmonic oscillators on a ring.

    H = Σᵢ [−½ ∂²/∂xᵢ² + ½ ω₀² xᵢ² + ½ k (xᵢ − xᵢ₊₁)²]      (periodic: x_d = x₀; m = ħ = 1)
      = −½ Δ + ½ xᵀ K x,   K = ω₀² I + k (2I − S − Sᵀ),  S the cyclic shift.

K is circulant, so its eigenvectors are plane waves and the normal-mode frequencies are
ω_m² = ω₀² + 2k(1 − cos(2πm/d)), m = 0 … d−1; the ground state is ψ₀(x) ∝ exp(−½ xᵀ √K x)
and E₀ = ½ Σ_m ω_m.

The pieces, one job each:

- `CoupledOscillators`: V(x), the exact E₀, and the local energy
  E_loc(x) = (Hψ)(x)/ψ(x) = −½ (Δ log ψ + |∇ log ψ|²) + V(x) of any log ψ given as a function
  of a (B, d) Tensor. The kinetic part comes from `tc.func.laplacian` (the forward Laplacian):
  by default in **one** forward pass, as Δψ̃ of ψ̃(x) = exp(log ψ(x) − c) with the constant
  c = log ψ(x) detached (ψ̃ = 1 at the point itself, so Δψ̃ = Δψ/ψ = Δ log ψ + |∇ log ψ|²);
  ``method="backward"`` gives the textbook split, Δ log ψ from the forward Laplacian and
  ∇ log ψ from one backward.
- `GaussianAnsatz`: log ψ(x) = −½ xᵀ A x with A = L Lᵀ + εI, L lower triangular (its
  d(d+1)/2 entries are the parameters), optionally plus a small tanh MLP. The exact ground
  state is in the family (A = √K), so the variational optimum is exact and its local energy
  has zero variance.
- `MetropolisGaussian`: Metropolis with Gaussian proposals x′ = x + σ·N(0, I), many chains at
  once; σ is adapted during the burn-in towards ~50 % acceptance and then held fixed.
- `ContinuousVMC`: the driver: sample, E_loc, per-sample O = ∂ log ψ/∂θ by
  ``tc.func.vmap(tc.func.grad(...))`` over ``tc.func.functional_call``, then an SR step
  θ ← θ − lr·(S + λI)⁻¹F or a step of a `tc.optim` optimizer on the gradient
  ∇E = 2 Re⟨(E_loc − ⟨E⟩) O⟩.

Example::

    import tinygrad_course as tc
    from tinygrad_course.physics.continuous import (ContinuousVMC, CoupledOscillators, GaussianAnsatz,
                                                    MetropolisGaussian)
    from tinygrad_course.physics.sr import SR

    H = CoupledOscillators(6, omega0=1.0, k=0.5)
    model = GaussianAnsatz(6)
    vmc = ContinuousVMC(model, H, MetropolisGaussian(6, n_chains=500, rng=0), n_samples=1000, sr=SR(1e-4), lr=0.2)
    vmc.run(30)
    print(vmc.estimate(4000), H.exact_ground_energy())
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.physics.sr import SR
from tinygrad_course.physics.stats import Stats, statistics

__all__ = ["ContinuousVMC", "CoupledOscillators", "GaussianAnsatz", "MetropolisGaussian"]

LogPsi = Callable[[tc.Tensor], tc.Tensor]  # (B, d) Tensor → (B,) Tensor


def _positive_int(who: str, name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{who}: {name} must be an integer ≥ {minimum}, got {value!r}")
    return int(value)


def _finite(who: str, name: str, value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {name} must be a real number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{who}: {name} must be finite, got {value!r}")
    return out


def _check_positions(who: str, x: Any, d: int) -> None:
    shape = tuple(x.shape) if hasattr(x, "shape") else np.shape(x)
    if len(shape) != 2 or shape[1] != d:
        raise ValueError(f"{who}: expected positions x of shape (B, {d}), got {shape}")


class CoupledOscillators:
    """H = Σᵢ [−½ ∂²/∂xᵢ² + ½ ω₀² xᵢ² + ½ k (xᵢ − xᵢ₊₁)²] on a ring of d ≥ 2 unit masses (ħ = 1).

    d = 2 counts the bond between x₀ and x₁ twice (i = 0 and i = 1), as the ring's sum says.
    """

    def __init__(self, d: int, omega0: float = 1.0, k: float = 0.5) -> None:
        """d ≥ 2 oscillators, on-site frequency ω₀ > 0, spring constant k ≥ 0 between neighbours."""
        who = "CoupledOscillators"
        self.d = _positive_int(who, "d", d, minimum=2)
        self.omega0 = _finite(who, "omega0", omega0)
        self.k = _finite(who, "k", k)
        if self.omega0 <= 0:
            raise ValueError(f"{who}: omega0 must be positive, got {omega0!r}")
        if self.k < 0:
            raise ValueError(f"{who}: k must be ≥ 0 (a negative spring can make H unbounded below), got {k!r}")
        shift = np.roll(np.eye(self.d), 1, axis=1)  # (S x)ᵢ = xᵢ₊₁
        self.coupling = self.omega0**2 * np.eye(self.d) + self.k * (2 * np.eye(self.d) - shift - shift.T)  # K

    def normal_modes(self) -> np.ndarray:
        """ω_m = √(ω₀² + 2k(1 − cos(2πm/d))), m = 0 … d−1: the frequencies of the plane-wave modes."""
        m = np.arange(self.d)
        return np.sqrt(self.omega0**2 + 2 * self.k * (1 - np.cos(2 * np.pi * m / self.d)))

    def exact_ground_energy(self) -> float:
        """E₀ = ½ Σ_m ω_m (each normal mode in its ground state)."""
        return float(0.5 * self.normal_modes().sum())

    def ground_state_matrix(self) -> np.ndarray:
        """A₀ = √K (by eigh of K): the exact ground state is ψ₀(x) ∝ exp(−½ xᵀ A₀ x)."""
        w, v = np.linalg.eigh(self.coupling)
        return (v * np.sqrt(w)) @ v.T

    def gaussian_energy(self, A: np.ndarray) -> float:
        """⟨H⟩ of ψ = exp(−½ xᵀ A x), in closed form: ¼ tr A + ¼ tr(K A⁻¹) (A symmetric positive definite).

        |ψ|² is a Gaussian of covariance (2A)⁻¹: ⟨½ p²⟩ = ¼ tr A and ⟨½ xᵀKx⟩ = ¼ tr(K A⁻¹).
        """
        A = np.asarray(A, dtype=np.float64)
        if A.shape != (self.d, self.d):
            raise ValueError(f"CoupledOscillators.gaussian_energy: expected A of shape ({self.d}, {self.d}), got {A.shape}")
        return float(0.25 * np.trace(A) + 0.25 * np.trace(np.linalg.solve(A, self.coupling)))

    def potential(self, x: np.ndarray | tc.Tensor) -> np.ndarray | tc.Tensor:
        """V(x) = ½ xᵀ K x per row of x (B, d): a numpy array for an array, a Tensor (differentiable) for a Tensor."""
        _check_positions("CoupledOscillators.potential", x, self.d)
        if isinstance(x, tc.Tensor):
            K = tc.tensor(self.coupling.astype(x.dtype))
            return 0.5 * ((x @ K) * x).sum(1)
        x = np.asarray(x)
        return 0.5 * np.einsum("bi,ij,bj->b", x, self.coupling, x)

    def local_energy(self, log_psi: LogPsi, x: np.ndarray | tc.Tensor, method: str = "forward") -> np.ndarray:
        """E_loc(x) = −½ (Δ log ψ + |∇ log ψ|²) + V(x) for each row of x (B, d); a numpy array (B,).

        log_psi maps a (B, d) Tensor to the (B,) Tensor of log ψ (a `GaussianAnsatz`, any
        module or function of tc ops; each row must depend on its own sample only). Values
        only: computed under tc.no_grad(), on numpy arrays.

        method="forward" (default): Δ log ψ + |∇ log ψ|² = Δψ/ψ in one forward-Laplacian pass
        of ψ̃(x) = exp(log ψ(x) − c(x)), c the detached value of log ψ (ψ̃ = 1 at x, no overflow).
        method="backward": Δ log ψ by the forward Laplacian, ∇ log ψ by one backward.
        """
        if method not in ("forward", "backward"):
            raise ValueError(f"CoupledOscillators.local_energy: method must be 'forward' or 'backward', got {method!r}")
        _check_positions("CoupledOscillators.local_energy", x, self.d)
        xt = x.detach() if isinstance(x, tc.Tensor) else tc.tensor(np.asarray(x, dtype=np.float64))
        with tc.no_grad():
            if method == "forward":
                def ratio(z: tc.Tensor) -> tc.Tensor:
                    lp = log_psi(z)
                    return (lp - lp.detach()).exp()

                kinetic = func.laplacian(ratio)(xt).numpy()
            else:
                lap = func.laplacian(log_psi)(xt).numpy()
                g = func.grad(lambda z: log_psi(z).sum())(xt).numpy()
                kinetic = lap + np.einsum("bi,bi->b", g, g)
        return -0.5 * kinetic + self.potential(xt.numpy())

    def __repr__(self) -> str:
        """CoupledOscillators(d=20, omega0=1.0, k=0.5)."""
        return f"CoupledOscillators(d={self.d}, omega0={self.omega0}, k={self.k})"


class GaussianAnsatz(nn.Module):
    """log ψ(x) = −½ xᵀ A x [+ MLP(x)], A = L Lᵀ + εI with L lower triangular: positive definite for every L.

    Parameters: ``tril``, the d(d+1)/2 entries of L row by row (np.tril_indices order); with
    hidden > 0 also ``mlp`` (d → hidden, tanh, → 1), its output layer zero at the start (the
    correction starts at 0). For H = −½Δ + ½xᵀKx the exact ground state is the Gaussian with
    A = √K, so the family without the MLP already contains it.
    """

    def __init__(self, d: int, hidden: int = 0, eps: float = 1e-3, init_scale: float = 1.0,
                 dtype: Any = tc.float64) -> None:
        """Starts at A = init_scale·I (L = √(init_scale − ε)·I); eps: ε > 0, the floor of A's eigenvalues."""
        super().__init__()
        who = "GaussianAnsatz"
        self.d = _positive_int(who, "d", d)
        self.hidden = _positive_int(who, "hidden", hidden, minimum=0)
        self.eps = _finite(who, "eps", eps)
        init_scale = _finite(who, "init_scale", init_scale)
        if self.eps <= 0 or init_scale <= self.eps:
            raise ValueError(f"{who}: need 0 < eps < init_scale, got eps={eps!r}, init_scale={init_scale!r}")
        rows, cols = np.tril_indices(self.d)
        self._index = np.zeros((self.d, self.d), dtype=np.int64)  # L[i, j] = tril[_index[i, j]] for j ≤ i
        self._index[rows, cols] = np.arange(rows.size)
        self._mask = tc.tensor(np.tril(np.ones((self.d, self.d))), dtype=dtype)
        start = np.where(rows == cols, math.sqrt(init_scale - self.eps), 0.0)
        self.tril = nn.Parameter(tc.tensor(start, dtype=dtype))
        if self.hidden:
            self.mlp = nn.Sequential(nn.Linear(self.d, self.hidden, dtype=dtype), nn.Tanh(),
                                     nn.Linear(self.hidden, 1, dtype=dtype))
            with tc.no_grad():
                self.mlp[2].weight.zero_()
                self.mlp[2].bias.zero_()

    def factor(self) -> tc.Tensor:
        """L (d, d), lower triangular, built from the parameters (differentiable)."""
        return self.tril[self._index] * self._mask

    def matrix(self) -> np.ndarray:
        """A = L Lᵀ + εI as a numpy array (the Gaussian part)."""
        L = self.factor().detach().numpy()
        return L @ L.T + self.eps * np.eye(self.d)

    def forward(self, x: tc.Tensor) -> tc.Tensor:
        """log ψ of each row of x (B, d): −½ |Lᵀx|² − ½ ε |x|² [+ MLP(x)]."""
        _check_positions("GaussianAnsatz", x, self.d)  # one sample's shape inside vmap: (1, d)
        y = x @ self.factor()  # row b: (Lᵀ x_b)ᵀ
        out = -0.5 * (y * y).sum(1) - (0.5 * self.eps) * (x * x).sum(1)
        if self.hidden:
            out = out + self.mlp(x).sum(1)
        return out


class MetropolisGaussian:
    """Metropolis sampling of |ψ(x)|² in ℝ^d with proposals x′ = x + σ·N(0, I), n_chains chains at once.

    The chains persist between calls of `sample` (a VMC step starts where the last ended). During
    the burn-in (the n_discard steps of each call) σ is multiplied by exp(acceptance − target)
    after every step, so the acceptance settles near the target; the kept steps use a fixed σ,
    so they are exact Metropolis.
    """

    def __init__(self, d: int, n_chains: int = 1000, step_size: float = 0.5, target_acceptance: float = 0.5,
                 init_std: float = 1.0, rng: np.random.Generator | int | None = None) -> None:
        """Chains start at N(0, init_std²); rng: a np.random.Generator or a seed, drives the starts and the moves."""
        who = "MetropolisGaussian"
        self.d = _positive_int(who, "d", d)
        self.n_chains = _positive_int(who, "n_chains", n_chains)
        self.step_size = _finite(who, "step_size", step_size)
        self.target = _finite(who, "target_acceptance", target_acceptance)
        init_std = _finite(who, "init_std", init_std)
        if self.step_size <= 0 or init_std <= 0 or not 0 < self.target < 1:
            raise ValueError(f"{who}: need step_size > 0, init_std > 0 and 0 < target_acceptance < 1, got "
                             f"{step_size!r}, {init_std!r}, {target_acceptance!r}")
        self.rng = np.random.default_rng(rng)
        self.state = init_std * self.rng.standard_normal((self.n_chains, self.d))
        self.acceptance = float("nan")  # of the kept steps of the last call

    def sample(self, log_psi: Callable[[np.ndarray], np.ndarray], n_samples: int, n_discard: int = 20,
               thin: int = 1) -> tuple[np.ndarray, float]:
        """(samples (n_samples_per_chain, n_chains, d), acceptance of the kept steps) from |ψ|² ∝ exp(2 log_psi).

        log_psi: numpy (n, d) → (n,). n_samples is the total, rounded up to a multiple of
        n_chains; n_discard steps run first (σ adapted); then one sample per chain every `thin` steps.
        """
        who = "MetropolisGaussian.sample"
        n_samples = _positive_int(who, "n_samples", n_samples)
        n_discard = _positive_int(who, "n_discard", n_discard, minimum=0)
        thin = _positive_int(who, "thin", thin)
        per_chain = -(-n_samples // self.n_chains)
        current = self._log_psi(log_psi, self.state)
        samples = np.empty((per_chain, self.n_chains, self.d))
        accepted = 0
        for step in range(n_discard + per_chain * thin):
            proposal = self.state + self.step_size * self.rng.standard_normal(self.state.shape)
            new = self._log_psi(log_psi, proposal)
            accept = np.log(self.rng.random(self.n_chains)) < 2 * (new - current)  # u < |ψ(x′)/ψ(x)|²
            self.state = np.where(accept[:, None], proposal, self.state)
            current = np.where(accept, new, current)
            rate = float(accept.mean())
            if step < n_discard:
                self.step_size *= math.exp(rate - self.target)
            else:
                accepted += int(accept.sum())
                kept = step - n_discard + 1
                if kept % thin == 0:
                    samples[kept // thin - 1] = self.state
        self.acceptance = accepted / (per_chain * thin * self.n_chains)
        return samples, self.acceptance

    def _log_psi(self, log_psi: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
        values = np.asarray(log_psi(x), dtype=np.float64)
        if values.shape != (len(x),):
            raise ValueError(f"MetropolisGaussian: log_psi must map an {x.shape} array to shape ({len(x)},), "
                             f"got {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"MetropolisGaussian: log_psi returned non-finite values for "
                             f"{int((~np.isfinite(values)).sum())} of {len(values)} positions")
        return values


class ContinuousVMC:
    """Minimises E(θ) = 𝔼_{x~|ψ_θ|²}[E_loc(x)] for a model log ψ_θ: (B, d) → (B,) and a `CoupledOscillators`.

    Each step: n_samples positions from the sampler, E_loc, O = ∂ log ψ/∂θ per sample, then
    either SR (θ ← θ − lr·(S + λI)⁻¹F, the default, sr=SR(1e-4)) or, when `optimizer` (a
    tc.optim optimizer over model.parameters()) is given, p.grad = 2⟨(E_loc − ⟨E⟩) O⟩ and
    optimizer.step(). `timings` adds up the seconds of each phase (sample, local_energy,
    log_derivatives, update).
    """

    def __init__(self, model: nn.Module, hamiltonian: CoupledOscillators, sampler: MetropolisGaussian,
                 n_samples: int, sr: SR | None = None, lr: float = 0.1, optimizer: Any = None,
                 n_discard: int = 10, thin: int = 2) -> None:
        """n_discard, thin: passed to sampler.sample each step (the chains carry on between steps)."""
        who = "ContinuousVMC"
        d = getattr(model, "d", hamiltonian.d)
        if d != hamiltonian.d or sampler.d != hamiltonian.d:
            raise ValueError(f"{who}: the model has d={d}, the sampler {sampler.d} and the Hamiltonian "
                             f"{hamiltonian.d}; they must match")
        if sr is not None and optimizer is not None:
            raise ValueError(f"{who}: give either sr (stochastic reconfiguration) or optimizer (plain gradient), not both")
        if not list(model.parameters()):
            raise ValueError(f"{who}: the model has no parameters to optimise")
        self.model, self.hamiltonian, self.sampler = model, hamiltonian, sampler
        self.optimizer = optimizer
        self.sr = SR(1e-4) if sr is None and optimizer is None else sr
        self.lr = _finite(who, "lr", lr)
        self.n_samples = _positive_int(who, "n_samples", n_samples)
        self.n_discard = _positive_int(who, "n_discard", n_discard, minimum=0)
        self.thin = _positive_int(who, "thin", thin)
        self.energy: Stats | None = None  # of the last step
        self.timings = {"sample": 0.0, "local_energy": 0.0, "log_derivatives": 0.0, "update": 0.0}

    def log_psi_numpy(self, x: np.ndarray) -> np.ndarray:
        """log ψ (n,) of positions (n, d) as numpy, no graph recorded (what the sampler calls)."""
        with tc.no_grad():
            return self.model(tc.tensor(np.asarray(x, dtype=np.float64))).numpy()

    def _sample(self, n_samples: int, n_discard: int) -> np.ndarray:
        start = time.perf_counter()
        samples, _ = self.sampler.sample(self.log_psi_numpy, n_samples, n_discard, self.thin)
        self.timings["sample"] += time.perf_counter() - start
        return samples

    def _local_energy(self, samples: np.ndarray) -> np.ndarray:
        start = time.perf_counter()
        e_loc = self.hamiltonian.local_energy(self.model, samples.reshape(-1, samples.shape[-1]))
        self.timings["local_energy"] += time.perf_counter() - start
        return e_loc

    def log_derivatives(self, x: np.ndarray) -> np.ndarray:
        """O (n, P): ∂ log ψ(x)/∂θ per sample, the parameters flattened in named_parameters order."""
        params = {name: p.detach() for name, p in self.model.named_parameters()}

        def log_psi_one(p: dict[str, tc.Tensor], xi: tc.Tensor) -> tc.Tensor:
            return func.functional_call(self.model, p, (xi.unsqueeze(0),)).sum()

        grads = func.vmap(func.grad(log_psi_one), in_dims=(None, 0))(params, tc.tensor(np.asarray(x, dtype=np.float64)))
        return np.concatenate([grads[n].numpy().reshape(len(x), -1) for n in params], axis=1)

    def step(self) -> Stats:
        """One optimisation step; returns the statistics of E_loc on this step's samples (before the update)."""
        samples = self._sample(self.n_samples, self.n_discard)
        e_loc = self._local_energy(samples)
        self.energy = statistics(e_loc.reshape(samples.shape[:2]))
        start = time.perf_counter()
        O = self.log_derivatives(samples.reshape(-1, samples.shape[-1]))
        self.timings["log_derivatives"] += time.perf_counter() - start
        start = time.perf_counter()
        params = list(self.model.parameters())
        if self.optimizer is None:
            delta = self.lr * self.sr(O, e_loc)
        else:  # ∇E = 2⟨(E_loc − ⟨E⟩)(O − ⟨O⟩)⟩ (real ψ)
            gradient = 2 * (e_loc - e_loc.mean()) @ (O - O.mean(axis=0)) / len(e_loc)
        offset = 0
        for p in params:
            size = p.numel()
            if self.optimizer is None:
                with tc.no_grad():
                    p.sub_(tc.tensor(delta[offset:offset + size].reshape(p.shape).astype(p.dtype)))
            else:
                p.grad = tc.tensor(gradient[offset:offset + size].reshape(p.shape).astype(p.dtype))
            offset += size
        if self.optimizer is not None:
            self.optimizer.step()
        self.timings["update"] += time.perf_counter() - start
        return self.energy

    def run(self, n_iter: int, callback: Callable[[int, Stats], Any] | None = None) -> list[Stats]:
        """n_iter steps; callback(step, energy) after each, and returning False stops the run. The energies."""
        history = []
        for k in range(_positive_int("ContinuousVMC.run", "n_iter", n_iter, minimum=0)):
            history.append(self.step())
            if callback is not None and callback(k, history[-1]) is False:
                break
        return history

    def burn_in(self, n_steps: int = 100) -> float:
        """n_steps Metropolis steps thrown away (σ adapted), e.g. before the first step; the step size σ after them."""
        self._sample(self.sampler.n_chains, _positive_int("ContinuousVMC.burn_in", "n_steps", n_steps, minimum=0))
        return self.sampler.step_size

    def estimate(self, n_samples: int, n_discard: int | None = None) -> Stats:
        """The energy of the current ψ on n_samples fresh samples, no update."""
        samples = self._sample(n_samples, self.n_discard if n_discard is None else n_discard)
        return statistics(self._local_energy(samples).reshape(samples.shape[:2]))
