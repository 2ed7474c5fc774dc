"""The reference engine: backpropagation stated plainly, Tensors all the way. Read this one first.

The fast engine (`engine.py` and `Primitive.apply`) gives the same results — the core test
suite runs on both — and takes shortcuts that this file does without. Select this engine with
``tc.autograd.set_engine("reference")`` or ``TINYGRAD_COURSE_ENGINE=reference``.

Forward, ``z = F.apply(x, y)``: run ``F.forward`` on the arrays; in grad mode, remember the
inputs in the node ``ctx`` and make it the output's ``grad_fn``.

Backward, from a loss c: every node gets g = ∂c/∂(its output), summed over all the paths
that use it. Nodes are visited so that a node's g is complete before it is used: newest
first (a topological order). Each node turns g into one gradient per input with its own
``backward`` — the chain rule, ∂c/∂x = ∂c/∂z · ∂z/∂x — and hands them on. A leaf keeps what
arrives in ``.grad``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd import function, version
from tinygrad_course.autograd.anomaly import check_finite
from tinygrad_course.autograd.function import Function, Primitive, explain_broadcast, output_array, raise_freed, record
from tinygrad_course.autograd.grad_mode import mode, set_grad_enabled
from tinygrad_course.autograd.graph import run_hooks, sum_to_shape, topological_order


def apply(cls: type[Primitive], *inputs: Any, **kwargs: Any) -> Any:
    """z = cls(inputs): forward on the arrays; in grad mode the node ctx is recorded as z.grad_fn."""
    if mode.vmap_depth:  # inside vmap: batched inputs go to the op's batching rule
        out = function.batched_apply(cls, inputs, kwargs)
        if out is not None:
            return out
    ctx = cls()
    ctx.needs_input_grad = tuple(t.requires_grad for t in inputs)
    try:
        data = cls.forward(ctx, *[t._array for t in inputs], **kwargs)
    except ValueError:
        if cls.broadcasts:  # name the op and the shapes instead of numpy's message
            explain_broadcast(cls.__name__.lower(), [t.shape for t in inputs])
        raise
    data = output_array(ctx, data)
    if data.dtype.kind == "c":
        function.mark_complex(cls, ctx, inputs)  # refuses an op without a complex rule
    if mode.grad_enabled and any(ctx.needs_input_grad):
        record(ctx, inputs, data)  # ctx.parents = inputs, plus a creation number
        return function.Tensor._make(data, ctx)
    return function.Tensor._make(data, None)


def saved_tensors(ctx: Function) -> tuple[Any, ...]:
    """What ctx.save_for_backward kept, as Tensors of the graph (see Function.unpack_saved)."""
    return ctx.unpack_saved()


def run_backward(
    roots: Sequence[Any],
    seeds: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
) -> list[Any] | None:
    """Propagate ∂c/∂root = seed back through the graph.

    Without `inputs`, gradients accumulate into ``.grad`` of leaves (and of tensors that called
    ``retain_grad()``); with `inputs` (``tc.grad``) they are returned instead, one per input.
    With `create_graph` the formulas run in grad mode, so the gradients have a graph of their own.
    """
    # ∂c/∂input is collected for grad()'s inputs: keyed by their node, or by id() for a leaf.
    wanted = {(t.grad_fn if t.grad_fn is not None else id(t)): k for k, t in enumerate(inputs or [])}
    results: list[Any] = [None] * len(wanted)
    # grads[node] = ∂c/∂(node's output), summed over the paths seen so far.
    grads: dict[Function, Any] = {}
    # leaf_grads[id(leaf)] = (leaf, ∂c/∂leaf summed over its uses), delivered once at the end.
    leaf_grads: dict[int, tuple[Any, Any]] = {}
    for root, seed in zip(roots, seeds):
        if root.grad_fn is None:
            _add_leaf_grad(leaf_grads, root, seed)
        else:
            grads[root.grad_fn] = grads[root.grad_fn] + seed if root.grad_fn in grads else seed
    with set_grad_enabled(create_graph):
        for node in topological_order(list(grads)):
            g = grads.pop(node, None)
            if g is None:
                continue  # reachable, but no gradient flows into it
            if node.released:
                raise_freed(node)
            version.check_saved(node)  # a saved value written in place since forward: raise
            g = run_hooks(node._hooks, g)
            for ref in node._retained or []:  # tensors that called retain_grad()
                if ref() is not None:
                    ref().grad = _accumulate(ref().grad, g, create_graph)
            if node in wanted:
                results[wanted[node]] = _accumulate(results[wanted[node]], g, create_graph)
            if node._complex:  # a holomorphic op on complex numbers: Jᴴ g = conj(Jᵀ conj(g))
                grad_inputs = node.backward(node, g.conj())
                grad_inputs = grad_inputs if isinstance(grad_inputs, tuple) else (grad_inputs,)
                grad_inputs = tuple(None if gi is None else gi.conj() for gi in grad_inputs)
            else:
                grad_inputs = node.backward(node, g)  # the chain rule, one formula per op
            if not isinstance(grad_inputs, tuple):
                grad_inputs = (grad_inputs,)
            _report(node, g, grad_inputs)
            if len(grad_inputs) != len(node.parents):
                raise RuntimeError(
                    f"{node.name()}: backward returned {len(grad_inputs)} gradients for "
                    f"{len(node.parents)} inputs; return one (or None) per input"
                )
            for x, gx in zip(node.parents, grad_inputs):
                if gx is None or not x.requires_grad:
                    continue
                if gx.shape != x.shape:
                    gx = sum_to_shape(gx, x.shape, node)  # undo broadcasting
                if gx.dtype != x.dtype:
                    gx = gx.to(x.dtype)
                if x.grad_fn is None:
                    _add_leaf_grad(leaf_grads, x, gx)
                else:
                    grads[x.grad_fn] = grads[x.grad_fn] + gx if x.grad_fn in grads else gx
            if not retain_graph:
                node._saved = None  # free the saved values; a second backward raises
        for leaf, g in leaf_grads.values():  # each leaf's hooks see its whole gradient, once
            _deliver_to_leaf(leaf, g, wanted, results, create_graph)
    return results if inputs is not None else None


def _add_leaf_grad(leaf_grads: dict[int, tuple[Any, Any]], leaf: Any, g: Any) -> None:
    """Sum another use's gradient into the leaf's total for this backward."""
    if id(leaf) in leaf_grads:
        g = leaf_grads[id(leaf)][1] + g
    leaf_grads[id(leaf)] = (leaf, g)


def _deliver_to_leaf(leaf: Any, g: Any, wanted: dict[Any, int], results: list[Any], create_graph: bool) -> None:
    """A leaf's gradient: its hooks, then into grad()'s result or into ``.grad``."""
    g = run_hooks(leaf._hooks, g)
    if wanted:
        if id(leaf) in wanted:
            results[wanted[id(leaf)]] = _accumulate(results[wanted[id(leaf)]], g, create_graph)
    else:
        leaf.grad = _accumulate(leaf.grad, g, create_graph)


def _accumulate(current: Any, g: Any, create_graph: bool) -> Any:
    """Accumulate, never assign: current + g (a copy of g at first, so that each .grad owns its array)."""
    if current is not None:
        return current + g
    if create_graph or type(g) is not function.Tensor:  # (a vmap-batched g is already a result of its own)
        return g
    return function.Tensor._make(np.array(g._array), None)


def _report(node: Function, g: Any, grad_inputs: tuple[Any, ...]) -> None:
    """detect_anomaly's nan/inf check and record_backward's recorder."""
    if mode.anomaly:
        check_finite(node, grad_inputs)
    if mode.recorder is not None:
        mode.recorder(node, g, grad_inputs)
