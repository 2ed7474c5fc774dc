"""Gradient clipping (`clip_grad_norm_`, `clip_grad_value_`) and `parameters_to_vector` /
`vector_to_parameters`, PyTorch's torch.nn.utils semantics.

The clipping functions replace each gradient's array instead of writing into it: the engine may hand one array
to several parameters (``a + b``) or a read-only broadcast view. The gradient Tensor objects
stay the same, so code holding ``p.grad`` sees the clipped values, as with PyTorch's in-place ops.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor.creation import tensor
from tinygrad_course.tensor.movement_methods import cat


def _grads(parameters: Tensor | Iterable[Tensor], op: str) -> list[Tensor]:
    """The gradient Tensors of `parameters` that have one, each distinct object once."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads: list[Tensor] = []
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(
                f"{op}: parameters[{i}] is a {type(p).__name__}; expected Tensors (e.g. model.parameters())"
            )
        if p.grad is not None and id(p.grad) not in seen:
            seen.add(id(p.grad))
            grads.append(p.grad)
    return grads


def _vector_norm(array: np.ndarray, norm_type: float) -> np.ndarray:
    """‖x‖_p of the flattened array, in its dtype (p = inf: max |x|)."""
    if array.size == 0:
        return np.zeros((), dtype=array.dtype)
    return np.asarray(np.linalg.norm(array.reshape(-1), ord=norm_type))


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients by min(1, max_norm / (N + 1e-6)), N = ‖(‖g₁‖_p, …, ‖gₙ‖_p)‖_p; returns N.

    N is the p-norm of all gradients taken together as one vector (p = ``norm_type``, ``inf``
    for the largest |g|), computed in the gradients' dtype; the 1e-6 is PyTorch's. A non-finite
    N raises RuntimeError if ``error_if_nonfinite``, else it scales the gradients as PyTorch does.
    """
    max_norm = float(max_norm)
    norm_type = float(norm_type)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    if math.isnan(norm_type):
        raise ValueError("clip_grad_norm_: norm_type must be a number (inf for the max norm), got nan")
    grads = _grads(parameters, "clip_grad_norm_")
    if not grads:
        return tensor(np.zeros((), dtype=dtypes.get_default_dtype()))
    norms = [_vector_norm(g._array, norm_type) for g in grads]
    total = _vector_norm(np.stack(norms), norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}, non-finite, so it "
            "cannot be clipped; to scale the gradients by it anyway, pass error_if_nonfinite=False"
        )
    coef = np.minimum(max_norm / (total + 1e-6), 1.0)  # torch.clamp(max=1.0); nan stays nan
    with np.errstate(invalid="ignore"):  # inf·0 = nan is the documented outcome, not a warning
        for g in grads:
            g._array = g._array * g._array.dtype.type(coef)
    return tensor(total)


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float) -> None:
    """Clamp every gradient element to [−clip_value, clip_value]."""
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for g in _grads(parameters, "clip_grad_value_"):
        g._array = np.clip(g._array, -clip_value, clip_value)


def _typename(obj: Any) -> str:
    # torch.typename: a tensor's type() name, a builtin's bare name, else module.qualname.
    if isinstance(obj, Tensor):
        return obj.type()
    cls = type(obj)
    module = cls.__module__
    return cls.__qualname__ if module in ("builtins", "__builtin__", None) else f"{module}.{cls.__qualname__}"


def parameters_to_vector(parameters: Tensor | Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated into one 1-D tensor (differentiable, as PyTorch's views + cat)."""
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    if not params:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Tensor | Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters' data (each takes ``numel`` values).

    As PyTorch (``param.data = vec[i:j].view_as(param).data``), each parameter then shares
    `vec`'s memory. Raises TypeError for a `vec` that is not a Tensor.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    params = [parameters] if isinstance(parameters, Tensor) else parameters
    pointer = 0
    for param in params:
        n = int(np.prod(param.shape, dtype=np.int64))
        chunk = vec._array.reshape(-1)[pointer : pointer + n]
        if chunk.size != n:
            raise RuntimeError(
                f"shape '{list(param.shape)}' is invalid for input of size {chunk.size}"
            )
        param._array = chunk.reshape(param.shape)
        pointer += n
