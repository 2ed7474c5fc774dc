"""Kernels: the size- and layout-dependent tricks that op formulas call by name.

An op's `backward` states its formula once (``zero_where(g, out <= 0)``); how that is computed
fastest on numpy lives here, and nowhere else. Each kernel takes and returns numpy arrays,
or says which of its arguments may also be a Tensor.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.autograd import function


def zero_where(g: Any, cond: np.ndarray) -> Any:
    """g with 0 where cond is True, for g a numpy array or a Tensor; cond is a constant bool array.

    Gradients are masked by selection, never by multiplying with 0/1: an inf or NaN in g where
    cond holds must give 0, not inf · 0 = NaN (PyTorch's rule, as its threshold_backward). A
    Tensor that requires grad (create_graph) goes through the differentiable `where`; otherwise
    the arrays directly.
    """
    if type(g) is np.ndarray or isinstance(g, np.generic):  # (numpy gives scalars for 0-d results)
        return _zero_where_array(g, cond)
    if not g.requires_grad and type(g) is function.Tensor:  # (a vmap-batched g goes by `where`)
        return type(g)._make(np.asarray(_zero_where_array(g._array, cond)), None)
    return g.where(np.logical_not(cond), 0.0)


# A 0-d zero per dtype, made once: building one per call costs a fifth of a small np.where.
_ZEROS = {np.dtype(d): np.zeros((), dtype=d) for d in (np.float16, np.float32, np.float64)}


def _zero_where_array(g: Any, cond: np.ndarray) -> Any:
    # np.where costs 16× a multiplication on large arrays (346k floats: 1.3 ms against 80 µs),
    # and the product by the mask is exact when g is finite, which one cheap pass tells.
    if g.size > 1024 and np.isfinite(g).all():
        return g * np.logical_not(cond)
    zero = _ZEROS.get(g.dtype)
    if zero is None:
        zero = np.zeros((), dtype=g.dtype)
    if g.size <= 256 and type(g) is np.ndarray and cond.shape == g.shape:
        # On small arrays a copy with the masked entries overwritten costs 2/3 of np.where.
        out = g.copy()
        np.copyto(out, zero, where=cond)
        return out
    return np.where(cond, zero, g)


def zero_of(dtype: np.dtype) -> Any:
    """A 0-d zero of `dtype` (cached for the floats): comparing with it costs half of comparing with the Python 0."""
    zero = _ZEROS.get(dtype)
    return zero if zero is not None else np.zeros((), dtype=dtype)


try:  # numpy ≥ 2 keeps its floating-point error settings in this context variable
    from numpy._core._ufunc_config import _extobj_contextvar as _np_errors
except ImportError:  # older numpy: np.errstate itself
    _np_errors = None
# The current settings → the same with divide/over/invalid ignored, made once per distinct setting.
_QUIET: dict[Any, Any] = {}


def quietly(fn: Any, *args: Any) -> Any:
    """fn(*args) with numpy's divide/overflow/invalid warnings off: PyTorch's ops give ±inf and NaN silently.

    The same as ``with np.errstate(divide="ignore", over="ignore", invalid="ignore")``, at a
    third of its cost (np.errstate builds its settings object on each entry: ~0.9 µs, twice a
    small ufunc): the quiet version of the caller's current settings is made once and reused.
    """
    if _np_errors is None:
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            return fn(*args)
    current = _np_errors.get()
    quiet = _QUIET.get(current)
    if quiet is None:
        if len(_QUIET) > 64:  # a program that makes new settings in a loop: keep the table small
            _QUIET.clear()
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            quiet = _QUIET[current] = _np_errors.get()
    token = _np_errors.set(quiet)
    try:
        return fn(*args)
    finally:
        _np_errors.reset(token)


def minus_one_hot(p: Any, labels: np.ndarray) -> Any:
    """p − onehot(labels) for p (M, C), a numpy array or a Tensor; labels (M,) are class indices.

    On an array the one-hot matrix is never built: a copy of p has 1 subtracted at
    (i, labelsᵢ). On a Tensor (create_graph) it is an ordinary subtraction of a constant.
    """
    rows = np.arange(labels.shape[0])
    if isinstance(p, np.ndarray):
        out = p.copy()
        out[rows, labels] -= 1.0
        return out
    one_hot = np.zeros(p.shape, dtype=p.dtype)
    one_hot[rows, labels] = 1.0
    return p - one_hot


# x ** y for the small exponents of everyday formulas, by multiplication, reciprocal and sqrt:
# numpy's general float power costs about 70× more (x ** 3 on 2,000 float32: 92 µs against 1.3).
_SMALL_POWERS = {
    0.5: np.sqrt, 1.0: np.positive, 2.0: np.square, 3.0: lambda x: x * x * x,
    -0.5: lambda x: 1.0 / np.sqrt(x), -1.0: lambda x: 1.0 / x, -2.0: lambda x: 1.0 / (x * x),
}


def power(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """xʸ elementwise; a 0-d exponent of 0.5, ±1, ±2, 3 or −0.5 on floats takes the fast kernels."""
    if y.ndim == 0 and x.dtype.kind == "f" and y.dtype.kind != "c":
        fast = _SMALL_POWERS.get(float(y))
        if fast is not None:
            return np.asarray(fast(x), dtype=np.result_type(x, y))
    return np.power(x, y)
