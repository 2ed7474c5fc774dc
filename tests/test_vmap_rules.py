"""vmap's batching rules (func/batching.py), family by family: the batched path equals the per-sample loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from vmap_checks import B, assert_same, batched, fresh_warnings, loop, select  # noqa: F401  (fresh_warnings: autouse)

import tinygrad_course as tc
from tinygrad_course.nn import functional as F
from tinygrad_course.ops import fused

pytestmark = pytest.mark.usefixtures("engine")


# ----------------------------------------------------------------- helpers
_rng = np.random.default_rng(0)


def rand(*shape: int) -> tc.Tensor:
    """Standard normal float64 values."""
    return tc.tensor(_rng.standard_normal(shape))


def pos(*shape: int) -> tc.Tensor:
    """Positive float64 values in [0.5, 2)."""
    return tc.tensor(_rng.uniform(0.5, 2.0, shape))


def spd(*lead: int, n: int = 3) -> tc.Tensor:
    """Symmetric positive definite n×n matrices (well conditioned)."""
    a = _rng.standard_normal(lead + (n, n))
    return tc.tensor(a @ np.swapaxes(a, -1, -2) + n * np.eye(n))


def labels(*shape: int, classes: int = 4) -> tc.Tensor:
    """Class indices (int64) in [0, classes)."""
    return tc.tensor(_rng.integers(0, classes, shape))


def probabilities(*shape: int) -> tc.Tensor:
    """Rows of class probabilities (softmax of random values) along the last dim."""
    e = np.exp(_rng.standard_normal(shape))
    return tc.tensor(e / e.sum(-1, keepdims=True))










@dataclass
class Case:
    """One vmap case: f, its arguments (batch dim at in_dims), and where the batch dim goes."""

    id: str
    f: Callable[..., Any]
    args: tuple[Any, ...]
    in_dims: Any = 0
    out_dims: Any = 0
    loops: str | None = None  # the op expected to fall back to the loop (its warning is then checked)


def check(case: Case) -> None:
    """vmap(f) equals the loop, with no vmap warning (or exactly the expected one)."""
    run = lambda: tc.func.vmap(case.f, case.in_dims, case.out_dims)(*case.args)  # noqa: E731
    if case.loops is None:
        got = batched(run)
    else:
        with pytest.warns(UserWarning, match=case.loops):
            got = run()
    assert_same(got, loop(case.f, case.args, case.in_dims, case.out_dims))


def table(*cases: Case) -> Any:
    """Parametrize a test over the cases, one test id each."""
    return pytest.mark.parametrize("case", cases, ids=[c.id for c in cases])


# ----------------------------------------------------------------- elementwise
X23, Y23 = rand(B, 2, 3), rand(B, 2, 3)
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, False]])
P23 = pos(B, 2, 3)
ELEMENTWISE = [
    Case("exp", lambda x: x.exp(), (X23,)),
    Case("log", lambda x: x.log(), (P23,)),
    Case("sqrt", lambda x: x.sqrt(), (P23,)),
    Case("tanh", lambda x: x.tanh(), (X23,)),
    Case("sigmoid", lambda x: x.sigmoid(), (X23,)),
    Case("relu", lambda x: x.relu(), (X23,)),
    Case("abs", lambda x: x.abs(), (X23,)),
    Case("neg", lambda x: -x, (X23,)),
    Case("sin", lambda x: x.sin(), (X23,)),
    Case("erf", lambda x: tc.erf(x), (X23,)),
    Case("clamp", lambda x: x.clamp(-0.5, 0.5), (X23,)),
    Case("clamp_min", lambda x: x.clamp(min=0.1), (X23,)),
    Case("pow_scalar", lambda x: x**3, (X23,)),
    Case("pow_fractional", lambda x: x**2.5, (P23,)),
    Case("rpow", lambda x: 2.0**x, (X23,)),
    # F.softplus reads its input's array for the threshold (nn/functional.py): looped, value still right
    Case("softplus", lambda x: F.softplus(x), (X23,)),
    Case("gelu", lambda x: F.gelu(x), (X23,)),
    Case("softmax", lambda x: F.softmax(x, -1), (X23,)),
    Case("log_softmax", lambda x: F.log_softmax(x, 0), (X23,)),
    Case("scalar_arith", lambda x: (x * 2.0 + 1.0) / 3.0 - 0.5, (X23,)),
    Case("reflected_scalar", lambda x: 1.0 - 2.0 / x, (P23,)),
    Case("add_both_batched", lambda x, y: x + y, (X23, Y23)),
    Case("div_both_batched", lambda x, y: x / y, (X23, P23)),
    Case("batched_rank1_times_unbatched_rank2", lambda x, y: x * y, (rand(B, 3), rand(4, 3)), (0, None)),
    Case("unbatched_rank2_minus_batched_rank1", lambda y, x: y - x, (rand(4, 3), rand(B, 3)), (None, 0)),
    Case("batched_rank1_plus_batched_rank3", lambda x, y: x + y, (rand(B, 3), rand(B, 2, 4, 3))),
    Case("batched_rank3_div_batched_rank1", lambda y, x: y / x, (rand(B, 2, 1, 3), pos(B, 3))),
    Case("maximum", lambda x, y: tc.maximum(x, y), (X23, rand(3)), (0, None)),
    # tc.where reads a batched condition's array (tensor/math_methods.py): looped; the method form is batched
    Case("tc_where_batched_cond", lambda x, y: tc.where(x > 0, x, y), (X23, Y23)),
    Case("where_batched_cond", lambda x, y: x.where(x > 0, y), (X23, Y23)),
    Case("where_unbatched_branch", lambda x, y: (x * 2).where(x > 0, y), (rand(B, 3), rand(2, 3)), (0, None)),
    Case("where_scalar_branch", lambda x: x.where(x > 0, 0.0), (X23,)),
    Case("where_unbatched_cond", lambda x: x.where(tc.tensor(MASK[0, :3]), -x), (X23,)),
    Case("where_int_condition", lambda x, t: x.where(t, 1.5), (rand(B, 4), labels(B, 4, classes=2)), (0, 0)),
    Case("greater_than_zero", lambda x: x > 0, (X23,)),
    Case("less_equal_unbatched", lambda x, y: x <= y, (X23, rand(3)), (0, None)),
    Case("equal_both_batched", lambda x, y: x == y, (X23, tc.tensor(np.where(_rng.random((B, 2, 3)) < 0.5, X23.numpy(), 0.0)))),
    Case("cast_and_bool_ops", lambda x: ((x > 0) & (x < 1)).double() + (~(x > 0)).double(), (X23,)),
    Case("masked_fill_batched_mask", lambda x: x.masked_fill(x > 0.5, -1.0), (X23,)),
    Case("masked_fill_constant_mask", lambda x: x.masked_fill(tc.tensor(MASK[0, :3]), 0.0), (X23,)),
    Case("any_all", lambda x: tc.stack([(x > 1).any(), (x > -1).all()]), (X23,)),
]


@table(*ELEMENTWISE)
def test_elementwise(case: Case) -> None:
    """Unary and binary elementwise ops (broadcast across ranks, batched or not) equal the loop."""
    check(case)


# ----------------------------------------------------------------- reductions
X234 = rand(B, 2, 3, 4)
P234 = pos(B, 2, 3, 4)
REDUCTIONS = [
    Case(f"{name}-dim={dim}-keepdim={keep}", (lambda x, n=name, d=dim, k=keep: getattr(x, n)(d, keepdim=k)),
         (P234 if name == "prod" else X234,))
    for name in ("sum", "mean", "amax", "amin", "var", "std", "prod", "logsumexp")
    for dim in (None, 1, -1, (0, 2))
    if not (name == "prod" and isinstance(dim, tuple))  # prod takes one dim, as PyTorch's
    for keep in (False, True)
] + [
    Case("max_dim_values", lambda x: x.max(1).values, (X234,)),
    Case("min_dim_keepdim_values", lambda x: x.min(-1, keepdim=True).values, (X234,)),
    Case("max_dim_indices", lambda x: x.max(2).indices, (X234,)),
    Case("max_dim_namedtuple", lambda x: x.max(0, keepdim=True), (X234,)),
    Case("max_all", lambda x: x.max(), (X234,)),
    Case("argmax_dim", lambda x: x.argmax(1), (X234,)),
    Case("argmin_keepdim", lambda x: x.argmin(-1, keepdim=True), (X234,)),
    Case("argmax_all", lambda x: x.argmax(), (X234,)),
    Case("reductions_of_a_0d_sample", lambda s: s.sum(0) + s.mean() + s.amax() + s.logsumexp(0), (rand(B),)),
    Case("norm", lambda x: x.norm(), (X234,)),
    Case("norm_dim", lambda x: x.norm(dim=1), (X234,)),
    Case("norm_p1_dim", lambda x: x.norm(1, dim=(0, 2), keepdim=True), (X234,)),
    Case("linalg_vector_norm", lambda x: tc.linalg.vector_norm(x, dim=-1), (X234,)),
    Case("var_correction0", lambda x: x.var(1, correction=0), (X234,)),
]


@table(*REDUCTIONS)
def test_reductions(case: Case) -> None:
    """Reductions over None, an int, a negative int or a tuple of dims, keepdim or not, equal the loop."""
    check(case)


# ----------------------------------------------------------------- scans
SCANS = [
    Case("cumsum_dim1", lambda x: x.cumsum(1), (X234,)),
    Case("cumsum_negative_dim", lambda x: x.cumsum(-1), (X234,)),
    Case("cumprod_dim0", lambda x: x.cumprod(0), (X234,)),
    Case("cumprod_dim2", lambda x: tc.cumprod(x, 2), (X234,)),
    Case("logcumsumexp", lambda x: tc.logcumsumexp(x, 1), (X234,)),
]


@table(*SCANS)
def test_scans(case: Case) -> None:
    """cumsum / cumprod / logcumsumexp along a logical dim equal the loop."""
    check(case)


# ----------------------------------------------------------------- movement
X34 = rand(B, 3, 4)


def setitem_copy(x: tc.Tensor, v: tc.Tensor) -> tc.Tensor:
    y = x.clone()
    y[0] = v
    y[1:, 1] = 0.0
    return y * 2.0


def setitem_mask_and_list(x: tc.Tensor) -> tc.Tensor:
    y = x.clone()
    y[np.array([True, False, True])] = 0.5
    y[:, [0, 2]] = x[:, :2]
    return y


def write_through_views(x: tc.Tensor) -> tuple[tc.Tensor, tc.Tensor]:
    y = x.clone()
    row = y[0]  # a view: sees the write below, as in PyTorch
    y[0, 1] = 7.0
    y.T[2] = -1.0  # a write into a view lands in y
    return row * 1.0, y * 1.0


def in_place_arithmetic(x: tc.Tensor, v: tc.Tensor) -> tc.Tensor:
    y = x.clone()
    y.add_(v).mul_(2.0)
    y.index_add_(0, tc.tensor([1, 1]), x[:2])
    return y


def write_batched_into_unbatched(x: tc.Tensor, w: tc.Tensor) -> tc.Tensor:
    y = w.clone()
    y[0] = x  # a plain tensor cannot hold one value per sample: looped (PyTorch refuses it)
    return y


MOVEMENT = [
    Case("reshape", lambda x: x.reshape(6, 4), (X234,)),
    Case("reshape_minus_one", lambda x: x.reshape(-1), (X234,)),
    Case("view_minus_one", lambda x: x.view(2, -1), (X234,)),
    Case("permute", lambda x: x.permute(2, 0, 1), (X234,)),
    Case("permute_negative", lambda x: x.permute(-1, -3, -2), (X234,)),
    Case("transpose", lambda x: x.transpose(0, 2), (X234,)),
    Case("T_2d", lambda x: x.T, (X34,)),
    Case("expand", lambda x: x.expand(5, 3, 4), (rand(B, 1, 4),)),
    Case("expand_new_dims", lambda x: x.expand(2, 3, 4), (rand(B, 4),)),
    Case("expand_minus_one", lambda x: x.expand(-1, 5), (rand(B, 3, 1),)),
    Case("unsqueeze", lambda x: x.unsqueeze(0), (X34,)),
    Case("unsqueeze_negative", lambda x: x.unsqueeze(-1), (X34,)),
    Case("squeeze_dim", lambda x: x.squeeze(0), (rand(B, 1, 4),)),
    Case("squeeze_all", lambda x: x.squeeze(), (rand(B, 1, 4, 1),)),
    Case("flatten", lambda x: x.flatten(), (X234,)),
    Case("flatten_from_1", lambda x: x.flatten(1), (X234,)),
    Case("getitem_int", lambda x: x[1], (X34,)),
    Case("getitem_negative_int", lambda x: x[-1, 2], (X34,)),
    Case("getitem_slice", lambda x: x[:, 1:3], (X34,)),
    Case("getitem_step", lambda x: x[::2, ::-1], (X34,)),
    Case("getitem_ellipsis", lambda x: x[..., 0], (X234,)),
    Case("getitem_none", lambda x: x[None], (X34,)),
    Case("getitem_none_middle", lambda x: x[:, None, 1], (X34,)),
    Case("getitem_list", lambda x: x[[0, 2]], (X34,)),
    Case("getitem_array", lambda x: x[np.array([2, 0, 2])], (X34,)),
    Case("getitem_list_after_slice", lambda x: x[:, [3, 1]], (X34,)),
    Case("getitem_adjacent_arrays", lambda x: x[:, [0, 1], [1, 2]], (X234,)),
    Case("getitem_int_and_array", lambda x: x[1, [0, 3]], (X34,)),
    Case("getitem_bool_mask", lambda x: x[MASK], (X34,)),
    Case("getitem_bool_mask_tensor", lambda x: x[tc.tensor(MASK[0])], (X34.transpose(1, 2),)),
    # numpy moves the dims of advanced indices apart from each other to the front, ahead of the batch dims: looped by design
    Case("getitem_separated_arrays", lambda x: x[[0, 1], :, [1, 2]], (X234,), loops="GetItem with advanced indices apart"),
    Case("getitem_separated_tensors", lambda x: x[tc.tensor([0, 1]), :, tc.tensor([1, 2])], (X234,),
         loops="GetItem with advanced indices apart"),
    Case("getitem_int_array_apart", lambda x: x[0, :, [1, 2]], (X234,)),  # an int is basic indexing (PyTorch's rule): batched
    Case("cat_batched_unbatched", lambda x, y: tc.cat([x, y], 0), (X34, rand(2, 4)), (0, None)),
    Case("cat_unbatched_batched_dim1", lambda y, x: tc.cat([y, x], -1), (rand(3, 2), X34), (None, 0)),
    Case("stack_batched_unbatched", lambda x, y: tc.stack([x, y], 1), (X34, rand(3, 4)), (0, None)),
    Case("stack_both_batched", lambda x, y: tc.stack([x, y]), (X34, rand(B, 3, 4))),
    Case("pad", lambda x: F.pad(x, (1, 2)), (X34,)),
    Case("pad_two_dims_value", lambda x: F.pad(x, (1, 0, 0, 2), value=-1.5), (X234,)),
    Case("flip", lambda x: x.flip(0), (X34,)),
    Case("flip_dims", lambda x: x.flip((0, -1)), (X234,)),
    Case("roll", lambda x: x.roll(1, 1), (X34,)),
    Case("split", lambda x: x.split(2, 1), (X34,)),
    Case("chunk_unbind", lambda x: tuple(x.unbind(0)), (X34,)),
    Case("setitem_on_clone", setitem_copy, (X34, rand(B, 4))),
    Case("setitem_unbatched_value", setitem_copy, (X34, rand(4)), (0, None)),
    Case("setitem_mask_and_list", setitem_mask_and_list, (X34,)),
    Case("setitem_through_views", write_through_views, (X34,)),
    Case("in_place_arithmetic", in_place_arithmetic, (X34, rand(B, 4))),
    Case("setitem_batched_into_unbatched", write_batched_into_unbatched, (rand(B, 3), rand(4, 3)), (0, None),
         loops="_write in inplace_methods.py"),
    Case("gather", lambda x: x.gather(1, tc.tensor([[0, 1], [2, 3], [1, 1]])), (X34,)),
    Case("index_select", lambda x: x.index_select(1, tc.tensor([2, 0])), (X34,)),
    Case("scatter_add", lambda x, s: x.scatter_add(1, tc.tensor([[0, 2, 1], [1, 1, 0]]), s), (rand(B, 2, 4), rand(B, 2, 3))),
    Case("scatter_add_unbatched_self", lambda x, s: x.scatter_add(1, tc.tensor([[0, 2, 1], [1, 1, 0]]), s),
         (rand(2, 4), rand(B, 2, 3)), (None, 0)),
    Case("index_add", lambda x, s: x.index_add(0, tc.tensor([0, 2, 0]), s), (X34, rand(B, 3, 4))),
    Case("index_copy", lambda x, s: x.index_copy(0, tc.tensor([2, 0]), s), (X34, rand(B, 2, 4))),
    Case("diag_embed", lambda x: x.diag_embed(1, 0, 2), (rand(B, 2, 3),)),
    Case("masked_scatter", lambda x, s: x.masked_scatter(tc.tensor(MASK[0]), s), (rand(B, 2, 4), rand(B, 6))),
]


@table(*MOVEMENT)
def test_movement(case: Case) -> None:
    """Reshapes, permutes, expands, indexing, cat/stack, pad, flip and setitem equal the loop."""
    check(case)


# ----------------------------------------------------------------- products, linalg
V3, V4, M34, M43 = rand(B, 3), rand(B, 4), rand(B, 3, 4), rand(B, 4, 3)
W, BIAS = rand(4, 3), rand(4)
PRODUCTS = [
    Case("vector_matrix", lambda v, m: v @ m, (V3, M34)),
    Case("matrix_vector", lambda m, v: m @ v, (M34, V4)),
    Case("matrix_matrix", lambda a, b: a @ b, (M34, M43)),
    Case("vector_vector", lambda u, v: u @ v, (V3, rand(B, 3))),
    Case("batched_vector_unbatched_matrix", lambda v, m: v @ m, (V3, rand(3, 5)), (0, None)),
    Case("unbatched_matrix_batched_vector", lambda m, v: m @ v, (rand(5, 3), V3), (None, 0)),
    Case("batched_matrix_unbatched_matrix", lambda a, b: a @ b, (M34, rand(4, 2)), (0, None)),
    Case("unbatched_matrix_batched_matrix", lambda a, b: a @ b, (rand(2, 3), M34), (None, 0)),
    Case("stack_of_matrices_unbatched", lambda a, b: tc.matmul(a, b), (rand(B, 2, 3, 4), rand(4, 5)), (0, None)),
    Case("linear_batched_input", lambda x, w, b: F.linear(x, w, b), (rand(B, 5, 3), W, BIAS), (0, None, None)),
    Case("linear_batched_vector_input", lambda x, w, b: F.linear(x, w, b), (V3, W, BIAS), (0, None, None)),
    Case("linear_no_bias", lambda x, w: F.linear(x, w), (rand(B, 5, 3), W), (0, None)),
    Case("linear_batched_weight", lambda x, w, b: F.linear(x, w, b), (rand(5, 3), rand(B, 4, 3), BIAS), (None, 0, None)),
    Case("linear_batched_weight_and_input", lambda x, w: F.linear(x, w), (V3, rand(B, 4, 3))),
    Case("linear_batched_bias", lambda x, w, b: F.linear(x, w, b), (rand(5, 3), W, rand(B, 4)), (None, None, 0)),
    Case("einsum_matrix_vector", lambda m, v: tc.einsum("ij,j->i", m, v), (M43, V3)),
    Case("einsum_one_unbatched", lambda m, v: tc.einsum("ij,j->i", m, v), (rand(5, 3), V3), (None, 0)),
    Case("einsum_trace", lambda m: tc.einsum("ii->", m), (rand(B, 3, 3),)),
    Case("einsum_outer", lambda u, v: tc.einsum("i,j->ij", u, v), (V3, V4)),
    Case("trace", lambda m: m.trace(), (rand(B, 3, 3),)),
    Case("inv", lambda m: tc.linalg.inv(m), (spd(B),)),
    Case("det", lambda m: tc.linalg.det(m), (rand(B, 3, 3),)),
    # slogdet's sign is read from the array (linalg.py): looped, value still right
    Case("slogdet", lambda m: tuple(tc.linalg.slogdet(m)), (rand(B, 3, 3),), loops="slogdet in linalg.py"),
    Case("cholesky", lambda m: tc.linalg.cholesky(m), (spd(B),)),
    Case("eigh_values", lambda m: tc.linalg.eigh(m).eigenvalues, (spd(B),)),
    Case("eigvalsh", lambda m: tc.linalg.eigvalsh(m), (spd(B),)),
    Case("svd_values", lambda m: tc.linalg.svd(m).S, (rand(B, 3, 4),)),
    Case("svdvals", lambda m: tc.linalg.svdvals(m), (rand(B, 4, 3),)),
    Case("qr_r_abs", lambda m: tc.linalg.qr(m).R.abs(), (rand(B, 4, 3),)),
    Case("matrix_exp", lambda m: tc.linalg.matrix_exp(m), (rand(B, 3, 3) * 0.3,)),
    Case("pinv", lambda m: tc.linalg.pinv(m), (rand(B, 3, 4),)),
    Case("solve", lambda a, b: tc.linalg.solve(a, b), (spd(B), rand(B, 3))),
    Case("solve_unbatched_matrix", lambda a, b: tc.linalg.solve(a, b), (spd(), rand(B, 3, 2)), (None, 0)),
    Case("solve_unbatched_rhs", lambda a, b: tc.linalg.solve(a, b), (spd(B), rand(3)), (0, None)),
    Case("eigh_vectors_abs", lambda m: tc.linalg.eigh(m).eigenvectors.abs(), (spd(B),)),
    Case("matrix_power", lambda m: tc.linalg.matrix_power(m, 3), (rand(B, 3, 3),)),
]


@table(*PRODUCTS)
def test_products(case: Case) -> None:
    """matmul in every vector/matrix and batched/unbatched combination, linear, einsum and linalg equal the loop."""
    check(case)


# ----------------------------------------------------------------- nn
CW = rand(3, 2, 3, 3)
CB = rand(3)
LOGITS, TARGET = rand(B, 5, 4), labels(B, 5)
TARGET_IGNORED = tc.tensor(np.where(_rng.random((B, 5)) < 0.4, -100, TARGET.numpy()))
CLASS_WEIGHT = pos(4)
CTW = rand(2, 3, 3, 3)
ITEM_LABELS, ITEM_Q = np.array([0, 2, 1, 3, 0]), probabilities(5, 4).numpy()
NN = [
    Case("conv2d_4d_sample", lambda x: F.conv2d(x, CW, CB), (rand(B, 1, 2, 5, 5),)),
    Case("conv2d_3d_sample", lambda x: F.conv2d(x, CW, CB, padding=1), (rand(B, 2, 5, 5),)),
    Case("conv2d_stride", lambda x: F.conv2d(x, CW, stride=2), (rand(B, 2, 2, 5, 5),)),
    # max_pool2d finds each window's max on the array (nn/functional_conv.py): looped, value still right
    Case("max_pool2d", lambda x: F.max_pool2d(x, 2), (rand(B, 2, 4, 4),)),
    Case("layer_norm", lambda x: F.layer_norm(x, (3,)), (X23,)),
    Case("avg_pool2d", lambda x: F.avg_pool2d(x, 2, padding=1), (rand(B, 1, 2, 4, 4),)),
    Case("conv_transpose2d", lambda x: F.conv_transpose2d(x, CTW, stride=2, padding=1), (rand(B, 2, 3, 3),)),
    Case("unfold_fold", lambda x: F.fold(F.unfold(x, 2), (4, 4), 2), (rand(B, 1, 2, 4, 4),)),
    # conv2d with a per-sample weight: one grouped convolution (each sample its own group)
    Case("conv2d_batched_weight", lambda x, w: F.conv2d(x, w), (rand(B, 2, 5, 5), rand(B, 3, 2, 3, 3))),
    Case("fused_softmax_cross_entropy_labels", lambda z: fused.SoftmaxCrossEntropy.apply(z, labels=ITEM_LABELS, scale=0.2),
         (LOGITS,)),
    Case("fused_softmax_cross_entropy_q", lambda z: fused.SoftmaxCrossEntropy.apply(z, q=ITEM_Q), (LOGITS,)),
    Case("fused_softmax_cross_entropy_all_ignored", lambda z: fused.SoftmaxCrossEntropy.apply(z, labels=ITEM_LABELS,
                                                                                             scale=float("nan")), (LOGITS,)),
] + [
    Case(f"cross_entropy_{reduction}", lambda z, t, r=reduction: F.cross_entropy(z, t, reduction=r), (LOGITS, TARGET))
    for reduction in ("mean", "sum", "none")
] + [
    Case(f"cross_entropy_weight_{reduction}", lambda z, t, r=reduction: F.cross_entropy(z, t, weight=CLASS_WEIGHT, reduction=r),
         (LOGITS, TARGET)) for reduction in ("mean", "sum", "none")
] + [
    Case("cross_entropy_ignore_index", lambda z, t: F.cross_entropy(z, t), (LOGITS, TARGET_IGNORED)),
    Case("cross_entropy_ignore_index_custom", lambda z, t: F.cross_entropy(z, t.where(t >= 0, 2), ignore_index=2,
                                                                          weight=CLASS_WEIGHT), (LOGITS, TARGET_IGNORED)),
    Case("cross_entropy_unbatched_target", lambda z, t: F.cross_entropy(z, t), (LOGITS, labels(5)), (0, None)),
    Case("cross_entropy_unbatched_logits", lambda z, t: F.cross_entropy(z, t, reduction="sum"), (rand(5, 4), TARGET), (None, 0)),
    Case("cross_entropy_one_item", lambda z, t: F.cross_entropy(z, t), (rand(B, 4), labels(B))),
    Case("cross_entropy_label_smoothing", lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1), (LOGITS, TARGET)),
    Case("cross_entropy_probabilities_mean", lambda z, q: F.cross_entropy(z, q), (LOGITS, probabilities(B, 5, 4))),
    Case("cross_entropy_probabilities_none", lambda z, q: F.cross_entropy(z, q, reduction="none"), (LOGITS, probabilities(B, 5, 4))),
    Case("cross_entropy_spatial", lambda z, t: F.cross_entropy(z, t), (rand(B, 2, 4, 3), labels(B, 2, 3))),
    Case("nll_loss_mean", lambda z, t: F.nll_loss(F.log_softmax(z, -1), t), (LOGITS, TARGET)),
    Case("nll_loss_weight_sum", lambda z, t: F.nll_loss(F.log_softmax(z, -1), t, weight=CLASS_WEIGHT, reduction="sum"),
         (LOGITS, TARGET_IGNORED)),
    Case("nll_loss_none", lambda z, t: F.nll_loss(z, t, reduction="none"), (LOGITS, TARGET)),
    Case("mse_loss", lambda a, b: F.mse_loss(a, b), (X23, Y23)),
    Case("embedding_batched_weight", lambda w: F.embedding(tc.tensor([[0, 2], [1, 1]]), w), (rand(B, 4, 3),)),
    Case("embedding_padding_idx", lambda w: F.embedding(tc.tensor([0, 2]), w, padding_idx=0), (rand(B, 4, 3),),
         loops="Embedding with padding_idx"),
]


@table(*NN)
def test_nn(case: Case) -> None:
    """conv2d of a batched input and the class losses with batched targets equal the loop."""
    check(case)


# ----------------------------------------------------------------- known fallbacks
# Methods that once read a batched tensor's array (and fell back): now batched on the physical tensor.
BATCHED_METHODS = [
    Case("sort", lambda x: x.sort(1).values, (X34,)),
    Case("topk", lambda x: x.topk(2).values, (X34,)),
    Case("cummax", lambda x: x.cummax(1).values, (X34,)),
    Case("median", lambda x: x.median(), (X34,)),
    Case("nansum", lambda x: x.nansum(), (X34,)),
    Case("nanmean", lambda x: x.nanmean(1), (X34,)),
    Case("count_nonzero", lambda x: tc.count_nonzero(x > 0), (X34,)),
    Case("elu", lambda x: F.elu(x), (X34,)),
    Case("huber_loss", lambda a, b: F.huber_loss(a, b), (X34, rand(B, 3, 4))),
    Case("binary_cross_entropy", lambda a, b: F.binary_cross_entropy(a.sigmoid(), b), (X34, tc.tensor(_rng.random((B, 3, 4))))),
    Case("kl_div", lambda a, b: F.kl_div(F.log_softmax(a, -1), b, reduction="batchmean"), (X34, probabilities(B, 3, 4))),
    Case("one_hot", lambda t: F.one_hot(t, 4), (labels(B, 2),)),
    Case("embedding_batched_index", lambda i, w: F.embedding(i, w), (labels(B, 2), rand(4, 3)), (0, None)),
]


@table(*BATCHED_METHODS)
def test_methods_that_read_values_are_batched(case: Case) -> None:
    """Sorting, order statistics, nan-reductions, one_hot, losses with value checks: batched, the loop's values."""
    check(case)


FALLBACKS = [
    Case("lstsq", lambda a, b: tc.linalg.lstsq(a, b).solution, (rand(B, 4, 3), rand(B, 4)), loops="lstsq in linalg.py"),
    Case("item", lambda x: x * x.sum().item(), (X34,), loops="item in tensor.py"),
    Case("python_if", lambda x: x * 2 if x.sum() > 0 else -x, (X34,), loops="__bool__ in tensor.py"),
]


@table(*FALLBACKS)
def test_known_fallbacks(case: Case) -> None:
    """Code that reads a batched tensor's values runs sample by sample: still the loop's value, and vmap warns."""
    check(case)


def test_in_place_write_into_an_argument_happens_once() -> None:
    """A write into the vmapped function's argument is left to the loop: a later fallback cannot repeat it."""
    def f(x: tc.Tensor) -> tc.Tensor:
        x.add_(1.0)
        return x * x.sum().item()

    a, b = tc.tensor(np.zeros((B, 2))), tc.tensor(np.zeros((B, 2)))
    with pytest.warns(UserWarning, match="add_ writes into an argument of the vmapped function"):
        got = tc.func.vmap(f)(a)
    assert_same(got, tc.stack([f(b[k]) for k in range(B)]))
    np.testing.assert_array_equal(a.numpy(), np.ones((B, 2)))


def test_fallback_warns_once_per_function() -> None:
    """Each function that falls back warns once (two different lambdas: two warnings)."""
    x = rand(B, 3)
    first, second = (lambda v: v * v.sum().item()), (lambda v: v + v.amax().item())
    with pytest.warns(UserWarning, match="could not be batched") as record:
        for _ in range(2):
            tc.func.vmap(first)(x)
            tc.func.vmap(second)(x)
    assert len([w for w in record if "could not be batched" in str(w.message)]) == 2


# ----------------------------------------------------------------- in_dims, out_dims, structure
def two_outputs(x: tc.Tensor, y: tc.Tensor) -> tuple[tc.Tensor, tc.Tensor]:
    return x * y.sum(), (x - y.mean()).sum(0)


STRUCTURE = [
    Case("in_dims_1", lambda x: x.sum(0), (rand(3, B, 4),), 1),
    Case("in_dims_negative", lambda x: x.cumsum(0), (rand(3, 4, B),), -1),
    Case("in_dims_tuple_with_none", lambda x, w: x @ w, (rand(2, B, 3), rand(3, 5)), (1, None)),
    Case("in_dims_tuple_mixed", lambda x, y: x * y, (rand(3, B), rand(B, 3)), (1, 0)),
    Case("out_dims_1", lambda x: x.exp(), (X234,), 0, 1),
    Case("out_dims_negative", lambda x: x[0] * 2, (X234,), 0, -1),
    Case("tuple_out_dims", two_outputs, (X34, rand(B, 4)), 0, (1, 0)),
    Case("in_and_out_dims_2", lambda x: x.transpose(0, 1), (rand(2, 3, B),), 2, 2),
    Case("unbatched_output_expanded", lambda x, w: w * 2.0, (X34, rand(4)), (0, None)),
]


@table(*STRUCTURE)
def test_in_dims_out_dims(case: Case) -> None:
    """in_dims other than 0 (negative, per argument, None) and out_dims other than 0 equal the loop."""
    check(case)


def test_dict_argument() -> None:
    """A dict argument with one in_dim for every value, or one per key, equals the loop."""
    params = {"w": rand(B, 4, 3), "b": rand(B, 4)}
    x = rand(3)
    f = lambda p, v: (p["w"] @ v + p["b"]).tanh()  # noqa: E731
    got = batched(lambda: tc.func.vmap(f, in_dims=(0, None))(params, x))
    assert_same(got, loop(f, (params, x), (0, None), 0))
    shared_bias = {"w": params["w"], "b": rand(4)}
    got = batched(lambda: tc.func.vmap(f, in_dims=({"w": 0, "b": None}, None))(shared_bias, x))
    assert_same(got, tc.stack([f({"w": select(params["w"], 0, b), "b": shared_bias["b"]}, x) for b in range(B)]))


def test_dict_output() -> None:
    """A dict output is moved to out_dims value by value."""
    x = rand(B, 3)
    got = batched(lambda: tc.func.vmap(lambda v: {"s": v.sum(), "e": v.exp()})(x))
    assert_same(got, {"s": x.sum(1), "e": x.exp()})


def test_nested_vmap_equals_the_double_loop() -> None:
    """vmap(vmap(f)) equals f over both batch dims, and an outer-product nesting of two arguments."""
    x = rand(B, 2, 3, 4)
    f = lambda s: (s @ s.T).tanh().sum(-1) + s.amax()  # noqa: E731
    got = batched(lambda: tc.func.vmap(tc.func.vmap(f))(x))
    expected = tc.stack([tc.stack([f(select(select(x, 0, i), 0, j)) for j in range(2)]) for i in range(B)])
    assert_same(got, expected)
    u, v = rand(B, 3), rand(5, 3)
    outer = tc.func.vmap(tc.func.vmap(lambda a, b: (a * b).sum() + a[0], in_dims=(None, 0)), in_dims=(0, None))
    assert_same(batched(lambda: outer(u, v)), u @ v.T + u[:, :1])
    g = lambda a, b: tc.einsum("i,i->", a, b) * a.norm()  # noqa: E731
    inner_batched_first = tc.func.vmap(tc.func.vmap(g, in_dims=(0, None)), in_dims=(None, 0))
    expected = tc.stack([tc.stack([g(select(u, 0, i), select(v, 0, j)) for i in range(B)]) for j in range(5)])
    assert_same(batched(lambda: inner_batched_first(u, v)), expected)
    # an inner result that depends on the outer sample only is repeated along the inner batch dim
    only_outer = tc.func.vmap(lambda a: tc.func.vmap(lambda b: a * 2.0, out_dims=1)(v))
    assert_same(batched(lambda: only_outer(u)), (u * 2.0)[:, :, None].expand(B, 3, 5))


def test_chunk_size_equals_no_chunking() -> None:
    """chunk_size=2 (chunks of 2 and 1) gives what one batched call gives, outputs and out_dims alike."""
    x, w = rand(B, 3, 4), rand(4, 2)
    f = lambda a, m: ((a @ m).relu().sum(0), a.T)  # noqa: E731
    whole = batched(lambda: tc.func.vmap(f, in_dims=(0, None), out_dims=(0, 1))(x, w))
    chunked = batched(lambda: tc.func.vmap(f, in_dims=(0, None), out_dims=(0, 1), chunk_size=2)(x, w))
    assert_same(chunked, whole)
    assert_same(whole, loop(f, (x, w), (0, None), (0, 1)))
    y = rand(3, B, 2)
    g = lambda a: a.cumsum(0).T  # noqa: E731
    whole = batched(lambda: tc.func.vmap(g, in_dims=1, out_dims=-1)(y))
    assert_same(batched(lambda: tc.func.vmap(g, in_dims=1, out_dims=-1, chunk_size=2)(y)), whole)
    assert_same(whole, loop(g, (y,), 1, -1))


def test_namedtuple_outputs() -> None:
    """A namedtuple result (max(dim), slogdet, …) keeps its type, batched, chunked and looped."""
    x = rand(B, 3, 4)
    expected = tuple(x.max(1))
    for run in (lambda: tc.func.vmap(lambda s: s.max(0))(x), lambda: tc.func.vmap(lambda s: s.max(0), chunk_size=2)(x)):
        got = batched(run)
        assert type(got).__name__ == "ValuesIndices"
        assert_same(tuple(got), expected)
    with pytest.warns(UserWarning, match="slogdet in linalg.py"):
        got = tc.func.vmap(tc.linalg.slogdet)(spd(B))
    assert type(got).__name__ == "SlogdetResult" and np.all(got.sign.numpy() == 1.0)


# ----------------------------------------------------------------- gradients
GRADS = [
    Case("grad_exp_tanh", lambda x: x.exp() * x.tanh(), (X23,)),
    Case("grad_log_sigmoid", lambda x: x.log().sigmoid() ** 2, (P23,)),
    Case("grad_relu_clamp", lambda x: x.relu() + x.clamp(-0.3, 0.3), (X23,)),
    Case("grad_broadcast_unbatched", lambda x, y: (x * y).sin(), (rand(B, 3), rand(4, 3)), (0, None)),
    Case("grad_sum_mean_dim", lambda x: x.sum(1) * x.mean((0, 2), keepdim=True).sum(), (X234,)),
    Case("grad_amax_var_std", lambda x: x.amax(-1) + x.var(1).sum() + x.std(), (X234,)),
    Case("grad_prod_logsumexp", lambda x: x.prod(2).sum(-1, keepdim=True) + x.logsumexp(-1), (P234,)),
    Case("grad_cumsum", lambda x: x.cumsum(1) ** 2, (X234,)),
    Case("grad_reshape_permute", lambda x: x.reshape(4, 6).permute(1, 0) ** 2, (X234,)),
    Case("grad_getitem", lambda x: x[1, 1:] * x[[0, 2], :3].sum(), (X34,)),
    Case("grad_cat_pad_flip", lambda x, y: F.pad(tc.cat([x, y], 0), (1, 1)).flip(0) ** 2, (X34, rand(2, 4)), (0, None)),
    Case("grad_matmul", lambda a, b: (a @ b).tanh(), (M34, M43)),
    Case("grad_matmul_unbatched_right", lambda a, b: (a @ b).tanh(), (M34, rand(4, 2)), (0, None)),
    Case("grad_linear_batched_input", lambda x, w: F.linear(x, w, BIAS).tanh(), (rand(B, 5, 3), W), (0, None)),
    Case("grad_linear_batched_weight", lambda w, x: F.linear(x, w, BIAS).tanh(), (rand(B, 4, 3), rand(5, 3)), (0, None)),
    Case("grad_einsum", lambda m, v: tc.einsum("ij,j->i", m, v) ** 2, (M43, V3)),
    Case("grad_inv_det", lambda m: tc.linalg.inv(m) * tc.linalg.det(m), (spd(B),)),
    Case("grad_conv2d", lambda x: F.conv2d(x, CW, CB).tanh(), (rand(B, 2, 5, 5),)),
    Case("grad_cross_entropy", lambda z, t: F.cross_entropy(z, t), (LOGITS, TARGET)),
    Case("grad_cross_entropy_weight_ignore", lambda z, t: F.cross_entropy(z, t, weight=CLASS_WEIGHT), (LOGITS, TARGET_IGNORED)),
    Case("grad_cross_entropy_probabilities", lambda z, q: F.cross_entropy(z, q, reduction="sum"), (LOGITS, probabilities(B, 5, 4))),
    Case("grad_nll_loss", lambda z, t: F.nll_loss(F.log_softmax(z, 1), t), (LOGITS, TARGET)),
    Case("grad_where_masked_fill", lambda x, y: x.where(x > 0, y).masked_fill(y > 1, 0.0) ** 2, (X23, Y23)),
    Case("grad_max_dim_logsumexp", lambda x: x.max(1, keepdim=True).values * x.logsumexp() + x.amax(), (X234,)),
    Case("grad_setitem", lambda x, v: setitem_copy(x, v) * x, (X34, rand(B, 4))),
    Case("grad_setitem_value", lambda v, x: setitem_copy(x, v) * x, (rand(B, 4), X34)),
    Case("grad_in_place", lambda x, v: in_place_arithmetic(x, v).sin(), (X34, rand(B, 4))),
    Case("grad_scatter_add_gather", lambda x, s: x.scatter_add(1, tc.tensor([[0, 2, 1], [1, 1, 0]]), s).gather(
        1, tc.tensor([[3, 0], [1, 2]])) ** 2, (rand(B, 2, 4), rand(B, 2, 3))),
    Case("grad_solve", lambda a, b: tc.linalg.solve(a, b) ** 2, (spd(B), rand(B, 3, 2))),
    Case("grad_solve_unbatched_matrix", lambda b, a: tc.linalg.solve(a, b) ** 2, (rand(B, 3), spd()), (0, None)),
    Case("grad_avg_pool_conv_transpose", lambda x: F.conv_transpose2d(F.avg_pool2d(x, 2), CTW, stride=2) ** 2,
         (rand(B, 2, 4, 4),)),
    # per-sample gradients: the differentiated argument is shared (in_dims None), another is batched
    Case("per_sample_weight_matmul", lambda w, x: (x @ w).tanh(), (rand(3, 2), V3), (None, 0)),
    Case("per_sample_linear_weight", lambda w, x, t: F.cross_entropy(F.linear(x, w), t), (rand(4, 3), rand(B, 5, 3), TARGET),
         (None, 0, 0)),
    Case("per_sample_elementwise", lambda w, x: (w * x).exp() + w.sum(), (rand(3), V3), (None, 0)),
    Case("per_sample_solve_matrix", lambda a, b: tc.linalg.solve(a, b) ** 2, (spd(), rand(B, 3, 2)), (None, 0)),
    Case("per_sample_embedding_table", lambda w, x: F.embedding(tc.tensor([0, 2, 2]), w) * x, (rand(4, 3), V3), (None, 0)),
]


@table(*GRADS)
def test_vmap_of_grad(case: Case) -> None:
    """vmap(grad(f)) equals the loop of grad per sample, with the batched path (no warning)."""
    g = tc.func.grad(lambda *a, f=case.f: f(*a).sum())
    check(Case(case.id, g, case.args, case.in_dims))


@table(*[c for c in GRADS if c.in_dims == 0 or c.in_dims[0] == 0])
def test_grad_of_vmap(case: Case) -> None:
    """grad of Σ vmap(f)(x) over the batched first argument equals the stacked per-sample gradients."""
    dims = case.in_dims if isinstance(case.in_dims, tuple) else (0,) * len(case.args)
    total = lambda *a: tc.func.vmap(case.f, dims)(*a).sum()  # noqa: E731
    got = batched(lambda: tc.func.grad(total)(*case.args))
    g = tc.func.grad(lambda *a: case.f(*a).sum())
    assert_same(got, loop(g, case.args, dims, 0))


def test_jacobians_inside_vmap() -> None:
    """vmap(jacrev(f)), vmap(jacfwd(f)) and vmap(hessian(f)) equal the loops per sample."""
    f = lambda s: s.sin() * s.sum()  # noqa: E731
    x = rand(B, 3)
    for transform in (tc.func.jacrev(f), tc.func.jacfwd(f), tc.func.hessian(lambda s: f(s).sum())):
        assert_same(batched(lambda t=transform: tc.func.vmap(t)(x)), loop(transform, (x,), 0, 0))


SHARED = [
    Case("solve_matrix", lambda a, b: tc.linalg.solve(a, b) ** 2, (spd(), rand(B, 3, 2)), (None, 0)),
    Case("linear_weight", lambda w, x: F.linear(x, w, BIAS).tanh(), (W, rand(B, 5, 3)), (None, 0)),
    Case("conv2d_weight", lambda w, x: F.conv2d(x, w, CB, padding=1).tanh(), (CW, rand(B, 2, 5, 5)), (None, 0)),
    Case("matmul_broadcast", lambda w, x: (x @ w).sin(), (rand(3, 2), rand(B, 4, 3)), (None, 0)),
    Case("einsum_operand", lambda w, x: tc.einsum("ij,j->i", w, x).exp(), (rand(5, 3), V3), (None, 0)),
]


@table(*SHARED)
def test_grad_of_vmap_wrt_a_shared_argument(case: Case) -> None:
    """grad of Σ vmap(f)(w, x) w.r.t. an unbatched w (broadcast over the batch) equals the sum of per-sample grads."""
    w, x = case.args
    got = batched(lambda: tc.func.grad(lambda v: tc.func.vmap(case.f, case.in_dims)(v, x).sum())(w))
    g = tc.func.grad(lambda v, xb: case.f(v, xb).sum())
    assert_same(got, loop(g, case.args, case.in_dims, 0).sum(0))


def test_grad_with_argnums_inside_vmap() -> None:
    """vmap(grad(f, argnums=(0, 1))) gives a per-sample gradient for a shared and a batched argument."""
    f = lambda w, x: ((x @ w).sin() * x.sum()).sum()  # noqa: E731
    w, x = rand(3, 2), rand(B, 3)
    g = tc.func.grad(f, argnums=(0, 1))
    got = batched(lambda: tc.func.vmap(g, in_dims=(None, 0))(w, x))
    assert_same(got, loop(g, (w, x), (None, 0), 0))


# ----------------------------------------------------------------- errors
def test_errors() -> None:
    """Bad batch sizes, in_dims, randomness and out_dims are refused with a message that says why."""
    a = rand(3, 4)
    with pytest.raises(ValueError, match=r"expected all mapped inputs to have the same size.*argument 1 has size 2 but an earlier one has 3"):
        tc.func.vmap(lambda u, v: u * v)(a, a[:2])
    with pytest.raises(ValueError, match=r"in_dims=2 is out of range for argument 0 of shape \(3, 4\)"):
        tc.func.vmap(lambda r: r, in_dims=2)(a)
    with pytest.raises(ValueError, match=r"in_dims=-3 is out of range for argument 0"):
        tc.func.vmap(lambda r: r, in_dims=-3)(a)
    with pytest.raises(ValueError, match=r"in_dims has 2 entries for 1 positional arguments"):
        tc.func.vmap(lambda r: r, in_dims=(0, 0))(a)
    with pytest.raises(ValueError, match=r"in_dims has 1 entries for 2 positional arguments"):
        tc.func.vmap(lambda r, s: r, in_dims=(0,))(a, a)
    with pytest.raises(RuntimeError, match=r"vmap\(randomness='error'\): a random op was called"):
        tc.func.vmap(lambda r: r + tc.randn(4, dtype=tc.float64))(a)
    with pytest.raises(ValueError, match=r"out_dims=None for an output that depends on the mapped inputs"):
        tc.func.vmap(lambda r: r * 2, out_dims=None)(a)
    with pytest.raises(ValueError, match=r"at least one argument must be mapped"):
        tc.func.vmap(lambda r: r, in_dims=None)(a)
    with pytest.raises(ValueError, match=r"out_dims=2 is out of range for an output with 1 dims"):
        tc.func.vmap(lambda r: r, out_dims=2)(a)
    with pytest.raises(ValueError, match=r"got in_dims=0 for argument 1, which is a float"):
        tc.func.vmap(lambda r, s: r * s)(a, 2.0)
    with pytest.raises(RuntimeError, match=r"cannot call .backward\(\) on a tensor inside vmap"):
        tc.func.vmap(lambda r: r.sum().backward())(a)
    # shape errors inside name the shapes one sample sees, not the physical ones
    with pytest.raises(ValueError, match=r"add: shapes \(4,\) and \(3,\) cannot be broadcast together"):
        tc.func.vmap(lambda r, s: r + s, in_dims=(0, None))(a, rand(3))
    with pytest.raises(ValueError, match=r"matmul: shapes \(4,\) and \(3,\) do not align"):
        tc.func.vmap(lambda r, s: r @ s, in_dims=(0, None))(a, rand(3))
