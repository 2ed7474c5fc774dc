"""Optional: the same computations in PyTorch give the same numbers (skipped without torch).

PyTorch is never a dependency; when it is installed, these tests check that names and
semantics carry over: op values and gradients, losses with their options, layers, and
optimizer trajectories.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn, optim
from tinygrad_course.nn import functional as F

torch = pytest.importorskip("torch")


def pair(shape, seed, positive=False):
    data = np.random.default_rng(seed).standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return tc.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


OPS = [
    ("chain", lambda x: ((x * 2 - 1).tanh() * x.sigmoid()).exp().sum(), lambda x: ((x * 2 - 1).tanh() * x.sigmoid()).exp().sum()),
    ("gelu", lambda x: F.gelu(x).sum(), lambda x: torch.nn.functional.gelu(x).sum()),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh").sum(), lambda x: torch.nn.functional.gelu(x, approximate="tanh").sum()),
    ("var_std", lambda x: x.var(0).sum() + x.std(1, unbiased=False).sum(), lambda x: x.var(0).sum() + x.std(1, unbiased=False).sum()),
    ("logsumexp", lambda x: x.logsumexp(1).sum(), lambda x: x.logsumexp(1).sum()),
    ("max_dim", lambda x: x.max(1).values.sum() + x.min(0).values.sum(), lambda x: x.max(1).values.sum() + x.min(0).values.sum()),
    ("norm", lambda x: x.norm() + x.norm(1, dim=0).sum(), lambda x: x.norm() + x.norm(1, dim=0).sum()),
    ("softmax", lambda x: (x.softmax(1) * x).sum() + x.log_softmax(0)[0].sum(), lambda x: (x.softmax(1) * x).sum() + x.log_softmax(0)[0].sum()),
    ("index", lambda x: x[[0, 0, 2], 1:].sum() + x[x > 0].sum(), lambda x: x[[0, 0, 2], 1:].sum() + x[x > 0].sum()),
    ("movement", lambda x: x.T.reshape(2, 6).repeat(2, 1).flip(1)[:, :5].sum(1).prod(), lambda x: x.T.reshape(2, 6).repeat(2, 1).flip(1)[:, :5].sum(1).prod()),
    ("split_chunk", lambda x: sum(p.sum() * (k + 1) for k, p in enumerate(x.chunk(2, 1))), lambda x: sum(p.sum() * (k + 1) for k, p in enumerate(x.chunk(2, 1)))),
    ("pad", lambda x: (F.pad(x, (1, 2, 0, 1), mode="reflect") ** 2).sum(), lambda x: (torch.nn.functional.pad(x[None], (1, 2, 0, 1), mode="reflect")[0] ** 2).sum()),
    ("clamp_where", lambda x: tc.where(x > 0, x.clamp(max=0.5), x * x).sum(), lambda x: torch.where(x > 0, x.clamp(max=0.5), x * x).sum()),
]


@pytest.mark.parametrize("name,ours,theirs", OPS, ids=[o[0] for o in OPS])
def test_ops_values_and_gradients(name, ours, theirs) -> None:
    a, b = pair((3, 4), seed=1)
    ya, yb = ours(a), theirs(b)
    ya.backward()
    yb.backward()
    np.testing.assert_allclose(ya._array, yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.grad._array, b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cross_entropy_options() -> None:
    a, b = pair((5, 4), seed=2)
    target = np.array([0, 3, 1, 3, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    for kw in ({}, {"label_smoothing": 0.2}, {"reduction": "sum"}, {"ignore_index": 3}):
        for weight in (None, w):
            ours = F.cross_entropy(a, tc.tensor(target), weight=None if weight is None else tc.tensor(weight), **kw)
            theirs = torch.nn.functional.cross_entropy(b, torch.tensor(target), weight=None if weight is None else torch.tensor(weight), **kw)
            np.testing.assert_allclose(ours._array, theirs.detach().numpy(), rtol=1e-10)
            (ga,) = tc.grad(ours, a)
            (gb,) = torch.autograd.grad(theirs, b)
            np.testing.assert_allclose(ga._array, gb.numpy(), rtol=1e-9, atol=1e-12)


def test_conv_pool_batchnorm_layers() -> None:
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 9))
    tc.manual_seed(0)
    tc.set_default_dtype(tc.float64)  # parameters and buffers in float64, like .double()
    try:
        ours = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2, 1), nn.AvgPool2d(2))
    finally:
        tc.set_default_dtype(tc.float32)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dilation=2), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2, 1), torch.nn.AvgPool2d(2)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v._array) for k, v in ours.state_dict().items()})
    assert all(t.dtype == np.float64 for t in ours.state_dict().values() if t.dtype.kind == "f")
    xa, xb = tc.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ya, yb = ours(xa), theirs(xb)
    np.testing.assert_allclose(ya._array, yb.detach().numpy(), rtol=1e-9, atol=1e-12)
    ya.sum().backward()
    yb.sum().backward()
    np.testing.assert_allclose(xa.grad._array, xb.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[1].running_var._array, theirs[1].running_var.numpy(), rtol=1e-9)


OPTIMIZERS = [
    ("sgd_nesterov", lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("sgd_dampening", lambda p: optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.3, maximize=True), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, dampening=0.3, maximize=True)),
    ("adam_amsgrad", lambda p: optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1), lambda p: torch.optim.Adam(p, lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("adamw", lambda p: optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    ("rmsprop_centered", lambda p: optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9), lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9)),
    ("adagrad", lambda p: optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,ours,theirs", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_trajectories(name, ours, theirs) -> None:
    a, b = pair((4,), seed=4)
    oa, ob = ours([a]), theirs([b])
    sched_a = optim.lr_scheduler.CosineAnnealingLR(oa, T_max=10)
    sched_b = torch.optim.lr_scheduler.CosineAnnealingLR(ob, T_max=10)
    for _ in range(30):
        oa.zero_grad()
        ob.zero_grad()
        ((a - 1.0) ** 4).sum().backward()
        ((b - 1.0) ** 4).sum().backward()
        oa.step()
        ob.step()
        sched_a.step()
        sched_b.step()
    np.testing.assert_allclose(a._array, b.detach().numpy(), rtol=1e-10, atol=1e-12)


LOSSES = [
    ("mse", lambda a, t: F.mse_loss(a, t), lambda a, t: torch.nn.functional.mse_loss(a, t)),
    ("l1_sum", lambda a, t: F.l1_loss(a, t, reduction="sum"), lambda a, t: torch.nn.functional.l1_loss(a, t, reduction="sum")),
    ("huber", lambda a, t: F.huber_loss(a, t, delta=0.5), lambda a, t: torch.nn.functional.huber_loss(a, t, delta=0.5)),
    ("bce_logits", lambda a, t: F.binary_cross_entropy_with_logits(a * 20, t.sigmoid(), pos_weight=tc.tensor([2.0, 1.0, 0.5, 1.0], dtype=tc.float64)),
     lambda a, t: torch.nn.functional.binary_cross_entropy_with_logits(a * 20, t.sigmoid(), pos_weight=torch.tensor([2.0, 1.0, 0.5, 1.0], dtype=torch.float64))),
    ("bce", lambda a, t: F.binary_cross_entropy(a.sigmoid(), t.sigmoid()), lambda a, t: torch.nn.functional.binary_cross_entropy(a.sigmoid(), t.sigmoid())),
    ("nll", lambda a, t: F.nll_loss(a.log_softmax(1), tc.tensor([0, 3, 1])), lambda a, t: torch.nn.functional.nll_loss(a.log_softmax(1), torch.tensor([0, 3, 1]))),
    ("layer_norm", lambda a, t: (F.layer_norm(a, (4,)) * t).sum(), lambda a, t: (torch.nn.functional.layer_norm(a, (4,)) * t).sum()),
]


@pytest.mark.parametrize("name,ours,theirs", LOSSES, ids=[o[0] for o in LOSSES])
def test_losses_values_and_gradients(name, ours, theirs) -> None:
    a, b = pair((3, 4), seed=5)
    t = np.random.default_rng(6).standard_normal((3, 4))
    ya, yb = ours(a, tc.tensor(t)), theirs(b, torch.tensor(t))
    np.testing.assert_allclose(ya._array, yb.detach().numpy(), rtol=1e-10, atol=1e-12)
    ya.backward()
    yb.backward()
    np.testing.assert_allclose(a.grad._array, b.grad.numpy(), rtol=1e-9, atol=1e-12)


def _rebased(lib, x):
    """The same in-place program for both libraries (only the module differs)."""
    y = x * 2
    y += 1
    y[0] = 0.0
    y.mul_(x)
    y.masked_fill_(y > 8, 3.0)
    z = y.clamp_(-1.0, 5.0) * x
    w = lib.zeros(4, dtype=x.dtype)
    w[1:3] = z[1:3] * 2
    w.add_(x, alpha=0.5)
    return (w * w).sum()


def test_in_place_programs_give_pytorchs_values_and_gradients() -> None:
    a, b = pair((4,), seed=3, positive=True)
    ya, yb = _rebased(tc, a), _rebased(torch, b)
    ya.backward()
    yb.backward()
    np.testing.assert_allclose(ya.item(), yb.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("write", ["setitem", "zero_", "fill_", "copy_", "view", "add_"])
def test_version_errors_where_pytorch_raises_them(write) -> None:
    for lib, x in zip((tc, torch), pair((2,), seed=4)):
        y = x * 2
        z = (y * y).sum()
        with lib.no_grad():
            if write == "setitem":
                y[0] = 100.0
            elif write == "zero_":
                y.zero_()
            elif write == "fill_":
                y.fill_(3.0)
            elif write == "copy_":
                y.copy_(lib.ones(2, dtype=y.dtype))
            elif write == "view":
                y[0:1].add_(5.0)
            else:
                y.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()


def test_leaf_rule_and_manual_updates_like_pytorch() -> None:
    for lib, w in zip((tc, torch), pair((3,), seed=5)):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
            w.add_(1.0)
        (w * w).sum().backward()
        with lib.no_grad():
            w -= 0.5 * w.grad
        assert w.requires_grad and w.is_leaf and w._version == 1
    a, b = pair((3,), seed=5)
    for t in (a, b):
        (t * t).sum().backward()
        with (tc if t is a else torch).no_grad():
            t -= 0.5 * t.grad
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-15)
