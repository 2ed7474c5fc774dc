"""Learning-rate schedules: η as a function of the epoch, PyTorch's torch.optim.lr_scheduler.

Each scheduler writes the new η into every ``param_group["lr"]`` of its optimizer when
``step()`` is called (once per epoch, after ``optimizer.step()``). Like PyTorch, the schedules
are computed in their chainable (recursive) form from the current ``group["lr"]``; the closed
forms in the docstrings are what they equal when nothing else changes the rates.
"""

from __future__ import annotations

import math
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
        self._step_count = 0
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The rates for `last_epoch`, from the current ones (the chainable form; called by `step`)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The rates set by the last `step`, one per param group."""
        return self._last_lr

    def step(self) -> None:
        """Advance one epoch: last_epoch += 1 and write the new η into every param group."""
        self._step_count += 1
        self.last_epoch += 1
        values = self.get_lr()
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
