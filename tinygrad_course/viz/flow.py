"""What one backward pass did: the gradient along every edge and the order of the nodes.

The engine reports each processed node to `autograd.record_backward()`; `GradFlow` wraps that
record and answers the renderer's questions (∂C/∂out of a node, the gradient an edge carried,
the step number, where a NaN/Inf first appeared).

Three ways to get one:

    flow = viz.backward(loss)          # loss.backward() under the recorder
    with viz.watch() as flow:          # record whatever backward runs in the block
        loss.backward()
    flow = viz.flow_of(loss)           # a dry run: leaves' .grad stay untouched
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import autograd
from tinygrad_course.tensor import Tensor


class GradFlow:
    """The gradients and processing order of the backward pass(es) recorded in `record`.

    ``steps[k] = (node, grad_output, grad_inputs)`` in the engine's order; `order()` maps
    id(node) → step number (1, 2, …), exactly the engine's `BackwardRecord.order()`.
    """

    def __init__(self, record: autograd.BackwardRecord) -> None:
        self.record = record
        self._indexed = -1
        self._out: dict[int, np.ndarray] = {}
        self._edges: dict[tuple[int, int], np.ndarray | None] = {}
        self._order: dict[int, int] = {}
        self._nan_origin: int | None = None

    @property
    def steps(self) -> list[tuple[Any, Any, tuple[Any, ...]]]:
        """The engine's steps, (node, grad_output, grad_inputs), in processing order."""
        return self.record.steps

    def __len__(self) -> int:
        return len(self.record.steps)

    def order(self) -> dict[int, int]:
        """id(node) → the step (1, 2, …) at which backward processed it."""
        self._index()
        return self._order

    def reference(self) -> float:
        """‖∂C/∂C‖: the norm of the gradient backward started from (1 for a scalar loss)."""
        if not self.record.steps:
            return 1.0
        seed = float(np.linalg.norm(np.asarray(self.record.steps[0][1]._array, dtype=np.float64).ravel()))
        return seed if np.isfinite(seed) and seed > 0 else 1.0

    def grad_output(self, node: Any, upto: int | None = None) -> np.ndarray | None:
        """∂C/∂out that `node` received, if it was processed (by step `upto`, when given)."""
        self._index()
        step = self._order.get(id(node))
        if step is None or (upto is not None and step > upto):
            return None
        return self._out[id(node)]

    def processed(self, node: Any, upto: int | None = None) -> bool:
        """Whether backward processed `node` (by step `upto`, when given)."""
        step = self.order().get(id(node))
        return step is not None and (upto is None or step <= upto)

    def edge_grad(self, node: Any, k: int) -> np.ndarray | None:
        """The gradient `node` sent to its k-th input, summed to that input's shape; None if none."""
        self._index()
        return self._edges.get((id(node), k))

    def nan_origin(self) -> int | None:
        """id of the first node (in processing order) that turned finite gradients into NaN/Inf."""
        self._index()
        return self._nan_origin

    def _index(self) -> None:
        steps = self.record.steps
        if self._indexed == len(steps):
            return
        self._order = self.record.order()
        self._out.clear()
        self._edges.clear()
        self._nan_origin = None
        # The record holds gradients before the engine sums broadcast ones to the input's
        # shape; the edge shows what the input received, so apply the engine's own helper.
        with tc.no_grad():
            for step, (node, grad_out, grad_ins) in enumerate(steps):
                out = np.asarray(grad_out._array)
                self._out[id(node)] = out
                finite_in = bool(np.all(np.isfinite(out)))
                finite_all = finite_in
                for k, (t, g) in enumerate(zip(node.parents, grad_ins)):
                    if g is None or not t.requires_grad:
                        self._edges[(id(node), k)] = None
                        continue
                    if g.shape != t._array.shape:
                        g = autograd.sum_to_shape(g, t._array.shape, node)
                    arr = np.asarray(g._array)
                    self._edges[(id(node), k)] = arr
                    finite_all = finite_all and bool(np.all(np.isfinite(arr)))
                if self._nan_origin is None and (not finite_all) and (finite_in or step == 0):
                    self._nan_origin = id(node)
        self._indexed = len(steps)


@contextmanager
def watch() -> Iterator[GradFlow]:
    """Record the backward pass(es) run inside the block; pass the result to draw_graph(flow=...)."""
    with autograd.record_backward() as record:
        yield GradFlow(record)


def backward(
    tensor: Tensor, gradient: Tensor | None = None, retain_graph: bool = False, create_graph: bool = False
) -> GradFlow:
    """`tensor.backward(...)` (leaves' .grad accumulate as usual), returning the recorded flow."""
    with watch() as flow:
        tensor.backward(gradient, retain_graph=retain_graph, create_graph=create_graph)
    return flow


def flow_of(root: Tensor) -> GradFlow:
    """A dry-run backward from scalar `root`: records the flow but leaves every .grad untouched.

    Uses `autograd.grad` with retain_graph=True, so the graph can still be backpropagated later.
    """
    return dry_run(root, "flow_of")


def dry_run(root: Tensor, op: str) -> GradFlow:
    """`flow_of` for the function `op` (named in error messages)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(root).__name__}")
    if root.grad_fn is None:
        raise RuntimeError(
            f"{op}: tensor of shape {tuple(root.shape)} has no grad_fn, so there is no backward "
            "pass to record; compute it from tensors with requires_grad=True"
        )
    leaves: list[Tensor] = []
    seen: set[int] = set()
    nodes = autograd.topological_order([root.grad_fn])
    if any(node.released for node in nodes):
        raise RuntimeError(
            f"{op}: the graph of this tensor was already freed by a backward() without "
            "retain_graph=True. Record that backward instead: flow = viz.backward(loss) (or "
            "`with viz.watch() as flow: loss.backward()`) and pass flow=flow; or call this "
            "before backward()."
        )
    for node in nodes:
        for t in node.parents:
            if t.grad_fn is None and t.requires_grad and id(t) not in seen:
                seen.add(id(t))
                leaves.append(t)
    with watch() as flow:
        tc.grad(root, leaves, retain_graph=True, allow_unused=True)
    return flow
