"""The Hilbert space of N spins ½ (NetKet's `nk.hilbert.Spin(s=1/2, N, total_sz)`).

A basis state is a configuration σ = (σ₁ … σ_N) of σᶻ eigenvalues ±1, stored as int8.
States are numbered as binary numbers with site 0 the most significant digit and
σ = −1 → 0, σ = +1 → 1 (NetKet's order): number(σ) = Σᵢ ½(σᵢ + 1)·2^(N−1−i).
With `total_sz` = ½ Σᵢ σᵢ fixed, the basis is the allowed states in that order, numbered 0, 1, ….
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Spin"]

MAX_ENUMERATION = 20  # 2²⁰ states × 20 sites of int8 = 20 MB; more does not fit a lesson's laptop


class Spin:
    """N spins ½; configurations σ ∈ {−1, +1}^N with, if given, ½ Σᵢ σᵢ = total_sz."""

    def __init__(self, N: int, total_sz: float | None = None) -> None:
        """N ≥ 1 sites; total_sz (an integer or half-integer with |total_sz| ≤ N/2) fixes the magnetisation."""
        if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
            raise ValueError(f"Spin: N must be a positive integer, got {N!r}")
        self.size = int(N)
        self.total_sz = None if total_sz is None else float(total_sz)
        if total_sz is not None:
            n_up = N / 2 + float(total_sz)  # σ = +1 count: ½(n_up − n_down) = total_sz
            if n_up != int(n_up) or not 0 <= n_up <= N:
                raise ValueError(f"Spin: total_sz={total_sz!r} is impossible for N={N} spins ½ "
                                 f"(allowed: −N/2, −N/2 + 1, …, N/2)")
            self.n_up: int | None = int(n_up)
        else:
            self.n_up = None
        self._codes: np.ndarray | None = None  # the basis' unconstrained numbers, built on first use

    @property
    def constrained(self) -> bool:
        """Whether total_sz is fixed."""
        return self.n_up is not None

    @property
    def n_states(self) -> int:
        """The dimension: 2^N, or C(N, n_up) with total_sz fixed."""
        return 2**self.size if self.n_up is None else math.comb(self.size, self.n_up)

    def codes(self) -> np.ndarray:
        """The unconstrained numbers of the basis states, ascending (int64, n_states)."""
        if self._codes is None:
            self._check_enumerable("codes")
            codes = np.arange(2**self.size, dtype=np.int64)
            if self.n_up is not None:
                ups = np.zeros(len(codes), dtype=np.int64)
                for i in range(self.size):  # popcount, one bit at a time (numpy < 2 has no bit_count)
                    ups += (codes >> i) & 1
                codes = codes[ups == self.n_up]
            self._codes = codes
        return self._codes

    def all_states(self) -> np.ndarray:
        """Every basis state, (n_states, N) int8 of ±1, in the order of their numbers (N ≤ 20)."""
        return self._codes_to_states(self.codes())

    def states_to_numbers(self, states: np.ndarray) -> np.ndarray:
        """The index of each state in all_states(): Σᵢ ½(σᵢ + 1)·2^(N−1−i), ranked within the sector if constrained."""
        states = self.check(states, "Spin.states_to_numbers")
        if self.size > 62:  # the numbers are int64
            raise ValueError(f"Spin.states_to_numbers: numbers fit int64 for N ≤ 62, got N={self.size}")
        codes = self._states_to_codes(states)
        if self.n_up is None:
            return codes
        basis = self.codes()
        numbers = np.searchsorted(basis, codes)
        outside = (numbers >= len(basis)) | (basis[np.minimum(numbers, len(basis) - 1)] != codes)
        if outside.any():
            raise ValueError(f"Spin.states_to_numbers: {int(outside.sum())} state(s) have total Sᶻ ≠ "
                             f"{self.total_sz} (e.g. {states[np.argmax(outside)].tolist()})")
        return numbers

    def numbers_to_states(self, numbers: np.ndarray) -> np.ndarray:
        """The states with these indices in all_states(), (…, N) int8."""
        numbers = np.asarray(numbers, dtype=np.int64)
        if numbers.size and (numbers.min() < 0 or numbers.max() >= self.n_states):
            raise ValueError(f"Spin.numbers_to_states: numbers must lie in [0, {self.n_states}), "
                             f"got {numbers.min()} … {numbers.max()}")
        codes = numbers if self.n_up is None else self.codes()[numbers]
        return self._codes_to_states(codes)

    def random_state(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n states drawn uniformly from the basis (respecting total_sz), (n, N) int8."""
        if self.n_up is None:
            return rng.choice(np.array([-1, 1], dtype=np.int8), size=(n, self.size))
        # A random permutation per row puts the n_up up-spins on uniformly random sites.
        ranks = np.argsort(rng.random((n, self.size)), axis=1)
        return np.where(ranks < self.n_up, 1, -1).astype(np.int8)

    def check(self, configs: np.ndarray, who: str) -> np.ndarray:
        """configs as a (B, N) int8 array of ±1, or a ValueError naming `who` and the shape expected."""
        configs = np.asarray(configs)
        if configs.ndim != 2 or configs.shape[1] != self.size:
            raise ValueError(f"{who}: configurations must have shape (B, {self.size}) for {self!r}, "
                             f"got {configs.shape}")
        if configs.size and not np.all(np.abs(configs) == 1):
            raise ValueError(f"{who}: spin configurations hold σᶻ eigenvalues ±1, got values "
                             f"{np.unique(configs)[:6].tolist()}")
        return configs.astype(np.int8, copy=False)

    def __repr__(self) -> str:
        """Spin(N=8) or Spin(N=8, total_sz=0.0)."""
        sz = "" if self.total_sz is None else f", total_sz={self.total_sz}"
        return f"Spin(N={self.size}{sz})"

    def _check_enumerable(self, who: str) -> None:
        if self.size > MAX_ENUMERATION:
            raise ValueError(f"Spin.{who}: enumerating the basis needs N ≤ {MAX_ENUMERATION}, got N={self.size}")

    def _codes_to_states(self, codes: np.ndarray) -> np.ndarray:
        shifts = self.size - 1 - np.arange(self.size)
        return (((codes[..., None] >> shifts) & 1) * 2 - 1).astype(np.int8)

    def _states_to_codes(self, states: np.ndarray) -> np.ndarray:
        bits = (states > 0).astype(np.int64)
        return bits @ (np.int64(1) << (self.size - 1 - np.arange(self.size, dtype=np.int64)))
