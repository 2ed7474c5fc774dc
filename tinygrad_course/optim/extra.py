"""Adadelta, Adamax, NAdam, RAdam: torch.optim's single-tensor rules, step for step, on numpy arrays.

Each rule is written out plainly (like `_reference`) and used by both paths (``foreach`` only
selects PyTorch's implementation there; the numbers are the same).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.optim.optimizer import Hyper, Optimizer, ParamsT

State = dict[str, Any]


def _grad(p: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool) -> np.ndarray:
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    return g


def _lerp(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return a + w * (b - a) if w < 0.5 else b - (b - a) * (1.0 - w)


def adadelta(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, rho: float, eps: float,
             weight_decay: float, maximize: bool) -> tuple[np.ndarray, State]:
    """s ← ρ s + (1 − ρ) g²; Δ = √(a + ε) / √(s + ε) · g; a ← ρ a + (1 − ρ) Δ²; p ← p − η Δ."""
    state = dict(state)
    if not state:
        state = {"step": 0, "square_avg": np.zeros_like(p), "acc_delta": np.zeros_like(p)}
    state["step"] += 1
    g = _grad(p, g, weight_decay, maximize)
    s = state["square_avg"] * rho + (1 - rho) * g * g
    std = np.sqrt(s + eps)
    delta = np.sqrt(state["acc_delta"] + eps) / std * g
    state["square_avg"] = s
    state["acc_delta"] = state["acc_delta"] * rho + (1 - rho) * delta * delta
    return p - lr * delta, state


def adamax(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, betas: tuple[float, float], eps: float,
           weight_decay: float, maximize: bool) -> tuple[np.ndarray, State]:
    """m ← lerp(m, g, 1 − β₁); u ← max(β₂ u, |g| + ε); p ← p − η/(1 − β₁ᵗ) · m / u."""
    beta1, beta2 = betas
    state = dict(state)
    if not state:
        state = {"step": 0, "exp_avg": np.zeros_like(p), "exp_inf": np.zeros_like(p)}
    t = state["step"] = state["step"] + 1
    g = _grad(p, g, weight_decay, maximize)
    state["exp_avg"] = m = _lerp(state["exp_avg"], g, 1 - beta1)
    state["exp_inf"] = u = np.maximum(state["exp_inf"] * beta2, np.abs(g) + eps)
    clr = lr / (1 - beta1**t)
    return p - clr * (m / u), state


def nadam(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, betas: tuple[float, float], eps: float,
          weight_decay: float, momentum_decay: float, decoupled_weight_decay: bool,
          maximize: bool) -> tuple[np.ndarray, State]:
    """Adam with Nesterov momentum and the momentum schedule μₜ = β₁ (1 − ½ · 0.96^(t ψ)) (Dozat)."""
    beta1, beta2 = betas
    state = dict(state)
    if not state:
        state = {"step": 0, "mu_product": 1.0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
    t = state["step"] = state["step"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    bias_correction2 = 1 - beta2**t
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = state["mu_product"] = state["mu_product"] * mu
    state["exp_avg"] = m = _lerp(state["exp_avg"], g, 1 - beta1)
    state["exp_avg_sq"] = s = state["exp_avg_sq"] * beta2 + (1 - beta2) * g * g
    denom = np.sqrt(s / bias_correction2) + eps
    mu_product_next = mu_product * mu_next
    p = p + (-lr * (1.0 - mu) / (1.0 - mu_product)) * (g / denom)
    p = p + (-lr * mu_next / (1.0 - mu_product_next)) * (m / denom)
    return p, state


def radam(p: np.ndarray, g: np.ndarray, state: State, *, lr: float, betas: tuple[float, float], eps: float,
          weight_decay: float, decoupled_weight_decay: bool, maximize: bool) -> tuple[np.ndarray, State]:
    """Adam with the variance rectification r_t (Liu et al.); plain momentum SGD while ρₜ ≤ 5."""
    beta1, beta2 = betas
    state = dict(state)
    if not state:
        state = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}
    t = state["step"] = state["step"] + 1
    if maximize:
        g = -g
    if weight_decay != 0:
        if decoupled_weight_decay:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    state["exp_avg"] = m = _lerp(state["exp_avg"], g, 1 - beta1)
    state["exp_avg_sq"] = s = state["exp_avg_sq"] * beta2 + (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    m_hat = m / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / bias_correction2
    if rho_t > 5.0:
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        adaptive_lr = math.sqrt(bias_correction2) / (np.sqrt(s) + eps)
        return p - m_hat * lr * adaptive_lr * rect, state
    return p - m_hat * lr, state


class _RuleOptimizer(Optimizer):
    _rule: Any = None
    _keys: tuple[str, ...] = ()

    def _reference_group(self, group: dict[str, Any]) -> None:
        self._apply_rule(group, type(self)._rule, **{k: group[k] for k in self._keys})

    _update_group = _reference_group


class Adadelta(_RuleOptimizer):
    """torch.optim.Adadelta (Zeiler): state ``step``, ``square_avg``, ``acc_delta``."""

    hyperparameters = (Hyper("lr"), Hyper("rho", low=0.0, high=1.0, high_inclusive=True), Hyper("eps"),
                       Hyper("weight_decay"), Hyper("maximize", "flag"))
    _state_names = ("step", "square_avg", "acc_delta")
    _rule = staticmethod(adadelta)
    _keys = ("lr", "rho", "eps", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *, maximize: bool = False) -> None:
        """PyTorch's defaults."""
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "foreach": foreach})


class Adamax(_RuleOptimizer):
    """torch.optim.Adamax (Adam with the infinity norm): state ``step``, ``exp_avg``, ``exp_inf``."""

    hyperparameters = (Hyper("lr"), Hyper("betas", "pair", 0.0, 1.0, parts=("beta1", "beta2")), Hyper("eps"),
                       Hyper("weight_decay"), Hyper("maximize", "flag"))
    _state_names = ("step", "exp_avg", "exp_inf")
    _rule = staticmethod(adamax)
    _keys = ("lr", "betas", "eps", "weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False) -> None:
        """PyTorch's defaults."""
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "maximize": maximize, "foreach": foreach})


class NAdam(_RuleOptimizer):
    """torch.optim.NAdam: state ``step``, ``mu_product`` (a float), ``exp_avg``, ``exp_avg_sq``."""

    hyperparameters = (Hyper("lr"), Hyper("betas", "pair", 0.0, 1.0, parts=("beta1", "beta2")), Hyper("eps"),
                       Hyper("weight_decay"), Hyper("momentum_decay"), Hyper("decoupled_weight_decay", "flag"),
                       Hyper("maximize", "flag"))
    _state_names = ("step", "mu_product", "exp_avg", "exp_avg_sq")
    _rule = staticmethod(nadam)
    _keys = ("lr", "betas", "eps", "weight_decay", "momentum_decay", "decoupled_weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False) -> None:
        """PyTorch's defaults."""
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                                  "maximize": maximize, "foreach": foreach})

    def _cast_state(self, key: Any, param: Any, entry: Any) -> dict[str, Any]:
        entry = dict(entry)
        mu = entry.pop("mu_product", None)
        out = super()._cast_state(key, param, entry)
        if mu is not None:
            out["mu_product"] = float(mu._array if hasattr(mu, "_array") else mu)
        return {k: out[k] for k in self._state_names if k in out}


class RAdam(_RuleOptimizer):
    """torch.optim.RAdam: state ``step``, ``exp_avg``, ``exp_avg_sq``."""

    hyperparameters = (Hyper("lr"), Hyper("betas", "pair", 0.0, 1.0, parts=("beta1", "beta2")), Hyper("eps"),
                       Hyper("weight_decay"), Hyper("decoupled_weight_decay", "flag"), Hyper("maximize", "flag"))
    _state_names = ("step", "exp_avg", "exp_avg_sq")
    _rule = staticmethod(radam)
    _keys = ("lr", "betas", "eps", "weight_decay", "decoupled_weight_decay", "maximize")

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        """PyTorch's defaults."""
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                                  "foreach": foreach})
