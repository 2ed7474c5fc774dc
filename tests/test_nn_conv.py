"""Conv2d, MaxPool2d, AvgPool2d, unfold/fold: forward against naive numpy loops, gradients by gradcheck."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import random_leaf as leaf

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


def naive_conv2d(x, w, b, stride, padding, dilation, groups=1):
    """The definition, one output pixel at a time."""
    n, c, h, wd = x.shape
    cout, cin_g, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, cout, oh, ow))
    per_group = cout // groups
    for i in range(n):
        for o in range(cout):
            g = o // per_group
            for y in range(oh):
                for z in range(ow):
                    acc = 0.0 if b is None else b[o]
                    for ci in range(cin_g):
                        for a in range(kh):
                            for e in range(kw):
                                acc += w[o, ci, a, e] * xp[i, g * cin_g + ci, y * sh + a * dh, z * sw + e * dw]
                    out[i, o, y, z] = acc
    return out


def naive_pool(x, k, s, p, reduce, fill, dilation=(1, 1)):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    oh = (h + 2 * p[0] - dilation[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (w + 2 * p[1] - dilation[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for y in range(oh):
        for z in range(ow):
            win = xp[:, :, y * s[0] : y * s[0] + dilation[0] * (k[0] - 1) + 1 : dilation[0],
                     z * s[1] : z * s[1] + dilation[1] * (k[1] - 1) + 1 : dilation[1]]
            out[:, :, y, z] = reduce(win, axis=(2, 3))
    return out


CONV_CASES = [
    dict(stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1),
    dict(stride=(2, 1), padding=(1, 2), dilation=(1, 1), groups=1),
    dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=1),
    dict(stride=(2, 2), padding=(1, 1), dilation=(1, 2), groups=2),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward_matches_the_naive_loop(case):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 7, 6))
    w = rng.standard_normal((6, 4 // case["groups"], 3, 2))
    b = rng.standard_normal(6)
    out = F.conv2d(tc.from_numpy(x), tc.from_numpy(w), tc.from_numpy(b), **case)
    np.testing.assert_allclose(out._array, naive_conv2d(x, w, b, **case), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_gradcheck_with_stride_padding_dilation_groups(case):
    x = leaf(2, 2, 5, 4, seed=1)
    w = leaf(2, 2 // case["groups"], 2, 3, seed=2)
    b = leaf(2, seed=3)
    assert tc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **case), (x, w, b))


def test_conv2d_gradgradcheck():
    x, w, b = leaf(1, 2, 4, 4, seed=4), leaf(2, 2, 2, 2, seed=5), leaf(2, seed=6)
    assert tc.gradgradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), (x, w, b))
    assert tc.gradgradcheck(lambda x, w: F.conv2d(x, w, dilation=2, groups=2), (leaf(1, 2, 4, 4, seed=7), leaf(2, 1, 2, 2, seed=8)))


def test_conv2d_layer_init_same_padding_padding_modes_and_single_image():
    tc.manual_seed(0)
    conv = nn.Conv2d(4, 8, (3, 5), padding="same")
    bound = 1 / math.sqrt(4 * 3 * 5)
    assert conv.weight.shape == (8, 4, 3, 5)
    assert np.abs(conv.weight._array).max() <= bound and np.abs(conv.bias._array).max() <= bound
    x = tc.randn(2, 4, 6, 7)
    assert conv(x).shape == (2, 8, 6, 7)
    even = F.conv2d(x, tc.randn(8, 4, 2, 2))  # reference without padding
    assert even.shape == (2, 8, 5, 6)
    assert F.conv2d(x, tc.randn(8, 4, 2, 2), padding="same").shape == (2, 8, 6, 7)
    reflect = nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect", bias=False)
    img = np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4)
    expected = naive_conv2d(np.pad(img, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="reflect"), reflect.weight._array, None, (1, 1), (0, 0), (1, 1))
    np.testing.assert_allclose(reflect(tc.from_numpy(img))._array, expected, rtol=1e-5)
    single = conv(x[0])
    np.testing.assert_allclose(single._array, conv(x)._array[0], rtol=1e-6)


def test_conv2d_wrong_channels_and_other_bad_input():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv2d\(3, 4, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected input of shape \(N, 3, H, W\).*got input of shape \(2, 5, 8, 8\)"):
        conv(tc.randn(2, 5, 8, 8))
    with pytest.raises(ValueError, match=r"conv2d: expected input with 3 channels \(weight of shape \(4, 3, 3, 3\), groups=1\), got input of shape \(1, 2, 5, 5\)"):
        F.conv2d(tc.randn(1, 2, 5, 5), conv.weight)
    with pytest.raises(ValueError, match=r"too small for kernel \(3, 3\)"):
        conv(tc.randn(1, 3, 2, 2))
    with pytest.raises(ValueError, match="groups=2 must be positive and divide in_channels=3"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")


POOL_CASES = [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))]


@pytest.mark.parametrize("k, s, p", POOL_CASES)
def test_pooling_forward_matches_the_naive_loop(k, s, p):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 6))
    t = tc.from_numpy(x)
    np.testing.assert_allclose(F.max_pool2d(t, k, s, p)._array, naive_pool(x, k, s, p, np.max, -np.inf))
    np.testing.assert_allclose(F.avg_pool2d(t, k, s, p)._array, naive_pool(x, k, s, p, np.mean, 0.0), rtol=1e-12)
    counts = naive_pool(np.ones_like(x), k, s, p, np.sum, 0.0)
    np.testing.assert_allclose(F.avg_pool2d(t, k, s, p, count_include_pad=False)._array,
                               naive_pool(x, k, s, p, np.sum, 0.0) / counts, rtol=1e-12)
    np.testing.assert_allclose(F.max_pool2d(t, 2, 1, 1, dilation=2)._array, naive_pool(x, (2, 2), (1, 1), (1, 1), np.max, -np.inf, (2, 2)))


@pytest.mark.parametrize("k, s, p", POOL_CASES)
def test_pooling_gradcheck_with_overlapping_windows(k, s, p):
    # A permutation of spread-out values: no ties, so max is differentiable everywhere checked.
    x = tc.from_numpy(np.random.default_rng(4).permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) * 0.1).requires_grad_()
    assert tc.gradcheck(lambda t: F.max_pool2d(t, k, s, p), (x,))
    assert tc.gradcheck(lambda t: F.avg_pool2d(t, k, s, p), (x,))
    assert tc.gradcheck(lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=False), (x,))


def test_overlapping_max_windows_accumulate_the_gradient():
    x = tc.tensor([[[[0.0, 1.0, 0.0], [0.0, 9.0, 0.0], [2.0, 0.0, 3.0]]]], requires_grad=True)
    out = F.max_pool2d(x, 2, stride=1)  # the 9 is the max of all four 2×2 windows
    np.testing.assert_array_equal(out._array, [[[[9, 9], [9, 9]]]])
    out.backward(tc.tensor([[[[1.0, 2.0], [3.0, 4.0]]]]))
    np.testing.assert_array_equal(x.grad._array[0, 0], [[0, 0, 0], [0, 10, 0], [0, 0, 0]])
    y = tc.ones(1, 1, 3, 3, requires_grad=True)
    F.avg_pool2d(y, 2, stride=1).sum().backward()
    np.testing.assert_allclose(y.grad._array[0, 0], np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 4)


def test_max_pool_indices_and_gradgradcheck():
    x = tc.tensor([[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 7.0]]]])
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(out._array, [[[[5, 8]]]])
    np.testing.assert_array_equal(idx._array, [[[[1, 6]]]])
    z = tc.from_numpy(np.random.default_rng(5).permutation(16).reshape(1, 1, 4, 4) * 0.5).requires_grad_()
    assert tc.gradgradcheck(lambda t: F.max_pool2d(t, 2, 1) ** 2, (z,))
    assert tc.gradgradcheck(lambda t: F.avg_pool2d(t, 3, 1, 1) ** 2, (z,))


def test_pool_modules_and_bad_input():
    x = tc.randn(1, 2, 6, 6)
    assert nn.MaxPool2d(2)(x).shape == (1, 2, 3, 3) and nn.AvgPool2d(3, 1, 1)(x).shape == (1, 2, 6, 6)
    assert nn.MaxPool2d(2)(x[0]).shape == (2, 3, 3)
    with pytest.raises(ValueError, match=r"padding \(2, 2\) should be at most half of kernel size \(3, 3\)"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(NotImplementedError, match="ceil_mode=True is not supported"):
        nn.MaxPool2d(2, ceil_mode=True)(x)
    with pytest.raises(ValueError, match=r"expected input of shape \(N, C, H, W\) or \(C, H, W\), got shape \(6, 6\)"):
        F.avg_pool2d(tc.randn(6, 6), 2)


def test_unfold_and_fold_are_adjoint_and_unfold_matches_the_patches():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 4))
    cols = F.unfold(tc.from_numpy(x), (2, 3), dilation=1, padding=1, stride=(2, 1))
    assert cols.shape == (2, 3 * 2 * 3, 3 * 4)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    np.testing.assert_array_equal(cols._array[:, :, 0], xp[:, :, 0:2, 0:3].reshape(2, -1))
    y = np.random.default_rng(7).standard_normal(cols.shape)
    folded = F.fold(tc.from_numpy(y), (5, 4), (2, 3), padding=1, stride=(2, 1))
    # <unfold(x), y> = <x, fold(y)>: fold is col2im, the adjoint of im2col
    np.testing.assert_allclose((cols._array * y).sum(), (x * folded._array).sum(), rtol=1e-12)
    assert tc.gradcheck(lambda t: F.fold(t, (3, 3), 2), (leaf(1, 4, 4, seed=9),))
    assert tc.gradgradcheck(lambda t: F.unfold(t, 2, stride=1) ** 2, (leaf(1, 1, 3, 3, seed=10),))
