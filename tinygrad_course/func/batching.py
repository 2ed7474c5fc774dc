"""vmap's batching rules: each op run once on the physical (batch-first) tensors of BatchedTensors.

Inside ``vmap`` an op whose input is a `BatchedTensor` comes here from `Primitive.apply`. Its
rule shifts the op's dims past the batch dims and runs the op on the physical tensors, as a
plain op recorded in the graph: so gradients flow, and backward formulas (plain ops on the
batch-first arrays) are vectorised too. The rule families:

- elementwise (every op of ops/elementwise.py, Softplus, BinaryCrossEntropy, Root, Clone):
  logical dims padded to the same rank, then numpy broadcasting lines the samples up;
- reductions and scans (sum, amax, amin, var, prod, cumsum, …): the axes shifted;
- movement (reshape, permute, expand, indexing, index_add, setitem, cat, pad, flip): shapes
  and indices prefixed with the batch dims;
- products: matmul and linalg.solve by broadcasting; Linear as is for a batched input, as
  matmul + add for a batched weight (per-sample gradients); einsum by a letter per batch dim;
  the linalg decompositions, which work on stacks of matrices already; conv2d, im2col and
  col2im for a batched input;
- fused nn ops: softmax cross-entropy (flattened batch), embedding (a batched table).

An op without a rule runs sample by sample (`loop_rule`) with a one-time warning naming it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.autograd.function import Function, explain_broadcast, register_batching
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.ops import complex as complex_ops
from tinygrad_course.ops import conv, elementwise, fused, linalg, matmul, movement, reduce, scan
from tinygrad_course.tensor import Tensor, stack
from tinygrad_course.tensor.batched import BatchedTensor, levels_of, physical

Rule = Callable[[type, tuple[Any, ...], dict[str, Any]], Tensor]
_warned: set[str] = set()


def union_levels(values: Any) -> tuple[int, ...]:
    """The sorted union of the vmap levels of the values."""
    out: set[int] = set()
    for v in values:
        out.update(levels_of(v))
    return tuple(sorted(out))


def batch_sizes(levels: tuple[int, ...]) -> tuple[int, ...]:
    """The batch size of each level."""
    return tuple(mode.vmap_sizes[lv] for lv in levels)


def dispatch(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor | None:
    """cls on its inputs by its batching rule (None when no input is batched: the plain op runs)."""
    for t in inputs:
        if isinstance(t, BatchedTensor):
            break
    else:
        return None
    for t in inputs:
        for lv in levels_of(t):
            if lv not in mode.vmap_sizes:
                raise RuntimeError(f"{cls.__name__.lower()}: a tensor batched by vmap was used after its vmap "
                                   "returned (kept in a closure or a global?); only vmap's outputs leave it")
    rule = RULES.get(cls, loop_rule)
    return rule(cls, inputs, kwargs)


# ---------------------------------------------------------------------- fallback
def loop_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any], case: str = "") -> Tensor:
    """The op sample by sample, results stacked: correct for every op, but a Python loop.

    `case` names what a rule does not cover when it hands over (the warning would otherwise
    say that an op with a rule has none).
    """
    name = cls.__name__ + case
    if name not in _warned:
        _warned.add(name)
        warnings.warn(f"vmap: {name} has no batching rule; it runs sample by sample (a loop), "
                      "which is correct but slow", stacklevel=4)
    levels = union_levels(inputs)
    sizes = batch_sizes(levels)
    count = math.prod(sizes)
    flat = [physical(t, levels, mode.vmap_sizes).reshape((count,) + t.shape) if isinstance(t, BatchedTensor) else None
            for t in inputs]
    outs = [cls.apply(*[t if f is None else f[b] for t, f in zip(inputs, flat)], **kwargs) for b in range(count)]
    out = stack(outs)
    return BatchedTensor(out.reshape(sizes + tuple(out.shape[1:])), levels)


# ---------------------------------------------------------------------- elementwise
def elementwise_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Pad every batched input to the same logical rank; numpy broadcasting does the rest."""
    levels = union_levels(inputs)
    n = max(t.ndim for t in inputs)
    phys = [physical(t, levels, ndim=n) if isinstance(t, BatchedTensor) else t for t in inputs]
    try:
        out = cls.apply(*phys, **kwargs)
    except ValueError:
        if cls.broadcasts:  # name the shapes the function sees, not the physical ones
            explain_broadcast(cls.__name__.lower(), [t.shape for t in inputs])
        raise
    return BatchedTensor(out, levels)


# ---------------------------------------------------------------------- reductions, scans
def _shift(axis: Any, ndim: int, nb: int) -> Any:
    """Logical axes (None: all, an int, or a tuple) as physical ones, past nb batch dims."""
    if axis is None:
        return tuple(range(nb, nb + ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(a % max(ndim, 1) + nb for a in axis)
    return axis % max(ndim, 1) + nb


def reduction_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Sum/amax/amin/var/prod over logical axes: the same axes shifted past the batch dims."""
    (x,) = inputs
    nb = len(x._levels)
    kw = dict(kwargs)
    kw["axis"] = _shift(kw.get("axis"), x.ndim, nb)
    return BatchedTensor(cls.apply(x._inner, **kw), x._levels)


def scan_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """cumsum/cumprod/logcumsumexp along one logical axis (shifted)."""
    (x,) = inputs
    kw = dict(kwargs)
    kw["axis"] = _shift(kw.get("axis", 0), x.ndim, len(x._levels))
    return BatchedTensor(cls.apply(x._inner, **kw), x._levels)


# ---------------------------------------------------------------------- movement
def reshape_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Reshape each sample: the batch dims stay in front."""
    (x,) = inputs
    nb = len(x._levels)
    shape = tuple(kwargs["shape"])
    return BatchedTensor(cls.apply(x._inner, shape=tuple(x._inner.shape[:nb]) + shape), x._levels)


def permute_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Permute each sample's dims; the batch dims stay in front."""
    (x,) = inputs
    nb = len(x._levels)
    axes = tuple(range(nb)) + tuple(a % x.ndim + nb for a in kwargs["axes"])
    return BatchedTensor(cls.apply(x._inner, axes=axes), x._levels)


def expand_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Expand each sample to `shape` (its dims padded with 1s on the left first)."""
    (x,) = inputs
    shape = tuple(kwargs["shape"])
    p = physical(x, x._levels, ndim=len(shape))
    nb = len(x._levels)
    return BatchedTensor(cls.apply(p, shape=tuple(p.shape[:nb]) + shape), x._levels)


def _index_tuple(index: Any) -> tuple[Any, ...]:
    return index if isinstance(index, tuple) else (index,)


def _advanced_split(index: tuple[Any, ...]) -> bool:
    """True when an index has advanced (array) entries apart from each other: numpy then moves
    their dims to the front, ahead of the batch dims, so such an index is looped instead."""
    arrays = [k for k, i in enumerate(index) if isinstance(i, (np.ndarray, list))]
    if not arrays:
        return False
    advanced = [k for k, i in enumerate(index) if isinstance(i, (np.ndarray, list, int, np.integer))]
    return advanced != list(range(advanced[0], advanced[0] + len(advanced)))


def getitem_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """x[index] of each sample: the index prefixed with a full slice per batch dim."""
    (x,) = inputs
    index = _index_tuple(kwargs["index"])
    if _advanced_split(index):
        return loop_rule(cls, inputs, kwargs, " with advanced indices apart from each other")
    full = (slice(None),) * len(x._levels) + index
    return BatchedTensor(cls.apply(x._inner, index=full), x._levels)


def index_add_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Zeros of `shape` with x added at index, per sample."""
    (x,) = inputs
    index = _index_tuple(kwargs["index"])
    if _advanced_split(index):
        return loop_rule(cls, inputs, kwargs, " with advanced indices apart from each other")
    nb = len(x._levels)
    p = physical(x, x._levels)
    return BatchedTensor(cls.apply(p, index=(slice(None),) * nb + index,
                                   shape=tuple(p.shape[:nb]) + tuple(kwargs["shape"])), x._levels)


def setitem_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """A copy of x with x[index] = v, per sample (v broadcast to the indexed part)."""
    x, v = inputs
    index = _index_tuple(kwargs["index"])
    if _advanced_split(index):
        return loop_rule(cls, inputs, kwargs, " with advanced indices apart from each other")
    levels = union_levels(inputs)
    px = physical(x, levels, mode.vmap_sizes)
    part_ndim = np.broadcast_to(np.empty((), dtype=np.int8), tuple(x.shape))[index].ndim
    pv = physical(v, levels, ndim=part_ndim) if isinstance(v, BatchedTensor) else v
    return BatchedTensor(cls.apply(px, pv, index=(slice(None),) * len(levels) + index), levels)


def cat_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Concatenate each sample's parts (every part given the full batch dims)."""
    levels = union_levels(inputs)
    n = inputs[0].ndim
    phys = [physical(t, levels, mode.vmap_sizes) if isinstance(t, BatchedTensor)
            else t.reshape((1,) * len(levels) + tuple(t.shape)).expand(batch_sizes(levels) + tuple(t.shape))
            for t in inputs]
    return BatchedTensor(cls.apply(*phys, axis=kwargs.get("axis", 0) % max(n, 1) + len(levels)), levels)


def pad_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Pad each sample (no padding on the batch dims)."""
    (x,) = inputs
    kw = dict(kwargs)
    kw["widths"] = ((0, 0),) * len(x._levels) + tuple(kwargs["widths"])
    return BatchedTensor(cls.apply(x._inner, **kw), x._levels)


def flip_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Flip each sample along its (shifted) axes."""
    (x,) = inputs
    return BatchedTensor(cls.apply(x._inner, axes=_shift(kwargs["axes"], x.ndim, len(x._levels))), x._levels)


# ---------------------------------------------------------------------- products
def matmul_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Both operands ≥ 2-D here (Tensor.matmul promotes vectors): matmul broadcasts the batch dims."""
    levels = union_levels(inputs)
    n = max(t.ndim for t in inputs)
    phys = [physical(t, levels, ndim=n) if isinstance(t, BatchedTensor) else t for t in inputs]
    return BatchedTensor(cls.apply(*phys), levels)


def linear_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """z = a Wᵀ + b: one Linear when only a is batched; else each sample's own W (per-sample
    gradients) by a batched matmul and an add on the physical tensors."""
    a, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) == 3 else None
    if not isinstance(w, BatchedTensor) and not isinstance(b, BatchedTensor):
        return BatchedTensor(cls.apply(a._inner, *inputs[1:]), a._levels)
    levels = union_levels(inputs)
    nb = len(levels)
    n = max(a.ndim, 2)  # a vector a is one row
    pa = physical(a, levels, ndim=n)
    pw = physical(w, levels, ndim=n)  # (…, 1, out, in): W broadcast over a's leading dims
    wt = movement.Permute.apply(pw, axes=tuple(range(nb + n - 2)) + (nb + n - 1, nb + n - 2))
    z = matmul.MatMul.apply(pa, wt)
    if b is not None:
        z = elementwise.Add.apply(z, physical(b, levels, ndim=n))
    if a.ndim == 1:
        z = movement.Reshape.apply(z, shape=tuple(z.shape[:nb]) + (z.shape[-1],))
    return BatchedTensor(z, levels)


def einsum_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """einsum with a fresh letter per batch dim, on the batched operands and the output."""
    levels = union_levels(inputs)
    equation = kwargs["equation"]
    spare = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in equation]
    letter = dict(zip(levels, spare))
    ins, out = equation.split("->")
    terms = ["".join(letter[lv] for lv in levels_of(t)) + s for t, s in zip(inputs, ins.split(","))]
    phys = [t._inner if isinstance(t, BatchedTensor) else t for t in inputs]
    eq = ",".join(terms) + "->" + "".join(letter[lv] for lv in levels) + out
    return BatchedTensor(cls.apply(*phys, equation=eq), levels)


def leading_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Ops that work on stacks already (the linalg decompositions on (…, m, n)): run as they are."""
    (x,) = inputs
    return BatchedTensor(cls.apply(x._inner, **kwargs), x._levels)


def conv_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """conv2d of a batched input with plain weights: the batch dims merged into N; with a batched
    weight (per-sample gradients of a CNN): one grouped convolution, each sample's weights a group."""
    x = inputs[0]
    if any(isinstance(t, BatchedTensor) for t in inputs[1:]):
        return grouped_conv_rule(cls, inputs, kwargs)
    nb = len(x._levels)
    p = x._inner
    lead = tuple(p.shape[:nb + (x.ndim == 4)])
    out = cls.apply(p.reshape((-1,) + tuple(x.shape[-3:])), *inputs[1:], **kwargs)
    return BatchedTensor(out.reshape(lead + tuple(out.shape[1:])), x._levels)


def grouped_conv_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Each sample b has its own weight W_b: the P samples' channels side by side, (N, P·C, H, W), and
    their weights stacked, (P·O, C/g, kh, kw), make one convolution with P·g groups."""
    levels = union_levels(inputs)
    sizes = batch_sizes(levels)
    count = math.prod(sizes)
    x, w = inputs[0], inputs[1]
    n, c, h, wd = x.shape
    o = w.shape[0]
    px = physical(x, levels, mode.vmap_sizes).reshape((count, n, c, h, wd))
    px = px.permute((1, 0, 2, 3, 4)).reshape((n, count * c, h, wd))
    pw = physical(w, levels, mode.vmap_sizes).reshape((count * o,) + tuple(w.shape[1:]))
    parts = [px, pw]
    if len(inputs) == 3:
        parts.append(physical(inputs[2], levels, mode.vmap_sizes).reshape((count * o,)))
    kw = dict(kwargs)
    kw["groups"] = kwargs.get("groups", 1) * count
    out = cls.apply(*parts, **kw)  # (N, P·O, H', W')
    oh, ow = out.shape[2], out.shape[3]
    out = out.reshape((n, count, o, oh, ow)).permute((1, 0, 2, 3, 4))
    return BatchedTensor(out.reshape(sizes + (n, o, oh, ow)), levels)


def window_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """im2col / col2im (pooling, unfold, fold, conv_transpose2d), whose input has a leading N: the batch dims merged into N."""
    (x,) = inputs
    nb = len(x._levels)
    p = x._inner
    lead = tuple(p.shape[:nb + 1])
    kw = dict(kwargs)
    if "shape" in kw:  # col2im's output shape (N, C, H, W): N is now all the samples' items
        kw["shape"] = (math.prod(lead),) + tuple(kw["shape"][1:])
    out = cls.apply(p.reshape((-1,) + tuple(p.shape[nb + 1:])), **kw)
    return BatchedTensor(out.reshape(lead + tuple(out.shape[1:])), x._levels)


# ---------------------------------------------------------------------- fused nn ops
def softmax_cross_entropy_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Each sample's logits (M, C) stacked into one (B·M, C) matrix; per-sample sums after."""
    (z,) = inputs
    levels = z._levels
    sizes = tuple(z._inner.shape[:len(levels)])
    count = math.prod(sizes)
    m, c = z.shape
    q, labels, scale = kwargs.get("q"), kwargs.get("labels"), kwargs.get("scale")
    flat = z._inner.reshape(count * m, c)
    q_all = None if q is None else np.tile(q, (count, 1))
    labels_all = None if labels is None else np.tile(labels, count)
    losses = cls.apply(flat, q=q_all, labels=labels_all, scale=None).reshape(sizes + (m,))
    if scale is None:
        return BatchedTensor(losses, levels)
    grad_scale = 0.0 if scale != scale else scale  # all ignored: value nan, gradient 0 (see the op)
    total = losses.sum(len(levels)) * grad_scale
    if scale != scale:
        total = total + float("nan")
    return BatchedTensor(total, levels)


def embedding_rule(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Tensor:
    """Each sample's own table W gathered at the index: W[b][idx] as one advanced index."""
    (w,) = inputs
    if len(w._levels) != 1 or kwargs.get("padding_idx") is not None:
        return loop_rule(cls, inputs, kwargs, " with padding_idx or in nested vmaps")
    idx = np.asarray(kwargs["idx"])
    size = w._inner.shape[0]
    rows = np.arange(size).reshape((size,) + (1,) * idx.ndim)
    return BatchedTensor(movement.GetItem.apply(w._inner, index=(rows, idx[None])), w._levels)


RULES: dict[type, Rule] = {}
for _name in dir(elementwise):
    _obj = getattr(elementwise, _name)
    if isinstance(_obj, type) and issubclass(_obj, Function) and _obj.__module__ == elementwise.__name__:
        RULES[_obj] = elementwise_rule
RULES.update({
    movement.Clone: elementwise_rule, complex_ops.Real: elementwise_rule, complex_ops.Conj: elementwise_rule, fused.Softplus: elementwise_rule, fused.BinaryCrossEntropy: elementwise_rule,
    reduce.Root: elementwise_rule,
    reduce.Sum: reduction_rule, reduce.Amax: reduction_rule, reduce.Amin: reduction_rule, reduce.Var: reduction_rule,
    reduce.Prod: reduction_rule,
    scan.Cumsum: scan_rule, scan.Cumprod: scan_rule, scan.Logcumsumexp: scan_rule,
    movement.Reshape: reshape_rule, movement.Permute: permute_rule, movement.Expand: expand_rule,
    movement.GetItem: getitem_rule, movement.IndexAdd: index_add_rule, movement.SetItem: setitem_rule,
    movement.Cat: cat_rule, movement.Pad: pad_rule, movement.Flip: flip_rule,
    matmul.MatMul: matmul_rule, fused.Linear: linear_rule, linalg.Einsum: einsum_rule,
    linalg.Inv: leading_rule, linalg.Det: leading_rule, linalg.LogAbsDet: leading_rule,
    linalg.Cholesky: leading_rule, linalg.QR: leading_rule, linalg.Eigh: leading_rule, linalg.SVD: leading_rule,
    linalg.Pinv: leading_rule, linalg.MatrixExp: leading_rule, linalg.SignDet: leading_rule,
    linalg.Solve: matmul_rule,  # a X = b with b (…, n, k): numpy's solve broadcasts the batch dims as matmul does
    conv.Conv2d: conv_rule, conv.Im2col: window_rule, conv.Col2im: window_rule,
    fused.SoftmaxCrossEntropy: softmax_cross_entropy_rule, fused.Embedding: embedding_rule,
})
del _name, _obj

register_batching(dispatch)


def spread(t: Tensor) -> Tensor:
    """t batched over every active vmap level at full size: one copy per sample (a recorded expand)."""
    levels = tuple(sorted(mode.vmap_sizes))
    if levels_of(t) == levels:
        return t
    return BatchedTensor(physical(t, levels, mode.vmap_sizes), levels)
