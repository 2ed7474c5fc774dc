"""The fast engine: the same results as `reference.py` (tested: the core suite runs on both); each shortcut and its measured gain is listed in docs/how-autograd-works.md.

Read `reference.py` first: it is the plain statement of backpropagation. This engine walks the
same topological order and calls the same `backward` formulas; what it adds, each measured
(docs/how-autograd-works.md lists the gains), is:

- gradients travel as numpy arrays between ops in a plain backward (no create_graph): an op
  marked ``array_backward`` gets and returns arrays, and a Tensor is made only where someone
  sees the gradient (a hook, a ``.grad``, a ``grad()`` result, the recorder, an op without
  the flag);
- a parameter's first ``.grad`` takes the gradient array itself when nobody else holds it,
  instead of a copy;
- hooks, retained gradients and ``grad()`` inputs are looked up only for the nodes that have them;
- grad mode is switched by assignment, not by a context manager object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd import function, version
from tinygrad_course.autograd.anomaly import check_finite
from tinygrad_course.autograd.function import Function, raise_freed
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.autograd.graph import run_hooks, sum_to_shape, topological_order


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Any] | None = None,
    trace: Callable[[Function, Any, tuple[Any, ...]], None] | None = None,
) -> list[Any] | None:
    """The engine: propagate ∂c/∂root backwards in topological order.

    Without `inputs`, gradients accumulate into ``.grad`` of leaves (and of tensors that called
    ``retain_grad()``); with `inputs`, the gradients with respect to them are returned instead.
    `trace(node, grad_output, grad_inputs)` is called after each node, in processing order.
    """
    if trace is None:
        trace = mode.recorder
    # In a plain backward (no create_graph) the gradients travel as numpy arrays: ops marked
    # array_backward take and return arrays, and a Tensor is made only where someone sees the
    # gradient (hooks, .grad, grad() results, trace, other ops' backward). With create_graph
    # they are Tensors, so that every formula is recorded.
    # Seeds batched by vmap (``is_grads_batched``) take the Tensor path too, where every
    # formula runs as Tensor ops with their batching rules (recorded only with create_graph).
    plain = not create_graph and all(type(g) is function.Tensor for g in root_grads)
    # Gradients are keyed by the node object itself (hashed by identity) or, for the leaves
    # and inputs of grad(), by id() of the tensor.
    wanted: dict[Any, int] = {}
    results: list[Any] = []
    if inputs is not None:
        results = [None] * len(inputs)
        for k, t in enumerate(inputs):
            wanted[t.grad_fn if t.grad_fn is not None else id(t)] = k
    grads: dict[Function, Any] = {}
    # ids of the arrays (their memory owners) given to a .grad in this pass, starting with the
    # caller's seeds: a later gradient sharing that memory is copied (see _accumulate).
    handed_out: set[int] = set()
    root_nodes = []
    hooked: dict[int, list[Any]] = {}  # leaves with hooks: [leaf, gradient summed so far]
    for t, g in zip(roots, root_grads):
        node = t.grad_fn
        if plain:
            seed = g._array
            handed_out.add(id(seed if seed.base is None else seed.base))
            g = seed
        if node is None:
            # backward() on a leaf: its gradient is the seed itself.
            _deliver_leaf(t, g, plain, wanted, results, handed_out, hooked)
            continue
        if node._saved is None:
            raise_freed(node)
        grads[node] = grads[node] + g if node in grads else g
        root_nodes.append(node)
    order = topological_order(root_nodes)
    watch = mode.anomaly or trace is not None
    # Nodes made before the latest in-place write check that their saved values are unchanged.
    last_write = version.last_write
    # Grad mode is create_graph while the backward formulas run (what set_grad_enabled does,
    # spelled out: a context manager object costs more than the loop of a small graph).
    previous_mode = mode.grad_enabled
    mode.grad_enabled = create_graph
    try:
        for node in order:
            grad_out = grads.pop(node, None)
            if grad_out is None:
                continue
            if node._saved is None:  # released by an earlier backward
                raise_freed(node)
            if node._seq < last_write:
                version.check_saved(node)
            if node._hooks or node._retained or (wanted and node in wanted):
                grad_out = _visit_node(node, grad_out, plain, wanted, results, handed_out)
            if node._complex:
                grad_ins = _complex_backward(node, grad_out, plain)
            elif plain and not node.array_backward:
                grad_ins = _backward_on_tensors(node, grad_out)
            else:
                grad_ins = type(node).backward(node, grad_out)
                if type(grad_ins) is not tuple:
                    grad_ins = (grad_ins,)
            parents = node.parents
            if watch:
                _watch(node, grad_out, grad_ins, plain, trace)
            if len(grad_ins) != len(parents):
                raise RuntimeError(
                    f"{node.name()}: backward returned {len(grad_ins)} gradients for "
                    f"{len(parents)} inputs; return one (or None) per input"
                )
            for t, g in zip(parents, grad_ins):
                if g is None or not t._requires_grad:
                    continue
                data = t._array
                if plain:
                    if type(g) is not np.ndarray or g.shape != data.shape or g.dtype != data.dtype:
                        g = _fit(g, data, node, plain)
                elif g.shape != data.shape or g.dtype != data.dtype:  # shape: a batched g's per-sample one
                    g = _fit(g, data, node, plain)
                fn = t.grad_fn
                if fn is None:
                    if plain and t.grad is None and not t._hooks and not wanted:
                        t.grad = _own_grad(g, handed_out)  # the usual case: a parameter's first gradient
                    else:
                        _deliver_leaf(t, g, plain, wanted, results, handed_out, hooked)
                elif fn in grads:
                    grads[fn] = grads[fn] + g
                else:
                    grads[fn] = g
            if not retain_graph:
                # Drop what backward needed, so the memory goes at once; a second backward
                # through this node then raises (the engine and saved_tensors check _saved).
                node._saved = None
        for t, g in hooked.values():
            _deliver_leaf(t, g, plain, wanted, results, handed_out)
    finally:
        mode.grad_enabled = previous_mode
    return results if inputs is not None else None


def _as_tensor(a: Any) -> Any:
    """A gradient array (or numpy scalar) as a Tensor that is not part of any graph."""
    return function.Tensor._make(a if type(a) is np.ndarray else np.asarray(a), None)  # numpy gives scalars for 0-d


def _backward_on_tensors(node: Function, grad_out: np.ndarray) -> tuple[Any, ...]:
    """A plain backward of an op whose formula needs Tensors: Tensor in, arrays out."""
    grad_ins = type(node).backward(node, _as_tensor(grad_out))
    if type(grad_ins) is not tuple:
        grad_ins = (grad_ins,)
    return tuple([None if g is None else g._array for g in grad_ins])


def _complex_backward(node: Function, grad_out: Any, plain: bool) -> tuple[Any, ...]:
    """A holomorphic op on complex numbers: its formula gives Jᵀ g; PyTorch's gradient is Jᴴ g = conj(Jᵀ conj(g))."""
    if plain:
        g = np.conj(grad_out)
        ins = _backward_on_tensors(node, g) if not node.array_backward else type(node).backward(node, g)
        ins = ins if type(ins) is tuple else (ins,)
        return tuple([None if x is None else np.conj(x) for x in ins])
    ins = type(node).backward(node, grad_out.conj())
    ins = ins if type(ins) is tuple else (ins,)
    return tuple([None if x is None else x.conj() for x in ins])


def _fit(g: Any, data: np.ndarray, node: Function, plain: bool) -> Any:
    """The gradient g for an input array `data`: broadcasting summed out, cast to its dtype."""
    t = _as_tensor(g) if plain else g
    if t.shape != data.shape:
        # Broadcasting is undone here, once, for every op.
        t = sum_to_shape(t, data.shape, node)
    if t.dtype != data.dtype:
        t = t.to(data.dtype)
    return t._array if plain else t


def _visit_node(
    node: Function, grad_out: Any, plain: bool, wanted: dict[Any, int], results: list[Any],
    handed_out: set[int],
) -> Any:
    """Run the node's tensor hooks and fill retained .grad and grad() results; returns the gradient."""
    g = _as_tensor(grad_out) if plain else grad_out
    if node._hooks:
        g = run_hooks(node._hooks, g)
    if node._retained:
        for ref in node._retained:
            owner = ref()
            if owner is not None:
                owner.grad = _accumulate(owner.grad, g, not plain, handed_out)
    if wanted and node in wanted:
        k = wanted[node]
        results[k] = _accumulate(results[k], g, not plain, handed_out)
    return g._array if plain else g


def _watch(node: Function, grad_out: Any, grad_ins: tuple[Any, ...], plain: bool,
           trace: Callable[[Function, Any, tuple[Any, ...]], None] | None) -> None:
    """detect_anomaly's check and the trace callback, both of which see Tensors."""
    if plain:
        grad_out = _as_tensor(grad_out)
        grad_ins = tuple([None if g is None else _as_tensor(g) for g in grad_ins])
    if mode.anomaly:
        check_finite(node, grad_ins)
    if trace is not None:
        trace(node, grad_out, grad_ins)


def _accumulate(current: Any, g: Any, create_graph: bool, handed_out: set[int]) -> Any:
    """The new ``.grad``: g for the first gradient, current + g (out of place) after that."""
    if current is not None:
        return current + g
    if create_graph:
        return g
    return _own_grad(g._array, handed_out)


def _own_grad(data: np.ndarray, handed_out: set[int]) -> Any:
    """A first ``.grad`` made of `data`, copied only if it must be.

    A .grad must be its tensor's own writable array, since users update gradients in place
    (clip_grad_norm_, zero_()). Ops may hand one array to several inputs (z = x + y gives both
    the same g; a reshape gives a view of it) or give a read-only broadcast view, so copy
    exactly then: when the array is read-only or its memory was already handed out.
    """
    if data.base is None and id(data) not in handed_out and data.flags.writeable:
        handed_out.add(id(data))  # the usual case: a fresh array that owns its memory
    else:
        root = data
        while isinstance(root.base, np.ndarray):
            root = root.base
        if not data.flags.writeable or id(root) in handed_out:
            data = root = np.array(data)
        handed_out.add(id(root))
    return function.Tensor._make(data, None)


def _deliver_leaf(
    t: Any, g: Any, plain: bool, wanted: dict[Any, int], results: list[Any], handed_out: set[int],
    hooked: dict[int, list[Any]] | None = None,
) -> None:
    """Give a leaf its gradient g (an array in a plain backward): .grad or grad()'s result.

    A leaf with hooks only collects g into `hooked` during the walk: its hooks run once, on the
    sum over all its uses, when the walk is done (`hooked` None: that time has come).
    """
    if t._hooks and hooked is not None:
        entry = hooked.get(id(t))
        if entry is None:
            hooked[id(t)] = [t, g]
        else:
            entry[1] = entry[1] + g
        return
    g = _as_tensor(g) if plain else g
    if t._hooks:
        g = run_hooks(t._hooks, g)
    if wanted:
        k = wanted.get(id(t))
        if k is not None:
            results[k] = _accumulate(results[k], g, not plain, handed_out)
        return
    t.grad = _accumulate(t.grad, g, not plain, handed_out)


