"""Finite-difference checks of gradients: `gradcheck` (first order) and `gradgradcheck` (second).

The numerical derivative is the central difference (f(x + ε) − f(x − ε)) / 2ε, whose error is
O(ε²) + O(machine-eps / ε); it is only trustworthy in float64 (complex128), so both checks
insist on it. Use them in your own pytest files: ``assert gradcheck(my_fn, (x, y))``.

Complex numbers are checked as PyTorch's gradcheck does: every complex input is two real ones
(its real and imaginary parts, each perturbed), every complex output two real outputs (Re and
Im, whose gradients are backward seeded with 1 and with i), so the check covers non-holomorphic
functions too.
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
            if t.dtype not in (np.float64, np.complex128):
                raise ValueError(
                    f"{name}: input {k} has dtype {t.dtype}; {name} needs float64 (or complex128) inputs, since "
                    "finite differences in lower precision are too inaccurate to judge a "
                    "gradient. Pass tensors made with dtype=float64 (or .double() leaves)"
                )
            diff.append(k)
    if not diff:
        raise ValueError(f"{name}: no input requires grad; set requires_grad=True on the inputs to check")
    return diff


def _parts(t: Any) -> int:
    """How many real numbers an element of t is: 2 for complex, else 1."""
    return 2 if t.dtype.kind == "c" else 1


def _analytical(fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int]) -> list[list[np.ndarray]]:
    """J[k][o][i, j] = ∂ output_o[j] / ∂ input_k[i] over real parts, one backward per output element (and part).

    A complex input element i is rows 2i (its real part) and 2i+1 (imaginary); a complex output
    element j is columns 2j (Re, backward seeded with 1) and 2j+1 (Im, seeded with i). The
    gradient g = ∂L/∂x + i ∂L/∂y of a real L = Re(v̄ · out_j) gives both rows at once.
    """
    outs = _outputs(fn, inputs)
    jac = [[np.zeros((inputs[k]._array.size * _parts(inputs[k]), o._array.size * _parts(o))) for o in outs] for k in diff]
    wrt = [inputs[k] for k in diff]
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            continue
        seeds = (1.0, 1j) if o.dtype.kind == "c" else (1.0,)
        for j in range(o._array.size):
            for part, value in enumerate(seeds):
                seed = np.zeros(o.shape, dtype=o.dtype)
                seed.flat[j] = value
                grads = grad(o, wrt, function.Tensor._make(seed, None), retain_graph=True, allow_unused=True)
                col = j * len(seeds) + part
                for kk, g in enumerate(grads):
                    if g is None:
                        continue
                    flat = g._array.reshape(-1)
                    if _parts(wrt[kk]) == 2:
                        jac[kk][oi][0::2, col] = flat.real
                        jac[kk][oi][1::2, col] = flat.imag
                    else:
                        jac[kk][oi][:, col] = flat.real
    return jac


def _real_view(a: np.ndarray) -> np.ndarray:
    """A flat float64 array of the values, a complex value as its (Re, Im) pair."""
    flat = a.reshape(-1)
    if a.dtype.kind == "c":
        return np.stack([flat.real, flat.imag], axis=-1).reshape(-1).astype(np.float64)
    return flat.astype(np.float64)


def _numerical(fn: Callable[..., Any], inputs: Sequence[Any], diff: list[int], eps: float) -> list[list[np.ndarray]]:
    """The same Jacobian by central differences, perturbing one real part of one input element at a time."""
    sizes = [o._array.size * _parts(o) for o in _outputs(fn, inputs)]
    jac = [[np.zeros((inputs[k]._array.size * _parts(inputs[k]), m)) for m in sizes] for k in diff]
    for kk, k in enumerate(diff):
        x = inputs[k]._array
        steps = (eps, 1j * eps) if x.dtype.kind == "c" else (eps,)
        for i, idx in enumerate(np.ndindex(x.shape)):
            orig = x[idx]
            for part, step in enumerate(steps):
                x[idx] = orig + step
                plus = [_real_view(o._array) for o in _outputs(fn, inputs)]
                x[idx] = orig - step
                minus = [_real_view(o._array) for o in _outputs(fn, inputs)]
                x[idx] = orig
                for oi in range(len(sizes)):
                    jac[kk][oi][i * len(steps) + part, :] = (plus[oi] - minus[oi]) / (2 * eps)
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
        grad_outputs = tuple(
            function.Tensor(rng.standard_normal(o.shape) + (1j * rng.standard_normal(o.shape) if o.dtype.kind == "c" else 0),
                            requires_grad=True, dtype=np.complex128 if o.dtype.kind == "c" else np.float64)
            for o in outs)
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
