"""Convolution primitives: im2col (`Im2col`), its adjoint col2im (`Col2im`), and a fused `Conv2d`.

im2col lays every receptive field of x (N, C, H, W) out as a row, so that a convolution is one
matrix product (GEMM). Layout of the columns: (N, OH, OW, C, kh, kw), one output pixel per
(n, oh, ow) and the C·kh·kw inputs it sees after it. The windows come from
`sliding_window_view` (a strided view, no copy, no Python loop over pixels).

Im2col's backward is Col2im (scatter-add of every window back to its pixels, so overlapping
windows accumulate) and Col2im's backward is Im2col, so second derivatives work.
Output size per spatial dim: O = ⌊(H + 2·pad − dil·(k − 1) − 1) / stride⌋ + 1.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_course.autograd import Function, is_grad_enabled
from tinygrad_course.tensor import Tensor

Pair = tuple[int, int]


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (may be ≤ 0 for too small inputs)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, fill: float = 0.0) -> np.ndarray:
    """The receptive fields of x (N, C, H, W) as a read-only view of shape (N, OH, OW, C, kh, kw)."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    v = sliding_window_view(x, span, axis=(2, 3))  # (N, C, H', W', span_h, span_w)
    v = v[:, :, ::sh, ::sw, ::dh, ::dw]
    return v.transpose(0, 2, 3, 1, 4, 5)


class Im2col(Function):
    """z = the receptive fields of x (N, C, H, W) as (N, OH, OW, C, kh, kw); ∂c/∂x = col2im(g)."""

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        ctx.args = (x.shape, kernel, stride, padding, dilation)
        return windows(x, kernel, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        shape, kernel, stride, padding, dilation = ctx.args
        return Col2im.apply(g, shape=shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


def col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
    """Sum every window of cols (N, OH, OW, C, kh, kw) back onto an (N, C, H, W) array."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = cols.shape[1], cols.shape[2]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    cols = cols.transpose(0, 3, 4, 5, 1, 2)  # (N, C, kh, kw, OH, OW)
    # One strided add per kernel offset (kh·kw of them), each covering all pixels at once;
    # overlapping windows land on the same pixels and accumulate.
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols_ = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, cols_] += cols[:, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


class Col2im(Function):
    """z = cols (N, OH, OW, C, kh, kw) summed back onto x's pixels (N, C, H, W); ∂c/∂cols = im2col(g)."""

    @staticmethod
    def forward(ctx, cols, shape=(), kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        ctx.args = (kernel, stride, padding, dilation)
        return col2im(cols, shape, kernel, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        kernel, stride, padding, dilation = ctx.args
        return Im2col.apply(g, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


class Conv2d(Function):
    """z[n, o] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, s·y + d·i, s·x + d·j] (cross-correlation).

    Computed as one GEMM per group: Z = X_col W_colᵀ + b, with X_col the im2col matrix
    (N·OH·OW, C/G·kh·kw). Backward (the lecture's eqs. 2–4 with X_col as the activations):
    ∂c/∂W = δᵀ X_col, ∂c/∂X_col = δ W (then col2im), ∂c/∂b = Σ δ.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        n = x.shape[0]
        cout, cin_g, kh, kw = w.shape
        view = windows(x, (kh, kw), stride, padding, dilation)
        oh, ow = view.shape[1], view.shape[2]
        rows = n * oh * ow
        if groups == 1:
            cols = view.reshape(rows, cin_g * kh * kw)  # the one copy im2col costs
            z = cols @ w.reshape(cout, -1).T
        else:
            cols = view.reshape(rows, groups, cin_g * kh * kw).transpose(1, 0, 2)
            wg = w.reshape(groups, cout // groups, cin_g * kh * kw)
            z = (cols @ wg.transpose(0, 2, 1)).transpose(1, 0, 2).reshape(rows, cout)
        if b is not None:
            z += b
        ctx.save_for_backward(x, w)
        ctx.cols = cols
        ctx.args = (x.shape, (kh, kw), stride, padding, dilation, groups, (n, oh, ow))
        # (N·OH·OW, C_out) → (N, C_out, OH, OW) as a view: channels stay innermost in memory.
        return z.reshape(n, oh, ow, cout).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        shape, kernel, stride, padding, dilation, groups, (n, oh, ow) = ctx.args
        needs = ctx.needs_input_grad
        has_bias = len(needs) > 2
        if not is_grad_enabled():
            grads = _conv_backward_arrays(ctx, g.data, w.data)
            return grads if has_bias else grads[:2]
        # create_graph: the same formulas with Tensor ops, so they are differentiable again.
        cout, cin_g = w.shape[0], w.shape[1]
        k = cin_g * kernel[0] * kernel[1]
        delta = g.permute(0, 2, 3, 1).reshape(n * oh * ow, cout)
        if groups != 1:
            delta = delta.reshape(-1, groups, cout // groups).permute(1, 0, 2)  # (G, rows, C_out/G)
        gx = gw = gb = None
        if needs[1]:
            # X_col as a function of x (Im2col), so that ∂c/∂W carries a gradient to x.
            cols = Im2col.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
            cols = cols.reshape(n * oh * ow, groups, k)
            cols = cols.squeeze(1) if groups == 1 else cols.permute(1, 0, 2)
            gw = (delta.transpose(-1, -2) @ cols).reshape(w.shape)
        if needs[0]:
            wm = w.reshape(cout, k) if groups == 1 else w.reshape(groups, cout // groups, k)
            gcols = delta @ wm  # (rows, k) or (G, rows, k)
            if groups != 1:
                gcols = gcols.permute(1, 0, 2)
            gcols = gcols.reshape(n, oh, ow, cin_g * groups, kernel[0], kernel[1])
            gx = Col2im.apply(gcols, shape=shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
        if has_bias and needs[2]:
            gb = g.sum((0, 2, 3))
        return (gx, gw, gb) if has_bias else (gx, gw)


def _conv_backward_arrays(ctx, g: np.ndarray, w: np.ndarray) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """Conv2d's plain backward on arrays, reusing the saved X_col: (∂c/∂x, ∂c/∂W, ∂c/∂b)."""
    shape, kernel, stride, padding, dilation, groups, (n, oh, ow) = ctx.args
    needs = ctx.needs_input_grad
    cout, cin_g = w.shape[0], w.shape[1]
    k = cin_g * kernel[0] * kernel[1]
    delta = g.transpose(0, 2, 3, 1).reshape(n * oh * ow, cout)  # δ, one row per output pixel
    gx = gw = gb = None
    if groups == 1:
        if needs[1]:
            gw = (delta.T @ ctx.cols).reshape(w.shape)  # eq. (3) with X_col as the activations
        gcols = delta @ w.reshape(cout, k) if needs[0] else None  # eq. (2)
    else:
        dg = delta.reshape(-1, groups, cout // groups).transpose(1, 0, 2)
        if needs[1]:
            gw = (dg.transpose(0, 2, 1) @ ctx.cols).reshape(w.shape)
        if needs[0]:
            gcols = (dg @ w.reshape(groups, cout // groups, k)).transpose(1, 0, 2)
    if needs[0]:
        gcols = gcols.reshape(n, oh, ow, cin_g * groups, kernel[0], kernel[1])
        gx = Tensor._make(col2im(gcols, shape, kernel, stride, padding, dilation), None)
    if len(needs) > 2 and needs[2]:
        gb = Tensor._make(delta.sum(0), None)  # eq. (4)
    return gx, (None if gw is None else Tensor._make(gw, None)), gb
