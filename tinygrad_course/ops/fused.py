"""Fused primitives for neural networks: affine layer, softmax cross-entropy, softplus, embedding.

Each could be written as a chain of smaller ops; fusing them removes graph nodes and
temporaries from the training hot path. Their backward passes are still written with Tensor
ops, so ``create_graph=True`` gives second derivatives.

Notation of the lecture: z = a Wᵀ + b, δ = ∂c/∂z (g below), p = softmax(z).
"""

from __future__ import annotations

import numpy as np

from tinygrad_course.autograd.function import Primitive
from tinygrad_course.ops._kernels import minus_one_hot
from tinygrad_course.ops.movement import IndexAdd


class Linear(Primitive):
    """z = a Wᵀ + b (a: (…, in), W: (out, in), b: (out,)).

    ∂c/∂a = δ W (eq. 2), ∂c/∂W = δᵀ a (eq. 3), ∂c/∂b = Σ_batch δ (eq. 4).
    """

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, a, w, b=None):
        ctx.save_for_backward(a, w)
        z = a @ w.T
        if b is not None:
            z += b  # z is a fresh array: adding in place saves one temporary
        return z

    # The formulas below are matrix products, reshapes and a sum, which mean the same on numpy
    # arrays as on Tensors: a plain backward runs them on the arrays (see Primitive).
    array_backward = True

    @staticmethod
    def backward(ctx, g):
        a, w = ctx.saved_tensors
        needs = ctx.needs_input_grad
        g2, a2 = g, a
        if len(g.shape) != 2:  # every leading dim of a batch is a sample
            g2, a2 = g.reshape(-1, g.shape[-1]), a.reshape(-1, a.shape[-1])
        ga = g @ w if needs[0] else None
        gw = g2.T @ a2 if needs[1] else None
        if len(needs) == 2:
            return ga, gw
        return ga, gw, (g2.sum(0) if needs[2] else None)


class SoftmaxCrossEntropy(Primitive):
    """ℓᵢ = −Σₖ qᵢₖ log pᵢₖ with p = softmax(z) along dim 1 of z (M, C); q is a constant (M, C).

    q holds the (weighted, smoothed) targets; ∂ℓᵢ/∂zᵢₖ = (Σₖ qᵢₖ) pᵢₖ − qᵢₖ, which is the
    lecture's δ = p − y for one-hot targets. Plain class targets come as `labels` (M,) instead
    of q (the one-hot q, never built): ℓᵢ = −log p_{i,yᵢ} and δ = p − onehot(y). `scale` None
    returns ℓ (M,); a number returns scale · Σᵢ ℓᵢ (0-d), e.g. 1/M for the mean.
    """

    @staticmethod
    def forward(ctx, z, q=None, labels=None, scale=None):
        # log p = (z − max z) − log Σ exp(z − max z): shifted so that exp never overflows. The
        # reductions are ufunc methods (z.max(axis=1) is np.maximum.reduce behind a Python wrapper).
        shifted = z - np.maximum.reduce(z, axis=1, keepdims=True)
        e = np.exp(shifted)
        s = np.add.reduce(e, axis=1, keepdims=True)
        logp = shifted
        logp -= np.log(s)  # in place: shifted is a fresh array, not needed any more
        p = e
        p /= s  # p = softmax(z), kept for backward
        ctx.p, ctx.q, ctx.labels, ctx.scale = p, q, labels, scale
        # Every target ignored: the mean is 0/0 = NaN, but no sample contributes, so the
        # gradient is 0 (PyTorch's answer), not δ · NaN, which would poison the parameters.
        ctx.grad_scale = 0.0 if scale is not None and scale != scale else scale
        ctx.qsum = None if q is None else q.sum(axis=1, keepdims=True)
        ctx.one_hot = q is None or bool((ctx.qsum == 1.0).all())
        ctx.save_for_backward(z)
        if labels is not None:
            picked = logp[np.arange(labels.size), labels]  # log p_{i,yᵢ}
            if scale is None:
                return -picked
            return np.asarray(np.add.reduce(picked) * -scale, dtype=z.dtype)
        if scale is None:
            return -np.einsum("ik,ik->i", q, logp)
        return np.asarray(-np.vdot(q, logp) * scale, dtype=z.dtype)

    # One formula for arrays and Tensors: the softmax and the one-hot subtraction are kernels.
    array_backward = True

    @staticmethod
    def backward(ctx, g):
        (z,) = ctx.saved_tensors
        # p = softmax(z): the forward's array in a plain backward, z.softmax(1) (differentiable) with create_graph
        p = ctx.p if isinstance(z, np.ndarray) else z.softmax(1)
        if ctx.labels is not None:
            delta = minus_one_hot(p, ctx.labels)  # δ = p − onehot(y)
        elif ctx.one_hot:
            delta = p - ctx.q  # δ = p − q
        else:
            delta = p * ctx.qsum - ctx.q  # δ = p Σq − q
        return delta * (g.reshape(-1, 1) if ctx.scale is None else g * ctx.grad_scale)


class Softplus(Primitive):
    """z = log(1 + eˣ), computed as logaddexp(0, x) (no overflow); ∂c/∂x = g · σ(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0, x).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.sigmoid()


class Embedding(Primitive):
    """z = W[idx] (rows gathered); ∂c/∂W = zeros with g added at idx, except at padding_idx."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, w, idx=None, padding_idx=None):
        ctx.idx, ctx.padding_idx, ctx.shape = idx, padding_idx, w.shape
        return w[idx]

    @staticmethod
    def backward(ctx, g):
        if ctx.padding_idx is not None:
            keep = (ctx.idx != ctx.padding_idx)[..., None]
            g = g * keep.astype(g.dtype)
        return IndexAdd.apply(g, index=ctx.idx, shape=ctx.shape)


class BinaryCrossEntropy(Primitive):
    """ℓ = −[y log x + (1 − y) log(1 − x)] with each log clamped at −100 (as PyTorch, so ℓ is finite).

    ∂ℓ/∂x = (x − y) / max(x (1 − x), 10⁻¹²), ∂ℓ/∂y = log(1 − x) − log x (both logs clamped).
    """

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x), -100.0)
            log_1mx = np.maximum(np.log1p(-x), -100.0)
        return (-(y * log_x + (1.0 - y) * log_1mx)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        nx, ny = ctx.needs_input_grad
        gx = g * (x - y) / (x * (1.0 - x)).clamp(min=1e-12) if nx else None
        gy = None
        if ny:
            with np.errstate(divide="ignore"):
                gy = g * ((1.0 - x).log().clamp(min=-100.0) - x.log().clamp(min=-100.0))
        return gx, gy
