"""nn.init: gains, fans, and the distributions' bounds and spreads."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.nn import init


def test_calculate_gain_values():
    assert init.calculate_gain("linear") == 1.0 and init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", math.sqrt(5)) == pytest.approx(math.sqrt(1 / 3))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_fans_follow_pytorch():
    assert init._calculate_fan_in_and_fan_out(tc.zeros(8, 3, 5, 7)) == (3 * 35, 8 * 35)
    assert init._calculate_fan_in_and_fan_out(tc.zeros(4, 6)) == (6, 4)
    with pytest.raises(ValueError, match=r"fewer than 2 dimensions \(shape \(5,\)\)"):
        init.xavier_uniform_(tc.zeros(5))


def test_uniform_normal_constant_in_place_and_reproducible():
    t = tc.zeros(200, 100)
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t._array.min() >= -2 and t._array.max() < 3 and abs(t._array.mean() - 0.5) < 0.05
    init.normal_(t, 1.0, 2.0)
    assert abs(t._array.mean() - 1.0) < 0.05 and abs(t._array.std() - 2.0) < 0.05
    assert t.dtype == np.float32
    init.constant_(t, 0.25)
    assert np.all(t._array == 0.25)
    assert np.all(init.zeros_(t)._array == 0) and np.all(init.ones_(t)._array == 1)
    tc.manual_seed(5)
    a = init.normal_(tc.zeros(3))._array.copy()
    tc.manual_seed(5)
    np.testing.assert_array_equal(init.normal_(tc.zeros(3))._array, a)


def test_xavier_bounds_and_std():
    t = tc.zeros(300, 200)
    bound = 2.0 * math.sqrt(6 / 500)
    init.xavier_uniform_(t, gain=2.0)
    assert np.abs(t._array).max() <= bound and np.abs(t._array).max() > 0.99 * bound
    init.xavier_normal_(t)
    assert abs(t._array.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)


def test_kaiming_modes_and_nonlinearities():
    t = tc.zeros(300, 20, 3, 3)  # fan_in 180, fan_out 2700
    init.kaiming_uniform_(t, nonlinearity="relu")
    bound = math.sqrt(2) * math.sqrt(3 / 180)
    assert np.abs(t._array).max() <= bound and np.abs(t._array).max() > 0.99 * bound
    init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu")
    assert abs(t._array.std() - math.sqrt(2 / 2700)) < 0.02 * math.sqrt(2 / 2700)
    init.kaiming_uniform_(t, a=math.sqrt(5))  # PyTorch's Linear/Conv default: U(±1/√fan_in)
    assert np.abs(t._array).max() <= 1 / math.sqrt(180)
    with pytest.raises(ValueError, match="mode 'fan_avg' not supported"):
        init.kaiming_normal_(t, mode="fan_avg")
    assert init.kaiming_uniform_(tc.zeros(0, 3)).shape == (0, 3)
