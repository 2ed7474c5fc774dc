"""Convolution primitives: im2col (`Im2col`), its adjoint col2im (`Col2im`), and a fused `Conv2d`.

im2col lays every receptive field of x (N, C, H, W) out as a column, so that a convolution is
one matrix product per image: Z_n = W_col X_col,n with W_col (C_out, C·kh·kw) and X_col,n
(C·kh·kw, OH·OW). Layout of the columns: (N, C, kh, kw, OH, OW) — PyTorch's `unfold` layout,
so the product lands directly in NCHW order and a following Flatten is free (a view). The
windows come from `sliding_window_view` (a strided view, no copy, no Python loop over pixels).

Im2col's backward is Col2im (scatter-add of every window back to its pixels, so overlapping
windows accumulate) and Col2im's backward is Im2col, so second derivatives work.
Output size per spatial dim: O = ⌊(H + 2·pad − dil·(k − 1) − 1) / stride⌋ + 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinygrad_course.autograd.function import Primitive

Pair = tuple[int, int]


def out_size(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    """⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (may be ≤ 0 for too small inputs)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def windows(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, dilation: Pair, fill: float = 0.0) -> np.ndarray:
    """The receptive fields of x (N, C, H, W) as a read-only view of shape (N, C, kh, kw, OH, OW)."""
    ph, pw = padding
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    v = sliding_window_view(x, span, axis=(2, 3))  # (N, C, H', W', span_h, span_w)
    v = v[:, :, ::sh, ::sw, ::dh, ::dw]
    return v.transpose(0, 1, 4, 5, 2, 3)


class Im2col(Primitive):
    """z = the receptive fields of x (N, C, H, W) as (N, C, kh, kw, OH, OW); ∂c/∂x = col2im(g)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        ctx.args = (x.shape, kernel, stride, padding, dilation)
        return windows(x, kernel, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        shape, kernel, stride, padding, dilation = ctx.args
        return Col2im.apply(g, shape=shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


def col2im(cols: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair, dilation: Pair) -> np.ndarray:
    """Sum every window of cols (N, C, kh, kw, OH, OW) back onto an (N, C, H, W) array."""
    n, c, h, w = shape
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    oh, ow = cols.shape[4], cols.shape[5]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    # One strided add per kernel offset (kh·kw of them), each covering all pixels at once;
    # overlapping windows land on the same pixels and accumulate.
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols_ = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, cols_] += cols[:, :, i, j]
    return out[:, :, ph : ph + h, pw : pw + w]


class Col2im(Primitive):
    """z = cols (N, C, kh, kw, OH, OW) summed back onto x's pixels (N, C, H, W); ∂c/∂cols = im2col(g)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, cols, shape=(), kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
        ctx.args = (kernel, stride, padding, dilation)
        return col2im(cols, shape, kernel, stride, padding, dilation)

    @staticmethod
    def backward(ctx, g):
        kernel, stride, padding, dilation = ctx.args
        return Im2col.apply(g, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


class Conv2d(Primitive):
    """z[n, o] = b[o] + Σ_{c,i,j} W[o, c, i, j] · x_pad[n, c, s·y + d·i, s·x + d·j] (cross-correlation).

    Computed per image n and group g as one GEMM: Z_n,g = W_g X_col,n,g + b, with X_col the
    im2col matrix (C/G·kh·kw, OH·OW). Backward (the lecture's eqs. 2–4 with X_col as the
    activations): ∂c/∂W_g = Σ_n δ_n,g X_col,n,gᵀ, ∂c/∂X_col,n,g = W_gᵀ δ_n,g (then col2im),
    ∂c/∂b = Σ δ.
    """

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1):
        n = x.shape[0]
        cout, cin_g, kh, kw = w.shape
        view = windows(x, (kh, kw), stride, padding, dilation)
        oh, ow = view.shape[4], view.shape[5]
        k = cin_g * kh * kw
        cols = view.reshape(n, groups, k, oh * ow)  # the one copy im2col costs
        z = w.reshape(groups, cout // groups, k) @ cols  # (N, G, C_out/G, OH·OW), NCHW order
        z = z.reshape(n, cout, oh, ow)
        if b is not None:
            z += b.reshape(cout, 1, 1)
        ctx.save_for_backward(x, w)
        ctx.cols = cols
        ctx.args = (x.shape, (kh, kw), stride, padding, dilation, groups, (n, oh, ow))
        return z

    # One formula for arrays and Tensors: X_col and col2im come from the two helpers below.
    array_backward = True

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        shape, kernel, stride, padding, dilation, groups, (n, oh, ow) = ctx.args
        needs = ctx.needs_input_grad
        cout, cin_g = w.shape[0], w.shape[1]
        k = cin_g * kernel[0] * kernel[1]
        delta = g.reshape(n, groups, cout // groups, oh * ow)  # δ per image and group
        gx = gw = gb = None
        if needs[1]:
            gw = (delta @ _columns(ctx, x).swapaxes(-1, -2)).sum(0).reshape(w.shape)  # eq. 3
        if needs[0]:
            gcols = w.reshape(groups, cout // groups, k).swapaxes(-1, -2) @ delta  # eq. 2, then col2im
            gx = _col2im(gcols.reshape(n, cin_g * groups, kernel[0], kernel[1], oh, ow), ctx)
        if len(needs) > 2 and needs[2]:
            gb = g.sum((0, 2, 3))  # eq. 4
        return (gx, gw, gb) if len(needs) > 2 else (gx, gw)


def _columns(ctx: Conv2d, x: Any) -> Any:
    """X_col (N, G, C/G·kh·kw, OH·OW) of x: the forward's array for an array x; Im2col(x) for a Tensor.

    With create_graph, X_col must be a function of x, so that ∂c/∂W carries a gradient to x.
    """
    if isinstance(x, np.ndarray):
        return ctx.cols
    shape, kernel, stride, padding, dilation, groups, (n, oh, ow) = ctx.args
    cols = Im2col.apply(x, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
    return cols.reshape(n, groups, ctx.cols.shape[2], oh * ow)


def _col2im(gcols: Any, ctx: Conv2d) -> Any:
    """Every window of gcols summed back onto its pixels: the col2im kernel on arrays, the Col2im op on Tensors."""
    shape, kernel, stride, padding, dilation = ctx.args[:5]
    if isinstance(gcols, np.ndarray):
        return col2im(gcols, shape, kernel, stride, padding, dilation)
    return Col2im.apply(gcols, shape=shape, kernel=kernel, stride=stride, padding=padding, dilation=dilation)
