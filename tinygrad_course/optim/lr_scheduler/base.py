"""The scheduler base class (PyTorch's LRScheduler) and the argument checks the schedulers share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tinygrad_course.optim.optimizer import Optimizer


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
