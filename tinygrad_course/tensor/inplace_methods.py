"""In-place methods of `Tensor` (``x += y``, ``x[i] = v``, ``add_``, ``zero_``, …), PyTorch's rules.

Every one of them is `_write(name, compute)`: the new value is computed out of place by the
ordinary differentiable ops, then written into the tensor's own memory, so that views see it.

- Under ``no_grad()`` (or when nothing involved requires grad) it is a plain write: a leaf
  parameter keeps its identity, ``requires_grad`` and ``.grad``, so ``p -= lr * p.grad`` trains.
- In grad mode, a leaf that requires grad refuses (its gradient would be ∂c/∂ of a value that no
  longer exists). Any other tensor gets a new history: its ``grad_fn`` becomes the node of the
  write, whose input is a copy of the old value, so ``y = x * 2; y += 1; y[0] = 0``
  differentiate as in PyTorch. A view of another tensor's memory refuses too (PyTorch would
  rewrite the base's history; a clear error beats a wrong gradient).
- Every write bumps the memory's version (autograd/version.py), except through ``.data``:
  backward then refuses any value that a node saved and that was written since.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.autograd import version
from tinygrad_course.autograd.grad_mode import mode, no_grad
from tinygrad_course.ops.movement import IndexAdd, SetItem
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.math_methods import where
from tinygrad_course.tensor.movement_methods import normalize_index, split_index

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor


class InplaceMethods:
    """In-place arithmetic, fills, indexed writes and random fills; each returns the tensor itself."""

    __slots__ = ()  # a mixin of Tensor, which has slots: no __dict__ per tensor

    def _write(self: Any, name: str, compute: Callable[[Tensor], Tensor], *operands: Any) -> Tensor:
        """self ← compute(self), in place; `operands` are the other inputs, to see if any requires grad."""
        recording = mode.grad_enabled and (
            self._requires_grad or any(getattr(o, "_requires_grad", False) for o in operands)
        )
        if recording and self.grad_fn is None and self._requires_grad:
            raise RuntimeError(
                f"{name}: a leaf Variable that requires grad is being used in an in-place operation "
                f"(shape {self.shape}). Write it under `with tc.no_grad():`, or through `.data`."
            )
        if recording and self._array.base is not None:
            raise RuntimeError(
                f"{name}: in-place write into a view of another tensor (shape {self.shape}) while "
                "recording a graph is not supported; compute the value out of place, or clone() first"
            )
        if recording:
            # The node of the write takes the old value as input: a copy, since the memory is overwritten.
            old = self._make(self._array.copy(), self.grad_fn)
            old._requires_grad = self._requires_grad
            new = compute(old)
        else:
            with no_grad():
                new = compute(self)
        if new.shape != self.shape:
            raise RuntimeError(
                f"{name}: output with shape {self.shape} doesn't match the broadcast shape {new.shape}"
            )
        if new.dtype != self.dtype:
            if not np.can_cast(new.dtype, self.dtype, casting="same_kind"):
                raise RuntimeError(
                    f"{name}: result type {new.dtype} can't be cast to the desired output type {self.dtype}"
                )
            new = new.to(self.dtype)
        if not self._array.flags.writeable:
            raise RuntimeError(
                f"{name}: this tensor (shape {self.shape}) is a read-only view (an expand() or a "
                "broadcast array): clone() it before writing in place"
            )
        np.copyto(self._array, new._array)
        if self.counts_writes:
            version.bump(self._array)
        if recording:
            self.grad_fn = new.grad_fn
            self._requires_grad = new._requires_grad
        return self

    @property
    def _version(self: Any) -> int:
        """How many in-place writes this tensor's memory has had (shared with its views), as PyTorch's."""
        return version.version_of(self._array)

    # ------------------------------------------------------------- arithmetic
    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self ← self + alpha · other, in place."""
        return self._write("add_", lambda old: old + (other if alpha == 1 else other * alpha), other)

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self ← self − alpha · other, in place."""
        return self._write("sub_", lambda old: old - (other if alpha == 1 else other * alpha), other)

    def mul_(self, other: Any) -> Tensor:
        """self ← self · other, in place."""
        return self._write("mul_", lambda old: old * other, other)

    def div_(self, other: Any) -> Tensor:
        """self ← self / other, in place (a floating tensor: an integer one cannot hold the quotient)."""
        return self._write("div_", lambda old: old / other, other)

    def pow_(self, exponent: Any) -> Tensor:
        """self ← self ** exponent, in place."""
        return self._write("pow_", lambda old: old**exponent, exponent)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __ipow__(self, exponent: Any) -> Tensor:
        return self.pow_(exponent)

    def __imatmul__(self, other: Any) -> Tensor:
        return self._write("matmul_", lambda old: old @ other, other)

    # ------------------------------------------------------------- elementwise functions
    def neg_(self) -> Tensor:
        """self ← −self, in place."""
        return self._write("neg_", lambda old: -old)

    def abs_(self) -> Tensor:
        """self ← |self|, in place."""
        return self._write("abs_", lambda old: old.abs())

    def exp_(self) -> Tensor:
        """self ← eˢᵉˡᶠ, in place."""
        return self._write("exp_", lambda old: old.exp())

    def log_(self) -> Tensor:
        """self ← ln self, in place."""
        return self._write("log_", lambda old: old.log())

    def sqrt_(self) -> Tensor:
        """self ← √self, in place."""
        return self._write("sqrt_", lambda old: old.sqrt())

    def sigmoid_(self) -> Tensor:
        """self ← σ(self) = 1 / (1 + e⁻ˢᵉˡᶠ), in place."""
        return self._write("sigmoid_", lambda old: old.sigmoid())

    def tanh_(self) -> Tensor:
        """self ← tanh(self), in place."""
        return self._write("tanh_", lambda old: old.tanh())

    def relu_(self) -> Tensor:
        """self ← max(self, 0), in place."""
        return self._write("relu_", lambda old: old.relu())

    def leaky_relu_(self, negative_slope: float = 0.01) -> Tensor:
        """self ← self where positive, else negative_slope · self, in place."""
        return self._write("leaky_relu_", lambda old: old.leaky_relu(negative_slope))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        """self ← self limited to [min, max], in place."""
        return self._write("clamp_", lambda old: old.clamp(min, max))

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Tensor:
        """self ← max(self, min), in place."""
        return self._write("clamp_min_", lambda old: old.clamp(min=min))

    def clamp_max_(self, max: Any) -> Tensor:
        """self ← min(self, max), in place."""
        return self._write("clamp_max_", lambda old: old.clamp(max=max))

    # ------------------------------------------------------------- fills and copies
    def zero_(self) -> Tensor:
        """Fill with zeros, in place."""
        return self._write("zero_", lambda old: old._const_like(0))

    def fill_(self, value: Any) -> Tensor:
        """Fill with `value` (a number or a 0-d Tensor, whose gradient is then the sum of self's), in place."""
        if getattr(value, "ndim", 0) != 0:
            raise RuntimeError(f"fill_: only a number or a 0-d tensor fills a tensor, got shape {value.shape}")
        return self._write("fill_", lambda old: old._const_like(value), value)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast to self's shape, cast to its dtype) into this tensor; src gets the gradient."""
        return self._write("copy_", lambda old: old._const_like(src), src)

    def _operand(self: Any, value: Any) -> Tensor:
        """`value` (a Tensor, array or number) as a Tensor of self's dtype (differentiable between floats)."""
        v = value if isinstance(value, InplaceMethods) else self._const(value)
        return v.to(self.dtype) if v.dtype != self.dtype else v

    def _const_like(self: Any, value: Any) -> Tensor:
        """`value` as a Tensor of self's dtype, broadcast to self's shape."""
        v = self._operand(value)
        try:
            return v.expand(self.shape) if v.shape != self.shape else v
        except (ValueError, RuntimeError):
            raise RuntimeError(f"copy_: the source of shape {v.shape} cannot be broadcast to shape {self.shape}") from None

    # ------------------------------------------------------------- indexed writes
    def __setitem__(self, index: Any, value: Any) -> None:
        """self[index] = value, in place (value broadcast to the selection); value gets the gradient."""
        at = normalize_index(index)
        first, rest = split_index(at, self.ndim)
        v = self._operand(value)

        def put(old: Tensor) -> Tensor:
            if first is None:
                return SetItem.apply(old, v, index=at)
            # PyTorch's order: select with the ints, write into that part, put the part back
            return SetItem.apply(old, SetItem.apply(old[first], v, index=rest), index=first)

        try:
            self._write("setitem", put, v)
        except IndexError as err:
            raise IndexError(f"setitem: {err} (tensor shape {self.shape})") from None
        except ValueError as err:
            raise ValueError(f"setitem: {err} (tensor shape {self.shape}, value shape {v.shape})") from None

    def masked_fill(self: Any, mask: Any, value: Any) -> Tensor:
        """value where mask is True, else self (mask broadcast to self's shape); out of place."""
        m = mask._array if hasattr(mask, "_array") else np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be a bool tensor, got dtype {m.dtype}")
        return where(m, self._operand(value), self)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """self ← value where mask is True, in place."""
        return self._write("masked_fill_", lambda old: old.masked_fill(mask, value), value)

    def index_fill_(self: Any, dim: int, index: Any, value: Any) -> Tensor:
        """Fill the slices self.select(dim, i) for i in index with value, in place."""
        d = self._dim(dim, "index_fill_")
        where_ = (slice(None),) * d + (_as_index_array(index, "index_fill_"),)
        return self._write("index_fill_", lambda old: SetItem.apply(old, old._operand(value), index=where_), value)

    def index_add_(self: Any, dim: int, index: Any, source: Any, *, alpha: float = 1) -> Tensor:
        """self.select(dim, index[i]) += alpha · source.select(dim, i) for each i (repeats add up), in place."""
        d = self._dim(dim, "index_add_")
        idx = _as_index_array(index, "index_add_")
        if source.ndim != self.ndim or source.shape[d] != idx.shape[0]:
            raise RuntimeError(
                f"index_add_: source of shape {source.shape} must have self's dims ({self.shape}) with "
                f"{idx.shape[0]} entries (len(index)) along dim {d}"
            )
        where_ = (slice(None),) * d + (idx,)
        return self._write(
            "index_add_", lambda old: old + IndexAdd.apply(source * alpha if alpha != 1 else source,
                                                           index=where_, shape=old.shape), source)

    def scatter_(self: Any, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """self[..., index[i, j], ...] = src[i, j] along `dim` (PyTorch's scatter_), in place."""
        d = self._dim(dim, "scatter_")
        idx = _as_index_array(index, "scatter_")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"scatter_: index must have as many dims as self ({self.ndim}), got shape {idx.shape}")
        grid = list(np.indices(idx.shape, sparse=True))
        grid[d] = idx
        where_ = tuple(grid)
        source = src if src is not None else value
        if source is None:
            raise TypeError("scatter_: give src (a Tensor) or value (a number)")
        if hasattr(source, "_array"):
            source = source[tuple(slice(0, n) for n in idx.shape)]
        return self._write("scatter_", lambda old: SetItem.apply(old, old._operand(source), index=where_), source)

    # ------------------------------------------------------------- random fills (no gradient)
    def uniform_(self: Any, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b), in place (from `generator`, a `tc.Generator`, if given)."""
        if a > b:
            raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
        return self._fill_random("uniform_", _random.rng(generator).uniform(a, b, self.shape))

    def normal_(self: Any, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std²), in place."""
        if std < 0:
            raise RuntimeError(f"normal_ expects std >= 0.0, but found std {std}")
        return self._fill_random("normal_", _random.rng(generator).normal(mean, std, self.shape))

    def bernoulli_(self: Any, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 (probability p, a number or a tensor broadcast to self's shape) or 0, in place."""
        probs = p._array if hasattr(p, "_array") else p
        if not np.all((np.asarray(probs) >= 0) & (np.asarray(probs) <= 1)):
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        return self._fill_random("bernoulli_", _random.rng(generator).random(self.shape) < probs)

    def random_(self: Any, from_: int | None = None, to: int | None = None, *, generator: Any = None) -> Tensor:
        """Fill with integers uniform in [from_, to) (to defaults to 2^mantissa for floats, the dtype's max for
        ints); one number alone is `to`, as in PyTorch: ``random_(10)`` draws from [0, 10)."""
        if to is None and from_ is not None:
            from_, to = 0, from_
        from_ = 0 if from_ is None else from_
        if to is None:
            to = 2 ** (np.finfo(self.dtype).nmant + 1) if self.dtype.kind == "f" else int(np.iinfo(self.dtype).max)
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        return self._fill_random("random_", _random.rng(generator).integers(from_, to, self.shape))

    def exponential_(self: Any, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of the exponential distribution λ e^(−λx), in place."""
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return self._fill_random("exponential_", _random.rng(generator).exponential(1.0 / lambd, self.shape))

    def _fill_random(self: Any, name: str, values: np.ndarray) -> Tensor:
        return self._write(name, lambda old: old._make(np.asarray(values).astype(old.dtype), None))


def _as_index_array(index: Any, name: str) -> np.ndarray:
    idx = index._array if hasattr(index, "_array") else np.asarray(index)
    if idx.dtype.kind not in "iu" or idx.ndim > (1 if name != "scatter_" else idx.ndim):
        raise TypeError(f"{name}: index must be an integer tensor (1-D), got dtype {idx.dtype}, shape {idx.shape}")
    return idx
