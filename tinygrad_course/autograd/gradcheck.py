"""Finite-difference checks of gradients: `gradcheck` (first order) and `gradgradcheck` (second).

The numerical derivative is the central difference (f(x + ε) − f(x − ε)) / 2ε, whose error is
O(ε²) + O(machine-eps / ε); it is only trustworthy in float64, so both checks insist on it.
Use them in your own pytest files: ``assert gradcheck(my_fn, (x, y))``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.autograd.api import grad


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical derivatives disagree."""


def _as_tuple(x: Any) -> tuple[Any, ...]:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Any, ...]:
    outs = _as_tuple(fn(*inputs))
    for k, o in enumerate(outs):
        if not isinstance(o, function.Tensor):
            raise TypeError(f"gradcheck: output {k} of fn is a {type(o).__name__}, expected Tensor")
    return outs


def _check_inputs(inputs: Sequence[Any], name: str) -> list[int]:
    diff = []
    for k, t in enumerate(inputs):
        if isinstance(t, function.Tensor) and t.requires_grad:
            if t.dtype != np.float64:
                raise ValueError(
                    f"{name}: input {k} has dtype {t.dtype}; {name} needs float64 inputs, since "
                    "finite differences in lower precision are too inaccurate to judge a "
                    "gradient. Pass tensors made with dtype=float64 (or .double() leaves)"
                )
            diff.append(k)
    if not diff:
        raise ValueError(f"{name}: no input requires grad; set requires_grad=True on the inputs to check")
    return diff


def _analytical(fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int]) -> list[list[np.ndarray]]:
    """J[k][o][i, j] = ∂ output_o[j] / ∂ input_k[i], one backward pass per output element."""
    outs = _outputs(fn, inputs)
    jac = [[np.zeros((inputs[k]._array.size, o._array.size)) for o in outs] for k in diff]
    wrt = [inputs[k] for k in diff]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        for j in range(o._array.size):
            seed = np.zeros(o.shape, dtype=o.dtype)
            seed.flat[j] = 1.0
            grads = grad(o, wrt, function.Tensor(seed), retain_graph=True, allow_unused=True)
            for kk, g in enumerate(grads):
                if g is not None:
                    jac[kk][oi][:, j] = g._array.reshape(-1)
    return jac


def _numerical(fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int], eps: float) -> list[list[np.ndarray]]:
    """The same Jacobian by central differences, perturbing one input element at a time."""
    sizes = [o._array.size for o in _outputs(fn, inputs)]
    jac = [[np.zeros((inputs[k]._array.size, m)) for m in sizes] for k in diff]
    for kk, k in enumerate(diff):
        x = inputs[k]._array
        for i, idx in enumerate(np.ndindex(x.shape)):
            orig = x[idx]
            x[idx] = orig + eps
            plus = [o._array.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            x[idx] = orig - eps
            minus = [o._array.astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
            x[idx] = orig
            for oi in range(len(sizes)):
                jac[kk][oi][i, :] = (plus[oi] - minus[oi]) / (2 * eps)
    return jac


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check backward against finite differences: |J_analytical − J_numerical| ≤ atol + rtol·|J_numerical|.

    Returns True, or raises `GradcheckError` naming the input, element and output that differ
    (returns False instead when ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs(inputs, "gradcheck")
    analytical = _analytical(fn, inputs, diff)
    numerical = _numerical(fn, inputs, diff, eps)
    for kk, k in enumerate(diff):
        for oi, (a, n) in enumerate(zip(analytical[kk], numerical[kk])):
            bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
            if bad.any():
                i, j = np.argwhere(bad)[0]
                where_in = np.unravel_index(i, inputs[k].shape)
                msg = (
                    f"gradcheck: Jacobian mismatch for output {oi} with respect to input {k} "
                    f"(shape {inputs[k].shape}), input element {tuple(int(v) for v in where_in)}, "
                    f"output element {j} (flat): analytical {a[i, j]!r} vs numerical {n[i, j]!r} "
                    f"(|diff| = {abs(a[i, j] - n[i, j]):.3g} > atol + rtol·|numerical| = "
                    f"{atol + rtol * abs(n[i, j]):.3g}); {int(bad.sum())} of {bad.size} entries differ.\n"
                    f"analytical:\n{a}\nnumerical:\n{n}"
                )
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Check second derivatives: gradcheck of (inputs, v) ↦ vᵀ ∂fn/∂inputs built with create_graph=True.

    `grad_outputs` (the v) default to fixed random float64 tensors, so the check is reproducible.
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs(inputs, "gradgradcheck")
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(function.Tensor(rng.standard_normal(o.shape), requires_grad=True, dtype=np.float64) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)
    wanted = [k for k, o in enumerate(outs) if o.requires_grad]

    def first_derivatives(*args: Any) -> tuple[Any, ...]:
        ins, vs = args[:n], args[n:]
        o = _outputs(fn, ins)
        grads = grad(
            [o[k] for k in wanted], [ins[k] for k in diff], [vs[k] for k in wanted],
            create_graph=True, allow_unused=True,
        )
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps, atol, rtol, raise_exception)
