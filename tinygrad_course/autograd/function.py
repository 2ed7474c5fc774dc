"""`Function`: one differentiable primitive, and the graph node its call leaves behind.

A `Function` subclass defines `forward(ctx, *arrays, **kw)` on numpy arrays and
`backward(ctx, g)` on Tensors, returning one gradient (or None) per input. Because backward is
written with Tensor ops, running it in grad mode (``create_graph=True``) records a graph of the
backward pass itself: higher-order derivatives come for free.

The node of the graph *is* the context object ``ctx`` (an instance of the subclass, PyTorch's
``grad_fn``). It holds its inputs (``ctx.parents``) but never its output, so a graph has no
reference cycles and is freed by reference counting as soon as it is dropped.

This module sits below `tinygrad_course.tensor`, which imports it; the Tensor class reaches
it by one explicit call, `register_tensor_type`, made once when tensor/ is imported.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd import version
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.autograd.graph import module_stack, next_creation_number

# The Tensor class, set once by register_tensor_type (tensor/ imports autograd, never the reverse).
Tensor: Any = None
_new_object = object.__new__
_HERE = os.path.dirname(os.path.abspath(__file__))


def register_tensor_type(cls: type) -> None:
    """Tell autograd which class its ops return (called once, by tinygrad_course.tensor)."""
    global Tensor
    Tensor = cls


class NeedsLoop(Exception):
    """Raised inside vmap when code needs a batched tensor's values as one array: vmap then loops over the samples."""


def _no_batching(cls: type, inputs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return None


# Inside vmap, an op on batched inputs runs by the op's batching rule: func/batching.py sets
# this (returning None when no input is batched). Only looked at while a vmap is running.
batched_apply: Callable[[type, tuple[Any, ...], dict[str, Any]], Any] = _no_batching


def register_batching(fn: Callable[[type, tuple[Any, ...], dict[str, Any]], Any]) -> None:
    """Install vmap's dispatcher (called once, by tinygrad_course.func.batching)."""
    global batched_apply
    batched_apply = fn


class Function:
    """Base class of a differentiable op you write yourself, in PyTorch's form; also the graph node.

    Subclass it with static `forward` and `backward`, and call ``YourOp.apply(*inputs)``::

        class Cube(tc.Function):
            @staticmethod
            def forward(ctx, x):            # Tensors in (nothing recorded inside), a Tensor out
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):           # g = ∂c/∂y; Tensors in, one gradient (or None) per input
                (x,) = ctx.saved_tensors
                return g * 3 * x * x

        y = Cube.apply(x)

    `forward` may take non-Tensor arguments too (their gradient is None). On ``ctx``:
    `save_for_backward`, `saved_tensors`, `needs_input_grad`, `mark_dirty` (an input changed in
    place and returned), `mark_non_differentiable`, `set_materialize_grads`; decorate backward
    with `once_differentiable` if it cannot be differentiated again. Because backward is written
    with Tensor ops, ``create_graph=True`` differentiates it again. One output per op.

    The library's own ops subclass `Primitive`, whose forward works on numpy arrays.
    """

    # Class-level defaults keep the common node small; instances set these only when used.
    parents: tuple[Any, ...] = ()
    needs_input_grad: tuple[bool, ...] = ()
    _saved: tuple[Any, ...] | None = ()
    _out_data: np.ndarray | None = None
    _hooks: list[Callable[[Any], Any]] | None = None
    _retained: list[Any] | None = None
    _trace: list[traceback.FrameSummary] | None = None
    _modules: tuple[Any, ...] = ()
    _seq = 0
    # True for elementwise ops whose inputs broadcast: a failure then gets a message naming
    # the op and the shapes (see explain_broadcast).
    broadcasts = False
    # True when backward's formula works on numpy arrays as well as on Tensors (see above).
    array_backward = False
    # Complex tensors: None (the op refuses them), "holomorphic" (backward's formula is J g for
    # the complex derivative J; the engines run it as conj(backward(conj g)) = Jᴴ g, PyTorch's
    # convention ∂L/∂z*), or "explicit" (backward handles complex inputs itself).
    complex_rule: str | None = None
    # Set on a node whose output is complex and whose rule is "holomorphic".
    _complex = False
    # For an op whose forward is one numpy call on its one or two input arrays (plus what it
    # saves): that call, which Primitive.apply runs alone when grad mode is off (no_grad,
    # inference, Metropolis sampling): no context object, no forward call. Same result.
    no_grad_kernel: Callable[..., np.ndarray] | None = None

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Function, g: Any) -> Any:
        """Given g = ∂c/∂out, return ∂c/∂input for each input (a Tensor, or None for no gradient)."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement backward(ctx, g)")

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run `forward` on the arguments (recording nothing inside) and, in grad mode, record this node."""
        return apply_function(cls, args)

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward; they come back from `saved_tensors` as Tensors of the graph."""
        self._saved = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """What `save_for_backward` kept: inputs as the input Tensors, the output as the output (see `unpack_saved`)."""
        return self.unpack_saved()

    def unpack_saved(self) -> tuple[Any, ...]:
        """The saved values as Tensors, by the general rule (the reference engine's `saved_tensors`).

        An array that is an input's data comes back as that input (the input at the same
        position wins, since ops save their inputs in order: ``x * x.detach()``); the output's
        array as a fresh Tensor pointing at this node (holding it makes no cycle); any other
        array as a constant Tensor; other values as they are.
        """
        if self._saved is None:
            raise_freed(self)
        parents = self.parents
        out = []
        for k, value in enumerate(self._saved):
            if k < len(parents) and parents[k]._array is value:
                out.append(parents[k])
            elif not isinstance(value, np.ndarray):
                out.append(value)
            else:
                found = [t for t in parents if t._array is value]
                if found:
                    out.append(found[0])
                elif value is self._out_data:
                    out.append(Tensor._make(value, self))
                else:
                    out.append(Tensor._make(value, None))
        return tuple(out)

    def mark_dirty(self, *tensors: Any) -> None:
        """Declare inputs that forward changed in place (and returns): they then carry this node's history."""
        self._dirty = tensors

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Declare that forward's output has no gradient (an index, a mask): it will not require grad."""
        self._non_differentiable = outputs

    def set_materialize_grads(self, value: bool) -> None:
        """Accepted for PyTorch programs: here backward always receives a Tensor gradient, never None."""
        self._materialize_grads = bool(value)

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes that produced this node's inputs, as PyTorch's: (grad_fn, 0), (AccumulateGrad, 0) for a leaf, or (None, 0)."""
        return tuple(
            (t.grad_fn if t.grad_fn is not None else AccumulateGrad(t) if t._requires_grad else None, 0)
            for t in self.parents
        )

    def name(self) -> str:
        """The node's display name, e.g. ``MulBackward``."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def released(self) -> bool:
        """True once a backward without retain_graph has run through this node."""
        return self._saved is None


class Primitive(Function):
    """A library op: `forward(ctx, *arrays, **kw)` works on numpy arrays, `backward` on Tensors.

    Every op in ``ops/`` is one. A backward whose formula means the same on numpy arrays as on
    Tensors (arithmetic operators, ``@``, ``reshape``, ``sum``, and the helpers of
    ``ops/_kernels.py``) may set ``array_backward = True``; the fast engine then runs it on the
    arrays in a plain backward (no create_graph), which is several times cheaper per step. The
    reference engine always passes Tensors.
    """

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Run `forward` on the inputs' arrays and, in grad mode, record this node in the graph.

        This is the fast engine's version (`autograd/reference.py` has the plain one, with the
        same results): the hottest path of the library, so one to three inputs without keywords
        are spelled out and no list or dict is built per op. With grad mode off (``no_grad``,
        inference) no node is made: an op with a `no_grad_kernel` runs that numpy call alone;
        another gets a context for its forward (what it saves there is simply dropped); the
        output Tensor is filled in directly.

        Inside vmap, reading a batched input's `_array` raises NeedsLoop before forward runs:
        that is how a batched op is found here, at no cost to the others (the op then runs by
        its batching rule, see func/batching.py).
        """
        if not mode.grad_enabled:
            kernel = cls.no_grad_kernel
            try:
                if kernel is not None and not kwargs:  # forward's numpy call alone: no context to make
                    data = kernel(inputs[0]._array) if len(inputs) == 1 else kernel(inputs[0]._array, inputs[1]._array)
                elif len(inputs) == 1:
                    ctx = _new_object(cls)
                    data = cls.forward(ctx, inputs[0]._array, **kwargs) if kwargs else cls.forward(ctx, inputs[0]._array)
                else:
                    ctx = _new_object(cls)
                    data = cls.forward(ctx, *[t._array for t in inputs], **kwargs)
            except ValueError:
                if cls.broadcasts:
                    explain_broadcast(cls.__name__.lower(), [t._array.shape for t in inputs])
                raise
            except NeedsLoop:  # a vmap-batched input
                return batched_apply(cls, inputs, kwargs)
            if type(data) is not np.ndarray:
                data = np.asarray(data)  # numpy gives scalars for 0-d results
            if cls.complex_rule is None and data.dtype.kind == "c":
                refuse_complex(cls, inputs)
            out = _new_object(Tensor)
            out._array = data
            out.grad = out._hooks = out.grad_fn = None
            out._requires_grad = False
            return out
        ctx = _new_object(cls)
        n = len(inputs)
        try:
            if n == 2 and not kwargs:
                a, b = inputs
                needs = (a._requires_grad, b._requires_grad)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a._array, b._array)
            elif n == 1:
                a = inputs[0]
                needs = (a._requires_grad,)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a._array, **kwargs) if kwargs else cls.forward(ctx, a._array)
            elif n == 3 and not kwargs:  # Linear with a bias
                a, b, c = inputs
                needs = (a._requires_grad, b._requires_grad, c._requires_grad)
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, a._array, b._array, c._array)
            else:
                needs = tuple([t._requires_grad for t in inputs])
                ctx.needs_input_grad = needs
                data = cls.forward(ctx, *[t._array for t in inputs], **kwargs)
        except ValueError:
            if cls.broadcasts:
                explain_broadcast(cls.__name__.lower(), [t._array.shape for t in inputs])
            raise
        except NeedsLoop:  # a vmap-batched input
            return batched_apply(cls, inputs, kwargs)
        if type(data) is not np.ndarray:
            data = output_array(ctx, data)
        if data.dtype.kind == "c":
            mark_complex(cls, ctx, inputs)
        # The output Tensor and the node are filled in here, inline (what Tensor._make and
        # record() do): two function calls less per op.
        out = _new_object(Tensor)
        out._array = data
        out.grad = out._hooks = None
        if needs[0] or True in needs:  # (grad mode is on: the branch above returned otherwise)
            ctx.parents = inputs
            ctx._out_data = data
            ctx._seq = next_creation_number()
            if module_stack or mode.anomaly:
                annotate(ctx)
            out._requires_grad = True
            out.grad_fn = ctx
        else:
            out._requires_grad = False
            out.grad_fn = None
        return out

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The saved values as Tensors: an input's array comes back as that input, the output as the output.

        This is the fast engine's version: in a plain backward of an ``array_backward`` op it
        returns the arrays themselves (the fast engine passes arrays there), and two saved inputs
        in order come back without a search. Otherwise it is `unpack_saved`.
        """
        saved = self._saved
        if saved is None:
            raise_freed(self)
        if self.array_backward and not mode.grad_enabled:
            return saved
        parents = self.parents
        if len(saved) == 2 and len(parents) == 2 and parents[0]._array is saved[0] and parents[1]._array is saved[1]:
            return parents
        return self.unpack_saved()



class AccumulateGrad:
    """What `next_functions` shows for a leaf that requires grad: backward accumulates into its ``.grad``."""

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        """``AccumulateGrad``, as PyTorch calls it."""
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


def apply_function(cls: type[Function], args: tuple[Any, ...]) -> Any:
    """PyTorch's protocol for a user's Function: forward on Tensors under no_grad, then record the node.

    Saved Tensors are kept as their arrays, so that the general rule of `unpack_saved` gives the
    inputs back as the inputs and the output as the output (a node never holds its output).
    """
    if cls.array_backward:
        raise TypeError(f"{cls.__name__}: array_backward is for Primitive subclasses (forward on numpy arrays)")
    if mode.vmap_depth:
        out = batched_apply(cls, args, {})
        if out is not None:
            return out
    ctx = cls()
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
    previous, mode.grad_enabled = mode.grad_enabled, False
    try:
        out = cls.forward(ctx, *args)
    finally:
        mode.grad_enabled = previous
    if isinstance(out, (tuple, list)):
        raise NotImplementedError(f"{cls.__name__}.forward returned {len(out)} outputs; a Function here has one output")
    if not isinstance(out, Tensor):
        out = Tensor._make(np.asarray(out), None)
    dirty = getattr(ctx, "_dirty", ())
    for d in dirty:
        version.bump(d._array)
    # Non-Tensor arguments stand in the graph as constants, so that backward's results line up.
    parents = tuple(a if isinstance(a, Tensor) else Tensor._make(np.asarray(a if isinstance(a, (int, float)) else 0), None)
                    for a in args)
    if any(out is d for d in dirty):
        if mode.grad_enabled and out.grad_fn is None and out._requires_grad:
            raise RuntimeError(f"{cls.__name__}: a leaf Variable that requires grad has been used in an in-place operation.")
        old = Tensor._make(out._array, out.grad_fn)  # the input as it was in the graph, before the write
        old._requires_grad = out._requires_grad
        parents = tuple(old if p is out else p for p in parents)
    elif any(out is a for a in args):
        out = Tensor._make(out._array, None)  # an input returned unchanged: a new Tensor on the same memory
    ctx._saved = tuple(v._array if isinstance(v, Tensor) else v for v in ctx._saved or ())
    differentiable = not any(out is o for o in getattr(ctx, "_non_differentiable", ()))
    if previous and differentiable and any(ctx.needs_input_grad):
        record(ctx, parents, out._array)
        out.grad_fn = ctx
        out._requires_grad = True
    return out


class DelayedError(Primitive):
    """z = x, whose backward raises: marks a gradient computed by a `once_differentiable` backward."""

    @staticmethod
    def forward(ctx, x, g, message=""):
        ctx.message = message
        return x

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(ctx.message)


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a Function's backward that is not itself differentiable (it may use numpy freely).

    It runs without recording; with ``create_graph=True``, differentiating its results again
    raises instead of giving a silently wrong (zero) second derivative, as in PyTorch.
    """

    def wrapper(ctx: Function, *grads: Any) -> Any:
        recording, mode.grad_enabled = mode.grad_enabled, False
        try:
            results = backward(ctx, *grads)
        finally:
            mode.grad_enabled = recording
        if not recording or not any(isinstance(g, Tensor) and g._requires_grad for g in grads):
            return results
        message = f"{type(ctx).__name__}.backward is once_differentiable: it cannot be differentiated again"
        many = isinstance(results, tuple)
        marked = tuple(None if r is None else DelayedError.apply(r, grads[0], message=message)
                       for r in (results if many else (results,)))
        return marked if many else marked[0]

    wrapper.__name__ = getattr(backward, "__name__", "backward")
    wrapper.__doc__ = backward.__doc__
    return wrapper


def refuse_complex(cls: type, inputs: Sequence[Any]) -> None:
    """The error of an op that has no complex version, naming it and the dtypes (as PyTorch's "not implemented for 'ComplexFloat'")."""
    dtypes = ", ".join(str(t.dtype) for t in inputs if hasattr(t, "dtype"))
    raise TypeError(f"{cls.__name__.lower()}: not implemented for complex tensors (got {dtypes}); "
                    "use .real, .imag or .abs() first, or an op defined on complex numbers")


def mark_complex(cls: type, ctx: Function, inputs: Sequence[Any]) -> None:
    """A complex output: refuse an op without a complex rule; mark a holomorphic one for the engines' conj(backward(conj g))."""
    if cls.complex_rule is None:
        refuse_complex(cls, inputs)
    if cls.complex_rule == "holomorphic":
        ctx._complex = True


def output_array(ctx: Function, data: Any) -> np.ndarray:
    """forward's result as an ndarray: numpy returns scalars from many ops on 0-d input.

    A saved output must stay recognisable as the output (see `unpack_saved`), so the scalar is
    swapped for the array among the saved values too.
    """
    raw, data = data, np.asarray(data)
    if ctx._saved:
        ctx._saved = tuple([data if s is raw else s for s in ctx._saved])
    return data


def record(ctx: Function, inputs: tuple[Any, ...], data: np.ndarray) -> None:
    """Make ctx a node of the graph: its inputs, its output's array, a creation number."""
    ctx.parents = inputs
    ctx._out_data = data
    ctx._seq = next_creation_number()
    annotate(ctx)


def annotate(ctx: Function) -> None:
    """What the debugging tools want of a new node: where it was made (detect_anomaly), in which modules."""
    if mode.anomaly:
        stack = traceback.extract_stack()
        while stack and stack[-1].filename.startswith(_HERE):  # drop apply's own frames
            stack.pop()
        ctx._trace = stack
    if module_stack:
        ctx._modules = tuple(module_stack)


def raise_freed(node: Function) -> None:
    """The error of a second backward through a node whose saved values were released."""
    raise RuntimeError(
        f"{node.name()}: trying to backward through the graph a second time (or to read saved "
        "tensors after they were freed). Saved intermediate values are freed after backward(); "
        "specify retain_graph=True in the first backward() (or autograd.grad()) call if you need "
        "to backward through the graph again."
    )


def explain_broadcast(name: str, shapes: Sequence[tuple[int, ...]]) -> None:
    """Raise a ValueError naming the op and the shapes if `shapes` do not broadcast together."""
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        listed = ", ".join(str(s) for s in shapes[:-1]) + f" and {shapes[-1]}"
        raise ValueError(
            f"{name}: shapes {listed} cannot be broadcast together (trailing dims must be equal or 1)"
        ) from None
