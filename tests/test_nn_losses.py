"""Losses: values against the formulas written out in numpy, every reduction, gradcheck, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import float64_leaf as leaf

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")

RNG = np.random.default_rng(0)


def reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"none": loss, "mean": loss.mean(), "sum": loss.sum()}[reduction]


def np_log_softmax(z: np.ndarray, axis: int = 1) -> np.ndarray:
    m = z.max(axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis, keepdims=True))


X = RNG.standard_normal((4, 3))
Y = RNG.standard_normal((4, 3))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_regression_losses_match_their_formulas(reduction):
    d = X - Y
    cases = [
        (F.mse_loss, nn.MSELoss(reduction), d**2, {}),
        (F.l1_loss, nn.L1Loss(reduction), np.abs(d), {}),
        (F.huber_loss, nn.HuberLoss(reduction, delta=0.7),
         np.where(np.abs(d) < 0.7, 0.5 * d**2, 0.7 * (np.abs(d) - 0.35)), {"delta": 0.7}),
    ]
    for fn, module, expected, kw in cases:
        x, y = leaf(X), leaf(Y)
        np.testing.assert_allclose(fn(x, y, reduction=reduction, **kw)._array, reduce(expected, reduction), rtol=1e-12)
        np.testing.assert_allclose(module(x, y)._array, reduce(expected, reduction), rtol=1e-12)
        assert tc.gradcheck(lambda a, b, fn=fn, kw=kw: fn(a, b, reduction=reduction, **kw), (x, y))


def test_regression_losses_gradgradcheck_and_shape_mismatch_message():
    assert tc.gradgradcheck(lambda a, b: F.mse_loss(a, b), (leaf(X), leaf(Y)))
    assert tc.gradgradcheck(lambda a, b: F.huber_loss(a, b, delta=0.5), (leaf(X), leaf(Y)))
    with pytest.raises(ValueError, match=r"mse_loss: target shape \(4, 1\) differs from input shape \(4,\)"):
        F.mse_loss(tc.randn(4), tc.randn(4, 1))
    with pytest.raises(ValueError, match="reduction must be 'none', 'mean' or 'sum', got 'avg'"):
        F.l1_loss(tc.randn(2), tc.randn(2), reduction="avg")
    with pytest.raises(TypeError, match="mse_loss: target must be a Tensor, got list"):
        F.mse_loss(tc.randn(2), [1.0, 2.0])


# ------------------------------------------------------------------------------ cross-entropy
Z = RNG.standard_normal((6, 4)) * 2
T = np.array([0, 3, 1, 1, 2, 3])
W = np.array([0.5, 2.0, 1.0, 1.5])


def np_cross_entropy(z, t, weight=None, ignore_index=-100, reduction="mean", eps=0.0):
    """PyTorch's documented formula, written out per sample."""
    n, c = z.shape
    w = np.ones(c) if weight is None else weight
    logp = np_log_softmax(z)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    nll = -w[tt] * logp[np.arange(n), tt] * keep
    smooth = -(logp * w).sum(1) * keep
    loss = (1 - eps) * nll + eps / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[tt] * keep).sum()


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_matches_the_formula_with_weight_ignore_index_and_smoothing(reduction, weighted, eps):
    weight = W if weighted else None
    t = T.copy()
    t[2] = -1  # ignored
    z = leaf(Z)
    out = F.cross_entropy(z, tc.from_numpy(t), weight=None if weight is None else tc.from_numpy(weight),
                          ignore_index=-1, reduction=reduction, label_smoothing=eps)
    np.testing.assert_allclose(out._array, np_cross_entropy(Z, t, weight, -1, reduction, eps), rtol=1e-12)
    wt = None if weight is None else tc.from_numpy(weight)
    assert tc.gradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(t), wt, -1, reduction, eps), (z,))


def test_cross_entropy_plain_value_module_and_gradgradcheck():
    z = leaf(Z)
    expected = -np_log_softmax(Z)[np.arange(6), T].mean()
    np.testing.assert_allclose(F.cross_entropy(z, tc.from_numpy(T))._array, expected, rtol=1e-12)
    module = nn.CrossEntropyLoss(weight=tc.from_numpy(W), label_smoothing=0.1)
    assert list(module.state_dict()) == ["weight"]
    np.testing.assert_allclose(module(z, tc.from_numpy(T))._array, np_cross_entropy(Z, T, W, eps=0.1), rtol=1e-12)
    assert tc.gradgradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(T[:3]), label_smoothing=0.1), (leaf(Z[:3]),))
    assert tc.gradgradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(T[:3]), reduction="none"), (leaf(Z[:3]),))
    # plain labels (no weight, smoothing or ignored rows) take the path that never builds one-hot q
    assert tc.gradgradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(T[:3])), (leaf(Z[:3]),))
    assert tc.gradgradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(T[:3]), reduction="sum"), (leaf(Z[:3]),))


def test_cross_entropy_plain_labels_backward_twice_with_retain_graph():
    z = leaf(Z)
    loss = F.cross_entropy(z, tc.from_numpy(T), reduction="sum")
    loss.backward(retain_graph=True)
    first = z.grad._array.copy()
    loss.backward()
    p = np.exp(np_log_softmax(Z))
    np.testing.assert_allclose(first, p - np.eye(Z.shape[1])[T], rtol=1e-12)
    np.testing.assert_allclose(z.grad._array, 2 * first, rtol=1e-12)


def test_cross_entropy_backward_is_softmax_minus_onehot_over_n():
    z = leaf(Z)
    F.cross_entropy(z, tc.from_numpy(T)).backward()
    p = np.exp(np_log_softmax(Z))
    np.testing.assert_allclose(z.grad._array, (p - np.eye(4)[T]) / 6, rtol=1e-12)


def test_cross_entropy_spatial_probability_targets_and_huge_logits():
    z = RNG.standard_normal((2, 3, 2, 2))
    t = RNG.integers(0, 3, (2, 2, 2))
    logp = np_log_softmax(z, axis=1)
    expected = -np.take_along_axis(logp, t[:, None], 1)[:, 0]
    out = F.cross_entropy(leaf(z), tc.from_numpy(t), reduction="none")
    assert out.shape == (2, 2, 2)
    np.testing.assert_allclose(out._array, expected, rtol=1e-12)
    probs = np.abs(RNG.standard_normal((4, 3)))
    probs /= probs.sum(1, keepdims=True)
    zz = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(F.cross_entropy(leaf(zz), tc.from_numpy(probs))._array, -(probs * np_log_softmax(zz)).sum(1).mean(), rtol=1e-12)
    assert tc.gradcheck(lambda a: F.cross_entropy(a, tc.from_numpy(probs), label_smoothing=0.3), (leaf(zz),))
    big = tc.tensor([[1e4, -1e4, 0.0]])
    assert F.cross_entropy(big, tc.tensor([0])).item() == 0.0
    np.testing.assert_allclose(F.cross_entropy(big, tc.tensor([1])).item(), 2e4, rtol=1e-6)
    # a single sample without batch dim
    np.testing.assert_allclose(F.cross_entropy(leaf(Z[0]), tc.tensor(T[0]))._array, -np_log_softmax(Z[:1])[0, T[0]], rtol=1e-12)


def test_cross_entropy_bad_targets_are_explained():
    z = tc.randn(3, 4)
    with pytest.raises(IndexError, match=r"cross_entropy: target 4 is out of bounds for 4 classes \(valid: 0 to 3, or ignore_index=-100\)"):
        F.cross_entropy(z, tc.tensor([0, 4, 1]))
    with pytest.raises(IndexError, match="target -2 is out of bounds"):
        F.cross_entropy(z, tc.tensor([0, -2, 1]))
    with pytest.raises(ValueError, match=r"target of shape \(3,\) and dtype float32 does not fit input of shape \(3, 4\); expected class indices \(int64\) of shape \(3,\) or class probabilities"):
        F.cross_entropy(z, tc.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"target of shape \(3, 1\) and dtype int64"):
        F.cross_entropy(z, tc.tensor([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"weight must be a Tensor of shape \(4,\)"):
        F.cross_entropy(z, tc.tensor([0, 1, 2]), weight=tc.ones(3))
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating-point Tensor"):
        F.cross_entropy(tc.tensor([[1, 2]]), tc.tensor([0]))


def test_cross_entropy_all_ignored_mean_is_nan_like_pytorch():
    out = F.cross_entropy(tc.randn(2, 3), tc.tensor([-100, -100]))
    assert np.isnan(out.item())


# ------------------------------------------------------------------------------ nll
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_loss_matches_the_formula(reduction):
    logp = np_log_softmax(Z)
    t = T.copy()
    t[0] = 7  # ignore_index=7
    keep = t != 7
    tt = np.where(keep, t, 0)
    per = -W[tt] * logp[np.arange(6), tt] * keep
    expected = {"none": per, "sum": per.sum(), "mean": per.sum() / (W[tt] * keep).sum()}[reduction]
    x = leaf(logp)
    out = F.nll_loss(x, tc.from_numpy(t), tc.from_numpy(W), ignore_index=7, reduction=reduction)
    np.testing.assert_allclose(out._array, expected, rtol=1e-12)
    assert tc.gradcheck(lambda a: nn.NLLLoss(tc.from_numpy(W), 7, reduction)(a, tc.from_numpy(t)), (x,))
    np.testing.assert_allclose(F.nll_loss(F.log_softmax(leaf(Z), 1), tc.from_numpy(T))._array, F.cross_entropy(leaf(Z), tc.from_numpy(T))._array, rtol=1e-12)


# ------------------------------------------------------------------------------ binary
P = 1 / (1 + np.exp(-RNG.standard_normal((3, 4))))
B = (RNG.random((3, 4)) > 0.5).astype(np.float64)
BW = RNG.random((3, 4)) + 0.5


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_binary_cross_entropy_matches_the_formula(reduction):
    expected = -BW * (B * np.log(P) + (1 - B) * np.log(1 - P))
    x = leaf(P)
    np.testing.assert_allclose(F.binary_cross_entropy(x, tc.from_numpy(B), tc.from_numpy(BW), reduction)._array, reduce(expected, reduction), rtol=1e-12)
    assert tc.gradcheck(lambda a, y: nn.BCELoss(tc.from_numpy(BW), reduction)(a, y), (x, leaf(np.clip(B, 0.2, 0.7))))


def test_binary_cross_entropy_clamps_logs_and_rejects_non_probabilities():
    out = F.binary_cross_entropy(tc.tensor([0.0, 1.0, 1.0]), tc.tensor([1.0, 0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(out._array, [100.0, 100.0, 0.0])
    with pytest.raises(ValueError, match="should be probabilities between 0 and 1 .*got values from -0.5 to 2.0"):
        F.binary_cross_entropy(tc.tensor([-0.5, 2.0]), tc.tensor([0.0, 1.0]))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits_matches_the_formula_with_pos_weight(reduction):
    logits = RNG.standard_normal((3, 4)) * 3
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    sig = 1 / (1 + np.exp(-logits))
    expected = -BW * (pw * B * np.log(sig) + (1 - B) * np.log(1 - sig))
    x = leaf(logits)
    out = F.binary_cross_entropy_with_logits(x, tc.from_numpy(B), tc.from_numpy(BW), reduction, tc.from_numpy(pw))
    np.testing.assert_allclose(out._array, reduce(expected, reduction), rtol=1e-10)
    module = nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=tc.from_numpy(pw))
    assert tc.gradcheck(lambda a, y: module(a, y), (x, leaf(np.clip(B, 0.2, 0.7))))


def test_bce_with_logits_is_stable_for_huge_logits_and_exact_at_zero():
    z = tc.tensor([1e4, -1e4, 1e4, -1e4, 0.0], requires_grad=True)
    y = tc.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    out = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(out._array, [0.0, 0.0, 1e4, 1e4, np.log(2)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(z.grad._array, [0.0, 0.0, 1.0, -1.0, -0.5])  # σ(z) − y
    assert tc.gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, tc.from_numpy(B)), (leaf(RNG.standard_normal((3, 4))),))
