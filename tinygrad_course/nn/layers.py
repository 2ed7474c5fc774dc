"""Layers with parameters or state: Identity, Linear, Flatten, Dropout (and the channel Dropout1d/2d/3d),
BatchNorm1d/2d, LayerNorm, RMSNorm, Embedding, PixelShuffle/PixelUnshuffle, ….

Default initialisation follows PyTorch, drawing from the seeded generator.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn import init
from tinygrad_course.nn.module import Module, Parameter
from tinygrad_course.ops import fused
from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor.creation import tensor


def _empty(*shape: int, dtype: Any = None) -> Parameter:
    return Parameter(np.zeros(shape, dtype=dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)))


class Identity(Module):
    """z = x (a placeholder, e.g. to switch a layer off)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments are accepted and ignored, as in PyTorch."""
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        """Return the input unchanged."""
        return input


class Linear(Module):
    """Fully connected layer z = a Wᵀ + b, W: (out_features, in_features).

    Init as PyTorch: W ~ U(−1/√in, 1/√in) (Kaiming-uniform with a = √5), b ~ U(−1/√in, 1/√in).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        """Create W (and b) and initialise them."""
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(f"Linear: feature counts must be non-negative, got ({in_features}, {out_features})")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty(out_features, in_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw W and b again from PyTorch's default distributions."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input: Tensor) -> Tensor:
        """z = x Wᵀ + b over the last dim of x (…, in_features)."""
        if type(input) is not Tensor and isinstance(input, Tensor):  # a Parameter, or a batched tensor in vmap
            return F.linear(input, self.weight, self.bias)
        try:
            data = input._array
        except AttributeError:
            raise TypeError(f"{self!r}: input must be a Tensor, got {type(input).__name__}; wrap it with tc.tensor(...)") from None
        if not data.shape or data.shape[-1] != self.in_features:
            raise ValueError(
                f"{self!r}: expected input with {self.in_features} features in its last dim, got "
                f"input of shape {input.shape}"
            )
        weight, bias = self.weight, self.bias
        if data.dtype is weight._array.dtype:
            # The hot path of every MLP: shapes and dtypes are already known to fit.
            return fused.Linear.apply(input, weight) if bias is None else fused.Linear.apply(input, weight, bias)
        return F.linear(input, self.weight, self.bias)  # raises its dtype error

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merge dims start_dim..end_dim into one (by default all but the batch dim)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        """Remember which dims to merge."""
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        """input.flatten(start_dim, end_dim)."""
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """In training, zero each element with probability p and scale the others by 1/(1 − p); identity in eval."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        """Check and keep p."""
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """F.dropout(input, p, self.training, inplace)."""
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class _BatchNorm(Module):
    """Shared code of BatchNorm1d/2d: per-channel normalisation with running statistics."""

    _dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = None) -> None:
        """γ = 1, β = 0; running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype=_float(dtype)))
            self.bias = Parameter(np.zeros(num_features, dtype=_float(dtype)))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", tensor(np.zeros(num_features, dtype=_float(dtype))))
            self.register_buffer("running_var", tensor(np.ones(num_features, dtype=_float(dtype))))
            self.register_buffer("num_batches_tracked", tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean._array[...] = 0
            self.running_var._array[...] = 1
            self.num_batches_tracked._array[...] = 0

    def forward(self, input: Tensor) -> Tensor:
        """Normalise with batch statistics (training, updating the running ones) or the running ones (eval)."""
        if input.ndim not in self._dims:
            expected = " or ".join(f"{d}-D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {expected} input, got input of shape {input.shape}")
        if input.shape[1] != self.num_features:
            raise ValueError(
                f"{self!r}: expected input with {self.num_features} channels in dim 1, got input of shape {input.shape}"
            )
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._array[...] += 1
            if self.momentum is None:
                # Cumulative moving average: the running statistics are the mean over all batches.
                factor = 1.0 / float(self.num_batches_tracked._array)
        use_batch_stats = self.training or not self.track_running_stats
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


def _float(dtype: Any) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input per channel C (Ioffe & Szegedy, 2015)."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input per channel C."""

    _dims = (4,)


class LayerNorm(Module):
    """y = (x − μ) / √(σ² + ε) · γ + β over the last dims given by normalized_shape (per sample)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None) -> None:
        """γ = 1 and β = 0 of shape normalized_shape."""
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=_float(dtype)))
            if bias:
                self.bias = Parameter(np.zeros(shape, dtype=_float(dtype)))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        """F.layer_norm over the last len(normalized_shape) dims."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """y = x / √(mean(x²) + ε) · γ over the last dims given by normalized_shape; ε = None: finfo(x.dtype).eps."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None, elementwise_affine: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        """γ = 1 of shape normalized_shape (elementwise_affine), else no parameter."""
        super().__init__()
        device_.check(device, "RMSNorm")
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype=_float(dtype)))
        else:
            self.register_parameter("weight", None)

    def reset_parameters(self) -> None:
        """γ = 1."""
        if self.weight is not None:
            self.weight._array[...] = 1

    def forward(self, input: Tensor) -> Tensor:
        """F.rms_norm over the last len(normalized_shape) dims."""
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class _DropoutNd(Module):
    """Shared code of Dropout1d/2d/3d: channel dropout with probability p, identity in eval."""

    _fn = ""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        """Check and keep p."""
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """The channel dropout of F (dropout1d, dropout2d or dropout3d) in training mode, the input in eval."""
        return getattr(F, self._fn)(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """In training, zero each channel of (N, C, L) or (C, L) input with probability p, scale the rest by 1/(1 − p)."""

    _fn = "dropout1d"


class Dropout2d(_DropoutNd):
    """In training, zero each channel of (N, C, H, W) input with probability p, scale the rest by 1/(1 − p)."""

    _fn = "dropout2d"


class Dropout3d(_DropoutNd):
    """In training, zero each channel of (N, C, D, H, W) or (C, D, H, W) input with probability p, scale the rest by 1/(1 − p)."""

    _fn = "dropout3d"


class PixelShuffle(Module):
    """(*, C·r², H, W) → (*, C, H·r, W·r) with r = upscale_factor (sub-pixel convolution's rearrangement)."""

    def __init__(self, upscale_factor: int) -> None:
        """Keep r."""
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """F.pixel_shuffle(input, r)."""
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H·r, W·r) → (*, C·r², H, W) with r = downscale_factor (PixelShuffle's inverse)."""

    def __init__(self, downscale_factor: int) -> None:
        """Keep r."""
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        """F.pixel_unshuffle(input, r)."""
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class Embedding(Module):
    """A lookup table: integer index i → row i of weight (num_embeddings, embedding_dim), init N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, dtype: Any = None) -> None:
        """Draw the table from N(0, 1); the padding_idx row (if any) is zero and gets no gradient."""
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = None if padding_idx is None else F._padding_index(padding_idx, num_embeddings)
        self.weight = _empty(num_embeddings, embedding_dim, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._array[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:
        """weight[input], shape (*input.shape, embedding_dim)."""
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size` (the inverse of Flatten)."""

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        """Keep the dim and the sizes it becomes."""
        super().__init__()
        self.dim = dim
        self.unflattened_size = tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        """input reshaped with dim replaced by unflattened_size."""
        d = self.dim % input.ndim
        return input.reshape(input.shape[:d] + self.unflattened_size + input.shape[d + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Bilinear(Module):
    """y_k = x1ᵀ W_k x2 + b_k; weight (out, in1, in2), bias (out,), both U(±1/√in1) as PyTorch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 dtype: Any = None) -> None:
        """Create and initialise W (and b)."""
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _empty(out_features, in1_features, in2_features, dtype=dtype)
        if bias:
            self.bias = _empty(out_features, dtype=dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """W, b ~ U(−1/√in1, 1/√in1)."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """x1ᵀ W_k x2 + b_k over the last dims of x1 (…, in1) and x2 (…, in2)."""
        lead = input1.shape[:-1]
        x1 = input1.reshape(-1, self.in1_features)
        x2 = input2.reshape(-1, self.in2_features)
        o, i1, i2 = self.weight.shape
        w = self.weight.permute(1, 0, 2).reshape(i1, o * i2)
        out = ((x1 @ w).reshape(-1, o, i2) * x2.unsqueeze(1)).sum(2)
        if self.bias is not None:
            out = out + self.bias
        return out.reshape(lead + (o,))

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalise over groups of channels (and all positions) per sample; γ, β per channel."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5, affine: bool = True,
                 dtype: Any = None) -> None:
        """γ = 1, β = 0 of shape (num_channels,)."""
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("GroupNorm: num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        if affine:
            self.weight = Parameter(np.ones(num_channels, dtype=_float(dtype)))
            self.bias = Parameter(np.zeros(num_channels, dtype=_float(dtype)))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:
        """F.group_norm."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNorm2d(_BatchNorm):
    """Normalise each (sample, channel) of (N, C, H, W) or (C, H, W) input over H, W.

    PyTorch's defaults: affine=False, track_running_stats=False (then no parameters, no buffers).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = False,
                 track_running_stats: bool = False, dtype: Any = None) -> None:
        """As BatchNorm, with PyTorch's InstanceNorm defaults."""
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, input: Tensor) -> Tensor:
        """F.instance_norm with batch statistics (training or no running stats) or the running ones."""
        if input.ndim not in (3, 4):
            raise ValueError(f"InstanceNorm2d: expected 3-D or 4-D input, got input of shape {input.shape}")
        if input.ndim == 3:
            return self.forward(input.unsqueeze(0)).squeeze(0)
        use = self.training or not self.track_running_stats
        momentum = 0.1 if self.momentum is None else self.momentum
        return F.instance_norm(input, self.running_mean, self.running_var, self.weight, self.bias, use, momentum, self.eps)
