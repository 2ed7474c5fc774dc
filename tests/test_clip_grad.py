"""clip_grad_norm_ / clip_grad_value_: PyTorch's formulas, dtypes, shared gradient arrays, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
import tinygrad_course.nn.utils as nn_utils


def with_grads(*grads, dtype=np.float64):
    params = []
    for g in grads:
        p = tc.tensor(np.zeros(np.shape(g), dtype=dtype), requires_grad=True)
        p.grad = tc.tensor(np.asarray(g, dtype=dtype))
        params.append(p)
    return params


GRADS = ([3.0, -4.0], [[1.0, 2.0], [-2.0, 0.5]], [12.0])


@pytest.mark.parametrize(
    ("norm_type", "total"),
    [
        (2.0, lambda flat: np.sqrt(np.sum(flat**2))),
        (1.0, lambda flat: np.sum(np.abs(flat))),
        (3.0, lambda flat: np.sum(np.abs(flat) ** 3) ** (1 / 3)),
        (math.inf, lambda flat: np.max(np.abs(flat))),
    ],
)
def test_clip_grad_norm_scales_by_max_norm_over_total_plus_1e6(norm_type, total):
    params = with_grads(*GRADS)
    flat = np.concatenate([np.ravel(g) for g in GRADS])
    want_total = total(flat)
    got = nn_utils.clip_grad_norm_(params, max_norm=2.0, norm_type=norm_type)
    assert isinstance(got, tc.Tensor) and got.shape == ()
    np.testing.assert_allclose(got.item(), want_total, rtol=1e-12)
    coef = 2.0 / (want_total + 1e-6)
    for p, g in zip(params, GRADS):
        np.testing.assert_allclose(p.grad._array, np.asarray(g) * coef, rtol=1e-12)
    joint = np.concatenate([p.grad._array.ravel() for p in params])
    assert total(joint) < 2.0 and total(joint) > 2.0 - 1e-5


def test_small_gradients_are_left_exactly_as_they_are():
    params = with_grads(*GRADS)
    total = nn_utils.clip_grad_norm_(params, max_norm=100.0)
    np.testing.assert_allclose(total.item(), np.sqrt(9 + 16 + 1 + 4 + 4 + 0.25 + 144), rtol=1e-12)
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(p.grad._array, g)


def test_float32_gradients_give_a_float32_norm_and_stay_float32():
    params = with_grads(*GRADS, dtype=np.float32)
    total = nn_utils.clip_grad_norm_(params, 1.0)
    assert total.dtype == np.float32 and all(p.grad.dtype == np.float32 for p in params)
    coef = np.float32(1.0) / (total._array + np.float32(1e-6))
    np.testing.assert_array_equal(params[0].grad._array, np.asarray(GRADS[0], np.float32) * coef)


def test_shared_and_read_only_gradient_arrays_are_scaled_once_each():
    a = tc.tensor([3.0, 4.0], requires_grad=True)
    b = tc.tensor([0.0, 0.0], requires_grad=True)
    (a + b).sum().backward()  # the engine may give a and b one read-only array
    grad_a = a.grad
    total = nn_utils.clip_grad_norm_([a, b], max_norm=1.0)
    np.testing.assert_allclose(total.item(), 2.0, rtol=1e-6)
    np.testing.assert_allclose(a.grad._array, [0.5, 0.5], rtol=1e-5)
    np.testing.assert_allclose(b.grad._array, [0.5, 0.5], rtol=1e-5)
    assert a.grad is grad_a  # same Tensor object, new values (like PyTorch's in-place mul_)
    c = tc.tensor([1.0, 1.0], requires_grad=True)
    d = tc.tensor([1.0, 1.0], requires_grad=True)
    (c + d).sum().backward()
    nn_utils.clip_grad_value_([c, d], 0.25)
    np.testing.assert_array_equal(c.grad._array, [0.25, 0.25])
    np.testing.assert_array_equal(d.grad._array, [0.25, 0.25])


def test_parameters_without_grad_single_tensors_and_generators():
    params = with_grads([3.0, 4.0])
    params.append(tc.tensor([1.0], requires_grad=True))  # no grad: skipped
    total = nn_utils.clip_grad_norm_(iter(params), 1.0)
    np.testing.assert_allclose(total.item(), 5.0)
    assert params[1].grad is None
    single = with_grads([0.0, 2.0])[0]
    np.testing.assert_allclose(nn_utils.clip_grad_norm_(single, 1.0).item(), 2.0)
    np.testing.assert_allclose(single.grad._array, [0.0, 2.0 / (2.0 + 1e-6)], rtol=1e-12)
    none = nn_utils.clip_grad_norm_([tc.tensor([1.0], requires_grad=True)], 1.0)
    assert none.item() == 0.0


def test_non_finite_norm_raises_on_request_and_otherwise_scales_like_pytorch():
    params = with_grads([math.inf, 1.0])
    with pytest.raises(
        RuntimeError, match=r"clip_grad_norm_: the total norm of order 2.0 of the gradients is inf, non-finite"
    ):
        nn_utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad._array, [math.inf, 1.0])  # untouched
    total = nn_utils.clip_grad_norm_(params, 1.0)
    assert total.item() == math.inf
    assert math.isnan(params[0].grad._array[0]) and params[0].grad._array[1] == 0.0  # inf·0, 1·0


def test_clip_grad_value_clamps_elementwise():
    params = with_grads([3.0, -4.0, 0.5], [[-0.2]])
    assert nn_utils.clip_grad_value_(params, 1.0) is None
    np.testing.assert_array_equal(params[0].grad._array, [1.0, -1.0, 0.5])
    np.testing.assert_array_equal(params[1].grad._array, [[-0.2]])


def test_bad_input():
    params = with_grads([1.0])
    with pytest.raises(ValueError, match=r"clip_grad_norm_: max_norm must be >= 0, got -1.0"):
        nn_utils.clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match=r"clip_grad_norm_: max_norm must be >= 0, got nan"):
        nn_utils.clip_grad_norm_(params, math.nan)
    with pytest.raises(ValueError, match=r"clip_grad_value_: clip_value must be >= 0, got -0.5"):
        nn_utils.clip_grad_value_(params, -0.5)
    with pytest.raises(TypeError, match=r"clip_grad_norm_: parameters\[1\] is a ndarray; expected Tensors"):
        nn_utils.clip_grad_norm_([params[0], np.ones(2)], 1.0)
