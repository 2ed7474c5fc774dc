"""Adagrad: a per-parameter learning rate that shrinks with the sum of squared gradients."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.optim import _reference
from tinygrad_course.optim.optimizer import Hyper, Optimizer, ParamsT, effective_grad, real_view
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import tensor


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al.); torch.optim.Adagrad step for step.

    In the lecture's notation (parameters p, learning rate η, g = ∇_p C; λ weight decay, ε,
    t the step count, and ``lr_decay`` δ), with S the running sum of g² (``sum``, starting at
    ``initial_accumulator_value``)::

        t ← t + 1
        g ← −g                             if maximize
        g ← g + λ p                        if λ ≠ 0
        η_t = η / (1 + (t − 1) δ)
        S ← S + g²
        p ← p − η_t g / (√S + ε)

    ε is added after the square root, as in PyTorch. State per parameter (created for every
    parameter at construction, as PyTorch does): ``step`` (an int) and ``sum``.

    ``foreach=False`` runs the plain rule `tinygrad_course.optim._reference.adagrad` instead of the
    default in-place code (``None``, the same as ``True``); both give the same numbers and state.
    """

    hyperparameters = (
        Hyper("lr"),
        Hyper("lr_decay"),
        Hyper("weight_decay"),
        Hyper("initial_accumulator_value"),
        Hyper("eps"),
        Hyper("maximize", "flag"),
    )

    _state_names = ("step", "sum")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        """Validate the hyper-parameters (ValueError naming each and its range), set up groups and state."""
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
            "foreach": foreach,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        state["step"] = 0
        value = group["initial_accumulator_value"]
        # A complex parameter's real and imaginary parts each start at the value (PyTorch's complex(v, v)).
        state["sum"] = tensor(np.full_like(p._array, complex(value, value) if p.dtype.kind == "c" else value))
        return state

    def _reference_group(self, group: dict[str, Any]) -> None:
        self._apply_rule(
            group,
            _reference.adagrad,
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            initial_accumulator_value=group["initial_accumulator_value"],
            eps=group["eps"],
            maximize=group["maximize"],
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = group["lr"]
        lr_decay = group["lr_decay"]
        weight_decay = group["weight_decay"]
        eps = group["eps"]
        maximize = group["maximize"]
        workspace = self._workspace
        for p in group["params"]:
            if p.grad is None:
                continue
            param = real_view(p._array)  # a complex parameter as its real and imaginary parts
            grad = real_view(self._grad_of(p))
            state = self.state[p]
            if not state:  # a group added after construction
                state = self._init_state(p, group)
            step = state["step"] = state["step"] + 1
            scratch = workspace.buffer(param, 0)
            tmp = workspace.buffer(param, 1)
            grad = effective_grad(param, grad, weight_decay, maximize, scratch)
            clr = lr / (1 + (step - 1) * lr_decay)
            state_sum = real_view(state["sum"]._array)
            np.multiply(grad, grad, out=tmp)
            state_sum += tmp
            np.sqrt(state_sum, out=tmp)
            tmp += eps
            np.multiply(grad, -clr, out=scratch)
            scratch /= tmp
            param += scratch
