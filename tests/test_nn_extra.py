"""Issue 12: the new activations, distances, losses and layers — closed forms and gradcheck (float64)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4)) * 2
Y = RNG.standard_normal((3, 4))


def leaf(a):
    return tc.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def sig(a):
    return 1 / (1 + np.exp(-a))


CLOSED = {
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hardsigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "silu": lambda x: x * sig(x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "tanhshrink": lambda x: x - np.tanh(x),
    "logsigmoid": lambda x: np.log(sig(x)),
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "relu6": lambda x: np.clip(x, 0, 6),
}


@pytest.mark.parametrize("name", sorted(CLOSED))
def test_activation_values_and_gradcheck(name):
    fn = getattr(F, name)
    np.testing.assert_allclose(fn(tc.tensor(X)).numpy(), CLOSED[name](X), rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(fn, (leaf(X + 0.01),))
    assert tc.gradgradcheck(fn, (leaf(X + 0.01),))


def test_modules_wrap_the_functions():
    x = tc.tensor(X)
    pairs = [(nn.Hardswish(), F.hardswish), (nn.Mish(), F.mish), (nn.SiLU(), F.silu), (nn.SELU(), F.selu),
             (nn.ELU(0.5), lambda t: F.elu(t, 0.5)), (nn.CELU(2.0), lambda t: F.celu(t, 2.0)),
             (nn.Hardtanh(-2, 3), lambda t: F.hardtanh(t, -2, 3)), (nn.ReLU6(), F.relu6), (nn.Softsign(), F.softsign),
             (nn.Tanhshrink(), F.tanhshrink), (nn.LogSigmoid(), F.logsigmoid), (nn.Hardsigmoid(), F.hardsigmoid),
             (nn.GLU(), F.glu), (nn.Softmin(1), lambda t: F.softmin(t, 1))]
    for module, fn in pairs:
        np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())


def test_glu_softmin_gumbel():
    a, b = X[:, :2], X[:, 2:]
    np.testing.assert_allclose(F.glu(tc.tensor(X)).numpy(), a * sig(b))
    e = np.exp(-X)
    np.testing.assert_allclose(F.softmin(tc.tensor(X), 1).numpy(), e / e.sum(1, keepdims=True))
    assert tc.gradcheck(lambda t: F.glu(t, 1), (leaf(X),))
    assert tc.gradgradcheck(lambda t: F.glu(t, 1), (leaf(X),))
    assert tc.gradgradcheck(lambda t: F.softmin(t, 1), (leaf(X),))
    tc.manual_seed(0)
    soft = F.gumbel_softmax(tc.tensor(X), tau=0.5)
    np.testing.assert_allclose(soft.numpy().sum(-1), 1.0)
    tc.manual_seed(0)
    again = F.gumbel_softmax(tc.tensor(X), tau=0.5)
    np.testing.assert_array_equal(soft.numpy(), again.numpy())
    tc.manual_seed(0)
    hard = F.gumbel_softmax(tc.tensor(X), tau=0.5, hard=True)
    assert set(np.unique(hard.numpy())) <= {0.0, 1.0}
    np.testing.assert_array_equal(hard.numpy().argmax(-1), soft.numpy().argmax(-1))


def test_one_hot():
    out = F.one_hot(tc.tensor([2, 0, 1]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(3, dtype=np.int64)[[2, 0, 1]])
    assert F.one_hot(tc.tensor([[1]]), 4).shape == (1, 1, 4)
    with pytest.raises(RuntimeError):
        F.one_hot(tc.tensor([3]), 2)


def test_distances():
    n = np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(F.normalize(tc.tensor(X)).numpy(), X / n)
    cos = (X * Y).sum(1) / np.linalg.norm(X, axis=1) / np.linalg.norm(Y, axis=1)
    np.testing.assert_allclose(F.cosine_similarity(tc.tensor(X), tc.tensor(Y)).numpy(), cos)
    np.testing.assert_allclose(F.pairwise_distance(tc.tensor(X), tc.tensor(Y)).numpy(),
                               np.linalg.norm(X - Y + 1e-6, axis=1))
    d = np.linalg.norm(X[:, None] - Y[None, :2], axis=-1)
    np.testing.assert_allclose(F.cdist(tc.tensor(X), tc.tensor(Y[:2])).numpy(), d)
    np.testing.assert_allclose(F.cdist(tc.tensor(X), tc.tensor(Y[:2]), 1).numpy(), np.abs(X[:, None] - Y[None, :2]).sum(-1))
    for fn in (F.normalize, lambda a: F.cosine_similarity(a, leaf(Y)), lambda a: F.cdist(a, leaf(Y[:2]), 3)):
        assert tc.gradcheck(fn, (leaf(X),))
        assert tc.gradgradcheck(fn, (leaf(X),))


P = np.abs(Y) + 0.1


def _cos(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


S = np.sign(RNG.standard_normal(3))
LOSSES = {
    "kl_div": (lambda a: F.kl_div(a, tc.tensor(P), reduction="batchmean"), lambda x: (P * (np.log(P) - x)).sum() / 3),
    "kl_log": (lambda a: F.kl_div(a, tc.tensor(Y), reduction="sum", log_target=True),
               lambda x: (np.exp(Y) * (Y - x)).sum()),
    "poisson": (lambda a: F.poisson_nll_loss(a, tc.tensor(P)), lambda x: (np.exp(x) - P * x).mean()),
    "gaussian": (lambda a: F.gaussian_nll_loss(a, tc.tensor(Y), tc.tensor(P), full=True),
                 lambda x: (0.5 * (np.log(P) + (x - Y) ** 2 / P) + 0.5 * math.log(2 * math.pi)).mean()),
    "ranking": (lambda a: F.margin_ranking_loss(a[:, 0], tc.tensor(Y[:, 0]), tc.tensor(S), 0.3),
                lambda x: np.maximum(0, -S * (x[:, 0] - Y[:, 0]) + 0.3).mean()),
    "hinge": (lambda a: F.hinge_embedding_loss(a, tc.tensor(np.sign(Y))),
              lambda x: np.where(Y > 0, x, np.maximum(0, 1 - x)).mean()),
    "multilabel": (lambda a: F.multilabel_soft_margin_loss(a, tc.tensor((Y > 0) * 1.0)),
                   lambda x: -(((Y > 0) * np.log(sig(x)) + (Y <= 0) * np.log(sig(-x))).mean(1)).mean()),
    "smooth_l1": (lambda a: F.smooth_l1_loss(a, tc.tensor(Y), beta=0.5),
                  lambda x: np.where(np.abs(x - Y) < 0.5, (x - Y) ** 2, np.abs(x - Y) - 0.25).mean()),
    "cosine_emb": (lambda a: F.cosine_embedding_loss(a, tc.tensor(Y), tc.tensor(S)),
                   lambda x: np.where(S > 0, 1 - _cos(x, Y), np.maximum(0, _cos(x, Y))).mean()),
    "triplet": (lambda a: F.triplet_margin_loss(a, tc.tensor(Y), tc.tensor(P)),
                lambda x: np.maximum(np.linalg.norm(x - Y + 1e-6, axis=1) - np.linalg.norm(x - P + 1e-6, axis=1) + 1, 0).mean()),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_values_and_gradcheck(name):
    fn, ref = LOSSES[name]
    np.testing.assert_allclose(fn(tc.tensor(X)).numpy(), ref(X), rtol=1e-10)
    assert tc.gradcheck(fn, (leaf(X),))
    assert tc.gradgradcheck(fn, (leaf(X),))


def test_loss_modules_and_reductions():
    x, y = tc.tensor(X), tc.tensor(Y)
    np.testing.assert_allclose(nn.SmoothL1Loss(reduction="sum")(x, y).numpy(), F.smooth_l1_loss(x, y, reduction="sum").numpy())
    assert nn.KLDivLoss(reduction="none")(x, tc.tensor(P)).shape == (3, 4)
    assert nn.HingeEmbeddingLoss().margin == 1.0
    assert nn.TripletMarginLoss()(x, y, tc.tensor(P)).shape == ()
    assert nn.GaussianNLLLoss()(x, y, tc.tensor(P[:, 0])).shape == ()
    assert nn.PoissonNLLLoss(log_input=False)(tc.tensor(P), y).shape == ()
    assert nn.MarginRankingLoss(0.1)(x[:, 0], y[:, 0], tc.tensor(S)).shape == ()
    assert nn.CosineEmbeddingLoss()(x, y, tc.tensor(S)).shape == ()
    assert nn.MultiLabelSoftMarginLoss()(x, tc.tensor((Y > 0) * 1.0)).shape == ()
    with pytest.raises(ValueError):
        F.kl_div(x, y, reduction="avg")


def test_layers_shapes_and_gradcheck():
    img = RNG.standard_normal((2, 4, 3, 5))
    assert nn.Unflatten(1, (2, 2))(tc.tensor(img)).shape == (2, 2, 2, 3, 5)
    assert nn.Upsample(scale_factor=2)(tc.tensor(img)).shape == (2, 4, 6, 10)
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(tc.tensor(img)).numpy(), img.repeat(2, 2).repeat(2, 3))
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(tc.tensor(img)).numpy(), img.mean((2, 3), keepdims=True))
    g = nn.GroupNorm(2, 4).double()(tc.tensor(img)).detach().numpy().reshape(2, 2, -1)
    np.testing.assert_allclose(g.mean(-1), 0, atol=1e-12)
    np.testing.assert_allclose(g.var(-1), 1, atol=1e-4)
    inst = nn.InstanceNorm2d(4)(tc.tensor(img)).numpy()
    np.testing.assert_allclose(inst.mean((2, 3)), 0, atol=1e-12)
    w = leaf(RNG.standard_normal((4, 3, 2, 2)))
    assert tc.gradcheck(lambda a, w: F.conv_transpose2d(a, w, stride=2, padding=1), (leaf(img), w))
    assert tc.gradcheck(lambda a: F.interpolate(a, size=(4, 7), mode="bilinear", align_corners=False), (leaf(img),))
    assert tc.gradcheck(lambda a: F.group_norm(a, 2), (leaf(img),))
    assert tc.gradgradcheck(lambda a, w: F.conv_transpose2d(a, w, stride=2, padding=1), (leaf(img), w))
    assert tc.gradgradcheck(lambda a: F.interpolate(a, size=(4, 7), mode="bilinear", align_corners=False), (leaf(img),))
    assert tc.gradgradcheck(lambda a: F.group_norm(a, 2), (leaf(img),))
    assert tc.gradgradcheck(lambda a: F.instance_norm(a), (leaf(img),))
    assert nn.ConvTranspose2d(4, 6, 3, stride=2)(tc.tensor(img.astype(np.float32))).shape == (2, 6, 7, 11)
    assert nn.Bilinear(4, 5, 3)(tc.tensor(X.astype(np.float32)), tc.randn(3, 5)).shape == (3, 3)


BOUNDS = np.array([-4.0, -3.0, -1.0, 0.0, 0.5, 1.0, 3.0, 6.0, 7.0])


@pytest.mark.parametrize(
    "fn, expected",
    [
        # The hardtanh family masks its gradient with strict inequalities: 0 exactly at the bounds.
        (F.hardtanh, [0, 0, 0, 1, 1, 0, 0, 0, 0]),
        (F.relu6, [0, 0, 0, 0, 1, 1, 1, 0, 0]),
        (F.hardsigmoid, [0, 0, 1 / 6, 1 / 6, 1 / 6, 1 / 6, 0, 0, 0]),
        # x/3 + 1/2 on the open (−3, 3), then 0 at −3 and 1 at 3.
        (F.hardswish, [0, 0, 1 / 6, 1 / 2, 2 / 3, 5 / 6, 1, 1, 1]),
    ],
)
def test_hard_activation_gradients_at_the_bounds(fn, expected):
    x = leaf(BOUNDS)
    fn(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expected, atol=1e-15)


@pytest.mark.parametrize("name", ["hardtanh", "relu6", "hardsigmoid", "hardswish", "silu", "mish", "elu", "selu", "celu"])
def test_inplace_activation_writes_input_bumps_version_and_backprops(name):
    fn = getattr(F, name)
    a = leaf(X)
    expected = fn(a.detach()).numpy()
    x = a * 1.0
    version = x._version
    out = fn(x, inplace=True)
    assert out is x and x._version == version + 1
    np.testing.assert_allclose(x.detach().numpy(), expected)
    out.sum().backward()
    b = leaf(X)
    fn(b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy())
    with pytest.raises(RuntimeError, match="leaf"):
        fn(leaf(X), inplace=True)
