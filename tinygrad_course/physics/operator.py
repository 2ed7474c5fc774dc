"""Spin Hamiltonians on a lattice: the transverse-field Ising, XXZ Heisenberg and J1–J2 models.

Each is a sum of three kinds of term, with Pauli matrices σ (not S = σ/2, as in NetKet):

    H = Σ_⟨ij⟩ Z_ij σᶻᵢσᶻⱼ  +  X Σᵢ σˣᵢ  +  Σ_⟨ij⟩ E_ij (σˣᵢσˣⱼ + σʸᵢσʸⱼ)

σᶻσᶻ is diagonal; σˣᵢ flips spin i (matrix element X); σˣσˣ + σʸσʸ = 2(σ⁺σ⁻ + σ⁻σ⁺) swaps an
anti-aligned pair (matrix element 2E) and gives 0 on an aligned one. So a row of H, the states
s' connected to s and the elements H_{s s'} (`get_conn`), is s itself plus at most one state per
site and one per bond; that is all variational Monte Carlo needs (`local_energy`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tinygrad_course.physics.graph import Lattice
from tinygrad_course.physics.hilbert import Spin

__all__ = ["Heisenberg", "Ising", "J1J2", "SpinHamiltonian"]

MAX_DENSE = 14  # a 2¹⁴ × 2¹⁴ float64 matrix is 2 GB

LogPsi = Callable[[np.ndarray], np.ndarray]


class SpinHamiltonian:
    """H = Σ Z_ij σᶻᵢσᶻⱼ + X Σᵢ σˣᵢ + Σ E_ij (σˣᵢσˣⱼ + σʸᵢσʸⱼ) on the graph's bonds (the models are subclasses)."""

    def __init__(self, hilbert: Spin, graph: Lattice, zz: Sequence[tuple[Sequence[tuple[int, int]], float]] = (),
                 x: float = 0.0, exchange: Sequence[tuple[Sequence[tuple[int, int]], float]] = (),
                 name: str = "SpinHamiltonian") -> None:
        """zz and exchange: (edges, coefficient) groups, e.g. [(graph.edges(1), J1), (graph.edges(2), J2)]."""
        self.name = name
        if hilbert.size != graph.n_nodes:
            raise ValueError(f"{name}: the Hilbert space has {hilbert.size} sites but the graph {graph!r} has "
                             f"{graph.n_nodes} nodes; they must be the same lattice")
        if x != 0 and hilbert.constrained:
            raise ValueError(f"{name}: σˣ changes the total Sᶻ, so it cannot act on {hilbert!r}; drop total_sz")
        self.hilbert, self.graph, self.x = hilbert, graph, float(x)
        self._zz = _bonds(zz)
        self._ex = _bonds([(e, c) for e, c in exchange if c != 0])  # a zero bond would only pad get_conn
        self._diagonal: np.ndarray | None = None  # ⟨s|H|s⟩ over the full 2^N basis, for matvec

    @property
    def max_conn_size(self) -> int:
        """M: the number of rows get_conn returns per configuration (s itself, the flips, the swaps)."""
        return 1 + (self.hilbert.size if self.x != 0 else 0) + len(self._ex[2])

    def get_conn(self, configs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The states s' with H_{s s'} ≠ 0 for each s: (conns (B, M, N) int8, mels (B, M), mask (B, M) bool).

        Row 0 is s itself (the diagonal); entries where mask is False are padding (an aligned
        pair that cannot be swapped: their mels are 0 and their conns are not states of H's row).
        """
        s = self.hilbert.check(configs, f"{self.name}.get_conn")
        B, N = s.shape
        M = self.max_conn_size
        conns = np.repeat(s[:, None, :], M, axis=1)
        mels = np.zeros((B, M))
        mask = np.ones((B, M), dtype=bool)
        zi, zj, zc = self._zz
        mels[:, 0] = (s[:, zi] * s[:, zj]) @ zc  # int8 products: ±1 exactly
        row = 1
        if self.x != 0:
            sites = np.arange(N)
            conns[:, row + sites, sites] *= -1
            mels[:, row:row + N] = self.x
            row += N
        ei, ej, ec = self._ex
        rows = row + np.arange(len(ec))
        conns[:, rows, ei] *= -1
        conns[:, rows, ej] *= -1
        mask[:, rows] = s[:, ei] != s[:, ej]
        mels[:, rows] = np.where(mask[:, rows], 2 * ec, 0.0)
        return conns, mels, mask

    def local_energy(self, log_psi: LogPsi, configs: np.ndarray) -> np.ndarray:
        """E_loc(s) = Σ_{s'} H_{s s'} exp(log ψ(s') − log ψ(s)), (B,); log_psi maps (K, N) arrays to (K,)."""
        conns, mels, mask = self.get_conn(configs)
        # log ψ once per connected state that counts: row 0 (s itself) is always in the mask.
        values = np.asarray(log_psi(conns[mask]))
        if values.shape != (int(mask.sum()),):
            raise ValueError(f"{self.name}.local_energy: log_psi must map a ({int(mask.sum())}, {conns.shape[2]}) "
                             f"array to shape ({int(mask.sum())},), got {values.shape}")
        log_values = np.zeros(mask.shape, dtype=np.result_type(values.dtype, np.float64))
        log_values[mask] = values
        # Padding gets log-ratio −∞ (ratio 0) before exp, so it can never overflow.
        ratios = np.exp(np.where(mask, log_values - log_values[:, :1], -np.inf))
        return (mels * ratios).sum(axis=1)

    def to_dense(self) -> np.ndarray:
        """The matrix H_{s s'} in the basis of hilbert.all_states(), (n_states, n_states) float64, N ≤ 14."""
        if self.hilbert.size > MAX_DENSE:
            raise ValueError(f"{self.name}.to_dense: N ≤ {MAX_DENSE} (a 2^N × 2^N matrix), got N={self.hilbert.size}; "
                             "use matvec with lanczos_ground_energy")
        states = self.hilbert.all_states()
        conns, mels, mask = self.get_conn(states)
        rows = np.broadcast_to(np.arange(len(states))[:, None], mask.shape)[mask]
        H = np.zeros((len(states), len(states)))
        np.add.at(H, (rows, self.hilbert.states_to_numbers(conns[mask])), mels[mask])
        return H

    def matvec(self, v: np.ndarray) -> np.ndarray:
        """H v for a vector over hilbert.all_states(), without storing H (N ≤ 20).

        v is viewed as a tensor with one leg of size 2 per site (index ½(σ+1)): σˣᵢ swaps the
        two slices of leg i, and a swap of sites i, j moves the (0, 1) slice of legs i, j to
        (1, 0) and back. A constrained space is embedded in the full 2^N one and projected back.
        """
        h = self.hilbert
        v = np.asarray(v)
        if v.shape != (h.n_states,):
            raise ValueError(f"{self.name}.matvec: v must have shape ({h.n_states},) for {h!r}, got {v.shape}")
        N = h.size
        full = v
        if h.constrained:
            full = np.zeros(2**N, dtype=v.dtype)
            full[h.codes()] = v
        out = self._diagonal_full() * full
        if self.x != 0:
            for i in range(N):
                legs = full.reshape(2**i, 2, 2 ** (N - 1 - i))
                out.reshape(legs.shape)[...] += self.x * legs[:, ::-1, :]
        for i, j, c in zip(*self._ex):
            shape = (2**i, 2, 2 ** (j - i - 1), 2, 2 ** (N - 1 - j))
            legs, dst = full.reshape(shape), out.reshape(shape)
            dst[:, 0, :, 1, :] += 2 * c * legs[:, 1, :, 0, :]
            dst[:, 1, :, 0, :] += 2 * c * legs[:, 0, :, 1, :]
        return out[h.codes()] if h.constrained else out

    def __repr__(self) -> str:
        """Ising(Spin(N=8), Chain(8, pbc=True))-style."""
        return f"{self.name}({self.hilbert!r}, {self.graph!r})"

    def _diagonal_full(self) -> np.ndarray:
        if self._diagonal is None:
            self.hilbert._check_enumerable("matvec")
            N = self.hilbert.size
            codes = np.arange(2**N, dtype=np.int64)
            diagonal = np.zeros(2**N)
            for i, j, c in zip(*self._zz):
                # σᵢσⱼ = +1 when the bits of sites i and j agree, −1 otherwise
                differ = ((codes >> (N - 1 - i)) ^ (codes >> (N - 1 - j))) & 1
                diagonal += c * (1 - 2 * differ)
            self._diagonal = diagonal
        return self._diagonal


class Ising(SpinHamiltonian):
    """Transverse-field Ising: H = −J Σ_⟨ij⟩ σᶻᵢσᶻⱼ − h Σᵢ σˣᵢ (ferromagnetic for J > 0).

    NetKet's `Ising` writes +J Σ σᶻσᶻ; on a bipartite lattice both signs have the same spectrum.
    """

    def __init__(self, hilbert: Spin, graph: Lattice, h: float, J: float = 1.0) -> None:
        """h: the transverse field; J: the coupling on graph.edges(1)."""
        super().__init__(hilbert, graph, zz=[(graph.edges(1), -J)], x=-h, name="Ising")
        self.h, self.J = float(h), float(J)


class Heisenberg(SpinHamiltonian):
    """XXZ model: H = J Σ_⟨ij⟩ (σˣᵢσˣⱼ + σʸᵢσʸⱼ + Δ σᶻᵢσᶻⱼ) (antiferromagnetic for J > 0).

    No Marshall sign rotation (NetKet applies one by default on bipartite lattices): the
    off-diagonal elements are +2J, so for J > 0 on a bipartite lattice the ground state has
    Marshall's signs, (−1)^(number of up spins on one sublattice).
    """

    def __init__(self, hilbert: Spin, graph: Lattice, J: float = 1.0, delta: float = 1.0) -> None:
        """J: the coupling on graph.edges(1); delta: the anisotropy Δ (1: isotropic)."""
        edges = graph.edges(1)
        super().__init__(hilbert, graph, zz=[(edges, J * delta)], exchange=[(edges, J)], name="Heisenberg")
        self.J, self.delta = float(J), float(delta)


class J1J2(SpinHamiltonian):
    """H = J1 Σ_⟨ij⟩ σᵢ·σⱼ + J2 Σ_⟨⟨ij⟩⟩ σᵢ·σⱼ: Heisenberg bonds to nearest and next-nearest neighbours."""

    def __init__(self, hilbert: Spin, graph: Lattice, J1: float, J2: float) -> None:
        """J1 on graph.edges(1), J2 on graph.edges(2) (the diagonals of a square lattice)."""
        groups = [(graph.edges(1), J1), (graph.edges(2), J2)]
        super().__init__(hilbert, graph, zz=groups, exchange=groups, name="J1J2")
        self.J1, self.J2 = float(J1), float(J2)


def _bonds(groups: Sequence[tuple[Sequence[tuple[int, int]], float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, coefficient) arrays with i < j, from (edges, coefficient) groups."""
    pairs = [(min(a, b), max(a, b), float(c)) for edges, c in groups for a, b in edges]
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
    i, j, c = zip(*pairs)
    return np.array(i, dtype=np.int64), np.array(j, dtype=np.int64), np.array(c)
