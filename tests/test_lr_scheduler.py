"""Learning-rate schedulers: sequences vs closed forms, chaining, state dicts, bad input."""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim
from tinygrad_course.optim import lr_scheduler as S
from tinygrad_course.serialization import load, save

BASE = (0.1, 0.5)


def make_opt(lrs=BASE):
    groups = [{"params": [tc.tensor([1.0], requires_grad=True)], "lr": lr} for lr in lrs]
    return optim.SGD(groups, lr=lrs[0], momentum=0.9)


def sequence(sched, epochs, metrics=None):
    """[lrs at epoch 0, lrs after step 1, …]: what each epoch trains with."""
    seen = [[g["lr"] for g in sched.optimizer.param_groups]]
    for t in range(epochs):
        assert sched.get_last_lr() == seen[-1]
        sched.optimizer.step()
        sched.step() if metrics is None else sched.step(metrics[t])
        seen.append([g["lr"] for g in sched.optimizer.param_groups])
    return np.array(seen)


def closed(fn, epochs):
    return np.array([[fn(base, t) for base in BASE] for t in range(epochs + 1)])


def test_step_lr_is_gamma_to_the_floor():
    got = sequence(S.StepLR(make_opt(), step_size=4, gamma=0.3), 30)
    np.testing.assert_allclose(got, closed(lambda b, t: b * 0.3 ** (t // 4), 30), rtol=1e-12)


def test_multistep_lr_counts_milestones_passed_and_repeats():
    milestones = [3, 7, 7, 12]
    got = sequence(S.MultiStepLR(make_opt(), milestones, gamma=0.5), 20)
    np.testing.assert_allclose(got, closed(lambda b, t: b * 0.5 ** bisect_right(milestones, t), 20), rtol=1e-12)


def test_exponential_lr_is_gamma_to_the_epoch():
    got = sequence(S.ExponentialLR(make_opt(), gamma=0.9), 40)
    np.testing.assert_allclose(got, closed(lambda b, t: b * 0.9**t, 40), rtol=1e-12)


def test_cosine_annealing_follows_the_closed_form_over_several_periods():
    T, eta_min = 10, 0.01
    got = sequence(S.CosineAnnealingLR(make_opt(), T_max=T, eta_min=eta_min), 45)
    want = closed(lambda b, t: eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / T)) / 2, 45)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    assert got[T, 0] == eta_min  # the trough is hit exactly


def test_lambda_lr_multiplies_the_initial_rate():
    fns = [lambda t: 1 / (1 + t), lambda t: 0.95**t]
    got = sequence(S.LambdaLR(make_opt(), fns), 15)
    want = np.array([[BASE[0] * (1 / (1 + t)), BASE[1] * 0.95**t] for t in range(16)])
    np.testing.assert_array_equal(got, want)


def test_schedulers_chain_like_pytorch():
    opt = make_opt()
    step, expo = S.StepLR(opt, 3, gamma=0.5), S.ExponentialLR(opt, 0.9)
    for t in range(1, 13):
        opt.step()
        step.step()
        expo.step()
        np.testing.assert_allclose(
            [g["lr"] for g in opt.param_groups], [b * 0.5 ** (t // 3) * 0.9**t for b in BASE], rtol=1e-12
        )


def test_reduce_on_plateau_patience_cooldown_min_lr_and_eps():
    opt = make_opt((0.1,))
    sched = S.ReduceLROnPlateau(opt, factor=0.5, patience=2, threshold=0.1, cooldown=1, min_lr=0.02)
    metrics = [1.0, 0.95, 0.95, 0.95] + [0.5] * 14
    got = sequence(sched, len(metrics), metrics)[1:, 0]
    want = [0.1, 0.1, 0.1, 0.05] + [0.05] * 3 + [0.025] + [0.025] * 3 + [0.02] * 7
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert sched.best == 0.5 and sched.last_epoch == len(metrics)


def test_reduce_on_plateau_max_mode_with_absolute_threshold():
    opt = make_opt((1.0,))
    sched = S.ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=0, threshold=0.5, threshold_mode="abs")
    got = sequence(sched, 4, [1.0, 1.4, 2.0, 2.2])[1:, 0]  # better only when > best + 0.5
    np.testing.assert_allclose(got, [1.0, 0.1, 0.1, 0.01], rtol=1e-15)
    sched.step(tc.tensor(100.0))  # a one-element Tensor is a metric too
    assert sched.best == 100.0


MAKERS = {
    "StepLR": lambda o: S.StepLR(o, 3, gamma=0.5),
    "MultiStepLR": lambda o: S.MultiStepLR(o, [2, 6, 6], gamma=0.5),
    "ExponentialLR": lambda o: S.ExponentialLR(o, 0.8),
    "CosineAnnealingLR": lambda o: S.CosineAnnealingLR(o, 4, eta_min=0.001),
    "LambdaLR": lambda o: S.LambdaLR(o, lambda t: 1 / (1 + t)),
    "ReduceLROnPlateau": lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=1),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_state_dict_round_trip_through_save_load(name, tmp_path):
    metrics = (
        [1.0, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]
        if name == "ReduceLROnPlateau"
        else None
    )
    straight = sequence(MAKERS[name](make_opt()), 15, metrics)
    opt = make_opt()
    sched = MAKERS[name](opt)
    first = sequence(sched, 5, metrics)
    save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.ckpt")
    ckpt = load(tmp_path / "s.ckpt")
    opt2 = make_opt()
    sched2 = MAKERS[name](opt2)
    opt2.load_state_dict(ckpt["optim"])
    sched2.load_state_dict(ckpt["sched"])
    rest = sequence(sched2, 10, metrics[5:] if metrics else None)
    assert np.array_equal(np.concatenate([first, rest[1:]]), straight)
    assert len(set(straight[:, 0])) > 2  # the rate did change


def test_plateau_state_with_infinite_best_round_trips(tmp_path):
    sched = S.ReduceLROnPlateau(make_opt())
    save(sched.state_dict(), tmp_path / "p")
    state = load(tmp_path / "p")
    assert state["best"] == math.inf and state["mode_worse"] == math.inf
    sched.load_state_dict(state)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda o: S.StepLR(o, step_size=0), ValueError, r"StepLR: step_size must be an int >= 1, got 0"),
        (lambda o: S.StepLR(o, step_size=2, gamma=-0.5), ValueError, r"StepLR: gamma must be in \[0, inf\), got -0.5"),
        (
            lambda o: S.ExponentialLR(o, gamma=math.nan),
            ValueError,
            r"ExponentialLR: gamma must be in \[0, inf\), got nan",
        ),
        (lambda o: S.MultiStepLR(o, [3, -1]), ValueError, r"MultiStepLR: milestones must be ints >= 0, got \[3, -1\]"),
        (lambda o: S.CosineAnnealingLR(o, T_max=0), ValueError, r"CosineAnnealingLR: T_max must be an int >= 1, got 0"),
        (
            lambda o: S.LambdaLR(o, [lambda t: 1.0]),
            ValueError,
            r"LambdaLR: expected 2 lr_lambdas \(one per param group\), but got 1",
        ),
        (lambda o: S.LambdaLR(o, 0.5), TypeError, r"LambdaLR: lr_lambda must be callable"),
        (
            lambda o: S.ReduceLROnPlateau(o, factor=1.0),
            ValueError,
            r"ReduceLROnPlateau: factor must be in \[0, 1\), got 1.0",
        ),
        (lambda o: S.ReduceLROnPlateau(o, mode="avg"), ValueError, r"mode must be 'min' or 'max', got 'avg'"),
        (lambda o: S.ReduceLROnPlateau(o, threshold_mode="pct"), ValueError, r"threshold_mode must be 'rel' or 'abs'"),
        (
            lambda o: S.ReduceLROnPlateau(o, min_lr=[0.1]),
            ValueError,
            r"expected 2 min_lrs \(one per param group\), got 1",
        ),
        (lambda o: S.ReduceLROnPlateau(o, patience=-1), ValueError, r"patience must be an int >= 0, got -1"),
        (lambda o: S.StepLR(o.param_groups, 2), TypeError, r"StepLR: list is not an Optimizer"),
        (
            lambda o: S.ExponentialLR(o, 0.9, last_epoch=4),
            KeyError,
            r"param 'initial_lr' is not specified in param_groups\[0\] when resuming",
        ),
    ],
)
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make(make_opt())


def test_loading_another_schedulers_state_is_rejected():
    opt = make_opt()
    with pytest.raises(
        ValueError, match=r"ExponentialLR.load_state_dict: missing keys \[\], unexpected keys \['step_size'\]"
    ):
        S.ExponentialLR(opt, 0.9).load_state_dict(S.StepLR(make_opt(), 3).state_dict())
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau.load_state_dict: missing keys \[.*'best'"):
        S.ReduceLROnPlateau(opt).load_state_dict(S.StepLR(make_opt(), 3).state_dict())
