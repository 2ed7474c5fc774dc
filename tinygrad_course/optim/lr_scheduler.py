"""Learning-rate schedules: η as a function of the epoch, PyTorch's torch.optim.lr_scheduler.

Each scheduler writes the new η into every ``param_group["lr"]`` of its optimizer when
``step()`` is called (once per epoch, after ``optimizer.step()``). Like PyTorch, the schedules
are computed in their chainable (recursive) form from the current ``group["lr"]``; the closed
forms in the docstrings are what they equal when nothing else changes the rates.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from tinygrad_course.optim.optimizer import Optimizer, check_range


def _check_keys(owner: str, state_dict: Any, expected: Iterable[str], optional: Iterable[str] = ()) -> None:
    """Raise ValueError naming missing and unexpected keys of a scheduler state dict."""
    if not isinstance(state_dict, dict):
        raise ValueError(f"{owner}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
    expected = set(expected)
    missing = sorted(expected - set(state_dict))
    unexpected = sorted(map(str, set(state_dict) - expected - set(optional)))
    if missing or unexpected:
        raise ValueError(
            f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {unexpected} "
            "(was the state dict saved from a different scheduler type?)"
        )


def _check_positive_int(owner: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}: {name} must be an int >= 1, got {value!r}")


class LRScheduler:
    """Base class: ``base_lrs`` (each group's ``initial_lr``), ``last_epoch``, ``step()``, ``get_last_lr()``."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        """Record the initial rates and take the first step (epoch 0), like PyTorch."""
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        f"(last_epoch={last_epoch}); create the scheduler with last_epoch=-1 or load its state_dict"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._last_lr: list[float] = []
        self._initial_step()

    def _initial_step(self) -> None:
        """Reset the step count and take the first step (with `_is_initial` set, as PyTorch)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for `last_epoch`, from the current ones (the chainable form; called by `step`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The rates set by the last `step`, one per param group."""
        return self._last_lr

    def step(self) -> None:
        """Advance one epoch: last_epoch += 1 and write the new η into every param group."""
        self._step_count += 1
        self._update_lr()

    def _update_lr(self, epoch: int | None = None) -> None:
        """Set last_epoch (+1, or `epoch` via the closed form where there is one) and write the rates."""
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _extra_state(self) -> dict[str, Any]:
        return {}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        pass

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer), PyTorch's names."""
        state = {
            "base_lrs": list(self.base_lrs),
            "last_epoch": self.last_epoch,
            "_step_count": self._step_count,
            "_last_lr": list(self._last_lr),
        }
        state.update(self._extra_state())
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state from `state_dict()` of the same scheduler type."""
        _check_keys(type(self).__name__, state_dict, self.state_dict(), self._optional_keys())
        self._load_extra(state_dict)
        self.base_lrs = list(state_dict["base_lrs"])
        self.last_epoch = state_dict["last_epoch"]
        self._step_count = state_dict["_step_count"]
        self._last_lr = list(state_dict["_last_lr"])

    def _optional_keys(self) -> tuple[str, ...]:
        return ()


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


class ReduceLROnPlateau(LRScheduler):
    """η ← max(factor · η, min_lr) once the metric has not improved for more than `patience` epochs.

    "Improved" (mode min, threshold_mode rel): metric < best · (1 − threshold); abs: metric <
    best − threshold; mode max mirrors both. After a reduction, `cooldown` epochs are ignored.
    A reduction smaller than `eps` is skipped.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        """Watch a metric passed to `step(metric)`; ValueError names any argument out of range."""
        name = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{name}: {type(optimizer).__name__} is not an Optimizer")
        if mode not in ("min", "max"):
            raise ValueError(f"{name}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{name}: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        check_range(f"{name}: ", "factor", factor, 0.0, 1.0)
        check_range(f"{name}: ", "threshold", threshold, 0.0)
        check_range(f"{name}: ", "eps", eps, 0.0)
        for arg, value in (("patience", patience), ("cooldown", cooldown)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name}: {arg} must be an int >= 0, got {value!r}")
        n = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != n:
                raise ValueError(f"{name}: expected {n} min_lrs (one per param group), got {len(min_lr)}")
            min_lrs = list(min_lr)
        else:
            min_lrs = [min_lr] * n
        for i, value in enumerate(min_lrs):
            check_range(f"{name}: ", f"min_lr[{i}]", value, 0.0)
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.cooldown = cooldown
        self.min_lrs = min_lrs
        self.eps = eps
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def is_better(self, current: float, best: float) -> bool:
        """Whether `current` improves on `best` by more than the threshold."""
        if self.mode == "min" and self.threshold_mode == "rel":
            return current < best * (1.0 - self.threshold)
        if self.mode == "min":
            return current < best - self.threshold
        if self.threshold_mode == "rel":
            return current > best * (self.threshold + 1.0)
        return current > best + self.threshold

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """Record this epoch's metric (a number or one-element Tensor) and reduce η if it has plateaued."""
        current = float(metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            for i, group in enumerate(self.optimizer.param_groups):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, self.min_lrs[i])
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state (everything but the optimizer), PyTorch's names."""
        return {
            "mode": self.mode,
            "factor": self.factor,
            "patience": self.patience,
            "threshold": self.threshold,
            "threshold_mode": self.threshold_mode,
            "cooldown": self.cooldown,
            "min_lrs": list(self.min_lrs),
            "eps": self.eps,
            "mode_worse": self.mode_worse,
            "best": self.best,
            "cooldown_counter": self.cooldown_counter,
            "num_bad_epochs": self.num_bad_epochs,
            "last_epoch": self.last_epoch,
            "_last_lr": list(self._last_lr),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state from `state_dict()` of a ReduceLROnPlateau."""
        _check_keys("ReduceLROnPlateau", state_dict, self.state_dict())
        self.mode = state_dict["mode"]
        self.factor = state_dict["factor"]
        self.patience = state_dict["patience"]
        self.threshold = state_dict["threshold"]
        self.threshold_mode = state_dict["threshold_mode"]
        self.cooldown = state_dict["cooldown"]
        self.min_lrs = list(state_dict["min_lrs"])
        self.eps = state_dict["eps"]
        self.mode_worse = state_dict["mode_worse"]
        self.best = state_dict["best"]
        self.cooldown_counter = state_dict["cooldown_counter"]
        self.num_bad_epochs = state_dict["num_bad_epochs"]
        self.last_epoch = state_dict["last_epoch"]
        self._last_lr = list(state_dict["_last_lr"])


def _format_param(name: str, optimizer: Optimizer, param: Any) -> list[Any]:
    """One value per param group: a list/tuple of matching length, or one value repeated (PyTorch's rule)."""
    if isinstance(param, (list, tuple)):
        if len(param) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(param)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(param)
    return [param] * len(optimizer.param_groups)


def _set_momentum(group: dict[str, Any], momentum: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _init_momentum(
    scheduler: Any, optimizer: Optimizer, base_momentum: Any, max_momentum: Any, last_epoch: int
) -> tuple[list[Any], list[Any]]:
    """Shared by OneCycleLR and CyclicLR: check the optimizer has momentum/betas and store the bounds."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
    scheduler.use_beta1 = "betas" in optimizer.defaults
    max_momentums = _format_param("max_momentum", optimizer, max_momentum)
    base_momentums = _format_param("base_momentum", optimizer, base_momentum)
    if last_epoch == -1:
        for m_momentum, b_momentum, group in zip(max_momentums, base_momentums, optimizer.param_groups):
            _set_momentum(group, m_momentum, scheduler.use_beta1)
            group["max_momentum"] = m_momentum
            group["base_momentum"] = b_momentum
    return max_momentums, base_momentums


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


def _check_sub_schedulers(owner: str, optimizer: Optimizer, schedulers: Any) -> None:
    for idx, scheduler in enumerate(schedulers):
        if not hasattr(scheduler, "optimizer"):
            raise TypeError(f"{owner} at index {idx} should have `optimizer` as its attribute.")
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(
                f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires additional kwargs to be "
                f"specified when calling `step`, but got one at index {idx} in the given schedulers sequence."
            )
        if optimizer != scheduler.optimizer:
            raise ValueError(
                f"{owner} expects all schedulers to belong to the same optimizer, but got scheduler "
                f"{type(scheduler).__name__} at index {idx} has {scheduler.optimizer}, which is different from "
                f"{type(optimizer).__name__}."
            )


class SequentialLR(LRScheduler):
    """Run `schedulers[i]` between milestones[i−1] and milestones[i]; each restarts at its milestone."""

    def __init__(
        self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int], last_epoch: int = -1
    ) -> None:
        """`milestones`: one fewer than `schedulers`, the epochs where the next one takes over."""
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        _check_sub_schedulers(name, optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than the number of "
                f"milestone points, but got number of schedulers {len(schedulers)} and the number of milestones "
                f"to be equal to {len(milestones)}"
            )
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self._recursive_undo(self)
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = list(self._schedulers[idx].get_last_lr())

    def _recursive_undo(self, sched: Any) -> None:
        """Step every (nested) scheduler's last_epoch back by one: their constructors each took a step."""
        if hasattr(sched, "_schedulers"):
            for s in sched._schedulers:
                self._recursive_undo(s)
        elif hasattr(sched, "last_epoch"):
            sched.last_epoch -= 1

    def step(self) -> None:
        """Advance one epoch with the scheduler whose interval it is (restarted at epoch 0 at its milestone)."""
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = list(scheduler.get_last_lr())

    def state_dict(self) -> dict[str, Any]:
        """``_milestones``, ``last_epoch``, ``_last_lr`` and each scheduler's state under ``_schedulers``."""
        return {
            "_milestones": list(self._milestones),
            "last_epoch": self.last_epoch,
            "_last_lr": list(self._last_lr),
            "_schedulers": [s.state_dict() for s in self._schedulers],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore `state_dict()`, the sub-schedulers' states included."""
        _check_keys(type(self).__name__, state_dict, self.state_dict())
        self._milestones = list(state_dict["_milestones"])
        self.last_epoch = state_dict["last_epoch"]
        self._last_lr = list(state_dict["_last_lr"])
        for s, sd in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(sd)


class ChainedScheduler(LRScheduler):
    """Step several schedulers together, each applied to the rates left by the previous one."""

    def __init__(self, schedulers: list[LRScheduler], optimizer: Optimizer | None = None) -> None:
        """`schedulers`: chained in order; all must share one optimizer."""
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_sub_schedulers(name, optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]

    def step(self) -> None:
        """Step every scheduler in order."""
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self._schedulers[-1].optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """``_last_lr`` and each scheduler's state under ``_schedulers``."""
        return {"_last_lr": list(self._last_lr), "_schedulers": [s.state_dict() for s in self._schedulers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore `state_dict()`, the sub-schedulers' states included."""
        _check_keys(type(self).__name__, state_dict, self.state_dict())
        self._last_lr = list(state_dict["_last_lr"])
        for s, sd in zip(self._schedulers, state_dict["_schedulers"]):
            s.load_state_dict(sd)


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: η = η_min + (η₀ − η_min)(1 + cos(π T_cur / T_i)) / 2, restarting after T_i epochs, T_i ← T_i·T_mult."""

    def __init__(
        self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        """First period `T_0` (int >= 1); each next one `T_mult` (int >= 1) times longer."""
        if isinstance(T_0, bool) or not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if isinstance(T_mult, bool) or not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        """The closed form at T_cur within the current period T_i."""
        return [
            self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base in self.base_lrs
        ]

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one step, or jump to `epoch` (may be fractional, e.g. ``epoch + i / iters``)."""
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _extra_state(self) -> dict[str, Any]:
        return {"T_0": self.T_0, "T_i": self.T_i, "T_mult": self.T_mult, "eta_min": self.eta_min, "T_cur": self.T_cur}

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        for key in ("T_0", "T_i", "T_mult", "eta_min", "T_cur"):
            setattr(self, key, state_dict[key])


class OneCycleLR(LRScheduler):
    """The 1cycle policy: η rises from max_lr/div_factor to max_lr, then anneals to a tiny minimum.

    Stepped once per batch, `total_steps` times in all (or ``epochs * steps_per_epoch``).
    With `cycle_momentum` the momentum (SGD) or β₁ (Adam) moves inversely between
    `max_momentum` and `base_momentum`. `three_phase` comes back down to the initial η
    symmetrically before the final annealing.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        """PyTorch's arguments and checks (ValueError with its messages)."""
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        n = self.total_steps
        if three_phase:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": float(2 * pct_start * n) - 2, "start_lr": "max_lr", "end_lr": "initial_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
                {"end_step": n - 1, "start_lr": "initial_lr", "end_lr": "min_lr",
                 "start_momentum": "max_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        else:
            self._schedule_phases = [
                {"end_step": float(pct_start * n) - 1, "start_lr": "initial_lr", "end_lr": "max_lr",
                 "start_momentum": "max_momentum", "end_momentum": "base_momentum"},
                {"end_step": n - 1, "start_lr": "max_lr", "end_lr": "min_lr",
                 "start_momentum": "base_momentum", "end_momentum": "max_momentum"},
            ]  # fmt: skip
        if not isinstance(pct_start, float) or pct_start < 0 or pct_start > 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy
        max_lrs = _format_param("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for idx, group in enumerate(optimizer.param_groups):
                group["initial_lr"] = max_lrs[idx] / div_factor
                group["max_lr"] = max_lrs[idx]
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = False
        if cycle_momentum:
            _init_momentum(self, optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        """The rate (and momentum) of the phase that `last_epoch` falls in; ValueError past total_steps."""
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
                    if self.cycle_momentum:
                        momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                    break
                start_step = phase["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                _set_momentum(group, momentum, self.use_beta1)
        return lrs

    def _extra_state(self) -> dict[str, Any]:
        return {
            "total_steps": self.total_steps,
            "_schedule_phases": [dict(p) for p in self._schedule_phases],
            "_anneal_func_type": self._anneal_func_type,
            "cycle_momentum": self.cycle_momentum,
            "use_beta1": self.use_beta1,
        }

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        self.total_steps = state_dict["total_steps"]
        self._schedule_phases = [dict(p) for p in state_dict["_schedule_phases"]]
        self._anneal_func_type = state_dict["_anneal_func_type"]
        self.cycle_momentum = state_dict["cycle_momentum"]
        self.use_beta1 = state_dict["use_beta1"]


class CyclicLR(LRScheduler):
    """Cyclical learning rate: η goes triangularly between base_lr and max_lr (step_size_up + step_size_down steps).

    Modes: ``triangular`` (constant amplitude), ``triangular2`` (halved each cycle), ``exp_range``
    (scaled by gamma**iteration), or a custom `scale_fn`. With `cycle_momentum` the momentum
    (or Adam's β₁) moves inversely between max_momentum and base_momentum.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        """PyTorch's arguments and checks."""
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        base_lrs = _format_param("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _format_param("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = False
        if cycle_momentum:
            self.max_momentums, self.base_momentums = _init_momentum(
                self, optimizer, base_momentum, max_momentum, last_epoch
            )
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is None and self.mode in ("triangular", "triangular2"):
            self.scale_mode = "cycle"
        elif self._scale_fn_custom is None and self.mode == "exp_range":
            self.scale_mode = "iterations"

    def scale_fn(self, x: float) -> float:
        """The amplitude factor of cycle (or iteration) `x`."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        """The triangular wave at `last_epoch` (and the momentum, set directly in the groups)."""
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        arg = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * self.scale_fn(arg)
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, base_m, max_m in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, max_m - (max_m - base_m) * scale_factor * self.scale_fn(arg), self.use_beta1)
        return lrs

    def _extra_state(self) -> dict[str, Any]:
        state = {
            "max_lrs": list(self.max_lrs),
            "total_size": self.total_size,
            "step_ratio": self.step_ratio,
            "mode": self.mode,
            "gamma": self.gamma,
            "scale_mode": self.scale_mode,
            "cycle_momentum": self.cycle_momentum,
            "use_beta1": self.use_beta1,
        }
        if self.cycle_momentum:
            state["base_momentums"] = list(self.base_momentums)
            state["max_momentums"] = list(self.max_momentums)
        return state

    def _load_extra(self, state_dict: dict[str, Any]) -> None:
        for key in ("total_size", "step_ratio", "mode", "gamma", "scale_mode", "cycle_momentum", "use_beta1"):
            setattr(self, key, state_dict[key])
        self.max_lrs = list(state_dict["max_lrs"])
        if self.cycle_momentum:
            self.base_momentums = list(state_dict["base_momentums"])
            self.max_momentums = list(state_dict["max_momentums"])
        self._init_scale_fn()
