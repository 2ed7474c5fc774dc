"""Adam (with AMSGrad and maximize) and AdamW, the lecture's adaptive learning rates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.optim import _reference
from tinygrad_course.optim.optimizer import Hyper, Optimizer, ParamsT, effective_grad, lerp_, real_view
from tinygrad_course.tensor.creation import tensor


class Adam(Optimizer):
    r"""Adam (Kingma & Ba); torch.optim.Adam step for step.

    In the lecture's notation (parameters p, learning rate η, g = ∇_p C; β₁, β₂ the decay rates,
    ε, λ weight decay, t the step count), with m and s the running means of g and g² (PyTorch's
    ``exp_avg`` and ``exp_avg_sq``; the lecture's v stays the momentum velocity)::

        t ← t + 1
        g ← −g                                       if maximize
        p ← p (1 − η λ)                              if λ ≠ 0 and decoupled (AdamW)
        g ← g + λ p                                  if λ ≠ 0 otherwise
        m ← β₁ m + (1 − β₁) g                        (computed as torch.lerp: m + (1 − β₁)(g − m))
        s ← β₂ s + (1 − β₂) g²
        ŝ ← max(ŝ, s) and use ŝ for s below          if amsgrad (``max_exp_avg_sq``)
        p ← p − (η / (1 − β₁ᵗ)) · m / (√s / √(1 − β₂ᵗ) + ε)

    i.e. p ← p − η m̂ / (√ŝ + ε) with the bias-corrected m̂ = m/(1 − β₁ᵗ), ŝ = s/(1 − β₂ᵗ); ε is
    added after the square root and the bias correction, as in PyTorch.

    State per parameter: ``step`` (t, an int), ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq``
    (amsgrad only).

    ``foreach=False`` runs the plain rule `tinygrad_course.optim._reference.adam` instead of the
    default in-place code (``None``, the same as ``True``); both give the same numbers and state.
    """

    hyperparameters = (
        Hyper("lr"),
        Hyper("betas", "pair", 0.0, 1.0, parts=("beta1", "beta2")),
        Hyper("eps"),
        Hyper("weight_decay"),
        Hyper("amsgrad", "flag"),
        Hyper("maximize", "flag"),
        Hyper("decoupled_weight_decay", "flag"),
    )

    _state_names = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _type_keys = ("decoupled_weight_decay",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        """Validate the hyper-parameters (ValueError naming each and its range) and set up the groups."""
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _reference_group(self, group: dict[str, Any]) -> None:
        self._apply_rule(
            group,
            _reference.adam,
            lr=group["lr"],
            betas=group["betas"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            amsgrad=group["amsgrad"],
            maximize=group["maximize"],
            decoupled_weight_decay=group["decoupled_weight_decay"],
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        beta1, beta2 = group["betas"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        workspace = self._workspace
        for p in group["params"]:
            if p.grad is None:
                continue
            param = real_view(p._array)  # a complex parameter as its real and imaginary parts
            grad = real_view(self._grad_of(p))
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["exp_avg"] = tensor(np.zeros_like(p._array))
                state["exp_avg_sq"] = tensor(np.zeros_like(p._array))
                if amsgrad:
                    state["max_exp_avg_sq"] = tensor(np.zeros_like(p._array))
            step = state["step"] = state["step"] + 1
            scratch = workspace.buffer(param, 0)
            tmp = workspace.buffer(param, 1)
            if decoupled:
                if weight_decay != 0:
                    param *= 1.0 - lr * weight_decay
                grad = effective_grad(param, grad, 0.0, maximize, scratch)
            else:
                grad = effective_grad(param, grad, weight_decay, maximize, scratch)
            m = real_view(state["exp_avg"]._array)
            s = real_view(state["exp_avg_sq"]._array)
            lerp_(m, grad, 1.0 - beta1, tmp)
            s *= beta2
            np.multiply(grad, 1.0 - beta2, out=tmp)
            tmp *= grad
            s += tmp
            step_size = lr / (1.0 - beta1**step)
            bias_correction2_sqrt = math.sqrt(1.0 - beta2**step)
            if amsgrad:
                s_max = real_view(state["max_exp_avg_sq"]._array)
                np.maximum(s_max, s, out=s_max)
                s = s_max
            np.sqrt(s, out=tmp)
            tmp /= bias_correction2_sqrt
            tmp += eps
            np.multiply(m, -step_size, out=scratch)  # g (maybe in scratch) is not needed any more
            scratch /= tmp
            param += scratch


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter); torch.optim.AdamW step for step.

    The same as `Adam` except that weight decay shrinks the parameters directly instead of
    entering the gradient (and its running means)::

        p ← p (1 − η λ)        then Adam's step with g = ∇_p C (no λ p term).

    The default λ is 1e-2, as in PyTorch.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        """Validate the hyper-parameters and set up the groups (``decoupled_weight_decay=True``)."""
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            foreach=foreach,
            decoupled_weight_decay=True,
        )
