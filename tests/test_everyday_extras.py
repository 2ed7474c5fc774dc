"""Unit tests (no PyTorch needed) for the everyday extras: new lr schedulers, ParameterList/Dict,
trunc_normal_/orthogonal_/eye_/dirac_, parameters_to_vector/vector_to_parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn, optim
from tinygrad_course.optim import lr_scheduler as S


def _sgd(lr=0.1, momentum=0.9):
    return optim.SGD([tc.zeros(2, requires_grad=True)], lr=lr, momentum=momentum)


def _lrs(sched, n):
    out = [sched.get_last_lr()[0]]
    for _ in range(n):
        sched.step()
        out.append(sched.get_last_lr()[0])
    return out


def test_onecycle_closed_form_and_momentum():
    opt = _sgd()
    s = S.OneCycleLR(opt, max_lr=1.0, total_steps=11, pct_start=0.5, anneal_strategy="linear", final_div_factor=1.0)
    lrs = _lrs(s, 10)
    # linear from 1/25 up to 1 over steps 0..4.5, then down to 1/25 at step 10
    assert lrs[0] == pytest.approx(0.04) and lrs[-1] == pytest.approx(0.04)
    assert max(lrs) == pytest.approx(1.0 - 0.96 * 0.5 / 5.5)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)
    assert opt.param_groups[0]["max_lr"] == 1.0 and opt.param_groups[0]["min_lr"] == pytest.approx(0.04)


def test_onecycle_sets_adam_beta1_and_keeps_beta2():
    opt = optim.Adam([tc.zeros(2, requires_grad=True)], lr=0.1, betas=(0.9, 0.99))
    s = S.OneCycleLR(opt, max_lr=0.1, total_steps=10)
    assert opt.param_groups[0]["betas"] == (0.95, 0.99)
    for _ in range(3):
        s.step()
    b1, b2 = opt.param_groups[0]["betas"]
    assert 0.85 < b1 < 0.95 and b2 == 0.99


def test_onecycle_errors():
    with pytest.raises(ValueError, match="^Tried to step 3 times. The specified number of total steps is 2$"):
        s = S.OneCycleLR(_sgd(), 0.1, total_steps=2)
        s.step()
        s.step()
        s.step()
    with pytest.raises(ValueError, match=r"^You must define either total_steps OR \(epochs AND steps_per_epoch\)$"):
        S.OneCycleLR(_sgd(), 0.1, epochs=3)
    with pytest.raises(ValueError, match="^Expected float between 0 and 1 pct_start, but got 2$"):
        S.OneCycleLR(_sgd(), 0.1, total_steps=3, pct_start=2)
    with pytest.raises(ValueError, match="^max_lr must have the same length as optimizer.param_groups. "):
        S.OneCycleLR(_sgd(), [0.1, 0.2], total_steps=3)
    with pytest.raises(TypeError, match="^list is not an Optimizer$"):
        S.OneCycleLR([], 0.1, total_steps=3)


def test_linear_constant_polynomial_closed_forms():
    assert _lrs(S.LinearLR(_sgd(1.0), 0.5, 1.0, total_iters=4), 6) == pytest.approx(
        [0.5, 0.625, 0.75, 0.875, 1.0, 1.0, 1.0])
    assert _lrs(S.ConstantLR(_sgd(1.0), 0.5, total_iters=2), 4) == pytest.approx([0.5, 0.5, 1.0, 1.0, 1.0])
    assert _lrs(S.PolynomialLR(_sgd(1.0), total_iters=4, power=2.0), 5) == pytest.approx(
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0])


def test_warm_restarts_periods_and_fractional_epochs():
    s = S.CosineAnnealingWarmRestarts(_sgd(1.0), T_0=2, T_mult=2)
    lrs = _lrs(s, 7)
    # periods of 2, 4, 8: restarts (lr = 1) at steps 0, 2, 6
    assert [i for i, v in enumerate(lrs) if v == 1.0] == [0, 2, 6]
    assert lrs[1] == pytest.approx(0.5) and lrs[4] == pytest.approx(0.5)
    s.step(2.5)  # second period (length 4), a quarter of the way... 0.5 / 4 = 1/8
    assert s.T_i == 4 and s.T_cur == pytest.approx(0.5) and s.last_epoch == 2
    assert s.get_last_lr()[0] == pytest.approx((1 + math.cos(math.pi / 8)) / 2)
    with pytest.raises(ValueError, match="^Expected positive integer T_0, but got 1.5$"):
        S.CosineAnnealingWarmRestarts(_sgd(), T_0=1.5)
    with pytest.raises(ValueError, match="^Expected integer T_mult >= 1, but got 0$"):
        S.CosineAnnealingWarmRestarts(_sgd(), T_0=2, T_mult=0)


def test_cyclic_triangular_wave_and_momentum():
    opt = _sgd()
    s = S.CyclicLR(opt, base_lr=0.0, max_lr=1.0, step_size_up=2)
    assert _lrs(s, 8) == pytest.approx([0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0])
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.9)
    s.step()
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.85)
    s2 = S.CyclicLR(_sgd(), 0.0, 1.0, step_size_up=1, mode="triangular2", cycle_momentum=False)
    assert _lrs(s2, 6) == pytest.approx([0, 1, 0, 0.5, 0, 0.25, 0])
    with pytest.raises(ValueError, match="^mode is invalid and scale_fn is None$"):
        S.CyclicLR(_sgd(), 0.0, 1.0, mode="x")


def test_sequential_and_chained():
    opt = _sgd(1.0)
    s = S.SequentialLR(opt, [S.ConstantLR(opt, 0.1, 10), S.ExponentialLR(opt, 0.5)], milestones=[2])
    assert _lrs(s, 4) == pytest.approx([0.1, 0.1, 1.0, 0.5, 0.25])
    state = s.state_dict()
    assert set(state) == {"_milestones", "last_epoch", "_last_lr", "_schedulers"}
    opt2 = _sgd(1.0)
    s2 = S.SequentialLR(opt2, [S.ConstantLR(opt2, 0.1, 10), S.ExponentialLR(opt2, 0.5)], milestones=[2])
    s2.load_state_dict(state)
    opt2.param_groups[0]["lr"] = opt.param_groups[0]["lr"]
    s.step()
    s2.step()
    assert s2.get_last_lr() == s.get_last_lr() == [0.125]
    opt3 = _sgd(1.0)
    c = S.ChainedScheduler([S.ConstantLR(opt3, 0.5, 2), S.ExponentialLR(opt3, 0.5)])
    assert _lrs(c, 3) == pytest.approx([0.5, 0.25, 0.25, 0.125])
    with pytest.raises(ValueError, match="^Sequential Schedulers expects number of schedulers provided to be one more"):
        S.SequentialLR(opt, [S.ConstantLR(opt)], milestones=[1])
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.ChainedScheduler([S.ConstantLR(opt), S.ConstantLR(_sgd())])
    with pytest.raises(ValueError, match="missing keys"):
        c.load_state_dict({"_last_lr": []})


def test_new_schedulers_state_dict_round_trip():
    for make in (
        lambda o: S.OneCycleLR(o, 0.5, total_steps=20, three_phase=True),
        lambda o: S.LinearLR(o, 0.2, total_iters=6),
        lambda o: S.CosineAnnealingWarmRestarts(o, 3, 2),
        lambda o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3),
        lambda o: S.PolynomialLR(o, 9, 2.0),
    ):
        o1, o2 = _sgd(), _sgd()
        a, b = make(o1), make(o2)
        for _ in range(4):
            a.step()
        b.load_state_dict(a.state_dict())
        o2.load_state_dict(o1.state_dict())
        assert _lrs(a, 5) == _lrs(b, 5)
        with pytest.raises(ValueError, match="missing keys"):
            b.load_state_dict({"last_epoch": 1})


def test_parameter_list_basics():
    pl = nn.ParameterList([tc.ones(2), nn.Parameter(tc.zeros(3))])
    pl += [tc.ones(1)]
    pl.append("note")  # non-tensors are kept as plain entries, like torch
    assert len(pl) == 4 and pl[3] == "note" and pl[-1] == "note"
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    assert list(pl.state_dict()) == ["0", "1", "2"]
    assert isinstance(pl[0], nn.Parameter) and pl[0].requires_grad
    assert repr(pl) == (
        "ParameterList(\n"
        "    (0): Parameter containing: [torch.float32 of size 2]\n"
        "    (1): Parameter containing: [torch.float32 of size 3]\n"
        "    (2): Parameter containing: [torch.float32 of size 1]\n"
        "    (3): Object of type: str\n)"
    )
    t = tc.ones(2)
    p = nn.ParameterList([t])[0]
    assert p._array is t._array  # wraps the data, as Parameter(tensor) does
    pl.to(tc.float64)
    assert pl[1].dtype == tc.float64


def test_parameter_dict_basics():
    pd = nn.ParameterDict([("w", tc.ones(2, 2)), ("b", tc.zeros(2))])  # pairs keep their order
    assert list(pd.keys()) == ["w", "b"]
    assert list(pd.state_dict()) == ["w", "b"]
    assert pd.setdefault("c", tc.ones(1)) is pd["c"]
    assert repr(pd) == (
        "ParameterDict(\n"
        "    (w): Parameter containing: [torch.FloatTensor of size 2x2]\n"
        "    (b): Parameter containing: [torch.FloatTensor of size 2]\n"
        "    (c): Parameter containing: [torch.FloatTensor of size 1]\n)"
    )
    cp = pd.copy()
    assert cp["w"] is pd["w"] and list(cp) == list(pd)
    fk = pd.fromkeys(["x", "y"], tc.ones(1))
    assert list(fk.keys()) == ["x", "y"]
    assert list(reversed(pd)) == ["c", "b", "w"]
    with pytest.raises(AttributeError):
        pd["missing"]


def test_trunc_normal_properties():
    tc.manual_seed(0)
    x = nn.init.trunc_normal_(tc.empty(100000, dtype=tc.float64), mean=0.0, std=1.0, a=-1.0, b=1.0).numpy()
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert abs(x.mean()) < 0.01
    # the std of N(0,1) truncated to [-1, 1]
    phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    Z = math.erf(1 / math.sqrt(2))
    assert x.std() == pytest.approx(math.sqrt(1 - 2 * phi1 / Z), rel=0.01)
    w = nn.init.trunc_normal_(tc.empty(3, 4), std=0.02)
    assert w.dtype == tc.float32 and np.abs(w.numpy()).max() <= 0.04


def test_orthogonal_eye_dirac():
    tc.manual_seed(2)
    q = nn.init.orthogonal_(tc.empty(4, 9, dtype=tc.float64)).numpy()
    np.testing.assert_allclose(q @ q.T, np.eye(4), atol=1e-12)
    assert nn.init.orthogonal_(tc.empty(0, 3)).shape == (0, 3)
    np.testing.assert_array_equal(nn.init.eye_(tc.empty(2, 3)).numpy(), [[1, 0, 0], [0, 1, 0]])
    d = nn.init.dirac_(tc.empty(2, 2, 3)).numpy()
    np.testing.assert_array_equal(d, [[[0, 1, 0], [0, 0, 0]], [[0, 0, 0], [0, 1, 0]]])
    # a Dirac-initialised conv is the identity
    conv = nn.Conv1d(2, 2, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)
    x = tc.randn(1, 2, 5)
    np.testing.assert_allclose(conv(x).detach().numpy(), x.numpy(), atol=1e-6)


def test_parameters_to_vector_and_back():
    a, b = nn.Parameter(tc.ones(2, 2)), nn.Parameter(tc.zeros(3))
    v = nn.utils.parameters_to_vector([a, b])
    np.testing.assert_array_equal(v.detach().numpy(), [1, 1, 1, 1, 0, 0, 0])
    assert nn.utils.parameters_to_vector(a).shape == (4,)
    nn.utils.vector_to_parameters(tc.arange(7.0), [a, b])
    np.testing.assert_array_equal(a.detach().numpy(), [[0, 1], [2, 3]])
    np.testing.assert_array_equal(b.detach().numpy(), [4, 5, 6])
    with pytest.raises(TypeError, match="^expected torch.Tensor, but got: tuple$"):
        nn.utils.vector_to_parameters((1, 2), [a])
