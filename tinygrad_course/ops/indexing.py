"""Index arithmetic for the indexing ops (gather, scatter, diagonal, tensor_split, …), on numpy only.

The ops themselves are compositions of the movement primitives (GetItem, IndexAdd, SetItem,
Cat, Permute, …), whose gradients are each other's adjoints: gather is a GetItem, scatter_add
an IndexAdd, scatter a SetItem. What is left is working out *which* elements they move: the
helpers here turn PyTorch's arguments (a dim, an index tensor, an offset) into numpy index
tuples, checking them and naming the op, the shapes and the dims when they are wrong.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class IndexOutOfRange(IndexError, RuntimeError):  # noqa: N818 - PyTorch raises either, depending on the op
    """An index outside its dim (an IndexError, and a RuntimeError as PyTorch's gather raises)."""


def as_index(index: Any, name: str, what: str = "index") -> np.ndarray:
    """An integer index (Tensor, array, list or int) as an int64 numpy array, or a clear TypeError."""
    arr = index._array if hasattr(index, "_array") else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be an integer tensor (int64), got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def check_bounds(idx: np.ndarray, size: int, name: str, dim: int, shape: tuple[int, ...], negative: bool = False) -> np.ndarray:
    """idx checked against a dim of `size` (negative entries wrap when `negative`); returns it non-negative."""
    low = -size if negative else 0
    bad = (idx < low) | (idx >= size)
    if bad.any():
        raise IndexOutOfRange(
            f"{name}: index {int(idx[bad].flat[0])} is out of bounds for dim {dim} with size {size} (shape {shape})"
        )
    return np.where(idx < 0, idx + size, idx) if negative else idx


def along_dim(shape: tuple[int, ...], idx: np.ndarray, dim: int, name: str, other: tuple[int, ...] | None = None) -> tuple[np.ndarray, ...]:
    """The numpy index of gather/scatter: element p of idx addresses p with its dim `dim` replaced by idx[p].

    `shape` is the tensor indexed; `other` (scatter's src) must also be at least idx's size.
    """
    if not shape:
        raise RuntimeError(f"{name}: needs a tensor with at least 1 dim, got shape (); reshape it to (1,) first")
    if idx.ndim != len(shape):
        raise RuntimeError(f"{name}: index of shape {idx.shape} must have as many dims as the tensor of shape {shape}")
    for d, n in enumerate(idx.shape):
        if d != dim and n > shape[d]:
            raise RuntimeError(
                f"{name}: index of shape {idx.shape} is larger than the tensor of shape {shape} in dim {d} (only dim {dim} may differ)"
            )
        if other is not None and n > other[d]:
            raise RuntimeError(f"{name}: index of shape {idx.shape} is larger than src of shape {other} in dim {d}")
    grid = list(np.indices(idx.shape, sparse=True))
    grid[dim] = check_bounds(idx, shape[dim], name, dim, shape)
    return tuple(grid)


def prefix_of(shape: tuple[int, ...]) -> tuple[slice, ...]:
    """The index selecting the leading `shape` block of a larger array (scatter's src beyond index is unused)."""
    return tuple(slice(0, n) for n in shape)


def groups(targets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Contributions grouped by target: (table, counts).

    table[t, r] is the position (in `targets`) of the r-th contribution to target t, padded with
    len(targets) (the position of a fill value appended after them); counts[t] is how many.
    """
    counts = np.bincount(targets, minlength=n)
    order = np.argsort(targets, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ranks = np.arange(len(targets)) - starts[targets[order]]
    table = np.full((n, int(counts.max(initial=0))), len(targets), dtype=np.int64)
    table[targets[order], ranks] = order
    return table, counts


def diagonal_index(n1: int, n2: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the diagonal `offset` of an n1 × n2 matrix (offset > 0: above the main one)."""
    length = max(min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2), 0)
    k = np.arange(length)
    return (k, k + offset) if offset >= 0 else (k - offset, k)


def split_bounds(n: int, indices_or_sections: Any, name: str) -> list[tuple[int, int]]:
    """tensor_split's pieces of a dim of size n: (start, stop) pairs."""
    if isinstance(indices_or_sections, (int, np.integer)):
        s = int(indices_or_sections)
        if s <= 0:
            raise RuntimeError(f"{name}: number of sections must be larger than 0, got {s}")
        sizes = [n // s + (1 if k < n % s else 0) for k in range(s)]
        stops = np.cumsum(sizes)
        return [(int(e - z), int(e)) for e, z in zip(stops, sizes)]
    cuts = [int(i) for i in indices_or_sections]
    bounds = [slice(a, b).indices(n)[:2] for a, b in zip([0, *cuts], [*cuts, n])]
    return [(a, max(a, b)) for a, b in bounds]


def movedim_order(ndim: int, source: tuple[int, ...], destination: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation of movedim: dims `source` go to positions `destination`, the others keep their order."""
    order = [-1] * ndim
    for s, d in zip(source, destination):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in source)
    return tuple(o if o >= 0 else next(rest) for o in order)


def bound_indices(rows: np.ndarray, values: np.ndarray, right: bool, sorter: np.ndarray | None = None) -> np.ndarray:
    """searchsorted's answer: for each row of `rows` (R, M) and each of its `values` (R, K), where the value goes.

    PyTorch's CPU binary search, replayed on all values at once (mid = start + (end − start) // 2):
    the first position whose element is ≥ the value (> for `right`), probing only where the search
    leads. So the answer is PyTorch's for any input: a NaN value goes to the end, and an unsorted
    row (which neither checks) gives the same positions. `sorter` (R, M) reads row r as rows[r, sorter[r]].
    """
    r, m = rows.shape
    start = np.zeros(values.shape, dtype=np.int64)
    end = np.full(values.shape, m, dtype=np.int64)
    row = np.arange(r)[:, None]
    while True:
        active = start < end
        if not active.any():
            return start
        mid = start + ((end - start) >> 1)
        probe = np.minimum(mid, m - 1)  # (the finished values' mid may be m)
        element = rows[row, probe if sorter is None else sorter[row, probe]]
        onward = ~(element > values) if right else ~(element >= values)
        start = np.where(active & onward, mid + 1, start)
        end = np.where(active & ~onward, mid, end)
