"""logit, copysign, heaviside; aminmax, nanmedian, mode, unique, nanquantile; select, index_fill,
searchsorted, bucketize, broadcast_tensors: values (edge values too), dtypes, gradcheck and
gradgradcheck in float64, errors that name the op, and vmap."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.func import grad, vmap

nan, inf = math.nan, math.inf


def leaf(values) -> tc.Tensor:
    return tc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def same(a, b) -> None:
    """Equal values, NaN where NaN, and the same sign of zero."""
    a, b = np.asarray(a), np.asarray(b)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.signbit(a) & (a == 0), np.signbit(b) & (b == 0))


# ----------------------------------------------------------------- logit


def test_logit_values_edges_and_eps() -> None:
    x = tc.tensor([-0.5, 0.0, 0.25, 0.5, 0.9, 1.0, 1.5, nan, inf], dtype=tc.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(x.numpy() / (1 - x.numpy()))
    same(x.logit().numpy(), want)
    assert x.logit().tolist()[1] == -inf and x.logit().tolist()[5] == inf and math.isnan(x.logit().tolist()[0])
    lo, hi = math.log(0.2 / 0.8), math.log(0.8 / 0.2)
    np.testing.assert_allclose(x.logit(eps=0.2).numpy(), [lo, lo, math.log(1 / 3), 0.0, hi, hi, hi, nan, hi], rtol=1e-15)
    # eps > 0.5: x < eps gives eps, else x > 1 − eps gives 1 − eps (PyTorch's order); a negative eps is no eps
    np.testing.assert_allclose(tc.tensor([0.3, 1.0]).logit(0.6).numpy(), [math.log(1.5), math.log(0.4 / 0.6)], rtol=1e-6)
    same(x.logit(-0.1).numpy(), x.logit().numpy())
    assert tc.logit(x, 0.2).tolist()[2] == x.logit(0.2).tolist()[2]


def test_logit_dtypes() -> None:
    assert tc.tensor([0, 1]).logit().dtype == tc.float32 and tc.tensor([True]).logit().dtype == tc.float32
    assert tc.tensor([0.3], dtype=tc.float16).logit().dtype == tc.float16
    assert tc.tensor([0.3], dtype=tc.float64).logit(1e-6).dtype == tc.float64
    assert tc.tensor([0.25]).logit().tolist() == pytest.approx([math.log(1 / 3)], rel=1e-6)
    with pytest.raises(TypeError, match="logit: not implemented for complex"):
        tc.tensor([0.5 + 0j]).logit()
    with pytest.raises(TypeError, match="logit: eps must be a number or None"):
        tc.tensor([0.5]).logit("0.1")


def test_logit_gradients_as_pytorch() -> None:
    x = leaf([-0.5, 0.0, 0.1, 0.5, 1.0, 1.5, nan])
    ones = tc.ones(7, dtype=tc.float64)
    (g,) = tc.autograd.grad(x.logit(), [x], ones)
    same(g.numpy(), [nan, inf, 1 / (0.1 * 0.9), 4.0, inf, nan, nan])  # NaN outside [0, 1], ∞ at the ends
    (g,) = tc.autograd.grad(x.logit(0.2), [x], ones)
    same(g.numpy(), [0.0, 0.0, 0.0, 4.0, 0.0, 0.0, nan])  # 0 outside [eps, 1 − eps]
    (g,) = tc.autograd.grad(x.logit(0.0), [x], ones)
    same(g.numpy(), [0.0, inf, 1 / (0.1 * 0.9), 4.0, inf, 0.0, nan])
    z = leaf([-0.0, 0.0])
    (g,) = tc.autograd.grad(z.logit(), [z], tc.tensor([-1.0, 0.0], dtype=tc.float64))
    same(g.numpy(), [inf, nan])  # g / (x (1 − x)), as PyTorch's vectorised kernel: −1 / −0 = +∞
    inside = leaf(np.random.default_rng(0).uniform(0.05, 0.95, (2, 3)))
    assert tc.gradcheck(lambda t: t.logit(), (inside,)) and tc.gradgradcheck(lambda t: t.logit(), (inside,))
    mixed = leaf([0.05, 0.3, 0.5, 0.7, 0.95])  # inside and outside [0.2, 0.8], away from the corners
    assert tc.gradcheck(lambda t: t.logit(0.2), (mixed,)) and tc.gradgradcheck(lambda t: t.logit(0.2), (mixed,))


# ----------------------------------------------------------------- copysign


def test_copysign_values_sign_bits_and_dtypes() -> None:
    x = tc.tensor([1.0, -2.0, 0.0, -0.0, nan, inf])
    same(x.copysign(tc.tensor([-1.0, 1.0, -0.0, 0.0, -1.0, -1.0])).numpy(), [-1.0, 2.0, -0.0, 0.0, nan, -inf])
    same(tc.copysign(x, -0.0).numpy(), [-1.0, -2.0, -0.0, -0.0, nan, -inf])  # −0.0 counts as negative
    same(tc.tensor([[1.0], [-3.0]]).copysign(tc.tensor([-1.0, 2.0])).numpy(), [[-1.0, 1.0], [-3.0, 3.0]])
    assert tc.copysign(tc.tensor([1, 2]), -1).dtype == tc.float32 and tc.copysign(tc.tensor([1, 2]), -1).tolist() == [-1.0, -2.0]
    assert tc.tensor([True]).copysign(tc.tensor([False])).dtype == tc.float32
    assert tc.tensor([1.0], dtype=tc.float16).copysign(tc.tensor(-1.0, dtype=tc.float64)).dtype == tc.float16
    assert tc.tensor([1.0], dtype=tc.float32).copysign(tc.tensor([-1.0], dtype=tc.float64)).dtype == tc.float64
    with pytest.raises(TypeError, match="copysign: not implemented for complex"):
        tc.tensor([1 + 1j]).copysign(tc.tensor([-1.0]))
    with pytest.raises(ValueError, match=r"copysign: shapes \(2,\) and \(3,\) cannot be broadcast together"):
        tc.ones(2).copysign(tc.ones(3))


def test_copysign_gradients() -> None:
    x = leaf([1.0, -2.0, 0.0, -0.0, nan, inf])
    y = leaf([-1.0])
    z = x.copysign(y)
    z.backward(tc.ones(6, dtype=tc.float64))
    same(x.grad.numpy(), [-1.0, 1.0, 0.0, 0.0, nan, nan])  # PyTorch's z / x, 0 where x = 0 (NaN at ±∞, NaN)
    same(y.grad.numpy(), [0.0])  # zeros, not None, as PyTorch
    a, b = leaf([[0.5, -1.5, 2.0]]), leaf([[-0.3], [0.7]])
    assert tc.gradcheck(lambda u, v: u.copysign(v), (a, b)) and tc.gradgradcheck(lambda u, v: u.copysign(v), (a, b))


# ----------------------------------------------------------------- heaviside


def test_heaviside_values_dtypes_and_errors() -> None:
    x = tc.tensor([-1.0, 0.0, -0.0, 2.0, nan, inf, -inf])
    same(x.heaviside(tc.tensor([0.5])).numpy(), [0.0, 0.5, 0.5, 1.0, 0.0, 1.0, 0.0])  # NaN gives 0, as PyTorch
    same(tc.heaviside(tc.tensor([[1.0], [0.0]]), tc.tensor([3.0, 4.0])).numpy(), [[1.0, 1.0], [3.0, 4.0]])
    assert tc.heaviside(tc.tensor([1, 0, -2]), tc.tensor([7])).tolist() == [1, 7, 0]
    assert tc.heaviside(tc.tensor([True, False]), tc.tensor([True])).tolist() == [True, True]
    with pytest.raises(TypeError, match="heaviside: values must be a Tensor, got float"):
        x.heaviside(0.5)
    with pytest.raises(RuntimeError, match=r"heaviside: input \(float32\) and values \(int64\) must have the same dtype"):
        x.heaviside(tc.tensor([1]))
    with pytest.raises(TypeError, match="heaviside: not implemented for complex"):
        tc.tensor([1j]).heaviside(tc.tensor([1j]))
    with pytest.raises(ValueError, match=r"heaviside: shapes \(7,\) and \(2,\) cannot be broadcast"):
        x.heaviside(tc.tensor([1.0, 2.0]))


def test_heaviside_has_no_derivative_as_pytorch() -> None:
    x = leaf([-1.0, 0.0, 1.0])
    y = x.heaviside(tc.tensor([0.5], dtype=tc.float64))
    assert y.requires_grad  # recorded, as PyTorch's NotImplemented node
    with pytest.raises(RuntimeError, match="heaviside: the derivative for heaviside is not implemented"):
        y.sum().backward()


# ----------------------------------------------------------------- aminmax


def test_aminmax_named_tuple_dims_and_edges() -> None:
    x = tc.tensor([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 5.0, -4.0]])
    r = tc.aminmax(x)
    assert type(r).__name__ == "MinMax" and r._fields == ("min", "max")
    assert (r.min.item(), r.max.item()) == (-4.0, 5.0) and r.min.shape == ()
    mn, mx = x.aminmax(dim=1)
    assert mn.tolist() == [1.0, -4.0] and mx.tolist() == [3.0, 5.0]
    assert tc.aminmax(x, dim=0, keepdim=True).max.shape == (1, 4)
    assert tc.aminmax(x, keepdim=True).min.shape == (1, 1)
    s = tc.tensor(3.0)
    assert [t.min.shape for t in (s.aminmax(), s.aminmax(dim=0), s.aminmax(dim=-1, keepdim=True))] == [(), (), ()]
    assert tc.aminmax(tc.tensor([1.0, nan, 3.0])).max.isnan().item()  # NaN propagates to both
    assert tc.aminmax(tc.tensor([True, False])).min.tolist() is False
    assert tc.aminmax(tc.tensor([[1, 5], [7, 2]]), dim=0).max.tolist() == [7, 5]
    assert tc.aminmax(tc.zeros(2, 0), dim=0).min.shape == (0,)
    with pytest.raises(ValueError, match=r"aminmax: cannot reduce an empty tensor of shape \(0,\)"):
        tc.aminmax(tc.zeros(0))
    with pytest.raises(ValueError, match=r"aminmax: dim 1 of shape \(2, 0\) has size 0"):
        tc.aminmax(tc.zeros(2, 0), dim=1)
    with pytest.raises(IndexError, match="aminmax: dim 2 is out of range"):
        x.aminmax(dim=2)
    with pytest.raises(TypeError, match="aminmax: dim must be an int or None"):
        x.aminmax(dim=(0, 1))


def test_aminmax_gradient_splits_ties() -> None:
    x = leaf([[1.0, 3.0, 3.0, 1.0], [2.0, 2.0, 2.0, 2.0]])
    r = x.aminmax(dim=1, keepdim=True)
    (r.min * 2 + r.max * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1.0, 2.5, 2.5, 1.0], [1.75] * 4])
    y = leaf(np.random.default_rng(1).standard_normal((3, 4)))
    for fn in (lambda t: tc.aminmax(t).min * tc.aminmax(t).max, lambda t: t.aminmax(dim=0).max * t.aminmax(dim=0).min):
        assert tc.gradcheck(fn, (y,)) and tc.gradgradcheck(fn, (y,))


# ----------------------------------------------------------------- nanmedian


def test_nanmedian_values_and_indices() -> None:
    x = tc.tensor([[nan, 1.0, 3.0, nan, 2.0], [nan] * 5, [4.0, 4.0, nan, 1.0, 4.0], [2.0, 1.0, 2.0, 1.0, nan]])
    r = x.nanmedian(1)
    same(r.values.numpy(), [2.0, nan, 4.0, 1.0])
    assert r.indices.tolist() == [4, 2, 0, 3]  # ties: the first in sorted order; all NaN: PyTorch's nth_element index
    assert tc.nanmedian(x).item() == 2.0 and math.isnan(x[1].nanmedian().item())
    assert x.nanmedian(0, keepdim=True).values.shape == (1, 5) and x.nanmedian(-1).indices.dtype == tc.int64
    # an all-NaN row of n elements: the index libstdc++'s introselect leaves first
    assert [tc.full((n,), nan).nanmedian(0).indices.item() for n in range(1, 12)] == [0, 0, 0, 2, 2, 3, 5, 6, 7, 8, 8]
    assert tc.tensor([3, 1, 2, 2]).nanmedian().item() == 2 and tc.tensor([3, 1, 2, 2]).nanmedian(0).indices.item() == 2
    assert math.isnan(tc.zeros(0).nanmedian().item()) and tc.tensor(5.0).nanmedian(0).indices.item() == 0
    assert tc.zeros(0, 3).nanmedian(1).values.shape == (0,)
    with pytest.raises(ValueError, match=r"nanmedian: dim 1 of shape \(2, 0\) has size 0"):
        tc.zeros(2, 0).nanmedian(1)
    with pytest.raises(TypeError, match="nanmedian: not implemented for dtype bool"):
        tc.tensor([True]).nanmedian()
    with pytest.raises(IndexError, match="nanmedian: dim 2 is out of range"):
        x.nanmedian(2)


def test_nanmedian_gradients() -> None:
    x = leaf([[nan, 1.0, 3.0, nan, 2.0], [nan] * 5, [4.0, 4.0, nan, 1.0, 4.0]])
    x[2].nanmedian().backward()
    np.testing.assert_allclose(x.grad.numpy()[2], [1 / 3, 1 / 3, 0, 0, 1 / 3])  # split between the ties
    x.grad = None
    x[1].nanmedian().backward()
    np.testing.assert_allclose(x.grad.numpy()[1], [0.2] * 5)  # all NaN: split between the NaNs
    x.grad = None
    x.nanmedian(1).values[0].backward()
    assert x.grad.numpy()[0].tolist() == [0, 0, 0, 0, 1]
    y = leaf([[0.3, nan, -1.2, 2.5], [1.1, 0.4, nan, nan]])
    for fn in (lambda t: t.nanmedian(), lambda t: t.nanmedian(1).values, lambda t: t.nanmedian(0, keepdim=True).values):
        assert tc.gradcheck(fn, (y,)) and tc.gradgradcheck(fn, (y,))


# ----------------------------------------------------------------- mode


def test_mode_values_indices_and_edges() -> None:
    x = tc.tensor([[1.0, 2.0, 2.0, 1.0, 3.0], [nan, nan, 1.0, 1.0, 5.0], [nan, nan, nan, 2.0, 3.0]])
    r = tc.mode(x)
    same(r.values.numpy(), [1.0, 1.0, nan])  # the smallest of equally frequent values; each NaN counts once
    assert r.indices.tolist() == [3, 3, 0]
    assert x.mode(0).values.shape == (5,) and x.mode(1, keepdim=True).indices.shape == (3, 1)
    v, i = tc.tensor([True, False, False]).mode()
    assert v.item() is False and i.item() == 2
    v, i = tc.tensor([[5, 3, 5, 3, 3]]).mode(1)
    assert v.tolist() == [3] and i.tolist() == [4]  # the last occurrence in a short row (std::sort is stable there)
    v, i = tc.tensor(3.0).mode(0, keepdim=True)
    assert v.shape == () and i.item() == 0
    assert tc.zeros(0, 3).mode().values.shape == (0,)
    # a long row: the index is where PyTorch's (unstable) std::sort leaves the mode's last copy; it holds the mode
    long = tc.tensor(np.random.default_rng(2).integers(0, 4, (6, 40)))
    v, i = long.mode(1)
    counts = np.array([np.bincount(row, minlength=4) for row in long.numpy()])
    assert v.tolist() == counts.argmax(1).tolist()
    assert (long.numpy()[np.arange(6), i.numpy()] == v.numpy()).all()
    with pytest.raises(ValueError, match=r"mode: dim 1 of shape \(2, 0\) has size 0"):
        tc.zeros(2, 0).mode()
    with pytest.raises(IndexError, match="mode: dim 1 is out of range"):
        tc.zeros(3).mode(1)
    with pytest.raises(TypeError, match="mode: not implemented for complex"):
        tc.tensor([1j]).mode()


def test_mode_gradient_goes_to_the_index() -> None:
    x = leaf([1.0, 2.0, 2.0, 1.0, 3.0])
    x.mode().values.backward()
    assert x.grad.tolist() == [0, 0, 0, 1, 0]
    y = leaf([[0.5, 0.7, 1.5, -2.0], [3.0, -1.0, 2.0, -1.5]])  # distinct values (ties would move under ε): the smallest
    fn = lambda t: t.mode(1).values * t.mode(0).values[:2]  # noqa: E731
    assert tc.gradcheck(fn, (y,)) and tc.gradgradcheck(fn, (y,))


# ----------------------------------------------------------------- unique


def test_unique_values_inverse_counts() -> None:
    x = tc.tensor([3.0, 1.0, nan, 1.0, nan, -0.0, 0.0, 2.0])
    u, inv, cnt = tc.unique(x, return_inverse=True, return_counts=True)
    same(u.numpy(), [-0.0, 1.0, 2.0, 3.0, nan, nan])  # NaNs all distinct; of equal zeros the first comes out
    assert inv.tolist() == [3, 1, 4, 1, 5, 0, 0, 2] and cnt.tolist() == [2, 2, 1, 1, 1, 1]
    assert inv.dtype == tc.int64 and cnt.dtype == tc.int64
    v, inv = tc.tensor([[2, 1], [1, 2]]).unique(return_inverse=True)
    assert v.tolist() == [1, 2] and inv.tolist() == [[1, 0], [0, 1]]
    v, cnt = tc.unique(tc.tensor([5, 3, 5, 1]), sorted=False, return_counts=True)  # sorted anyway, as PyTorch
    assert v.tolist() == [1, 3, 5] and cnt.tolist() == [1, 1, 2]
    assert tc.unique(tc.tensor([True, False, True])).tolist() == [False, True]
    v, inv, cnt = tc.tensor(5.0).unique(return_inverse=True, return_counts=True)
    assert v.shape == (1,) and inv.shape == () and cnt.tolist() == [1]
    v, inv, cnt = tc.zeros(0).unique(return_inverse=True, return_counts=True)
    assert v.shape == inv.shape == cnt.shape == (0,)


def test_unique_along_a_dim() -> None:
    x = tc.tensor([[1, 2], [1, 2], [0, 5]])
    v, inv, cnt = x.unique(dim=0, return_inverse=True, return_counts=True)
    assert v.tolist() == [[0, 5], [1, 2]] and inv.tolist() == [1, 1, 0] and cnt.tolist() == [1, 2]
    v, inv = x.unique(dim=1, return_inverse=True)
    assert v.tolist() == x.tolist() and inv.tolist() == [0, 1]
    v, inv = tc.tensor([[1.0, nan], [1.0, nan]]).unique(dim=0, return_inverse=True)
    assert v.shape == (2, 2) and inv.tolist() == [0, 1]  # rows with NaN are distinct
    assert tc.zeros(0, 3).unique(dim=0).shape == (0, 3) and tc.zeros(3, 0).unique(dim=1).shape == (3, 0)
    with pytest.raises(RuntimeError, match=r"unique: shape \(3, 0\) has a dim of size 0 other than dim 0"):
        tc.zeros(3, 0).unique(dim=0)
    with pytest.raises(IndexError, match="unique: dim 1 is out of range"):
        tc.zeros(3).unique(dim=1)
    with pytest.raises(IndexError, match="unique: dim 0 is out of range for a 0-d tensor"):
        tc.tensor(1.0).unique(dim=0)


def test_unique_has_no_derivative_as_pytorch() -> None:
    x = leaf([1.0, 2.0, 1.0])
    u = x.unique()
    assert u.requires_grad and not tc.unique(x.detach()).requires_grad
    with pytest.raises(NotImplementedError, match="unique: the derivative for unique is not implemented"):
        u.sum().backward()


# ----------------------------------------------------------------- nanquantile


@pytest.mark.parametrize("method", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_nanquantile_against_numpy(method: str) -> None:
    a = np.random.default_rng(3).standard_normal((4, 7))
    a[a > 0.8] = nan
    a[2] = nan
    q = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    got = tc.tensor(a).nanquantile(tc.tensor(q), dim=1, interpolation=method).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (numpy warns on the all-NaN row)
        want = np.nanquantile(a, q, axis=1, method=method)
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-15)
    assert np.isnan(got[:, 2]).all()


def test_nanquantile_shapes_errors_and_gradients() -> None:
    x = tc.tensor([[nan, 1.0, 3.0, nan, 2.0], [4.0, 4.0, nan, 1.0, 4.0]], dtype=tc.float64)
    assert tc.nanquantile(x, 0.4).item() == pytest.approx(np.nanquantile(x.numpy(), 0.4))
    assert x.nanquantile(0.5, dim=0, keepdim=True).shape == (1, 5)
    assert x.nanquantile(tc.tensor([0.1, 0.9]), dim=1, keepdim=True).shape == (2, 2, 1)
    assert math.isnan(tc.tensor(nan).nanquantile(0.3).item())
    with pytest.raises(TypeError, match="nanquantile: the input must be a floating tensor"):
        tc.tensor([1, 2]).nanquantile(0.5)
    with pytest.raises(ValueError, match=r"nanquantile: q values must be in the range \[0, 1\]"):
        x.nanquantile(1.5)
    with pytest.raises(ValueError, match=r"nanquantile: the input must be non-empty"):
        tc.zeros(0).nanquantile(0.5)
    with pytest.raises(ValueError, match="nanquantile: interpolation must be"):
        x.nanquantile(0.5, interpolation="cubic")
    y = leaf([[0.3, nan, -1.2, 2.5, 0.9], [1.1, 0.4, nan, nan, -0.7]])
    for method in ("linear", "midpoint", "lower"):
        fn = lambda t, m=method: t.nanquantile(tc.tensor([0.3, 0.5], dtype=tc.float64), dim=1, interpolation=m)  # noqa: E731
        assert tc.gradcheck(fn, (y,)) and tc.gradgradcheck(fn, (y,))
    assert tc.gradcheck(lambda t: t.nanquantile(0.7), (y,))


# ----------------------------------------------------------------- select, index_fill


def test_select() -> None:
    x = tc.arange(24.0).reshape(2, 3, 4)
    assert x.select(1, -1).tolist() == x.numpy()[:, -1].tolist() and tc.select(x, 2, 0).shape == (2, 3)
    assert x.select(0, tc.tensor(1)).tolist() == x.numpy()[1].tolist()
    with pytest.raises(IndexError, match=r"select: index 3 is out of range for dim 1 of size 3 \(shape \(2, 3, 4\)\)"):
        x.select(1, 3)
    with pytest.raises(IndexError, match="select: cannot be applied to a 0-d tensor"):
        tc.tensor(1.0).select(0, 0)
    with pytest.raises(IndexError, match="select: dim 3 is out of range"):
        x.select(3, 0)
    with pytest.raises(TypeError, match="select: index must be an int, got float"):
        x.select(0, 1.0)
    y = leaf(np.random.default_rng(4).standard_normal((3, 4)))
    assert tc.gradcheck(lambda t: t.select(1, -2) * t.select(0, 1)[:3], (y,))
    assert tc.gradgradcheck(lambda t: t.select(1, -2) * t.select(0, 1)[:3], (y,))


def test_index_fill_values_and_conversions() -> None:
    x = tc.arange(12.0).reshape(3, 4)
    want = x.numpy().copy()
    want[:, [0, 2, 3]] = -1.0
    assert tc.index_fill(x, 1, tc.tensor([0, 2, 0, -1]), -1.0).tolist() == want.tolist()  # negative and repeated indices
    assert x.index_fill(0, tc.tensor(1), 7).tolist()[1] == [7.0] * 4  # a 0-d index, an int value
    assert x.index_fill(0, tc.tensor([], dtype=tc.int64), 1.0).tolist() == x.tolist()
    assert x.index_fill(1, tc.tensor([1]), tc.tensor(5, dtype=tc.int64)).dtype == tc.float32
    assert tc.arange(4).index_fill(0, tc.tensor([1]), 2.7).tolist() == [0, 2, 2, 3]  # converted to self's dtype
    assert tc.tensor([1, 2], dtype=tc.uint8).index_fill(0, tc.tensor([1]), -1).tolist() == [1, 255]
    assert tc.tensor(3.0).index_fill(0, tc.tensor([0, -1]), 1.0).tolist() == 1.0
    assert math.isnan(tc.tensor([1.0, 2.0]).index_fill(0, tc.tensor([1]), nan).tolist()[1])
    with pytest.raises(IndexError, match="index_fill: index must be an int64 tensor, got dtype int32"):
        x.index_fill(1, tc.tensor([0], dtype=tc.int32), 5)
    with pytest.raises(IndexError, match=r"index_fill: index 4 is out of bounds for dim 1 with size 4"):
        x.index_fill(1, tc.tensor([4]), 5)
    with pytest.raises(IndexError, match=r"index_fill: index -5 is out of bounds"):
        x.index_fill(1, tc.tensor([-5]), 5)
    with pytest.raises(RuntimeError, match=r"index_fill: index must be 0-D or 1-D .* got shape \(1, 1\)"):
        x.index_fill(1, tc.tensor([[0]]), 5)
    with pytest.raises(RuntimeError, match=r"index_fill: value must be a number or a 0-d tensor, got a tensor of shape \(1,\)"):
        x.index_fill(1, tc.tensor([1]), tc.tensor([5.0]))
    with pytest.raises(RuntimeError, match="index_fill: value 300 cannot be converted to dtype int8 without overflow"):
        tc.tensor([1, 2], dtype=tc.int8).index_fill(0, tc.tensor([1]), 300)
    with pytest.raises(RuntimeError, match="index_fill: value -1.0 cannot be converted to dtype uint8 without overflow"):
        tc.tensor([1, 2], dtype=tc.uint8).index_fill(0, tc.tensor([1]), -1.0)  # a float must fit (an int may wrap)
    with pytest.raises(RuntimeError, match="index_fill: value nan cannot be converted to dtype int64"):
        tc.arange(3).index_fill(0, tc.tensor([1]), nan)
    with pytest.raises(RuntimeError, match="index_fill: value 70000.0 cannot be converted to dtype float16"):
        tc.zeros(2, dtype=tc.float16).index_fill(0, tc.tensor([1]), 7e4)
    with pytest.raises(RuntimeError, match="index_fill: cannot convert the complex value"):
        x.index_fill(0, tc.tensor([1]), 1 + 2j)
    with pytest.raises(IndexError, match="index_fill: dim 2 is out of range"):
        x.index_fill(2, tc.tensor([1]), 1.0)


def test_index_fill_gradients() -> None:
    x = leaf(np.arange(12.0).reshape(3, 4))
    v = leaf(-1.0)
    y = x.index_fill(1, tc.tensor([0, 2, 0]), v)
    (y * tc.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    assert x.grad.tolist() == [[0, 1, 0, 3], [0, 5, 0, 7], [0, 9, 0, 11]]
    assert v.grad.item() == 30.0  # each filled element once, though index repeats 0 (as PyTorch)
    a, b = leaf(np.random.default_rng(5).standard_normal((3, 4))), leaf(0.7)
    fn = lambda s, w: s.index_fill(0, tc.tensor([2, 0, 2]), w) * s  # noqa: E731
    assert tc.gradcheck(fn, (a, b)) and tc.gradgradcheck(fn, (a, b))
    w32 = tc.tensor(2.0, dtype=tc.float64, requires_grad=True)
    tc.ones(3).index_fill(0, tc.tensor([1]), w32).sum().backward()  # a float64 value into float32: cast back
    assert w32.grad.dtype == tc.float64 and w32.grad.item() == 1.0


# ----------------------------------------------------------------- searchsorted, bucketize


def test_searchsorted_against_numpy_and_options() -> None:
    rng = np.random.default_rng(6)
    seq = np.sort(rng.integers(0, 10, 12)).astype(np.float64)
    vals = rng.integers(-2, 12, (3, 5)).astype(np.float64)
    for side in ("left", "right"):
        got = tc.searchsorted(tc.tensor(seq), tc.tensor(vals), side=side)
        assert got.dtype == tc.int64 and got.tolist() == np.searchsorted(seq, vals, side=side).tolist()
    assert tc.searchsorted(tc.tensor(seq), tc.tensor(vals), right=True).tolist() == np.searchsorted(seq, vals, "right").tolist()
    assert tc.searchsorted(tc.tensor(seq), tc.tensor(vals), out_int32=True).dtype == tc.int32
    out = tc.searchsorted(tc.tensor([1.0, 3.0, 5.0]), 3.0)
    assert out.shape == () and out.item() == 1 and tc.searchsorted(tc.tensor([1.0, 3.0, 5.0]), 3, right=True).item() == 2
    rows = tc.tensor([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    assert tc.searchsorted(rows, tc.tensor([[2.5, 0.0], [25.0, 31.0]])).tolist() == [[2, 0], [2, 3]]
    assert tc.searchsorted(tc.tensor([1.0, 3.0, 3.0, 5.0, nan]), tc.tensor([nan, inf, 4.0])).tolist() == [5, 5, 5]
    assert tc.searchsorted(tc.tensor([3.0, 1.0, 2.0]), tc.tensor([2.0]), sorter=tc.tensor([1, 2, 0])).tolist() == [1]
    assert tc.searchsorted(tc.tensor([5.0, 1.0, 4.0, 2.0]), tc.tensor([3.0])).tolist() == [2]  # unsorted: not checked
    assert tc.searchsorted(tc.zeros(0), tc.tensor([2.0])).tolist() == [0]
    assert tc.searchsorted(tc.tensor([1.0, 2.0]), tc.zeros(0)).shape == (0,)
    # compared in the promoted dtype, as PyTorch: a number −1 wraps into uint8, a tensor −1 promotes to int64
    assert tc.searchsorted(tc.tensor([1, 2, 3], dtype=tc.uint8), -1).item() == 3
    assert tc.searchsorted(tc.tensor([1, 2, 3], dtype=tc.uint8), tc.tensor([-1])).tolist() == [0]
    assert tc.searchsorted(tc.tensor([1, 2, 3]), tc.tensor([2.5])).tolist() == [2]


def test_searchsorted_errors() -> None:
    s = tc.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="searchsorted: side and right can't be set to opposites"):
        tc.searchsorted(s, tc.tensor([1.0]), right=True, side="left")
    with pytest.raises(RuntimeError, match="searchsorted: side can only be 'left' or 'right', got 'middle'"):
        tc.searchsorted(s, tc.tensor([1.0]), side="middle")
    with pytest.raises(RuntimeError, match="searchsorted: sorted_sequence must have at least 1 dim"):
        tc.searchsorted(tc.tensor(1.0), tc.tensor([1.0]))
    with pytest.raises(RuntimeError, match=r"searchsorted: input can be a number only when sorted_sequence is 1-D"):
        tc.searchsorted(tc.ones(2, 2), 1.0)
    with pytest.raises(RuntimeError, match=r"got shapes \(2, 2\) \(sorted_sequence\) and \(3, 1\) \(input\)"):
        tc.searchsorted(tc.ones(2, 2), tc.ones(3, 1))
    with pytest.raises(TypeError, match="searchsorted: not implemented for bool tensors"):
        tc.searchsorted(tc.tensor([True, False]), tc.tensor([True]))
    with pytest.raises(RuntimeError, match="searchsorted: sorter must be an int64 tensor"):
        tc.searchsorted(s, tc.tensor([1.0]), sorter=tc.tensor([0, 1, 2], dtype=tc.int32))
    with pytest.raises(RuntimeError, match="searchsorted: sorter index out of range"):
        tc.searchsorted(s, tc.tensor([1.0]), sorter=tc.tensor([0, 1, 3]))
    with pytest.raises(TypeError, match="searchsorted: input must be a Tensor or a real number, got list"):
        tc.searchsorted(s, [1.0])


def test_bucketize() -> None:
    b = tc.tensor([1, 3, 5, 7])
    x = tc.tensor([[1, 5], [3, 9]])
    assert tc.bucketize(x, b).tolist() == [[0, 2], [1, 4]]
    r = tc.bucketize(x, b, right=True, out_int32=True)
    assert r.tolist() == [[1, 3], [2, 4]] and r.dtype == tc.int32
    assert tc.bucketize(3.5, b).item() == 2 and tc.bucketize(tc.tensor(3), b).shape == ()
    with pytest.raises(RuntimeError, match=r"bucketize: boundaries must be 1-D, got shape \(1, 4\)"):
        tc.bucketize(x, b.reshape(1, 4))
    with pytest.raises(TypeError, match="bucketize: not implemented for complex64 tensors"):
        tc.bucketize(tc.tensor([1j]), tc.tensor([1.0]))


def test_searchsorted_does_not_record_a_gradient() -> None:
    out = tc.searchsorted(leaf([1.0, 2.0]), leaf([1.5]))
    assert not out.requires_grad and out.tolist() == [1]


# ----------------------------------------------------------------- broadcast_tensors


def test_broadcast_tensors() -> None:
    a, b = tc.tensor([[1.0], [2.0]]), tc.tensor([1, 2, 3])
    x, y = tc.broadcast_tensors(a, b)
    assert x.tolist() == [[1.0] * 3, [2.0] * 3] and y.tolist() == [[1, 2, 3]] * 2 and y.dtype == tc.int64
    assert tc.broadcast_tensors() == () and tc.broadcast_tensors(a)[0] is a
    assert [t.shape for t in tc.broadcast_tensors(tc.tensor(2.0), tc.zeros(0, 3))] == [(0, 3), (0, 3)]
    with pytest.raises(ValueError, match=r"broadcast_tensors: shapes \(2, 1\) and \(3, 4\) cannot be broadcast together"):
        tc.broadcast_tensors(a, tc.zeros(3, 4))
    with pytest.raises(TypeError, match="broadcast_tensors: expected Tensors, got int at position 1"):
        tc.broadcast_tensors(a, 3)
    u, v = leaf([[0.5], [1.5]]), leaf([1.0, -2.0, 3.0])
    fn = lambda s, t: tc.broadcast_tensors(s, t)[0] * tc.broadcast_tensors(s, t)[1]  # noqa: E731
    assert tc.gradcheck(fn, (u, v)) and tc.gradgradcheck(fn, (u, v))


# ----------------------------------------------------------------- vmap and the public names


def test_vmap_batches_or_falls_back_to_the_loop() -> None:
    x = tc.tensor(np.random.default_rng(7).uniform(0.1, 0.9, (4, 5)))
    for fn in (lambda r: r.logit(0.2), lambda r: r.copysign(-1.0), lambda r: r.aminmax(dim=0).max,
               lambda r: r.nanmedian(), lambda r: r.mode(0).values, lambda r: r.nanquantile(0.3),
               lambda r: r.select(0, 2), lambda r: r.index_fill(0, tc.tensor([1, 3]), 2.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # batched by rules: no loop, no warning
            out = vmap(fn)(x)
        np.testing.assert_array_equal(out.numpy(), tc.stack([fn(x[i]) for i in range(4)]).numpy())
    g = vmap(grad(lambda r: r.logit().sum() + r.nanmedian()))(x)
    np.testing.assert_allclose(g.numpy(), tc.stack([grad(lambda r: r.logit().sum() + r.nanmedian())(x[i]) for i in range(4)]).numpy())
    b = tc.tensor([0.2, 0.5, 0.8])
    with pytest.warns(UserWarning, match="vmap: .* could not be batched"):
        out = vmap(lambda r: tc.searchsorted(b, r))(x)
    assert out.tolist() == np.searchsorted(b.numpy(), x.numpy()).tolist()


def test_the_new_names_are_public() -> None:
    names = ["logit", "copysign", "heaviside", "aminmax", "nanmedian", "mode", "unique", "nanquantile", "select",
             "index_fill", "searchsorted", "bucketize", "broadcast_tensors"]
    assert [n for n in names if n not in tc.__all__ or not callable(getattr(tc, n))] == []
    methods = ["logit", "copysign", "heaviside", "aminmax", "nanmedian", "mode", "unique", "nanquantile", "select", "index_fill"]
    assert [n for n in methods if not callable(getattr(tc.Tensor, n, None))] == []
