"""Schedules that move η from its initial value by a fixed rule: step, multi-step, exponential, cosine, lambda, constant, linear, polynomial."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tinygrad_course.optim.lr_scheduler.base import LRScheduler, _check_positive_int
from tinygrad_course.optim.optimizer import Optimizer, check_range


class StepLR(LRScheduler):
    """η ← γ η every `step_size` epochs: η_t = η₀ γ^⌊t / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        """Decay by `gamma` every `step_size` (an int >= 1) epochs."""
        _check_positive_int("StepLR", "step_size", step_size)
        check_range("StepLR: ", "gamma", gamma, 0.0)
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η·γ at multiples of step_size, η otherwise."""
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"step_size": self.step_size, "gamma": self.gamma}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.step_size = state_dict["step_size"]
        self.gamma = state_dict["gamma"]


class MultiStepLR(LRScheduler):
    """η ← γ η at each milestone: η_t = η₀ γ^(number of milestones ≤ t)."""

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        """Decay by `gamma` at each epoch listed in `milestones` (ints >= 0; a repeated one decays twice)."""
        milestones = list(milestones)
        for m in milestones:
            if isinstance(m, bool) or not isinstance(m, int) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be ints >= 0, got {milestones!r}")
        check_range("MultiStepLR: ", "gamma", gamma, 0.0)
        self.milestones: Counter[int] = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η·γ^k at a milestone listed k times, η otherwise."""
        if self.last_epoch not in self.milestones:
            return [group["lr"] for group in self.optimizer.param_groups]
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch) for base_lr in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"milestones": dict(self.milestones), "gamma": self.gamma}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.milestones = Counter(state_dict["milestones"])
        self.gamma = state_dict["gamma"]


class ExponentialLR(LRScheduler):
    """η ← γ η every epoch: η_t = η₀ γ^t."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        """Decay by `gamma` (>= 0) every epoch."""
        check_range("ExponentialLR: ", "gamma", gamma, 0.0)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η·γ (η itself at epoch 0)."""
        if self.last_epoch == 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"gamma": self.gamma}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.gamma = state_dict["gamma"]


class CosineAnnealingLR(LRScheduler):
    """η_t = η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2 (and on past T_max, periodically)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        """Anneal from each group's η₀ to `eta_min` over `T_max` (an int >= 1) epochs."""
        _check_positive_int("CosineAnnealingLR", "T_max", T_max)
        check_range("CosineAnnealingLR: ", "eta_min", eta_min, 0.0)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recursive form: η_t = η_min + (η_{t−1} − η_min)·(1 + cos(πt/T))/(1 + cos(π(t−1)/T))."""
        groups = self.optimizer.param_groups
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [group["lr"] for group in groups]
        if self._step_count == 1 and t > 0:  # resumed with last_epoch > -1: use the closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # the ratio below would be 0/0 here (the trough)
            return [
                group["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, group in zip(self.base_lrs, groups)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (group["lr"] - eta_min) + eta_min for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        T, eta_min = self.T_max, self.eta_min
        return [eta_min + (base - eta_min) * (1 + math.cos(math.pi * self.last_epoch / T)) / 2 for base in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"T_max": self.T_max, "eta_min": self.eta_min}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.T_max = state_dict["T_max"]
        self.eta_min = state_dict["eta_min"]


class LambdaLR(LRScheduler):
    """η_t = η₀ · λ(t) for a user function λ (one per group, or one for all)."""

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        """`lr_lambda`: a function of the epoch, or a list with one per param group."""
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"LambdaLR: lr_lambda must be callable (epoch -> factor), got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η₀ · λ(last_epoch) for each group."""
        return [base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def _optional_keys(self) -> tuple[str, ...]:
        # The functions are code, not state: never saved. PyTorch's dicts list them as None.
        return ("lr_lambdas",)


class ConstantLR(LRScheduler):
    """η_t = η₀ · factor for t < total_iters, η₀ afterwards."""

    def __init__(
        self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1
    ) -> None:
        """Multiply by `factor` (in [0, 1]) until epoch `total_iters`."""
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """η·factor at epoch 0, η/factor at total_iters, η otherwise."""
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in groups]
        if self.last_epoch != self.total_iters:
            return [group["lr"] for group in groups]
        return [group["lr"] * (1.0 / self.factor) for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        f = self.factor
        return [base * (f + (self.last_epoch >= self.total_iters) * (1 - f)) for base in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"factor": self.factor, "total_iters": self.total_iters}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.factor = state_dict["factor"]
        self.total_iters = state_dict["total_iters"]


class LinearLR(LRScheduler):
    """η_t = η₀ · (s + (e − s) · min(t, total_iters) / total_iters) (the warm-up schedule)."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        """Go linearly from `start_factor` (in (0, 1]) to `end_factor` (in [0, 1]) over `total_iters` epochs."""
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recursive form (the ratio of consecutive factors)."""
        groups = self.optimizer.param_groups
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        if self.last_epoch == 0:
            return [group["lr"] * s for group in groups]
        if self._is_initial or self.last_epoch > n:
            return [group["lr"] for group in groups]
        ratio = 1.0 + (e - s) / (n * s + (self.last_epoch - 1) * (e - s))
        return [group["lr"] * ratio for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        s, e, n = self.start_factor, self.end_factor, self.total_iters
        return [base * (s + (e - s) * min(n, self.last_epoch) / n) for base in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"start_factor": self.start_factor, "end_factor": self.end_factor, "total_iters": self.total_iters}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.start_factor = state_dict["start_factor"]
        self.end_factor = state_dict["end_factor"]
        self.total_iters = state_dict["total_iters"]


class PolynomialLR(LRScheduler):
    """η_t = η₀ · (1 − min(t, total_iters) / total_iters)^power."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        """Decay polynomially to 0 over `total_iters` epochs."""
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """PyTorch's recursive form (the ratio of consecutive factors)."""
        groups = self.optimizer.param_groups
        n = self.total_iters
        if self._is_initial or self.last_epoch > n:
            return [group["lr"] for group in groups]
        decay = ((1.0 - self.last_epoch / n) / (1.0 - (self.last_epoch - 1) / n)) ** self.power
        return [group["lr"] * decay for group in groups]

    def _get_closed_form_lr(self) -> list[float]:
        n = self.total_iters
        return [base * (1.0 - min(n, self.last_epoch) / n) ** self.power for base in self.base_lrs]

    def _extra_state(self) -> dict[str, Any]:
        return {"total_iters": self.total_iters, "power": self.power}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.total_iters = state_dict["total_iters"]
        self.power = state_dict["power"]
