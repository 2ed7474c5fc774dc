"""SGD: the lecture's gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.optim import _reference
from tinygrad_course.optim.optimizer import Hyper, Optimizer, ParamsT, effective_grad
from tinygrad_course.tensor.creation import tensor


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum; torch.optim.SGD step for step.

    In the lecture's notation (parameters p, learning rate η, g = ∇_p C on the mini-batch;
    λ weight decay, μ momentum, τ dampening), one step for each parameter is::

        g ← −g                                  if maximize
        g ← g + λ p                             if λ ≠ 0
        b ← g  (first step),  b ← μ b + (1 − τ) g  (later)      if μ ≠ 0
        g ← g + μ b  (nesterov),  g ← b  (otherwise)            if μ ≠ 0
        p ← p − η g

    With μ = 0 it is the lecture's gradient descent, p ← p − η ∇_p C. (PyTorch's documentation
    applies ``maximize`` at the last line; its code, which this follows, negates g first.)

    PyTorch's momentum is the lecture's momentum. The lecture writes v ← γ v − η ∇C, p ← p + v.
    Take γ = μ, τ = 0 and a constant η, and set v = −η b. Then

        v_new = −η b_new = −η (μ b + g) = μ (−η b) − η g = γ v − η ∇C,
        p − η b_new = p + v_new,

    and the first step b = g gives v = −η g = γ·0 − η ∇C, the lecture's step from v = 0. The two
    differ only when η changes between steps (a scheduler): b stores gradients and is scaled by
    the current η, while v has the earlier η's baked in.

    State per parameter: ``momentum_buffer`` (b), only when μ ≠ 0.

    ``foreach=False`` runs the plain rule `tinygrad_course.optim._reference.sgd` instead of the
    default in-place code (``None``, the same as ``True``); both give the same numbers and state.
    """

    hyperparameters = (
        Hyper("lr"),
        Hyper("momentum"),
        Hyper("dampening", high=1.0, high_inclusive=True),
        Hyper("weight_decay"),
        Hyper("nesterov", "flag"),
        Hyper("maximize", "flag"),
    )
    _state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        """Validate the hyper-parameters (ValueError naming each and its range) and set up the groups."""
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any], where: str) -> None:
        super()._check_hyperparameters(group, where)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"{where}nesterov=True requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']!r}, dampening={group['dampening']!r}"
            )

    def _reference_group(self, group: dict[str, Any]) -> None:
        self._apply_rule(
            group,
            _reference.sgd,
            lr=group["lr"],
            momentum=group["momentum"],
            dampening=group["dampening"],
            weight_decay=group["weight_decay"],
            nesterov=group["nesterov"],
            maximize=group["maximize"],
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        momentum = group["momentum"]
        dampening = group["dampening"]
        nesterov = group["nesterov"]
        weight_decay = group["weight_decay"]
        maximize = group["maximize"]
        if momentum == 0 and weight_decay == 0 and not maximize:
            # The lecture's gradient descent, p ← p − η ∇C, with η ∇C in a workspace slot: a
            # temporary from numpy's allocator made glibc return and re-fault a float64 MLP's
            # memory every step (about 900 page faults per step; bench/RESULTS.md, issue 18).
            workspace = self._workspace
            for p in group["params"]:
                if p.grad is not None:
                    param, grad = p._array, p.grad._array
                    if grad.shape != param.shape:
                        self._grad_of(p)  # raises, naming both shapes
                    tmp = workspace.buffer(param, 1)
                    np.multiply(grad, lr, out=tmp)
                    param -= tmp
            return
        workspace = self._workspace
        for p in group["params"]:
            if p.grad is None:
                continue
            param = p._array
            grad = self._grad_of(p)
            if maximize or weight_decay != 0:
                grad = effective_grad(param, grad, weight_decay, maximize, workspace.buffer(param, 0))
            tmp = workspace.buffer(param, 1)
            direction = grad
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = tensor(grad)  # b ← g (a copy)
                    b = buf._array
                else:
                    b = buf._array
                    b *= momentum
                    if dampening != 0:
                        np.multiply(grad, 1.0 - dampening, out=tmp)
                        b += tmp
                    else:
                        b += grad
                if nesterov:
                    np.multiply(b, momentum, out=tmp)
                    tmp += grad
                    direction = tmp
                else:
                    direction = b
            np.multiply(direction, lr, out=tmp)
            param -= tmp
