"""Helpers shared by the distributions: broadcasting parameters, probs ⇄ logits, softplus."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import tensor, zeros_like
from tinygrad_course.tensor.dtypes import get_default_dtype
from tinygrad_course.tensor.functions import logaddexp
from tinygrad_course.tensor.movement_methods import broadcast_tensors


def broadcast_all(*values: Any) -> tuple[Tensor, ...]:
    """Tensors from numbers and tensors, broadcast to one shape (PyTorch's `broadcast_all`): numbers
    take the dtype of the first floating tensor given, else the default dtype."""
    dtype = next((v.dtype for v in values if isinstance(v, Tensor) and v.detach().numpy().dtype.kind == "f"), get_default_dtype())
    tensors = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype) for v in values]
    return tuple(broadcast_tensors(*tensors))


def as_value(value: Any, like: Tensor) -> Tensor:
    """A value given to log_prob/cdf/icdf as a tensor (numbers take `like`'s dtype)."""
    return value if isinstance(value, Tensor) else tensor(value, dtype=like.dtype)


def eps_of(t: Tensor) -> float:
    """The machine epsilon of t's dtype."""
    return float(np.finfo(t.detach().numpy().dtype).eps)


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept in [ε, 1 − ε], so that their logarithms stay finite."""
    eps = eps_of(probs)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """log p (or log p − log(1 − p) for a binary probability), from clamped probabilities."""
    ps = clamp_probs(probs)
    return ps.log() - (-ps).log1p() if is_binary else ps.log()


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """softmax(logits) along the last dim (or σ(logits) for binary ones)."""
    return logits.sigmoid() if is_binary else logits.softmax(-1)


def softplus(x: Tensor) -> Tensor:
    """log(1 + eˣ), stable for large |x|."""
    return logaddexp(x, zeros_like(x))  # its gradient is sigmoid(x) everywhere, 0.5 at 0


def sum_rightmost(value: Tensor, dim: int) -> Tensor:
    """value summed over its last `dim` dims."""
    return value.sum(tuple(range(-dim, 0))) if dim > 0 else value


def lazy_property(fn: Any) -> Any:
    """A property computed once and cached in the instance's __dict__ (so validation sees only
    the parameters that were given, as PyTorch's `lazy_property` does)."""
    name = fn.__name__

    def get(self: Any) -> Any:
        if name not in self.__dict__:
            self.__dict__[name] = fn(self)
        return self.__dict__[name]

    return _Lazy(get, fn.__doc__)


class _Lazy:
    def __init__(self, get: Any, doc: Any) -> None:
        self.get, self.__doc__ = get, doc

    def __get__(self, obj: Any, cls: Any = None) -> Any:
        return self if obj is None else self.get(obj)
