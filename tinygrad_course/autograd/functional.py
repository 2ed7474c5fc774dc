"""`tc.autograd.functional`: vjp, jvp, jacobian, hessian, hvp, vhp with PyTorch's signatures.

A single Tensor in gives a Tensor out; a tuple of inputs gives a tuple (a tuple of tuples for
Jacobians of several outputs). Everything is built on `grad`; `jvp` uses the double-vjp trick
(Jv = ∂/∂u (uᵀJ)v, exact, one extra backward). The rows of a Jacobian are computed one
backward each; with ``vectorize=True`` all at once by ``tc.func.vmap`` (installed by
tinygrad_course.func, which sits above this module, through `register_vectorized`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.autograd.api import grad
from tinygrad_course.autograd.grad_mode import enable_grad

# (func, inputs, create_graph, hessian) -> the Jacobian (or Hessian) rows by vmap; set by func.
_vectorized: Callable[..., Any] | None = None


def register_vectorized(fn: Callable[..., Any]) -> None:
    """Install the vmap-based Jacobian of ``vectorize=True`` (called once, by tinygrad_course.func)."""
    global _vectorized
    _vectorized = fn


def _as_tuple(x: Any, op: str, what: str) -> tuple[tuple[Any, ...], bool]:
    """(x as a tuple of Tensors, whether x was a tuple), or a TypeError naming the op."""
    is_tuple = isinstance(x, (tuple, list))
    items = tuple(x) if is_tuple else (x,)
    for k, t in enumerate(items):
        if not isinstance(t, function.Tensor):
            raise TypeError(f"{op}: {what} {k} must be a Tensor, got {type(t).__name__}")
    return items, is_tuple


def _prepare(inputs: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """Inputs that require grad: the same values, joined to their graph only when create_graph."""
    out = []
    for t in inputs:
        if t.dtype.kind != "f":
            raise TypeError(f"autograd.functional: inputs must be floating tensors, got dtype {t.dtype}")
        out.append(t * 1.0 if create_graph and t.requires_grad else t.detach().requires_grad_())
    return tuple(out)


def _grads(outputs: tuple[Any, ...], inputs: tuple[Any, ...], v: Any, create_graph: bool, strict: bool,
           op: str) -> tuple[Any, ...]:
    """Σₖ vₖᵀ ∂outputsₖ/∂inputs, zeros (or an error with strict) for an input nothing depends on."""
    needs = [o for o in outputs if o.requires_grad]
    vs = [vv for o, vv in zip(outputs, v) if o.requires_grad] if v is not None else None
    if not needs:
        got: tuple[Any, ...] = (None,) * len(inputs)
    else:
        got = grad(needs, list(inputs), vs, create_graph=create_graph, retain_graph=True, allow_unused=True)
    result = []
    for k, (g, t) in enumerate(zip(got, inputs)):
        if g is None:
            if strict:
                raise RuntimeError(
                    f"{op}: the output of the user-provided function is independent of input {k}. "
                    "This is not allowed in strict mode."
                )
            g = function.Tensor._make(np.zeros(t.shape, dtype=t.dtype), None)
        result.append(g if create_graph else g.detach())
    return tuple(result)


def _check_v(outputs: tuple[Any, ...], v: Any, op: str) -> tuple[Any, ...] | None:
    if v is None:
        for k, o in enumerate(outputs):
            if o.numel() != 1:
                raise RuntimeError(
                    f"{op}: the vector v can only be None if the function's output has a single element; "
                    f"output {k} has shape {tuple(o.shape)}"
                )
        return None
    vs, _ = _as_tuple(v, op, "v")
    if len(vs) != len(outputs):
        raise RuntimeError(f"{op}: v has {len(vs)} entries for {len(outputs)} outputs")
    for k, (o, vv) in enumerate(zip(outputs, vs)):
        if tuple(vv.shape) != tuple(o.shape):
            raise RuntimeError(f"{op}: v {k} has shape {tuple(vv.shape)} but output {k} has shape {tuple(o.shape)}")
    return vs


def _detach(ts: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    return ts if create_graph else tuple(t.detach() for t in ts)


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ J): the vector-Jacobian product, J = ∂func/∂inputs."""
    ins, in_tuple = _as_tuple(inputs, "vjp", "input")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        outs, out_tuple = _as_tuple(out, "vjp", "output")
        vs = _check_v(outs, v, "vjp")
        g = _grads(outs, ins, vs, create_graph, strict, "vjp")
    outs = _detach(outs, create_graph)
    return (outs if out_tuple else outs[0]), (g if in_tuple else g[0])


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J v): the Jacobian-vector product, by the double-vjp trick Jv = ∂(uᵀJ v)/∂u."""
    ins, in_tuple = _as_tuple(inputs, "jvp", "input")
    if v is None:
        if any(t.numel() != 1 for t in ins):
            raise RuntimeError("jvp: the vector v can only be None if the input has a single element")
        vs = tuple(function.Tensor._make(np.ones(t.shape, dtype=t.dtype), None) for t in ins)
    else:
        vs, _ = _as_tuple(v, "jvp", "v")
        if len(vs) != len(ins) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(vs, ins)):
            raise RuntimeError("jvp: v must have one tensor per input, each of the input's shape")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        outs, out_tuple = _as_tuple(out, "jvp", "output")
        us = tuple(function.Tensor._make(np.zeros(o.shape, dtype=o.dtype), None).requires_grad_() for o in outs)
        g = _grads(outs, ins, us, True, strict, "jvp")  # uᵀJ, a function of u
        jv = _grads(g, us, vs, create_graph, strict, "jvp") if any(t.requires_grad for t in g) else tuple(
            function.Tensor._make(np.zeros(o.shape, dtype=o.dtype), None) for o in outs)
    outs = _detach(outs, create_graph)
    return (outs if out_tuple else outs[0]), (jv if out_tuple else jv[0])


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """∂func/∂inputs, of shape output.shape + input.shape (tuples of tuples for several of each)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    ins, in_tuple = _as_tuple(inputs, "jacobian", "input")
    if vectorize:
        return _vectorized_result("jacobian", func, ins, in_tuple, create_graph, strict, False)
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        outs, out_tuple = _as_tuple(out, "jacobian", "output")
        rows = []
        for o in outs:
            flat_rows: list[list[Any]] = [[] for _ in ins]
            for i in range(o.numel()):  # one backward per output element: e_iᵀ J
                e = np.zeros(o.numel(), dtype=o.dtype)
                e[i] = 1
                seed = function.Tensor._make(e.reshape(o.shape), None)
                g = _grads((o,), ins, (seed,), create_graph, strict, "jacobian")
                for j, gj in enumerate(g):
                    flat_rows[j].append(gj)
            per_input = []
            for j, t in enumerate(ins):
                if flat_rows[j] and create_graph:
                    stacked = _stack(flat_rows[j])
                elif flat_rows[j]:
                    stacked = function.Tensor._make(np.stack([r._array for r in flat_rows[j]]), None)
                else:
                    stacked = function.Tensor._make(np.zeros((0,) + tuple(t.shape), dtype=t.dtype), None)
                per_input.append(stacked.reshape(tuple(o.shape) + tuple(t.shape)))
            rows.append(tuple(per_input))
    if out_tuple:
        return tuple(r if in_tuple else r[0] for r in rows)
    return rows[0] if in_tuple else rows[0][0]


def _vectorized_result(op: str, func: Callable[..., Any], ins: tuple[Any, ...], in_tuple: bool, create_graph: bool,
                       strict: bool, hessian: bool) -> Any:
    """jacobian/hessian with vectorize=True: every row at once, by tc.func.vmap (see func.vectorized_jacobian)."""
    if strict:
        raise RuntimeError(f"{op}: strict=True and vectorize=True are not supported together (as in PyTorch); "
                           "pass one of them")
    if _vectorized is None:
        raise RuntimeError(f"{op}: vectorize=True needs tinygrad_course.func; import tinygrad_course first")
    for t in ins:
        if t.dtype.kind != "f":
            raise TypeError(f"autograd.functional: inputs must be floating tensors, got dtype {t.dtype}")
    rows, out_tuple = _vectorized(func, ins, create_graph, hessian)
    if not create_graph:
        rows = [tuple(r.detach() for r in row) for row in rows]
    if hessian:  # rows[i][j] = ∂²f/∂xᵢ∂xⱼ
        return tuple(rows) if in_tuple else rows[0][0]
    if out_tuple:
        return tuple(r if in_tuple else r[0] for r in rows)
    return rows[0] if in_tuple else rows[0][0]


def _stack(rows: list[Any]) -> Any:
    """The rows stacked along a new first dim, differentiably (create_graph): written one by one
    into a tensor of zeros, each write recorded."""
    first = rows[0]
    out = function.Tensor._make(np.zeros((len(rows),) + tuple(first.shape), dtype=first.dtype), None)
    for i, row in enumerate(rows):
        out[i] = row
    return out


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """∂²func/∂inputs² for a scalar func: shape input.shape + input.shape (tuple of tuples for several inputs)."""
    ins, in_tuple = _as_tuple(inputs, "hessian", "input")
    if vectorize:
        return _vectorized_result("hessian", func, ins, in_tuple, create_graph, strict, True)

    def gradient(*xs: Any) -> Any:
        out = func(*xs)
        outs, out_tuple = _as_tuple(out, "hessian", "output")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"hessian: the function must return a single-element Tensor, got shape {tuple(outs[0].shape)}")
        g = _grads(outs, xs, None, True, strict, "hessian")
        return g if in_tuple else g[0]

    return jacobian(gradient, ins if in_tuple else ins[0], create_graph, strict, vectorize, outer_jacobian_strategy)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ H): the vector-Hessian product of a scalar func."""
    return _hessian_product(func, inputs, v, create_graph, strict, "vhp")


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H v): the Hessian-vector product of a scalar func (H is symmetric, so H v = (vᵀH)ᵀ)."""
    return _hessian_product(func, inputs, v, create_graph, strict, "hvp")


def _hessian_product(func: Callable[..., Any], inputs: Any, v: Any, create_graph: bool, strict: bool,
                     op: str) -> tuple[Any, Any]:
    ins, in_tuple = _as_tuple(inputs, op, "input")
    if v is None:
        if any(t.numel() != 1 for t in ins):
            raise RuntimeError(f"{op}: the vector v can only be None if the input has a single element")
        vs = tuple(function.Tensor._make(np.ones(t.shape, dtype=t.dtype), None) for t in ins)
    else:
        vs, _ = _as_tuple(v, op, "v")
        if len(vs) != len(ins) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(vs, ins)):
            raise RuntimeError(f"{op}: v must have one tensor per input, each of the input's shape")
    with enable_grad():
        ins = _prepare(ins, create_graph)
        out = func(*ins)
        outs, out_tuple = _as_tuple(out, op, "output")
        if out_tuple or outs[0].numel() != 1:
            raise RuntimeError(f"{op}: the function must return a single-element Tensor, got shape {tuple(outs[0].shape)}")
        g = _grads(outs, ins, None, True, strict, op)
        dot = None
        for gj, vj in zip(g, vs):
            term = (gj * vj).sum()
            dot = term if dot is None else dot + term
        if dot is None or not dot.requires_grad:
            if strict:
                raise RuntimeError(f"{op}: the gradient is independent of the input; not allowed in strict mode")
            h = tuple(function.Tensor._make(np.zeros(t.shape, dtype=t.dtype), None) for t in ins)
        else:
            h = _grads((dot,), ins, None, create_graph, strict, op)
    value = outs[0] if create_graph else outs[0].detach()
    return value, (h if in_tuple else h[0])
