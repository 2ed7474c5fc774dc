"""The forward Laplacian: (value, ∇ₓ, Δₓ) carried forward through the recorded graph in one pass.

Li, Ye, Wang, Chen, Zhang, Ren (2023), "Forward Laplacian: A New Computational Framework for
Neural Network-based Variational Monte Carlo" (arXiv:2307.08214). For every tensor v that
depends on the input x (B, d), keep J = ∂v/∂xᵢ for each of the d input dims (shape (d, B, …))
and L = Σᵢ ∂²v/∂xᵢ² (the shape of v). The rules, per op:

- linear maps (Linear, matmul by a constant, sums, reshapes, add/sub/neg): J and L map
  like the value (a linear map of the second derivatives is the same map);
- an elementwise φ: J' = φ'(v) J and L' = φ'(v) L + φ''(v) Σᵢ Jᵢ² (the chain rule twice);
- a product u·w of two tracked tensors: L' = u L_w + w L_u + 2 Σᵢ J_u,ᵢ J_w,ᵢ.

The d second-derivative passes of the double-backward method become one forward pass with
d-wide tangents. The formulas use only operators that mean the same on numpy arrays and on
Tensors: with arrays (values only) or Tensors (recorded, so Δf stays differentiable, e.g.
with respect to the parameters). An op without a rule returns None: the caller falls back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_course.autograd.graph import topological_order
from tinygrad_course.ops import elementwise as E
from tinygrad_course.ops import fused, matmul, movement, reduce
from tinygrad_course.tensor import Tensor, where

State = tuple[Any, Any]  # (J: (d, *v.shape), L: v.shape)

# Spare J arrays from earlier calls, by (shape, dtype). A fresh (d, B, n) array costs more in
# page faults than the arithmetic done on it (2.7 ms → 0.9 ms for an MLP 20→32→32→1, B = 256),
# so the J arrays of one call are kept for the next. Per thread; a few per shape.
_spares = threading.local()


def _empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """An array for a J: a spare one of this shape if there is one, else a new one."""
    pool = getattr(_spares, "pool", None)
    found = pool.get((shape, np.dtype(dtype))) if pool else None
    return found.pop() if found else np.empty(shape, dtype=dtype)


def _release(j: Any) -> None:
    """Keep a J that is no longer needed for the next call (numpy arrays that own their memory)."""
    if isinstance(j, np.ndarray) and j.flags.owndata and j.flags.writeable:
        if not hasattr(_spares, "pool"):
            _spares.pool = {}
        found = _spares.pool.setdefault((j.shape, j.dtype), [])
        if len(found) < 4:
            found.append(j)


def _call(name: str, v: Any) -> Any:
    """An elementwise function by name on an array (numpy's) or a Tensor (its method)."""
    return getattr(np, name)(v) if isinstance(v, np.ndarray) else getattr(v, name)()


def _sumsq(j: Any) -> Any:
    """Σᵢ Jᵢ² over the input dims (axis 0)."""
    if isinstance(j, np.ndarray):
        if j.ndim > 1 and j.strides[1] == 0:
            # J the same for every sample (right after the first layer): once, then broadcast.
            return np.broadcast_to(np.square(j[:, :1]).sum(0), j.shape[1:])
        return np.einsum("i...,i...->...", j, j)  # no (d, B, n) temporary: fresh big arrays page-fault
    return (j * j).sum(0)


def _times(j: Any, w: Any) -> Any:
    """J (d, B, …, n) @ w, computed once for a J shared by all samples (right after x)."""
    if isinstance(j, np.ndarray) and not isinstance(w, Tensor) and j.ndim > 2 and j.strides[1] == 0:
        first = j[:, :1] @ w
        return np.broadcast_to(first, first.shape[:1] + j.shape[1:-1] + first.shape[-1:])
    if isinstance(j, np.ndarray) and isinstance(w, np.ndarray) and w.ndim == 2:
        return np.matmul(j, w, out=_empty(j.shape[:-1] + w.shape[-1:], np.result_type(j, w)))
    return j @ w


def _chain(d1: Any, d2: Any, s: State, reuse: bool = False) -> State:
    """An elementwise φ with φ' = d1 and φ'' = d2 at the input: (φ' J, φ' L + φ'' Σ J²).

    With `reuse` (this op is the last use of J, a numpy array of its own) J is scaled in
    place: each fresh (d, B, n) array costs page faults, more than the multiplication.
    """
    j, lap = s
    lap_out = d1 * lap + d2 * _sumsq(j)
    if reuse and isinstance(j, np.ndarray) and isinstance(d1, np.ndarray) and j.flags.writeable \
            and j.flags.owndata and np.result_type(j, d1) == j.dtype and np.broadcast_shapes(j.shape, d1.shape) == j.shape:
        np.multiply(j, d1, out=j)
        return j, lap_out
    if isinstance(j, np.ndarray) and isinstance(d1, np.ndarray):
        shape = np.broadcast_shapes(j.shape, d1.shape)
        return np.multiply(d1, j, out=_empty(shape, np.result_type(d1, j))), lap_out
    return d1 * j, lap_out


# Elementwise functions: (φ', φ'') from the input u and the output y.
_ELEMENTWISE: dict[type, Callable[[Any, Any], tuple[Any, Any]]] = {
    E.Tanh: lambda u, y: (1 - y * y, -2 * y * (1 - y * y)),
    E.Sigmoid: lambda u, y: (y * (1 - y), y * (1 - y) * (1 - 2 * y)),
    E.Exp: lambda u, y: (y, y),
    E.Log: lambda u, y: (1 / u, -1 / (u * u)),
    E.Sin: lambda u, y: (_call("cos", u), -y),
    E.Cos: lambda u, y: (-_call("sin", u), -y),
    E.Sqrt: lambda u, y: (0.5 / y, -0.25 / (y * y * y)),
    E.Sinh: lambda u, y: (_call("cosh", u), y),
    E.Cosh: lambda u, y: (_call("sinh", u), y),
    E.Relu: lambda u, y: (_step(u), 0.0 * y),
    fused.Softplus: lambda u, y: (_sigmoid(u), _sigmoid(u) * (1 - _sigmoid(u))),
}


def _step(u: Any) -> Any:
    """1 where u > 0, else 0, in u's dtype."""
    return (u > 0).astype(u.dtype) if isinstance(u, np.ndarray) else (u > 0).to(u.dtype)


def _sigmoid(u: Any) -> Any:
    return 1 / (1 + np.exp(-u)) if isinstance(u, np.ndarray) else u.sigmoid()


def _rule(node: Any, vals: list[Any], out: Any, states: list[State | None], d: int, last: bool) -> State | None:
    """(J, L) of the node's output from its inputs' values and states; None if there is no rule.

    `last`: this node is the only remaining user of its first input's state (which may be reused).
    """
    cls = type(node)
    s = states
    if cls in _ELEMENTWISE:
        d1, d2 = _ELEMENTWISE[cls](vals[0], out)
        return _chain(d1, d2, s[0], last)
    if cls is fused.Linear:
        if s[1] is not None or (len(s) == 3 and s[2] is not None):
            return None  # a weight that depends on x: not a linear map of x
        wt = vals[1].T
        return _times(s[0][0], wt), s[0][1] @ wt
    if cls is matmul.MatMul:
        if s[0] is not None and s[1] is None:
            return _times(s[0][0], vals[1]), s[0][1] @ vals[1]
        return None
    if cls in (E.Add, E.Sub):
        sign = 1.0 if cls is E.Add else -1.0
        parts = [(st, f) for st, f in zip(s, (1.0, sign)) if st is not None]
        j = sum((f * st[0] for st, f in parts[1:]), parts[0][1] * parts[0][0][0])
        lap = sum((f * st[1] for st, f in parts[1:]), parts[0][1] * parts[0][0][1])
        return _broadcast(j, lap, out, d)
    if cls is E.Where:  # the condition is a constant mask
        cond = vals[0]._array if isinstance(vals[0], Tensor) else vals[0]
        pick = np.where if isinstance(out, np.ndarray) else where
        j = pick(cond, s[1][0] if s[1] else 0.0, s[2][0] if s[2] else 0.0)
        lap = pick(cond, s[1][1] if s[1] else 0.0, s[2][1] if s[2] else 0.0)
        return _broadcast(j, lap, out, d)
    if cls is E.Neg:
        return -s[0][0], -s[0][1]
    if cls is E.Mul:
        (a, b), (sa, sb) = vals, s
        if sa is not None and sb is not None:
            return _broadcast(a * sb[0] + b * sa[0], a * sb[1] + b * sa[1] + 2 * (sa[0] * sb[0]).sum(0), out, d)
        st, c = (sa, b) if sa is not None else (sb, a)
        return _broadcast(c * st[0], c * st[1], out, d)
    if cls is E.Div:
        (a, b), (sa, sb) = vals, s
        if sb is None:
            return _broadcast(sa[0] / b, sa[1] / b, out, d)
        inv = 1 / b  # a / b = a · (1/b), with (1/b)' = −1/b², (1/b)'' = 2/b³
        si = _chain(-inv * inv, 2 * inv * inv * inv, sb)
        if sa is None:
            return _broadcast(a * si[0], a * si[1], out, d)
        return _broadcast(a * si[0] + inv * sa[0], a * si[1] + inv * sa[1] + 2 * (sa[0] * si[0]).sum(0), out, d)
    if cls is E.Pow:
        (a, p), (sa, sp) = vals, s
        if sp is not None:
            return None
        return _chain(p * a ** (p - 1), p * (p - 1) * a ** (p - 2), sa)
    if cls in (movement.Reshape, movement.Clone, movement.Expand):
        shape = tuple(out.shape)
        return _reshape(s[0][0], (d,) + shape, cls), _reshape(s[0][1], shape, cls)
    if cls is movement.Permute:
        axes = node.axes
        if axes[0] != 0:
            return None  # the batch dim must stay first
        return s[0][0].permute((0,) + tuple(a + 1 for a in axes)) if isinstance(s[0][0], Tensor) else \
            np.transpose(s[0][0], (0,) + tuple(a + 1 for a in axes)), _permute(s[0][1], axes)
    if cls is reduce.Sum:
        axis = node.axis
        axes = tuple(range(len(node.in_shape))) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
        if 0 in axes:
            return None  # a sum over the batch mixes samples
        shape = tuple(out.shape)
        j = s[0][0].sum(tuple(a + 1 for a in axes))
        lap = s[0][1].sum(axes)
        return j.reshape((d,) + shape), lap.reshape(shape)
    return None


def _permute(v: Any, axes: tuple[int, ...]) -> Any:
    return v.permute(axes) if isinstance(v, Tensor) else np.transpose(v, axes)


def _reshape(v: Any, shape: tuple[int, ...], cls: type) -> Any:
    if cls is movement.Expand:
        return v.expand(shape) if isinstance(v, Tensor) else np.broadcast_to(v, shape)
    return v.reshape(shape)


def _broadcast(j: Any, lap: Any, out: Any, d: int) -> State:
    """J and L at the output's full shape (an operand may have been broadcast)."""
    shape = tuple(out.shape)
    if tuple(lap.shape) != shape:
        lap = lap + np.zeros(shape, dtype=out.dtype) if isinstance(lap, np.ndarray) else lap.expand(shape)
    if tuple(j.shape) != (d,) + shape:
        j = np.broadcast_to(j, (d,) + shape) if isinstance(j, np.ndarray) else j.expand((d,) + shape)
    return j, lap


def forward_laplacian(x: Tensor, out: Tensor, differentiable: bool) -> Any:
    """Δₓ out (shape out.shape) by propagating (J, L) from x along out's graph; None if an op has no rule.

    x is the (B, d) leaf the function was called with; out its (B,) result. With
    `differentiable`, the propagation uses Tensors of the graph (so Δ is recorded), else arrays.
    """
    if out.grad_fn is None:
        return None
    b, d = x.shape
    order = topological_order([out.grad_fn])[::-1]  # inputs before their consumers
    value = (lambda t: t) if differentiable else (lambda t: t._array)
    eye = np.eye(d, dtype=x.dtype)[:, None, :]
    # States are keyed by the node that made a tensor (by the tensor itself for a leaf).
    states: dict[Any, State] = {_key(x): (np.broadcast_to(eye, (d, b, d)), np.broadcast_to(np.zeros((1, d), dtype=x.dtype), (b, d)))}
    outputs: dict[Any, Any] = {out.grad_fn: out}  # each node's output Tensor, found among its consumers' inputs
    for node in order:
        for t in node.parents:
            if t.grad_fn is not None:
                outputs[t.grad_fn] = t
    uses: dict[Any, int] = {}  # how many ops read each tensor: the last one may reuse its J
    for node in order:
        for t in node.parents:
            uses[_key(t)] = uses.get(_key(t), 0) + 1
    for node in order:
        if node in states:
            continue  # x itself (the function's input may be made by an op)
        ins = [states.get(_key(t)) for t in node.parents]
        if all(st is None for st in ins):
            continue  # does not depend on x
        first = _key(node.parents[0])
        last = uses.get(first) == 1 and first in states and first != _key(out) and _alone(first, states)
        result = _rule(node, [value(t) for t in node.parents], value(outputs[node]), ins, d, last)
        if result is None:
            return None
        states[node] = result
        for t in node.parents:  # J of an input read for the last time: kept for the next call
            key = _key(t)
            uses[key] -= 1
            if uses[key] == 0 and key in states and not differentiable and _alone(key, states):
                _release(states.pop(key)[0])
    final = states.get(_key(out))
    return None if final is None else final[1]


def _alone(key: Any, states: dict[Any, State]) -> bool:
    """Whether the J of `key` shares no memory with another state's J (a reshape's is a view)."""
    j = states[key][0]
    return isinstance(j, np.ndarray) and not any(
        k != key and isinstance(st[0], np.ndarray) and np.may_share_memory(j, st[0]) for k, st in states.items())


def _key(t: Tensor) -> Any:
    return t.grad_fn if t.grad_fn is not None else id(t)
