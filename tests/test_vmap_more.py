"""vmap of the order statistics, the extra activations and losses, and pooling: batched (no fallback) and equal to the loop."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from vmap_checks import B, assert_same, batched, fresh_warnings, loop, select  # noqa: F401  (fresh_warnings: autouse)

import tinygrad_course as tc
from tinygrad_course.nn import functional as F

pytestmark = pytest.mark.usefixtures("engine")


# ----------------------------------------------------------------- helpers
_rng = np.random.default_rng(1)


def rand(*shape: int) -> tc.Tensor:
    """Standard normal float64 values."""
    return tc.tensor(_rng.standard_normal(shape))


def pos(*shape: int) -> tc.Tensor:
    """Positive float64 values in [0.5, 2)."""
    return tc.tensor(_rng.uniform(0.5, 2.0, shape))


def unit(*shape: int) -> tc.Tensor:
    """Probabilities in (0.05, 0.95)."""
    return tc.tensor(_rng.uniform(0.05, 0.95, shape))


def ints(*shape: int, low: int = 0, high: int = 4) -> tc.Tensor:
    """int64 values in [low, high)."""
    return tc.tensor(_rng.integers(low, high, shape))


def signs(*shape: int) -> tc.Tensor:
    """±1 targets (float64)."""
    return tc.tensor(_rng.choice([-1.0, 1.0], shape))


def ties(*shape: int) -> tc.Tensor:
    """Small integers as float64: many ties (sorts must stay stable, ties share or pick gradients)."""
    return tc.tensor(_rng.integers(-2, 3, shape).astype(np.float64))


def with_nans(t: tc.Tensor, every: int = 4) -> tc.Tensor:
    """t with NaN at every `every`-th element (flat), the first sample left without NaN."""
    a = t.numpy().copy()
    flat = a.reshape(len(a), -1)
    flat[1:, ::every] = np.nan
    return tc.tensor(a)


def edges(*shape: int, at: tuple[float, ...] = (-3.0, -1.0, 0.0, 1.0, 3.0, 6.0)) -> tc.Tensor:
    """Random values with some set exactly on the kinks of the piecewise activations."""
    a = _rng.uniform(-7.0, 7.0, shape)
    flat = a.reshape(-1)
    flat[:2 * len(at):2] = at  # every other element, from the first sample on
    return tc.tensor(a)










@dataclass
class Case:
    """One vmap case: f, its arguments (batch dim at in_dims), and whether it is differentiable in its first argument."""

    id: str
    f: Callable[..., Any]
    args: tuple[Any, ...]
    in_dims: Any = 0
    grad: bool = True


def check(f: Callable[..., Any], args: tuple[Any, ...], in_dims: Any) -> None:
    """vmap(f) equals the loop, with no vmap warning."""
    got = batched(lambda: tc.func.vmap(f, in_dims)(*args))
    assert_same(got, loop(f, args, in_dims))


def check_grad(case: Case) -> None:
    """vmap(grad(Σ f)) w.r.t. the first argument equals the loop of grad, with no vmap warning."""
    def total(*a: Any) -> tc.Tensor:
        out = case.f(*a)
        return (out[0] if isinstance(out, tuple) else out).sum()

    check(tc.func.grad(total), case.args, case.in_dims)


def table(cases: list[Case], grads: bool = False) -> Any:
    """Parametrize a test over the cases (only the differentiable ones when grads), one test id each."""
    chosen = [c for c in cases if c.grad or not grads]
    return pytest.mark.parametrize("case", chosen, ids=[c.id for c in chosen])


# ----------------------------------------------------------------- sorting and order statistics
X34, T34, N34 = rand(B, 3, 4), ties(B, 3, 4), with_nans(rand(B, 3, 4), 5)
ORDER = [
    Case("sort_last", lambda x: tuple(x.sort()), (X34,)),
    Case("sort_dim0_descending_ties", lambda x: tuple(x.sort(0, descending=True)), (T34,)),
    Case("sort_nan", lambda x: tuple(x.sort(1)), (N34,)),
    Case("sort_0d_sample", lambda x: tuple(x.sort()), (rand(B),)),
    Case("argsort_descending_ties", lambda x: x.argsort(-1, descending=True), (T34,), grad=False),
    Case("topk_largest", lambda x: tuple(x.topk(2)), (T34,)),
    Case("topk_smallest_dim0", lambda x: tuple(x.topk(2, 0, largest=False)), (X34,)),
    Case("topk_zero", lambda x: tuple(x.topk(0)), (X34,)),
    Case("kthvalue_keepdim", lambda x: tuple(x.kthvalue(2, 1, keepdim=True)), (T34,)),
    Case("kthvalue_nan", lambda x: tuple(x.kthvalue(4)), (N34,)),
    Case("cummax", lambda x: tuple(x.cummax(1)), (T34,)),
    Case("cummin_nan", lambda x: tuple(x.cummin(-1)), (N34,)),
    Case("cummax_0d_sample", lambda x: tuple(x.cummax(0)), (rand(B),)),
    Case("median_all", lambda x: x.median(), (X34,)),
    Case("median_all_ties", lambda x: x.median(), (T34,)),
    Case("median_all_nan", lambda x: x.median(), (N34,)),
    Case("median_all_inf", lambda x: x.median(), (tc.tensor(np.array([[np.inf] * 3 + [1.0], [-np.inf] * 3 + [1.0],
                                                                     [np.inf, -np.inf, 2.0, 3.0]])),)),
    Case("median_all_int", lambda x: x.median(), (ints(B, 5),), grad=False),
    Case("median_dim", lambda x: tuple(x.median(0)), (T34,)),
    Case("median_dim_keepdim_nan", lambda x: tuple(x.median(-1, keepdim=True)), (N34,)),
    Case("median_0d_sample", lambda x: x.median(), (rand(B),)),
    Case("quantile_all", lambda x: x.quantile(0.3), (X34,)),
    Case("quantile_tensor_q_dim_keepdim", lambda x: x.quantile(tc.tensor([0.1, 0.5, 1.0]), 1, keepdim=True), (T34,)),
    Case("quantile_all_keepdim_nan", lambda x: x.quantile(tc.tensor([0.25, 0.75]), keepdim=True), (N34,)),
    *[Case(f"quantile_{mode}", lambda x, m=mode: x.quantile(0.4, -1, interpolation=m), (X34,))
      for mode in ("lower", "higher", "nearest", "midpoint")],
    Case("nansum", lambda x: x.nansum(), (N34,)),
    Case("nansum_dim_keepdim", lambda x: x.nansum(1, keepdim=True), (N34,)),
    Case("nanmean", lambda x: x.nanmean(), (N34,)),
    Case("nanmean_dims", lambda x: x.nanmean((0, 1)), (N34,)),
    Case("count_nonzero", lambda x: x.count_nonzero(), (T34,), grad=False),
    Case("count_nonzero_dim", lambda x: x.count_nonzero(0), (T34,), grad=False),
    Case("diff_prepend_number", lambda x: x.diff(prepend=0.5), (X34,)),
]


@table(ORDER)
def test_order_statistics(case: Case) -> None:
    """sort, topk, kthvalue, cummax/cummin, median, quantile and the NaN-aware reductions equal the loop."""
    check(case.f, case.args, case.in_dims)


@table(ORDER, grads=True)
def test_order_statistics_grad(case: Case) -> None:
    """Their gradients (to the chosen elements, split between the ties of median()) equal the loop's."""
    check_grad(case)


# ----------------------------------------------------------------- activations
XE = edges(B, 4, 5)
ACTIVATIONS = [
    Case("elu", lambda x: F.elu(x), (XE,)),
    Case("selu", lambda x: F.selu(x), (XE,)),
    Case("celu", lambda x: F.celu(x, 0.5), (XE,)),
    Case("hardtanh", lambda x: F.hardtanh(x), (XE,)),
    Case("hardtanh_range", lambda x: F.hardtanh(x, -3.0, 3.0), (XE,)),
    Case("relu6", lambda x: F.relu6(x), (XE,)),
    Case("hardsigmoid", lambda x: F.hardsigmoid(x), (XE,)),
    Case("hardswish", lambda x: F.hardswish(x), (XE,)),
    Case("hardswish_inplace_on_a_copy", lambda x: F.hardswish(x * 1.0, inplace=True), (XE,)),
    Case("silu", lambda x: F.silu(x), (XE,)),
    Case("mish", lambda x: F.mish(x), (XE,)),
    Case("softsign", lambda x: F.softsign(x), (XE,)),
    Case("tanhshrink", lambda x: F.tanhshrink(x), (XE,)),
    Case("logsigmoid", lambda x: F.logsigmoid(x * 10.0), (XE,)),
    Case("glu", lambda x: F.glu(x), (rand(B, 3, 4),)),
    Case("glu_dim0", lambda x: F.glu(x, 0), (rand(B, 4, 3),)),
    Case("softmin", lambda x: F.softmin(x, -1), (XE,)),
    Case("leaky_relu", lambda x: F.leaky_relu(x, 0.2), (XE,)),
    Case("normalize_p0", lambda x: F.normalize(x, 0.0, -1) + F.normalize(x, 3.0, 0), (ties(B, 3, 4) + 0.5,)),
    Case("cosine_similarity", lambda x, y: F.cosine_similarity(x, y, -1), (rand(B, 3, 4), rand(B, 3, 4))),
    Case("pairwise_distance_unbatched", lambda x, y: F.pairwise_distance(x, y, 1.0), (rand(B, 3, 4), rand(3, 4)), (0, None)),
    Case("cdist", lambda x, y: F.cdist(x, y), (rand(B, 3, 4), rand(B, 2, 4))),
    Case("one_hot", lambda t: F.one_hot(t, 5), (ints(B, 2, 3),), grad=False),
    Case("one_hot_inferred", lambda t: F.one_hot(t), (tc.tensor(np.array([[0, 3, 1], [3, 3, 0], [2, 3, 1]])),), grad=False),
]


@table(ACTIVATIONS)
def test_activations(case: Case) -> None:
    """The activations of functional_extra (values exactly on their kinks included) equal the loop."""
    check(case.f, case.args, case.in_dims)


@table(ACTIVATIONS, grads=True)
def test_activations_grad(case: Case) -> None:
    """Their gradients (strict masks at the kinks, as PyTorch) equal the loop's."""
    check_grad(case)


def test_gumbel_softmax_hard_with_the_same_noise() -> None:
    """gumbel_softmax(hard=True) under vmap(randomness='same') equals the loop drawing the same noise per sample."""
    x = rand(B, 3, 5)
    f = lambda z: F.gumbel_softmax(z, 0.5, hard=True) * z  # noqa: E731
    tc.manual_seed(3)
    got = batched(lambda: tc.func.vmap(f, randomness="same")(x))
    outs = []
    for b in range(B):
        tc.manual_seed(3)
        outs.append(f(select(x, 0, b)))
    assert_same(got, tc.stack(outs))


# ----------------------------------------------------------------- losses
X, Y = rand(B, 4, 3), rand(B, 4, 3)
P, Q = unit(B, 4, 3), unit(B, 4, 3)
LOGP = tc.tensor(np.log(P.numpy()))
Q0 = tc.tensor(np.where(_rng.random((B, 4, 3)) < 0.3, 0.0, Q.numpy()))
COUNTS = tc.tensor(_rng.integers(0, 5, (B, 4, 3)).astype(np.float64))
VAR = pos(B, 4, 3)
VAR_SMALL = tc.tensor(np.where(_rng.random((B, 4, 3)) < 0.3, 1e-9, VAR.numpy()))
LOSSES = [
    Case("mse_loss", lambda x, y: F.mse_loss(x, y), (X, Y)),
    Case("l1_loss_sum", lambda x, y: F.l1_loss(x, y, reduction="sum"), (X, Y)),
    Case("huber_loss", lambda x, y: F.huber_loss(x, y, reduction="none", delta=0.7), (X, Y)),
    Case("huber_loss_unbatched_target", lambda x, y: F.huber_loss(x, y), (X, rand(4, 3)), (0, None)),
    Case("smooth_l1_loss", lambda x, y: F.smooth_l1_loss(x, y, beta=0.5), (X, Y)),
    Case("smooth_l1_loss_beta0", lambda x, y: F.smooth_l1_loss(x, y, beta=0.0, reduction="none"), (X, Y)),
    Case("binary_cross_entropy", lambda p, q: F.binary_cross_entropy(p, q), (P, Q)),
    Case("binary_cross_entropy_weight", lambda p, q, w: F.binary_cross_entropy(p, q, w, reduction="none"),
         (P, Q, pos(4, 3)), (0, 0, None)),
    Case("binary_cross_entropy_batched_weight", lambda p, q, w: F.binary_cross_entropy(p, q, w, reduction="sum"),
         (P, Q, pos(B, 4, 3))),
    Case("bce_with_logits", lambda x, q: F.binary_cross_entropy_with_logits(x, q), (X, Q)),
    Case("bce_with_logits_pos_weight", lambda x, q, w: F.binary_cross_entropy_with_logits(x, q, pos_weight=w, reduction="none"),
         (X, Q, pos(3)), (0, 0, None)),
    Case("kl_div", lambda x, q: F.kl_div(x, q, reduction="batchmean"), (LOGP, Q0)),
    Case("kl_div_none", lambda x, q: F.kl_div(x, q, reduction="none"), (LOGP, Q0)),
    Case("kl_div_log_target", lambda x, q: F.kl_div(x, q, reduction="sum", log_target=True), (LOGP, Q.log())),
    Case("kl_div_wrt_target", lambda q, x: F.kl_div(x, q, reduction="sum"), (Q0, LOGP)),
    Case("poisson_nll_loss", lambda x, y: F.poisson_nll_loss(x, y), (X, COUNTS)),
    Case("poisson_nll_loss_full", lambda x, y: F.poisson_nll_loss(x, y, log_input=False, full=True, reduction="none"),
         (VAR, COUNTS)),
    Case("poisson_nll_loss_full_wrt_target", lambda y, x: F.poisson_nll_loss(x, y, full=True, reduction="sum"),
         (COUNTS + 0.25, X)),
    Case("gaussian_nll_loss", lambda x, y, v: F.gaussian_nll_loss(x, y, v), (X, Y, VAR_SMALL)),
    Case("gaussian_nll_loss_full_float_var", lambda x, y: F.gaussian_nll_loss(x, y, 0.5, full=True, reduction="none"), (X, Y)),
    Case("gaussian_nll_loss_wrt_var", lambda v, x, y: F.gaussian_nll_loss(x, y, v, reduction="sum"), (VAR_SMALL[:, :, :1], X, Y)),
    Case("gaussian_nll_loss_unbatched_var", lambda x, v: F.gaussian_nll_loss(x, x * 0.5, v), (X, pos(4)), (0, None)),
    Case("margin_ranking_loss", lambda x, y, t: F.margin_ranking_loss(x, y, t, 0.1), (X, Y, signs(B, 4, 3))),
    Case("triplet_margin_loss_swap", lambda a, p, n: F.triplet_margin_loss(a, p, n, swap=True), (X, Y, rand(B, 4, 3))),
    Case("cosine_embedding_loss", lambda x, y, t: F.cosine_embedding_loss(x, y, t, 0.2), (X, Y, signs(B, 4))),
    Case("hinge_embedding_loss", lambda x, t: F.hinge_embedding_loss(x, t, reduction="none"), (X, signs(B, 4, 3))),
    Case("multilabel_soft_margin_loss", lambda x, q: F.multilabel_soft_margin_loss(x, q), (X, Q)),
]


@table(LOSSES)
def test_losses(case: Case) -> None:
    """The regression, probabilistic and margin losses (batched and unbatched targets, weights, reductions) equal the loop."""
    check(case.f, case.args, case.in_dims)


@table(LOSSES, grads=True)
def test_losses_grad(case: Case) -> None:
    """Their gradients w.r.t. the first argument equal the loop's."""
    check_grad(case)


def test_loss_input_checks_under_vmap() -> None:
    """A value check that fails for one sample fails under vmap too, with the loop's message."""
    bad = tc.tensor(np.where(np.arange(B * 4).reshape(B, 4) == 5, 1.5, 0.5))
    with pytest.raises(ValueError, match="should be probabilities between 0 and 1"):
        tc.func.vmap(lambda p: F.binary_cross_entropy(p, p * 0.0))(bad)
    with pytest.raises(ValueError, match="var has negative"):
        tc.func.vmap(lambda x, v: F.gaussian_nll_loss(x, x, v))(bad, bad - 1.0)
    with pytest.raises(RuntimeError, match="class values must be non-negative and smaller than num_classes"):
        tc.func.vmap(lambda t: F.one_hot(t, 3))(tc.tensor(np.array([[0, 1], [2, 3], [1, 1]])))


def test_corrected_target_gradients() -> None:
    """kl_div and poisson_nll_loss(full=True) differentiate y log y and Stirling's term w.r.t. the target too."""
    x = tc.tensor(_rng.standard_normal(5), requires_grad=True)
    y = tc.tensor(np.array([0.3, 0.0, 1.2, 2.5, 4.0]), requires_grad=True)
    F.kl_div(x, y, reduction="sum").backward()
    t, xs = y.detach().numpy(), x.detach().numpy()
    expected = np.where(t > 0, np.log(np.where(t > 0, t, 1.0)) + 1.0, 0.0) - xs
    np.testing.assert_allclose(y.grad.numpy(), expected, rtol=1e-12)
    y.grad = None
    F.poisson_nll_loss(x, y, full=True, reduction="sum").backward()
    stirling = np.where(t > 1, np.log(np.where(t > 1, t, 1.0)) + 0.5 / np.where(t > 1, t, 1.0), 0.0)
    np.testing.assert_allclose(y.grad.numpy(), stirling - xs, rtol=1e-12)


# ----------------------------------------------------------------- pooling and resampling
IMG3, IMG4 = rand(B, 2, 5, 6), rand(B, 2, 2, 4, 4)
POOLING = [
    Case("max_pool2d", lambda x: F.max_pool2d(x, 2), (IMG3,)),
    Case("max_pool2d_4d_sample", lambda x: F.max_pool2d(x, 2, 1), (IMG4,)),
    Case("max_pool2d_padding_dilation", lambda x: F.max_pool2d(x, 3, 2, padding=1, dilation=(1, 2)), (IMG3,)),
    Case("max_pool2d_ties", lambda x: F.max_pool2d(x, 2, 1), (ties(B, 1, 4, 4),)),
    Case("max_pool2d_indices", lambda x: F.max_pool2d(x, (2, 3), return_indices=True), (IMG3,)),
    Case("max_pool2d_indices_4d_sample", lambda x: F.max_pool2d(x, 2, return_indices=True), (IMG4,)),
    Case("avg_pool2d_exclude_pad", lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False), (IMG3,)),
    Case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 4)), (IMG3,)),
    Case("adaptive_avg_pool2d_4d_sample", lambda x: F.adaptive_avg_pool2d(x, 3), (IMG4,)),
    Case("interpolate_nearest", lambda x: F.interpolate(x, scale_factor=2), (IMG4,)),
    Case("interpolate_bilinear", lambda x: F.interpolate(x, size=(3, 7), mode="bilinear", align_corners=True), (IMG4,)),
]


@table(POOLING)
def test_pooling(case: Case) -> None:
    """max_pool2d (indices too), avg_pool2d, adaptive_avg_pool2d and interpolate on 3-D and 4-D samples equal the loop."""
    check(case.f, case.args, case.in_dims)


@table(POOLING, grads=True)
def test_pooling_grad(case: Case) -> None:
    """Their gradients (max_pool2d: to each window's first maximum, accumulated) equal the loop's."""
    check_grad(case)


def test_nested_vmap_of_order_statistics() -> None:
    """vmap(vmap(f)) over two batch dims equals the double loop (the dims shifted past both)."""
    x = ties(B, 2, 3, 4)
    f = lambda s: s.sort(0, descending=True).values.sum(-1) + s.median() + s.quantile(0.7, 1).sum()  # noqa: E731
    got = batched(lambda: tc.func.vmap(tc.func.vmap(f))(x))
    expected = tc.stack([tc.stack([f(tc.tensor(x.numpy()[i, j])) for j in range(2)]) for i in range(B)])
    assert_same(got, expected)
    g = tc.func.grad(lambda s: f(s).sum())
    got = batched(lambda: tc.func.vmap(tc.func.vmap(g))(x))
    expected = tc.stack([tc.stack([g(tc.tensor(x.numpy()[i, j])) for j in range(2)]) for i in range(B)])
    assert_same(got, expected)


def test_unbatched_paths_unchanged() -> None:
    """Outside vmap the same functions still give their plain values (spot checks against numpy)."""
    a = np.array([[3.0, np.nan, 1.0], [2.0, 2.0, 0.0]])
    x = tc.tensor(a)
    np.testing.assert_array_equal(x.nansum(1).numpy(), np.nansum(a, 1))
    np.testing.assert_allclose(x.nanmean(1).numpy(), np.nanmean(a, 1))
    assert x.count_nonzero().item() == 5 and x.count_nonzero(1).dtype == np.int64  # NaN is nonzero
    np.testing.assert_array_equal(F.relu6(tc.tensor([-1.0, 3.0, 7.0])).numpy(), [0.0, 3.0, 6.0])
    assert math.isclose(F.elu(tc.tensor(np.array([-1.0]))).item(), math.expm1(-1.0))
