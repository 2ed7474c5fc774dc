"""Issue 12's scans and order statistics: values against numpy, gradcheck and gradgradcheck in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc


def leaf(values) -> tc.Tensor:
    return tc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def distinct(shape=(3, 4), seed=0) -> np.ndarray:
    """Values with no ties (order statistics are differentiable there)."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) + rng.uniform(0.1, 0.4, shape)) / 3


def check(fn, *inputs) -> None:
    assert tc.gradcheck(fn, inputs)
    assert tc.gradgradcheck(fn, inputs)


def test_cumsum_cumprod_values_dtypes_and_gradients() -> None:
    a = distinct()
    x = leaf(a)
    np.testing.assert_allclose(x.cumsum(1).detach().numpy(), np.cumsum(a, 1), rtol=1e-14)
    np.testing.assert_allclose(x.cumprod(0).detach().numpy(), np.cumprod(a, 0), rtol=1e-14)
    assert tc.tensor([1, 2], dtype=tc.int32).cumsum(0).dtype == tc.int64
    assert tc.tensor([True, True]).cumsum(0).tolist() == [1, 2]
    assert tc.tensor([1.0, 2.0]).cumsum(0, dtype=tc.float64).dtype == tc.float64
    assert tc.tensor(3.0).cumsum(0).shape == ()
    check(lambda t: t.cumsum(0), x)
    check(lambda t: t.cumprod(1), x)


def test_cumprod_gradient_is_exact_with_zeros() -> None:
    a = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.5, -1.0, 0.0, 2.0, 3.0]])
    x = leaf(a)
    x.cumprod(1).sum().backward()
    # ∂/∂xᵢ Σⱼ Π_{k≤j} xₖ, by brute force
    expected = np.zeros_like(a)
    for r in range(2):
        for i in range(5):
            for j in range(i, 5):
                expected[r, i] += np.prod([a[r, k] for k in range(j + 1) if k != i])
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-14)
    check(lambda t: t.cumprod(1), leaf(a))


def test_logcumsumexp_stable_and_gradients() -> None:
    a = np.array([[1000.0, 1000.0, -5.0], [-1000.0, 0.0, 2.0]])
    out = tc.tensor(a).logcumsumexp(1).numpy()
    np.testing.assert_allclose(out, np.logaddexp.accumulate(a, axis=1), rtol=1e-15)
    assert out[0, 1] == pytest.approx(1000 + math.log(2))
    b = distinct((2, 4))
    x = leaf(b)
    g = np.random.default_rng(3).standard_normal(b.shape)
    (x.logcumsumexp(1) * tc.tensor(g)).sum().backward()
    z = np.logaddexp.accumulate(b, axis=1)
    expected = np.array([[sum(g[r, j] * math.exp(b[r, i] - z[r, j]) for j in range(i, 4)) for i in range(4)] for r in range(2)])
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12)
    check(lambda t: t.logcumsumexp(1), leaf(b))
    check(lambda t: t.logcumsumexp(0), leaf(b))


def test_cummax_cummin_indices_ties_and_nan() -> None:
    values, indices = tc.tensor([1.0, 3.0, 3.0, 2.0, 3.0]).cummax(0)
    assert values.tolist() == [1, 3, 3, 3, 3] and indices.tolist() == [0, 1, 2, 2, 4]  # the last tie, as PyTorch
    values, indices = tc.tensor([1.0, math.nan, 3.0, math.nan]).cummax(0)
    assert indices.tolist() == [0, 1, 1, 3] and np.isnan(values.numpy()[1:]).all()
    assert tc.tensor([1.0, 1.0, 0.0, 0.0]).cummin(0).indices.tolist() == [0, 1, 2, 3]
    a = distinct()
    x = leaf(a)
    np.testing.assert_allclose(x.cummax(1).values.detach().numpy(), np.maximum.accumulate(a, 1))
    np.testing.assert_allclose(x.cummin(0).values.detach().numpy(), np.minimum.accumulate(a, 0))
    check(lambda t: t.cummax(1).values, x)
    check(lambda t: t.cummin(0).values, x)


def test_sort_argsort_topk_kthvalue() -> None:
    s = tc.tensor([2.0, 1.0, math.nan, 2.0, 1.0])
    assert s.sort().indices.tolist() == [1, 4, 0, 3, 2]
    assert s.sort(descending=True, stable=True).indices.tolist() == [2, 0, 3, 1, 4]  # NaN largest, ties in order
    assert s.argsort(descending=True).tolist() == [2, 0, 3, 1, 4]
    a = distinct()
    x = leaf(a)
    np.testing.assert_array_equal(x.sort(0).values.detach().numpy(), np.sort(a, 0))
    np.testing.assert_array_equal(x.sort(1, True).values.detach().numpy(), -np.sort(-a, 1))
    v, i = x.topk(2, dim=1)
    np.testing.assert_array_equal(v.detach().numpy(), -np.sort(-a, 1)[:, :2])
    np.testing.assert_array_equal(np.take_along_axis(a, i.numpy(), 1), v.detach().numpy())
    assert x.topk(3, 0, largest=False).values.shape == (3, 4)
    v, i = x.kthvalue(2, 0, keepdim=True)
    assert v.shape == (1, 4) and v.detach().numpy().tolist() == np.sort(a, 0)[1:2].tolist()
    check(lambda t: t.sort(1).values, x)
    check(lambda t: t.topk(2, 0).values, x)
    check(lambda t: t.kthvalue(3, 1).values, x)
    with pytest.raises(ValueError, match="topk: k"):
        x.topk(5, 0)
    with pytest.raises(ValueError, match="kthvalue: k"):
        x.kthvalue(0)


def test_median_lower_nan_and_gradients() -> None:
    assert tc.tensor([1.0, 2.0, 3.0, 4.0]).median().item() == 2.0  # the lower median
    v, i = tc.tensor([3.0, math.nan, 1.0, math.nan, 2.0]).median(0)
    assert math.isnan(v.item()) and i.item() == 1
    a = distinct((3, 5))
    x = leaf(a)
    assert x.median().item() == np.sort(a.ravel())[(a.size - 1) // 2]
    v, i = x.median(1)
    np.testing.assert_array_equal(v.detach().numpy(), np.sort(a, 1)[:, 2])
    np.testing.assert_array_equal(np.take_along_axis(a, i.numpy()[:, None], 1)[:, 0], v.detach().numpy())
    assert x.median(0, keepdim=True).values.shape == (1, 5)
    check(lambda t: t.median(), x)
    check(lambda t: t.median(1).values, x)
    y = leaf([1.0, 2.0, 2.0, 5.0])
    y.median().backward()
    assert y.grad.tolist() == [0.0, 0.5, 0.5, 0.0]  # ties share, as PyTorch's median()


def test_quantile_linear_and_other_interpolations() -> None:
    a = distinct((3, 5))
    x = leaf(a)
    for q in (0.0, 0.3, 0.5, 1.0):
        np.testing.assert_allclose(x.quantile(q, 1).detach().numpy(), np.quantile(a, q, axis=1), rtol=1e-14)
    qs = tc.tensor([0.25, 0.8], dtype=tc.float64)
    out = x.quantile(qs, dim=0, keepdim=True)
    assert out.shape == (2, 1, 5)
    np.testing.assert_allclose(out.detach().numpy(), np.quantile(a, [0.25, 0.8], axis=0, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(x.quantile(0.4).item(), np.quantile(a, 0.4), rtol=1e-14)
    for method in ("lower", "higher", "nearest", "midpoint"):
        np.testing.assert_allclose(x.quantile(0.35, 1, interpolation=method).detach().numpy(),
                                   np.quantile(a, 0.35, axis=1, method=method), rtol=1e-14)
    assert math.isnan(tc.tensor([1.0, math.nan, 3.0]).quantile(0.5).item())
    check(lambda t: t.quantile(0.3, 1), x)
    check(lambda t: t.quantile(qs, None), x)
    with pytest.raises(ValueError, match="quantile: q values"):
        x.quantile(1.5)


def test_nansum_nanmean_var_mean_std_mean_count_nonzero() -> None:
    a = np.array([[1.0, math.nan, 3.0], [math.nan, math.nan, 2.0]])
    x = leaf(a)
    np.testing.assert_array_equal(x.nansum(1).detach().numpy(), np.nansum(a, 1))
    np.testing.assert_array_equal(x.nanmean(1).detach().numpy(), np.nanmean(a, 1))
    x.nanmean().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(np.isnan(a), 0.0, 1 / 3))
    b = distinct()
    y = leaf(b)
    var, mean = y.var_mean(1)
    np.testing.assert_allclose(var.detach().numpy(), np.var(b, 1, ddof=1), rtol=1e-13)
    np.testing.assert_allclose(mean.detach().numpy(), np.mean(b, 1), rtol=1e-14)
    std, mean = y.std_mean(0, correction=0, keepdim=True)
    np.testing.assert_allclose(std.detach().numpy(), np.std(b, 0, keepdims=True), rtol=1e-13)
    assert tc.tensor([[0, 1, 2], [0, 0, 3]]).count_nonzero().item() == 3
    assert tc.tensor([[0, 1, 2], [0, 0, 3]]).count_nonzero(0).tolist() == [0, 1, 2]
    check(lambda t: t.nansum(0), leaf(b))
    check(lambda t: t.var_mean(1)[0] + t.var_mean(1)[1], leaf(b))


def test_diff() -> None:
    a = distinct()
    x = leaf(a)
    np.testing.assert_allclose(x.diff().detach().numpy(), np.diff(a), rtol=1e-14)
    np.testing.assert_allclose(x.diff(2, 0).detach().numpy(), np.diff(a, 2, 0), rtol=1e-14)
    p, q = np.ones((3, 1)), np.zeros((3, 2))
    out = x.diff(1, -1, prepend=tc.tensor(p), append=tc.tensor(q))
    np.testing.assert_allclose(out.detach().numpy(), np.diff(a, 1, -1, prepend=p, append=q), rtol=1e-14)
    assert tc.tensor([True, False, False]).diff().tolist() == [True, False]
    check(lambda t: t.diff(2, 1), x)
    with pytest.raises(ValueError, match="diff: prepend"):
        x.diff(prepend=tc.ones(2, 1))
