"""PyTorch names that scripts use and that need no machinery here: ``tc.Size`` and ``tc.compile``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class Size(tuple):
    """PyTorch's torch.Size: a tuple of dimension sizes (``t.shape`` is a plain tuple here, equal to it)."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape: the product of the sizes."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"tc.Size({list(self)})"


def compile(model: Any = None, *, fullgraph: bool = False, dynamic: Any = None, backend: Any = "inductor",  # noqa: A001
            mode: Any = None, options: Any = None, disable: bool = False) -> Any:
    """PyTorch's torch.compile: here there is no compiler, so the model (or function) comes back as it is.

    The results are the ones PyTorch's compiled model gives up to rounding; only PyTorch's speed-up
    is missing. Used as a decorator with arguments (``@tc.compile(mode=...)``) it returns the decorator.
    """
    if model is None:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return fn
        return decorate
    if not callable(model):
        raise TypeError(f"compile: expected a module or a function, got {type(model).__name__}")
    return model
