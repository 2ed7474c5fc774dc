"""Grad mode: whether new ops record a graph. Per thread, as in PyTorch.

The switches live on one `threading.local` object, `mode`, so that a backward (which turns
grad mode off while its formulas run) or a `no_grad()` block in one thread never changes
another thread's ops. They are the library's only mutable global state besides the seeded
random generator.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Mode(threading.local):
    """The per-thread switches read by every op and by the engines.

    Attributes:
        grad_enabled: new ops record a graph (False inside `no_grad()` and in a plain backward).
        anomaly: set by `detect_anomaly()`: ops remember where they were made, backward checks for nan/inf.
        recorder: set by `record_backward()`: called with each node the engine processes.
        vmap_depth: how many vmaps are running batched (ops then look for batched inputs).
        vmap_sizes: the batch size of each active vmap level.
    """

    def __init__(self) -> None:
        # Set per thread (threading.local runs this in each new thread): an instance attribute
        # is read faster than a class default, and every op reads grad_enabled.
        self.grad_enabled = True
        self.anomaly = False
        self.recorder: Callable[..., None] | None = None
        self.vmap_depth = 0
        self.vmap_sizes: dict[int, int] = {}


mode = Mode()


def is_grad_enabled() -> bool:
    """True when new ops record a graph (see `no_grad`)."""
    return mode.grad_enabled


class _Switch:
    """Set grad mode for a block and restore what it was: the core of no_grad and enable_grad."""

    def __init__(self, wanted: bool) -> None:
        self.wanted = wanted
        self.previous = True

    def __enter__(self) -> None:
        self.previous = mode.grad_enabled
        mode.grad_enabled = self.wanted

    def __exit__(self, *exc: object) -> None:
        mode.grad_enabled = self.previous

    def __call__(self, fn: F) -> F:
        wanted = self.wanted

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _Switch(wanted):
                return fn(*args, **kwargs)

        return functools.wraps(fn)(wrapper)  # type: ignore[return-value]


class set_grad_enabled(_Switch):  # noqa: N801 - PyTorch's name
    """Set grad mode on or off: at once when called, for a block as a context manager, or around a function.

    ``set_grad_enabled(False)`` in a ``with`` is `no_grad()`; ``set_grad_enabled(True)`` is
    `enable_grad()`. As in PyTorch, the plain call ``tc.set_grad_enabled(False)`` switches this
    thread's mode until it is switched back.
    """

    def __init__(self, mode_: bool) -> None:
        super().__init__(bool(mode_))
        self.previous = mode.grad_enabled
        mode.grad_enabled = self.wanted

    def __enter__(self) -> None:
        mode.grad_enabled = self.wanted  # `previous` was taken before the call switched the mode

    def __call__(self, fn: F) -> F:
        mode.grad_enabled = self.previous  # as a decorator it changes nothing until fn runs
        return super().__call__(fn)


class no_grad(_Switch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) under which ops record no graph: outputs never require grad.

    Use it for evaluation, where no gradient is needed::

        with tc.no_grad():
            y = model(x)              # y.requires_grad is False: no graph was kept

    The mode is per thread and restored on exit, even on an exception. As a decorator it may be
    written with or without parentheses (``@tc.no_grad()`` or ``@tc.no_grad``).
    """

    def __new__(cls, fn: Any = None) -> Any:
        if callable(fn):  # bare @no_grad: decorate at once
            return _Switch(False)(fn)
        return super().__new__(cls)

    def __init__(self, fn: Any = None) -> None:
        super().__init__(False)


class inference_mode(_Switch):  # noqa: N801 - PyTorch's name
    """PyTorch's faster no_grad for inference; here it is `no_grad` (``inference_mode(False)`` records)."""

    def __new__(cls, mode_: Any = True) -> Any:
        if callable(mode_):  # bare @inference_mode
            return _Switch(False)(mode_)
        return super().__new__(cls)

    def __init__(self, mode_: Any = True) -> None:
        super().__init__(not bool(mode_))


class enable_grad(_Switch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that turns graph recording back on inside `no_grad`."""

    def __init__(self) -> None:
        super().__init__(True)
