"""Layers and activations: forward against numpy formulas, gradcheck in float64, bad input."""

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


def double(module: nn.Module) -> nn.Module:
    """The module with float64 parameters and buffers (gradcheck needs float64)."""
    for p in module.parameters():
        p._array = p._array.astype(np.float64)
    for _, b in module.named_buffers():
        if b.dtype == np.float32:
            b._array = b._array.astype(np.float64)
    return module


# ------------------------------------------------------------------------------ Linear
def test_linear_forward_is_x_wT_plus_b_and_init_is_pytorchs():
    tc.manual_seed(0)
    lin = nn.Linear(50, 40)
    bound = 1 / math.sqrt(50)
    assert lin.weight.shape == (40, 50) and lin.bias.shape == (40,) and lin.weight.dtype == np.float32
    assert np.abs(lin.weight._array).max() <= bound and np.abs(lin.weight._array).max() > 0.95 * bound
    assert np.abs(lin.bias._array).max() <= bound
    # U(−b, b) has std b/√3
    assert abs(lin.weight._array.std() - bound / math.sqrt(3)) < 0.05 * bound
    x = tc.randn(7, 50)
    np.testing.assert_allclose(lin(x)._array, x._array @ lin.weight._array.T + lin.bias._array, rtol=1e-5, atol=1e-6)
    tc.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(50, 40).weight._array, lin.weight._array)  # reproducible


def test_linear_gradcheck_2d_3d_and_without_bias_and_gradgradcheck():
    lin = double(nn.Linear(3, 2))
    x = leaf(4, 3)
    assert tc.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))
    assert tc.gradcheck(lambda x, w: F.linear(x, w), (leaf(2, 2, 3, seed=1), lin.weight))
    assert tc.gradgradcheck(lambda x, w, b: F.linear(x, w, b), (leaf(2, 3, seed=2), lin.weight, lin.bias))
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_wrong_feature_count_names_the_layer_and_sizes():
    lin = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"Linear\(in_features=3, out_features=2, bias=True\): expected input with 3 features in its last dim, got input of shape \(4, 5\)"):
        lin(tc.randn(4, 5))
    with pytest.raises(ValueError, match=r"linear: input of shape \(4, 5\) has 5 features .* weight of shape \(2, 3\) expects 3"):
        F.linear(tc.randn(4, 5), lin.weight)
    with pytest.raises(TypeError, match="linear: input has dtype float64 but weight has float32"):
        lin(tc.randn(4, 3, dtype=tc.float64))


# ------------------------------------------------------------------------------ activations
@pytest.mark.parametrize(
    "module, reference",
    [
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Tanh(), np.tanh),
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
        (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
        (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))),
        (nn.Softplus(), lambda x: np.log1p(np.exp(x))),
        (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
        (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
        (nn.Identity(), lambda x: x),
    ],
)
def test_activation_forward_and_gradcheck(module, reference):
    x = leaf(3, 4, seed=5)
    x._array[np.abs(x._array) < 0.1] += 0.3  # keep away from the kinks of relu/leaky_relu
    np.testing.assert_allclose(module(x)._array, reference(x._array), rtol=1e-10, atol=1e-12)
    assert tc.gradcheck(module, (x,))


def test_softmax_and_log_softmax_do_not_overflow_for_huge_logits():
    z = tc.tensor([[1e4, 0.0, -1e4], [1e4, 1e4, 0.0]])
    np.testing.assert_allclose(F.softmax(z, dim=1)._array, [[1, 0, 0], [0.5, 0.5, 0]], atol=1e-7)
    np.testing.assert_allclose(F.log_softmax(z, dim=1)._array, [[0, -1e4, -2e4], [-math.log(2), -math.log(2), -1e4 - math.log(2)]], rtol=1e-6)
    assert np.all(np.isfinite(F.log_softmax(z, dim=-1)._array))
    with pytest.warns(UserWarning, match="implicit dimension"):
        assert F.softmax(z).shape == (2, 3)


def test_softplus_threshold_and_beta_match_pytorch_formula():
    x = tc.tensor([-30.0, 0.0, 5.0, 30.0], dtype=tc.float64)
    np.testing.assert_allclose(F.softplus(x, beta=2.0, threshold=20.0)._array, [np.log1p(np.exp(-60)) / 2, np.log(2) / 2, np.log1p(np.exp(10)) / 2, 30.0])
    assert tc.gradcheck(lambda t: F.softplus(t, beta=2.0), (leaf(5, seed=3),))


# ------------------------------------------------------------------------------ Flatten, Dropout
def test_flatten():
    x = tc.randn(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_dropout_zeroes_a_fraction_p_scales_the_rest_and_is_identity_in_eval():
    tc.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = tc.ones(200, 100)
    y = drop(x)._array
    assert abs((y == 0).mean() - 0.25) < 0.01
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.75], rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert np.all(F.dropout(x, 1.0)._array == 0)
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)


def test_dropout_gradcheck_with_a_fixed_mask():
    x = leaf(4, 5)

    def fn(t: tc.Tensor) -> tc.Tensor:
        tc.manual_seed(7)  # the same mask on every call
        return F.dropout(t, 0.4)

    assert tc.gradcheck(fn, (x,))


# ------------------------------------------------------------------------------ BatchNorm
def test_batchnorm_train_normalises_with_biased_variance_and_updates_running_stats():
    bn = nn.BatchNorm1d(3, momentum=0.2)
    rng = np.random.default_rng(0)
    data = rng.standard_normal((6, 3)).astype(np.float32) * 3 + 1
    out = bn(tc.from_numpy(data))._array
    mean, var = data.mean(0), data.var(0)
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bn.running_mean._array, 0.2 * mean, rtol=1e-5)
    np.testing.assert_allclose(bn.running_var._array, 0.8 + 0.2 * data.var(0, ddof=1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    np.testing.assert_allclose(
        bn(tc.from_numpy(data))._array,
        (data - bn.running_mean._array) / np.sqrt(bn.running_var._array + 1e-5), rtol=1e-5, atol=1e-6,
    )
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_momentum_none_is_a_cumulative_average_and_no_tracking_uses_batch_stats():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [np.random.default_rng(k).standard_normal((5, 2)).astype(np.float32) for k in range(3)]
    for b in batches:
        bn(tc.from_numpy(b))
    np.testing.assert_allclose(bn.running_mean._array, np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    plain = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    assert plain.running_mean is None and list(plain.state_dict()) == []
    b = batches[0]
    np.testing.assert_allclose(plain(tc.from_numpy(b))._array, (b - b.mean(0)) / np.sqrt(b.var(0) + 1e-5), rtol=1e-4, atol=1e-5)


def test_batchnorm2d_per_channel_over_n_h_w():
    bn = nn.BatchNorm2d(2)
    bn.weight._array[...] = [2.0, 3.0]
    bn.bias._array[...] = [0.5, -1.0]
    x = np.random.default_rng(1).standard_normal((3, 2, 4, 5)).astype(np.float32)
    mean = x.mean((0, 2, 3), keepdims=True)
    var = x.var((0, 2, 3), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * np.array([2.0, 3.0]).reshape(1, 2, 1, 1) + np.array([0.5, -1.0]).reshape(1, 2, 1, 1)
    np.testing.assert_allclose(bn(tc.from_numpy(x))._array, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("training", [True, False])
def test_batchnorm_gradcheck_train_and_eval(training):
    bn2 = double(nn.BatchNorm2d(2))
    bn2.running_mean._array[...] = [0.3, -0.2]
    bn2.running_var._array[...] = [1.5, 0.7]
    bn2.train(training)
    bn2.weight._array[...] = [1.5, -0.5]
    x = leaf(3, 2, 2, 2, seed=4)
    assert tc.gradcheck(bn2, (x,))
    assert tc.gradcheck(lambda t, w, b: F.batch_norm(t, tc.tensor([0.3, -0.2], dtype=tc.float64), tc.tensor([1.5, 0.7], dtype=tc.float64),
                                                     w, b, training), (x, bn2.weight, bn2.bias))
    bn1 = double(nn.BatchNorm1d(3)).train(training)
    assert tc.gradcheck(bn1, (leaf(4, 3, seed=6),))


def test_batchnorm_bad_input():
    with pytest.raises(ValueError, match=r"expected input with 3 channels in dim 1, got input of shape \(4, 2\)"):
        nn.BatchNorm1d(3)(tc.randn(4, 2))
    with pytest.raises(ValueError, match="BatchNorm2d: expected 4-D input, got input of shape"):
        nn.BatchNorm2d(3)(tc.randn(4, 3))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        nn.BatchNorm1d(3)(tc.randn(1, 3))


# ------------------------------------------------------------------------------ LayerNorm
def test_layernorm_forward_and_gradcheck():
    ln = nn.LayerNorm((3, 4))
    x = np.random.default_rng(2).standard_normal((2, 3, 4)).astype(np.float32)
    mean = x.mean((1, 2), keepdims=True)
    var = x.var((1, 2), keepdims=True)
    np.testing.assert_allclose(ln(tc.from_numpy(x))._array, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-5)
    ln64 = double(nn.LayerNorm(4))
    ln64.weight._array[...] = [1.0, 2.0, -1.0, 0.5]
    assert tc.gradcheck(lambda t, w, b: F.layer_norm(t, 4, w, b), (leaf(3, 4, seed=8), ln64.weight, ln64.bias))
    assert tc.gradgradcheck(lambda t: F.layer_norm(t, 4), (leaf(2, 4, seed=9),))
    with pytest.raises(ValueError, match=r"does not end with normalized_shape \(3, 4\)"):
        ln(tc.randn(2, 4, 3))


# ------------------------------------------------------------------------------ Embedding
def test_embedding_lookup_accumulates_repeated_indices_and_skips_padding():
    tc.manual_seed(0)
    emb = nn.Embedding(5, 3, padding_idx=0)
    assert np.all(emb.weight._array[0] == 0)
    idx = tc.tensor([[1, 2, 1], [0, 4, 1]])
    out = emb(idx)
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out._array, emb.weight._array[idx._array])
    out.sum().backward()
    np.testing.assert_array_equal(emb.weight.grad._array[:, 0], [0, 3, 1, 0, 1])
    w = leaf(5, 2)
    assert tc.gradcheck(lambda w: F.embedding(tc.tensor([3, 3, 1]), w), (w,))
    assert tc.gradgradcheck(lambda w: F.embedding(tc.tensor([3, 0]), w) ** 2, (w,))


def test_embedding_bad_indices():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"index 7 is out of range for 4 embeddings \(valid: 0 to 3\)"):
        emb(tc.tensor([1, 7]))
    with pytest.raises(TypeError, match="indices must be an integer Tensor"):
        emb(tc.tensor([1.0]))
