"""Issue 12's math, scans and order statistics against torch: values and gradients (float64), dtypes and special values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc

torch = pytest.importorskip("torch")


def arr(*shape: int, lo: float = -1.0, hi: float = 1.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def distinct(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) + rng.uniform(0.1, 0.4, shape)) / 3 - n / 6


def both(fn_tc, fn_torch, *arrays: np.ndarray, grad: bool = True) -> None:
    """The same function's value, and the gradient of a random weighting of its float outputs, agree."""
    xs = [tc.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    out_tc, out_t = fn_tc(*xs), fn_torch(*ts)
    out_tc = tuple(out_tc) if isinstance(out_tc, tuple) else (out_tc,)
    out_t = tuple(out_t) if isinstance(out_t, tuple) else (out_t,)
    loss_tc, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_tc, out_t)):
        assert a.shape == tuple(b.shape), f"output {k}: shape {a.shape} vs {tuple(b.shape)}"
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], f"output {k}: dtype"
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=f"output {k}")
        if grad and a.dtype == tc.float64:
            w = np.random.default_rng(100 + k).standard_normal(a.shape)
            loss_tc = loss_tc + (a * tc.tensor(w)).sum()
            loss_t = loss_t + (b * torch.tensor(w)).sum()
    if grad:
        loss_tc.backward()
        loss_t.backward()
        for k, (x, t) in enumerate(zip(xs, ts)):
            gt = np.zeros(x.shape) if t.grad is None else t.grad.numpy(force=True)  # (sgn's gradient is a ZeroTensor)
            gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
            np.testing.assert_allclose(gx, gt, rtol=1e-8, atol=1e-10, err_msg=f"grad of input {k}")


UNARY = {
    "tan": (-1.2, 1.2), "sinh": (-2, 2), "cosh": (-2, 2), "asin": (-0.9, 0.9), "acos": (-0.9, 0.9),
    "atan": (-3, 3), "asinh": (-3, 3), "acosh": (1.2, 4), "atanh": (-0.9, 0.9), "exp2": (-3, 3),
    "expm1": (-2, 2), "log1p": (-0.8, 3), "erfc": (-2, 2), "erfinv": (-0.99, 0.99), "lgamma": (-2.7, 6),
    "digamma": (-2.7, 6), "sinc": (-2.5, 2.5), "floor": (-3, 3), "ceil": (-3, 3), "round": (-3, 3),
    "trunc": (-3, 3), "frac": (-3, 3), "sgn": (-3, 3), "rad2deg": (-3, 3), "deg2rad": (-3, 3),
    "reciprocal": (0.5, 3), "nan_to_num": (-3, 3),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary(name: str) -> None:
    lo, hi = UNARY[name]
    a = arr(3, 4, lo=lo, hi=hi)
    if name in ("lgamma", "digamma"):
        a = np.where(np.abs(a - np.round(a)) < 0.1, a + 0.25, a)
    both(lambda x: getattr(x, name)(), lambda x: getattr(x, name)(), a)


def test_unary_special_values_and_dtypes() -> None:
    special = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -2.0, math.inf, -math.inf, math.nan, 1e-300, 0.5, -0.5])
    for name in ("tan", "sinh", "cosh", "asin", "acos", "atan", "asinh", "acosh", "atanh", "exp2", "expm1",
                 "log1p", "erfc", "erfinv", "lgamma", "sinc", "floor", "ceil", "round", "trunc", "frac", "sgn",
                 "reciprocal", "nan_to_num", "digamma"):
        ours = getattr(tc.tensor(special), name)().numpy()
        theirs = getattr(torch.tensor(special), name)().numpy()
        if name == "digamma":  # torch gives −inf at −0 and nan at ±inf's poles; compare the finite inputs
            ours, theirs = ours[[2, 3, 4, 5, 9, 10, 11]], theirs[[2, 3, 4, 5, 9, 10, 11]]
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0, err_msg=name)
    for name in ("tan", "erfinv", "lgamma", "digamma", "reciprocal", "rad2deg", "floor", "round", "sgn"):
        for dtype, tdtype in ((tc.int64, torch.int64), (tc.float32, torch.float32)):
            ours = getattr(tc.tensor([1, 0], dtype=dtype), name)()
            theirs = getattr(torch.tensor([1, 0], dtype=tdtype), name)()
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1], (name, dtype)
    for d in (2, -1, 0):
        x = np.array([1.23456, -2.5551, 1234.5, 0.125])
        np.testing.assert_allclose(tc.tensor(x).round(decimals=d).numpy(), torch.tensor(x).round(decimals=d).numpy())


BINARY = ["atan2", "logaddexp", "logaddexp2", "xlogy", "hypot", "fmod", "fmax", "fmin"]


@pytest.mark.parametrize("name", BINARY)
def test_binary(name: str) -> None:
    a, b = arr(3, 4, lo=-3, hi=3), arr(4, lo=0.5, hi=2, seed=1)
    if name == "xlogy":
        a[0, 0] = 0.0
    both(lambda x, y: getattr(x, name)(y), lambda x, y: getattr(x, name)(y), a, b)


def test_binary_special_values() -> None:
    x = np.array([0.0, 0.0, 1.0, math.nan, 2.0, -math.inf, math.inf, 3.0, -2.0])
    y = np.array([0.0, math.nan, 0.0, 1.0, 2.0, -math.inf, 1.0, math.nan, 0.5])
    for name in BINARY:
        ours, theirs = getattr(tc.tensor(x), name)(tc.tensor(y)).numpy(), getattr(torch.tensor(x), name)(torch.tensor(y)).numpy()
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, err_msg=name)
    tx, ty = torch.tensor(x[[2, 4, 8]], requires_grad=True), torch.tensor(y[[2, 4, 8]], requires_grad=True)
    cx, cy = tc.tensor(x[[2, 4, 8]], requires_grad=True), tc.tensor(y[[2, 4, 8]], requires_grad=True)
    for name in ("fmax", "fmin", "xlogy"):
        getattr(tx, name)(ty).sum().backward()
        getattr(cx, name)(cy).sum().backward()
        np.testing.assert_allclose(cx.grad.numpy(), tx.grad.numpy(), err_msg=name)
        np.testing.assert_allclose(cy.grad.numpy(), ty.grad.numpy(), err_msg=name)


def test_lerp_addcmul_addcdiv() -> None:
    a, b, w, c = arr(3, 4), arr(3, 4, seed=1), arr(4, lo=0, hi=1, seed=2), arr(4, lo=0.5, hi=2, seed=3)
    both(lambda x, y, t: x.lerp(y, t), lambda x, y, t: x.lerp(y, t), a, b, w)
    both(lambda x, y: x.lerp(y, 0.7), lambda x, y: x.lerp(y, 0.7), a, b)
    both(lambda x, y, t: x.addcmul(y, t, value=0.5), lambda x, y, t: x.addcmul(y, t, value=0.5), a, b, c)
    both(lambda x, y, t: x.addcdiv(y, t, value=-2), lambda x, y, t: x.addcdiv(y, t, value=-2), a, b, c)


def test_scans() -> None:
    a = distinct(3, 5)
    z = a.copy()
    z[0, 1] = z[1, 3] = z[1, 4] = 0.0
    for d in (0, 1):
        both(lambda x, d=d: x.cumsum(d), lambda x, d=d: x.cumsum(d), a)
        both(lambda x, d=d: x.cumprod(d), lambda x, d=d: x.cumprod(d), z)
        both(lambda x, d=d: x.logcumsumexp(d), lambda x, d=d: x.logcumsumexp(d), a)
        both(lambda x, d=d: x.cummax(d), lambda x, d=d: x.cummax(d), a)
        both(lambda x, d=d: x.cummin(d), lambda x, d=d: x.cummin(d), a)
    ties = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, math.nan, 0.0], [2.0, 2.0, 1.0, 1.0, math.nan, 5.0, math.nan]])
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(tc.tensor(ties), name)(1), getattr(torch.tensor(ties), name)(1)
        assert ours.indices.tolist() == theirs.indices.tolist(), name
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    for dtype in (torch.int32, torch.bool):
        t = torch.tensor([1, 0, 1], dtype=dtype)
        ours = tc.tensor(t.numpy()).cumsum(0)
        assert ours.tolist() == t.cumsum(0).tolist() and str(ours.dtype).endswith("int64")


def test_order_statistics() -> None:
    a = distinct(4, 5)
    for d in (0, 1):
        both(lambda x, d=d: x.sort(d), lambda x, d=d: x.sort(d), a)
        both(lambda x, d=d: x.sort(d, descending=True), lambda x, d=d: x.sort(d, descending=True), a)
        both(lambda x, d=d: x.topk(3, d), lambda x, d=d: x.topk(3, d), a)
        both(lambda x, d=d: x.topk(2, d, largest=False), lambda x, d=d: x.topk(2, d, largest=False), a)
        both(lambda x, d=d: x.kthvalue(2, d), lambda x, d=d: x.kthvalue(2, d), a)
        both(lambda x, d=d: x.median(d, keepdim=True), lambda x, d=d: x.median(d, keepdim=True), a)
        both(lambda x, d=d: x.quantile(0.3, d), lambda x, d=d: x.quantile(0.3, d), a)
    both(lambda x: x.argsort(0), lambda x: x.argsort(0), a, grad=False)
    both(lambda x: x.median(), lambda x: x.median(), a)
    ties = np.array([1.0, 2.0, 2.0, 2.0, 5.0, 0.0])
    both(lambda x: x.median(), lambda x: x.median(), ties)
    both(lambda x: x.sort(stable=True, descending=True), lambda x: x.sort(stable=True, descending=True), ties)
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    both(lambda x, p: x.quantile(p.detach(), 1, keepdim=True), lambda x, p: x.quantile(p.detach(), 1, keepdim=True), a, q)
    both(lambda x, p: x.quantile(p.detach()), lambda x, p: x.quantile(p.detach()), a, q)
    for method in ("lower", "higher", "nearest", "midpoint"):
        both(lambda x, m=method: x.quantile(0.45, 1, interpolation=m), lambda x, m=method: x.quantile(0.45, 1, interpolation=m), a)
    nan = np.array([[3.0, math.nan, 1.0, math.nan, 2.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    for fn in (lambda x: x.median(1), lambda x: x.median(), lambda x: x.quantile(0.5, 1), lambda x: x.sort(1, True)):
        ours, theirs = fn(tc.tensor(nan)), fn(torch.tensor(nan))
        ours = ours if isinstance(ours, tuple) else (ours,)
        theirs = theirs if isinstance(theirs, tuple) else (theirs,)
        for o, t in zip(ours, theirs):
            np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_nan_reductions_pairs_count_diff() -> None:
    a = distinct(3, 4)
    n = a.copy()
    n[0, 1] = n[2, 2] = math.nan
    both(lambda x: x.nansum(1), lambda x: x.nansum(1), n)
    both(lambda x: x.nanmean(), lambda x: x.nanmean(), n)
    both(lambda x: x.nanmean(0, keepdim=True), lambda x: x.nanmean(0, keepdim=True), n)
    both(lambda x: x.var_mean(1), lambda x: torch.var_mean(x, 1), a)
    both(lambda x: x.std_mean(0, correction=0, keepdim=True), lambda x: torch.std_mean(x, 0, correction=0, keepdim=True), a)
    both(lambda x: x.count_nonzero(0), lambda x: x.count_nonzero(0), np.round(a), grad=False)
    both(lambda x: x.count_nonzero(), lambda x: x.count_nonzero(), np.round(a), grad=False)
    p, q = arr(3, 1, seed=4), arr(3, 2, seed=5)
    both(lambda x: x.diff(), lambda x: x.diff(), a)
    both(lambda x: x.diff(2, 0), lambda x: x.diff(2, 0), a)
    both(lambda x, u, v: x.diff(1, 1, prepend=u, append=v), lambda x, u, v: x.diff(1, 1, prepend=u, append=v), a, p, q)
