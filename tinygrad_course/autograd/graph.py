"""What both engines (and the renderer) share about the graph: its order, un-broadcasting, module scopes."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from typing import Any

# The modules whose forward is running, outermost first: nn.Module.__call__ pushes and pops
# them, and each new node remembers them, so that the renderer can draw modules as clusters.
module_stack: list[Any] = []
_creation_number = operator.attrgetter("_seq")
# The graph's clock: each new node, and each in-place write, gets the next number. Newest first
# is a topological order; a write stamped after a node was made may have changed what it saved.
next_creation_number = itertools.count().__next__


class module_scope:  # noqa: N801 - used like a function, as contextlib's context managers are
    """Mark the ops created inside as belonging to `module` (what nn.Module.__call__ does)."""

    __slots__ = ("module",)

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        module_stack.append(self.module)

    def __exit__(self, *exc: object) -> None:
        module_stack.pop()


def topological_order(roots: Sequence[Any]) -> list[Any]:
    """Nodes reachable from `roots`, each before every node it depends on (no recursion).

    An explicit stack collects the reachable nodes; sorting them by creation number, newest
    first, is a topological order, because a node is always created after the nodes of its
    inputs (PyTorch's engine orders its work by the same sequence numbers).
    """
    seen = set(roots)
    stack = list(seen)
    while stack:
        for t in stack.pop().parents:
            fn = t.grad_fn
            if fn is not None and fn not in seen:
                seen.add(fn)
                stack.append(fn)
    return sorted(seen, key=_creation_number, reverse=True)


def sum_to_shape(g: Any, shape: tuple[int, ...], node: Any = None) -> Any:
    """Sum a broadcast gradient g back to an input's `shape`: the one place broadcasting is undone.

    If x of shape (3, 1) was broadcast to z of shape (2, 3, 4), then ∂c/∂x sums g = ∂c/∂z over
    the new leading dim and over the dim where x had size 1. Works on Tensors and on numpy
    arrays alike (``sum`` over axes, then ``reshape``).
    """
    lead = g.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
        raise RuntimeError(f"{node!r}: returned a gradient of shape {tuple(g.shape)} for an input of shape {shape}")
    axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape) if n == 1 and g.shape[lead + d] != 1)
    if axes:
        g = g.sum(axes)  # drops the summed dims ...
    if g.shape != shape:
        g = g.reshape(shape)  # ... and this puts back the size-1 ones
    return g


def run_hooks(hooks: list[Any] | None, g: Any) -> Any:
    """Call each hook registered on a tensor with its gradient g, in order; a hook may return a replacement."""
    for hook in hooks or ():
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g
