"""Factories: tensors made from a shape, a range or the seeded random generator (PyTorch's names)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.movement_methods import shape_arg
from tinygrad_course.tensor.tensor import Tensor, infer_dtype


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _leaf(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, None)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new leaf tensor from data (copied), its dtype inferred from the data like ``torch.tensor``."""
    device_.check(device, "tensor")
    if dtype is None and not isinstance(data, Tensor):
        dtype = infer_dtype(data)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array` (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "fiubc" or array.dtype in (np.longdouble, np.clongdouble):
        raise TypeError(f"from_numpy: dtype {array.dtype} is not supported; accepted: floating, complex, integer, bool")
    return Tensor._make(array, None)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """`data` as a tensor without a copy where it can be: the Tensor itself, or a numpy array's memory when the dtype fits.

    As torch.as_tensor: a Tensor of the requested dtype (or none requested) comes back as it
    is; an ndarray of that dtype is shared (writes show through both ways); anything else is
    converted (a copy), with the dtype inferred as ``tc.tensor`` does.
    """
    device_.check(device, "as_tensor")
    wanted = None if dtype is None else dtypes.as_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data if wanted is None or data.dtype == wanted else data.to(wanted)
    if isinstance(data, np.ndarray) and (wanted is None or data.dtype == wanted) and data.dtype.kind in "fiubc":
        return from_numpy(data)
    return tensor(data, dtype=wanted)


def zeros(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of zeros."""
    device_.check(device, "zeros")
    return _leaf(np.zeros(shape_arg(size), dtype=_float(dtype)), requires_grad)


def ones(*size: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    device_.check(device, "ones")
    return _leaf(np.ones(shape_arg(size), dtype=_float(dtype)), requires_grad)


def full(size: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor filled with `fill_value` (int fill → int64, float → default float, like PyTorch)."""
    device_.check(device, "full")
    if dtype is None:
        dtype = infer_dtype(fill_value)
    return _leaf(np.full(shape_arg((size,)), fill_value, dtype=dtypes.as_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """The n×m identity matrix."""
    device_.check(device, "eye")
    return _leaf(np.eye(n, m, dtype=_float(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Values start, start+step, … below end (ints → int64, any float → default float)."""
    device_.check(device, "arange")
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    return _leaf(np.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    device_.check(device, "linspace")
    if steps < 0:
        raise ValueError(f"linspace: steps must be non-negative, got {steps}")
    return _leaf(np.linspace(start, end, steps, dtype=_float(dtype)), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, dtype: Any = None, requires_grad: bool = False,
             device: Any = None) -> Tensor:
    """`steps` values base^t for t evenly spaced from start to end inclusive."""
    device_.check(device, "logspace")
    if steps < 0:
        raise ValueError(f"logspace: steps must be non-negative, got {steps}")
    return _leaf(np.logspace(start, end, steps, base=base).astype(_float(dtype)), requires_grad)


def rand(*size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Uniform samples on [0, 1) from the seeded generator (or `generator`, a `tc.Generator`)."""
    device_.check(device, "rand")
    data = _random.rng(generator).random(shape_arg(size)).astype(_float(dtype))
    return _leaf(data, requires_grad)


def randn(*size: Any, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Standard normal samples N(0, 1) from the seeded generator (or `generator`); for a complex dtype,
    E|z|² = 1 (real and imaginary parts each N(0, ½)), as PyTorch."""
    device_.check(device, "randn")
    d = _float(dtype)
    rng = _random.rng(generator)
    if d.kind == "c":
        parts = rng.standard_normal(shape_arg(size) + (2,)) * np.sqrt(0.5)
        data = (parts[..., 0] + 1j * parts[..., 1]).astype(d)
    else:
        data = rng.standard_normal(shape_arg(size)).astype(d)
    return _leaf(data, requires_grad)


def randint(low: int, high: Any = None, size: Any = (), *, generator: Any = None, dtype: Any = None,
            requires_grad: bool = False, device: Any = None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` means low = 0), int64 by default."""
    device_.check(device, "randint")
    if high is not None and not isinstance(high, (int, np.integer)) and size == ():
        high, size = None, high  # randint(high, size)
    if high is None:
        low, high = 0, low
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    shape = shape_arg((size,)) if not isinstance(size, (int, np.integer)) else (int(size),)
    data = _random.rng(generator).integers(low, high, shape, dtype=np.int64)
    return _leaf(data.astype(dtypes.as_dtype(dtype)) if dtype is not None else data, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A random permutation of 0..n−1 (int64 unless `dtype`)."""
    device_.check(device, "randperm")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise RuntimeError(f"randperm: n must be a non-negative int, got {n!r}")
    data = _random.rng(generator).permutation(int(n)).astype(np.int64 if dtype is None else dtypes.as_dtype(dtype))
    return _leaf(data, requires_grad)


def normal(mean: Any, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           requires_grad: bool = False, device: Any = None) -> Tensor:
    """Samples of N(mean, std²), in PyTorch's four forms.

    ``normal(mean_tensor, std_tensor)`` (shapes broadcast), ``normal(mean_tensor, std=1.0)`` (mean's
    shape), ``normal(mean_float, std_tensor)`` (std's shape), ``normal(mean_float, std_float, size)``.
    Tensor means and stds must be floating point; the samples are constants (no gradient flows to
    mean or std, as in PyTorch where their gradient is zero).

    Raises:
        TypeError: floats for both mean and std without `size`, or `size` (or `dtype`) with a tensor.
        RuntimeError: a negative std, shapes that do not broadcast, an integer tensor.
    """
    device_.check(device, "normal")
    tensors = [a for a in (mean, std) if isinstance(a, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a float mean and a float std give size, e.g. normal(0.0, 1.0, size=(2, 3)); "
                            "or pass mean or std as a Tensor")
        shape, out_dtype, m, s = shape_arg((size,)), _float(dtype), float(mean), float(std)
    else:
        if size is not None or dtype is not None:
            raise TypeError("normal: size and dtype are only accepted with a float mean and a float std; "
                            "with a tensor mean or std the samples take its shape and dtype")
        for name, a in (("mean", mean), ("std", std)):
            if isinstance(a, Tensor) and a.dtype.kind != "f":
                raise RuntimeError(f"normal: {name} must be a floating-point tensor, got dtype {a.dtype}")
        m = mean._array if isinstance(mean, Tensor) else float(mean)
        s = std._array if isinstance(std, Tensor) else float(std)
        try:
            shape = np.broadcast_shapes(*(t.shape for t in tensors))
        except ValueError:
            raise RuntimeError(f"normal: the shapes of mean {tuple(mean.shape)} and std {tuple(std.shape)} "
                               "do not broadcast") from None
        out_dtype = np.result_type(*(t.dtype for t in tensors))
    if np.size(s) and np.nanmin(s) < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {np.nanmin(s)}")
    data = m + s * _random.rng(generator).standard_normal(shape)
    return _leaf(np.asarray(data, dtype=out_dtype).reshape(shape), requires_grad and not tensors)


def _floating(input: Any, op: str) -> np.ndarray:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise RuntimeError(f"{op}: input must be a floating-point tensor, got dtype {input.dtype}")
    return input._array


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:
    """1 with probability `input` (elementwise), else 0; with `p`, the probability p for every element
    of input's shape. The result has input's dtype.

    Raises:
        RuntimeError: a probability outside [0, 1] (or NaN), an integer input.
    """
    probs = _floating(input, "bernoulli")
    if p is not None:
        if not 0.0 <= float(p) <= 1.0:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        probs = np.full(input.shape, float(p))
    elif not np.all((probs >= 0) & (probs <= 1)):
        raise RuntimeError("bernoulli: expected every probability in [0, 1] (PyTorch: Expected p_in >= 0 && p_in <= 1 to be true)")
    return Tensor._make((_random.rng(generator).random(input.shape) < probs).astype(input.dtype), None)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
    """Indices of categories drawn with probability proportional to the non-negative weights in each
    row of `input` (1-D: one distribution, 2-D: one per row), int64 of shape (…, num_samples).

    Without replacement, each draw is proportional to the weights left (an exponential race, as
    PyTorch does it); categories of weight 0 come only after every positive one is taken.

    Raises:
        RuntimeError: input not 1-D or 2-D or not floating point, num_samples < 1, more samples than
            categories without replacement, a weight negative, infinite or NaN, a row summing to 0.
    """
    weights = _floating(input, "multinomial")
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (multinomial got shape {tuple(weights.shape)})")
    if not isinstance(num_samples, (int, np.integer)) or isinstance(num_samples, bool):
        raise TypeError(f"multinomial: num_samples must be an int, got {type(num_samples).__name__}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    rows = weights.reshape(-1, weights.shape[-1]).astype(np.float64)
    n = rows.shape[1]
    if not replacement and num_samples > n:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"(n_sample={num_samples}, {n} categories)")
    if not (np.isfinite(rows).all() and (rows >= 0).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = rows.sum(axis=1)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    draw = _random.rng(generator)
    if replacement:
        cdf = np.cumsum(rows, axis=1)
        last = n - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # the last category of positive weight
        u = draw.random((rows.shape[0], num_samples)) * cdf[:, -1:]
        out = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u)]) if len(rows) else u
        out = np.minimum(out, last[:, None])
    else:
        keys = rows / draw.exponential(1.0, rows.shape)  # largest keys = the draws, in order
        out = np.argsort(-keys, axis=1, kind="stable")[:, :num_samples]
    return Tensor._make(out.astype(np.int64).reshape(*weights.shape[:-1], num_samples), None)


def poisson(input: Tensor, *, generator: Any = None) -> Tensor:
    """Samples of Poisson(rate) for each rate in `input`, with input's shape and dtype.

    Raises:
        RuntimeError: a negative, infinite or NaN rate, an integer input.
    """
    rates = _floating(input, "poisson")
    if not (np.isfinite(rates).all() and (rates >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative (and finite)")
    return Tensor._make(_random.rng(generator).poisson(rates.astype(np.float64)).astype(input.dtype), None)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Zeros with t's shape and dtype."""
    device_.check(device, "zeros_like")
    return _leaf(np.zeros(t.shape, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """Ones with t's shape and dtype."""
    device_.check(device, "ones_like")
    return _leaf(np.ones(t.shape, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """`fill_value` with t's shape and dtype."""
    device_.check(device, "full_like")
    return _leaf(np.full(t.shape, fill_value, dtype=t.dtype if dtype is None else dtypes.as_dtype(dtype)), requires_grad)


def rand_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, *,
              generator: Any = None) -> Tensor:
    """Uniform [0, 1) samples with t's shape and dtype."""
    device_.check(device, "rand_like")
    return rand(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad, generator=generator)


def randn_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, device: Any = None, *,
               generator: Any = None) -> Tensor:
    """N(0, 1) samples with t's shape and dtype."""
    device_.check(device, "randn_like")
    return randn(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad, generator=generator)


def randint_like(t: Tensor, low: int = 0, high: int | None = None, *, generator: Any = None, dtype: Any = None,
                 requires_grad: bool = False, device: Any = None) -> Tensor:
    """Integers uniform on [low, high) with t's shape and dtype (``randint_like(t, high)`` means low = 0)."""
    device_.check(device, "randint_like")
    if high is None:
        low, high = 0, low
    return randint(low, high, t.shape, generator=generator, dtype=t.dtype if dtype is None else dtype,
                   requires_grad=requires_grad)
