"""Lattices: which sites a Hamiltonian couples (NetKet's `nk.graph.Chain` and `nk.graph.Square`).

A lattice is a set of sites with positions; `edges(order=k)` lists the pairs at the k-th
smallest distance (order 1: nearest neighbours, order 2: next-nearest, the J2 bonds of the
J1–J2 model). With periodic boundaries, distances are taken to the nearest periodic image.
Each edge appears once, as (i, j) with i < j, even on a lattice so small that a pair is
neighbours "both ways round" (a periodic chain of 2 sites has one bond, not two).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Chain", "Lattice", "Square"]


class Lattice:
    """Sites at integer positions in a box of side `extent`; edges of order k: pairs at the k-th distance d_k."""

    def __init__(self, positions: np.ndarray, extent: np.ndarray, pbc: bool, name: str) -> None:
        """positions (n_nodes, d); extent (d,), the box, used for the periodic images when pbc."""
        self.positions = np.asarray(positions, dtype=np.float64)
        self.extent = np.asarray(extent, dtype=np.float64)
        self.pbc = bool(pbc)
        self.name = name
        delta = self.positions[:, None, :] - self.positions[None, :, :]
        if self.pbc:  # minimum-image convention: the nearest periodic copy of each site
            delta -= self.extent * np.round(delta / self.extent)
        # Rounded so that √2 computed twice counts as one distance.
        self._distances = np.round(np.sqrt((delta**2).sum(-1)), 9)
        self._shells = np.unique(self._distances[self._distances > 0])

    @property
    def n_nodes(self) -> int:
        """The number of sites."""
        return len(self.positions)

    def edges(self, order: int = 1) -> list[tuple[int, int]]:
        """The pairs (i, j), i < j, at the order-th smallest distance: order 1 = nearest neighbours."""
        if not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"{self.name}.edges: order must be an integer ≥ 1, got {order!r}")
        if order > len(self._shells):
            raise ValueError(f"{self.name}.edges: order {order} asked, but {self!r} has only "
                             f"{len(self._shells)} distinct neighbour distance(s)")
        i, j = np.nonzero(np.triu(self._distances == self._shells[order - 1], k=1))
        return [(int(a), int(b)) for a, b in zip(i, j)]

    def __repr__(self) -> str:
        """Chain(8, pbc=True)-style."""
        return f"{self.name}({int(self.extent[0])}, pbc={self.pbc})"


class Chain(Lattice):
    """A chain of N sites 0 … N−1; with pbc the bond (N−1, 0) closes the ring."""

    def __init__(self, N: int, pbc: bool = True) -> None:
        """N ≥ 2 sites."""
        _check_length(N, "Chain", "N")
        super().__init__(np.arange(N, dtype=np.float64)[:, None], np.array([N]), pbc, "Chain")


class Square(Lattice):
    """An L × L square lattice, site index = L·row + column; order 2 edges are the diagonals."""

    def __init__(self, L: int, pbc: bool = True) -> None:
        """L ≥ 2 sites per side."""
        _check_length(L, "Square", "L")
        rows, cols = np.divmod(np.arange(L * L), L)
        super().__init__(np.stack([rows, cols], axis=1), np.array([L, L]), pbc, "Square")


def _check_length(n: object, who: str, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"{who}: {what} must be an integer ≥ 2 (a lattice needs at least one bond), got {n!r}")
