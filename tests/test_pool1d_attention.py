"""1-D pooling (max, avg, adaptive) and attention (scaled_dot_product_attention, MultiheadAttention).

Forward against naive numpy definitions, gradients by gradcheck/gradgradcheck, unbatched inputs,
error messages, modules (attributes, init, state_dict, repr), dropout, and vmap. The comparisons
with PyTorch are in tests/parity/test_pool1d_attention_parity.py.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import random_leaf as leaf

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


# ----------------------------------------------------------------- naive definitions
def out_length(length, k, s, p, d, ceil_mode):
    """PyTorch's pooling output length: floor (or ceil) of the span / s, + 1, and no window starting in the right padding."""
    span = length + 2 * p - d * (k - 1) - 1
    n = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (n - 1) * s >= length + p:
        n -= 1
    return n


def naive_max_pool1d(x, k, s, p=0, d=1, ceil_mode=False):
    """(values, indices): the max over the in-range positions of each window, first maximum on ties."""
    length = x.shape[-1]
    n = out_length(length, k, s, p, d, ceil_mode)
    values, indices = np.zeros(x.shape[:-1] + (n,)), np.zeros(x.shape[:-1] + (n,), dtype=np.int64)
    for t in range(n):
        pos = [t * s - p + j * d for j in range(k) if 0 <= t * s - p + j * d < length]
        best = np.argmax(x[..., pos], axis=-1)
        values[..., t] = np.take_along_axis(x[..., pos], best[..., None], -1)[..., 0]
        indices[..., t] = np.asarray(pos)[best]
    return values, indices


def naive_avg_pool1d(x, k, s, p=0, ceil_mode=False, count_include_pad=True):
    """The mean of each window: divisor its size within [−p, L + p), or its count of input elements."""
    length = x.shape[-1]
    n = out_length(length, k, s, p, 1, ceil_mode)
    out = np.zeros(x.shape[:-1] + (n,))
    for t in range(n):
        start = t * s - p
        pos = [q for q in range(start, start + k) if 0 <= q < length]
        divisor = min(start + k, length + p) - start if count_include_pad else len(pos)
        out[..., t] = x[..., pos].sum(-1) / divisor
    return out


def adaptive_bins(length, size):
    """PyTorch's adaptive bins: [⌊i·L/o⌋, ⌈(i+1)·L/o⌉)."""
    return [(i * length // size, -(-(i + 1) * length // size)) for i in range(size)]


def naive_attention(q, k, v, bias=None):
    """softmax(q kᵀ/√E + bias) v for numpy arrays (…, L, E), (…, S, E), (…, S, Ev)."""
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if bias is not None:
        scores = scores + bias
    w = np.exp(scores - scores.max(-1, keepdims=True))
    w = w / w.sum(-1, keepdims=True)
    return w @ v, w


def distinct(*shape, seed=0):
    """A float64 leaf of distinct spread values (a permutation): no ties, so max is differentiable where checked."""
    values = np.random.default_rng(seed).permutation(math.prod(shape)).reshape(shape) * 0.1
    return tc.from_numpy(values.astype(np.float64)).requires_grad_()


# ----------------------------------------------------------------- 1-D pooling: values
POOL_CASES = [  # (k, s, p, d, ceil_mode)
    (2, None, 0, 1, False), (3, 1, 1, 1, False), (3, 2, 1, 1, True), (4, 3, 2, 1, True),
    (3, 2, 0, 2, False), (2, 3, 1, 3, True), (5, 2, 2, 1, True), (1, 2, 0, 1, True),
]


@pytest.mark.parametrize("k, s, p, d, ceil_mode", POOL_CASES)
def test_max_pool1d_values_and_indices_match_the_naive_loop(k, s, p, d, ceil_mode):
    x = np.random.default_rng(k + 10 * p).standard_normal((2, 3, 10))
    want, want_idx = naive_max_pool1d(x, k, s or k, p, d, ceil_mode)
    out, idx = F.max_pool1d(tc.from_numpy(x), k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), want)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert idx.dtype == np.int64
    as_tuples = F.max_pool1d(tc.from_numpy(x), (k,), None if s is None else (s,), (p,), (d,), ceil_mode)
    np.testing.assert_array_equal(as_tuples.numpy(), want)


@pytest.mark.parametrize("k, s, p, d, ceil_mode", [c for c in POOL_CASES if c[3] == 1])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool1d_matches_the_naive_loop_with_pytorchs_divisors(k, s, p, d, ceil_mode, count_include_pad):
    x = np.random.default_rng(k + 10 * p).standard_normal((2, 3, 10))
    want = naive_avg_pool1d(x, k, s or k, p, ceil_mode, count_include_pad)
    out = F.avg_pool1d(tc.from_numpy(x), k, s, p, ceil_mode, count_include_pad)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-13, atol=1e-15)


def test_ceil_mode_adds_a_partial_last_window_but_none_starting_in_the_padding():
    x = tc.tensor([[[1.0, 5.0, 2.0, 7.0, 3.0]]])
    assert F.max_pool1d(x, 2).tolist() == [[[5.0, 7.0]]]
    assert F.max_pool1d(x, 2, ceil_mode=True).tolist() == [[[5.0, 7.0, 3.0]]]
    # length 5, k 2, s 2, p 1: ceil gives 4 windows, the 4th would start at 5 (in the right padding): dropped
    assert F.max_pool1d(x, 2, padding=1, ceil_mode=True).tolist() == [[[1.0, 5.0, 7.0]]]
    # avg: the partial window divides by its part inside [−p, L + p) (count_include_pad) or by its input count
    assert F.avg_pool1d(x, 2, ceil_mode=True).tolist() == [[[3.0, 4.5, 3.0]]]
    y = tc.tensor([[[1.0, 2.0, 3.0, 4.0]]])
    # windows [−1, 2), [1, 4), [3, 6): the last holds 4, the right pad and one position past it (not counted)
    assert F.avg_pool1d(y, 3, 2, 1, ceil_mode=True).tolist() == [[[1.0, 3.0, 2.0]]]
    assert F.avg_pool1d(y, 3, 2, 1, ceil_mode=True, count_include_pad=False).tolist() == [[[1.5, 3.0, 4.0]]]


@pytest.mark.parametrize("length, size", [(10, 3), (7, 7), (5, 8), (9, 1), (6, 4)])
def test_adaptive_pools_match_the_bins(length, size):
    x = np.random.default_rng(length * size).standard_normal((2, 3, length))
    bins = adaptive_bins(length, size)
    want_avg = np.stack([x[..., a:b].mean(-1) for a, b in bins], -1)
    want_max = np.stack([x[..., a:b].max(-1) for a, b in bins], -1)
    want_idx = np.stack([a + x[..., a:b].argmax(-1) for a, b in bins], -1)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(tc.from_numpy(x), size).numpy(), want_avg, rtol=1e-13)
    np.testing.assert_allclose(F.adaptive_avg_pool1d(tc.from_numpy(x), (size,)).numpy(), want_avg, rtol=1e-13)
    np.testing.assert_array_equal(F.adaptive_max_pool1d(tc.from_numpy(x), size).numpy(), want_max)
    out, idx = F.adaptive_max_pool1d(tc.from_numpy(x), size, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), want_max)
    np.testing.assert_array_equal(idx.numpy(), want_idx)
    assert idx.dtype == np.int64


# ----------------------------------------------------------------- 1-D pooling: gradients
@pytest.mark.parametrize("k, s, p, d, ceil_mode", POOL_CASES[1:6])
def test_pool1d_gradcheck(k, s, p, d, ceil_mode):
    x = distinct(2, 2, 9, seed=k)
    assert tc.gradcheck(lambda t: F.max_pool1d(t, k, s, p, d, ceil_mode), (x,))
    if d == 1:
        assert tc.gradcheck(lambda t: F.avg_pool1d(t, k, s, p, ceil_mode), (x,))
        assert tc.gradcheck(lambda t: F.avg_pool1d(t, k, s, p, ceil_mode, count_include_pad=False), (x,))


def test_adaptive_pool1d_gradcheck_and_gradgradcheck():
    x = distinct(2, 2, 7, seed=3)
    for size in (3, 7, 9):
        assert tc.gradcheck(lambda t, o=size: F.adaptive_avg_pool1d(t, o), (x,))
        assert tc.gradcheck(lambda t, o=size: F.adaptive_max_pool1d(t, o), (x,))
    assert tc.gradgradcheck(lambda t: F.max_pool1d(t, 3, 1, 1) ** 2, (x,))
    assert tc.gradgradcheck(lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True) ** 2, (x,))
    assert tc.gradgradcheck(lambda t: F.adaptive_max_pool1d(t, 3) ** 2, (x,))


def test_overlapping_max_windows_accumulate_and_ties_go_to_the_first_maximum():
    x = tc.tensor([[[0.0, 9.0, 1.0, 2.0, 2.0]]], requires_grad=True)
    out = F.max_pool1d(x, 3, stride=1)  # the 9 is the max of the first two windows; the last window has a tie
    assert out.tolist() == [[[9.0, 9.0, 2.0]]]
    out.backward(tc.tensor([[[1.0, 2.0, 4.0]]]))
    assert x.grad.tolist() == [[[0.0, 3.0, 0.0, 4.0, 0.0]]]
    y = tc.tensor([[[3.0, 3.0, 1.0, 5.0, 5.0]]], requires_grad=True)
    out, idx = F.adaptive_max_pool1d(y, 2, return_indices=True)  # bins [0, 3) and [2, 5)
    assert out.tolist() == [[[3.0, 5.0]]] and idx.tolist() == [[[0, 3]]]
    out.sum().backward()
    assert y.grad.tolist() == [[[1.0, 0.0, 0.0, 1.0, 0.0]]]


def test_unbatched_input_equals_the_batch_of_one_with_its_gradients():
    x = leaf(3, 11, seed=4)
    x1 = x.detach().unsqueeze(0).requires_grad_()
    cases = [
        lambda t: F.max_pool1d(t, 3, 2, 1, ceil_mode=True),
        lambda t: F.avg_pool1d(t, 4, 3, 2, ceil_mode=True, count_include_pad=False),
        lambda t: F.adaptive_avg_pool1d(t, 4),
        lambda t: F.adaptive_max_pool1d(t, 4),
    ]
    for f in cases:
        single, batch = f(x), f(x1)
        assert single.shape == tuple(batch.shape[1:])
        np.testing.assert_array_equal(single.detach().numpy(), batch.detach().numpy()[0])
        x.grad = x1.grad = None
        single.sum().backward()
        batch.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), x1.grad.numpy()[0])
    out, idx = F.max_pool1d(x, 2, return_indices=True)
    assert out.shape == (3, 5) and idx.shape == (3, 5)
    assert tc.gradcheck(lambda t: F.max_pool1d(t, 3, 2, 1), (distinct(3, 8, seed=5),))


def test_pool1d_modules_attributes_and_reprs():
    assert repr(nn.MaxPool1d(3)) == "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool1d((3,), 2, 1, ceil_mode=True, return_indices=True)) == (
        "MaxPool1d(kernel_size=(3,), stride=2, padding=1, dilation=1, ceil_mode=True)")
    assert repr(nn.AvgPool1d(3)) == "AvgPool1d(kernel_size=(3,), stride=(3,), padding=(0,))"
    assert repr(nn.AvgPool1d(3, 2, 1, True, False)) == "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))"
    assert repr(nn.AdaptiveAvgPool1d(5)) == "AdaptiveAvgPool1d(output_size=5)"
    assert repr(nn.AdaptiveMaxPool1d((4,), True)) == "AdaptiveMaxPool1d(output_size=(4,))"
    pool = nn.AvgPool1d(3, 2, 1, ceil_mode=True, count_include_pad=False)
    assert (pool.kernel_size, pool.stride, pool.padding, pool.ceil_mode, pool.count_include_pad) == (
        (3,), (2,), (1,), True, False)
    x = tc.randn(2, 3, 10, dtype=tc.float64)
    np.testing.assert_array_equal(pool(x).numpy(), F.avg_pool1d(x, 3, 2, 1, True, False).numpy())
    mp = nn.MaxPool1d(3, 2, 1, return_indices=True, ceil_mode=True)
    out, idx = mp(x)
    want, want_idx = F.max_pool1d(x, 3, 2, 1, 1, True, True)
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    np.testing.assert_array_equal(idx.numpy(), want_idx.numpy())
    assert nn.MaxPool1d(2)(x[0]).shape == (3, 5)
    assert nn.AdaptiveAvgPool1d(4)(x).shape == (2, 3, 4)
    assert nn.AdaptiveMaxPool1d(4)(x[0]).shape == (3, 4)
    assert [o.shape for o in nn.AdaptiveMaxPool1d(4, return_indices=True)(x)] == [(2, 3, 4), (2, 3, 4)]
    assert list(pool.parameters()) == [] and pool.state_dict() == {}


def test_pool1d_errors_name_the_op():
    x = tc.randn(2, 3, 5)
    with pytest.raises(ValueError, match=r"max_pool1d: padding \(2,\) should be at most half of kernel size \(3,\)"):
        F.max_pool1d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"avg_pool1d: padding \(2,\) should be at most half of kernel size \(3,\)"):
        nn.AvgPool1d(3, padding=2)(x)
    with pytest.raises(ValueError, match=r"max_pool1d: input of length 5 \(padding \(0,\)\) is too small for kernel "
                                         r"size 3 with dilation 3: the output would have length 0"):
        F.max_pool1d(x, 3, dilation=3)
    with pytest.raises(ValueError, match=r"avg_pool1d: input of length 5 \(padding \(0,\)\) is too small for kernel "
                                         r"size 7 with dilation 1: the output would have length 0"):
        F.avg_pool1d(x, 7)
    with pytest.raises(ValueError, match=r"max_pool1d: expected input of shape \(N, C, L\) or \(C, L\), got shape \(5,\)"):
        F.max_pool1d(tc.randn(5), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool1d: expected input of shape \(N, C, L\) or \(C, L\), "
                                         r"got shape \(1, 2, 3, 5\)"):
        nn.AdaptiveAvgPool1d(2)(tc.randn(1, 2, 3, 5))
    with pytest.raises(TypeError, match=r"max_pool1d: kernel_size must be an int or a 1-tuple of ints, got \(2, 2\)"):
        nn.MaxPool1d((2, 2))(x)
    with pytest.raises(TypeError, match=r"AvgPool1d: kernel_size must be an int or a 1-tuple of ints, got \(2, 2\)"):
        nn.AvgPool1d((2, 2))
    with pytest.raises(ValueError, match=r"max_pool1d: stride must be ≥ 1, got 0"):
        F.max_pool1d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"avg_pool1d: padding must be ≥ 0, got -1"):
        F.avg_pool1d(x, 2, padding=-1)
    with pytest.raises(TypeError, match=r"adaptive_avg_pool1d: output_size must be an int or a 1-tuple of ints, "
                                        r"got \(2, 3\)"):
        F.adaptive_avg_pool1d(x, (2, 3))
    with pytest.raises(ValueError, match=r"adaptive_max_pool1d: output_size must be ≥ 1, got 0"):
        F.adaptive_max_pool1d(x, 0)
    with pytest.raises(TypeError, match=r"max_pool1d: input must be floating point, got int64"):
        F.max_pool1d(tc.tensor([[1, 2, 3, 4]]), 2)
    with pytest.raises(TypeError, match=r"avg_pool1d: input must be a Tensor, got ndarray"):
        F.avg_pool1d(np.zeros((2, 3, 4)), 2)


def test_pool1d_vmap_over_a_batch_equals_the_loop():
    rng = np.random.default_rng(6)
    xs = tc.from_numpy(rng.standard_normal((4, 2, 3, 9)))  # 4 samples, each a (2, 3, 9) batch
    singles = tc.from_numpy(rng.standard_normal((4, 3, 9)))  # each an unbatched (3, 9)
    cases = [
        lambda t: F.max_pool1d(t, 3, 2, 1, dilation=2, ceil_mode=True),
        lambda t: F.max_pool1d(t, 2, return_indices=True),
        lambda t: F.avg_pool1d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        lambda t: F.adaptive_avg_pool1d(t, 4),
        lambda t: F.adaptive_max_pool1d(t, 4, return_indices=True),
    ]
    for data in (xs, singles):
        for f in cases:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no sample-by-sample fallback
                got = func.vmap(f)(data)
            want = [f(data[i]) for i in range(4)]
            got, want = (got, list(zip(*want))) if isinstance(got, tuple) else ((got,), [want])
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g.numpy(), np.stack([t.numpy() for t in w]))


def test_pool1d_per_sample_gradients_with_vmap_of_grad():
    x = tc.from_numpy(np.random.default_rng(7).permutation(4 * 2 * 9).reshape(4, 2, 9) * 0.1)

    def f(t):
        return (F.max_pool1d(t, 3, 2, 1, ceil_mode=True) ** 2).sum() + F.avg_pool1d(t, 2, ceil_mode=True).sum() \
            + F.adaptive_max_pool1d(t, 4).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func.vmap(func.grad(f))(x)
    for i in range(4):
        np.testing.assert_allclose(got.numpy()[i], func.grad(f)(x[i]).numpy(), rtol=1e-13)


# ----------------------------------------------------------------- scaled_dot_product_attention
def test_sdpa_matches_the_definition_with_masks_and_causal():
    rng = np.random.default_rng(8)
    q, k, v = rng.standard_normal((2, 3, 4, 6)), rng.standard_normal((2, 3, 5, 6)), rng.standard_normal((2, 3, 5, 7))
    tq, tk, tv = tc.from_numpy(q), tc.from_numpy(k), tc.from_numpy(v)
    out = F.scaled_dot_product_attention(tq, tk, tv)
    np.testing.assert_allclose(out.numpy(), naive_attention(q, k, v)[0], rtol=1e-12)
    allowed = rng.random((4, 5)) < 0.7
    allowed[:, 0] = True
    bias = np.where(allowed, 0.0, -np.inf)
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tc.tensor(allowed))  # bool: True = may attend
    np.testing.assert_allclose(out.numpy(), naive_attention(q, k, v, bias)[0], rtol=1e-12)
    fmask = rng.standard_normal((2, 1, 4, 5))
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=tc.from_numpy(fmask))
    np.testing.assert_allclose(out.numpy(), naive_attention(q, k, v, fmask)[0], rtol=1e-12)
    causal = np.where(np.tril(np.ones((4, 5), bool)), 0.0, -np.inf)
    out = F.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    np.testing.assert_allclose(out.numpy(), naive_attention(q, k, v, causal)[0], rtol=1e-12)
    out = F.scaled_dot_product_attention(tq, tk, tv, scale=0.25)
    np.testing.assert_allclose(out.numpy(), naive_attention(q * 0.25 * math.sqrt(6), k, v)[0], rtol=1e-12)
    out = F.scaled_dot_product_attention(tc.from_numpy(q[0, 0]), tc.from_numpy(k[0, 0]), tc.from_numpy(v[0, 0]))
    np.testing.assert_allclose(out.numpy(), naive_attention(q[0, 0], k[0, 0], v[0, 0])[0], rtol=1e-12)
    # enable_gqa: 3 query heads share each of the key/value heads
    kg, vg = rng.standard_normal((2, 1, 5, 6)), rng.standard_normal((2, 1, 5, 7))
    out = F.scaled_dot_product_attention(tq, tc.from_numpy(kg), tc.from_numpy(vg), enable_gqa=True)
    np.testing.assert_allclose(out.numpy(), naive_attention(q, kg, vg)[0], rtol=1e-12)


def test_sdpa_a_query_that_may_attend_nowhere_gets_zero_and_a_zero_gradient():
    q, k, v = leaf(3, 4, seed=9), leaf(5, 4, seed=10), leaf(5, 2, seed=11)
    allowed = np.ones((3, 5), bool)
    allowed[1] = False
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=tc.tensor(allowed))
    np.testing.assert_array_equal(out.detach().numpy()[1], [0.0, 0.0])
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert np.isfinite(q.grad.numpy()).all() and np.isfinite(k.grad.numpy()).all()
    np.testing.assert_array_equal(q.grad.numpy()[1], np.zeros(4))


def test_sdpa_gradcheck_and_gradgradcheck():
    q, k, v = leaf(2, 3, 4, seed=12), leaf(2, 5, 4, seed=13), leaf(2, 5, 3, seed=14)
    fmask = leaf(3, 5, seed=15)
    allowed = tc.tensor(np.random.default_rng(16).random((2, 3, 5)) < 0.6) | tc.tensor(np.eye(3, 5, dtype=bool))
    assert tc.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c), (q, k, v))
    assert tc.gradcheck(lambda a, b, c, m: F.scaled_dot_product_attention(a, b, c, attn_mask=m), (q, k, v, fmask))
    assert tc.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=allowed, scale=0.7),
                        (q, k, v))
    assert tc.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))
    assert tc.gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


def test_sdpa_dropout_drops_and_rescales_weights():
    rng = np.random.default_rng(17)
    q, k = tc.from_numpy(rng.standard_normal((4, 6, 3))), tc.from_numpy(rng.standard_normal((4, 8, 3)))
    eye = tc.from_numpy(np.broadcast_to(np.eye(8), (4, 8, 8)).copy())  # value = I: the output is the weights
    weights = F.scaled_dot_product_attention(q, k, eye).numpy()
    tc.manual_seed(0)
    dropped = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.5).numpy()
    kept = dropped != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(dropped[kept], 2.0 * weights[kept], rtol=1e-12)
    np.testing.assert_array_equal(F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy(), 0.0)


def test_sdpa_errors():
    q, k, v = tc.randn(2, 3, 4), tc.randn(2, 5, 4), tc.randn(2, 5, 6)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: an explicit attn_mask should not be set "
                                         r"when is_causal=True"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tc.ones(3, 5, dtype=tc.bool), is_causal=True)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query and key must have the same number "
                                         r"of features \(last dim\), got shapes \(2, 3, 4\) and \(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, tc.randn(2, 5, 3), v)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: key and value must have the same length "
                                         r"\(dim −2\), got shapes \(2, 5, 4\) and \(2, 4, 6\)"):
        F.scaled_dot_product_attention(q, k, tc.randn(2, 4, 6))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: attn_mask of shape \(3, 4\) does not "
                                         r"broadcast to the attention weights' shape \(2, 3, 5\)"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tc.zeros(3, 4))
    with pytest.raises(TypeError, match=r"scaled_dot_product_attention: only bool and floating types of attn_mask "
                                        r"are supported, got int64"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=tc.zeros(3, 5, dtype=tc.int64))
    with pytest.raises(TypeError, match=r"scaled_dot_product_attention: query, key and value must have the same "
                                        r"dtype, got float32, float64 and float32"):
        F.scaled_dot_product_attention(q, k.double(), v)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: the batch dims of query \(2, 3, 4\), key "
                                         r"\(3, 5, 4\) and value \(3, 5, 6\) do not broadcast"):
        F.scaled_dot_product_attention(q, tc.randn(3, 5, 4), tc.randn(3, 5, 6))
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: dropout_p must be between 0 and 1, got 1.5"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)
    with pytest.raises(ValueError, match=r"scaled_dot_product_attention: query must have at least 2 dims"):
        F.scaled_dot_product_attention(tc.randn(4), k, v)


def test_sdpa_vmap_over_a_batch_with_a_batched_mask_equals_the_loop():
    rng = np.random.default_rng(18)
    qs, ks, vs = (tc.from_numpy(rng.standard_normal(s)) for s in ((3, 2, 4, 5), (3, 2, 6, 5), (3, 2, 6, 3)))
    masks = tc.tensor(rng.random((3, 4, 6)) < 0.6)

    def f(q, k, v, m):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m) + F.scaled_dot_product_attention(q, k, v, is_causal=True)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func.vmap(f)(qs, ks, vs, masks)
    for i in range(3):
        np.testing.assert_allclose(got.numpy()[i], f(qs[i], ks[i], vs[i], masks[i]).numpy(), rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- MultiheadAttention
def test_mha_parameters_shapes_names_and_init():
    tc.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4)
    assert [(n, p.shape) for n, p in mha.named_parameters()] == [
        ("in_proj_weight", (48, 16)), ("in_proj_bias", (48,)), ("out_proj.weight", (16, 16)), ("out_proj.bias", (16,))]
    assert list(mha.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert (mha.embed_dim, mha.num_heads, mha.head_dim, mha.kdim, mha.vdim, mha.dropout, mha.batch_first) == (
        16, 4, 4, 16, 16, 0.0, False)
    assert mha._qkv_same_embed_dim and mha.q_proj_weight is None and mha.bias_k is None and not mha.add_zero_attn
    bound = math.sqrt(6.0 / (16 + 48))  # Xavier-uniform on (3E, E)
    w = mha.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    np.testing.assert_array_equal(mha.in_proj_bias.detach().numpy(), 0.0)
    np.testing.assert_array_equal(mha.out_proj.bias.detach().numpy(), 0.0)
    assert 0 < np.abs(mha.out_proj.weight.detach().numpy()).max() <= 1 / math.sqrt(16)  # Linear's default
    assert isinstance(mha.out_proj, nn.Linear) and type(mha.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert repr(mha) == ("MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=16, "
                         "out_features=16, bias=True)\n)")

    sep = nn.MultiheadAttention(8, 2, bias=False, add_bias_kv=True, kdim=3, vdim=5, dtype="float64")
    assert [(n, p.shape) for n, p in sep.named_parameters()] == [
        ("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 3)), ("v_proj_weight", (8, 5)), ("bias_k", (1, 1, 8)),
        ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8))]
    assert sep.in_proj_weight is None and sep.in_proj_bias is None and sep.out_proj.bias is None
    assert all(p.dtype == np.float64 for p in sep.parameters())
    assert np.abs(sep.k_proj_weight.detach().numpy()).max() <= math.sqrt(6.0 / (3 + 8))


def mha_reference(mha, q, k, v, bias=None):
    """MultiheadAttention (sequence first, batched) written out with numpy, from the module's parameters."""
    e, h = mha.embed_dim, mha.num_heads
    w = mha.in_proj_weight.detach().numpy()
    b = mha.in_proj_bias.detach().numpy()
    pq, pk, pv = q @ w[:e].T + b[:e], k @ w[e:2 * e].T + b[e:2 * e], v @ w[2 * e:].T + b[2 * e:]

    def heads(x):  # (L, N, E) → (N, H, L, d)
        return x.reshape(x.shape[0], x.shape[1], h, e // h).transpose(1, 2, 0, 3)

    out, weights = naive_attention(heads(pq), heads(pk), heads(pv), bias)
    out = out.transpose(2, 0, 1, 3).reshape(q.shape[0], q.shape[1], e)
    return out @ mha.out_proj.weight.detach().numpy().T + mha.out_proj.bias.detach().numpy(), weights


def test_mha_forward_matches_the_definition_with_masks():
    tc.manual_seed(1)
    mha = nn.MultiheadAttention(8, 2, dtype="float64")
    for p in mha.parameters():  # non-zero biases too
        p.data = tc.randn(*p.shape, dtype=tc.float64) * 0.5
    rng = np.random.default_rng(19)
    q, k, v = rng.standard_normal((4, 3, 8)), rng.standard_normal((5, 3, 8)), rng.standard_normal((5, 3, 8))
    out, weights = mha(tc.from_numpy(q), tc.from_numpy(k), tc.from_numpy(v))
    want, want_w = mha_reference(mha, q, k, v)
    np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(weights.detach().numpy(), want_w.mean(1), rtol=1e-12)
    # bool masks: True = may not attend; the key padding mask (N, S) and attn_mask (L, S) add up
    pad_mask = np.zeros((3, 5), bool)
    pad_mask[1, 3:] = True
    attn = np.triu(np.ones((4, 5), bool), 2)
    bias = np.where(attn, -np.inf, 0.0)[None, None] + np.where(pad_mask, -np.inf, 0.0)[:, None, None, :]
    want, want_w = mha_reference(mha, q, k, v, bias)
    for need_weights in (True, False):
        out, weights = mha(tc.from_numpy(q), tc.from_numpy(k), tc.from_numpy(v), key_padding_mask=tc.tensor(pad_mask),
                           attn_mask=tc.tensor(attn), need_weights=need_weights, average_attn_weights=False)
        np.testing.assert_allclose(out.detach().numpy(), want, rtol=1e-12)
        if need_weights:
            np.testing.assert_allclose(weights.detach().numpy(), want_w, rtol=1e-12, atol=1e-15)
        else:
            assert weights is None
    # a float mask is added as it is; a 3-D one is per (batch, head)
    fmask = rng.standard_normal((3 * 2, 4, 5))
    out, _ = mha(tc.from_numpy(q), tc.from_numpy(k), tc.from_numpy(v), attn_mask=tc.from_numpy(fmask))
    np.testing.assert_allclose(out.detach().numpy(), mha_reference(mha, q, k, v, fmask.reshape(3, 2, 4, 5))[0],
                               rtol=1e-12)


def test_mha_batch_first_and_unbatched_equal_the_sequence_first_batch():
    tc.manual_seed(2)
    first = nn.MultiheadAttention(8, 4, kdim=6, vdim=3, dtype="float64")
    bf = nn.MultiheadAttention(8, 4, kdim=6, vdim=3, batch_first=True, dtype="float64")
    bf.load_state_dict(first.state_dict())
    q, k, v = leaf(4, 2, 8, seed=20), leaf(5, 2, 6, seed=21), leaf(5, 2, 3, seed=22)
    mask = tc.tensor(np.array([[False] * 5, [False, False, False, True, True]]))
    out, w = first(q, k, v, key_padding_mask=mask)
    out_bf, w_bf = bf(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), key_padding_mask=mask)
    np.testing.assert_allclose(out_bf.detach().numpy(), out.detach().numpy().transpose(1, 0, 2), rtol=1e-13)
    np.testing.assert_allclose(w_bf.detach().numpy(), w.detach().numpy(), rtol=1e-13)
    for i in range(2):
        o, wi = first(q[:, i], k[:, i], v[:, i], key_padding_mask=mask[i])
        assert o.shape == (4, 8) and wi.shape == (4, 5)
        np.testing.assert_allclose(o.detach().numpy(), out.detach().numpy()[:, i], rtol=1e-12)
        np.testing.assert_allclose(wi.detach().numpy(), w.detach().numpy()[i], rtol=1e-12)
        o, wi = bf(q[:, i], k[:, i], v[:, i], key_padding_mask=mask[i])  # batch_first does not touch unbatched input
        np.testing.assert_allclose(o.detach().numpy(), out.detach().numpy()[:, i], rtol=1e-12)
    o, wi = first(q[:, 0], k[:, 0], v[:, 0], attn_mask=tc.zeros(4, 4, 5, dtype=tc.float64),
                  average_attn_weights=False)  # unbatched 3-D mask: (num_heads, L, S)
    assert wi.shape == (4, 4, 5)


def test_mha_self_attention_extras_and_gradcheck_of_the_functional_form():
    tc.manual_seed(3)
    e, h = 4, 2
    w_in, b_in = leaf(3 * e, e, seed=23, scale=0.5), leaf(3 * e, seed=24, scale=0.5)
    w_out, b_out = leaf(e, e, seed=25, scale=0.5), leaf(e, seed=26, scale=0.5)
    bias_k, bias_v = leaf(1, 1, e, seed=27), leaf(1, 1, e, seed=28)
    x = leaf(3, 2, e, seed=29)
    mask = tc.tensor(np.triu(np.ones((3, 3), bool), 1))

    def f(x, w_in, b_in, w_out, b_out):  # (output, per-head weights): both checked
        return F.multi_head_attention_forward(x, x, x, e, h, w_in, b_in, None, None, False, 0.0, w_out, b_out,
                                              attn_mask=mask, average_attn_weights=False)

    assert tc.gradcheck(f, (x, w_in, b_in, w_out, b_out))

    def g(x, k, v, bias_k, bias_v):
        return F.multi_head_attention_forward(x, k, v, e, h, w_in, b_in, bias_k, bias_v, True, 0.0, w_out, b_out,
                                              need_weights=False)[0]

    assert tc.gradcheck(g, (x, leaf(5, 2, e, seed=30), leaf(5, 2, e, seed=31), bias_k, bias_v))
    # bias_k/bias_v and add_zero_attn add two key positions: the weights are (N, L, S + 2)
    _, weights = F.multi_head_attention_forward(x, x, x, e, h, w_in, b_in, bias_k, bias_v, True, 0.0, w_out, b_out)
    assert weights.shape == (2, 3, 5)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0, rtol=1e-12)


def test_mha_module_gradients_flow_to_every_parameter():
    tc.manual_seed(4)
    mha = nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True, dtype="float64")
    q, k, v = leaf(2, 3, 6, seed=32), leaf(4, 3, 4, seed=33), leaf(4, 3, 5, seed=34)
    out, w = mha(q, k, v, key_padding_mask=tc.tensor(np.eye(3, 4, dtype=bool)))
    (out.sum() + (w ** 2).sum()).backward()
    for name, p in mha.named_parameters():
        assert p.grad is not None and np.abs(p.grad.numpy()).sum() > 0, name
    assert tc.gradcheck(lambda a, b, c: mha(a, b, c, need_weights=False)[0], (q, k, v))


def test_mha_dropout_applies_to_the_weights_in_training_only():
    tc.manual_seed(5)
    mha = nn.MultiheadAttention(8, 2, dropout=0.5, dtype="float64")
    x = leaf(6, 2, 8, seed=35)
    mha.eval()
    out_eval, w_eval = mha(x, x, x, average_attn_weights=False)
    again, _ = mha(x, x, x)
    np.testing.assert_array_equal(out_eval.detach().numpy(), again.detach().numpy())
    mha.train()
    _, w_train = mha(x, x, x, average_attn_weights=False)
    dropped, ref = w_train.detach().numpy(), w_eval.detach().numpy()
    kept = dropped != 0
    assert 0.3 < kept.mean() < 0.7
    np.testing.assert_allclose(dropped[kept], 2.0 * ref[kept], rtol=1e-12)
    out, _ = mha(x, x, x, need_weights=False)  # the SDPA path drops too
    assert not np.allclose(out.detach().numpy(), out_eval.detach().numpy())
    all_dropped = nn.MultiheadAttention(8, 2, dropout=1.0, dtype="float64")
    for p in all_dropped.parameters():
        p.data = tc.randn(*p.shape, dtype=tc.float64)
    out, _ = all_dropped(x, x, x)  # no weights left: the output is out_proj's bias
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(all_dropped.out_proj.bias.detach().numpy(),
                                                                     (6, 2, 8)), rtol=1e-12)


def test_mha_is_causal_is_a_hint_and_masks_fully_masked_rows_as_pytorch():
    tc.manual_seed(6)
    mha = nn.MultiheadAttention(4, 2, dtype="float64")
    x = leaf(3, 2, 4, seed=36)
    causal = tc.tensor(np.triu(np.ones((3, 3), bool), 1))
    want, _ = mha(x, x, x, attn_mask=causal)
    for need_weights in (True, False):
        out, _ = mha(x, x, x, attn_mask=causal, is_causal=True, need_weights=need_weights)
        np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), rtol=1e-12)
    # a batch element whose keys are all padding: NaN with need_weights (softmax of −inf), 0 without (SDPA)
    pad = tc.tensor(np.array([[False, False, False], [True, True, True]]))
    with np.errstate(invalid="ignore"):  # −inf − (−inf) in the softmax of the padded element
        out, w = mha(x, x, x, key_padding_mask=pad)
    assert np.isnan(out.detach().numpy()[:, 1]).all() and np.isnan(w.detach().numpy()[1]).all()
    assert np.isfinite(out.detach().numpy()[:, 0]).all()
    out, _ = mha(x, x, x, key_padding_mask=pad, need_weights=False)
    np.testing.assert_allclose(out.detach().numpy()[:, 1], 0.0, atol=1e-15)  # out_proj.bias is 0 at init


def test_mha_errors():
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim=5 must be divisible by num_heads=2"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                                         r"embed_dim=0 and num_heads=2 instead"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(ValueError, match=r"MultiheadAttention: dropout must be between 0 and 1, got 2"):
        nn.MultiheadAttention(4, 2, dropout=2)
    mha = nn.MultiheadAttention(4, 2)
    x = tc.randn(3, 2, 4)
    with pytest.raises(ValueError, match=r"MultiheadAttention: query should be unbatched 2-D \(L, E\) or batched 3-D "
                                         r"tensor but received 4-D query tensor of shape \(1, 3, 2, 4\)"):
        mha(x.unsqueeze(0), x, x)
    with pytest.raises(ValueError, match=r"MultiheadAttention: for batched \(3-D\) query, expected key and value to "
                                         r"be 3-D but found 2-D and 3-D tensors respectively"):
        mha(x, x[0], x)
    with pytest.raises(ValueError, match=r"MultiheadAttention\(embed_dim=4, num_heads=2, kdim=4, vdim=4, "
                                         r"batch_first=False\): expected key with 4 features in its last dim, got key "
                                         r"of shape \(3, 2, 5\)"):
        mha(x, tc.randn(3, 2, 5), x)
    with pytest.raises(ValueError, match=r"MultiheadAttention: key shape \(3, 2, 4\) does not match value shape "
                                         r"\(5, 2, 4\)"):
        mha(x, x, tc.randn(5, 2, 4))
    with pytest.raises(ValueError, match=r"MultiheadAttention: query has batch size 2 \(dim 1\) but key has 3"):
        mha(x, tc.randn(3, 3, 4), tc.randn(3, 3, 4))
    with pytest.raises(ValueError, match=r"MultiheadAttention: the shape of the 2-D attn_mask is \(3, 4\), but "
                                         r"should be \(3, 3\)"):
        mha(x, x, x, attn_mask=tc.zeros(3, 4))
    with pytest.raises(ValueError, match=r"MultiheadAttention: the shape of the 3-D attn_mask is \(2, 3, 3\), but "
                                         r"should be \(4, 3, 3\)"):
        mha(x, x, x, attn_mask=tc.zeros(2, 3, 3))
    with pytest.raises(ValueError, match=r"MultiheadAttention: expecting key_padding_mask of shape \(2, 3\), but got "
                                         r"\(3, 2\)"):
        mha(x, x, x, key_padding_mask=tc.zeros(3, 2, dtype=tc.bool))
    with pytest.raises(ValueError, match=r"MultiheadAttention: for batched \(3-D\) query, expected key_padding_mask "
                                         r"to be None or 2-D but found 1-D tensor instead"):
        mha(x, x, x, key_padding_mask=tc.zeros(3, dtype=tc.bool))
    with pytest.raises(TypeError, match=r"MultiheadAttention: only bool and floating types of attn_mask are "
                                        r"supported, got int64"):
        mha(x, x, x, attn_mask=tc.zeros(3, 3, dtype=tc.int64))
    with pytest.raises(ValueError, match=r"MultiheadAttention: is_causal=True needs attn_mask as well"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(TypeError, match=r"MultiheadAttention: query has dtype float64 but the projection weights "
                                        r"have float32; convert the input"):
        mha(x.double(), x.double(), x.double())
    with pytest.raises(TypeError, match=r"MultiheadAttention: query must be a Tensor, got ndarray"):
        mha(np.zeros((3, 2, 4)), x, x)
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        mha(x, x, x, key_padding_mask=tc.zeros(2, 3, dtype=tc.bool), attn_mask=tc.zeros(3, 3))
    w = tc.randn(12, 4)
    with pytest.raises(ValueError, match=r"multi_head_attention_forward: use_separate_proj_weight is True but "
                                         r"q_proj_weight is None"):
        F.multi_head_attention_forward(x, x, x, 4, 2, w, None, None, None, False, 0.0, w[:4], None,
                                       use_separate_proj_weight=True)
    with pytest.raises(ValueError, match=r"multi_head_attention_forward: bias_k and bias_v must be given together"):
        F.multi_head_attention_forward(x, x, x, 4, 2, w, None, tc.randn(1, 1, 4), None, False, 0.0, w[:4], None)


def test_mha_vmap_over_unbatched_samples_equals_the_loop():
    tc.manual_seed(7)
    mha = nn.MultiheadAttention(4, 2, dtype="float64")
    xs = tc.from_numpy(np.random.default_rng(37).standard_normal((5, 3, 4)))
    pads = tc.tensor(np.random.default_rng(38).random((5, 3)) < 0.3) & tc.tensor(np.array([False, True, True]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, w = func.vmap(lambda x, p: mha(x, x, x, key_padding_mask=p))(xs, pads)
        out_sdpa = func.vmap(lambda x, p: mha(x, x, x, key_padding_mask=p, need_weights=False)[0])(xs, pads)
    for i in range(5):
        o, wi = mha(xs[i], xs[i], xs[i], key_padding_mask=pads[i])
        np.testing.assert_allclose(out.detach().numpy()[i], o.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.detach().numpy()[i], wi.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(out_sdpa.detach().numpy()[i], o.detach().numpy(), rtol=1e-12)
