"""The optimizers' update rules, one parameter at a time, written line for line like their docstrings.

The rule first, the workspace second: each optimizer's default step (``foreach=None``) computes
these same rules in place in reused scratch arrays, so that a step allocates nothing. That code is
fast but hides the formula behind ``out=`` arguments; the functions here state it plainly, with
ordinary out-of-place numpy arithmetic, like PyTorch's ``_single_tensor_sgd``. An optimizer built
with ``foreach=False`` runs them, and the tests check that both ways agree step for step.

Each rule takes the parameter ``p``, its gradient ``g`` = ∇_p C (numpy arrays, never modified), the
parameter's ``state`` (a dict of arrays and ints under PyTorch's names; ``{}`` before the first
step) and the hyper-parameters of its group, and returns the new parameter and the new state.
Notation as in the optimizers' docstrings: p parameters, η learning rate, g = ∇_p C, λ weight decay.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

State = dict[str, Any]


def sgd(
    p: np.ndarray,
    g: np.ndarray,
    state: State,
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> tuple[np.ndarray, State]:
    """p ← p − η g, after g ← g + λ p and, with momentum μ, b ← μ b + (1 − τ) g, g ← b (or g + μ b)."""
    state = dict(state)
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    if momentum != 0:
        if "momentum_buffer" not in state:
            b = g.copy()
        else:
            b = momentum * state["momentum_buffer"] + (1 - dampening) * g
        state["momentum_buffer"] = b
        if nesterov:
            g = g + momentum * b
        else:
            g = b
    return p - lr * g, state


def adam(
    p: np.ndarray,
    g: np.ndarray,
    state: State,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
    decoupled_weight_decay: bool,
) -> tuple[np.ndarray, State]:
    """p ← p − (η / (1 − β₁ᵗ)) m / (√s / √(1 − β₂ᵗ) + ε), m and s the running means of g and g²."""
    beta1, beta2 = betas
    t = state.get("step", 0) + 1
    if maximize:
        g = -g
    if weight_decay != 0 and decoupled_weight_decay:
        p = p * (1 - lr * weight_decay)
    elif weight_decay != 0:
        g = g + weight_decay * p
    m = beta1 * state.get("exp_avg", np.zeros_like(p)) + (1 - beta1) * g
    s = beta2 * state.get("exp_avg_sq", np.zeros_like(p)) + (1 - beta2) * g * g
    new_state = {"step": t, "exp_avg": m, "exp_avg_sq": s}
    if amsgrad:
        s = np.maximum(state.get("max_exp_avg_sq", np.zeros_like(p)), s)
        new_state["max_exp_avg_sq"] = s
    p = p - (lr / (1 - beta1**t)) * m / (np.sqrt(s) / math.sqrt(1 - beta2**t) + eps)
    return p, new_state


def adamw(
    p: np.ndarray,
    g: np.ndarray,
    state: State,
    *,
    lr: float,
    betas: tuple[float, float],
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> tuple[np.ndarray, State]:
    """p ← p (1 − η λ), then Adam's step with g = ∇_p C (no λ p term)."""
    return adam(
        p,
        g,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        decoupled_weight_decay=True,
    )


def rmsprop(
    p: np.ndarray,
    g: np.ndarray,
    state: State,
    *,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
    maximize: bool,
) -> tuple[np.ndarray, State]:
    """p ← p − η g / r with r = √s + ε (√(s − ḡ²) + ε centered), s ← α s + (1 − α) g²; b ← μ b + g / r."""
    new_state: State = {"step": state.get("step", 0) + 1}
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    s = alpha * state.get("square_avg", np.zeros_like(p)) + (1 - alpha) * g * g
    new_state["square_avg"] = s
    if centered:
        g_avg = alpha * state.get("grad_avg", np.zeros_like(p)) + (1 - alpha) * g
        new_state["grad_avg"] = g_avg
        r = np.sqrt(s - g_avg * g_avg) + eps
    else:
        r = np.sqrt(s) + eps
    if momentum > 0:
        b = momentum * state.get("momentum_buffer", np.zeros_like(p)) + g / r
        new_state["momentum_buffer"] = b
        return p - lr * b, new_state
    return p - lr * g / r, new_state


def adagrad(
    p: np.ndarray,
    g: np.ndarray,
    state: State,
    *,
    lr: float,
    lr_decay: float,
    weight_decay: float,
    initial_accumulator_value: float,
    eps: float,
    maximize: bool,
) -> tuple[np.ndarray, State]:
    """p ← p − η_t g / (√S + ε) with η_t = η / (1 + (t − 1) δ) and S ← S + g² (S₀ = initial_accumulator_value)."""
    t = state.get("step", 0) + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    lr_t = lr / (1 + (t - 1) * lr_decay)
    S = state.get("sum", np.full_like(p, initial_accumulator_value)) + g * g
    return p - lr_t * g / (np.sqrt(S) + eps), {"step": t, "sum": S}
