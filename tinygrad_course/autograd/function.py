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

import itertools
import os
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.autograd.graph import module_stack

# The Tensor class, set once by register_tensor_type (tensor/ imports autograd, never the reverse).
Tensor: Any = None
# Each recorded node gets the next creation number; newest first is a topological order.
next_creation_number = itertools.count().__next__
_new_object = object.__new__
_HERE = os.path.dirname(os.path.abspath(__file__))


def register_tensor_type(cls: type) -> None:
    """Tell autograd which class its ops return (called once, by tinygrad_course.tensor)."""
    global Tensor
    Tensor = cls


class Function:
    """Base class of every differentiable op; subclass it with static `forward` and `backward`.

    Example (a user-defined op ``y = x³``)::

        class Cube(Function):
            @staticmethod
            def forward(ctx, x):            # numpy arrays in, numpy array out
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):           # Tensors in, Tensors out: g = ∂c/∂y
                (x,) = ctx.saved_tensors
                return g * 3 * x * x

        y = Cube.apply(x)

    A backward whose formula means the same on numpy arrays as on Tensors (arithmetic
    operators, ``@``, ``reshape``, ``sum``, and the helpers of ``ops/_kernels.py``) may set
    ``array_backward = True``; the fast engine then runs it on the arrays in a plain backward
    (no create_graph), which is several times cheaper per step. The reference engine always
    passes Tensors.
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

    @staticmethod
    def forward(ctx: Function, *args: Any, **kwargs: Any) -> np.ndarray:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement forward(ctx, *arrays)")

    @staticmethod
    def backward(ctx: Function, g: Any) -> Any:
        """Given g = ∂c/∂out, return ∂c/∂input for each input (a Tensor, or None for no gradient)."""
        raise NotImplementedError(f"{type(ctx).__name__} must implement backward(ctx, g)")

    @classmethod
    def apply(cls, *inputs: Any, **kwargs: Any) -> Any:
        """Run `forward` on the inputs' arrays and, in grad mode, record this node in the graph.

        This is the fast engine's version (`autograd/reference.py` has the plain one, with the
        same results): the hottest path of the library, so one to three inputs without keywords
        are spelled out and no list or dict is built per op.
        """
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
        if type(data) is not np.ndarray:
            data = output_array(ctx, data)
        # The output Tensor and the node are filled in here, inline (what Tensor._make and
        # record() do): two function calls less per op.
        out = _new_object(Tensor)
        out._array = data
        out.grad = out._hooks = None
        if mode.grad_enabled and (needs[0] or True in needs):
            ctx.parents = inputs
            ctx._out_data = data
            ctx._seq = next_creation_number()
            if mode.anomaly or module_stack:
                annotate(ctx)
            out._requires_grad = True
            out.grad_fn = ctx
        else:
            out._requires_grad = False
            out.grad_fn = None
        return out

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward; they come back from `saved_tensors` as Tensors of the graph."""
        self._saved = values

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

    def name(self) -> str:
        """The node's display name, e.g. ``MulBackward``."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @property
    def released(self) -> bool:
        """True once a backward without retain_graph has run through this node."""
        return self._saved is None


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
