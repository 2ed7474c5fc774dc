"""Markov-chain Monte Carlo samplers of |ψ(s)|² (NetKet's `MetropolisLocal`, `MetropolisExchange`).

Metropolis–Hastings with a symmetric proposal s → s′: accept with probability
min(1, |ψ(s′)/ψ(s)|²) = min(1, exp(2 Re(log ψ(s′) − log ψ(s)))), so the normalisation of ψ
is never needed. All chains move at once: one call of log_psi per step on an (n_chains, N)
array. The chains' states persist between calls to `sample` (a VMC step starts where the last
one ended, so little needs to be discarded).
"""

from __future__ import annotations

import cmath
from collections.abc import Callable

import numpy as np

from tinygrad_course.physics.graph import Lattice
from tinygrad_course.physics.hilbert import Spin

__all__ = ["MetropolisExchange", "MetropolisLocal", "MetropolisSampler"]

LogPsi = Callable[[np.ndarray], np.ndarray]


class MetropolisSampler:
    """Metropolis–Hastings on n_chains chains at once; subclasses give the proposal."""

    def __init__(self, hilbert: Spin, n_chains: int = 16, rng: np.random.Generator | int | None = None) -> None:
        """rng: an np.random.Generator (or a seed) that drives everything: the initial states and the moves."""
        if isinstance(n_chains, bool) or not isinstance(n_chains, (int, np.integer)) or n_chains < 1:
            raise ValueError(f"{type(self).__name__}: n_chains must be a positive integer, got {n_chains!r}")
        self.hilbert, self.n_chains = hilbert, int(n_chains)
        self.rng = np.random.default_rng(rng)
        self.state = hilbert.random_state(self.n_chains, self.rng)  # (n_chains, N), the chains' current states
        self.acceptance = float("nan")
        self._arange = np.arange(self.n_chains)

    def propose(self, state: np.ndarray) -> np.ndarray:
        """A new configuration per chain, drawn from a symmetric proposal T(s → s′) = T(s′ → s)."""
        raise NotImplementedError

    def _rows(self, n: int) -> np.ndarray:
        """np.arange(n), kept between the calls of propose (made N times per sweep)."""
        return self._arange if len(self._arange) == n else np.arange(n)

    def sample(self, log_psi: LogPsi, n_samples: int, n_discard: int = 0,
               sweep_size: int | None = None) -> tuple[np.ndarray, float]:
        """(samples (n_samples_per_chain, n_chains, N) int8, acceptance rate) from |ψ|² ∝ exp(2 Re log_psi).

        n_samples is the total, rounded up to a multiple of n_chains (as NetKet); n_discard sweeps
        are run first and thrown away (thermalisation); a sweep is sweep_size (default N)
        proposals per chain, and one sample per chain is kept after each sweep.
        """
        name = type(self).__name__
        if n_samples < 1 or n_discard < 0:
            raise ValueError(f"{name}.sample: need n_samples ≥ 1 and n_discard ≥ 0, got {n_samples}, {n_discard}")
        per_chain = -(-int(n_samples) // self.n_chains)
        sweep = self.hilbert.size if sweep_size is None else int(sweep_size)
        if sweep < 1:
            raise ValueError(f"{name}.sample: sweep_size must be ≥ 1, got {sweep_size}")
        current = self._log_psi(log_psi, self.state)
        samples = np.empty((per_chain, self.n_chains, self.hilbert.size), dtype=np.int8)
        accepted = 0
        for k in range(n_discard + per_chain):
            for _ in range(sweep):
                proposal = self.propose(self.state)
                new = self._log_psi(log_psi, proposal)
                # log u < 2 Re Δ log ψ  ⇔  u < |ψ(s′)/ψ(s)|², without overflowing exp
                change = new - current
                if change.dtype.kind == "c":
                    change = change.real
                accept = np.log(self.rng.random(self.n_chains)) < 2 * change
                self.state = np.where(accept[:, None], proposal, self.state)
                current = np.where(accept, new, current)
                accepted += np.count_nonzero(accept)
            if k >= n_discard:
                samples[k - n_discard] = self.state
        self.acceptance = accepted / ((n_discard + per_chain) * sweep * self.n_chains)
        return samples, self.acceptance

    def _log_psi(self, log_psi: LogPsi, configs: np.ndarray) -> np.ndarray:
        values = np.asarray(log_psi(configs))
        # The usual case, checked by one sum (finite only if every term is; a finite sum that
        # overflows goes to the full check below): the sampler calls this N times per sweep.
        if values.shape == (len(configs),) and cmath.isfinite(np.add.reduce(values)):
            return values
        name = type(self).__name__
        if values.shape != (len(configs),):
            raise ValueError(f"{name}: log_psi must map an {configs.shape} array to shape ({len(configs)},), "
                             f"got {values.shape}")
        bad = ~np.isfinite(values)
        if not bad.any():
            return values
        raise ValueError(f"{name}: log_psi returned {values[bad][0]} for {int(bad.sum())} of {len(values)} "
                         f"configurations (e.g. {configs[np.argmax(bad)].tolist()}); |ψ|² must be finite "
                         "and nonzero on every state the chains visit")

    def __repr__(self) -> str:
        """MetropolisLocal(Spin(N=8), n_chains=16)-style."""
        return f"{type(self).__name__}({self.hilbert!r}, n_chains={self.n_chains})"


class MetropolisLocal(MetropolisSampler):
    """Flip one uniformly random spin per chain: s′ = s with σᵢ → −σᵢ (changes the total Sᶻ)."""

    def __init__(self, hilbert: Spin, n_chains: int = 16, rng: np.random.Generator | int | None = None) -> None:
        """hilbert must not fix total_sz (a flip would leave the sector)."""
        if hilbert.constrained:
            raise ValueError(f"MetropolisLocal: a single flip changes the total Sᶻ fixed by {hilbert!r}; "
                             "use MetropolisExchange")
        super().__init__(hilbert, n_chains, rng)

    def propose(self, state: np.ndarray) -> np.ndarray:
        """σᵢ → −σᵢ at one random site per chain."""
        proposal = state.copy()
        sites = self.rng.integers(0, self.hilbert.size, size=len(state))
        proposal[self._rows(len(state)), sites] *= -1
        return proposal


class MetropolisExchange(MetropolisSampler):
    """Swap the spins at the ends of a uniformly random edge of the graph: keeps the total Sᶻ.

    On an aligned pair the swap changes nothing (the move is rejected in effect); choosing
    among the anti-aligned pairs only would make the proposal asymmetric (their number differs
    between s and s′) and break detailed balance.
    """

    def __init__(self, hilbert: Spin, graph: Lattice, n_chains: int = 16,
                 rng: np.random.Generator | int | None = None) -> None:
        """graph: whose nearest-neighbour edges (order 1) are the pairs that may be swapped."""
        if graph.n_nodes != hilbert.size:
            raise ValueError(f"MetropolisExchange: the Hilbert space has {hilbert.size} sites but the graph "
                             f"{graph!r} has {graph.n_nodes} nodes")
        self.graph = graph
        self._edges = np.array(graph.edges(1), dtype=np.int64)
        super().__init__(hilbert, n_chains, rng)

    def propose(self, state: np.ndarray) -> np.ndarray:
        """σᵢ ↔ σⱼ on one random edge (i, j) per chain."""
        proposal = state.copy()
        chains = self._rows(len(state))
        i, j = self._edges[self.rng.integers(0, len(self._edges), size=len(state))].T
        proposal[chains, i], proposal[chains, j] = state[chains, j], state[chains, i]
        return proposal
