"""What the vmap test files share: the per-sample reference loop, the comparison, and a clean warning state."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.func import batching

vmap_module = importlib.import_module("tinygrad_course.func.vmap")
B = 3  # the batch size of every case


@pytest.fixture(autouse=True)
def fresh_warnings():
    """vmap warns once per op or function: forget what was warned, so that every test sees its own warnings."""
    batching._warned.clear()
    vmap_module._warned.clear()
    yield
    batching._warned.clear()
    vmap_module._warned.clear()


def select(arg: Any, dim: Any, b: int) -> Any:
    """Sample b of an argument along its in_dim, as a fresh plain tensor (dicts: every value)."""
    if dim is None:
        return arg
    if isinstance(arg, dict):
        return {k: select(v, dim, b) for k, v in arg.items()}
    return tc.tensor(np.take(arg.numpy(), b, axis=dim))


def loop(f: Callable[..., Any], args: tuple[Any, ...], in_dims: Any, out_dims: Any = 0) -> Any:
    """The reference: f sample by sample, results stacked along out_dims."""
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
    outs = [f(*(select(a, d, b) for a, d in zip(args, dims))) for b in range(B)]
    if isinstance(outs[0], tuple):
        ods = out_dims if isinstance(out_dims, tuple) else (out_dims,) * len(outs[0])
        return tuple(tc.stack([o[k] for o in outs], ods[k]) for k in range(len(outs[0])))
    return tc.stack(outs, out_dims)


def assert_same(got: Any, expected: Any) -> None:
    """Same structure, shapes, dtypes and values (float: rtol = atol = 1e-12, NaN where NaN)."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same(g, e)
        return
    if isinstance(expected, dict):
        assert isinstance(got, dict) and got.keys() == expected.keys()
        for k in expected:
            assert_same(got[k], expected[k])
        return
    assert type(got) is tc.Tensor, f"vmap returned a {type(got).__name__}"
    g, e = got.detach().numpy(), expected.detach().numpy()
    assert g.shape == e.shape and g.dtype == e.dtype, (g.shape, g.dtype, e.shape, e.dtype)
    if e.dtype.kind == "f":
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(g, e)


def batched(fn: Callable[[], Any]) -> Any:
    """fn() with every warning an error: a vmap warning means the loop fallback ran, not the rule."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()
