"""Issue 12's elementwise math: values against numpy/math closed forms, gradcheck and gradgradcheck in float64."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc


def leaf(values, shape=None) -> tc.Tensor:
    return tc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def rnd(shape=(2, 3), lo=-1.0, hi=1.0, seed=0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(lo, hi, shape)


def vec(fn):
    return np.vectorize(fn, otypes=[np.float64])


# name, method call, numpy/math reference, domain (lo, hi)
UNARY = [
    ("tan", lambda x: x.tan(), np.tan, (-1.2, 1.2)),
    ("sinh", lambda x: x.sinh(), np.sinh, (-2, 2)),
    ("cosh", lambda x: x.cosh(), np.cosh, (-2, 2)),
    ("asin", lambda x: x.asin(), np.arcsin, (-0.9, 0.9)),
    ("acos", lambda x: x.acos(), np.arccos, (-0.9, 0.9)),
    ("atan", lambda x: x.atan(), np.arctan, (-3, 3)),
    ("asinh", lambda x: x.asinh(), np.arcsinh, (-3, 3)),
    ("acosh", lambda x: x.acosh(), np.arccosh, (1.2, 4)),
    ("atanh", lambda x: x.atanh(), np.arctanh, (-0.9, 0.9)),
    ("exp2", lambda x: x.exp2(), lambda a: 2.0**a, (-3, 3)),
    ("expm1", lambda x: x.expm1(), lambda a: np.exp(a) - 1, (-2, 2)),
    ("log1p", lambda x: x.log1p(), lambda a: np.log(1 + a), (-0.8, 3)),
    ("erfc", lambda x: x.erfc(), vec(lambda v: 1 - math.erf(v)), (-2, 2)),
    ("erfinv", lambda x: x.erfinv(), None, (-0.95, 0.95)),
    ("lgamma", lambda x: x.lgamma(), vec(lambda v: math.log(abs(math.gamma(v)))), (-2.7, 6)),
    ("digamma", lambda x: x.digamma(), None, (-2.7, 6)),
    ("sinc", lambda x: x.sinc(), lambda a: np.sin(np.pi * a) / (np.pi * a), (0.1, 2.5)),
    ("frac", lambda x: x.frac(), lambda a: a - np.trunc(a), (-3, 3)),
    ("rad2deg", lambda x: x.rad2deg(), lambda a: a * 180 / np.pi, (-3, 3)),
    ("deg2rad", lambda x: x.deg2rad(), lambda a: a * np.pi / 180, (-3, 3)),
    ("reciprocal", lambda x: x.reciprocal(), lambda a: 1 / a, (0.5, 3)),
    ("polygamma2", lambda x: x.polygamma(2), None, (0.3, 5)),
]


def _domain_values(lo, hi, seed=0):
    a = rnd((2, 3), lo, hi, seed)
    return a


@pytest.mark.parametrize("name,fn,ref,dom", UNARY, ids=[u[0] for u in UNARY])
def test_unary_values_and_gradients(name, fn, ref, dom) -> None:
    a = _domain_values(*dom)
    if name in ("lgamma", "digamma"):
        a = np.where(np.abs(a - np.round(a)) < 0.1, a + 0.25, a)
    x = leaf(a)
    if ref is not None:
        np.testing.assert_allclose(fn(x).detach().numpy(), ref(a), rtol=1e-12, atol=1e-13)
    assert tc.gradcheck(fn, (x,))
    assert tc.gradgradcheck(fn, (x,))


def test_erfinv_inverts_erf_and_special_values() -> None:
    y = np.array([-0.999999, -0.7, -1e-8, 0.0, 0.3, 0.9, 0.99999999, 1 - 1e-15])
    x = tc.tensor(y, dtype=tc.float64).erfinv().numpy()
    np.testing.assert_allclose([math.erf(v) for v in x], y, rtol=0, atol=5e-15)
    np.testing.assert_allclose([math.erfc(v) for v in x[-2:]], 1 - y[-2:], rtol=1e-12)
    assert tc.tensor([1.0, -1.0, 1.5, -2.0]).erfinv().tolist()[:2] == [math.inf, -math.inf]
    assert np.isnan(tc.tensor([1.5, -2.0]).erfinv().numpy()).all()
    assert tc.tensor([0.5], dtype=tc.float32).erfinv().dtype == tc.float32


def test_digamma_closed_forms_and_poles() -> None:
    euler = 0.5772156649015329
    x = tc.tensor([1.0, 0.5, 2.0, 10.5, 100.0, -0.5], dtype=tc.float64)
    expected = [-euler, -euler - 2 * math.log(2), 1 - euler, None, None, -euler - 2 * math.log(2) + 2]
    out = x.digamma().numpy()
    for o, e in zip(out, expected):
        if e is not None:
            assert o == pytest.approx(e, rel=1e-14)
    # ψ(x + 1) − ψ(x) = 1/x; ψ′(1) = π²/6; ψ″(1) = −2ζ(3)
    a = np.array([0.3, 2.7, 11.2, 40.0])
    np.testing.assert_allclose(tc.tensor(a + 1).digamma().numpy() - tc.tensor(a).digamma().numpy(), 1 / a, rtol=1e-12)
    assert tc.tensor([1.0], dtype=tc.float64).polygamma(1).item() == pytest.approx(math.pi**2 / 6, rel=1e-14)
    assert tc.tensor([1.0], dtype=tc.float64).polygamma(2).item() == pytest.approx(-2 * 1.2020569031595942, rel=1e-13)
    assert tc.tensor([-0.5], dtype=tc.float64).polygamma(1).item() == pytest.approx(math.pi**2 / 2 + 4, rel=1e-13)
    assert tc.tensor([0.0]).digamma().item() == -math.inf and math.isnan(tc.tensor([-2.0]).digamma().item())
    assert tc.tensor([0.0, -1.0]).lgamma().tolist() == [math.inf, math.inf]


def test_xlogy_zero_and_gradients() -> None:
    x, y = tc.tensor([0.0, 0.0, 2.0, 0.0]), tc.tensor([0.0, 3.0, 0.5, math.nan])
    out = x.xlogy(y).numpy()
    assert out[0] == 0 and out[1] == 0 and out[2] == pytest.approx(2 * math.log(0.5)) and math.isnan(out[3])
    a, b = leaf(rnd((2, 3), 0.2, 2)), leaf(rnd((3,), 0.5, 2, seed=1))
    assert tc.gradcheck(lambda u, v: u.xlogy(v), (a, b)) and tc.gradgradcheck(lambda u, v: u.xlogy(v), (a, b))
    z = leaf([0.0, 1.0])
    z.xlogy(tc.tensor([0.0, 2.0])).sum().backward()
    assert z.grad.tolist() == [0.0, pytest.approx(math.log(2))]  # 0 at x = 0 (not −∞)


BINARY = [
    ("atan2", lambda x, y: x.atan2(y), np.arctan2),
    ("logaddexp", lambda x, y: x.logaddexp(y), np.logaddexp),
    ("logaddexp2", lambda x, y: x.logaddexp2(y), np.logaddexp2),
    ("hypot", lambda x, y: x.hypot(y), np.hypot),
    ("fmod", lambda x, y: x.fmod(y), np.fmod),
    ("fmax", lambda x, y: x.fmax(y), np.fmax),
    ("fmin", lambda x, y: x.fmin(y), np.fmin),
]


@pytest.mark.parametrize("name,fn,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_values_and_gradients(name, fn, ref) -> None:
    a, b = rnd((2, 3), -3, 3), rnd((3,), 0.5, 2, seed=1)  # broadcast; b > 0 keeps fmod away from 0
    x, y = leaf(a), leaf(b)
    np.testing.assert_allclose(fn(x, y).detach().numpy(), ref(a, b), rtol=1e-13, atol=1e-14)
    assert tc.gradcheck(fn, (x, y)) and tc.gradgradcheck(fn, (x, y))


def test_fmax_fmin_nan_and_ties() -> None:
    x, y = leaf([math.nan, 1.0, 2.0, math.nan]), leaf([1.0, math.nan, 2.0, math.nan])
    out = x.fmax(y)
    assert out.tolist()[:3] == [1.0, 1.0, 2.0] and math.isnan(out.tolist()[3])
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0] and y.grad.tolist() == [1.0, 0.0, 0.0, 0.0]  # ties to x


def test_rounding_has_zero_gradient_and_keeps_dtype() -> None:
    a = np.array([-2.5, -1.5, -0.4, 0.5, 1.5, 2.7])
    x = leaf(a)
    for name, ref in (("floor", np.floor), ("ceil", np.ceil), ("trunc", np.trunc), ("round", np.round), ("sgn", np.sign)):
        out = getattr(x, name)()
        np.testing.assert_array_equal(out.detach().numpy(), ref(a))
        assert out.requires_grad
        x.grad = None
        (out * 3).sum().backward()
        assert x.grad.tolist() == [0.0] * 6
    np.testing.assert_allclose(tc.tensor([1.2345, -2.5551]).round(decimals=2).numpy(), [1.23, -2.56])
    assert tc.tensor([1234.0, 1251.0]).round(decimals=-2).tolist() == [1200.0, 1300.0]
    assert tc.tensor([1, -2]).floor().dtype == tc.int64 and tc.tensor([1, -2]).floor().tolist() == [1, -2]
    assert x.frac().requires_grad and tc.gradcheck(lambda t: t.frac(), (leaf([0.3, -1.7]),))


def test_nan_to_num_and_integer_inputs() -> None:
    x = leaf([math.nan, math.inf, -math.inf, 1.5])
    out = x.nan_to_num()
    f = np.finfo(np.float64)
    assert out.tolist() == [0.0, f.max, f.min, 1.5]
    assert x.nan_to_num(1.0, 2.0, -3.0).tolist() == [1.0, 2.0, -3.0, 1.5]
    out.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0]
    assert tc.tensor([1, 2]).tan().dtype == tc.get_default_dtype()
    assert tc.tensor([2, 4]).reciprocal().tolist() == [0.5, 0.25]


def test_lerp_addcmul_addcdiv() -> None:
    a, b, w = rnd((2, 3)), rnd((2, 3), seed=1), rnd((3,), 0, 1, seed=2)
    s, e, wt = leaf(a), leaf(b), leaf(w)
    np.testing.assert_allclose(s.lerp(e, wt).detach().numpy(), a + w * (b - a), rtol=1e-13)
    np.testing.assert_allclose(s.lerp(e, 0.25).detach().numpy(), a + 0.25 * (b - a), rtol=1e-13)
    assert s.lerp(e, 1.0).tolist() == b.tolist() and s.lerp(e, 0.0).tolist() == a.tolist()  # exact at the ends
    assert tc.gradcheck(lambda u, v, t: u.lerp(v, t), (s, e, wt)) and tc.gradgradcheck(lambda u, v, t: u.lerp(v, t), (s, e, wt))
    c = leaf(rnd((3,), 0.5, 2, seed=3))
    np.testing.assert_allclose(s.addcmul(e, c, value=0.5).detach().numpy(), a + 0.5 * b * c.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(s.addcdiv(e, c, value=-2).detach().numpy(), a - 2 * b / c.detach().numpy(), rtol=1e-13)
    fn = lambda u, v, t: u.addcdiv(v, t, value=0.3)  # noqa: E731
    assert tc.gradcheck(fn, (s, e, c)) and tc.gradgradcheck(fn, (s, e, c))


def test_errors_name_the_op() -> None:
    with pytest.raises(ValueError, match="logaddexp.*shape|shape.*logaddexp"):
        tc.ones(2, 3).logaddexp(tc.ones(4))
    with pytest.raises(ValueError, match="polygamma"):
        tc.ones(2).polygamma(-1)
    with pytest.raises(TypeError, match="frac"):
        tc.tensor([1, 2]).frac()


def test_top_level_remainder_masked_fill_and_tensor_cross():
    a = np.array([-3.0, -1.5, 2.0, 5.0])
    b = np.array([2.0, -2.0, 3.0, -4.0])
    # Python's % semantics: the result takes the divisor's sign.
    np.testing.assert_array_equal(tc.remainder(tc.tensor(a), tc.tensor(b)).numpy(), [1.0, -1.5, 2.0, -3.0])
    np.testing.assert_array_equal(tc.remainder(5.0, tc.tensor(b)).numpy(), [1.0, -1.0, 2.0, -3.0])
    with pytest.raises(TypeError, match="remainder: one of input, other must be a Tensor"):
        tc.remainder(5.0, 2.0)
    mask = tc.tensor(np.array([True, False, True, False]))
    np.testing.assert_array_equal(tc.masked_fill(tc.tensor(a), mask, 0.5).numpy(), [0.5, -1.5, 0.5, 5.0])
    u, v = tc.tensor([[1.0, 0.0, 0.0]]), tc.tensor([[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(u.cross(v).numpy(), [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(u.cross(v, dim=1).numpy(), [[0.0, 0.0, 1.0]])
