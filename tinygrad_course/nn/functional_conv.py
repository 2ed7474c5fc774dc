"""Convolution and pooling as functions: conv1d, conv2d, max/avg/adaptive pooling in 1-D and 2-D, unfold, fold.

All are built on strided windows of the input (see ops/conv.py), with no Python loop over
pixels. Inputs are (N, C, H, W), or (C, H, W) for a single image; conv1d's and the 1-D pools'
are (N, C, L) or (C, L), run as conv2d and the 2-D pools on (N, C, 1, L).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.ops.conv import Col2im, Conv2d, Im2col, out_size, windows
from tinygrad_course.tensor import Tensor, pad
from tinygrad_course.tensor.batched import BatchedTensor
from tinygrad_course.tensor.movement_methods import cat as _cat

IntPair = int | tuple[int, int]
IntSingle = int | tuple[int]


def int_pair(value: Any, op: str, arg: str, minimum: int) -> tuple[int, int]:
    """(value, value) for an int, else the pair itself; checked to be two ints ≥ minimum (TypeError/ValueError naming op and arg)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair):
        raise TypeError(f"{op}: {arg} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{op}: {arg} must be ≥ {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def int_single(value: Any, op: str, arg: str, minimum: int) -> tuple[int]:
    """(value,) for an int, else the 1-tuple itself; checked to be one int ≥ minimum (TypeError/ValueError naming op and arg)."""
    single = (value,) if isinstance(value, (int, np.integer)) else tuple(value) if isinstance(value, (tuple, list)) else None
    if single is None or len(single) != 1 or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in single):
        raise TypeError(f"{op}: {arg} must be an int or a 1-tuple of ints, got {value!r}")
    if single[0] < minimum:
        raise ValueError(f"{op}: {arg} must be ≥ {minimum}, got {value!r}")
    return (int(single[0]),)


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


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntSingle = 1,
           padding: IntSingle | str = 0, dilation: IntSingle = 1, groups: int = 1) -> Tensor:
    """1-D cross-correlation: z[n, o, t] = b[o] + Σ_{c,k} W[o, c, k] · x[n, g·C_in/groups + c, s·t + d·k − p], g = group of o.

    input: (N, C_in, L) or (C_in, L); weight: (C_out, C_in / groups, K); padding: int, 1-tuple,
    "valid" (0) or "same" (output length = L; stride 1 only; an odd total d·(K − 1) puts the extra
    zero at the end). Runs as conv2d on (N, C_in, 1, L) with weight (C_out, C_in/groups, 1, K), so
    its gradients (of any order, and under vmap) are conv2d's.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"conv1d: input must be a Tensor, got {type(input).__name__}")
    if not isinstance(weight, Tensor):
        raise TypeError(f"conv1d: weight must be a Tensor, got {type(weight).__name__}")
    if input.ndim not in (2, 3):
        raise ValueError(f"conv1d: expected input of shape (N, C, L) or (C, L), got shape {input.shape}")
    if weight.ndim != 3:
        raise ValueError(f"conv1d: weight must be 3-D (C_out, C_in/groups, K), got shape {weight.shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or weight.shape[0] % groups:
        raise ValueError(f"conv1d: groups must be a positive int dividing C_out={weight.shape[0]}, got {groups!r}")
    if input.shape[-2] != weight.shape[1] * groups:
        raise ValueError(
            f"conv1d: expected input with {weight.shape[1] * groups} channels (weight of shape "
            f"{weight.shape}, groups={groups}), got input of shape {input.shape}"
        )
    if bias is not None and (not isinstance(bias, Tensor) or bias.shape != (weight.shape[0],)):
        raise ValueError(f"conv1d: bias must have shape ({weight.shape[0]},), got {getattr(bias, 'shape', bias)!r}")
    if input.dtype != weight.dtype:
        raise TypeError(f"conv1d: input has dtype {input.dtype} but weight has {weight.dtype}; convert the input")
    (s,) = int_single(stride, "conv1d", "stride", 1)
    (d,) = int_single(dilation, "conv1d", "dilation", 1)
    k, length = weight.shape[2], input.shape[-1]
    pad2d: tuple[int, int] | str
    if isinstance(padding, str):
        if padding not in ("valid", "same"):
            raise ValueError(f"conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got {padding!r}")
        if padding == "same" and s != 1:
            raise ValueError(f"conv1d: padding='same' is not supported for strided convolutions (stride {(s,)})")
        total = 0 if padding == "valid" else d * (k - 1)  # conv2d's 'same' pads the odd extra at the end
        pad2d, shown = padding, padding
    else:
        (p,) = int_single(padding, "conv1d", "padding", 0)
        total, pad2d, shown = 2 * p, (0, p), (p,)
    out_len = (length + total - d * (k - 1) - 1) // s + 1
    if out_len <= 0:
        raise ValueError(
            f"conv1d: input of length {length} (padding {shown!r}) is too small for kernel size {k} "
            f"with dilation {d}: the output would have length {out_len}"
        )
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(2), bias, (1, s), pad2d, (1, d), groups)
    return out.squeeze(-2)


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
    if isinstance(x, BatchedTensor):  # under vmap: the batch dims merged into N, pooled at once on the physical tensor
        phys = x._inner
        lead = tuple(phys.shape[:len(x._levels) + 1 - single])
        pooled = max_pool2d(phys.reshape((-1,) + tuple(x.shape[1:])), k, s, p, d, return_indices=return_indices)
        out, plane = pooled if return_indices else (pooled, None)
        out = BatchedTensor(out.reshape(lead + tuple(out.shape[1:])), x._levels)
        if plane is None:
            return out
        return out, BatchedTensor(plane.reshape(lead + tuple(plane.shape[1:])), x._levels)
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


# ---------------------------------------------------------------------- 1-D pooling
# Run as the 2-D pooling on (N, C, 1, L), as conv1d runs as conv2d: gradients (of any order) and
# vmap are those of max_pool2d, avg_pool2d and adaptive_avg_pool2d.
def _input_1d(input: Tensor, op: str) -> Tensor:
    """Check a pooling input: a floating-point Tensor of shape (N, C, L) or (C, L)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (2, 3):
        raise ValueError(f"{op}: expected input of shape (N, C, L) or (C, L), got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"{op}: input must be floating point, got {input.dtype}")
    return input


def _pool1d_geometry(op: str, length: int, kernel_size: IntSingle, stride: IntSingle | None, padding: IntSingle,
                     dilation: IntSingle, ceil_mode: bool) -> tuple[int, int, int, int, int]:
    """(k, s, p, d, output length) with PyTorch's rule for ceil_mode (no window may start in the right padding)."""
    (k,) = int_single(kernel_size, op, "kernel_size", 1)
    (s,) = (k,) if stride is None or stride == () or stride == [] else int_single(stride, op, "stride", 1)
    (p,) = int_single(padding, op, "padding", 0)
    (d,) = int_single(dilation, op, "dilation", 1)
    if p > k // 2:
        raise ValueError(f"{op}: padding {(p,)} should be at most half of kernel size {(k,)}")
    span = length + 2 * p - d * (k - 1) - 1
    out_len = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and out_len > 0 and (out_len - 1) * s >= length + p:
        out_len -= 1
    if out_len <= 0:
        raise ValueError(
            f"{op}: input of length {length} (padding {(p,)}) is too small for kernel size {k} "
            f"with dilation {d}: the output would have length {out_len}"
        )
    return k, s, p, d, out_len


def _ceil_extra(length: int, k: int, s: int, p: int, d: int, out_len: int) -> int:
    """How many positions past the right padding the last window reaches (> 0 only with ceil_mode)."""
    return max((out_len - 1) * s + d * (k - 1) + 1 - (length + 2 * p), 0)


def max_pool1d(input: Tensor, kernel_size: IntSingle, stride: IntSingle | None = None, padding: IntSingle = 0,
               dilation: IntSingle = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """z[n, c, t] = max of x[n, c, s·t + d·j − p] over j < kernel_size (padding −inf); stride defaults to kernel_size.

    input (N, C, L) or (C, L). ceil_mode rounds the output length up, as PyTorch (a last, partial
    window, never one that starts in the right padding). The gradient goes to the (first) maximum
    of each window; with `return_indices`, also returns each maximum's index along L (int64).
    Runs as max_pool2d on (N, C, 1, L).
    """
    x = _input_1d(input, "max_pool1d")
    length = x.shape[-1]
    k, s, p, d, out_len = _pool1d_geometry("max_pool1d", length, kernel_size, stride, padding, dilation, ceil_mode)
    extra = _ceil_extra(length, k, s, p, d, out_len)
    if extra:  # ceil_mode's partial last window: −inf past the end, so it never wins
        x = pad(x, (0, extra), value=-np.inf)
    pooled = max_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), (1, d), return_indices=return_indices)
    if return_indices:
        out, indices = pooled
        return out.squeeze(-2), indices.squeeze(-2)
    return pooled.squeeze(-2)


def avg_pool1d(input: Tensor, kernel_size: IntSingle, stride: IntSingle | None = None, padding: IntSingle = 0,
               ceil_mode: bool = False, count_include_pad: bool = True) -> Tensor:
    """z[n, c, t] = mean of the window x[n, c, s·t − p : s·t − p + kernel_size] (zero padding); stride defaults to kernel_size.

    The divisor is PyTorch's: the window's size within [−p, L + p) with count_include_pad (so a
    ceil_mode window hanging past the right padding counts only up to it), else its number of
    input elements. Input (N, C, L) or (C, L); runs as avg_pool2d on (N, C, 1, L).
    """
    x = _input_1d(input, "avg_pool1d")
    length = x.shape[-1]
    k, s, p, _, out_len = _pool1d_geometry("avg_pool1d", length, kernel_size, stride, padding, 1, ceil_mode)
    extra = _ceil_extra(length, k, s, p, 1, out_len)
    if extra:
        x = pad(x, (0, extra))
    sums = avg_pool2d(x.unsqueeze(-2), (1, k), (1, s), (0, p), divisor_override=1).squeeze(-2)
    starts = np.arange(out_len) * s - p
    ends = np.minimum(starts + k, length + p)
    counts = ends - starts if count_include_pad else np.minimum(ends, length) - np.maximum(starts, 0)
    return sums / Tensor._make(np.maximum(counts, 1).astype(x.dtype), None)


def _adaptive_size(output_size: Any, op: str) -> int:
    (size,) = int_single(output_size, op, "output_size", 1)
    return size


def adaptive_avg_pool1d(input: Tensor, output_size: IntSingle) -> Tensor:
    """Mean over PyTorch's adaptive bins [⌊i·L/o⌋, ⌈(i+1)·L/o⌉) of the length; input (N, C, L) or (C, L).

    Runs as adaptive_avg_pool2d on (N, C, 1, L): a matmul by a constant matrix.
    """
    x = _input_1d(input, "adaptive_avg_pool1d")
    size = _adaptive_size(output_size, "adaptive_avg_pool1d")
    return adaptive_avg_pool2d(x.unsqueeze(-2), (1, size)).squeeze(-2)


def adaptive_max_pool1d(input: Tensor, output_size: IntSingle, return_indices: bool = False) -> Any:
    """Max over PyTorch's adaptive bins [⌊i·L/o⌋, ⌈(i+1)·L/o⌉) of the length; input (N, C, L) or (C, L).

    The bins (of unequal sizes) are gathered into an (…, o, m) tensor, each padded with
    repeats of its last element, then reduced by max(-1): the gradient goes to each bin's first
    maximum. With `return_indices`, also returns each maximum's index along L (int64).
    """
    x = _input_1d(input, "adaptive_max_pool1d")
    size = _adaptive_size(output_size, "adaptive_max_pool1d")
    length = x.shape[-1]
    starts = (np.arange(size) * length) // size
    ends = -((-(np.arange(size) + 1) * length) // size)
    width = int((ends - starts).max())
    gather = np.minimum(starts[:, None] + np.arange(width), ends[:, None] - 1)  # (o, m)
    bins = x[(slice(None),) * (x.ndim - 1) + (gather,)]  # (…, C, o, m)
    values, local = bins.max(-1)
    if not return_indices:
        return values
    return values, local + Tensor._make(starts.astype(np.int64), None)


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


# ---------------------------------------------------------------------- resampling as matrices
# Nearest, bilinear and adaptive-average resampling are linear maps along H and along W
# separately, so y = A_h · x · A_wᵀ with constant matrices: two matmuls, differentiable for free.
def _adaptive_matrix(n_in: int, n_out: int, dtype: np.dtype) -> np.ndarray:
    a = np.zeros((n_out, n_in), dtype=dtype)
    for i in range(n_out):
        start = (i * n_in) // n_out
        end = -((-(i + 1) * n_in) // n_out)
        a[i, start:end] = 1.0 / (end - start)
    return a


def _nearest_matrix(n_in: int, n_out: int, scale: float, dtype: np.dtype) -> np.ndarray:
    src = np.minimum(np.floor(np.arange(n_out) * scale).astype(np.int64), n_in - 1)
    a = np.zeros((n_out, n_in), dtype=dtype)
    a[np.arange(n_out), src] = 1.0
    return a


def _linear_matrix(n_in: int, n_out: int, scale: float, align_corners: bool, dtype: np.dtype) -> np.ndarray:
    dst = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = dst * ((n_in - 1) / (n_out - 1) if n_out > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = src - i0
    a = np.zeros((n_out, n_in), dtype=np.float64)
    np.add.at(a, (np.arange(n_out), i0), 1.0 - lam)
    np.add.at(a, (np.arange(n_out), i1), lam)
    return a.astype(dtype)


def _separable(input: Tensor, a_h: np.ndarray, a_w: np.ndarray) -> Tensor:
    return Tensor._make(a_h, None) @ input @ Tensor._make(np.ascontiguousarray(a_w.T), None)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive bins [⌊i·H/oh⌋, ⌈(i+1)·H/oh⌉) along H and W; input (N, C, H, W) or (C, H, W)."""
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected 3-D or 4-D input, got {input.shape}")
    h, w = input.shape[-2:]
    size = (output_size, output_size) if isinstance(output_size, int) else tuple(output_size)
    oh = h if size[0] is None else size[0]
    ow = w if size[1] is None else size[1]
    return _separable(input, _adaptive_matrix(h, oh, input.dtype), _adaptive_matrix(w, ow, input.dtype))


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize (N, C, H, W) input by `size` or `scale_factor` with mode 'nearest' or 'bilinear' (align_corners)."""
    if input.ndim != 4:
        raise ValueError(f"interpolate: only 4-D input (N, C, H, W) is supported, got {input.shape}")
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"interpolate: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if align_corners is not None and mode == "nearest":
        raise ValueError("interpolate: align_corners option can only be set with the interpolating modes: bilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: exactly one of size or scale_factor must be given")
    h, w = input.shape[-2:]
    if size is not None:
        oh, ow = (size, size) if isinstance(size, int) else tuple(size)
        scales = (h / oh, w / ow)
    else:
        sf = (scale_factor, scale_factor) if isinstance(scale_factor, (int, float)) else tuple(scale_factor)
        oh, ow = int(math.floor(h * sf[0])), int(math.floor(w * sf[1]))
        scales = (h / oh, w / ow) if recompute_scale_factor else (1.0 / sf[0], 1.0 / sf[1])
    dt = input.dtype
    if mode == "nearest":
        return _separable(input, _nearest_matrix(h, oh, scales[0], dt), _nearest_matrix(w, ow, scales[1], dt))
    ac = bool(align_corners)
    return _separable(input, _linear_matrix(h, oh, scales[0], ac, dt), _linear_matrix(w, ow, scales[1], ac, dt))


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: IntPair = 1,
                     padding: IntPair = 0, output_padding: IntPair = 0, groups: int = 1,
                     dilation: IntPair = 1) -> Tensor:
    """Transposed convolution (the adjoint of conv2d) for weight (C_in, C_out/groups, kh, kw), via col2im (`fold`)."""
    single = input.ndim == 3
    if single:
        input = input.unsqueeze(0)
    if input.ndim != 4 or input.shape[1] != weight.shape[0]:
        raise ValueError(f"conv_transpose2d: input {input.shape} does not fit weight {weight.shape}")
    s = int_pair(stride, "conv_transpose2d", "stride", 1)
    p = int_pair(padding, "conv_transpose2d", "padding", 0)
    op = int_pair(output_padding, "conv_transpose2d", "output_padding", 0)
    d = int_pair(dilation, "conv_transpose2d", "dilation", 1)
    n, cin, h, w = input.shape
    cout_g, kh, kw = weight.shape[1:]
    oh = (h - 1) * s[0] - 2 * p[0] + d[0] * (kh - 1) + op[0] + 1
    ow = (w - 1) * s[1] - 2 * p[1] + d[1] * (kw - 1) + op[1] + 1
    cin_g = cin // groups
    outs = []
    for g in range(groups):
        x = input[:, g * cin_g:(g + 1) * cin_g] if groups > 1 else input
        wg = weight[g * cin_g:(g + 1) * cin_g] if groups > 1 else weight
        cols = wg.reshape(cin_g, cout_g * kh * kw).t() @ x.reshape(n, cin_g, h * w)  # (N, C_out_g·kh·kw, H·W)
        outs.append(fold(cols, (oh, ow), (kh, kw), d, p, s))
    out = outs[0] if groups == 1 else _cat(outs, 1)
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return out.squeeze(0) if single else out

