"""Weight initialisation in place (PyTorch's ``torch.nn.init``), drawing from the seeded generator.

Fans as in PyTorch: for a weight of shape (out, in, *kernel), fan_in = in · Π kernel and
fan_out = out · Π kernel. Kaiming (He) keeps the variance of activations through a layer:
std = gain / √fan; Xavier (Glorot) balances forward and backward: std = gain · √(2 / (fan_in + fan_out)).
A uniform U(−a, a) has std a/√3, so the uniform variants use a = √3 · std.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from tinygrad_course.ops.elementwise import _erfinv
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import random as _random

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh), √2 (relu),
    √(2 / (1 + slope²)) (leaky_relu, slope = param or 0.01), 3/4 (selu)."""
    if nonlinearity in _LINEAR or nonlinearity == "identity":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; accepted: linear, conv1d, "
        "conv2d, conv3d, conv_transpose1d/2d/3d, sigmoid, identity, tanh, relu, leaky_relu, selu"
    )


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    # In place on the array: initialisation is not part of any graph.
    tensor._array[...] = values
    return tensor


def _check(tensor: Tensor, name: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(tensor).__name__}")


def _calculate_fan_in_and_fan_out(tensor: Tensor, name: str = "init") -> tuple[int, int]:
    """(fan_in, fan_out) = (in · receptive field, out · receptive field) of a ≥ 2-D weight."""
    if tensor.ndim < 2:
        raise ValueError(
            f"{name}: fan in and fan out can not be computed for a tensor with fewer than 2 "
            f"dimensions (shape {tensor.shape})"
        )
    receptive = int(np.prod(tensor.shape[2:], dtype=np.int64))
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with samples of U(a, b)."""
    _check(tensor, "uniform_")
    return _fill(tensor, _random.generator().uniform(a, b, tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with samples of N(mean, std²)."""
    _check(tensor, "normal_")
    return _fill(tensor, _random.generator().normal(mean, std, tensor.shape))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with `val`."""
    _check(tensor, "constant_")
    return _fill(tensor, np.asarray(val))


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with U(−a, a), a = gain · √(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_uniform_")
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _random.generator().uniform(-a, a, tensor.shape))


def xavier_normal_(tensor: Tensor, gain: float = 1.0) -> Tensor:
    """Fill with N(0, std²), std = gain · √(2 / (fan_in + fan_out))."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, "xavier_normal_")
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _fill(tensor, _random.generator().normal(0.0, std, tensor.shape))


def _kaiming_std(tensor: Tensor, a: float, mode: str, nonlinearity: str, name: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{name}: mode {mode!r} not supported, please use 'fan_in' or 'fan_out'")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor, name)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """Fill with U(−bound, bound), bound = √3 · gain / √fan (He et al., 2015); `a` is the leaky_relu slope."""
    _check(tensor, "kaiming_uniform_")
    if tensor._array.size == 0:
        return tensor  # nothing to draw (PyTorch warns and does the same)
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _fill(tensor, _random.generator().uniform(-bound, bound, tensor.shape))


def kaiming_normal_(tensor: Tensor, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu") -> Tensor:
    """Fill with N(0, std²), std = gain / √fan."""
    _check(tensor, "kaiming_normal_")
    if tensor._array.size == 0:
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _fill(tensor, _random.generator().normal(0.0, std, tensor.shape))


def _norm_cdf(x: float) -> float:
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def trunc_normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0, generator: Any = None
) -> Tensor:
    """Fill with N(mean, std²) truncated to [a, b], by PyTorch's inverse-CDF method.

    u ~ U(2Φ(α) − 1, 2Φ(β) − 1) with α = (a − mean)/std, β = (b − mean)/std; then
    x = mean + std·√2·erf⁻¹(u), clamped to [a, b]. Warns (as PyTorch) when mean is more than
    2 std outside [a, b].
    """
    _check(tensor, "trunc_normal_")
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn(
            "mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
            "The distribution of values may be incorrect.",
            stacklevel=2,
        )
    lo = _norm_cdf((a - mean) / std)
    hi = _norm_cdf((b - mean) / std)
    u = _random.rng(generator).uniform(2 * lo - 1, 2 * hi - 1, tensor.shape)
    values = np.clip(_erfinv(u) * (std * math.sqrt(2.0)) + mean, a, b)
    return _fill(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1.0, generator: Any = None) -> Tensor:
    """Fill with a (semi-)orthogonal matrix times `gain` (Saxe et al., 2013), as PyTorch.

    The tensor is viewed as rows = shape[0] by cols = the rest; Q of the QR decomposition of a
    Gaussian matrix (of its transpose when rows < cols), with the columns' signs fixed by
    sign(diag R) so that Q is uniformly (Haar) distributed. Rows (rows ≤ cols) or columns are orthonormal.
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor._array.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor._array.size // rows
    flattened = _random.rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flattened = flattened.T
    q, r = np.linalg.qr(flattened)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def eye_(tensor: Tensor) -> Tensor:
    """Fill a 2-D tensor with the identity matrix (ones on the main diagonal, zeros elsewhere)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """Fill a 3/4/5-D convolution weight with the Dirac delta: the conv preserves the input channels
    (per group: output channel d of group g copies input channel d, at the kernel's centre)."""
    _check(tensor, "dirac_")
    dimensions = tensor.ndim
    if dimensions not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    out_chans_per_grp = sizes[0] // groups
    min_dim = min(out_chans_per_grp, sizes[1])
    values = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min_dim):
            values[(g * out_chans_per_grp + d, d, *centre)] = 1
    return _fill(tensor, values)
