"""Convolution and pooling as functions: conv2d, max_pool2d, avg_pool2d, unfold, fold (NCHW layout).

All are built on strided windows of the input (see ops/conv.py), with no Python loop over
pixels. Inputs are (N, C, H, W), or (C, H, W) for a single image.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.ops.conv import Col2im, Conv2d, Im2col, out_size, windows
from tinygrad_course.tensor import Tensor, pad

IntPair = int | tuple[int, int]


def int_pair(value: Any, op: str, arg: str, minimum: int) -> tuple[int, int]:
    """(value, value) for an int, else the pair itself; checked to be two ints ≥ minimum (TypeError/ValueError naming op and arg)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {arg} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {arg} must be ≥ {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _batched(input: Tensor, op: str) -> tuple[Tensor, bool]:
    """(input as 4-D, whether a batch dim was added for a single (C, H, W) image)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim == 3:
        return input.unsqueeze(0), True
    if input.ndim != 4:
        raise ValueError(f"{op}: expected input of shape (N, C, H, W) or (C, H, W), got shape {input.shape}")
    return input, False


def _out_hw(op: str, shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int],
            padding: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    oh = out_size(shape[2], kernel[0], stride[0], padding[0], dilation[0])
    ow = out_size(shape[3], kernel[1], stride[1], padding[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"{op}: input of spatial size {shape[2:]} (padding {padding}) is too small for kernel "
            f"{kernel} with dilation {dilation}: the output would be ({oh}, {ow})"
        )
    return oh, ow


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
           padding: IntPair | str = 0, dilation: IntPair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation: z[n, o] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x[n, c, s·y + d·i − p, s·x + d·j − p].

    weight: (C_out, C_in / groups, kh, kw); padding: int, pair, "valid" (0) or "same"
    (output size = input size; stride 1 only).
    """
    x, single = _batched(input, "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (C_out, C_in/groups, kh, kw), got shape {weight.shape}")
    if not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise ValueError(f"conv2d: groups must be a positive int dividing C_out={weight.shape[0]}, got {groups!r}")
    if x.shape[1] != weight.shape[1] * groups:
        raise ValueError(
            f"conv2d: expected input with {weight.shape[1] * groups} channels (weight of shape "
            f"{weight.shape}, groups={groups}), got input of shape {input.shape}"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"conv2d: bias must have shape ({weight.shape[0]},), got {bias.shape}")
    if x.dtype != weight.dtype:
        raise TypeError(f"conv2d: input has dtype {x.dtype} but weight has {weight.dtype}; convert the input")
    s = int_pair(stride, "conv2d", "stride", 1)
    d = int_pair(dilation, "conv2d", "dilation", 1)
    kernel = (weight.shape[2], weight.shape[3])
    if isinstance(padding, str):
        if padding == "valid":
            p = (0, 0)
        elif padding == "same":
            if s != (1, 1):
                raise ValueError(f"conv2d: padding='same' is not supported for strided convolutions (stride {s})")
            # Total padding d·(k − 1) per dim; an odd total puts the extra row/column at the end.
            th, tw = d[0] * (kernel[0] - 1), d[1] * (kernel[1] - 1)
            if th % 2 or tw % 2:
                x = pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
                p = (0, 0)
            else:
                p = (th // 2, tw // 2)
        else:
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    else:
        p = int_pair(padding, "conv2d", "padding", 0)
    _out_hw("conv2d", x.shape, kernel, s, p, d)
    kw = {"stride": s, "padding": p, "dilation": d, "groups": groups}
    out = Conv2d.apply(x, weight, **kw) if bias is None else Conv2d.apply(x, weight, bias, **kw)
    return out.squeeze(0) if single else out


def _pool_args(op: str, kernel_size: IntPair, stride: IntPair | None, padding: IntPair, dilation: IntPair,
               ceil_mode: bool) -> tuple[tuple[int, int], ...]:
    k = int_pair(kernel_size, op, "kernel_size", 1)
    s = k if stride is None or stride == () or stride == [] else int_pair(stride, op, "stride", 1)
    p = int_pair(padding, op, "padding", 0)
    d = int_pair(dilation, op, "dilation", 1)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} should be at most half of kernel size {k}")
    if ceil_mode:
        raise NotImplementedError(f"{op}: ceil_mode=True is not supported; pad the input instead (F.pad)")
    return k, s, p, d


def max_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               dilation: IntPair = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """z[n, c, y, x] = max of the (dilated) window at (s·y − p, s·x − p); stride defaults to kernel_size.

    The gradient goes to the (first) maximum of each window; overlapping windows accumulate.
    With `return_indices`, also returns each maximum's flat index in its (H, W) plane.
    """
    x, single = _batched(input, "max_pool2d")
    if x.dtype.kind != "f":
        raise TypeError(f"max_pool2d: input must be floating point, got {x.dtype}")
    k, s, p, d = _pool_args("max_pool2d", kernel_size, stride, padding, dilation, ceil_mode)
    oh, ow = _out_hw("max_pool2d", x.shape, k, s, p, d)
    n, c, h, w = x.shape
    # Which element of each window is the max: found on a view padded with −inf ...
    view = windows(x._array, k, s, p, d, fill=-np.inf)  # (N, C, kh, kw, OH, OW)
    arg = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, oh, ow, k[0] * k[1]).argmax(-1)  # (N, C, OH, OW)
    ki, kj = np.divmod(arg, k[1])
    rows = np.arange(oh).reshape(oh, 1) * s[0] + ki * d[0] - p[0]
    cols = np.arange(ow) * s[1] + kj * d[1] - p[1]
    plane = rows * w + cols
    # ... then gathered from x by flat index: GetItem's backward scatter-adds (np.add.at), so a
    # pixel that is the max of several overlapping windows collects all their gradients.
    base = (np.arange(n).reshape(n, 1, 1, 1) * c + np.arange(c).reshape(1, c, 1, 1)) * (h * w)
    out = x.reshape(-1)[base + plane]
    if single:
        out, plane = out.squeeze(0), plane[0]
    return (out, Tensor._make(plane.astype(np.int64), None)) if return_indices else out


def avg_pool2d(input: Tensor, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """z[n, c, y, x] = mean of the window at (s·y − p, s·x − p) (zero padding counted unless count_include_pad=False)."""
    x, single = _batched(input, "avg_pool2d")
    if x.dtype.kind != "f":
        raise TypeError(f"avg_pool2d: input must be floating point, got {x.dtype}")
    k, s, p, d = _pool_args("avg_pool2d", kernel_size, stride, padding, 1, ceil_mode)
    _out_hw("avg_pool2d", x.shape, k, s, p, d)
    sums = Im2col.apply(x, kernel=k, stride=s, padding=p, dilation=d).sum((2, 3))
    if divisor_override is not None:
        if divisor_override <= 0:
            raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
        out = sums / float(divisor_override)
    elif count_include_pad or p == (0, 0):
        out = sums / float(k[0] * k[1])
    else:
        ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
        counts = windows(ones, k, s, p, d).sum((2, 3))
        out = sums / Tensor._make(counts, None)
    return out.squeeze(0) if single else out


def unfold(input: Tensor, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0, stride: IntPair = 1) -> Tensor:
    """im2col: (N, C, H, W) → (N, C·kh·kw, L), column l = the flattened window of output position l."""
    if input.ndim != 4:
        raise ValueError(f"unfold: expected input of shape (N, C, H, W), got {input.shape}")
    k = int_pair(kernel_size, "unfold", "kernel_size", 1)
    d, p, s = int_pair(dilation, "unfold", "dilation", 1), int_pair(padding, "unfold", "padding", 0), int_pair(stride, "unfold", "stride", 1)
    oh, ow = _out_hw("unfold", input.shape, k, s, p, d)
    cols = Im2col.apply(input, kernel=k, stride=s, padding=p, dilation=d)  # (N, C, kh, kw, OH, OW)
    n, c = input.shape[0], input.shape[1]
    return cols.reshape(n, c * k[0] * k[1], oh * ow)


def fold(input: Tensor, output_size: IntPair, kernel_size: IntPair, dilation: IntPair = 1, padding: IntPair = 0,
         stride: IntPair = 1) -> Tensor:
    """col2im, the adjoint of `unfold`: (N, C·kh·kw, L) → (N, C, H, W), overlapping entries summed."""
    size = int_pair(output_size, "fold", "output_size", 1)
    k = int_pair(kernel_size, "fold", "kernel_size", 1)
    d, p, s = int_pair(dilation, "fold", "dilation", 1), int_pair(padding, "fold", "padding", 0), int_pair(stride, "fold", "stride", 1)
    n, ckk = input.shape[0], input.shape[1]
    oh, ow = _out_hw("fold", (n, 1) + size, k, s, p, d)
    if input.ndim != 3 or ckk % (k[0] * k[1]) or input.shape[2] != oh * ow:
        raise ValueError(
            f"fold: expected input of shape (N, C·{k[0]}·{k[1]}, {oh * ow}) for output_size {size}, "
            f"got {input.shape}"
        )
    c = ckk // (k[0] * k[1])
    cols = input.reshape(n, c, k[0], k[1], oh, ow)
    return Col2im.apply(cols, shape=(n, c) + size, kernel=k, stride=s, padding=p, dilation=d)
