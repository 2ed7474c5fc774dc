"""More of ``torch.nn.functional`` for layers: rms_norm, channel dropout (dropout1d/2d/3d), pixel_shuffle and
pixel_unshuffle, composed of Tensor ops (reshapes, permutes, products), so their gradients of any order come
from those. All are re-exported by `tinygrad_course.nn.functional`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import random as _random

__all__ = ["dropout1d", "dropout2d", "dropout3d", "pixel_shuffle", "pixel_unshuffle", "rms_norm"]


def rms_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """y = x / √(mean(x²) + ε) · γ, the mean over the last len(normalized_shape) dims; ε = None: finfo(x.dtype).eps.

    As PyTorch, float16 input is computed in float32 (with float32's ε) and rounded back.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rms_norm: input must be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"rms_norm: input must be floating point, got {input.dtype}")
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if input.ndim < k or input.shape[input.ndim - k :] != shape:
        raise ValueError(
            f"rms_norm: input of shape {input.shape} does not end with normalized_shape {shape}; "
            f"expected input of shape (*, {', '.join(str(s) for s in shape)})"
        )
    if weight is not None and weight.shape != shape:
        raise ValueError(f"rms_norm: weight must have the shape of normalized_shape {shape}, got {weight.shape}")
    x = input.to(np.float32) if input.dtype == np.float16 else input
    if eps is None:
        eps = float(np.finfo(x.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    out = x * ((x * x).mean(axes, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * (weight.to(x.dtype) if weight.dtype != x.dtype else weight)
    return out.to(input.dtype) if out.dtype != input.dtype else out


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool, op: str) -> Tensor:
    """Zero whole channels (dim 1, or dim 0 of unbatched input) with probability p, scale the rest by 1/(1 − p)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    shape = tuple(input.shape) if batched else (1,) + tuple(input.shape)
    if p == 1.0:
        mask = np.zeros((), dtype=input.dtype)
    else:
        if len(shape) < 2:
            raise ValueError(f"{op}: feature dropout requires at least 2 dimensions in the input, got input of "
                             f"shape {input.shape}")
        noise = shape[:2] + (1,) * (len(shape) - 2)
        keep = _random.generator().random(noise if batched else noise[1:]) >= p
        mask = keep.astype(input.dtype) * np.asarray(1.0 / (1.0 - p), dtype=input.dtype)
    if inplace:
        return input.mul_(Tensor._make(mask, None))
    return input * Tensor._make(mask, None)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, L) or unbatched (C, L) input: each channel zeroed with probability p, the rest × 1/(1 − p)."""
    if input.ndim not in (2, 3):
        raise ValueError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs)."
        )
    return _feature_dropout(input, p, training, inplace, input.ndim == 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, H, W) input: each channel zeroed with probability p, the rest × 1/(1 − p).

    As PyTorch, 3-D input is read as (N, C, L) (with a warning), not as unbatched (C, H, W).
    """
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a "
            "channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, True, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Channel dropout of (N, C, D, H, W) or unbatched (C, D, H, W) input: each channel zeroed with probability p, the rest × 1/(1 − p)."""
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout3d exists to provide channel-wise dropout on inputs with 3 spatial dimensions, a "
            "channel dimension, and an optional batch dimension (i.e. 4D or 5D inputs).",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, input.ndim == 5, "dropout3d")


def _shuffle_factor(factor: int, op: str, name: str, input: Tensor) -> int:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {factor!r}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"{op} expects input to have at least 3 dimensions, but got input with {input.ndim} "
                         "dimension(s)")
    if factor <= 0:
        raise ValueError(f"{op} expects a positive {name}, but got {factor}")
    return int(factor)


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C·r², H, W) → (*, C, H·r, W·r): out[…, c, h·r + i, w·r + j] = in[…, c·r² + i·r + j, h, w]."""
    r = _shuffle_factor(upscale_factor, "pixel_shuffle", "upscale_factor", input)
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                         f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k, batch = len(lead), tuple(lead)
    x = input.reshape(batch + (c // (r * r), r, r, h, w))
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(batch + (c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H·r, W·r) → (*, C·r², H, W), the inverse of pixel_shuffle."""
    r = _shuffle_factor(downscale_factor, "pixel_unshuffle", "downscale_factor", input)
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ValueError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                             f"input.size({dim})={size} is not divisible by {r}")
    k, batch = len(lead), tuple(lead)
    x = input.reshape(batch + (c, h // r, r, w // r, r))
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(batch + (c * r * r, h // r, w // r))
