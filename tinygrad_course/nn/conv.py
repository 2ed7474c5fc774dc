"""Convolution and pooling layers: Conv1d, Conv2d, ConvTranspose2d, max/avg/adaptive pooling in 1-D and 2-D."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn import init
from tinygrad_course.nn.functional_conv import IntPair, IntSingle, int_pair, int_single
from tinygrad_course.nn.module import Module, Parameter
from tinygrad_course.tensor import Tensor, dtypes, pad

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")



def _reset_conv_parameters(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's conv default: W Kaiming-uniform (a = √5), b ~ U(±1/√fan_in), fan_in = weight.shape[1] · Π kernel."""
    # weight.shape[1] is in/groups for Conv1d/Conv2d and out/groups for ConvTranspose2d: PyTorch's rule
    # for all; the kernel is (K,) for Conv1d, (kh, kw) for the 2-D layers.
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = math.prod(weight.shape[1:])
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Conv1d(Module):
    """1-D convolution layer: z[n, o, t] = b[o] + Σ_{c,k} W[o, c, k] · x[n, g·in/groups + c, s·t + d·k − p].

    Cross-correlation, as in PyTorch: weight (out, in/groups, K), bias (out,), g the group of o.
    Init as PyTorch: W ~ Kaiming-uniform with a = √5, i.e. U(±1/√fan_in), b ~ U(±1/√fan_in),
    fan_in = in/groups · K.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntSingle, stride: IntSingle = 1,
                 padding: IntSingle | str = 0, dilation: IntSingle = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        """Check the arguments, create the weight (and bias) and initialise them."""
        super().__init__()
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or in_channels % groups \
                or out_channels % groups:
            raise ValueError(
                f"Conv1d: groups={groups} must be positive and divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv1d: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got {padding!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = int_single(kernel_size, "Conv1d", "kernel_size", 1)
        self.stride = int_single(stride, "Conv1d", "stride", 1)
        self.padding: tuple[int] | str = (
            padding if isinstance(padding, str) else int_single(padding, "Conv1d", "padding", 0))
        self.dilation = int_single(dilation, "Conv1d", "dilation", 1)
        self.groups = groups
        self.padding_mode = padding_mode
        if padding == "same" and self.stride != (1,):
            raise ValueError(f"Conv1d: padding='same' is not supported for strided convolutions (stride {self.stride})")
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.zeros((out_channels, in_channels // groups) + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw W and b again from PyTorch's default distributions (fan_in = in/groups · K)."""
        _reset_conv_parameters(self.weight, self.bias)

    def _side_padding(self) -> tuple[int, int]:
        """(left, right) padding of the length: p each side, or d·(K − 1) split with the odd extra on the right for 'same'."""
        if self.padding == "valid":
            return 0, 0
        if self.padding == "same":
            total = self.dilation[0] * (self.kernel_size[0] - 1)
            return total // 2, total - total // 2
        return self.padding[0], self.padding[0]

    def forward(self, input: Tensor) -> Tensor:
        """F.conv1d with this layer's weight, bias and settings; input (N, C_in, L) or (C_in, L).

        A padding_mode other than 'zeros' pads the input first (F.pad with that mode, as PyTorch),
        then convolves without padding.
        """
        if not isinstance(input, Tensor) or input.ndim not in (2, 3) or input.shape[-2] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.in_channels}, L) or ({self.in_channels}, L) "
                f"with {self.in_channels} channels, got input of shape {getattr(input, 'shape', type(input).__name__)}"
            )
        padding: tuple[int] | str = self.padding
        if self.padding_mode != "zeros":
            left, right = self._side_padding()
            if left or right:
                input = pad(input, (left, right), mode=self.padding_mode)
            padding = (0,)
        return F.conv1d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        """PyTorch's: the channels, kernel_size and stride, then every setting that is not its default."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,):
            s += f", padding={self.padding}"
        if self.dilation != (1,):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(Module):
    """2-D convolution layer (cross-correlation, as in PyTorch): weight (out, in/groups, kh, kw), bias (out,).

    Init as PyTorch: W ~ Kaiming-uniform with a = √5, i.e. U(±1/√fan_in), b ~ U(±1/√fan_in),
    fan_in = in/groups · kh · kw.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", dtype: Any = None) -> None:
        """Check the arguments, create the weight (and bias) and initialise them."""
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must be positive and divide in_channels={in_channels} and "
                f"out_channels={out_channels}"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = int_pair(kernel_size, "Conv2d", "kernel_size", 1)
        self.stride = int_pair(stride, "Conv2d", "stride", 1)
        self.padding = padding if isinstance(padding, str) else int_pair(padding, "Conv2d", "padding", 0)
        self.dilation = int_pair(dilation, "Conv2d", "dilation", 1)
        self.groups = groups
        self.padding_mode = padding_mode
        if padding == "same" and self.stride != (1, 1):
            raise ValueError(f"Conv2d: padding='same' is not supported for strided convolutions (stride {self.stride})")
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.zeros((out_channels, in_channels // groups) + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw W and b again from PyTorch's default distributions."""
        _reset_conv_parameters(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        """F.conv2d with this layer's weight, bias and settings; input (N, C_in, H, W) or (C_in, H, W)."""
        if input.ndim not in (3, 4) or input.shape[-3] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected input of shape (N, {self.in_channels}, H, W) or "
                f"({self.in_channels}, H, W) with {self.in_channels} channels, got input of shape {input.shape}"
            )
        padding = self.padding
        if self.padding_mode != "zeros" and padding != (0, 0):
            if isinstance(padding, str):
                raise ValueError(f"{self!r}: padding={padding!r} needs padding_mode='zeros'")
            ph, pw = padding
            input = pad(input, (pw, pw, ph, ph), mode=self.padding_mode)
            padding = (0, 0)
        return F.conv2d(input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _MaxPoolNd(Module):
    """What MaxPool1d and MaxPool2d share: the settings, kept as given (checked when called), and the repr."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        """Keep the settings (stride defaults to kernel_size)."""
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool2d(_MaxPoolNd):
    """Max over each kernel_size window (stride defaults to kernel_size); gradient to each window's max."""

    def forward(self, input: Tensor) -> Any:
        """F.max_pool2d with these settings."""
        return F.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool2d(Module):
    """Mean over each kernel_size window (stride defaults to kernel_size)."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        """Keep the settings (checked when called)."""
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        """F.avg_pool2d with these settings."""
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(_MaxPoolNd):
    """Max over each kernel_size window along L (stride defaults to kernel_size); input (N, C, L) or (C, L).

    The settings are kept as given (checked when called), as PyTorch; see F.max_pool1d.
    """

    def forward(self, input: Tensor) -> Any:
        """F.max_pool1d with these settings."""
        return F.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)


class AvgPool1d(Module):
    """Mean over each kernel_size window along L (stride defaults to kernel_size); input (N, C, L) or (C, L).

    kernel_size, stride and padding are kept as 1-tuples, as PyTorch; see F.avg_pool1d.
    """

    def __init__(self, kernel_size: IntSingle, stride: IntSingle | None = None, padding: IntSingle = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        """Check and keep the settings."""
        super().__init__()
        self.kernel_size = int_single(kernel_size, "AvgPool1d", "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else int_single(stride, "AvgPool1d", "stride", 1)
        self.padding = int_single(padding, "AvgPool1d", "padding", 0)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        """F.avg_pool1d with these settings."""
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveAvgPoolNd(Module):
    """What AdaptiveAvgPool1d and AdaptiveAvgPool2d share: the output size, kept as given, and the repr."""

    def __init__(self, output_size: Any) -> None:
        """Keep the output size (checked when called)."""
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling of the length to output_size (an int or a 1-tuple), with PyTorch's bins; input (N, C, L) or (C, L)."""

    def forward(self, input: Tensor) -> Tensor:
        """F.adaptive_avg_pool1d."""
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(Module):
    """Max pooling of the length to output_size, with PyTorch's bins; input (N, C, L) or (C, L)."""

    def __init__(self, output_size: IntSingle, return_indices: bool = False) -> None:
        """Keep the output size (an int or a 1-tuple) and whether to return the indices too."""
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        """F.adaptive_max_pool1d."""
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class ConvTranspose2d(Module):
    """Transposed 2-D convolution: weight (in, out/groups, kh, kw), bias (out,), PyTorch's init and output size.

    H_out = (H − 1)·stride − 2·padding + dilation·(kh − 1) + output_padding + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntPair, stride: IntPair = 1,
                 padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1, bias: bool = True,
                 dilation: IntPair = 1, padding_mode: str = "zeros", dtype: Any = None) -> None:
        """Check the arguments, create the weight (and bias) and initialise them."""
        super().__init__()
        if groups < 1 or in_channels % groups or out_channels % groups:
            raise ValueError(f"ConvTranspose2d: groups={groups} must divide in_channels and out_channels")
        if padding_mode != "zeros":
            raise ValueError('ConvTranspose2d: only "zeros" padding mode is supported')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = int_pair(kernel_size, "ConvTranspose2d", "kernel_size", 1)
        self.stride = int_pair(stride, "ConvTranspose2d", "stride", 1)
        self.padding = int_pair(padding, "ConvTranspose2d", "padding", 0)
        self.output_padding = int_pair(output_padding, "ConvTranspose2d", "output_padding", 0)
        self.dilation = int_pair(dilation, "ConvTranspose2d", "dilation", 1)
        self.groups = groups
        self.padding_mode = padding_mode
        dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.zeros((in_channels, out_channels // groups) + self.kernel_size, dtype=dtype))
        if bias:
            self.bias = Parameter(np.zeros(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: Kaiming-uniform (a = √5) with fan_in = out/groups · kh · kw, bias U(±1/√fan_in)."""
        _reset_conv_parameters(self.weight, self.bias)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        """F.conv_transpose2d with this layer's settings (output_size picks output_padding, as in PyTorch)."""
        op = self.output_padding
        if output_size is not None:
            h, w = input.shape[-2:]
            want = tuple(output_size)[-2:]
            op = tuple(
                want[i] - ((n - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1)
                for i, n in enumerate((h, w))
            )
        return F.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding, op, self.groups,
                                  self.dilation)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
                + (f", padding={self.padding}" if self.padding != (0, 0) else "")
                + (f", output_padding={self.output_padding}" if self.output_padding != (0, 0) else ""))


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed output size (oh, ow) (an int, or a pair whose entries may be None: keep that size)."""

    def forward(self, input: Tensor) -> Tensor:
        """F.adaptive_avg_pool2d."""
        return F.adaptive_avg_pool2d(input, self.output_size)


class Upsample(Module):
    """Resize by `size` or `scale_factor`, mode 'nearest' or 'bilinear' (align_corners)."""

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        """Keep the options."""
        super().__init__()
        self.size = size
        self.scale_factor = float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        """F.interpolate."""
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"size={self.size}" if self.size is not None else f"scale_factor={self.scale_factor}"
        return info + f", mode={self.mode!r}"
