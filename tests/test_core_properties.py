"""Property-based tests (hypothesis): broadcasting and reductions agree with numpy for any
shapes, and their gradients are the exact adjoints (sums over broadcast dims, spreads over
reduced dims)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_course as tc

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

SETTINGS = settings(max_examples=60, deadline=None)
finite = st.floats(-10, 10, allow_nan=False, width=64)


@st.composite
def broadcastable_pair(draw):
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4))
    a = draw(hnp.arrays(np.float64, shapes.input_shapes[0], elements=finite))
    b = draw(hnp.arrays(np.float64, shapes.input_shapes[1], elements=finite))
    return a, b


@SETTINGS
@given(broadcastable_pair(), st.sampled_from(["add", "sub", "mul", "maximum"]))
def test_broadcast_forward_and_gradient_shapes(pair, op) -> None:
    a, b = pair
    x, y = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
    fns = {"add": (lambda p, q: p + q, np.add), "sub": (lambda p, q: p - q, np.subtract),
           "mul": (lambda p, q: p * q, np.multiply), "maximum": (lambda p, q: p.maximum(q), np.maximum)}
    fn, ref = fns[op]
    out = fn(x, y)
    np.testing.assert_array_equal(out._array, ref(a, b))
    out.sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape


@SETTINGS
@given(broadcastable_pair())
def test_broadcast_add_gradient_counts_the_copies(pair) -> None:
    # d/da Σ (a + b) = how many times each element of a was broadcast = size(out) / size(a)
    a, b = pair
    x, y = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
    out = x + y
    out.sum().backward()
    np.testing.assert_array_equal(x.grad._array, np.full(a.shape, out._array.size / max(a.size, 1)))
    np.testing.assert_array_equal(y.grad._array, np.full(b.shape, out._array.size / max(b.size, 1)))


@SETTINGS
@given(broadcastable_pair())
def test_broadcast_mul_gradient_is_the_summed_other_operand(pair) -> None:
    a, b = pair
    x, y = tc.tensor(a, requires_grad=True), tc.tensor(b, requires_grad=True)
    (x * y).sum().backward()
    full_b = np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))
    lead = full_b.ndim - a.ndim
    expected = full_b.sum(axis=tuple(range(lead))) if lead else full_b
    expected = expected.sum(axis=tuple(d for d, n in enumerate(a.shape) if n == 1), keepdims=True) if a.ndim else expected
    np.testing.assert_allclose(x.grad._array, np.broadcast_to(expected, a.shape), rtol=1e-12, atol=1e-12)


@st.composite
def array_and_dims(draw):
    arr = draw(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=finite))
    dims = draw(st.lists(st.integers(0, arr.ndim - 1), unique=True, max_size=arr.ndim))
    negative = draw(st.booleans())
    dims = [d - arr.ndim if negative else d for d in dims]
    keepdim = draw(st.booleans())
    return arr, (tuple(dims) if dims else None), keepdim


@SETTINGS
@given(array_and_dims())
def test_sum_and_mean_match_numpy_and_spread_gradient(case) -> None:
    arr, dims, keepdim = case
    x = tc.tensor(arr, requires_grad=True)
    s = x.sum(dims, keepdim)
    np.testing.assert_allclose(s._array, arr.sum(axis=dims, keepdims=keepdim), rtol=1e-12, atol=1e-12)
    m = x.mean(dims, keepdim)
    np.testing.assert_allclose(m._array, arr.mean(axis=dims, keepdims=keepdim), rtol=1e-12, atol=1e-12)
    m.sum().backward()
    n = arr.size if dims is None else int(np.prod([arr.shape[d] for d in dims]))
    np.testing.assert_allclose(x.grad._array, np.full(arr.shape, 1.0 / n))


@SETTINGS
@given(array_and_dims())
def test_amax_matches_numpy_and_gradient_sums_to_one_per_slice(case) -> None:
    arr, dims, keepdim = case
    x = tc.tensor(arr, requires_grad=True)
    out = x.amax(dims, keepdim)
    np.testing.assert_array_equal(out._array, arr.max(axis=dims, keepdims=keepdim))
    out.sum().backward()
    # ties split evenly, so each reduced slice's gradient adds up to exactly 1
    np.testing.assert_allclose(x.grad._array.sum(axis=dims), np.ones_like(arr.max(axis=dims)))
    assert (x.grad._array[arr != arr.max(axis=dims, keepdims=True)] == 0).all()


@SETTINGS
@given(array_and_dims())
def test_var_std_logsumexp_match_numpy(case) -> None:
    arr, dims, keepdim = case
    x = tc.tensor(arr)
    n = arr.size if dims is None else int(np.prod([arr.shape[d] for d in dims]))
    np.testing.assert_allclose(x.var(dims, unbiased=False, keepdim=keepdim)._array, arr.var(axis=dims, keepdims=keepdim), rtol=1e-9, atol=1e-9)
    if n > 1:
        np.testing.assert_allclose(x.std(dims, keepdim=keepdim)._array, arr.std(axis=dims, ddof=1, keepdims=keepdim), rtol=1e-9, atol=1e-9)
    ref = np.log(np.exp(arr).sum(axis=dims, keepdims=keepdim))
    np.testing.assert_allclose(x.logsumexp(dims, keepdim)._array, ref, rtol=1e-9, atol=1e-12)


@SETTINGS
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5), elements=st.floats(-1e4, 1e4, width=64)))
def test_softmax_is_stable_and_normalised(arr) -> None:
    p = tc.tensor(arr).softmax(-1)._array
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-12)
    assert np.isfinite(tc.tensor(arr).log_softmax(-1)._array).all()
