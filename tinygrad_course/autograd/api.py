"""`backward()` and `grad()`: check the arguments, make the seeds ∂c/∂c = 1, run the selected engine.

Two engines give the same results: ``"fast"`` (the default; `engine.py` and `Function.apply`)
and ``"reference"`` (`reference.py`, backpropagation stated plainly). `set_engine` switches
between them; the environment variable ``TINYGRAD_COURSE_ENGINE`` chooses one at import.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from tinygrad_course.autograd import engine, function, reference
from tinygrad_course.autograd.function import NeedsLoop, Primitive
from tinygrad_course.autograd.grad_mode import mode


class Engine(NamedTuple):
    """What an engine provides: how an op records itself, how a node unpacks its saved values, how backward runs."""

    apply: Callable[..., Any]
    saved_tensors: property
    run_backward: Callable[..., Any]


ENGINES = {
    "fast": Engine(Primitive.__dict__["apply"].__func__, Primitive.__dict__["saved_tensors"], engine.run_backward),
    "reference": Engine(reference.apply, property(reference.saved_tensors), reference.run_backward),
}
_engine = "fast"  # the name of the engine in use
_run_backward = engine.run_backward  # and its backward


def set_engine(name: str) -> None:
    """Select the engine that runs every op and backward from now on: ``"fast"`` or ``"reference"``.

    Both give the same results (the core tests run on both); the reference engine is the one to
    read and to step through in a debugger, the fast one is several times quicker per op.
    Graphs recorded by one engine can be backpropagated by the other.

    Raises:
        ValueError: for any other name.
    """
    global _engine, _run_backward
    if name not in ENGINES:
        raise ValueError(f"set_engine: unknown engine {name!r}; accepted: {', '.join(repr(k) for k in ENGINES)}")
    chosen = ENGINES[name]
    # The one place where the engines differ for an op: a Primitive's two entry points.
    Primitive.apply = classmethod(chosen.apply)  # type: ignore[method-assign, assignment]
    Primitive.saved_tensors = chosen.saved_tensors  # type: ignore[method-assign, misc]
    _engine, _run_backward = name, chosen.run_backward


def get_engine() -> str:
    """The name of the engine in use: ``"fast"`` (the default) or ``"reference"``."""
    return _engine


def _seed_grads(outputs: Sequence[Any], grad_outputs: Sequence[Any] | None, op: str) -> list[Any]:
    """The seeds ∂c/∂output: the given ones (checked against the outputs' shapes), or 1 for scalars."""
    seeds = []
    for k, out in enumerate(outputs):
        given = None if grad_outputs is None else grad_outputs[k]
        if given is None:
            if out._array.dtype.kind == "c":
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for real scalar outputs but got {out.dtype} "
                    f"(output {k}); pass gradient= (e.g. ones of its dtype) or take .real, .abs() first"
                )
            if out._array.size != 1:
                raise RuntimeError(
                    f"{op}: grad can be implicitly created only for scalar outputs, but output "
                    f"{k} has shape {tuple(out.shape)}; pass gradient= (a Tensor of that shape), "
                    "or reduce it first (e.g. .sum())"
                )
            # ∂out/∂out = 1; a 0-d loss (the usual case) gets it in one call, without np.ones's wrapper
            shape, dtype = out._array.shape, out._array.dtype
            seeds.append(function.Tensor._make(np.array(1, dtype) if not shape else np.ones(shape, dtype), None))
            continue
        if not isinstance(given, function.Tensor):
            given = function.Tensor(given, dtype=out.dtype)
        if given.shape != out.shape:
            raise RuntimeError(
                f"{op}: gradient has shape {tuple(given.shape)} but output {k} has shape "
                f"{tuple(out.shape)}; they must match"
            )
        seeds.append(given)
    return seeds


def backward(
    tensor: Any,
    gradient: Any = None,
    retain_graph: bool = False,
    create_graph: bool = False,
) -> None:
    """Backpropagate from `tensor`: add ∂tensor/∂x to ``x.grad`` for every leaf x that requires grad.

    This is `Tensor.backward`. For a scalar loss c it fills ``x.grad`` with ∂c/∂x; for a
    non-scalar `tensor` pass ``gradient`` = ∂c/∂tensor (same shape), and the result is the
    vector-Jacobian product Σᵢ gradientᵢ ∂tensorᵢ/∂x.

    Args:
        tensor: the output to differentiate (it must require grad).
        gradient: ∂c/∂tensor; may be omitted for a one-element tensor (then it is 1).
        retain_graph: keep the saved values, so that backward can run through this graph again;
            without it they are freed and a second backward raises a RuntimeError.
        create_graph: record the backward pass itself, so the gradients can be differentiated
            again (second derivatives); implies retain_graph.

    Gradients **accumulate**: a second call adds to ``.grad`` (zero them between training steps
    with ``optimizer.zero_grad()``). Tensors that called ``retain_grad()`` also get ``.grad``,
    and hooks registered with ``register_hook`` run as their gradient passes.

    Raises:
        RuntimeError: if `tensor` does not require grad, if `gradient` is missing for a
            non-scalar or has the wrong shape, or if the graph was already freed.

    Example::

        >>> x = tc.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
    """
    if not tensor._requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {tuple(tensor.shape)} does not require grad and has no "
            "grad_fn; set requires_grad=True on the leaves you want gradients for"
        )
    if gradient is None and tensor._array.shape == () and tensor._array.dtype.kind != "c":
        # The usual call, loss.backward() on a 0-d loss: the seed ∂loss/∂loss = 1 directly.
        seeds = [function.Tensor._make(np.array(1, tensor._array.dtype), None)]
    else:
        seeds = _seed_grads([tensor], None if gradient is None else [gradient], "backward")
    _run_backward([tensor], seeds, retain_graph=retain_graph or create_graph, create_graph=create_graph)


def grad(
    outputs: Any | Sequence[Any],
    inputs: Any | Sequence[Any],
    grad_outputs: Any | Sequence[Any] | None = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
    is_grads_batched: bool = False,
) -> tuple[Any, ...]:
    """Return ∂outputs/∂inputs as a tuple, one per input, without touching any ``.grad``.

    With `grad_outputs` v (one per output, the shape of that output) the result is the
    vector-Jacobian product Σₖ vₖ · ∂outputsₖ/∂input; scalar outputs may omit it (v = 1).

    Args:
        outputs: a Tensor or a sequence of them, each requiring grad.
        inputs: a Tensor or a sequence of them (leaves or intermediate tensors) requiring grad.
        grad_outputs: v, as above; None entries stand for 1 on scalar outputs.
        create_graph: record the backward pass, so the results can be differentiated again
            (``tc.grad(tc.grad(y, x, create_graph=True)[0].sum(), x)`` is a second derivative).
        retain_graph: keep the graph for another backward; defaults to `create_graph`.
        allow_unused: give None for an input the outputs do not depend on, instead of raising.
        is_grads_batched: the first dim of every grad_outputs entry is a batch of vectors v;
            the result then has the same leading dim (one vector-Jacobian product each,
            computed one backward per vector).

    Raises:
        RuntimeError: if an input or output does not require grad, an input is unused (without
            allow_unused), a seed is missing or misshapen, or the graph was already freed.
        ValueError: if the number of grad_outputs differs from the number of outputs.

    Example::

        >>> x = tc.tensor([1.0, 2.0], requires_grad=True)
        >>> tc.grad((x ** 3).sum(), x)
        (tensor([ 3., 12.]),)
    """
    outs = [outputs] if isinstance(outputs, function.Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, function.Tensor) else list(inputs)
    if isinstance(grad_outputs, function.Tensor):
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
    if is_grads_batched:
        return _batched_grad(outs, ins, grad_outputs, create_graph, retain_graph, allow_unused)
    if mode.vmap_depth and _batched_grad_hook is not None:  # inside vmap: batched outputs or inputs
        done = _batched_grad_hook(outs, ins, grad_outputs, create_graph, retain_graph, allow_unused)
        if done is not None:
            return done
    seeds = _seed_grads(outs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results = _run_backward(outs, seeds, retain_graph=retain_graph, create_graph=create_graph, inputs=ins)
    assert results is not None
    for k, r in enumerate(results):
        if r is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {k} (shape {tuple(ins[k].shape)}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
    return tuple(results)


# Set by tinygrad_course.func: grad(..., is_grads_batched=True) as one backward under vmap.
_batched_vjp: Any = None


# Set by tinygrad_course.func: grad of batched outputs/inputs inside vmap (None if nothing is batched).
_batched_grad_hook: Any = None


def register_batched_grad(fn: Any) -> None:
    """Install grad inside vmap (called once, by tinygrad_course.func)."""
    global _batched_grad_hook
    _batched_grad_hook = fn


def register_batched_vjp(fn: Any) -> None:
    """Install the vmap-based is_grads_batched (called once, by tinygrad_course.func)."""
    global _batched_vjp
    _batched_vjp = fn


def _batched_grad(outs: list[Any], ins: list[Any], grad_outputs: Any, create_graph: bool,
                  retain_graph: bool | None, allow_unused: bool) -> tuple[Any, ...]:
    """grad(..., is_grads_batched=True): one vector-Jacobian product per leading index of grad_outputs."""
    if grad_outputs is None or any(v is None for v in grad_outputs):
        raise RuntimeError("grad: is_grads_batched=True needs grad_outputs with a leading batch dim for every output")
    sizes = {v.shape[0] if v.ndim else None for v in grad_outputs}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(f"grad: is_grads_batched=True needs one leading batch size in grad_outputs, got {sorted(map(str, sizes))}")
    (size,) = sizes
    if _batched_vjp is not None:  # one backward for all the vectors, by vmap's batching rules
        try:
            return _batched_vjp(outs, ins, list(grad_outputs), create_graph, retain_graph, allow_unused)
        except NeedsLoop:
            pass  # an op's formula reads a batched gradient's array: one backward per vector below
    rows = [grad(outs, ins, [v[b] for v in grad_outputs], create_graph=create_graph,
                 retain_graph=True if b < size - 1 else retain_graph, allow_unused=allow_unused) for b in range(size)]
    out = []
    for k, t in enumerate(ins):
        parts = [r[k] for r in rows]
        if all(p is None for p in parts):
            out.append(None)
            continue
        zero = np.zeros(t.shape, dtype=t.dtype)
        stacked = np.stack([zero if p is None else p._array for p in parts])
        out.append(function.Tensor._make(stacked, None) if not create_graph else _stack_rows(parts, t))
    return tuple(out)


def _stack_rows(parts: list[Any], like: Any) -> Any:
    """The rows stacked along a new first dim, differentiably (each written into zeros, recorded)."""
    out = function.Tensor._make(np.zeros((len(parts),) + tuple(like.shape), dtype=like.dtype), None)
    for b, p in enumerate(parts):
        if p is not None:
            out[b] = p
    return out
