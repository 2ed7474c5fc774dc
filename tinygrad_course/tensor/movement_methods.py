"""Movement methods of `Tensor` (reshape, permute, expand, indexing, …) and `cat`, `stack`, `pad`.

A mixin: `Tensor` inherits these. Each calls one movement primitive (ops/movement.py) or is a
short composition of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.ops.movement import Cat, Expand, Flip, GetItem, Pad, Permute, Reshape
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

    def __getitem__(self, index: Any) -> Tensor:
        try:
            at = normalize_index(index)
            first, rest = split_index(at, self.ndim)
            if first is None:
                return GetItem.apply(self, index=at)
            return GetItem.apply(GetItem.apply(self, index=first), index=rest)
        except IndexError as err:
            raise IndexError(f"index: {err} (tensor shape {self.shape})") from None


def shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"sizes must be ints, got {args!r}")
    return tuple(int(a) for a in args)


def _infer_shape(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    size = int(np.prod(shape, dtype=np.int64))
    unknown = [k for k, n in enumerate(target) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in target):
        raise ValueError(f"invalid shape {target}: at most one -1 and no other negative sizes")
    known = int(np.prod([n for n in target if n != -1], dtype=np.int64))
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
