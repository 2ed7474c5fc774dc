"""The autograd core: `Function`, its context, grad mode and the backward engine.

A `Function` subclass is one differentiable primitive. `forward(ctx, *arrays, **kw)` works on
numpy arrays; `backward(ctx, grad_out)` works on Tensors and returns one gradient (or None)
per input. Because backward is written with Tensor ops, running it with grad mode on
(`create_graph=True`) records a graph of the backward pass itself, which gives higher-order
derivatives for free.

The node of the graph *is* the context object (an instance of the Function subclass, like
PyTorch's ``grad_fn``). It holds its inputs (``ctx.parents``) but never its output, so a graph
has no reference cycles and is freed by reference counting as soon as it is dropped.
"""

from __future__ import annotations

import itertools
import operator
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor

# Global state, all of it here: the grad-mode flag (DESIGN allows it, with the seeded
# generator), and the switches of the debugging and rendering tools below.
# Is grad mode on (see no_grad)?
_grad_enabled = True
# Set by detect_anomaly(): record where each op was created and check backward for nan/inf.
_anomaly_mode = False
# The modules whose forward is running (outermost first), pushed by `module_scope`; each new
# node remembers them so that the renderer can draw modules as clusters.
_module_stack: list[Any] = []
# Set by `record_backward`: the engine reports each processed node to it.
_recorder: BackwardRecord | None = None
# Each recorded node gets the next creation number; newest-first is a topological order.
_next_creation_number = itertools.count().__next__
_creation_number = operator.attrgetter("_seq")


def is_grad_enabled() -> bool:
    """True when new ops record a graph (see `no_grad`)."""
    return _grad_enabled


@contextmanager
def _set_grad_enabled(mode: bool) -> Iterator[None]:
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = mode
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad() -> Any:
    """Context manager (and decorator) under which ops record no graph: outputs never require grad."""
    return _set_grad_enabled(False)


def enable_grad() -> Any:
    """Context manager (and decorator) that turns graph recording back on inside `no_grad`."""
    return _set_grad_enabled(True)


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Within this context, the first nan/inf produced in backward raises, naming the op and where it was made."""
    global _anomaly_mode
    previous = _anomaly_mode
    _anomaly_mode = True
    try:
        yield
    finally:
        _anomaly_mode = previous


class module_scope:  # noqa: N801 - used like a function, as contextlib's context managers are
    """Mark the ops created inside as belonging to `module` (nn.Module.__call__ uses this).

    A class rather than @contextmanager: it runs on every module call, and this is cheaper.
    """

    __slots__ = ("module",)

    def __init__(self, module: Any) -> None:
        self.module = module

    def __enter__(self) -> None:
        _module_stack.append(self.module)

    def __exit__(self, *exc: object) -> None:
        _module_stack.pop()


class BackwardRecord:
    """What the engine did in one or more backward passes, in processing order.

    ``steps[k] = (node, grad_output, grad_inputs)``: the k-th node processed, the gradient
    ∂c/∂out it received and the gradients it sent to each input (before un-broadcasting).
    """

    def __init__(self) -> None:
        self.steps: list[tuple[Function, Any, tuple[Any, ...]]] = []

    def __call__(self, node: Function, grad_output: Any, grad_inputs: tuple[Any, ...]) -> None:
        self.steps.append((node, grad_output, grad_inputs))

    def order(self) -> dict[int, int]:
        """id(node) → the step (1, 2, …) at which backward processed it."""
        return {id(node): k + 1 for k, (node, _, _) in enumerate(self.steps)}


@contextmanager
def record_backward() -> Iterator[BackwardRecord]:
    """Record every node the engine processes inside the block (for the renderer and teaching)."""
    global _recorder
    previous = _recorder
    record = BackwardRecord()
    _recorder = record
    try:
        yield record
    finally:
        _recorder = previous


class Function:
    """Base class of every differentiable op; subclass it with static `forward` and `backward`.

    Example (a user-defined op ``y = x³``)::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):            # numpy arrays in, numpy array out
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):        # Tensors in, Tensors out
                (x,) = ctx.saved_tensors
                return grad * 3 * x * x

        y = Cube.apply(x)

    A backward made only of arithmetic operators (as Cube's) may set ``array_backward = True``:
    a plain backward then runs it on numpy arrays, which is several times cheaper per step. (A
    backward that needs Tensor-only ops for create_graph may also set it and branch on
    `is_grad_enabled()`: arrays when it is False, Tensors when True, as Conv2d and
    SoftmaxCrossEntropy do.)
    """

    # Class-level defaults keep the common node small; instances set these only when used.
    parents: tuple[Tensor, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()
    _saved: tuple[Any, ...] | None = ()
    _out_data: np.ndarray | None = None
    _hooks: list[Callable[[Tensor], Tensor | None]] | None = None
    _retained: list[Any] | None = None
    _trace: list[traceback.FrameSummary] | None = None
    _modules: tuple[Any, ...] = ()
    # True for elementwise ops whose inputs broadcast: a failure then gets a message naming
    # the op and the shapes (see explain_broadcast).
    broadcasts = False
    # True for ops whose backward takes numpy arrays in a plain backward (no create_graph):
    # grad_output and saved_tensors are then the arrays, and it returns arrays, so no Tensor
    # op is made per step; with create_graph it gets Tensors and records the graph, as every
    # backward does. A formula of arithmetic operators (and numpy functions of constant arrays)
    # means the same on both; other backwards branch on is_grad_enabled().
    array_backward = False

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Function, grad_output: Tensor) -> Tensor | None | tuple[Tensor | None, ...]:
        """Given ∂c/∂out, return ∂c/∂input for each input (a Tensor, or None for no gradient)."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs: Any) -> Tensor:
        """Run `forward` on the inputs' arrays and, in grad mode, record this node in the graph."""
        # This is the hottest path of the library: the node is made without calling __init__,
        # and one to three inputs without keywords are spelled out so that no list or dict is
        # built per op.
        ctx = _new_object(cls)
        n = len(inputs)
        try:
            if n == 2 and not kwargs:
                a, b = inputs
                needs = (a._requires_grad, b._requires_grad)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a.data, b.data)
            elif n == 3 and not kwargs:  # Linear with a bias
                a, b, c = inputs
                needs = (a._requires_grad, b._requires_grad, c._requires_grad)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a.data, b.data, c.data)
            elif n == 1:
                a = inputs[0]
                needs = (a._requires_grad,)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a.data, **kwargs) if kwargs else cls.forward(ctx, a.data)
            else:
                needs = tuple([t._requires_grad for t in inputs])
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, *[t.data for t in inputs], **kwargs)
        except ValueError:
            if cls.broadcasts:
                explain_broadcast(cls.__name__.lower(), [t.data.shape for t in inputs])
            raise
        if type(data) is not np.ndarray:
            # numpy returns scalars, not 0-d arrays, from many ops on 0-d input; a saved output
            # must stay recognisable as the output, so swap it in the saved values too.
            raw, data = data, np.asarray(data)
            if ctx._saved:
                ctx._saved = tuple([data if s is raw else s for s in ctx._saved])
        out = _new_object(_Tensor)
        out.data = data
        out.grad = None
        out._hooks = None
        if _grad_enabled and (needs[0] or True in needs):
            ctx.parents = inputs
            ctx._out_data = data
            ctx._seq = _next_creation_number()
            if _anomaly_mode:
                ctx._trace = traceback.extract_stack()[:-1]
            if _module_stack:
                ctx._modules = tuple(_module_stack)
            out._requires_grad = True
            out.grad_fn = ctx
        else:
            out._requires_grad = False
            out.grad_fn = None
        return out

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; they come back from `saved_tensors` as Tensors of the graph."""
        self._saved = arrays

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as Tensors: an input array comes back as that input, the output as the output."""
        if self._saved is None:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to read "
                "saved tensors after they were freed). Saved intermediate values are freed after "
                "backward(); pass retain_graph=True to the first backward() to keep them."
            )
        saved = self._saved
        if self.array_backward and not _grad_enabled:
            return saved  # a plain backward of an array_backward op: the arrays themselves
        parents = self.parents
        # Fast path: the saved arrays are the inputs' own arrays, in order (Mul, Div, MatMul).
        if len(saved) == 2 and len(parents) == 2 and parents[0].data is saved[0] and parents[1].data is saved[1]:
            return parents
        out = []
        for k, value in enumerate(saved):
            # The same array may be the data of several inputs (x * x.detach()); the input at
            # the same position wins, as ops save their inputs in order.
            if k < len(parents) and parents[k].data is value:
                out.append(parents[k])
            else:
                out.append(self._unpack(value))
        return tuple(out)

    def _unpack(self, value: Any) -> Any:
        if not isinstance(value, np.ndarray):
            return value
        for t in self.parents:
            if t.data is value:
                return t
        if value is self._out_data:
            # A fresh Tensor for the output, pointing at this node; holding it is no cycle.
            return _Tensor._make(value, self)
        return _Tensor._make(value, None)

    def name(self) -> str:
        """The node's display name, e.g. ``MulBackward``."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def released(self) -> bool:
        """True once a backward without retain_graph has run through this node."""
        return self._saved is None


def explain_broadcast(name: str, shapes: Sequence[tuple[int, ...]]) -> None:
    """Raise a ValueError naming the op and the shapes if `shapes` do not broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        raise ValueError(
            f"{name}: shapes {listed} cannot be broadcast together (trailing dims must be equal or 1)"
        ) from None


def topological_order(roots: Sequence[Function]) -> list[Function]:
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


def _check_finite(node: Function, grads: Sequence[Any]) -> None:
    for k, g in enumerate(grads):
        if g is not None and not np.all(np.isfinite(g.data)):
            where = "".join(traceback.format_list(node._trace or []))
            kind = "nan" if np.isnan(g.data).any() else "inf"
            raise RuntimeError(
                f"detect_anomaly: function '{node.name()}' returned {kind} values in its "
                f"gradient for input {k} (shape {tuple(g.shape)}).\n"
                f"The forward call that created it:\n{where}"
            )


def run_backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Tensor],
    retain_graph: bool = False,
    create_graph: bool = False,
    inputs: Sequence[Tensor] | None = None,
    trace: Callable[[Function, Tensor, tuple[Any, ...]], None] | None = None,
) -> list[Tensor | None] | None:
    """The engine: propagate ∂c/∂root backwards in topological order.

    Without `inputs`, gradients accumulate into ``.grad`` of leaves (and of tensors that called
    ``retain_grad()``); with `inputs`, the gradients with respect to them are returned instead.
    `trace(node, grad_output, grad_inputs)` is called after each node, in processing order.
    """
    global _grad_enabled
    if trace is None:
        trace = _recorder
    # In a plain backward (no create_graph) the gradients travel as numpy arrays: ops marked
    # array_backward take and return arrays, and a Tensor is made only where someone sees the
    # gradient (hooks, .grad, grad() results, trace, other ops' backward). With create_graph
    # they are Tensors, so that every formula is recorded.
    plain = not create_graph
    # Gradients are keyed by the node object itself (hashed by identity) or, for the leaves
    # and inputs of grad(), by id() of the tensor.
    wanted: dict[Any, int] = {}
    results: list[Tensor | None] = []
    if inputs is not None:
        results = [None] * len(inputs)
        for k, t in enumerate(inputs):
            wanted[t.grad_fn if t.grad_fn is not None else id(t)] = k
    grads: dict[Function, Any] = {}
    # ids of the arrays (their memory owners) given to a .grad in this pass, starting with the
    # caller's seeds: a later gradient sharing that memory is copied (see _accumulate).
    handed_out: set[int] = set()
    root_nodes = []
    for t, g in zip(roots, root_grads):
        node = t.grad_fn
        seed = g.data
        handed_out.add(id(seed if seed.base is None else seed.base))
        g = seed if plain else g
        if node is None:
            # backward() on a leaf: its gradient is the seed itself.
            _deliver_leaf(t, g, plain, wanted, results, handed_out)
            continue
        if node._saved is None:
            _raise_freed(node)
        grads[node] = grads[node] + g if node in grads else g
        root_nodes.append(node)
    order = topological_order(root_nodes)
    watch = _anomaly_mode or trace is not None
    # Grad mode is create_graph while the backward formulas run (what _set_grad_enabled does,
    # spelled out: a generator-based context manager costs more than the loop of a small graph).
    previous_mode = _grad_enabled
    _grad_enabled = create_graph
    try:
        for node in order:
            grad_out = grads.pop(node, None)
            if grad_out is None:
                continue
            if node._saved is None:  # released by an earlier backward
                _raise_freed(node)
            if node._hooks or node._retained or (wanted and node in wanted):
                grad_out = _visit_node(node, grad_out, plain, wanted, results, handed_out)
            if plain and not node.array_backward:
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
                data = t.data
                gd = g if plain else g.data
                if type(gd) is not np.ndarray or gd.shape != data.shape or gd.dtype != data.dtype:
                    g = _fit(g, data, node, plain)
                fn = t.grad_fn
                if fn is None:
                    if plain and t.grad is None and not t._hooks and not wanted:
                        t.grad = _own_grad(g, handed_out)  # the usual case: a parameter's first gradient
                    else:
                        _deliver_leaf(t, g, plain, wanted, results, handed_out)
                elif fn in grads:
                    grads[fn] = grads[fn] + g
                else:
                    grads[fn] = g
            if not retain_graph:
                # Drop what backward needed, so the memory goes at once; a second backward
                # through this node then raises (the engine and saved_tensors check _saved).
                node._saved = None
    finally:
        _grad_enabled = previous_mode
    return results if inputs is not None else None


def _as_tensor(a: Any) -> Tensor:
    """A gradient array (or numpy scalar) as a Tensor that is not part of any graph."""
    t = _new_object(_Tensor)
    t.data = a if type(a) is np.ndarray else np.asarray(a)  # numpy gives scalars for 0-d
    t.grad = t.grad_fn = t._hooks = None
    t._requires_grad = False
    return t


def _backward_on_tensors(node: Function, grad_out: np.ndarray) -> tuple[Any, ...]:
    """A plain backward of an op whose formula needs Tensors: Tensor in, arrays out."""
    grad_ins = type(node).backward(node, _as_tensor(grad_out))
    if type(grad_ins) is not tuple:
        grad_ins = (grad_ins,)
    return tuple([None if g is None else g.data for g in grad_ins])


def _fit(g: Any, data: np.ndarray, node: Function, plain: bool) -> Any:
    """The gradient g for an input array `data`: broadcasting summed out, cast to its dtype."""
    t = _as_tensor(g) if plain else g
    if t.data.shape != data.shape:
        # Broadcasting is undone here, once, for every op.
        t = t._sum_to_shape(data.shape, node)
    if t.data.dtype != data.dtype:
        t = t.to(data.dtype)
    return t.data if plain else t


def _visit_node(
    node: Function, grad_out: Any, plain: bool, wanted: dict[Any, int], results: list[Tensor | None],
    handed_out: set[int],
) -> Any:
    """Run the node's tensor hooks and fill retained .grad and grad() results; returns the gradient."""
    g = _as_tensor(grad_out) if plain else grad_out
    if node._hooks:
        g = _run_hooks(node._hooks, g)
    if node._retained:
        for ref in node._retained:
            owner = ref()
            if owner is not None:
                owner.grad = _accumulate(owner.grad, g, not plain, handed_out)
    if wanted and node in wanted:
        k = wanted[node]
        results[k] = _accumulate(results[k], g, not plain, handed_out)
    return g.data if plain else g


def _run_hooks(hooks: list[Callable[[Tensor], Tensor | None]], g: Tensor) -> Tensor:
    """Call each tensor hook on g in turn; a hook may return a gradient to use instead."""
    for hook in hooks:
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


def _watch(node: Function, grad_out: Any, grad_ins: tuple[Any, ...], plain: bool,
           trace: Callable[[Function, Tensor, tuple[Any, ...]], None] | None) -> None:
    """detect_anomaly's check and the trace callback, both of which see Tensors."""
    if plain:
        grad_out = _as_tensor(grad_out)
        grad_ins = tuple([None if g is None else _as_tensor(g) for g in grad_ins])
    if _anomaly_mode:
        _check_finite(node, grad_ins)
    if trace is not None:
        trace(node, grad_out, grad_ins)


def _raise_freed(node: Function) -> None:
    raise RuntimeError(
        f"{node.name()}: trying to backward through the graph a second time, but its saved "
        "values were already freed. Specify retain_graph=True in the first backward() (or "
        "autograd.grad()) call if you need to backward through the graph again."
    )


def _accumulate(current: Tensor | None, g: Tensor, create_graph: bool, handed_out: set[int]) -> Tensor:
    """The new ``.grad``: g for the first gradient, current + g (out of place) after that."""
    if current is not None:
        return current + g
    if create_graph:
        return g
    return _own_grad(g.data, handed_out)


def _own_grad(data: np.ndarray, handed_out: set[int]) -> Tensor:
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
    t = _new_object(_Tensor)
    t.data = data
    t.grad = t.grad_fn = t._hooks = None
    t._requires_grad = False
    return t


def _deliver_leaf(
    t: Tensor, g: Any, plain: bool, wanted: dict[Any, int], results: list[Tensor | None], handed_out: set[int],
) -> None:
    """Give a leaf its gradient g (an array in a plain backward): its hooks, then .grad or grad()'s result."""
    g = _as_tensor(g) if plain else g
    if t._hooks:
        g = _run_hooks(t._hooks, g)
    if wanted:
        k = wanted.get(id(t))
        if k is not None:
            results[k] = _accumulate(results[k], g, not plain, handed_out)
        return
    t.grad = _accumulate(t.grad, g, not plain, handed_out)


def _seed_grads(outputs: Sequence[Tensor], grad_outputs: Sequence[Any] | None, op: str) -> list[Tensor]:
    seeds = []
    for k, out in enumerate(outputs):
        given = None if grad_outputs is None else grad_outputs[k]
        if given is None:
            if out.data.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but output "
                    f"{k} has shape {tuple(out.shape)}; pass gradient= (a Tensor of that shape), "
                    "or reduce it first (e.g. .sum())"
                )
            # ∂out/∂out = 1; a 0-d loss (the usual case) gets it in one call, without np.ones's wrapper
            shape, dtype = out.data.shape, out.data.dtype
            seeds.append(_Tensor._make(np.array(1, dtype) if not shape else np.ones(shape, dtype), None))
            continue
        if not isinstance(given, _tensor.Tensor):
            given = _tensor.Tensor(given, dtype=out.dtype)
        if given.shape != out.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {tuple(given.shape)} but output {k} has shape "
                f"{tuple(out.shape)}; they must match"
            )
        seeds.append(given)
    return seeds


def backward(
    tensor: Tensor,
    gradient: Tensor | None = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Accumulate ∂tensor/∂leaf (times `gradient`) into ``.grad`` of every leaf that requires grad."""
    if not tensor._requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {tuple(tensor.shape)} does not require grad and has no "
            "grad_fn; set requires_grad=True on the leaves you want gradients for"
        )
    if gradient is None and tensor.data.shape == ():
        # The usual call, loss.backward() on a 0-d loss: the seed ∂loss/∂loss = 1 directly.
        seeds = [_Tensor._make(np.array(1, tensor.data.dtype), None)]
    else:
        seeds = _seed_grads([tensor], None if gradient is None else [gradient], "backward")
    run_backward([tensor], seeds, retain_graph=retain_graph or create_graph, create_graph=create_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Return ∂outputs/∂inputs (vector-Jacobian product with `grad_outputs`) without touching ``.grad``."""
    outs = [outputs] if isinstance(outputs, _tensor.Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, _tensor.Tensor) else list(inputs)
    if isinstance(grad_outputs, _tensor.Tensor):
        grad_outputs = [grad_outputs]
    if grad_outputs is not None and len(grad_outputs) != len(outs):
        raise ValueError(f"grad: {len(grad_outputs)} grad_outputs for {len(outs)} outputs; give one per output")
    for k, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {k} (shape {tuple(t.shape)}) does not require grad")
    for k, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: output {k} (shape {tuple(o.shape)}) does not require grad; it does not "
                "depend on any input that requires grad"
            )
    seeds = _seed_grads(outs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = run_backward(outs, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=ins)
    assert results is not None
    for k, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {k} (shape {tuple(ins[k].shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return tuple(results)


def gradcheck(fn: Callable[..., Any], inputs: Any, **kwargs: Any) -> bool:
    """`tinygrad_course.gradcheck.gradcheck`, also reachable here as in ``torch.autograd``."""
    from tinygrad_course.gradcheck import gradcheck as check  # lazy: gradcheck imports this module

    return check(fn, inputs, **kwargs)


def gradgradcheck(fn: Callable[..., Any], inputs: Any, **kwargs: Any) -> bool:
    """`tinygrad_course.gradcheck.gradgradcheck`, also reachable here as in ``torch.autograd``."""
    from tinygrad_course.gradcheck import gradgradcheck as check

    return check(fn, inputs, **kwargs)


# Imported last: tensor.py (and the ops it uses) build on the names defined above.
from tinygrad_course import tensor as _tensor  # noqa: E402

_Tensor = _tensor.Tensor
_new_object = object.__new__
