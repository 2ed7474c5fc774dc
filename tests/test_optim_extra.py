"""Adadelta, Adamax, NAdam, RAdam, LBFGS: 20-step trajectories equal torch.optim's (float64)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim

torch = pytest.importorskip("torch")

INIT = [np.array([[1.5, -0.5, 0.3], [0.2, 0.8, -1.1]]), np.array([0.4, -0.7])]
A = np.random.default_rng(0).standard_normal((4, 3))


def loss_of(lib, w, b):
    if lib is tc:
        x = tc.tensor(A)
        z = (x @ w.t() + b).tanh()
        return (z * z).sum() + (w * w * w * w).sum() * 0.1 + (b - 1.0).abs().sum()
    x = torch.tensor(A)
    z = torch.tanh(x @ w.t() + b)
    return (z * z).sum() + (w**4).sum() * 0.1 + (b - 1.0).abs().sum()


def trajectories(name, kwargs, steps=20):
    ours = [tc.tensor(a.copy(), requires_grad=True) for a in INIT]
    theirs = [torch.tensor(a.copy(), requires_grad=True) for a in INIT]
    o_opt, t_opt = getattr(optim, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    out = []
    for _ in range(steps):
        for lib, params, opt in ((tc, ours, o_opt), (torch, theirs, t_opt)):
            def closure(lib=lib, params=params, opt=opt):
                opt.zero_grad()
                loss = loss_of(lib, *params)
                loss.backward()
                return loss
            if name == "LBFGS":
                opt.step(closure)
            else:
                closure()
                opt.step()
        out.append(([p.detach().numpy().copy() for p in ours], [p.detach().numpy().copy() for p in theirs]))
    return out


CASES = [
    ("Adadelta", {}), ("Adadelta", {"lr": 0.5, "rho": 0.8, "weight_decay": 0.1, "maximize": False}),
    ("Adamax", {}), ("Adamax", {"lr": 0.05, "betas": (0.8, 0.99), "weight_decay": 0.01}),
    ("NAdam", {"lr": 0.05}), ("NAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("NAdam", {"lr": 0.01, "weight_decay": 0.1, "momentum_decay": 0.01}),
    ("RAdam", {"lr": 0.05}), ("RAdam", {"lr": 0.05, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("RAdam", {"lr": 0.05, "betas": (0.9, 0.9), "weight_decay": 0.1}),
    ("LBFGS", {"lr": 0.5, "max_iter": 5}), ("LBFGS", {"line_search_fn": "strong_wolfe", "max_iter": 4, "history_size": 3}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_trajectory_equals_torch(name, kwargs):
    torch.set_default_dtype(torch.float64)
    try:
        for step, (ours, theirs) in enumerate(trajectories(name, kwargs)):
            for a, b in zip(ours, theirs):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11, err_msg=f"step {step}")
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_foreach_false_and_state_dict_round_trip(name):
    def run(foreach, resume=False):
        w = tc.tensor(INIT[0].copy(), requires_grad=True)
        opt = getattr(optim, name)([w], lr=0.01, foreach=foreach)
        for i in range(6):
            opt.zero_grad()
            (w * w * w).sum().backward()
            opt.step()
            if resume and i == 2:
                sd = opt.state_dict()
                opt = getattr(optim, name)([w], lr=0.01)
                opt.load_state_dict(sd)
        return w.detach().numpy()
    np.testing.assert_array_equal(run(None), run(False))
    np.testing.assert_array_equal(run(None), run(None, resume=True))


def test_lbfgs_rejects_groups_and_minimises_a_quadratic():
    w = tc.tensor([3.0, -2.0], requires_grad=True, dtype=tc.float64)
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = ((w - 1.0) * (w - 1.0) * tc.tensor([1.0, 10.0])).sum()
        loss.backward()
        return loss
    opt.step(closure)
    np.testing.assert_allclose(w.detach().numpy(), [1.0, 1.0], atol=1e-4)
    with pytest.raises(ValueError):
        optim.LBFGS([{"params": [w]}, {"params": [tc.zeros(1, requires_grad=True)]}])
