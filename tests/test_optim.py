"""Optimizers vs the reference rules of tinygrad_course.optim._reference (numpy, float64).

The rules are stated once, in ``optim/_reference.py``, line for line like the optimizers'
docstrings (the formulas of the papers and the torch.optim documentation); the wrappers below
only supply PyTorch's default hyper-parameters. Every optimizer and option combination runs 50
steps on a fixed quadratic and on a small MLP (raw Tensors, no nn) from a fixed seed; the
parameters must match the reference to rtol 1e-10.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim
from tinygrad_course.optim import _reference
from tinygrad_course.serialization import load, save

# ----------------------------------------------------------------------------- references
# Each takes the parameter p, the gradient g of the objective and a dict of its own state
# (updated in place), and returns the new p, by the rule in optim/_reference.py.


def _apply(rule, p, g, st, **hyperparameters):
    new_p, new_state = rule(p, g, st, **hyperparameters)
    st.clear()
    st.update(new_state)
    return new_p


def ref_sgd(p, g, st, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    return _apply(
        _reference.sgd,
        p,
        g,
        st,
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        weight_decay=weight_decay,
        nesterov=nesterov,
        maximize=maximize,
    )


def ref_adam(
    p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False, decoupled=False
):
    return _apply(
        _reference.adam,
        p,
        g,
        st,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        decoupled_weight_decay=decoupled,
    )


def ref_adamw(p, g, st, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False):
    return _apply(
        _reference.adamw,
        p,
        g,
        st,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
    )


def ref_rmsprop(
    p, g, st, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, maximize=False
):
    return _apply(
        _reference.rmsprop,
        p,
        g,
        st,
        lr=lr,
        alpha=alpha,
        eps=eps,
        weight_decay=weight_decay,
        momentum=momentum,
        centered=centered,
        maximize=maximize,
    )


def ref_adagrad(
    p, g, st, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, maximize=False
):
    return _apply(
        _reference.adagrad,
        p,
        g,
        st,
        lr=lr,
        lr_decay=lr_decay,
        weight_decay=weight_decay,
        initial_accumulator_value=initial_accumulator_value,
        eps=eps,
        maximize=maximize,
    )


CASES = [
    (optim.SGD, ref_sgd, {"lr": 0.05}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "weight_decay": 0.1}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True, "maximize": True}),
    (optim.SGD, ref_sgd, {"lr": 0.05, "maximize": True}),
    (optim.Adam, ref_adam, {"lr": 0.02}),
    (optim.Adam, ref_adam, {"lr": 0.02, "amsgrad": True}),
    (optim.Adam, ref_adam, {"lr": 0.02, "weight_decay": 0.1}),
    (optim.Adam, ref_adam, {"lr": 0.02, "betas": (0.3, 0.8), "eps": 1e-3}),  # the other lerp branch
    (optim.Adam, ref_adam, {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.02}),
    (optim.AdamW, ref_adamw, {"lr": 0.02, "weight_decay": 0.2, "amsgrad": True}),
    (optim.AdamW, ref_adamw, {"lr": 0.02, "maximize": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "alpha": 0.9, "eps": 1e-4}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "centered": True}),
    (optim.RMSprop, ref_rmsprop, {"lr": 0.01, "momentum": 0.5}),
    (
        optim.RMSprop,
        ref_rmsprop,
        {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True},
    ),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "lr_decay": 0.05}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    (optim.Adagrad, ref_adagrad, {"lr": 0.1, "eps": 1e-3, "maximize": True}),
]
IDS = [f"{cls.__name__}-" + ",".join(f"{k}={v}" for k, v in kw.items()) for cls, _, kw in CASES]

# ----------------------------------------------------------------------------- problems
# A problem: initial arrays, a loss on Tensors (for our optimizers) and its gradient in numpy.

_rng = np.random.default_rng(1234)
_M = _rng.standard_normal((5, 5))
A = _M @ _M.T / 5 + 0.5 * np.eye(5)
C_VEC = _rng.standard_normal(5)
D, E = _rng.uniform(0.5, 2.0, (3, 2)), _rng.standard_normal((3, 2))
QUAD_INIT = [_rng.standard_normal(5), _rng.standard_normal((3, 2))]
X, Y = _rng.standard_normal((16, 3)), _rng.standard_normal((16, 2))
MLP_INIT = [
    _rng.standard_normal((3, 8)) * 0.5,
    _rng.standard_normal(8) * 0.1,
    _rng.standard_normal((8, 2)) * 0.5,
    np.zeros(2),
]


def quad_loss(x, y):
    """C = ½ (x − c)ᵀ A (x − c) + ½ Σ d (y − e)²."""
    z = x - tc.tensor(C_VEC)
    return 0.5 * (z @ tc.tensor(A) @ z) + 0.5 * (tc.tensor(D) * (y - tc.tensor(E)) ** 2).sum()


def quad_grad(x, y):
    return [A @ (x - C_VEC), D * (y - E)]


def mlp_loss(w1, b1, w2, b2):
    """C = 1/(2N) Σ (a W₂ + b₂ − y)², a = tanh(X W₁ + b₁)."""
    out = (tc.tensor(X) @ w1 + b1).tanh() @ w2 + b2
    return ((out - tc.tensor(Y)) ** 2).sum() / (2 * len(X))


def mlp_grad(w1, b1, w2, b2):
    """Backpropagation by the lecture's equations: δ = ∂C/∂z, ∂C/∂W = aᵀδ, ∂C/∂b = Σ δ."""
    a1 = np.tanh(X @ w1 + b1)
    delta2 = (a1 @ w2 + b2 - Y) / len(X)
    delta1 = (delta2 @ w2.T) * (1 - a1**2)
    return [X.T @ delta1, delta1.sum(0), a1.T @ delta2, delta2.sum(0)]


PROBLEMS = {"quadratic": (QUAD_INIT, quad_loss, quad_grad), "mlp": (MLP_INIT, mlp_loss, mlp_grad)}


def run_ours(cls, kwargs, problem, steps, params=None, opt=None):
    init, loss_fn, _ = PROBLEMS[problem]
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated cost: still a descent
    params = params or [tc.tensor(a.copy(), requires_grad=True) for a in init]
    opt = opt or cls(params, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (sign * loss_fn(*params)).backward()
        opt.step()
    return params, opt


def run_reference(ref, kwargs, problem, steps):
    init, _, grad_fn = PROBLEMS[problem]
    sign = -1.0 if kwargs.get("maximize") else 1.0
    params = [a.copy() for a in init]
    states = [{} for _ in params]
    for _ in range(steps):
        grads = [sign * g for g in grad_fn(*params)]
        params = [ref(p, g, st, **kwargs) for p, g, st in zip(params, grads, states)]
    return params


@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
@pytest.mark.parametrize(("cls", "ref", "kwargs"), CASES, ids=IDS)
def test_50_steps_match_reference(cls, ref, kwargs, problem):
    ours, _ = run_ours(cls, kwargs, problem, 50)
    expected = run_reference(ref, kwargs, problem, 50)
    init, loss_fn, _ = PROBLEMS[problem]
    for p, e in zip(ours, expected):
        np.testing.assert_allclose(p._array, e, rtol=1e-10, atol=1e-12)
    assert max(np.abs(p._array - p0).max() for p, p0 in zip(ours, init)) > 1e-2  # it moved
    assert loss_fn(*ours).item() < loss_fn(*[tc.tensor(a) for a in init]).item()  # downhill


def test_param_groups_use_their_own_hyperparameters():
    init = QUAD_INIT
    x, y = (tc.tensor(a.copy(), requires_grad=True) for a in init)
    opt = optim.Adam([{"params": [x]}, {"params": [y], "lr": 0.1, "amsgrad": True}], lr=0.02)
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[0]["amsgrad"] is False
    run_ours(None, {}, "quadratic", 50, params=[x, y], opt=opt)
    px, py = [a.copy() for a in init]
    sx, sy = {}, {}
    for _ in range(50):
        gx, gy = quad_grad(px, py)
        px, py = ref_adam(px, gx, sx, lr=0.02), ref_adam(py, gy, sy, lr=0.1, amsgrad=True)
    np.testing.assert_allclose(x._array, px, rtol=1e-10)
    np.testing.assert_allclose(y._array, py, rtol=1e-10)


def test_momentum_zero_is_gradient_descent():
    ours, opt = run_ours(optim.SGD, {"lr": 0.05, "momentum": 0.0}, "mlp", 50)
    params = [a.copy() for a in MLP_INIT]
    for _ in range(50):
        params = [p - 0.05 * g for p, g in zip(params, mlp_grad(*params))]  # p ← p − η ∇C
    for p, e in zip(ours, params):
        np.testing.assert_allclose(p._array, e, rtol=1e-10, atol=1e-12)
    assert all("momentum_buffer" not in opt.state[p] for p in ours)


def lecture_momentum(lrs, gamma):
    """The lecture's rule: v ← γ v − η ∇C, p ← p + v (v starts at 0)."""
    params = [a.copy() for a in MLP_INIT]
    vs = [np.zeros_like(a) for a in params]
    for lr in lrs:
        grads = mlp_grad(*params)
        vs = [gamma * v - lr * g for v, g in zip(vs, grads)]
        params = [p + v for p, v in zip(params, vs)]
    return params


def test_pytorch_momentum_equals_lecture_momentum_for_constant_lr():
    ours, _ = run_ours(optim.SGD, {"lr": 0.05, "momentum": 0.9}, "mlp", 50)
    for p, e in zip(ours, lecture_momentum([0.05] * 50, 0.9)):
        np.testing.assert_allclose(p._array, e, rtol=1e-10, atol=1e-12)


def test_momentum_forms_differ_once_lr_changes():
    params = [tc.tensor(a.copy(), requires_grad=True) for a in MLP_INIT]
    opt = optim.SGD(params, lr=0.05, momentum=0.9)
    lrs = [0.05] * 10 + [0.01] * 10
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        run_ours(None, {}, "mlp", 1, params=params, opt=opt)
    lecture = lecture_momentum(lrs, 0.9)
    assert not np.allclose(params[0]._array, lecture[0], rtol=1e-6)


def test_params_without_grad_are_skipped_and_get_no_state():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    (a * a).sum().backward()
    opt.step()
    np.testing.assert_array_equal(b._array, [3.0, 4.0])
    assert b not in opt.state and opt.state[a]["step"] == 1
    assert not np.allclose(a._array, [1.0, 2.0])


def test_zero_grad_sets_none_or_fresh_zeros_without_touching_shared_arrays():
    a = tc.tensor([1.0, 2.0], requires_grad=True)
    b = tc.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # the engine may give a and b one gradient array
    grad_a = a.grad
    optim.SGD([a], lr=0.1).zero_grad(set_to_none=False)
    assert a.grad is grad_a
    np.testing.assert_array_equal(a.grad._array, [0.0, 0.0])
    np.testing.assert_array_equal(b.grad._array, [1.0, 1.0])
    optim.SGD([a, b], lr=0.1).zero_grad()
    assert a.grad is None and b.grad is None


def test_step_calls_the_closure_with_grad_enabled_and_returns_its_loss():
    w = tc.tensor([2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with tc.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 4.0 and calls == [4.0]
    np.testing.assert_array_equal(w._array, [1.0])  # 2 − 0.25·4


def test_float32_parameters_stay_float32():
    w = tc.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    for opt in (
        optim.SGD([w], lr=0.1, momentum=0.9),
        optim.Adam([w], amsgrad=True),
        optim.RMSprop([w], centered=True, momentum=0.1),
        optim.Adagrad([w]),
    ):
        for _ in range(2):
            opt.zero_grad()
            (w * w).sum().backward()
            opt.step()
        assert w.dtype == np.float32
        assert all(v.dtype == np.float32 for v in opt.state[w].values() if isinstance(v, tc.Tensor))


def test_state_dict_has_pytorch_layout():
    a, b, c = (tc.tensor(np.ones(n), requires_grad=True) for n in (2, 3, 4))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}], amsgrad=True)
    (a.sum() + c.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert sorted(sd["state"]) == [0, 2]  # b had no gradient: no state yet
    assert sorted(sd["state"][0]) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert sd["state"][2]["step"] == 1 and isinstance(sd["state"][2]["step"], int)
    np.testing.assert_allclose(sd["state"][0]["exp_avg"]._array, [0.1, 0.1])
    opt.step()  # the dict is a snapshot
    np.testing.assert_allclose(sd["state"][0]["exp_avg"]._array, [0.1, 0.1])
    sgd = optim.SGD([a], lr=0.1, momentum=0.9)
    sgd.step()
    assert list(sgd.state_dict()["state"][0]) == ["momentum_buffer"]
    rms = optim.RMSprop([a], centered=True, momentum=0.5)
    rms.step()
    assert sorted(rms.state_dict()["state"][0]) == ["grad_avg", "momentum_buffer", "square_avg", "step"]
    ada = optim.Adagrad([a, b], initial_accumulator_value=0.25)  # PyTorch creates Adagrad's state at once
    assert sorted(ada.state_dict()["state"]) == [0, 1]
    np.testing.assert_array_equal(ada.state_dict()["state"][1]["sum"]._array, [0.25] * 3)


def test_repr_lists_groups_like_pytorch():
    w = tc.tensor([1.0], requires_grad=True)
    text = repr(optim.SGD([w], lr=0.1, momentum=0.9))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    momentum: 0.9\n" in text and text.endswith(")")


# ----------------------------------------------------------------------------- save/load round trip
ROUND_TRIP = [
    (optim.SGD, {"lr": 0.05, "momentum": 0.9, "nesterov": True}, lambda o: optim.lr_scheduler.StepLR(o, 7, gamma=0.5)),
    (optim.Adam, {"lr": 0.02, "amsgrad": True}, lambda o: optim.lr_scheduler.ExponentialLR(o, 0.97)),
    (optim.AdamW, {"lr": 0.02}, lambda o: optim.lr_scheduler.CosineAnnealingLR(o, 15, eta_min=1e-3)),
    (
        optim.RMSprop,
        {"lr": 0.01, "centered": True, "momentum": 0.5},
        lambda o: optim.lr_scheduler.MultiStepLR(o, [5, 25, 25]),
    ),
    (optim.Adagrad, {"lr": 0.1, "lr_decay": 0.01}, lambda o: optim.lr_scheduler.LambdaLR(o, lambda t: 1 / (1 + t))),
    (
        optim.SGD,
        {"lr": 0.05, "momentum": 0.5},
        lambda o: optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=1, threshold=0.3),
    ),
]


def train(params, opt, sched, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = mlp_loss(*params)
        loss.backward()
        opt.step()
        sched.step(loss.item()) if isinstance(sched, optim.lr_scheduler.ReduceLROnPlateau) else sched.step()


@pytest.mark.parametrize(("cls", "kwargs", "make_sched"), ROUND_TRIP, ids=[c.__name__ for c, _, _ in ROUND_TRIP])
def test_save_load_resume_is_bit_identical(cls, kwargs, make_sched, tmp_path):
    straight = [tc.tensor(a.copy(), requires_grad=True) for a in MLP_INIT]
    opt = cls(straight, **kwargs)
    train(straight, opt, make_sched(opt), 40)

    first = [tc.tensor(a.copy(), requires_grad=True) for a in MLP_INIT]
    opt1 = cls(first, **kwargs)
    sched1 = make_sched(opt1)
    train(first, opt1, sched1, 20)
    save({"params": first, "optim": opt1.state_dict(), "sched": sched1.state_dict()}, tmp_path / "ckpt")

    ckpt = load(tmp_path / "ckpt")
    resumed = [tc.tensor(t._array, requires_grad=True) for t in ckpt["params"]]
    opt2 = cls(resumed, **kwargs)
    sched2 = make_sched(opt2)
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    assert all(isinstance(k, int) for k in ckpt["optim"]["state"])
    train(resumed, opt2, sched2, 20)
    for p, q in zip(resumed, straight):
        assert np.array_equal(p._array, q._array)
    assert sched2.get_last_lr() == [g["lr"] for g in opt.param_groups]
    assert opt.param_groups[0]["lr"] != kwargs["lr"]  # the schedule did change the rate


# ----------------------------------------------------------------------------- bad input
def _w():
    return [tc.tensor([1.0, 2.0], requires_grad=True)]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: optim.SGD(_w(), lr=-0.1), r"SGD: lr must be in \[0, inf\), got -0.1"),
        (lambda: optim.SGD(_w(), lr=math.nan), r"SGD: lr must be in \[0, inf\), got nan"),
        (lambda: optim.Adam(_w(), lr=math.nan), r"Adam: lr must be in \[0, inf\), got nan"),
        (lambda: optim.SGD(_w(), momentum=-0.5), r"momentum must be in \[0, inf\), got -0.5"),
        (lambda: optim.SGD(_w(), weight_decay=-1.0), r"weight_decay must be in \[0, inf\)"),
        (
            lambda: optim.SGD(_w(), nesterov=True),
            r"nesterov=True requires momentum > 0 and dampening = 0, got momentum=0.0",
        ),
        (
            lambda: optim.SGD(_w(), momentum=0.9, dampening=0.1, nesterov=True),
            r"requires momentum > 0 and dampening = 0, got momentum=0.9, dampening=0.1",
        ),
        (lambda: optim.Adam(_w(), betas=(1.0, 0.999)), r"Adam: betas\[0\] must be in \[0, 1\), got 1.0"),
        (lambda: optim.Adam(_w(), betas=(0.9, -0.1)), r"betas\[1\] must be in \[0, 1\), got -0.1"),
        (lambda: optim.AdamW(_w(), betas=(0.9, math.nan)), r"AdamW: betas\[1\] must be in \[0, 1\), got nan"),
        (lambda: optim.Adam(_w(), betas=(0.9,)), r"betas must be a pair \(beta1, beta2\)"),
        (lambda: optim.Adam(_w(), eps=-1e-8), r"Adam: eps must be in \[0, inf\), got -1e-08"),
        (lambda: optim.RMSprop(_w(), eps=math.nan), r"RMSprop: eps must be in \[0, inf\), got nan"),
        (lambda: optim.RMSprop(_w(), alpha=1.5), r"RMSprop: alpha must be in \[0, 1\], got 1.5"),
        (lambda: optim.Adagrad(_w(), lr_decay=-1.0), r"Adagrad: lr_decay must be in \[0, inf\)"),
        (
            lambda: optim.Adagrad(_w(), initial_accumulator_value=-1.0),
            r"initial_accumulator_value must be in \[0, inf\)",
        ),
        (lambda: optim.SGD([], lr=0.1), r"SGD: got an empty parameter list"),
        (
            lambda: optim.SGD([{"params": _w()}, {"params": _w(), "lr": -1.0}]),
            r"SGD: param_groups\[1\]: lr must be in \[0, inf\), got -1.0",
        ),
        (lambda: optim.SGD([tc.tensor([1.0], requires_grad=True) * 2]), r"params\[0\] \(shape \(1,\)\) is not a leaf"),
        (lambda: optim.SGD([tc.tensor([1, 2])]), r"params\[0\] has dtype int64; only floating-point tensors"),
        (lambda: optim.SGD([{"lr": 0.1}]), r"the param group has no 'params' entry"),
    ],
)
def test_bad_hyperparameters_raise_value_error_naming_argument_and_range(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_types_raise_type_error():
    w = _w()
    with pytest.raises(TypeError, match=r"SGD: lr must be a real number, got str"):
        optim.SGD(w, lr="0.1")
    with pytest.raises(TypeError, match=r"params should be an iterable of Tensors or dicts, got a single Tensor"):
        optim.SGD(w[0], lr=0.1)
    with pytest.raises(TypeError, match=r"not a set"):
        optim.SGD(set(w), lr=0.1)
    with pytest.raises(TypeError, match=r"amsgrad must be True or False, got int"):
        optim.Adam(w, amsgrad=1)


def test_a_parameter_in_two_groups_or_twice_in_one_is_rejected():
    a, b = tc.tensor([1.0], requires_grad=True), tc.tensor([2.0], requires_grad=True)
    with pytest.raises(
        ValueError,
        match=r"some parameters appear in more than one parameter group: params\[1\] \(shape \(1,\)\) of param_groups\[1\] is already in param_groups\[0\]",
    ):
        optim.SGD([{"params": [a]}, {"params": [b, a]}], lr=0.1)
    opt = optim.SGD([a], lr=0.1)
    with pytest.raises(ValueError, match=r"more than one parameter group"):
        opt.add_param_group({"params": a})
    assert len(opt.param_groups) == 1
    with pytest.raises(ValueError, match=r"params\[0\] and params\[1\] are the same tensor"):
        optim.SGD([b, b], lr=0.1)


def test_gradient_of_the_wrong_shape_is_named():
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    w.grad = tc.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"SGD.step: a parameter of shape \(2,\) has a gradient of shape \(3,\)"):
        optim.SGD([w], lr=0.1).step()


def _stepped(cls, params, **kwargs):
    opt = cls(params, **kwargs)
    for p in params:
        p.grad = tc.ones_like(p)
    opt.step()
    return opt


@pytest.mark.parametrize(
    ("source", "target", "match"),
    [
        (
            optim.SGD,
            optim.Adam,
            r"Adam.load_state_dict: param_groups\[0\] lacks the hyper-parameters \['amsgrad', 'betas', 'decoupled_weight_decay', 'eps'\] of Adam: the state dict was saved from a different optimizer type",
        ),
        (
            optim.Adam,
            optim.SGD,
            r"SGD.load_state_dict: param_groups\[0\] lacks the hyper-parameters \['dampening', 'momentum', 'nesterov'\]",
        ),
        (
            optim.Adam,
            optim.AdamW,
            r"AdamW.load_state_dict: param_groups\[0\] has decoupled_weight_decay=False but this optimizer has decoupled_weight_decay=True",
        ),
        (optim.RMSprop, optim.Adagrad, r"lacks the hyper-parameters \['initial_accumulator_value', 'lr_decay'\]"),
    ],
)
def test_load_state_dict_from_another_optimizer_type_is_rejected(source, target, match):
    w = _w()
    sd = _stepped(source, w).state_dict()
    opt = target(w)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict(sd)


def test_load_state_dict_checks_groups_and_state_and_changes_nothing_on_error():
    a, b, c = (tc.tensor(np.ones(n), requires_grad=True) for n in (2, 3, 4))
    sd = _stepped(optim.Adam, [a, b, c], lr=0.5).state_dict()
    opt = optim.Adam([{"params": [a, b]}, {"params": [c]}], lr=0.1)
    with pytest.raises(
        ValueError,
        match=r"loaded state dict has a different number of parameter groups \(1\) than this optimizer \(2\)",
    ):
        opt.load_state_dict(sd)
    opt = optim.Adam([a, b], lr=0.1)
    with pytest.raises(
        ValueError,
        match=r"loaded param_groups\[0\] has 3 parameters, this optimizer's has 2; the groups must match in size",
    ):
        opt.load_state_dict(sd)
    opt = optim.Adam([a, c, b], lr=0.1)
    with pytest.raises(
        ValueError, match=r"state\[1\]\['exp_avg'\] has shape \(3,\), but the parameter has shape \(4,\)"
    ):
        opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.1 and len(opt.state) == 0  # untouched
    sd["state"][0]["momentum_buffer"] = tc.ones(2)
    with pytest.raises(ValueError, match=r"state\[0\] has an entry 'momentum_buffer'; Adam keeps only"):
        optim.Adam([a, b, c]).load_state_dict(sd)
    with pytest.raises(ValueError, match=r"expected a dict with keys 'state' and 'param_groups'"):
        optim.Adam([a]).load_state_dict({"state": {}})


def test_load_state_dict_restores_hyperparameters_and_copies_state():
    a = tc.tensor(np.ones(2), requires_grad=True)
    sd = _stepped(optim.SGD, [a], lr=0.5, momentum=0.9).state_dict()
    b = tc.tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    opt = optim.SGD([b], lr=0.1, momentum=0.9)
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["lr"] == 0.5 and opt.param_groups[0]["params"][0] is b
    buf = opt.state[b]["momentum_buffer"]
    assert buf.dtype == np.float32 and buf._array is not sd["state"][0]["momentum_buffer"]._array
