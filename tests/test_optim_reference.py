"""foreach=False (the plain rules of optim/_reference.py) vs the default in-place path, and the rules themselves.

For every optimizer and option combination of tests/test_optim.py, 50 steps with
``foreach=False`` must give the default path's parameters and state (float64, rtol 1e-10), with
the same state names in the same order, so that a run may switch between the two at any step.
The rules are also checked against first steps worked out by hand, and a rule broken by one part
in a million must fail the comparison.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_optim import CASES, IDS, MLP_INIT, PROBLEMS, run_ours, run_reference

import tinygrad_course as tc
from tinygrad_course import optim
from tinygrad_course.optim import _reference
from tinygrad_course.serialization import load, save

OPTIMIZERS = [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad]


def assert_same_state(opt_a, params_a, opt_b, params_b, rtol=1e-10):
    """Both optimizers hold the same state entries, in the same order, of the same kinds and values."""
    for p, q in zip(params_a, params_b):
        sa, sb = opt_a.state.get(p, {}), opt_b.state.get(q, {})
        assert list(sa) == list(sb)
        for key in sa:
            a, b = sa[key], sb[key]
            assert type(a) is type(b)
            if isinstance(a, tc.Tensor):
                assert a.dtype == b.dtype == p.dtype and a.shape == p.shape
                np.testing.assert_allclose(a._array, b._array, rtol=rtol, atol=1e-12)
            else:
                assert a == b


def assert_same_run(cls, kwargs, problem, other_kwargs, steps=50):
    """`steps` steps with kwargs | other_kwargs give the default path's parameters and state."""
    ours, opt = run_ours(cls, {**kwargs, **other_kwargs}, problem, steps)
    fast, fast_opt = run_ours(cls, kwargs, problem, steps)
    for p, q in zip(ours, fast):
        np.testing.assert_allclose(p._array, q._array, rtol=1e-10, atol=1e-12)
    assert_same_state(opt, ours, fast_opt, fast)
    return ours


# ----------------------------------------------------------------------------- the two paths agree
@pytest.mark.parametrize("problem", ["quadratic", "mlp"])
@pytest.mark.parametrize(("cls", "ref", "kwargs"), CASES, ids=IDS)
def test_foreach_false_matches_the_default_path_and_the_reference(cls, ref, kwargs, problem):
    ours = assert_same_run(cls, kwargs, problem, {"foreach": False})
    init = PROBLEMS[problem][0]
    for p, e in zip(ours, run_reference(ref, kwargs, problem, 50)):
        np.testing.assert_allclose(p._array, e, rtol=1e-10, atol=1e-12)
    assert max(np.abs(p._array - p0).max() for p, p0 in zip(ours, init)) > 1e-2  # it moved


@pytest.mark.parametrize(("cls", "ref", "kwargs"), CASES, ids=IDS)
def test_switching_between_the_paths_mid_training(cls, ref, kwargs):
    params = [tc.tensor(a.copy(), requires_grad=True) for a in MLP_INIT]
    opt = cls(params, **kwargs)
    schedule = [None] * 10 + [False] * 15 + [True] * 5 + [False, None] * 10
    for foreach in schedule:
        opt.param_groups[0]["foreach"] = foreach
        run_ours(None, kwargs, "mlp", 1, params=params, opt=opt)
    fast, fast_opt = run_ours(cls, kwargs, "mlp", len(schedule))
    for p, q in zip(params, fast):
        np.testing.assert_allclose(p._array, q._array, rtol=1e-10, atol=1e-12)
    assert_same_state(opt, params, fast_opt, fast)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_foreach_true_is_the_default_path_bit_for_bit(cls):
    kwargs = {"lr": 0.01}
    a, _ = run_ours(cls, {**kwargs, "foreach": True}, "mlp", 20)
    b, _ = run_ours(cls, kwargs, "mlp", 20)
    assert all(np.array_equal(p._array, q._array) for p, q in zip(a, b))


def test_param_groups_choose_their_path():
    x, y = (tc.tensor(a.copy(), requires_grad=True) for a in PROBLEMS["quadratic"][0])
    opt = optim.Adam([{"params": [x], "foreach": False}, {"params": [y]}], lr=0.02, amsgrad=True)
    assert [g["foreach"] for g in opt.param_groups] == [False, None] and opt.defaults["foreach"] is None
    run_ours(None, {}, "quadratic", 50, params=[x, y], opt=opt)
    fast, _ = run_ours(optim.Adam, {"lr": 0.02, "amsgrad": True}, "quadratic", 50)
    for p, q in zip([x, y], fast):
        np.testing.assert_allclose(p._array, q._array, rtol=1e-10)


def test_float32_parameters_and_state_stay_float32():
    for cls, kwargs in [
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (optim.Adam, {"amsgrad": True}),
        (optim.AdamW, {}),
        (optim.RMSprop, {"centered": True, "momentum": 0.1}),
        (optim.Adagrad, {}),
    ]:
        ws = [tc.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True) for _ in range(2)]
        opts = [cls([ws[0]], **kwargs, foreach=False), cls([ws[1]], **kwargs)]
        for _ in range(3):
            for w, opt in zip(ws, opts):
                opt.zero_grad()
                (w * w).sum().backward()
                opt.step()
        assert ws[0].dtype == np.float32
        np.testing.assert_allclose(ws[0]._array, ws[1]._array, rtol=1e-6)
        assert_same_state(opts[0], ws[:1], opts[1], ws[1:], rtol=1e-6)


def test_momentum_free_sgd_keeps_no_state_on_either_path():
    ours, opt = run_ours(optim.SGD, {"lr": 0.05, "foreach": False}, "mlp", 3)
    assert all(p not in opt.state for p in ours) and opt.state_dict()["state"] == {}


# ----------------------------------------------------------------------------- foreach as a hyper-parameter
@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_foreach_is_stored_like_pytorch_and_survives_save_and_load(cls, tmp_path):
    assert cls([tc.tensor([1.0], requires_grad=True)]).defaults["foreach"] is None
    params = [tc.tensor(a.copy(), requires_grad=True) for a in MLP_INIT]
    opt = cls(params, lr=0.01, foreach=False)
    assert opt.defaults["foreach"] is False and opt.param_groups[0]["foreach"] is False
    run_ours(None, {}, "mlp", 10, params=params, opt=opt)
    save({"params": params, "optim": opt.state_dict()}, tmp_path / "ckpt")
    ckpt = load(tmp_path / "ckpt")
    assert ckpt["optim"]["param_groups"][0]["foreach"] is False
    resumed = [tc.tensor(t._array, requires_grad=True) for t in ckpt["params"]]
    opt2 = cls(resumed, lr=0.01)  # the saved groups' values win, foreach included (as in PyTorch)
    opt2.load_state_dict(ckpt["optim"])
    assert opt2.param_groups[0]["foreach"] is False
    run_ours(None, {}, "mlp", 10, params=resumed, opt=opt2)
    run_ours(None, {}, "mlp", 10, params=params, opt=opt)
    assert all(np.array_equal(p._array, q._array) for p, q in zip(resumed, params))


def test_a_state_dict_saved_without_foreach_loads_with_foreach_none():
    w = [tc.tensor([1.0, 2.0], requires_grad=True)]
    opt = optim.RMSprop(w, momentum=0.5, foreach=False)
    (w[0] * w[0]).sum().backward()
    opt.step()
    sd = opt.state_dict()
    del sd["param_groups"][0]["foreach"]
    other = optim.RMSprop(w, momentum=0.5, foreach=False)
    other.load_state_dict(sd)
    assert other.param_groups[0]["foreach"] is None and other.state[w[0]]["step"] == 1


def test_bad_foreach_is_a_type_error_naming_it():
    w = [tc.tensor([1.0], requires_grad=True)]
    with pytest.raises(TypeError, match=r"^Adam: foreach must be True, False or None, got str \('no'\)$"):
        optim.Adam(w, foreach="no")
    with pytest.raises(TypeError, match=r"SGD: param_groups\[1\]: foreach must be True, False or None, got int"):
        optim.SGD([{"params": w}, {"params": [tc.tensor([2.0], requires_grad=True)], "foreach": 0}])
    sd = optim.SGD(w).state_dict()
    sd["param_groups"][0]["foreach"] = "yes"
    with pytest.raises(TypeError, match=r"SGD.load_state_dict: param_groups\[0\]: foreach must be"):
        optim.SGD(w).load_state_dict(sd)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_the_hyperparameter_table_covers_every_default(cls):
    names = [h.name for h in cls.hyperparameters]
    opt = cls([tc.tensor([1.0], requires_grad=True)])
    assert sorted(names) == sorted(key for key in opt.defaults if key != "foreach")
    assert len(set(names)) == len(names)


def test_the_table_checks_ranges_flags_and_pairs():
    w = [tc.tensor([1.0], requires_grad=True)]
    with pytest.raises(ValueError, match=r"^SGD: dampening must be in \[0, 1\], got 1.5$"):
        optim.SGD(w, dampening=1.5)
    optim.SGD(w, dampening=1.0)  # inclusive
    with pytest.raises(
        ValueError, match=r"^Adam: betas must be a pair \(beta1, beta2\) with each in \[0, 1\), got 0.9$"
    ):
        optim.Adam(w, betas=0.9)
    with pytest.raises(TypeError, match=r"^RMSprop: centered must be True or False, got str \('yes'\)$"):
        optim.RMSprop(w, centered="yes")
    with pytest.raises(ValueError, match=r"^Adagrad: eps must be in \[0, inf\), got -1.0$"):
        optim.Adagrad(w, eps=-1.0)
    with pytest.raises(TypeError, match=r"^AdamW: betas\[0\] must be a real number, got str"):
        optim.AdamW(w, betas=("a", 0.9))


# ----------------------------------------------------------------------------- the rules by hand
P = np.array([1.0, -2.0])
G1, G2 = np.array([0.5, -1.0]), np.array([1.0, 0.01])


def two_steps(rule, **hyper):
    p1, s1 = rule(P, G1, {}, **hyper)
    p2, s2 = rule(p1, G2, s1, **hyper)
    return p1, s1, p2, s2


SGD_KW = {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0, "nesterov": False, "maximize": False}


def test_sgd_by_hand():
    p1, s1, p2, _ = two_steps(_reference.sgd, **SGD_KW)
    np.testing.assert_allclose(p1, P - 0.1 * G1, rtol=1e-15)
    assert s1 == {}
    _, s1, p2, s2 = two_steps(_reference.sgd, **{**SGD_KW, "momentum": 0.9, "dampening": 0.5})
    np.testing.assert_allclose(s1["momentum_buffer"], G1)  # b ← g on the first step
    b2 = 0.9 * G1 + 0.5 * G2
    np.testing.assert_allclose(s2["momentum_buffer"], b2, rtol=1e-15)
    np.testing.assert_allclose(p2, P - 0.1 * G1 - 0.1 * b2, rtol=1e-15)
    _, _, p2, _ = two_steps(_reference.sgd, **{**SGD_KW, "momentum": 0.9, "nesterov": True})
    b2 = 0.9 * G1 + G2
    np.testing.assert_allclose(p2, P - 0.1 * (G1 + 0.9 * G1) - 0.1 * (G2 + 0.9 * b2), rtol=1e-15)
    p1, _, _, _ = two_steps(_reference.sgd, **{**SGD_KW, "weight_decay": 0.5, "maximize": True})
    np.testing.assert_allclose(p1, P - 0.1 * (-G1 + 0.5 * P), rtol=1e-15)


ADAM_KW = {"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False, "maximize": False}


def test_adam_by_hand():
    # First step: m̂ = g and ŝ = g², so p moves by η g / (|g| + ε) ≈ η sign(g).
    p1, s1, p2, s2 = two_steps(_reference.adam, **ADAM_KW, decoupled_weight_decay=False)
    np.testing.assert_allclose(p1, P - 0.1 * G1 / (np.abs(G1) + 1e-8), rtol=1e-14)
    assert s1["step"] == 1 and s2["step"] == 2 and "max_exp_avg_sq" not in s2
    m2 = 0.9 * 0.1 * G1 + 0.1 * G2
    v2 = 0.999 * 0.001 * G1**2 + 0.001 * G2**2
    np.testing.assert_allclose(s2["exp_avg"], m2, rtol=1e-14)
    np.testing.assert_allclose(s2["exp_avg_sq"], v2, rtol=1e-14)
    np.testing.assert_allclose(p2, p1 - 0.1 * (m2 / 0.19) / (np.sqrt(v2 / (1 - 0.999**2)) + 1e-8), rtol=1e-14)
    # AMSGrad keeps the largest s so far: the second coordinate's |g| drops from 1 to 0.01, so its
    # s falls below the first step's and ŝ stays there; the first coordinate's s grows.
    _, _, _, s2 = two_steps(_reference.adam, **{**ADAM_KW, "amsgrad": True}, decoupled_weight_decay=False)
    np.testing.assert_allclose(s2["max_exp_avg_sq"], [v2[0], 0.001 * G1[1] ** 2], rtol=1e-14)
    assert s2["max_exp_avg_sq"][1] > s2["exp_avg_sq"][1]
    # AdamW: p (1 − η λ) first, then the unchanged step.
    p1, _, _, _ = two_steps(_reference.adamw, **{**ADAM_KW, "weight_decay": 0.5})
    np.testing.assert_allclose(p1, P * (1 - 0.05) - 0.1 * G1 / (np.abs(G1) + 1e-8), rtol=1e-14)
    # Adam's coupled weight decay enters g: g = G1 + λP.
    p1, _, _, _ = two_steps(_reference.adam, **{**ADAM_KW, "weight_decay": 0.5}, decoupled_weight_decay=False)
    g = G1 + 0.5 * P
    np.testing.assert_allclose(p1, P - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)


RMS_KW = {"lr": 0.1, "alpha": 0.9, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False}


def test_rmsprop_by_hand():
    p1, s1, _, _ = two_steps(_reference.rmsprop, **RMS_KW, maximize=False)
    np.testing.assert_allclose(p1, P - 0.1 * G1 / (math.sqrt(0.1) * np.abs(G1) + 1e-8), rtol=1e-14)
    assert list(s1) == ["step", "square_avg"] and s1["step"] == 1
    p1, s1, _, _ = two_steps(_reference.rmsprop, **{**RMS_KW, "centered": True, "momentum": 0.5}, maximize=True)
    s, gbar = 0.1 * G1**2, -0.1 * G1
    r = np.sqrt(s - gbar**2) + 1e-8  # √(0.09 g²) = 0.3 |g|
    np.testing.assert_allclose(s1["grad_avg"], gbar, rtol=1e-15)
    np.testing.assert_allclose(r, 0.3 * np.abs(G1), rtol=1e-6)
    np.testing.assert_allclose(s1["momentum_buffer"], -G1 / r, rtol=1e-14)
    np.testing.assert_allclose(p1, P + 0.1 * G1 / r, rtol=1e-14)


def test_adagrad_by_hand():
    kw = {"lr": 0.1, "lr_decay": 0.5, "weight_decay": 0.0, "initial_accumulator_value": 0.25, "eps": 1e-10}
    p1, s1, p2, s2 = two_steps(_reference.adagrad, **kw, maximize=False)
    np.testing.assert_allclose(s1["sum"], 0.25 + G1**2, rtol=1e-15)
    np.testing.assert_allclose(p1, P - 0.1 * G1 / (np.sqrt(0.25 + G1**2) + 1e-10), rtol=1e-15)
    np.testing.assert_allclose(s2["sum"], 0.25 + G1**2 + G2**2, rtol=1e-15)
    # η₂ = η / (1 + δ) = 0.1 / 1.5
    np.testing.assert_allclose(p2, p1 - (0.1 / 1.5) * G2 / (np.sqrt(s2["sum"]) + 1e-10), rtol=1e-14)
    assert s2["step"] == 2


RULES = [
    (_reference.sgd, {**SGD_KW, "momentum": 0.9, "weight_decay": 0.1}),
    (_reference.adam, {**ADAM_KW, "amsgrad": True, "weight_decay": 0.1, "decoupled_weight_decay": False}),
    (_reference.adamw, {**ADAM_KW, "amsgrad": True}),
    (_reference.rmsprop, {**RMS_KW, "centered": True, "momentum": 0.5, "maximize": True}),
    (
        _reference.adagrad,
        {
            "lr": 0.1,
            "lr_decay": 0.1,
            "weight_decay": 0.1,
            "initial_accumulator_value": 0.1,
            "eps": 1e-10,
            "maximize": True,
        },
    ),
]


@pytest.mark.parametrize(("rule", "hyper"), RULES, ids=[r.__name__ for r, _ in RULES])
def test_rules_are_pure(rule, hyper):
    _, state = rule(P, G1, {}, **hyper)
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in state.items()}
    p, g = P.copy(), G2.copy()
    new_p, new_state = rule(p, g, state, **hyper)
    assert np.array_equal(p, P) and np.array_equal(g, G2)
    assert list(state) == list(before)
    for key, value in before.items():
        assert np.array_equal(state[key], value)
    for value in [new_p, *new_state.values()]:
        if isinstance(value, np.ndarray):
            assert not any(np.shares_memory(value, x) for x in [p, g, *state.values()] if isinstance(x, np.ndarray))


# ----------------------------------------------------------------------------- a broken rule is caught
BROKEN = [
    (optim.SGD, "sgd", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
    (optim.Adam, "adam", {"lr": 0.02, "amsgrad": True}),
    (optim.RMSprop, "rmsprop", {"lr": 0.01, "centered": True}),
    (optim.Adagrad, "adagrad", {"lr": 0.1, "lr_decay": 0.05}),
]


@pytest.mark.parametrize(("cls", "name", "kwargs"), BROKEN, ids=[n for _, n, _ in BROKEN])
def test_a_rule_off_by_one_part_in_a_million_fails_the_comparison(cls, name, kwargs, monkeypatch):
    rule = getattr(_reference, name)

    def broken(p, g, state, **hyper):
        new_p, new_state = rule(p, g, state, **hyper)
        return new_p + 1e-6 * (new_p - p), new_state  # a step 1.000001 times too long

    monkeypatch.setattr(_reference, name, broken)
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        assert_same_run(cls, kwargs, "mlp", {"foreach": False})


def test_a_rule_that_drops_a_term_fails_the_comparison(monkeypatch):
    rule = _reference.adam

    def no_bias_correction(p, g, state, **hyper):
        new_p, new_state = rule(p, g, state, **hyper)
        t, (beta1, _) = new_state["step"], hyper["betas"]
        return p + (new_p - p) * (1 - beta1**t), new_state

    monkeypatch.setattr(_reference, "adam", no_bias_correction)
    with pytest.raises(AssertionError, match="Not equal to tolerance"):
        assert_same_run(optim.Adam, {"lr": 0.02}, "quadratic", {"foreach": False})


def test_a_rule_that_renames_state_is_refused(monkeypatch):
    rule = _reference.sgd

    def renamed(p, g, state, **hyper):
        new_p, new_state = rule(p, g, state, **hyper)
        return new_p, {"buf" if k == "momentum_buffer" else k: v for k, v in new_state.items()}

    monkeypatch.setattr(_reference, "sgd", renamed)
    w = tc.tensor([1.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9, foreach=False)
    w.grad = tc.tensor([1.0])
    with pytest.raises(AssertionError, match=r"SGD: the reference rule made state entries \['buf'\]"):
        opt.step()
    np.testing.assert_array_equal(w._array, [1.0])  # refused before anything was written


def test_a_subclass_that_knows_nothing_of_foreach_still_works():
    class SignDescent(optim.Optimizer):
        """p ← p − η sign(g)."""

        def __init__(self, params, lr=0.1):
            super().__init__(params, {"lr": lr})

        def _update_group(self, group):
            for p in group["params"]:
                p._array -= group["lr"] * np.sign(p.grad._array)

    w = tc.tensor([1.0, -2.0], requires_grad=True)
    opt = SignDescent([w])
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w._array, [0.9, -1.9])
    opt.load_state_dict(opt.state_dict())
    assert "foreach" not in opt.param_groups[0]
