"""Debugging tools of the engine: `detect_anomaly` and `record_backward`.

Both set a per-thread switch on `grad_mode.mode`; the engines read it and, when it is set,
check each node's gradients for nan/inf or report each node they process.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygrad_course.autograd.grad_mode import mode


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within this block, the first nan/inf produced in backward raises, naming the op and where it was made.

    Each op made inside the block remembers the stack of its forward call, so the error shows
    the line of your program that created the op whose backward went wrong.
    """
    previous = mode.anomaly
    mode.anomaly = True
    try:
        yield
    finally:
        mode.anomaly = previous


def check_finite(node: Any, grads: Sequence[Any]) -> None:
    """Raise if a gradient (a Tensor or None) node.backward returned holds nan or inf (detect_anomaly)."""
    for k, g in enumerate(grads):
        if g is not None and not np.all(np.isfinite(g._array)):
            where = "".join(traceback.format_list(node._trace or []))
            kind = "nan" if np.isnan(g._array).any() else "inf"
            raise RuntimeError(
                f"detect_anomaly: function '{node.name()}' returned {kind} values in its "
                f"gradient for input {k} (shape {tuple(g.shape)}).\n"
                f"The forward call that created it:\n{where}"
            )


class BackwardRecord:
    """What the engine did in one or more backward passes, in processing order.

    ``steps[k] = (node, grad_output, grad_inputs)``: the k-th node processed, the gradient
    ∂c/∂out it received and the gradients it sent to each input (before un-broadcasting).
    """

    def __init__(self) -> None:
        self.steps: list[tuple[Any, Any, tuple[Any, ...]]] = []

    def __call__(self, node: Any, grad_output: Any, grad_inputs: tuple[Any, ...]) -> None:
        self.steps.append((node, grad_output, grad_inputs))

    def order(self) -> dict[int, int]:
        """id(node) → the step (1, 2, …) at which backward processed it."""
        return {id(node): k + 1 for k, (node, _, _) in enumerate(self.steps)}


@contextmanager
def record_backward() -> Iterator[BackwardRecord]:
    """Record every node the engine processes inside the block (for the renderer and teaching)."""
    previous = mode.recorder
    record = BackwardRecord()
    mode.recorder = record
    try:
        yield record
    finally:
        mode.recorder = previous
