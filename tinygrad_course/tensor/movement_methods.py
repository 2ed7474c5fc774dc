"""Movement methods of `Tensor` (reshape, permute, expand, indexing, …) and `cat`, `stack`, `pad`.

A mixin: `Tensor` inherits these. Each calls one movement primitive (ops/movement.py) or is a
short composition of them.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.autograd.function import explain_broadcast
from tinygrad_course.ops.indexing import (
    along_dim,
    as_index,
    bound_indices,
    check_bounds,
    diagonal_index,
    groups,
    movedim_order,
    prefix_of,
    split_bounds,
)
from tinygrad_course.ops.movement import Cat, Expand, Flip, GetItem, IndexAdd, Pad, Permute, Reshape, SetItem
from tinygrad_course.tensor.promotion import result_type

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor

Dim = int | Sequence[int] | None


class MovementMethods:
    """reshape, view, permute, transpose, t, squeeze, unsqueeze, expand, flatten, flip, repeat,
    split, chunk, indexing."""

    __slots__ = ()

    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape (one dim may be −1, inferred)."""
        shape = shape_arg(shape)
        try:
            out_shape = _infer_shape(self.shape, shape)
        except ValueError as err:
            raise ValueError(f"reshape: {err}") from None
        if out_shape == self.shape:
            return self
        return Reshape.apply(self, shape=out_shape)

    view = reshape

    def permute(self, *dims: Any) -> Tensor:
        """Dimensions reordered: output dim i is input dim dims[i]."""
        dims = shape_arg(dims)
        if len(dims) != self.ndim:
            raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor of shape {self.shape}; give one per dim")
        axes = tuple(self._dim(d, "permute") for d in dims)
        if len(set(axes)) != len(axes):
            raise ValueError(f"permute: dims {dims} repeat a dimension")
        return Permute.apply(self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dimensions dim0 and dim1 swapped."""
        if self.ndim < 2:
            self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
            return self
        axes = list(range(self.ndim))
        a, b = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return Permute.apply(self, axes=tuple(axes))

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Dimensions axis0 and axis1 swapped: `transpose` under numpy's name (PyTorch has both)."""
        return self.transpose(axis0, axis1)

    def t(self) -> Tensor:
        """Transpose of a ≤ 2-D tensor."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with ≤ 2 dims, got shape {self.shape}; use transpose(d0, d1)")
        return self.T

    def squeeze(self, dim: Dim = None) -> Tensor:
        """Size-1 dims removed (only `dim` if given; a dim that is not 1 is left unchanged)."""
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = self._dims(dim, None, "squeeze") or ()
            shape = tuple(n for d, n in enumerate(self.shape) if not (d in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """A size-1 dim inserted at position `dim` (−1 appends)."""
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor of shape {self.shape} (accepted: {-nd} to {nd - 1})")
        d = dim % nd
        return Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view with size-1 dims repeated to `sizes` (−1 keeps a dim)."""
        sizes = shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: the number of sizes {sizes} must be ≥ the number of dims of shape {self.shape}")
        target = []
        for k, n in enumerate(sizes):
            own = self.shape[k - lead] if k >= lead else None
            if n == -1:
                if own is None:
                    raise ValueError(f"expand: -1 is not allowed for the new leading dim {k} in {sizes}")
                n = own
            if own is not None and own != 1 and own != n:
                raise ValueError(
                    f"expand: the size of dim {k - lead} of shape {self.shape} is {own}, which can "
                    f"only be expanded to {sizes} if it is 1 or equal"
                )
            target.append(n)
        target_t = tuple(target)
        return self if target_t == self.shape else Expand.apply(self, shape=target_t)

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to other's shape."""
        return self.reshape(other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to other's shape."""
        return self.reshape(other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """Expanded to other's shape."""
        return self.expand(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims start_dim..end_dim merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (int(np.prod(self.shape[s : e + 1], dtype=np.int64)),) + self.shape[e + 1 :]
        return self.reshape(shape)

    def flip(self, dims: Any) -> Tensor:
        """Elements reversed along `dims`."""
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        axes = tuple(self._dim(d, "flip") for d in dims)
        if self.ndim == 0:  # a 0-d tensor has nothing to reverse (PyTorch accepts dim 0 or -1)
            return self.clone()
        return Flip.apply(self, axes=axes) if axes else self

    def repeat(self, *sizes: Any) -> Tensor:
        """Tiled `sizes[i]` times along each dim (PyTorch's repeat = numpy's tile)."""
        sizes = shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat: number of repeat dims {len(sizes)} can not be smaller than the number "
                f"of dims of shape {self.shape}"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        x = self.reshape(shape)
        # Interleave a size-1 dim before each dim, expand it to the repeat count, merge.
        inter = tuple(v for n in shape for v in (1, n))
        big = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
        return x.reshape(inter).expand(big).reshape(tuple(r * n for r, n in zip(sizes, shape)))

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along `dim`: of size `split_size` (the last may be smaller), or of the listed sizes."""
        d = self._dim(dim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be a positive int, got {step}")
            sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(
                    f"split: sizes {sizes} must be non-negative and sum to {n}, the size of dim {d} of shape {self.shape}"
                )
        out, start = [], 0
        for s in sizes:
            index = (slice(None),) * d + (slice(start, start + s),)
            out.append(self[index])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Up to `chunks` pieces of size ⌈n / chunks⌉ along `dim` (PyTorch's sizes)."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
        n = self.shape[self._dim(dim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    # ------------------------------------------------------------- gather / scatter family
    def gather(self, dim: int, index: Any, *, sparse_grad: bool = False) -> Tensor:
        """out[i][j] = self[index[i][j]][j] for dim 0 (the index replaces coordinate `dim`); ∂ = scatter-add of g."""
        d = self._dim(dim, "gather")
        return GetItem.apply(self, index=along_dim(self.shape, as_index(index, "gather"), d, "gather"))

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None, reduce: str | None = None) -> Tensor:
        """A copy of self with self[..., index[p], ...] = src[p] along `dim` (out of place `scatter_`).

        `src` is a Tensor or a number (or give `value=`); ``reduce="add"``/``"multiply"`` combine
        instead of overwrite (see `scatter_reduce`). ∂self = g with zeros where written, ∂src = g gathered.
        """
        name = "scatter"
        d = self._dim(dim, name)
        idx = as_index(index, name)
        if src is None or not isinstance(src, MovementMethods):
            value = src if src is not None else value
            if value is None:
                raise TypeError(f"{name}: give src (a Tensor) or value (a number)")
            src = self._make(np.full(idx.shape, value, dtype=self.dtype), None)
        self._same_dtype(src, name, "src")
        if reduce is not None:
            modes = {"add": "sum", "multiply": "prod"}
            if reduce not in modes:
                raise ValueError(f"{name}: reduce must be 'add' or 'multiply', got {reduce!r}")
            return self.scatter_reduce(d, idx, src, modes[reduce])
        where_ = along_dim(self.shape, idx, d, name, src.shape)
        return SetItem.apply(self, src[prefix_of(idx.shape)], index=where_)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """A copy of self with src[p] added at self[..., index[p], ...] along `dim` (repeats add up)."""
        d = self._dim(dim, "scatter_add")
        self._same_dtype(src, "scatter_add", "src")
        where_ = along_dim(self.shape, as_index(index, "scatter_add"), d, "scatter_add", src.shape)
        return self + IndexAdd.apply(src[prefix_of(where_[d].shape)], index=where_, shape=self.shape)

    def scatter_reduce(self, dim: int, index: Any, src: Tensor, reduce: str, *, include_self: bool = True) -> Tensor:
        """self with src[p] combined into self[..., index[p], ...] by `reduce`: "sum", "prod", "mean", "amax" or "amin".

        With include_self=False the old value of a position written to does not take part;
        positions no index names keep self's value. Built as a table of each position's
        contributions (padded with the reduction's identity) reduced along its rows, so the
        gradients are those of sum/prod/amax (ties share evenly)/amin.
        """
        name = "scatter_reduce"
        if reduce not in ("sum", "prod", "mean", "amax", "amin"):
            raise ValueError(f"{name}: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
        d = self._dim(dim, name)
        self._same_dtype(src, name, "src")
        where_ = along_dim(self.shape, as_index(index, name), d, name, src.shape)
        n = int(np.prod(self.shape, dtype=np.int64))
        targets = np.ravel_multi_index(np.broadcast_arrays(*where_), self.shape).reshape(-1)
        x = self.reshape(-1)
        vals = src[prefix_of(where_[d].shape)].reshape(-1)
        if include_self:
            vals, targets = cat([x, vals]), np.concatenate([np.arange(n), targets])
        table, counts = groups(targets, n)
        if table.shape[1] == 0:
            return self.clone()
        floating = self.dtype.kind == "f"
        low, high = (-np.inf, np.inf) if floating else (np.iinfo(self.dtype).min, np.iinfo(self.dtype).max)
        fill = {"sum": 0, "mean": 0, "prod": 1, "amax": low, "amin": high}[reduce]
        grouped = cat([vals, self._make(np.full(1, fill, dtype=self.dtype), None)])[table]
        if reduce == "mean":
            count = self._make(np.maximum(counts, 1).astype(self.dtype if floating else np.int64), None)
            out = grouped.sum(1) / count if floating else grouped.sum(1) // count
        else:
            out = getattr(grouped, "sum" if reduce == "sum" else reduce)(1)
        return out.to(self.dtype).where(counts > 0, x).reshape(self.shape)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices self.select(dim, i) for i in index (1-D), stacked along `dim`."""
        return GetItem.apply(self, index=self._along(dim, index, "index_select")[1])

    def index_add(self, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """A copy of self with alpha · source.select(dim, k) added to slice index[k] of `dim` (repeats add up)."""
        d, where_ = self._along(dim, index, "index_add", source)
        return self + IndexAdd.apply(source * alpha if alpha != 1 else source, index=where_, shape=self.shape)

    def index_copy(self, dim: int, index: Any, source: Tensor) -> Tensor:
        """A copy of self with slice index[k] of `dim` replaced by source.select(dim, k)."""
        d, where_ = self._along(dim, index, "index_copy", source)
        return SetItem.apply(self, source, index=where_)

    def select(self, dim: int, index: Any) -> Tensor:
        """The slice at `index` of dim (negative counts from the end), without that dim: self[..., index, ...]."""
        if self.ndim == 0:
            raise IndexError("select: cannot be applied to a 0-d tensor (it has no dim to select from)")
        d = self._dim(dim, "select")
        if isinstance(index, MovementMethods) and index.ndim == 0 and index.dtype.kind in "iu":
            index = int(index.item())
        if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"select: index must be an int, got {type(index).__name__}")
        n = self.shape[d]
        if not -n <= index < n:
            raise IndexError(f"select: index {index} is out of range for dim {d} of size {n} (shape {self.shape})")
        return self[(slice(None),) * d + (int(index) % n,)]

    def index_fill(self, dim: int, index: Any, value: Any) -> Tensor:
        """A copy of self with the slices index[k] of dim (negative counts from the end) set to value: a number,
        or a 0-d Tensor that then gets the gradient (the sum of g over the filled elements, each once)."""
        name = "index_fill"
        d = self._dim(dim, name)
        if isinstance(index, MovementMethods) and index.dtype != np.int64:
            raise IndexError(f"{name}: index must be an int64 tensor, got dtype {index.dtype} (as PyTorch)")
        idx = as_index(index, name)
        if idx.ndim > 1:
            raise RuntimeError(f"{name}: index must be 0-D or 1-D (a scalar or a vector), got shape {idx.shape}")
        size = self.shape[d] if self.ndim else 1
        idx = np.unique(check_bounds(idx.reshape(-1), size, name, d, self.shape, negative=True))
        v = self._fill_value(value, name)
        x = self.reshape(1) if self.ndim == 0 else self
        out = SetItem.apply(x, v, index=(slice(None),) * d + (idx,))
        return out.reshape(()) if self.ndim == 0 else out

    def _fill_value(self, value: Any, name: str) -> Tensor:
        """A fill value (a number, or a 0-d Tensor, kept in the graph) as a 0-d Tensor of self's dtype, as PyTorch converts it."""
        if isinstance(value, MovementMethods):
            if value.ndim != 0:
                raise RuntimeError(f"{name}: value must be a number or a 0-d tensor, got a tensor of shape {value.shape}")
            if value.dtype.kind == "c" and self.dtype.kind != "c":
                raise RuntimeError(f"{name}: cannot convert a complex value to a tensor of dtype {self.dtype}")
            return value if value.dtype == self.dtype else value.to(self.dtype)
        if not isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
            raise TypeError(f"{name}: value must be a number or a 0-d Tensor, got {type(value).__name__}")
        if isinstance(value, (complex, np.complexfloating)) and self.dtype.kind != "c":
            raise RuntimeError(f"{name}: cannot convert the complex value {value} to a tensor of dtype {self.dtype}")
        if not isinstance(value, (bool, np.bool_, complex, np.complexfloating)) and not _fits(value, self.dtype):
            raise RuntimeError(f"{name}: value {value} cannot be converted to dtype {self.dtype} without overflow")
        return self._make(np.asarray(value).astype(self.dtype), None)

    def _along(self, dim: int, index: Any, name: str, source: Any = None) -> tuple[int, tuple[Any, ...]]:
        """(dim, the numpy index of the slices `index` along it), index and source checked."""
        d = self._dim(dim, name)
        idx = as_index(index, name)
        if idx.ndim > 1:
            raise IndexError(f"{name}: index must be 0-D or 1-D, got shape {idx.shape}")
        idx = check_bounds(idx.reshape(-1), self.shape[d] if self.ndim else 1, name, d, self.shape)
        if source is not None:
            self._same_dtype(source, name, "source")
            want = self.shape[:d] + (len(idx),) + self.shape[d + 1:] if self.ndim else source.shape
            if source.shape != want:
                raise RuntimeError(
                    f"{name}: source of shape {source.shape} must have shape {want} (self's shape {self.shape} "
                    f"with dim {d} of size len(index) = {len(idx)})"
                )
        return d, (slice(None),) * d + (idx,)

    def _same_dtype(self, other: Any, name: str, what: str) -> None:
        if not isinstance(other, MovementMethods):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(other).__name__}")
        if other.dtype != self.dtype:
            raise RuntimeError(f"{name}: self ({self.dtype}) and {what} ({other.dtype}) must have the same dtype")

    def masked_select(self, mask: Any) -> Tensor:
        """The elements where mask (bool, broadcast with self) is True, as a 1-D tensor in row-major order."""
        m, shape = self._mask(mask, "masked_select")
        if shape == ():
            return self.reshape(1).masked_select(m.reshape(1))
        x = self.expand(shape) if shape != self.shape else self
        return GetItem.apply(x, index=np.nonzero(m))

    def masked_scatter(self, mask: Any, source: Tensor) -> Tensor:
        """A copy of self whose elements where mask is True are source's first elements, in row-major order."""
        m, shape = self._mask(mask, "masked_scatter")
        self._same_dtype(source, "masked_scatter", "source")
        if shape == ():
            return self.reshape(1).masked_scatter(m.reshape(1), source).reshape(())
        where_ = np.nonzero(m)
        k = len(where_[0])
        if source.numel() < k:
            raise RuntimeError(f"masked_scatter: the mask selects {k} elements but source of shape {source.shape} has only {source.numel()}")
        x = self.expand(shape) if shape != self.shape else self
        return SetItem.apply(x, source.reshape(-1)[:k], index=where_)

    def _mask(self, mask: Any, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
        m = mask._array if isinstance(mask, MovementMethods) else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"{name}: mask must be a bool tensor, got dtype {m.dtype}")
        try:
            shape = tuple(np.broadcast_shapes(self.shape, m.shape))
        except ValueError:
            raise RuntimeError(f"{name}: mask of shape {m.shape} does not broadcast with self's shape {self.shape}") from None
        return np.broadcast_to(m, shape), shape

    def take(self, index: Any) -> Tensor:
        """self viewed as 1-D, indexed by `index` (negative counts from the end); the result has index's shape."""
        n = int(np.prod(self.shape, dtype=np.int64))
        idx = check_bounds(as_index(index, "take"), n, "take", 0, (n,), negative=True)
        return GetItem.apply(self.reshape(-1), index=idx)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """gather along `dim` with self and indices broadcast in the other dims (dim None: both flattened)."""
        idx = as_index(indices, "take_along_dim")
        if dim is None:
            return self.reshape(-1).gather(0, idx.reshape(-1))
        d = self._dim(dim, "take_along_dim")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"take_along_dim: indices of shape {idx.shape} must have as many dims as self {self.shape}")
        try:
            common = np.broadcast_shapes(self.shape[:d] + (1,) + self.shape[d + 1:], idx.shape[:d] + (1,) + idx.shape[d + 1:])
        except ValueError:
            raise RuntimeError(f"take_along_dim: shapes {self.shape} and {idx.shape} do not broadcast outside dim {d}") from None
        x = self.expand(common[:d] + (self.shape[d],) + common[d + 1:])
        return x.gather(d, np.broadcast_to(idx, common[:d] + (idx.shape[d],) + common[d + 1:]))

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices (int64, one row per element ≠ 0, shape (n, ndim)), or as_tuple one 1-D tensor per dim."""
        found = np.argwhere(self._array).astype(np.int64)
        if not as_tuple:
            return self._make(found, None)
        cols = [found[:, k] for k in range(self.ndim)] if self.ndim else [np.zeros(len(found), np.int64)]
        return tuple(self._make(np.ascontiguousarray(c), None) for c in cols)

    def argwhere(self) -> Tensor:
        """The indices of the non-zero elements, shape (n, ndim): `nonzero()`."""
        return self.nonzero()

    # ------------------------------------------------------------- triangles and diagonals
    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims (j − i ≤ diagonal), zeros elsewhere."""
        return self._triangle(diagonal, "tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims (j − i ≥ diagonal), zeros elsewhere."""
        return self._triangle(diagonal, "triu")

    def _triangle(self, diagonal: int, name: str) -> Tensor:
        if self.ndim < 2:
            raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions, got shape {self.shape}")
        r, c = self.shape[-2:]
        lower = np.tri(r, c, diagonal, dtype=bool)
        keep = lower if name == "tril" else ~np.tri(r, c, diagonal - 1, dtype=bool)
        return self.where(keep, self._make(np.zeros((), self.dtype), None))

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal `offset` of the (dim1, dim2) planes, as a last dim (offset > 0: above the main one)."""
        if self.ndim < 2:
            raise RuntimeError(f"diagonal: expects a tensor with at least 2 dims, got shape {self.shape}")
        a, b = self._dim(dim1, "diagonal"), self._dim(dim2, "diagonal")
        if a == b:
            raise RuntimeError(f"diagonal: dim1 and dim2 cannot be the same dim ({dim1}, {dim2} for shape {self.shape})")
        order = tuple(k for k in range(self.ndim) if k not in (a, b)) + (a, b)
        x = self.permute(order) if order != tuple(range(self.ndim)) else self
        rows, cols = diagonal_index(self.shape[a], self.shape[b], offset)
        return GetItem.apply(x, index=(Ellipsis, rows, cols))

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        """The last dim put on the diagonal `offset` of new (dim1, dim2) planes, zeros elsewhere."""
        nd = self.ndim + 1
        dims = []
        for d in (dim1, dim2):
            if not -nd <= d < nd:
                raise IndexError(f"diag_embed: dim {d} is out of range for the result's {nd} dims (accepted: {-nd} to {nd - 1})")
            dims.append(d % nd)
        if dims[0] == dims[1] or self.ndim == 0:
            raise RuntimeError(f"diag_embed: needs a tensor with ≥ 1 dim and two different dims, got shape {self.shape}, dims {dim1}, {dim2}")
        m = self.shape[-1] + abs(offset)
        rows, cols = diagonal_index(m, m, offset)
        out = IndexAdd.apply(self, index=(Ellipsis, rows, cols), shape=self.shape[:-1] + (m, m))
        batch = iter(range(nd - 2))
        order = tuple(nd - 2 if p == dims[0] else nd - 1 if p == dims[1] else next(batch) for p in range(nd))
        return out.permute(order) if order != tuple(range(nd)) else out

    def diag(self, diagonal: int = 0) -> Tensor:
        """1-D: a square matrix with self on its diagonal `diagonal`; 2-D: that diagonal, as 1-D."""
        if self.ndim == 1:
            return self.diag_embed(diagonal, 0, 1)
        if self.ndim == 2:
            return self.diagonal(diagonal)
        raise RuntimeError(f"diag: expects a 1-D or 2-D tensor, got shape {self.shape}")

    def trace(self) -> Tensor:
        """The sum of the main diagonal of a 2-D tensor."""
        if self.ndim != 2:
            raise RuntimeError(f"trace: expects a 2-D tensor, got shape {self.shape}")
        return self.diagonal().sum()

    # ------------------------------------------------------------- rearranging
    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Elements shifted cyclically by `shifts` along `dims` (dims None: along the flattened tensor)."""
        shifts = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
        if dims is None:
            if len(shifts) != 1:
                raise RuntimeError(f"roll: without dims give one shift, got {shifts}")
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        if len(shifts) != len(dims):
            raise RuntimeError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        x = self
        for s, dim in zip(shifts, dims):
            d = self._dim(dim, "roll")
            n = self.shape[d]
            s = int(s) % n if n else 0
            if s:
                x = cat([x.narrow(d, n - s, s), x.narrow(d, 0, n - s)], d)
        return x

    def fliplr(self) -> Tensor:
        """Reversed along dim 1 (left ↔ right); needs ≥ 2 dims."""
        if self.ndim < 2:
            raise RuntimeError(f"fliplr: input must be >= 2-d, got shape {self.shape}")
        return self.flip(1)

    def flipud(self) -> Tensor:
        """Reversed along dim 0 (up ↔ down); needs ≥ 1 dim."""
        if self.ndim < 1:
            raise RuntimeError(f"flipud: input must be >= 1-d, got shape {self.shape}")
        return self.flip(0)

    def rot90(self, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
        """Rotated by k × 90° in the plane `dims`, from the first dim towards the second."""
        if len(dims) != 2:
            raise RuntimeError(f"rot90: expected 2 dims, got {tuple(dims)}")
        if self.ndim < 2:
            raise RuntimeError(f"rot90: expected a tensor with ≥ 2 dims, got shape {self.shape}")
        a, b = self._dim(dims[0], "rot90"), self._dim(dims[1], "rot90")
        if a == b:
            raise RuntimeError(f"rot90: the two dims must differ, got {tuple(dims)}")
        k %= 4
        if k == 1:
            return self.flip(b).transpose(a, b)
        if k == 2:
            return self.flip((a, b))
        if k == 3:
            return self.flip(a).transpose(a, b)
        return self

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """Dims `source` moved to positions `destination`; the other dims keep their order."""
        src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
        dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
        if len(src) != len(dst):
            raise RuntimeError(f"movedim: source {src} and destination {dst} must have the same number of dims")
        s = tuple(self._dim(d, "movedim") for d in src)
        t = tuple(self._dim(d, "movedim") for d in dst)
        if len(set(s)) != len(s) or len(set(t)) != len(t):
            raise RuntimeError(f"movedim: repeated dim in source {src} or destination {dst}")
        order = movedim_order(self.ndim, s, t)
        return self.permute(order) if order != tuple(range(self.ndim)) else self

    moveaxis = movedim

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along `dim`, each without that dim."""
        d = self._dim(dim, "unbind")
        return tuple(self[(slice(None),) * d + (i,)] for i in range(self.shape[d]))

    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        """`length` elements of `dim` from `start` (negative counts from the end): self[..., start:start+length]."""
        d = self._dim(dim, "narrow")
        n, start, length = self.shape[d], int(start), int(length)
        if start < 0:
            start += n
        if not 0 <= start <= n or length < 0 or start + length > n:
            raise RuntimeError(f"narrow: start {start} + length {length} does not fit in dim {d} of size {n} (shape {self.shape})")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along `dim`: an int n gives n pieces (the first n_dim % n one longer), a list cuts at those indices."""
        arg = indices_or_sections
        if isinstance(arg, MovementMethods) or isinstance(arg, np.ndarray):
            arr = as_index(arg, "tensor_split", "indices_or_sections")
            arg = int(arr) if arr.ndim == 0 else arr.tolist()
        d = self._dim(dim, "tensor_split")
        return tuple(self[(slice(None),) * d + (slice(a, b),)] for a, b in split_bounds(self.shape[d], arg, "tensor_split"))

    def hsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """tensor_split along dim 1 (dim 0 for 1-D); an int must divide the dim."""
        return self._even_split(indices_or_sections, 1 if self.ndim > 1 else 0, 1, "hsplit")

    def vsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """tensor_split along dim 0 of a tensor with ≥ 2 dims; an int must divide the dim."""
        return self._even_split(indices_or_sections, 0, 2, "vsplit")

    def dsplit(self, indices_or_sections: Any) -> tuple[Tensor, ...]:
        """tensor_split along dim 2 of a tensor with ≥ 3 dims; an int must divide the dim."""
        return self._even_split(indices_or_sections, 2, 3, "dsplit")

    def _even_split(self, arg: Any, d: int, min_ndim: int, name: str) -> tuple[Tensor, ...]:
        if self.ndim < min_ndim:
            raise RuntimeError(f"{name}: requires a tensor with at least {min_ndim} dim(s), got shape {self.shape}")
        if isinstance(arg, (int, np.integer)) and (arg == 0 or self.shape[d] % arg):
            raise RuntimeError(
                f"{name}: attempted to split along dim {d}, but its size {self.shape[d]} (shape {self.shape}) "
                f"is not divisible by the split_size {arg}"
            )
        return self.tensor_split(arg, d)

    def repeat_interleave(self, repeats: Any, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
        """Each element (slice along `dim`; flattened if None) repeated `repeats` times (an int, or one count per element)."""
        x = self.reshape(-1) if dim is None else self
        d = 0 if dim is None else self._dim(dim, "repeat_interleave")
        n = x.shape[d]
        reps = as_index(repeats, "repeat_interleave", "repeats")
        if reps.ndim > 1 or (reps.size != 1 and reps.shape != (n,)):
            raise RuntimeError(f"repeat_interleave: repeats of shape {reps.shape} must be one count or {n} counts (dim {d} of shape {x.shape})")
        if (reps < 0).any():
            raise RuntimeError(f"repeat_interleave: repeats must be non-negative, got {reps.tolist()}")
        idx = np.repeat(np.arange(n), np.broadcast_to(reps.reshape(-1), (n,)))
        if output_size is not None and len(idx) != output_size:
            raise RuntimeError(f"repeat_interleave: output_size {output_size} does not match the {len(idx)} elements repeats make")
        return GetItem.apply(x, index=(slice(None),) * d + (idx,))

    def broadcast_to(self, size: Any) -> Tensor:
        """A broadcast view of shape `size` (−1 keeps a dim): `expand`."""
        return self.expand(size)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Dim `dim` split into dims of `sizes` (one may be −1)."""
        d = self._dim(dim, "unflatten")
        try:
            inner = _infer_shape((self.shape[d],), tuple(int(s) for s in sizes))
        except ValueError as err:
            raise RuntimeError(f"unflatten: dim {d} of shape {self.shape}: {err}") from None
        return self.reshape(self.shape[:d] + inner + self.shape[d + 1:])

    def ravel(self) -> Tensor:
        """The elements as a 1-D tensor, in row-major order."""
        return self.reshape(-1)

    def tile(self, *dims: Any) -> Tensor:
        """Tiled dims[i] times along each dim; dims shorter than ndim are padded with 1s in front."""
        reps = shape_arg(dims)
        return self.repeat((1,) * (self.ndim - len(reps)) + reps)

    def __getitem__(self, index: Any) -> Tensor:
        try:
            at = normalize_index(index)
            first, rest = split_index(at, self.ndim)
            if first is None:
                return GetItem.apply(self, index=at)
            return GetItem.apply(GetItem.apply(self, index=first), index=rest)
        except IndexError as err:
            raise IndexError(f"index: {err} (tensor shape {self.shape})") from None


def _fits(value: Any, dtype: np.dtype) -> bool:
    """Whether a real number converts to dtype without overflow, by PyTorch's rule (c10's `overflows`): an int
    into an unsigned dtype may be negative down to −max (−1 wraps into uint8 as 255); a float into an integer
    dtype must be finite and in range; a finite number into a float dtype must be within its largest value."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        if isinstance(value, (int, np.integer)):
            low = -int(info.max) if dtype.kind == "u" else int(info.min)
            return low <= int(value) <= int(info.max)
        return math.isfinite(value) and int(info.min) <= value <= int(info.max)
    if dtype.kind == "f":
        return not math.isfinite(value) or abs(value) <= float(np.finfo(dtype).max)
    return True


def shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"sizes must be ints, got {args!r}")
    return tuple(int(a) for a in args)


def _infer_shape(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    size = math.prod(shape)  # Python ints: exact, and ~20x faster than np.prod on a short tuple
    unknown = [k for k, n in enumerate(target) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in target):
        raise ValueError(f"invalid shape {target}: at most one -1 and no other negative sizes")
    known = math.prod([n for n in target if n != -1])
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape tensor of shape {shape} ({size} elements) into shape {target}")
        target = tuple(size // known if n == -1 else n for n in target)
    elif known != size:
        raise ValueError(
            f"cannot reshape tensor of shape {shape} ({size} elements) into shape {target} ({known} elements)"
        )
    return target


def normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become numpy arrays (lists of ints index like arrays)."""
    if isinstance(index, tuple):
        return tuple(_normalize_index_item(i) for i in index)
    return _normalize_index_item(index)


def _is_int(i: Any) -> bool:
    return (isinstance(i, (int, np.integer)) and not isinstance(i, bool)) or (
        isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")


def split_index(index: Any, ndim: int) -> tuple[Any, Any]:
    """PyTorch's rule where numpy's differs: integers next to index arrays are applied first.

    numpy counts an int as an advanced index, so in ``x[0, :, [0, 1]]`` the int and the list are
    "separated by a slice" and their dim moves to the front: shape (2, 3) for x of (2, 3, 4).
    PyTorch selects with the int first and indexes what is left: (3, 2). Returns (first, rest):
    apply `first` (the ints, slices elsewhere), then `rest` (everything else); (None, index)
    when there is nothing to split.
    """
    items = index if isinstance(index, tuple) else (index,)
    arrays = [i for i in items if isinstance(i, np.ndarray) and i.ndim > 0]
    if not arrays or not any(_is_int(i) for i in items):
        return None, index
    used = sum(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 0 if i is None or i is Ellipsis else 1
               for i in items)
    expanded: list[Any] = []
    for i in items:  # spell out the Ellipsis, so that first and rest line up dim for dim
        expanded.extend([slice(None)] * (ndim - used) if i is Ellipsis else [i])
    first = tuple(int(i) if _is_int(i) else slice(None) for i in expanded if i is not None
                  for _ in range(i.ndim if isinstance(i, np.ndarray) and i.dtype == np.bool_ else 1))
    rest = tuple(i for i in expanded if not _is_int(i))
    return first, rest


def _normalize_index_item(i: Any) -> Any:
    if isinstance(i, MovementMethods):  # a Tensor used as an index
        return i._array
    if isinstance(i, list):
        return np.asarray(i)
    return i


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim; all other dims must match."""
    tensors = _tensor_list(tensors, "cat")
    first = tensors[0]
    d = first._dim(dim, "cat")
    for k, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1 :] != first.shape[:d] + first.shape[d + 1 :]:
            raise ValueError(
                f"cat: tensor {k} has shape {t.shape} but tensor 0 has shape {first.shape}; all "
                f"dims except dim {d} must match"
            )
    dtype = result_type(*tensors)
    return Cat.apply(*[t.to(dtype) for t in tensors], axis=d)


def _tensor_list(tensors: Any, name: str) -> list[Tensor]:
    """The argument of cat/stack as a non-empty list of Tensors, or a clear error."""
    if isinstance(tensors, MovementMethods) or not isinstance(tensors, Sequence):
        raise TypeError(f"{name}: expected a sequence (list or tuple) of Tensors, got {type(tensors).__name__}")
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{name}: expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if not isinstance(t, MovementMethods):
            raise TypeError(f"{name}: element {k} is a {type(t).__name__}, expected Tensor")
    return tensors


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {k} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}; all must be equal")
    nd = tensors[0].ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack: dim {dim} is out of range for the result's {nd} dims (accepted: {-nd} to {nd - 1})")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors expanded to their common broadcast shape (views in the graph; dtypes unchanged)."""
    for k, t in enumerate(tensors):
        if not isinstance(t, MovementMethods):
            raise TypeError(f"broadcast_tensors: expected Tensors, got {type(t).__name__} at position {k}")
    if not tensors:
        return ()
    shapes = [t.shape for t in tensors]
    explain_broadcast("broadcast_tensors", shapes)
    shape = tuple(np.broadcast_shapes(*shapes))
    return tuple(t.expand(shape) for t in tensors)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,  # noqa: A002 - PyTorch's name
                 side: str | None = None, sorter: Any = None) -> Tensor:
    """For each value of input, the index where it would go in the innermost dim of sorted_sequence to keep it
    sorted: the first element ≥ it (> it with right=True or side='right'). int64 (int32 with out_int32).

    sorted_sequence is 1-D (any input shape), or N-D with input's first N − 1 dims; input may be a
    number (then the result is 0-d). The two are compared in their promoted dtype; NaN values go
    to the end; the order is not checked (the result is then PyTorch's binary search's, too).
    sorter (int64, sorted_sequence's shape) lists the sequence's elements in sorted order.
    """
    name = "searchsorted"
    if not isinstance(sorted_sequence, MovementMethods):
        raise TypeError(f"{name}: sorted_sequence must be a Tensor, got {type(sorted_sequence).__name__}")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"{name}: side can only be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise RuntimeError(f"{name}: side and right can't be set to opposites, got side='left' while right=True")
        right = side == "right"
    scalar = not isinstance(input, MovementMethods)
    if scalar and (isinstance(input, (complex, np.complexfloating)) or not isinstance(input, (bool, int, float, np.number, np.bool_))):
        raise TypeError(f"{name}: input must be a Tensor or a real number, got {type(input).__name__}")
    seq = sorted_sequence
    for what, t in [("sorted_sequence", seq)] + ([] if scalar else [("input", input)]):
        if t.dtype.kind in "bc":
            raise TypeError(f"{name}: not implemented for {t.dtype} tensors ({what}), as in PyTorch")
    if seq.ndim == 0:
        raise RuntimeError(f"{name}: sorted_sequence must have at least 1 dim, got a 0-d tensor")
    if scalar and seq.ndim != 1:
        raise RuntimeError(f"{name}: input can be a number only when sorted_sequence is 1-D, got shape {seq.shape}")
    if not scalar and seq.ndim > 1 and (input.ndim != seq.ndim or input.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            f"{name}: sorted_sequence must be 1-D or have input's first N-1 dims, got shapes {seq.shape} (sorted_sequence) "
            f"and {input.shape} (input)"
        )
    m, r = seq.shape[-1], math.prod(seq.shape[:-1])
    order = None
    if sorter is not None:
        if not isinstance(sorter, MovementMethods) or sorter.dtype != np.int64:
            raise RuntimeError(f"{name}: sorter must be an int64 tensor, got {getattr(sorter, 'dtype', type(sorter).__name__)}")
        if sorter.shape != seq.shape:
            raise RuntimeError(f"{name}: sorter of shape {sorter.shape} must have sorted_sequence's shape {seq.shape}")
        order = sorter._array.reshape(r, m)
        if order.size and (order.min() < 0 or order.max() >= m):
            raise RuntimeError(f"{name}: sorter index out of range (each must be in [0, {m}))")
    dtype = result_type(seq, input)
    values = np.asarray(input._array if not scalar else input).astype(dtype)
    rows = seq._array.astype(dtype, copy=False).reshape(r, m)
    flat = values.reshape(r, values.size // r if r else 0)
    found = bound_indices(rows, flat, right, order).reshape(values.shape)
    return seq._make(found.astype(np.int32 if out_int32 else np.int64), None)


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:  # noqa: A002 - PyTorch's name
    """The bucket of each value of input (a Tensor or a number) among the 1-D boundaries: i with
    boundaries[i−1] < x ≤ boundaries[i] (boundaries[i−1] ≤ x < boundaries[i] with right=True), i.e. searchsorted."""
    if not isinstance(boundaries, MovementMethods):
        raise TypeError(f"bucketize: boundaries must be a Tensor, got {type(boundaries).__name__}")
    if boundaries.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {boundaries.shape}")
    try:
        return searchsorted(boundaries, input, out_int32=out_int32, right=right)
    except (TypeError, RuntimeError) as err:
        raise type(err)(str(err).replace("searchsorted:", "bucketize:", 1).replace("sorted_sequence", "boundaries")) from None


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last len(pad)/2 dims: pad = (left, right) for the last dim, then the one before, …

    `mode` is "constant" (fill with `value`), "reflect", "replicate" or "circular", as in
    ``torch.nn.functional.pad``. Negative widths crop.
    """
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: pad {tuple(pad)} must have an even length of at most 2 × the number of dims "
            f"({input.ndim} for shape {input.shape}): (left, right) for the last dim first"
        )
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        # Negative widths crop first, then the rest pads.
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, input.shape))
        x = input[crop] if any(lo < 0 or hi < 0 for lo, hi in widths) else input
        grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        return Pad.apply(x, widths=grow, value=value) if any(lo or hi for lo, hi in grow) else x
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    # The other modes gather existing elements: pad an index range with numpy's mode and take
    # those elements (GetItem), so repeated elements accumulate their gradients.
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than dim {d} of size {n} (shape {input.shape})")
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative widths are only supported in constant mode, got {tuple(pad)}")
        idx = np.pad(np.arange(n), (lo, hi), mode=_PAD_MODES[mode])
        out = out[(slice(None),) * d + (idx,)]
    return out


# ------------------------------------------------------------- function forms (torch.gather(x, …) = x.gather(…))
def _function_form(name: str) -> Any:
    method = getattr(MovementMethods, name)

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``{name}(input, ...)`` = ``input.{name}(...)``: {method.__doc__}"
    return function


gather = _function_form("gather")
scatter = _function_form("scatter")
scatter_add = _function_form("scatter_add")
scatter_reduce = _function_form("scatter_reduce")
index_select = _function_form("index_select")
index_add = _function_form("index_add")
index_copy = _function_form("index_copy")
index_fill = _function_form("index_fill")
select = _function_form("select")
masked_select = _function_form("masked_select")
masked_scatter = _function_form("masked_scatter")
take = _function_form("take")
take_along_dim = _function_form("take_along_dim")
nonzero = _function_form("nonzero")
argwhere = _function_form("argwhere")
tril = _function_form("tril")
triu = _function_form("triu")
diag = _function_form("diag")
diagonal = _function_form("diagonal")
diag_embed = _function_form("diag_embed")
trace = _function_form("trace")
roll = _function_form("roll")
fliplr = _function_form("fliplr")
flipud = _function_form("flipud")
rot90 = _function_form("rot90")
movedim = _function_form("movedim")
moveaxis = _function_form("moveaxis")
unbind = _function_form("unbind")
narrow = _function_form("narrow")
tensor_split = _function_form("tensor_split")
hsplit = _function_form("hsplit")
vsplit = _function_form("vsplit")
dsplit = _function_form("dsplit")
broadcast_to = _function_form("broadcast_to")
unflatten = _function_form("unflatten")
ravel = _function_form("ravel")
tile = _function_form("tile")


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *, output_size: int | None = None) -> Tensor:
    """input.repeat_interleave(repeats, dim); with input alone (a 1-D int tensor of counts): i repeated input[i] times."""
    if repeats is None:
        counts = as_index(input, "repeat_interleave", "repeats")
        if counts.ndim > 1 or (counts < 0).any():
            raise RuntimeError(f"repeat_interleave: repeats must be a 0-D or 1-D tensor of counts ≥ 0, got {counts.tolist()}")
        counts = counts.reshape(-1)
        return input._make(np.repeat(np.arange(len(counts), dtype=np.int64), counts), None)
    return input.repeat_interleave(repeats, dim, output_size=output_size)


def _tensors_arg(tensors: tuple[Any, ...], name: str) -> tuple[list[Tensor], bool]:
    """f(x), f(x, y) or f([x, y]): (the tensors, whether one was given alone)."""
    if len(tensors) == 1 and not isinstance(tensors[0], MovementMethods):
        return _tensor_list(tensors[0], name), False
    return _tensor_list(list(tensors), name), len(tensors) == 1


def atleast_1d(*tensors: Any) -> Any:
    """Each tensor with at least 1 dim (a 0-d one becomes shape (1,)); one tensor in, one out, else a tuple."""
    ts, alone = _tensors_arg(tensors, "atleast_1d")
    out = tuple(t.reshape(1) if t.ndim == 0 else t for t in ts)
    return out[0] if alone else out


def atleast_2d(*tensors: Any) -> Any:
    """Each tensor with at least 2 dims: () → (1, 1), (n,) → (1, n)."""
    ts, alone = _tensors_arg(tensors, "atleast_2d")
    out = tuple(t.reshape((1,) * (2 - t.ndim) + t.shape) if t.ndim < 2 else t for t in ts)
    return out[0] if alone else out


def atleast_3d(*tensors: Any) -> Any:
    """Each tensor with at least 3 dims: () → (1, 1, 1), (n,) → (1, n, 1), (m, n) → (m, n, 1)."""
    ts, alone = _tensors_arg(tensors, "atleast_3d")
    shapes = {0: lambda s: (1, 1, 1), 1: lambda s: (1, s[0], 1), 2: lambda s: s + (1,)}
    out = tuple(t.reshape(shapes[t.ndim](t.shape)) if t.ndim < 3 else t for t in ts)
    return out[0] if alone else out


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors joined along dim 1 (dim 0 if they are 1-D); 0-d ones count as 1-D."""
    ts = atleast_1d(_tensor_list(tensors, "hstack"))
    return cat(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors, made at least 2-D ((n,) → (1, n)), joined along dim 0."""
    return cat(atleast_2d(_tensor_list(tensors, "vstack")), 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors, made at least 3-D, joined along dim 2."""
    return cat(atleast_3d(_tensor_list(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """The tensors as columns: 0-d and 1-D ones become (n, 1); all joined along dim 1."""
    ts = _tensor_list(tensors, "column_stack")
    return cat([t.reshape(t.numel(), 1) if t.ndim <= 1 else t for t in ts], 1)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids of 1-D tensors: output k varies along dim k ("ij"); "xy" swaps the first two dims."""
    if indexing is None:  # PyTorch's default, with PyTorch's warning that it will become required
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the indexing argument "
                      "('ij' is used now, as PyTorch does)", UserWarning, stacklevel=2)
        indexing = "ij"
    ts = list(tensors[0]) if len(tensors) == 1 and not isinstance(tensors[0], MovementMethods) else list(tensors)
    ts = _tensor_list(ts, "meshgrid")
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if any(t.ndim > 1 for t in ts):
        raise RuntimeError(f"meshgrid: expects 0-D or 1-D tensors, got shapes {[t.shape for t in ts]}")
    pos = list(range(len(ts)))
    if indexing == "xy" and len(ts) > 1:
        pos[0], pos[1] = 1, 0
    sizes = [t.numel() for t in ts]
    shape = [0] * len(ts)
    for p, n in zip(pos, sizes):
        shape[p] = n
    return tuple(t.reshape(tuple(n if k == p else 1 for k in range(len(ts)))).expand(tuple(shape))
                 for t, p, n in zip(ts, pos, sizes))
