"""RMSprop: the lecture's root-mean-square propagation, with PyTorch's centering and momentum."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.optim import _reference
from tinygrad_course.optim.optimizer import Hyper, Optimizer, ParamsT, effective_grad, lerp_, real_view
from tinygrad_course.tensor.creation import tensor


class RMSprop(Optimizer):
    r"""RMSprop (Hinton); torch.optim.RMSprop step for step.

    In the lecture's notation (parameters p, learning rate η, g = ∇_p C; α the smoothing
    constant, ε, λ weight decay, μ momentum), with s the running mean of g² (``square_avg``),
    ḡ the running mean of g (``grad_avg``, centered only) and b the momentum buffer::

        g ← −g                                if maximize
        g ← g + λ p                           if λ ≠ 0
        s ← α s + (1 − α) g²
        ḡ ← α ḡ + (1 − α) g                   if centered (computed as torch.lerp)
        r ← √(s − ḡ²) + ε  if centered,  else  r ← √s + ε
        b ← μ b + g / r ;  p ← p − η b        if μ > 0
        p ← p − η g / r                       otherwise

    ε is added after the square root, as in PyTorch. State per parameter: ``step`` (an int),
    ``square_avg``, ``momentum_buffer`` (μ > 0), ``grad_avg`` (centered).

    ``foreach=False`` runs the plain rule `tinygrad_course.optim._reference.rmsprop` instead of the
    default in-place code (``None``, the same as ``True``); both give the same numbers and state.
    """

    hyperparameters = (
        Hyper("lr"),
        Hyper("alpha", high=1.0, high_inclusive=True),
        Hyper("eps"),
        Hyper("weight_decay"),
        Hyper("momentum"),
        Hyper("centered", "flag"),
        Hyper("maximize", "flag"),
    )

    _state_names = ("step", "square_avg", "momentum_buffer", "grad_avg")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        """Validate the hyper-parameters (ValueError naming each and its range) and set up the groups."""
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)

    def _reference_group(self, group: dict[str, Any]) -> None:
        self._apply_rule(
            group,
            _reference.rmsprop,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=group["momentum"],
            centered=group["centered"],
            maximize=group["maximize"],
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        alpha = group["alpha"]
        eps = group["eps"]
        weight_decay = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        workspace = self._workspace
        for p in group["params"]:
            if p.grad is None:
                continue
            param = real_view(p._array)  # a complex parameter as its real and imaginary parts
            grad = real_view(self._grad_of(p))
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["square_avg"] = tensor(np.zeros_like(p._array))
                if momentum > 0:
                    state["momentum_buffer"] = tensor(np.zeros_like(p._array))
                if centered:
                    state["grad_avg"] = tensor(np.zeros_like(p._array))
            state["step"] += 1
            scratch = workspace.buffer(param, 0)
            tmp = workspace.buffer(param, 1)
            grad = effective_grad(param, grad, weight_decay, maximize, scratch)
            square_avg = real_view(state["square_avg"]._array)
            square_avg *= alpha
            np.multiply(grad, 1.0 - alpha, out=tmp)
            tmp *= grad
            square_avg += tmp
            if centered:
                grad_avg = real_view(state["grad_avg"]._array)
                lerp_(grad_avg, grad, 1.0 - alpha, tmp)
                np.multiply(grad_avg, -1.0, out=tmp)
                tmp *= grad_avg
                tmp += square_avg  # s + (−ḡ)·ḡ
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(square_avg, out=tmp)
            tmp += eps  # r
            if momentum > 0:
                buf = real_view(state["momentum_buffer"]._array)
                buf *= momentum
                np.divide(grad, tmp, out=tmp)
                buf += tmp
                np.multiply(buf, lr, out=tmp)
                param -= tmp
            else:
                np.multiply(grad, -lr, out=scratch)  # g may live in scratch; it is read first
                scratch /= tmp
                param += scratch
