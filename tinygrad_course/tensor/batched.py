"""`BatchedTensor`: what a function sees inside ``vmap`` — one sample's view of a whole batch.

A BatchedTensor wraps a plain Tensor, its *physical* tensor, whose leading dims are the batch
dims of the active vmaps it depends on (one per level, outermost first); its *logical* shape,
the one the function sees, is the rest. ``vmap(f)(x)`` with x of shape (64, 10) calls f once
with a BatchedTensor of logical shape (10,) around x itself.

Every op reaches `Primitive.apply`, which hands a BatchedTensor to the op's batching rule
(func/batching.py): the rule runs the op once on the physical tensors, with its dims shifted
past the batch dims. The graph is therefore built on the plain physical tensors, and a backward
through it — ``vmap(grad(f))`` — is vectorised too: the backward formulas are ordinary ops on
batch-first arrays.

Code that reads a BatchedTensor's numpy array directly (``.item()``, ``.numpy()``, ``bool(x)``,
a method with a numpy shortcut) cannot be batched: `_array` raises `NeedsLoop`, and vmap then
runs the function sample by sample instead, with a one-time warning. Never a wrong number.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Any

import numpy as np

from tinygrad_course.autograd.function import NeedsLoop
from tinygrad_course.ops.elementwise import Add, Cast, Mul, Sub, Where
from tinygrad_course.ops.movement import Expand, GetItem, Reshape
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor.math_methods import where as _plain_where
from tinygrad_course.tensor.promotion import result_type
from tinygrad_course.tensor.reduce_methods import ValuesIndices
from tinygrad_course.tensor.tensor import Tensor


def _refuse(self: BatchedTensor) -> np.ndarray:
    caller = sys._getframe(1).f_code  # named in vmap's warning, so that the user sees what could not be batched
    raise NeedsLoop(f"{caller.co_name} in {os.path.basename(caller.co_filename)} reads a batched tensor's values as one array")


class BatchedTensor(Tensor):
    """One sample's view of a batch inside vmap (see the module docstring); `_inner` is the physical Tensor."""

    __slots__ = ("_inner", "_levels")
    # The physical array is not this tensor's array: code that asks for it cannot be batched.
    _array = property(_refuse)  # type: ignore[assignment]

    _inner: Tensor
    _levels: tuple[int, ...]

    def __init__(self, inner: Tensor, levels: tuple[int, ...]) -> None:
        """Wrap `inner`, whose first len(levels) dims are the batch dims of those vmap levels."""
        self._inner = inner
        self._levels = levels
        self.grad = None
        self._hooks = None

    # -- the logical view -------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """The shape one sample sees (the batch dims left out)."""
        return self._inner.shape[len(self._levels):]

    @property
    def ndim(self) -> int:
        """The number of dims one sample sees."""
        return self._inner.ndim - len(self._levels)

    def dim(self) -> int:
        """The number of dims one sample sees."""
        return self.ndim

    @property
    def dtype(self) -> np.dtype:
        """The element dtype (the same for every sample)."""
        return self._inner.dtype

    def numel(self) -> int:
        """The number of elements of one sample."""
        return math.prod(self.shape)

    nelement = numel

    # -- the graph lives on the physical tensor -----------------------------------------
    @property  # type: ignore[override]
    def grad_fn(self) -> Any:
        """The node that made the physical tensor."""
        return self._inner.grad_fn

    @property  # type: ignore[override]
    def _requires_grad(self) -> bool:
        return self._inner._requires_grad

    @property
    def requires_grad(self) -> bool:
        """Whether ops on this tensor are recorded."""
        return self._inner._requires_grad

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad of the physical tensor (a leaf)."""
        self._inner.requires_grad_(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same values cut off from the graph (still batched)."""
        return BatchedTensor(self._inner.detach(), self._levels)

    def backward(self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Refused: inside vmap, take gradients with tc.func.grad (or tc.func.vjp)."""
        raise RuntimeError("backward: cannot call .backward() on a tensor inside vmap; use tc.func.grad(f) "
                           "(or tc.func.vjp) inside the vmapped function instead")

    def __repr__(self) -> str:
        return f"BatchedTensor(levels={self._levels}, logical shape={self.shape}, physical={self._inner!r})"

    # -- Tensor's numpy shortcuts, routed through the ops (which have batching rules) ---
    def __add__(self, other: Any) -> Tensor:
        return self._binary(Add, other)

    def __sub__(self, other: Any) -> Tensor:
        return self._binary(Sub, other)

    def __mul__(self, other: Any) -> Tensor:
        return self._binary(Mul, other)

    def _binary(self, fn: Any, other: Any, reflected: bool = False, floating: bool = False) -> Tensor:
        dtype = result_type(self, other)
        if floating and dtype.kind not in "fc":
            dtype = dtypes.get_default_dtype()
        a, b = self._as_operand(dtype), self._as_operand(dtype, other)
        return fn.apply(b, a) if reflected else fn.apply(a, b)

    def _as_operand(self, dtype: np.dtype, value: Any = None) -> Tensor:
        if value is None or value is self:
            return self if self.dtype == dtype else self.to(dtype)
        return Tensor._as_operand(self, dtype, value)

    def _const(self, value: Any) -> Tensor:
        # Tensor's reads the array's dtype for a number operand (x[0] = 1.0, …): the dtype instead.
        if isinstance(value, (bool, int, float, np.number, np.bool_)):
            floating = isinstance(value, (float, np.floating)) and self.dtype.kind not in "fc"
            return Tensor._make(np.asarray(value, dtype=dtypes.get_default_dtype() if floating else self.dtype), None)
        return Tensor._const(self, value)

    def _cast(self, dtype: Any) -> Tensor:
        d = dtypes.as_dtype(dtype, "to")
        if d == self.dtype:
            return self
        return Cast.apply(self, dtype=d)

    def _compare(self, ufunc: np.ufunc, other: Any, name: str) -> Tensor:
        return compare(self, ufunc, other, name)

    def __invert__(self) -> Tensor:
        return elementwise_direct(np.invert, self)

    def sign(self) -> Tensor:
        """−1, 0 or +1 by the sign of each element (no gradient)."""
        return elementwise_direct(np.sign, self)

    def isnan(self) -> Tensor:
        """Elementwise isnan (no gradient)."""
        return elementwise_direct(np.isnan, self)

    def isinf(self) -> Tensor:
        """Elementwise isinf (no gradient)."""
        return elementwise_direct(np.isinf, self)

    def isfinite(self) -> Tensor:
        """Elementwise isfinite (no gradient)."""
        return elementwise_direct(np.isfinite, self)

    def any(self) -> Tensor:
        """True where any element of the sample is nonzero (no gradient)."""
        return _reduce_direct(np.any, self)

    def all(self) -> Tensor:
        """True where all elements of the sample are nonzero (no gradient)."""
        return _reduce_direct(np.all, self)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """value where mask is True, else self; a batched mask goes to Where's batching rule."""
        if not isinstance(mask, BatchedTensor):
            return Tensor.masked_fill(self, mask, value)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {mask.dtype}")
        return where(mask, self._operand(value), self)

    def contiguous(self) -> Tensor:
        """This tensor (the physical copy is made by the ops that need one)."""
        return self

    # -- Tensor methods that read the array for a shape or an index, done on the physical tensor
    def _count(self, dims: tuple[int, ...] | None) -> int:
        # Tensor's reads the array's size for dims=None (mean(), nanmean(), …): the logical count instead.
        return self.numel() if dims is None else math.prod(self.shape[d] for d in dims)

    def _nonempty(self, name: str, dims: tuple[int, ...] | None) -> None:
        # Tensor's reads the array's size for dims=None (amax(), max(), …): the logical size instead.
        if dims is None and self.numel() == 0:
            raise ValueError(f"{name}: cannot reduce an empty tensor of shape {self.shape} over all dims; "
                             "give a dim whose size is not 0")
        Tensor._nonempty(self, name, dims or ())

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where condition else other; a batched condition goes to Where's batching rule."""
        return where(condition, self, other)

    def logsumexp(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Tensor:
        """log Σ eˣ per sample (Tensor's reads the array for the shape of the result when keepdim is False)."""
        out = Tensor.logsumexp(self, dim, True, axis=axis)
        if keepdim:
            return out
        dims = self._dims(dim, axis, "logsumexp")
        kept = () if dims is None else tuple(n for k, n in enumerate(self.shape) if k not in {d % self.ndim for d in dims})
        return out.reshape(kept)

    def _extreme(self, dim: Any, keepdim: bool, name: str) -> Any:
        # max(dim)/min(dim): the index of each sample's extreme found on the physical array (no
        # gradient), the values gathered from the physical tensor at it (their gradient, as Tensor's).
        if dim is None or self.ndim == 0:
            return Tensor._extreme(self, dim, keepdim, name)
        self._nonempty(name, (self._dim(dim, name),))
        p, nb = self._inner, len(self._levels)
        d = self._dim(dim, name) + nb
        idx = np.argmax(p._array, axis=d) if name == "max" else np.argmin(p._array, axis=d)
        grid = list(np.indices(idx.shape, sparse=True))
        grid.insert(d, idx)
        values = GetItem.apply(p, index=tuple(grid))
        if keepdim:
            values, idx = Reshape.apply(values, shape=tuple(np.expand_dims(idx, d).shape)), np.expand_dims(idx, d)
        return ValuesIndices(BatchedTensor(values, self._levels),
                             BatchedTensor(Tensor._make(idx.astype(np.int64), None), self._levels))

    def _arg(self, fn: Any, dim: int | None, keepdim: bool, name: str) -> Tensor:
        # argmax/argmin per sample on the physical array (flat over each sample's elements for dim=None).
        if self.ndim == 0:
            return Tensor._arg(self, fn, dim, keepdim, name)
        self._nonempty(name, None if dim is None else (self._dim(dim, name),))
        p, nb = self._inner._array, len(self._levels)
        if dim is None:
            out = fn(p.reshape(p.shape[:nb] + (-1,)), axis=nb)
            out = out.reshape(out.shape + (1,) * self.ndim) if keepdim else out
        else:
            out = fn(p, axis=self._dim(dim, name) + nb)
            out = np.expand_dims(out, self._dim(dim, name) + nb) if keepdim else out
        return BatchedTensor(Tensor._make(np.asarray(out).astype(np.int64), None), self._levels)

    def _write(self, name: str, compute: Any, *operands: Any) -> Tensor:
        # An in-place write (setitem, add_, …): Tensor's on the physical tensor, with compute run
        # on the logical view (batched by the rules); writes from a value batched over other vmap
        # levels than this tensor's cannot be held by it: those run sample by sample. So do writes
        # into the vmapped function's arguments: were a later op to fall back to the loop, the loop
        # would write them a second time.
        if any(np.may_share_memory(self._inner._array, a) for a in vmap_arguments):
            raise NeedsLoop(f"{name} writes into an argument of the vmapped function")

        def on_physical(old: Tensor) -> Tensor:
            new = compute(BatchedTensor(old, self._levels))
            if levels_of(new) != self._levels:
                raise NeedsLoop(f"{name} writes a value batched over other vmap levels into a tensor")
            return new._inner

        self._inner._write(name, on_physical, *operands)
        return self


# The arrays of the BatchedTensors the running vmaps called their functions with (kept by vmap).
vmap_arguments: list[np.ndarray] = []


def levels_of(t: Any) -> tuple[int, ...]:
    """The vmap levels t is batched over (() for a plain Tensor or a number)."""
    return t._levels if isinstance(t, BatchedTensor) else ()


def physical(t: Tensor, levels: tuple[int, ...], sizes: dict[int, int] | None = None, ndim: int | None = None) -> Tensor:
    """t's physical tensor with one leading dim per level in `levels` and (at least) `ndim` logical dims.

    A level t is not batched over gets a dim of size 1 (or its full size from `sizes`, where
    given: for ops that cannot broadcast); logical dims are padded with 1s on the left to
    `ndim`, so that numpy's right-aligned broadcasting lines the samples up. Recorded ops on
    the physical tensor, so that gradients flow back.
    """
    own = levels_of(t)
    inner = t._inner if isinstance(t, BatchedTensor) else t
    logical = tuple(inner.shape[len(own):])
    pad = 0 if ndim is None else max(ndim - len(logical), 0)
    if own == levels and not pad:
        return inner
    have = dict(zip(own, inner.shape[:len(own)]))
    batch = tuple(have.get(lv, 1) for lv in levels)
    # The primitives directly: the shapes are known to fit (Tensor.reshape would check and infer).
    out = Reshape.apply(inner, shape=batch + (1,) * pad + logical)
    if sizes is not None and any(lv not in have for lv in levels):
        out = Expand.apply(out, shape=tuple(have.get(lv, sizes[lv]) for lv in levels) + (1,) * pad + logical)
    return out


def compare(a: BatchedTensor, ufunc: np.ufunc, other: Any, name: str) -> Tensor:
    """A comparison (no gradient) of a batched tensor with a tensor or number."""
    levels = tuple(sorted(set(a._levels) | set(levels_of(other))))
    n = max(a.ndim, other.ndim if isinstance(other, Tensor) else np.ndim(other))
    x = physical(a, levels, ndim=n)._array
    y = physical(other, levels, ndim=n)._array if isinstance(other, Tensor) else other
    return BatchedTensor(Tensor._make(ufunc(x, y), None), levels)


def _reduce_direct(fn: Any, a: BatchedTensor) -> Tensor:
    """fn (np.any, np.all) over each sample's elements (no gradient), batched like a."""
    nb = len(a._levels)
    return BatchedTensor(Tensor._make(np.asarray(fn(a._inner._array, axis=tuple(range(nb, a._inner.ndim)))), None), a._levels)


def elementwise_direct(ufunc: np.ufunc, a: BatchedTensor) -> Tensor:
    """ufunc of each element (no gradient), batched like a."""
    return BatchedTensor(Tensor._make(ufunc(a._inner._array), None), a._levels)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where condition else other, the condition batched (Tensor's reads its array) or not."""
    if not isinstance(condition, BatchedTensor):
        return _plain_where(condition, input, other)
    cond = condition if condition.dtype == np.bool_ else condition.to(np.bool_)
    tensor = input if isinstance(input, Tensor) else other
    dtype = result_type(input, other)
    return Where.apply(cond, tensor._as_operand(dtype, input), tensor._as_operand(dtype, other))
