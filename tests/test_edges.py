"""Correct at the edges: every case of the edge-case issue as a named regression test.

The expected numbers are PyTorch's (2.13, CPU), written out, so these run without torch;
tests/parity/ compares the same programs with torch itself where it is installed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.nn import functional as F

pytestmark = pytest.mark.usefixtures("engine")
NAN, INF = math.nan, math.inf


def leaf(values, dtype=tc.float64) -> tc.Tensor:
    return tc.tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def grad_of(out: tc.Tensor, *xs: tc.Tensor) -> list[np.ndarray]:
    out.sum().backward()
    return [x.grad.numpy() for x in xs]


def same(got, want) -> None:
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64),
                               rtol=1e-6, atol=1e-7, equal_nan=True)


# ----------------------------------------------------------------- masks by selection
def test_clamp_then_sqrt_at_and_below_zero() -> None:
    x = leaf([-1.0, 0.0, 4.0])
    same(grad_of(x.clamp(min=0).sqrt(), x)[0], [0.0, INF, 0.25])  # clamp passes g at its bound


def test_relu_then_sqrt_below_zero() -> None:
    x = leaf([-1.0, 0.0, 4.0])
    same(grad_of(x.relu().sqrt(), x)[0], [0.0, 0.0, 0.25])


def test_maximum_then_sqrt() -> None:
    x = leaf([-1.0, 0.0, 4.0])
    same(grad_of(tc.maximum(x, tc.zeros_like(x)).sqrt(), x)[0], [0.0, INF, 0.25])


def test_abs_and_relu_at_nan() -> None:
    x = leaf([NAN, -1.0, 0.0, 2.0])
    same(grad_of(x.abs(), x)[0], [0.0, -1.0, 0.0, 1.0])
    y = leaf([NAN, -1.0, 0.0, 2.0])
    same(grad_of(y.relu(), y)[0], [1.0, 0.0, 0.0, 1.0])


def test_an_infinite_gradient_does_not_leak_through_max_min_masks() -> None:
    x = leaf([1.0, 3.0, 2.0])
    same(grad_of(x.amax() * INF, x)[0], [0.0, INF, 0.0])
    y = leaf([1.0, 3.0])
    same(grad_of(tc.minimum(y, tc.full((2,), 2.0, dtype=tc.float64)) * INF, y)[0], [INF, 0.0])


def test_ties_in_max_min() -> None:
    x = leaf([1.0, 3.0, 3.0])
    same(grad_of(x.max(), x)[0], [0.0, 0.5, 0.5])
    x2 = leaf([1.0, 3.0, 3.0])
    same(grad_of(x2.max(0).values, x2)[0], [0.0, 1.0, 0.0])  # max(dim): to the index it returns
    a, b = leaf([1.0, 2.0]), leaf([1.0, 3.0])
    ga, gb = grad_of(tc.maximum(a, b), a, b)
    same(ga, [0.5, 0.0])
    same(gb, [0.5, 1.0])


# ----------------------------------------------------------------- zeros of sqrt, norm, std, pow, prod, div
def test_norm_of_a_zero_vector_and_a_zero_row() -> None:
    x = leaf([0.0, 0.0, 0.0])
    same(grad_of(x.norm(), x)[0], [0.0, 0.0, 0.0])
    y = leaf([[0.0, 0.0], [3.0, 4.0]])
    same(grad_of(y.norm(dim=1), y)[0], [[0.0, 0.0], [0.6, 0.8]])
    z = leaf([0.0, 0.0])
    same(grad_of(z.norm(p=3), z)[0], [0.0, 0.0])


def test_std_of_constant_values() -> None:
    x = leaf([2.0, 2.0])
    same(grad_of(x.std(), x)[0], [0.0, 0.0])
    y = leaf([[1.0], [2.0]])
    same(grad_of(y.std(1, unbiased=False), y)[0], [[0.0], [0.0]])
    one = leaf([3.0])
    out = one.std()
    assert math.isnan(out.item())  # one element, unbiased: 0/0, as PyTorch (which also warns)


def test_an_infinite_gradient_through_std() -> None:
    x = leaf([1.0, 2.0, 4.0])
    same(grad_of(x.std() * INF, x)[0], [-INF, -INF, INF])


def test_pow_at_zero() -> None:
    x = leaf([0.0, 2.0])
    same(grad_of(x**0, x)[0], [0.0, 0.0])
    y = leaf([0.0, 2.0, -1.0])
    same(grad_of(tc.zeros(3, dtype=tc.float64) ** y, y)[0], [0.0, 0.0, -INF])
    a, b = leaf([0.0, 0.0, 2.0]), leaf([0.0, 1.5, 3.0])
    ga, gb = grad_of(a**b, a, b)
    same(ga, [0.0, 0.0, 12.0])
    same(gb, [0.0, 0.0, 8 * math.log(2.0)])


def test_prod_with_zeros_and_infinities() -> None:
    x = leaf([1.0, 0.0, 2.0])
    same(grad_of(x.prod(), x)[0], [0.0, 2.0, 0.0])
    y = leaf([0.0, 0.0, 2.0])
    same(grad_of(y.prod(), y)[0], [0.0, 0.0, 0.0])
    z = leaf([1.0, INF, 2.0])
    same(grad_of(z.prod(), z)[0], [INF, NAN, INF])  # PyTorch's numbers (its formula is z / x)


def test_division_by_a_tiny_float32() -> None:
    a, b = leaf([1.0], tc.float32), leaf([1e-20], tc.float32)
    ga, gb = grad_of(a / b, a, b)
    same(ga, [1e20])
    assert gb[0] == -INF  # −(a/b)/b = −1e40: beyond float32, as in PyTorch
    z, w = leaf([0.0], tc.float32), leaf([1e-30], tc.float32)
    assert grad_of(z / w, z, w)[1][0] == 0.0  # −(0/w)/w = 0, where 0/(w·w) = 0/0 would be NaN


# ----------------------------------------------------------------- sigmoid, softplus, BCE
def test_sigmoid_keeps_its_left_tail() -> None:
    x = leaf([-20.0, -100.0, 100.0, 0.0], tc.float32)
    same(x.sigmoid().detach().numpy(), [2.0611537e-09, 0.0, 1.0, 0.5])
    assert x.sigmoid()[0].log().item() == pytest.approx(-20.0, rel=1e-6)
    same(F.softplus(leaf([-100.0], tc.float32)).detach().numpy(), [3.7835e-44])


def test_bce_of_a_sigmoid_far_in_the_tail() -> None:
    s = leaf([-20.0], tc.float32)
    loss = F.binary_cross_entropy(s.sigmoid(), tc.ones(1))
    loss.backward()
    assert loss.item() == pytest.approx(20.0, rel=1e-6) and s.grad.item() == pytest.approx(-1.0, rel=1e-6)


def test_cross_entropy_with_every_target_ignored() -> None:
    z = leaf(np.random.default_rng(0).standard_normal((3, 4)))
    loss = F.cross_entropy(z, tc.tensor([-100, -100, -100]))
    loss.backward()
    assert math.isnan(loss.item()) and np.all(z.grad.numpy() == 0.0)


# ----------------------------------------------------------------- empty tensors
def test_softmax_family_on_tensors_with_a_size_zero_dim() -> None:
    x = leaf(np.zeros((0, 3)), tc.float32)
    assert x.softmax(-1).shape == (0, 3) and x.log_softmax(1).shape == (0, 3)
    assert x.amax(1).shape == (0,) and x.max(1).values.shape == (0,)
    y = leaf(np.zeros((2, 0)))
    out = y.logsumexp(1)
    assert out.tolist() == [-INF, -INF]
    out.sum().backward()
    assert y.grad.shape == (2, 0)


def test_full_reductions_of_an_empty_tensor() -> None:
    x = tc.zeros(0, 3)
    assert x.sum().item() == 0.0 and math.isnan(x.mean().item()) and x.sum(0).tolist() == [0.0, 0.0, 0.0]
    assert tc.zeros(0).prod().item() == 1.0
    assert all(math.isnan(v) for v in tc.zeros(2, 0, dtype=tc.float64).var(1).tolist())
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\) over all dims"):
        x.max()
    with pytest.raises(ValueError, match=r"amax: dim 0 of shape \(0, 3\) has size 0"):
        x.amax(0)


# ----------------------------------------------------------------- float16
def test_float16_reductions_accumulate_in_float32() -> None:
    big = tc.full((100, 1000), 1000.0, dtype=tc.float16)
    assert big.mean().item() == 1000.0 and big.mean().dtype == np.float16
    assert tc.tensor([300.0] * 4, dtype=tc.float16).norm().item() == 600.0
    assert tc.tensor([60000.0, 10000.0, -60000.0], dtype=tc.float16).sum().item() == 10000.0
    v = np.linspace(0, 100, 50)
    assert tc.tensor(v, dtype=tc.float16).var().item() == pytest.approx(np.var(v.astype(np.float16), ddof=1), rel=1e-3)


# ----------------------------------------------------------------- integers
def test_floor_division_and_remainder() -> None:
    assert (tc.tensor([7, -7]) // 2).tolist() == [3, -4] and (tc.tensor([7, -7]) % 3).tolist() == [1, 2]
    assert (tc.tensor([7.0, -7.0]) // 2).tolist() == [3.0, -4.0] and (tc.tensor([7.0, -7.0]) % 3).tolist() == [1.0, 2.0]
    assert (7 // tc.tensor([2, -2])).tolist() == [3, -4] and (7 % tc.tensor([3, -3])).tolist() == [1, -2]
    x = leaf([7.0, -7.0, 2.5])
    same(grad_of(x % 3, x)[0], [1.0, 1.0, 1.0])
    assert tc.tensor([7, 8]).floor_divide(3).tolist() == [2, 2] and tc.tensor([7, 8]).remainder(3).tolist() == [1, 2]


def test_integer_to_a_negative_integer_power_raises_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="pow: Integers to negative integer powers are not allowed"):
        tc.tensor([2, 4]) ** -1


# ----------------------------------------------------------------- clear errors
def test_clear_errors_instead_of_internal_ones() -> None:
    with pytest.raises(TypeError, match="cat: element 0 is a ndarray, expected Tensor"):
        tc.cat([np.ones(2), np.ones(2)])
    with pytest.raises(TypeError, match="cat: expected a sequence \\(list or tuple\\) of Tensors, got Tensor"):
        tc.cat(tc.ones(2))
    with pytest.raises(TypeError, match="input must be a Tensor, got ndarray"):
        tc.nn.Linear(3, 4)(np.ones((2, 3)))
    with pytest.raises(TypeError, match="sum: dim must be an int or a tuple of ints, got 0.5"):
        tc.ones(2).sum(0.5)
