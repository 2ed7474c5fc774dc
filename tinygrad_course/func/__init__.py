"""`tc.func`: PyTorch's composable function transforms (``torch.func``), plus `laplacian`.

``grad(f)`` is a function that returns ∂f/∂x; transforms compose: ``grad(grad(f))``,
``jacrev(jacrev(f))``, ``vmap(grad(f))``, ``vmap(vmap(f))``. Every transform is built on the
autograd engine (`tc.grad` with create_graph, so that the result can be differentiated again).

`vmap` (vmap.py) runs the function once on the whole batch by per-op batching rules
(batching.py), so that ``vmap(grad(f))`` is vectorised end to end; inside it, `grad` gives
each sample its own gradient (see docs/function-transforms.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.autograd.api import grad as _autograd_grad
from tinygrad_course.autograd.api import register_batched_vjp
from tinygrad_course.autograd.functional import register_vectorized
from tinygrad_course.autograd.grad_mode import enable_grad, is_grad_enabled, mode
from tinygrad_course.autograd.graph import topological_order
from tinygrad_course.func import batched_autograd  # noqa: F401  (installs grad inside vmap)
from tinygrad_course.func.batching import spread
from tinygrad_course.func.laplacian_forward import forward_laplacian
from tinygrad_course.func.vmap import vmap
from tinygrad_course.nn.module import Module
from tinygrad_course.tensor import Tensor, cat, stack
from tinygrad_course.tensor.batched import BatchedTensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "laplacian",
           "stack_module_state", "vjp", "vmap"]


def _argnums(argnums: int | tuple[int, ...], n: int, op: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise ValueError(f"{op}: argnums must name at least one argument")
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise ValueError(f"{op}: argnums {argnums!r} is out of range for a function called with {n} positional arguments")
    return tuple(a % n for a in nums)


def _with_grad_args(args: tuple[Any, ...], nums: tuple[int, ...], op: str, fresh: list[Any] | None = None) -> list[Any]:
    """The arguments, those at `nums` made differentiable (joined to their graph if they have one).

    An argument may be a Tensor or a dict of Tensors (e.g. a module's parameters for
    `functional_call`); its gradient then has the same structure. The new leaves made for
    arguments that did not require grad are appended to `fresh`.
    """
    args = list(args)
    for a in nums:
        args[a] = _map_leaves(args[a], lambda t, where, a=a: _differentiable(t, f"{op}: argument {a}{where}", fresh))
    return args


def _differentiable(t: Any, what: str, fresh: list[Any] | None = None) -> Any:
    if not isinstance(t, Tensor):
        raise TypeError(f"{what} must be a Tensor to differentiate with respect to it, got {type(t).__name__}")
    if t.dtype.kind not in "fc":
        raise TypeError(f"{what} must be a floating or complex tensor, got dtype {t.dtype}")
    if t.requires_grad:
        d = t * 1.0
    else:
        d = t.detach().requires_grad_()
        if fresh is not None:
            fresh.append(d._inner if isinstance(d, BatchedTensor) else d)
    # Inside vmap every sample gets its own copy, so that each gets its own gradient
    # (per-sample gradients of parameters shared by the batch).
    return spread(d) if mode.vmap_depth else d


def _map_leaves(obj: Any, fn: Callable[[Any, str], Any]) -> Any:
    """fn applied to a Tensor, or to each value of a dict (keys kept)."""
    if isinstance(obj, dict):
        return {k: fn(v, f"[{k!r}]") for k, v in obj.items()}
    return fn(obj, "")


def _leaves(obj: Any) -> list[Any]:
    return list(obj.values()) if isinstance(obj, dict) else [obj]


def _like(obj: Any, values: list[Any]) -> Any:
    return dict(zip(obj.keys(), values)) if isinstance(obj, dict) else values[0]


def _split_aux(out: Any, has_aux: bool, op: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not isinstance(out, tuple) or len(out) != 2:
        raise RuntimeError(f"{op}(f)(*args): with has_aux=True, f must return a (output, aux) tuple")
    return out


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """A function returning (∂func/∂args[argnums], func(*args)); with has_aux, (grad, (value, aux))."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad")
        outer_grad_mode = is_grad_enabled()
        with enable_grad():
            fresh: list[Any] = []
            xs = _with_grad_args(args, nums, "grad", fresh)
            out, aux = _split_aux(func(*xs, **kwargs), has_aux, "grad")
            if not isinstance(out, Tensor) or out.numel() != 1:
                shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                raise RuntimeError(f"grad(f)(*args): expected f(*args) to return a scalar Tensor, got {shape}")
            wrt = [leaf for a in nums for leaf in _leaves(xs[a])]
            # The gradient must itself be differentiable only if something outside this call can
            # differentiate it: a tensor the caller made require grad (an outer transform's
            # input, a closure's parameter). Otherwise building the backward's own graph would
            # cost about 3× for numbers nobody can differentiate.
            keep = outer_grad_mode and out.requires_grad and _reaches_other_leaves(out, fresh)
            flat = _gradients(out, wrt, keep)
            gs, start = [], 0
            for a in nums:  # back into each argument's structure
                n = len(_leaves(xs[a]))
                gs.append(_like(xs[a], flat[start:start + n]))
                start += n
        g = gs[0] if isinstance(argnums, int) else tuple(gs)
        out, aux = _detached(out, keep), _detached(aux, keep)  # as torch.func: no grad unless something outside needs it
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def _gradients(out: Tensor, wrt: list[Any], keep: bool) -> list[Any]:
    """∂out/∂w for each w (zeros where out does not depend on w), batched like w inside vmap
    (tc.grad does that: see batched_autograd.py); recorded (differentiable) with `keep`."""
    if out.requires_grad:
        flat = _autograd_grad(out, wrt, create_graph=keep, allow_unused=True)
    else:
        flat = (None,) * len(wrt)
    return [Tensor._make(np.zeros(w.shape, dtype=w.dtype), None) if g is None else g for g, w in zip(flat, wrt)]


def _detached(obj: Any, keep: bool) -> Any:
    """obj (a Tensor, or a tuple/list/dict of them) cut from the graph unless `keep`."""
    if keep:
        return obj
    if isinstance(obj, Tensor):
        return obj.detach()
    if isinstance(obj, (tuple, list)):
        return type(obj)(_detached(o, keep) for o in obj)
    if isinstance(obj, dict):
        return {k: _detached(v, keep) for k, v in obj.items()}
    return obj


def _reaches_other_leaves(out: Tensor, own: list[Any]) -> bool:
    """Whether out's graph reaches a leaf that requires grad and is not one of `own` (the fresh leaves of this call)."""
    if isinstance(out, BatchedTensor):
        out = out._inner
    if out.grad_fn is None:  # out is a leaf itself
        return out._requires_grad and all(out is not t for t in own)
    own_ids = {id(t._inner if isinstance(t, BatchedTensor) else t) for t in own}
    for node in topological_order([out.grad_fn]):
        for t in node.parents:
            if t.grad_fn is None and t._requires_grad and id(t) not in own_ids:
                return True
    return False


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """A function returning ∂func/∂args[argnums] of a scalar func (with has_aux, (grad, aux))."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = inner(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), vjp_fn[, aux]) where vjp_fn(cotangents) gives vᵀ ∂func/∂primals, one per primal."""
    outer_grad_mode = is_grad_enabled()
    with enable_grad():
        fresh: list[Any] = []
        xs = _with_grad_args(primals, tuple(range(len(primals))), "vjp", fresh)
        out, aux = _split_aux(func(*xs), has_aux, "vjp")
    outs = out if isinstance(out, tuple) else (out,)
    keep = outer_grad_mode and any(isinstance(o, Tensor) and o.requires_grad and _reaches_other_leaves(o, fresh)
                                   for o in outs)

    def vjp_fn(*cotangents: Any) -> tuple[Any, ...]:
        cts = cotangents[0] if len(cotangents) == 1 and isinstance(cotangents[0], tuple) else cotangents
        if len(cts) != len(outs):
            raise RuntimeError(f"vjp_fn: expected {len(outs)} cotangents (one per output), got {len(cts)}")
        record = keep or (is_grad_enabled() and any(isinstance(c, Tensor) and c.requires_grad for c in cts))
        with enable_grad():
            gs = _autograd_grad(list(outs), list(xs), list(cts), create_graph=record, retain_graph=True,
                                allow_unused=True)
        return tuple(g if g is not None else Tensor._make(np.zeros(x.shape, dtype=x.dtype), None)
                     for g, x in zip(gs, xs))

    out, aux = _detached(out, keep), _detached(aux, keep)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jvp(func: Callable[..., Any], primals: tuple[Any, ...], tangents: tuple[Any, ...],
        has_aux: bool = False) -> tuple[Any, ...]:
    """(func(*primals), J·tangents), by the double-vjp trick."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp: primals and tangents must be tuples of Tensors")
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    for k, (p, t) in enumerate(zip(primals, tangents)):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp: tangent {k} has shape {tuple(t.shape)} but primal {k} has shape {tuple(p.shape)}")
    outer_grad_mode = is_grad_enabled()
    with enable_grad():
        fresh: list[Any] = []
        xs = _with_grad_args(primals, tuple(range(len(primals))), "jvp", fresh)
        out, aux = _split_aux(func(*xs), has_aux, "jvp")
        outs = out if isinstance(out, tuple) else (out,)
        keep = outer_grad_mode and (
            any(o.requires_grad and _reaches_other_leaves(o, fresh) for o in outs)
            or any(isinstance(t, Tensor) and t.requires_grad for t in tangents))
        # u is a dummy cotangent: J v = ∂/∂u (uᵀ J) v. Inside vmap each sample gets its own u.
        us = [Tensor._make(np.zeros(o.shape, dtype=o.dtype), None).requires_grad_() for o in outs]
        us = [spread(u) if mode.vmap_depth else u for u in us]
        gs = _autograd_grad(list(outs), list(xs), us, create_graph=True, allow_unused=True)
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None and g.requires_grad]
        if pairs:
            dot = sum(((g * t).sum() for g, t in pairs[1:]), (pairs[0][0] * pairs[0][1]).sum())
            jv = _autograd_grad(dot, us, create_graph=keep, allow_unused=True)
        else:
            jv = (None,) * len(us)
        jv = tuple(j if j is not None else Tensor._make(np.zeros(o.shape, dtype=o.dtype), None) for j, o in zip(jv, outs))
    result = jv if isinstance(out, tuple) else jv[0]
    out, aux = _detached(out, keep), _detached(aux, keep)
    return (out, result, aux) if has_aux else (out, result)


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """A function returning the Jacobian of func w.r.t. args[argnums], shape output.shape + input.shape.

    All rows at once: one backward seeded with the identity, batched by vmap
    (``tc.grad(..., is_grads_batched=True)``). The result is differentiable when something
    outside requires grad (an outer transform's input), as for `grad`.
    """
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"jacrev: chunk_size must be None or a positive int, got {chunk_size!r}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacrev")
        outer_grad_mode = is_grad_enabled()
        with enable_grad():
            fresh: list[Any] = []
            xs = _with_grad_args(args, nums, "jacrev", fresh)
            out, aux = _split_aux(func(*xs, **kwargs), has_aux, "jacrev")
            outs = out if isinstance(out, tuple) else (out,)
            for k, o in enumerate(outs):
                if not isinstance(o, Tensor):
                    raise RuntimeError(f"jacrev(f)(*args): expected f to return Tensors, got {type(o).__name__} for output {k}")
            wrt = [xs[a] for a in nums]
            keep = outer_grad_mode and any(o.requires_grad and _reaches_other_leaves(o, fresh) for o in outs)
            jac = tuple(tuple(_jacobian_block(o, w, keep, chunk_size) for w in wrt) for o in outs)
        per_out = [j if not isinstance(argnums, int) else j[0] for j in jac]
        result = tuple(per_out) if isinstance(out, tuple) else per_out[0]
        return (result, aux) if has_aux else result

    return wrapper


def _jacobian_block(out: Any, x: Any, keep: bool, chunk_size: int | None = None) -> Any:
    """∂out/∂x, shape out.shape + x.shape: backward seeded with the rows of the identity, `chunk_size` at a time."""
    m = out.numel()
    shape = tuple(out.shape) + tuple(x.shape)
    if not out.requires_grad or m == 0:
        return Tensor._make(np.zeros(shape, dtype=x.dtype), None)
    step = m if chunk_size is None else chunk_size
    parts = []
    for start in range(0, m, step):
        rows = min(step, m - start)
        seeds = np.zeros((rows, m), dtype=out.dtype)
        seeds[np.arange(rows), start + np.arange(rows)] = 1
        seed = Tensor._make(seeds.reshape((rows,) + tuple(out.shape)), None)
        (g,) = _autograd_grad(out, x, seed, create_graph=keep, retain_graph=True, allow_unused=True,
                              is_grads_batched=True)
        parts.append(g if g is not None else Tensor._make(np.zeros((rows,) + tuple(x.shape), dtype=x.dtype), None))
    whole = parts[0] if len(parts) == 1 else cat(parts)
    return whole.reshape(shape)


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian of func w.r.t. args[argnums] (computed by reverse-mode rows here: the same numbers as forward mode)."""
    return jacrev(func, argnums, has_aux)


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """A function returning ∂²func/∂x² of a scalar func: jacfwd(jacrev(func)), shape x.shape + x.shape."""
    return jacfwd(jacrev(func, argnums), argnums)


def laplacian(func: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """Δₓf = Σᵢ ∂²f/∂xᵢ² for batched inputs: x of shape (B, d) and f(x) of shape (B,) give Δf of shape (B,).

    An extension: neither PyTorch nor JAX ships it. Computed by the forward Laplacian of Li,
    Ye, Wang, Chen, Zhang, Ren (2023), "Forward Laplacian: A New Computational Framework for
    Neural Network-based Variational Monte Carlo" (arXiv:2307.08214): (value, ∇ₓ, Δₓ) carried
    forward through the recorded graph in one pass (laplacian_forward.py has the rules for
    Linear/matmul, add/sub/mul/div, pow, sums, reshapes and the elementwise functions). A graph
    with an op that has no rule falls back to double backward: ∂/∂xᵢ of Σ_b ∂f_b/∂x_{b,i}, one
    pass per input dim. Each sample must depend only on its own row of x.
    With grad mode on, Δf is differentiable (also with respect to the parameters, as a PINN
    loss or a VMC loss on the local energy needs); under ``tc.no_grad()`` only its value is
    computed, on numpy arrays, much faster.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "laplacian")
        # Under no_grad the caller wants the numbers only: no graph of Δf is built. With grad
        # on, Δf stays differentiable if anything outside (a parameter, x itself) requires grad.
        grad_on = is_grad_enabled()
        with enable_grad():
            fresh: list[Any] = []
            xs = _with_grad_args(args, nums, "laplacian", fresh)
            x = xs[nums[0]]
            out = func(*xs, **kwargs)
            if x.ndim != 2 or tuple(out.shape) != (x.shape[0],):
                raise RuntimeError(
                    f"laplacian: expected x of shape (B, d) and f(x) of shape (B,), got {tuple(x.shape)} and {tuple(out.shape)}"
                )
            differentiable = grad_on and out.requires_grad and _reaches_other_leaves(out, fresh)
            lap = forward_laplacian(x, out, differentiable)
            if lap is not None:
                return lap if isinstance(lap, Tensor) else Tensor._make(np.ascontiguousarray(lap), None)
            if not out.requires_grad:
                return Tensor._make(np.zeros(x.shape[0], dtype=x.dtype), None)
            (g,) = _autograd_grad(out.sum(), x, create_graph=True)
            total = None
            for i in range(x.shape[1]):
                (h,) = _autograd_grad(g[:, i].sum(), x, create_graph=differentiable, retain_graph=True, allow_unused=True)
                if h is not None:
                    term = h[:, i]
                    total = term if total is None else total + term
        return total if total is not None else Tensor._make(np.zeros(x.shape[0], dtype=x.dtype), None)

    return wrapper


def vectorized_jacobian(fn: Callable[..., Any], ins: tuple[Any, ...], create_graph: bool,
                        hessian: bool) -> tuple[list[tuple[Any, ...]], bool]:
    """The rows of ∂fn/∂ins (of ∂²fn/∂ins² with `hessian`) all at once: vmap over the unit vectors e of
    grad(Σ e·fn(x)) (of grad(Σ e·∇fn(x))). The forward runs once per row, vectorised, instead of
    one backward per row. Returns (per output, per input: shape out.shape + in.shape; whether fn gave a tuple).
    """
    n = len(ins)
    nums = tuple(range(n))
    target = grad(fn, argnums=nums) if hessian else fn
    if not create_graph:
        ins = tuple(t.detach() for t in ins)
    with enable_grad():
        first = target(*ins)  # the outputs' shapes (and a check of what fn returns)
    outs = first if isinstance(first, tuple) else (first,)
    for k, o in enumerate(outs):
        if not isinstance(o, Tensor):
            op = "hessian" if hessian else "jacobian"
            raise TypeError(f"{op}: output {k} must be a Tensor, got {type(o).__name__}")
    rows = []
    for k, o in enumerate(outs):
        m = o.numel()
        if m == 0:
            rows.append(tuple(Tensor._make(np.zeros(tuple(o.shape) + tuple(t.shape), dtype=t.dtype), None) for t in ins))
            continue

        def row(e: Tensor, *xs: Any, k: int = k) -> Any:
            def dot(*zs: Any) -> Tensor:
                out = target(*zs)
                part = out[k] if isinstance(out, tuple) else out
                return (part.reshape(-1) * e).sum()
            return grad(dot, argnums=nums)(*xs)

        eye = Tensor._make(np.eye(m, dtype=o.dtype), None)
        got = vmap(row, in_dims=(0,) + (None,) * n)(eye, *ins)
        rows.append(tuple(g.reshape(tuple(o.shape) + tuple(t.shape)) for g, t in zip(got, ins)))
    return rows, isinstance(first, tuple)


register_vectorized(vectorized_jacobian)


def batched_vjp(outs: list[Any], ins: list[Any], vectors: list[Any], create_graph: bool, retain_graph: bool | None,
                allow_unused: bool) -> tuple[Any, ...]:
    """tc.grad(..., is_grads_batched=True) as one backward: vmap over the leading dim of the vectors,
    so that every backward formula runs once, on the whole batch, by the batching rules."""
    unused: set[int] = set()

    def one(*vs: Any) -> tuple[Any, ...]:
        gs = _autograd_grad(outs, ins, list(vs), create_graph=create_graph, retain_graph=True, allow_unused=True)
        out = []
        for k, (g, t) in enumerate(zip(gs, ins)):
            if g is None:
                unused.add(k)
                g = Tensor._make(np.zeros(t.shape, dtype=t.dtype), None)
            out.append(g)
        return tuple(out)

    results = vmap(one)(*vectors)
    for k in sorted(unused):
        if not allow_unused:
            raise RuntimeError(f"grad: input {k} (shape {tuple(ins[k].shape)}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
    return tuple(None if k in unused else r for k, r in enumerate(results))


register_batched_vjp(batched_vjp)


def functional_call(module: Module, parameter_and_buffer_dicts: Any, args: Any, kwargs: dict[str, Any] | None = None,
                    *, tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args) with its parameters and buffers replaced by the given tensors (by state_dict name), then restored."""
    dicts = parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, (tuple, list)) else (parameter_and_buffer_dicts,)
    values: dict[str, Any] = {}
    for d in dicts:
        for name, t in d.items():
            if name in values:
                raise ValueError(f"functional_call: {name!r} appears in more than one dict")
            values[name] = t
    known = dict(module.named_parameters()) | dict(module.named_buffers())
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise RuntimeError(f"functional_call: unexpected key(s) {unknown}; the module has {sorted(known)}")
    if strict and set(known) - set(values):
        raise RuntimeError(f"functional_call: missing key(s) {sorted(set(known) - set(values))} (strict=True)")
    saved = []
    try:
        for name, t in values.items():
            owner, leaf = _owner(module, name)
            registry = owner.__dict__["_parameters"] if leaf in owner.__dict__["_parameters"] else owner.__dict__["_buffers"]
            saved.append((owner, registry, leaf, registry[leaf]))
            registry[leaf] = t
            owner.__dict__[leaf] = t
        args = args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for owner, registry, leaf, original in reversed(saved):
            registry[leaf] = original
            owner.__dict__[leaf] = original


def _owner(module: Module, name: str) -> tuple[Module, str]:
    *path, leaf = name.split(".")
    owner = module
    for part in path:
        owner = owner.__dict__["_modules"][part]
    return owner, leaf


def stack_module_state(models: list[Module]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(params, buffers) of several models of one architecture, each stacked along a new first dim."""
    if not models:
        raise RuntimeError("stack_module_state: expected at least one model")
    names = [dict(m.named_parameters()) for m in models]
    if any(set(n) != set(names[0]) for n in names):
        raise RuntimeError("stack_module_state: the models must have the same parameter names")
    params = {k: stack([n[k].detach() for n in names]).requires_grad_() for k in names[0]}
    bufs = [dict(m.named_buffers()) for m in models]
    buffers = {k: stack([b[k] for b in bufs]) for k in bufs[0]}
    return params, buffers
