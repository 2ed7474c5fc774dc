"""A differential fuzzer: random programs of 2–6 ops run on tinygrad_course and on PyTorch.

Shapes include 0-d, size-0 and size-1 dims; dtypes float32 and float64; values include zeros,
ties and negative bases. Both forward values and the gradients of ``sum(out * w)`` must agree
(NaN where PyTorch has NaN, and nowhere else); a program that raises must raise in both.

    python3 tasks.py test tests/parity/test_fuzz.py                                     # CI: 3,000 examples, seed 0
    TINYGRAD_COURSE_FUZZ_EXAMPLES=20000 TINYGRAD_COURSE_FUZZ_SEED=1 python3 tasks.py test tests/parity/test_fuzz.py
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

import tinygrad_course as tc

torch = pytest.importorskip("torch")

EXAMPLES = int(os.environ.get("TINYGRAD_COURSE_FUZZ_EXAMPLES", "3000"))
SEED = int(os.environ.get("TINYGRAD_COURSE_FUZZ_SEED", "0"))


def _dim(x: Any, k: int) -> int:
    """A valid dim of x chosen by k (x has at least one dim)."""
    return k % x.ndim - x.ndim if k % 2 else k % x.ndim


def _other(lib: Any, x: Any, k: int) -> Any:
    """A second operand that broadcasts against x: a scalar tensor, x's last dim, or x's shape."""
    shape = [(), x.shape[-1:] if x.ndim else (), tuple(x.shape)][k % 3]
    values = np.linspace(-1.5, 2.0, int(np.prod(shape, dtype=np.int64))).reshape(shape) if shape else np.array(0.75)
    dtype = np.float32 if "32" in str(x.dtype) else np.float64
    return lib.tensor(values.astype(dtype))


def _reduce_ok(x: Any, d: int) -> bool:
    return x.ndim > 0 and x.shape[d] > 0


# Each op: (name, applies(x) -> bool, f(lib, x, k) -> tensor). k is a drawn integer for dims and choices.
OPS: list[tuple[str, Callable[[Any], bool], Callable[[Any, Any, int], Any]]] = [
    ("exp", lambda x: True, lambda lib, x, k: (x * 0.5).exp()),
    ("log_abs", lambda x: True, lambda lib, x, k: (x.abs() + 0.25).log()),
    ("tanh", lambda x: True, lambda lib, x, k: x.tanh()),
    ("sigmoid", lambda x: True, lambda lib, x, k: (x * 4).sigmoid()),
    ("relu", lambda x: True, lambda lib, x, k: x.relu()),
    ("abs", lambda x: True, lambda lib, x, k: x.abs()),
    ("sqrt_abs", lambda x: True, lambda lib, x, k: (x.abs() + 0.1).sqrt()),
    ("sin", lambda x: True, lambda lib, x, k: x.sin()),
    ("neg_square", lambda x: True, lambda lib, x, k: -(x * x)),
    ("pow_int", lambda x: True, lambda lib, x, k: x ** (2 + k % 2)),  # negative bases
    ("pow_float", lambda x: True, lambda lib, x, k: (x.abs() + 0.5) ** 1.5),
    ("add", lambda x: True, lambda lib, x, k: x + _other(lib, x, k)),
    ("mul", lambda x: True, lambda lib, x, k: x * _other(lib, x, k)),
    ("sub_scalar", lambda x: True, lambda lib, x, k: 2.0 - x),
    ("div", lambda x: True, lambda lib, x, k: x / (_other(lib, x, k).abs() + 0.5)),
    ("maximum", lambda x: True, lambda lib, x, k: lib.maximum(x, _other(lib, x, k))),
    ("minimum", lambda x: True, lambda lib, x, k: lib.minimum(x, _other(lib, x, k))),
    ("clamp", lambda x: True, lambda lib, x, k: x.clamp(min=-0.5, max=1.0)),
    ("where", lambda x: True, lambda lib, x, k: lib.where(x > 0, x, x * 0.5)),
    ("sum_dim", lambda x: x.ndim > 0, lambda lib, x, k: x.sum(_dim(x, k), keepdim=bool(k & 4))),
    ("sum_all", lambda x: True, lambda lib, x, k: x.sum()),
    ("mean_dim", lambda x: x.ndim > 0 and x.shape[0] > 0, lambda lib, x, k: x.mean(0, keepdim=bool(k & 4))),
    ("amax_dim", lambda x: _reduce_ok(x, 0), lambda lib, x, k: x.amax(0)),
    ("max_dim", lambda x: x.ndim > 0 and x.shape[-1] > 0, lambda lib, x, k: x.max(-1).values),
    ("min_all", lambda x: x.numel() > 0, lambda lib, x, k: x.min()),
    ("var_dim", lambda x: x.ndim > 0 and x.shape[-1] > 1, lambda lib, x, k: x.var(-1)),
    ("std_all", lambda x: x.numel() > 1, lambda lib, x, k: x.std()),
    ("logsumexp", lambda x: x.ndim > 0, lambda lib, x, k: x.logsumexp(_dim(x, k))),
    ("softmax", lambda x: x.ndim > 0, lambda lib, x, k: x.softmax(_dim(x, k))),
    ("log_softmax", lambda x: x.ndim > 0, lambda lib, x, k: x.log_softmax(_dim(x, k))),
    ("norm", lambda x: True, lambda lib, x, k: x.norm()),
    ("reshape", lambda x: True, lambda lib, x, k: x.reshape(-1)),
    ("transpose", lambda x: x.ndim >= 2, lambda lib, x, k: x.transpose(0, -1)),
    ("flip", lambda x: x.ndim > 0, lambda lib, x, k: x.flip(_dim(x, k))),
    ("unsqueeze", lambda x: x.ndim < 4, lambda lib, x, k: x.unsqueeze(0)),
    ("squeeze", lambda x: True, lambda lib, x, k: x.squeeze()),
    ("slice", lambda x: x.ndim > 0, lambda lib, x, k: x[1:] if k % 2 else x[..., :2]),
    ("mask", lambda x: True, lambda lib, x, k: x[x > 0.1]),
    ("index", lambda x: x.ndim > 0 and x.shape[0] > 0, lambda lib, x, k: x[lib.tensor([0, x.shape[0] - 1, 0])]),
    ("cat", lambda x: x.ndim > 0, lambda lib, x, k: lib.cat([x, x * 2], _dim(x, k))),
    ("stack", lambda x: True, lambda lib, x, k: lib.stack([x, -x], 0)),
    ("matmul", lambda x: x.ndim >= 1, lambda lib, x, k: x @ _matrix(lib, x)),
]


def _matrix(lib: Any, x: Any) -> Any:
    """A (n, 2) matrix for x (…, n), so that x @ it is a batched product."""
    n = x.shape[-1]
    dtype = np.float32 if "32" in str(x.dtype) else np.float64
    return lib.tensor(np.linspace(-1.0, 1.0, 2 * n).reshape(n, 2).astype(dtype))


def program_strategy() -> st.SearchStrategy:
    shape = st.lists(st.sampled_from([0, 1, 2, 3]), min_size=0, max_size=3).map(tuple)
    values = st.sampled_from(["normal", "ties", "zeros_and_negatives"])
    ops = st.lists(st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 63)), min_size=2, max_size=6)
    return st.tuples(st.sampled_from(["float32", "float64"]), shape, values, ops, st.integers(0, 2**31 - 1))


def make_input(dtype: str, shape: tuple[int, ...], kind: str, rng_seed: int) -> np.ndarray:
    rng = np.random.default_rng(rng_seed)
    if kind == "ties":
        return rng.integers(-2, 3, shape).astype(dtype)
    if kind == "zeros_and_negatives":
        return rng.choice(np.array([0.0, -1.0, -0.5, 0.5, 2.0]), shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# Ops whose result is exact in floating point (no rounding): after them a tie is a tie in both libraries.
EXACT = {"relu", "abs", "clamp", "where", "reshape", "transpose", "flip", "unsqueeze", "squeeze", "slice", "mask",
         "index", "cat", "stack", "maximum", "minimum", "amax_dim", "max_dim", "min_all"}
EXTREMES = {"amax_dim", "max_dim", "min_all"}


def _clear_winner(y: Any) -> bool:
    """No two values closer than rounding could blur: which element is the max is then the same in both libraries."""
    v = np.sort(y.detach().numpy().astype(np.float64).ravel())
    gaps = np.diff(v)
    return not np.any(gaps < 1e-3 * (1.0 + np.abs(v[1:])))


def plan_of(data: np.ndarray, ops: list[tuple[int, int]]) -> list[bool]:
    """Which ops apply, decided once on tinygrad_course's values, so that both libraries run the same program.

    An extreme (max, min) of values that went through rounding applies only with a clear winner:
    near-ties would make the two libraries pick different elements for the gradient.
    """
    plan, exact = [], True
    y = tc.tensor(data.copy())
    for index, k in ops:
        name, applies, f = OPS[index]
        use = applies(y) and (exact or name not in EXTREMES or _clear_winner(y))
        plan.append(use)
        if use:
            try:
                y = f(tc, y, k)
            except (RuntimeError, ValueError, IndexError, TypeError):
                break
            exact = exact and name in EXACT
    return plan


def run(lib: Any, data: np.ndarray, ops: list[tuple[int, int]], plan: list[bool]) -> tuple[Any, Any]:
    x = lib.tensor(data.copy(), requires_grad=True)
    y = x
    for (index, k), use in zip(ops, plan):
        if use:
            y = OPS[index][2](lib, y, k)
    w = np.linspace(0.5, 1.5, int(np.prod(tuple(y.shape), dtype=np.int64))).reshape(tuple(y.shape)).astype(data.dtype)
    if y.requires_grad:
        (y * lib.tensor(w)).sum().backward()
    grad = None if x.grad is None else x.grad.numpy()
    return y.detach().numpy(), grad


def outcome(lib: Any, data: np.ndarray, ops: list[tuple[int, int]], plan: list[bool]) -> tuple[str, Any, Any]:
    try:
        value, grad = run(lib, data, ops, plan)
    except (RuntimeError, ValueError, IndexError, TypeError) as err:
        return "error", type(err).__name__, None
    return "ok", value, grad


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns on var of a single value
@seed(SEED)
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(program_strategy())
def test_random_programs_agree_with_pytorch(program) -> None:
    dtype, shape, kind, ops, rng_seed = program
    data = make_input(dtype, shape, kind, rng_seed)
    with np.errstate(all="ignore"):
        plan = plan_of(data, ops)
        ours = outcome(tc, data, ops, plan)
    theirs = outcome(torch, data, ops, plan)
    names = [OPS[i][0] for (i, _), use in zip(ops, plan) if use]
    assert ours[0] == theirs[0], f"{names} on {shape} {dtype}: ours {ours[0]} ({ours[1]}), PyTorch {theirs[0]} ({theirs[1]})"
    if ours[0] == "error":
        return
    tol = 2e-4 if dtype == "float32" else 1e-9
    assert ours[1].shape == theirs[1].shape, f"{names} on {shape}: shape {ours[1].shape} vs {theirs[1].shape}"
    np.testing.assert_allclose(ours[1], theirs[1], rtol=tol, atol=tol, equal_nan=True, err_msg=f"value of {names} on {shape} {dtype}")
    assert (ours[2] is None) == (theirs[2] is None), f"{names}: gradient presence differs"
    if ours[2] is not None:
        np.testing.assert_allclose(ours[2], theirs[2], rtol=tol, atol=tol, equal_nan=True,
                                   err_msg=f"gradient of {names} on {shape} {dtype}")
