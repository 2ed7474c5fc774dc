"""logit, copysign, heaviside, aminmax, nanmedian, mode, unique, nanquantile, select, index_fill,
searchsorted, bucketize and broadcast_tensors against torch: values (NaN, ±0, ±inf too), dtypes,
indices, and gradients in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc

torch = pytest.importorskip("torch")

nan, inf = math.nan, math.inf
rng = np.random.default_rng(2026)


def dtype_name(d) -> str:
    return str(d).split(".")[-1]


def check(ours, theirs, rtol: float = 1e-12) -> None:
    """Same shape, dtype and values (NaN where NaN)."""
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), (ours.dtype, theirs.dtype)
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def both(fn_tc, fn_torch, *arrays: np.ndarray, grad: bool = True, rtol: float = 1e-12) -> None:
    """The same function of float64 inputs: outputs (tuples too) and the gradients of a random weighting."""
    xs = [tc.tensor(a, requires_grad=grad) for a in arrays]
    ts = [torch.tensor(a, requires_grad=grad) for a in arrays]
    out_tc, out_t = fn_tc(*xs), fn_torch(*ts)
    out_tc = tuple(out_tc) if isinstance(out_tc, tuple) else (out_tc,)
    out_t = tuple(out_t) if isinstance(out_t, tuple) else (out_t,)
    assert len(out_tc) == len(out_t)
    loss_tc, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_tc, out_t)):
        check(a, b, rtol)
        if grad and a.dtype == tc.float64 and a.requires_grad:
            w = np.random.default_rng(100 + k).standard_normal(a.shape)
            with np.errstate(invalid="ignore", over="ignore"):  # (±inf outputs make the loss NaN; the gradients stay finite)
                loss_tc = loss_tc + (a * tc.tensor(w)).sum()
            loss_t = loss_t + (b * torch.tensor(w)).sum()
    if grad and isinstance(loss_tc, tc.Tensor):
        loss_tc.backward()
        loss_t.backward()
        for k, (x, t) in enumerate(zip(xs, ts)):
            gt = np.zeros(x.shape) if t.grad is None else t.grad.numpy()
            gx = np.zeros(x.shape) if x.grad is None else x.grad.numpy()
            np.testing.assert_allclose(gx, gt, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=f"grad of input {k}")


def with_nans(shape, frac: float = 0.3, ints: int | None = None) -> np.ndarray:
    a = rng.integers(0, ints, shape).astype(np.float64) if ints else rng.standard_normal(shape)
    a[rng.random(shape) < frac] = nan
    return a


# ----------------------------------------------------------------- elementwise


@pytest.mark.parametrize("eps", [None, 0.0, 1e-6, 0.1, 0.3, 0.6, -0.1])
def test_logit(eps) -> None:
    a = np.concatenate([rng.uniform(-0.2, 1.2, 30), [0.0, -0.0, 1.0, 0.5, nan, inf, -inf, 1e-300, 1 - 1e-16]])
    both(lambda x: x.logit(eps), lambda x: x.logit(eps), a)
    for dtype, tdtype, rtol in ((tc.float32, torch.float32, 2e-6), (tc.float16, torch.float16, 1e-3)):
        check(tc.tensor(a).to(dtype).logit(eps), torch.tensor(a).to(tdtype).logit(eps), rtol)
    check(tc.logit(tc.tensor([0, 1, 2]), eps), torch.logit(torch.tensor([0, 1, 2]), eps), 2e-7)  # (numpy's and torch's float32 log: ±1 ulp)


def test_copysign() -> None:
    specials = np.array([0.0, -0.0, 1.0, -2.5, nan, inf, -inf, 3e-310])
    x = np.concatenate([rng.standard_normal(10), specials])
    y = np.concatenate([rng.standard_normal(10), specials[::-1]])
    both(lambda u, v: u.copysign(v), lambda u, v: u.copysign(v), x, y)
    both(lambda u, v: tc.copysign(u, v), lambda u, v: torch.copysign(u, v), rng.standard_normal((3, 1)), rng.standard_normal(4))
    for other in (-0.0, 0.0, -2, 3.5, True):
        both(lambda u, o=other: u.copysign(o), lambda u, o=other: u.copysign(o), x)
        sign_tc, sign_t = tc.tensor(x).copysign(other).numpy(), torch.tensor(x).copysign(other).numpy()
        np.testing.assert_array_equal(np.signbit(sign_tc), np.signbit(sign_t))
    for (da, ta), (db, tb) in [((tc.int64, torch.int64), (tc.int64, torch.int64)), ((tc.bool, torch.bool), (tc.int32, torch.int32)),
                               ((tc.float16, torch.float16), (tc.float64, torch.float64)), ((tc.int8, torch.int8), (tc.float32, torch.float32))]:
        a, b = rng.integers(-3, 3, 5), rng.integers(-3, 3, 5)
        check(tc.tensor(a).to(da).copysign(tc.tensor(b).to(db)), torch.tensor(a).to(ta).copysign(torch.tensor(b).to(tb)))
    check(tc.tensor([1.0, 2.0], dtype=tc.float16).copysign(tc.tensor(-1.0, dtype=tc.float64)),
          torch.tensor([1.0, 2.0], dtype=torch.float16).copysign(torch.tensor(-1.0, dtype=torch.float64)))


def test_heaviside() -> None:
    x = np.array([-1.0, 0.0, -0.0, 2.0, nan, inf, -inf, 1e-300])
    for values in (np.array([0.5]), np.array([nan]), rng.standard_normal(8)):
        check(tc.heaviside(tc.tensor(x), tc.tensor(values)), torch.heaviside(torch.tensor(x), torch.tensor(values)))
    for dtype in ("int64", "int32", "bool", "float32"):
        a, v = rng.integers(-2, 3, (3, 4)), rng.integers(-2, 3, 4)
        check(tc.tensor(a).to(getattr(tc, dtype if dtype != "bool" else "bool_")).heaviside(
            tc.tensor(v).to(getattr(tc, dtype if dtype != "bool" else "bool_"))),
            torch.tensor(a).to(getattr(torch, dtype)).heaviside(torch.tensor(v).to(getattr(torch, dtype))))


# ----------------------------------------------------------------- reductions


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_aminmax(dim, keepdim) -> None:
    a = rng.integers(0, 4, (3, 5)).astype(np.float64)  # many ties
    both(lambda x: tuple(tc.aminmax(x, dim=dim, keepdim=keepdim)), lambda x: tuple(torch.aminmax(x, dim=dim, keepdim=keepdim)), a)
    both(lambda x: tuple(x.aminmax(dim=dim, keepdim=keepdim)), lambda x: tuple(x.aminmax(dim=dim, keepdim=keepdim)), rng.standard_normal((3, 5)))
    b = rng.integers(-5, 5, (3, 5))
    both(lambda x: tuple(tc.aminmax(x, dim=dim, keepdim=keepdim)), lambda x: tuple(torch.aminmax(x, dim=dim, keepdim=keepdim)), b, grad=False)
    a[1, 2] = nan
    both(lambda x: tuple(tc.aminmax(x, dim=dim, keepdim=keepdim)), lambda x: tuple(torch.aminmax(x, dim=dim, keepdim=keepdim)), a, grad=False)


def test_nanmedian() -> None:
    for shape in [(7,), (4, 6), (3, 5, 4), (2, 9)]:
        a = with_nans(shape, ints=5)
        a.reshape(-1, shape[-1])[0] = nan  # an all-NaN row
        for d in range(-len(shape), len(shape)):
            for keepdim in (False, True):
                both(lambda x, d=d, k=keepdim: tuple(x.nanmedian(d, k)), lambda x, d=d, k=keepdim: tuple(x.nanmedian(d, k)), a)
        both(lambda x: x.nanmedian(), lambda x: x.nanmedian(), a)
        both(lambda x: x.nanmedian(), lambda x: x.nanmedian(), with_nans(shape, 0.2))
    for n in range(1, 40):
        both(lambda x: tuple(x.nanmedian(0)), lambda x: tuple(x.nanmedian(0)), np.full(n, nan))
    ints = rng.integers(0, 4, (5, 6))
    both(lambda x: tuple(tc.nanmedian(x, 1)), lambda x: tuple(torch.nanmedian(x, 1)), ints, grad=False)
    both(lambda x: tc.nanmedian(x), lambda x: torch.nanmedian(x), ints, grad=False)
    both(lambda x: tuple(x.nanmedian(0)), lambda x: tuple(x.nanmedian(0)), np.array(3.0))


def test_mode() -> None:
    for n in [1, 2, 5, 16, 17, 40, 200]:
        for k in (2, 5, 50):
            a = rng.integers(0, k, (4, n)).astype(np.float64)
            if n > 3:
                a[1, rng.random(n) < 0.3] = nan
                a[2] = np.sort(a[2])
                a[3] = np.sort(a[3])[::-1]
            for keepdim in (False, True):
                both(lambda x, k=keepdim: tuple(tc.mode(x, 1, k)), lambda x, k=keepdim: tuple(torch.mode(x, 1, k)), a)
            both(lambda x: tuple(x.mode(0)), lambda x: tuple(x.mode(0)), a)
    ints = rng.integers(-3, 3, (6, 30))
    both(lambda x: tuple(x.mode()), lambda x: tuple(x.mode()), ints, grad=False)
    bools = rng.integers(0, 2, (5, 20)).astype(bool)
    both(lambda x: tuple(x.mode(1)), lambda x: tuple(x.mode(1)), bools, grad=False)
    both(lambda x: tuple(x.mode(0)), lambda x: tuple(x.mode(0)), np.array(2.5))


def test_unique() -> None:
    cases = [rng.integers(0, 6, 30), rng.integers(-2, 3, (4, 5)), with_nans((20,), 0.2, ints=4),
             np.array([0.0, -0.0, 1.0, -0.0, 0.0]), np.array(3.0), np.zeros(0), rng.integers(0, 2, 9).astype(bool),
             with_nans((300,), 0.2, ints=4), rng.choice([0.0, -0.0, 1.0, nan], 80)]  # torch's unstable order of NaNs, ±0
    for a in cases:
        for inv in (False, True):
            for cnt in (False, True):
                ours = tc.unique(tc.tensor(a), return_inverse=inv, return_counts=cnt)
                theirs = torch.unique(torch.tensor(a), return_inverse=inv, return_counts=cnt)
                for o, t in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
                    check(o, t)
                    np.testing.assert_array_equal(np.signbit(o.numpy()), np.signbit(t.numpy()))
    for a in (rng.integers(0, 2, (6, 3)), rng.integers(0, 3, (3, 4, 2)), np.zeros((0, 3)), np.zeros((3, 0))):
        for d in range(a.ndim):
            if a.size == 0 and a.shape[d] != 0:
                continue
            ours = tc.tensor(a).unique(dim=d, return_inverse=True, return_counts=True)
            theirs = torch.tensor(a).unique(dim=d, return_inverse=True, return_counts=True)
            for o, t in zip(ours, theirs):
                check(o, t)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "nearest", "midpoint"])
def test_nanquantile(interpolation) -> None:
    a = with_nans((4, 7), 0.3)
    a[1] = nan
    q = torch.tensor([0.0, 0.1, 0.5, 0.75, 1.0], dtype=torch.float64)
    for dim in (None, 0, 1, -1):
        for keepdim in (False, True):
            both(lambda x, d=dim, k=keepdim: tc.nanquantile(x, tc.tensor(q.numpy()), d, k, interpolation=interpolation),
                 lambda x, d=dim, k=keepdim: torch.nanquantile(x, q, d, k, interpolation=interpolation), a)
            both(lambda x, d=dim, k=keepdim: x.nanquantile(0.3, d, k, interpolation=interpolation),
                 lambda x, d=dim, k=keepdim: x.nanquantile(0.3, d, k, interpolation=interpolation), a)
    ties = with_nans((3, 9), 0.3, ints=3)
    both(lambda x: x.nanquantile(tc.tensor(q.numpy()), 1, interpolation=interpolation),
         lambda x: x.nanquantile(q, 1, interpolation=interpolation), ties)
    check(tc.tensor(a).float().nanquantile(0.4, 1, interpolation=interpolation),
          torch.tensor(a).float().nanquantile(0.4, 1, interpolation=interpolation), 1e-6)


# ----------------------------------------------------------------- indexing and shape


def test_select_and_index_fill() -> None:
    a = rng.standard_normal((3, 4, 5))
    for d in range(-3, 3):
        for i in (0, -1, 1):
            both(lambda x, d=d, i=i: x.select(d, i), lambda x, d=d, i=i: x.select(d, i), a)
            both(lambda x, d=d, i=i: tc.select(x, d, i) * 2, lambda x, d=d, i=i: torch.select(x, d, i) * 2, a)
    for d in range(3):
        for index in ([0], [2, 0, 2], [], [1, 0]):
            idx = np.array(index, dtype=np.int64)
            both(lambda x, d=d, i=idx: x.index_fill(d, tc.tensor(i), -1.5), lambda x, d=d, i=idx: x.index_fill(d, torch.tensor(i), -1.5), a)
            both(lambda x, v, d=d, i=idx: tc.index_fill(x, d, tc.tensor(i), v),
                 lambda x, v, d=d, i=idx: torch.index_fill(x, d, torch.tensor(i), v), a, np.array(0.75))
    neg = torch.tensor([-1, 0])  # negative indices (values only: PyTorch's backward for them fails)
    check(tc.tensor(a).index_fill(1, tc.tensor(neg.numpy()), 9.0), torch.tensor(a).index_fill(1, neg, 9.0))
    for dtype, value in (("int64", 2.7), ("uint8", -1), ("uint8", -255), ("bool", 2), ("float32", True), ("int32", -7),
                         ("int64", -1.5), ("float32", 1e10), ("float16", inf), ("float16", 6e4)):
        t = torch.tensor([1, 0, 3]).to(getattr(torch, dtype))
        ours = tc.tensor(t.numpy()).index_fill(0, tc.tensor([1, 2]), value)
        check(ours, t.index_fill(0, torch.tensor([1, 2]), value))
    check(tc.tensor(3.0).index_fill(0, tc.tensor([0, 0]), 1.0), torch.tensor(3.0).index_fill(0, torch.tensor([0, 0]), 1.0))


def test_searchsorted_and_bucketize() -> None:
    for trial in range(40):
        m = int(rng.integers(0, 12))
        seq = np.sort(rng.integers(0, 8, m)).astype(np.float64)
        if trial % 3 == 1 and m:
            seq = rng.integers(0, 8, m).astype(np.float64)  # unsorted: not checked, the same binary search
        if trial % 5 == 2 and m:
            seq[-1] = nan
        vals = rng.integers(-1, 9, (3, 4)).astype(np.float64)
        vals[0, 0] = nan
        for right in (False, True):
            for out_int32 in (False, True):
                check(tc.searchsorted(tc.tensor(seq), tc.tensor(vals), right=right, out_int32=out_int32),
                      torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right, out_int32=out_int32))
            check(tc.searchsorted(tc.tensor(seq), 3.0, side="right" if right else "left"),
                  torch.searchsorted(torch.tensor(seq), 3.0, side="right" if right else "left"))
            if m:
                sorter = np.argsort(seq, kind="stable")
                check(tc.searchsorted(tc.tensor(seq), tc.tensor(vals), right=right, sorter=tc.tensor(sorter)),
                      torch.searchsorted(torch.tensor(seq), torch.tensor(vals), right=right, sorter=torch.tensor(sorter)))
                check(tc.bucketize(tc.tensor(vals), tc.tensor(seq), right=right),
                      torch.bucketize(torch.tensor(vals), torch.tensor(seq), right=right))
    rows = np.sort(rng.integers(0, 9, (2, 3, 6)), axis=-1)
    vals = rng.integers(-1, 10, (2, 3, 4))
    for right in (False, True):
        check(tc.searchsorted(tc.tensor(rows), tc.tensor(vals), right=right), torch.searchsorted(torch.tensor(rows), torch.tensor(vals), right=right))
    # dtype promotion, as PyTorch: the number wraps into uint8, the int64 tensor does not; floats round to float32
    for seq_t, val in [(torch.tensor([1, 2, 3], dtype=torch.uint8), -1), (torch.tensor([1, 2, 3], dtype=torch.uint8), torch.tensor([-1])),
                       (torch.tensor([1, 2, 3], dtype=torch.uint8), 2.5), (torch.tensor([1.0, 2.0, 3.0]), 2.00000001),
                       (torch.tensor([1.0, 2.0, 3.0]), torch.tensor(2.00000001, dtype=torch.float64)),
                       (torch.tensor([1.0, 2.0, 3.0], dtype=torch.float16), torch.tensor([2.0001], dtype=torch.float64))]:
        ours_val = tc.tensor(val.numpy()) if isinstance(val, torch.Tensor) else val
        check(tc.searchsorted(tc.tensor(seq_t.numpy()), ours_val), torch.searchsorted(seq_t, val))
    check(tc.bucketize(3, tc.tensor([1, 3, 5])), torch.bucketize(3, torch.tensor([1, 3, 5])))


def test_broadcast_tensors() -> None:
    for shapes in [((3, 1), (4,)), ((2, 1, 3), (5, 1), ()), ((4,), (4,)), ((0, 3), (1,))]:
        arrays = [rng.standard_normal(s) for s in shapes]
        both(lambda *xs: tuple(tc.broadcast_tensors(*xs)), lambda *xs: tuple(torch.broadcast_tensors(*xs)), *arrays)
