"""Directed edge cases (zeros, infinities, NaN, empty tensors, float16) against PyTorch: values and gradients.

Each case is one small program written once for both libraries (`lib` is tinygrad_course or torch).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc

torch = pytest.importorskip("torch")
F = tc.nn.functional
NAN, INF = math.nan, math.inf


def _F(lib):
    return F if lib is tc else torch.nn.functional


# (name, program, inputs as lists, dtype); every input requires grad when it is floating
CASES = [
    ("clamp_sqrt_at_zero", lambda lib, x: x.clamp(min=0).sqrt(), [[-1.0, 0.0, 4.0]], "float32"),
    ("relu_sqrt_at_zero", lambda lib, x: x.relu().sqrt(), [[-1.0, 0.0, 4.0]], "float32"),
    ("maximum_sqrt", lambda lib, x: lib.maximum(x, lib.zeros_like(x)).sqrt(), [[-1.0, 0.0, 4.0]], "float32"),
    ("amax_of_inf", lambda lib, x: (x * 0 + x.amax()).sqrt(), [[0.0, 0.0]], "float32"),
    ("max_ties_full", lambda lib, x: x.max(), [[1.0, 3.0, 3.0]], "float64"),
    ("max_dim_ties", lambda lib, x: x.max(0).values, [[1.0, 3.0, 3.0]], "float64"),
    ("min_dim_ties", lambda lib, x: x.min(1).values, [[[2.0, 1.0, 1.0], [0.0, 5.0, 0.0]]], "float64"),
    ("amax_ties", lambda lib, x: x.amax(0), [[1.0, 3.0, 3.0]], "float64"),
    ("maximum_ties", lambda lib, a, b: lib.maximum(a, b), [[1.0, 2.0], [1.0, 3.0]], "float64"),
    ("abs_nan", lambda lib, x: x.abs(), [[NAN, -1.0, 0.0, 2.0]], "float64"),
    ("relu_nan", lambda lib, x: x.relu(), [[NAN, -1.0, 0.0, 2.0]], "float64"),
    ("norm_zero", lambda lib, x: x.norm(), [[0.0, 0.0, 0.0]], "float64"),
    ("norm_dim_zero_row", lambda lib, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]], "float64"),
    ("std_constant", lambda lib, x: x.std(), [[2.0, 2.0]], "float64"),
    ("std_axis_one", lambda lib, x: x.std(1, unbiased=False), [[[1.0], [2.0]]], "float64"),
    ("pow_zero_exponent", lambda lib, x: x**0, [[0.0, 2.0]], "float64"),
    ("zero_base_pow", lambda lib, y: (lib.zeros_like(y)) ** y, [[0.0, 2.0, -1.0]], "float64"),
    ("pow_tensor_zero_base", lambda lib, x, y: x**y, [[0.0, 0.0, 2.0], [0.0, 1.5, 3.0]], "float64"),
    ("prod_with_inf", lambda lib, x: x.prod(), [[1.0, INF, 2.0]], "float64"),
    ("prod_with_zero", lambda lib, x: x.prod(), [[1.0, 0.0, 2.0]], "float64"),
    ("prod_two_zeros", lambda lib, x: x.prod(), [[0.0, 0.0, 2.0]], "float64"),
    ("div_tiny", lambda lib, a, b: a / b, [[1.0], [1e-20]], "float32"),
    ("sigmoid_tails", lambda lib, x: x.sigmoid(), [[-20.0, -100.0, 100.0, 0.0]], "float32"),
    ("log_sigmoid", lambda lib, x: x.sigmoid().log(), [[-20.0, 5.0]], "float32"),
    ("softplus_tail", lambda lib, x: _F(lib).softplus(x), [[-100.0, 0.0, 100.0]], "float32"),
    ("bce_sigmoid", lambda lib, s: _F(lib).binary_cross_entropy(s.sigmoid(), lib.ones_like(s)), [[-20.0]], "float32"),
    ("softmax_empty", lambda lib, x: x.softmax(-1), [np.zeros((0, 3))], "float32"),
    ("log_softmax_empty_rows", lambda lib, x: x.log_softmax(1), [np.zeros((0, 3))], "float64"),
    ("logsumexp_empty_dim", lambda lib, x: x.logsumexp(1), [np.zeros((2, 0))], "float64"),
    ("sum_empty", lambda lib, x: x.sum(), [np.zeros((0, 3))], "float32"),
    ("mean_empty", lambda lib, x: x.mean(), [np.zeros((0, 3))], "float32"),
    ("sum_empty_dim0", lambda lib, x: x.sum(0), [np.zeros((0, 3))], "float32"),
    ("amax_nonempty_dim", lambda lib, x: x.amax(1), [np.zeros((0, 3))], "float32"),
    ("prod_empty", lambda lib, x: x.prod(), [np.zeros((0,))], "float64"),
    ("var_empty_dim", lambda lib, x: x.var(1), [np.zeros((2, 0))], "float64"),
    ("std_inf_upstream", lambda lib, x: x.std() * float("inf"), [[1.0, 2.0, 4.0]], "float64"),
    ("float16_mean", lambda lib, x: (x * 100).mean(), [np.full((100, 100), 10.0).tolist()], "float16"),
    ("float16_norm", lambda lib, x: x.norm(), [[300.0] * 4], "float16"),
    ("float16_var", lambda lib, x: x.var(), [np.linspace(0, 100, 50).tolist()], "float16"),
    ("float16_sum", lambda lib, x: x.sum(), [[60000.0, 10000.0, -60000.0]], "float16"),
    ("floordiv_mod", lambda lib, x: (x.detach() // 2) + (x % 3) + (7 % x.detach()), [[7.0, -7.0, 2.5]], "float64"),
]


def run(lib, program, inputs, dtype):
    ts = []
    for values in inputs:
        if lib is tc:
            t = tc.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
        else:
            t = torch.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
        ts.append(t)
    out = program(lib, *ts)
    w = np.random.default_rng(0).uniform(0.5, 1.5, tuple(out.shape)).astype(dtype)
    weight = tc.tensor(w) if lib is tc else torch.tensor(w)
    (out * weight).sum().backward()
    value = out.detach().numpy() if lib is tc else out.detach().numpy()
    grads = [t.grad.numpy() if t.grad is not None else None for t in ts]
    return value, grads, str(out.dtype).removeprefix("torch.")


@pytest.mark.parametrize("name,program,inputs,dtype", CASES, ids=[c[0] for c in CASES])
def test_edge_case_matches_pytorch(name, program, inputs, dtype) -> None:
    ours, ours_grads, ours_dtype = run(tc, program, inputs, dtype)
    theirs, their_grads, their_dtype = run(torch, program, inputs, dtype)
    assert ours_dtype == their_dtype and ours.shape == theirs.shape
    tol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, equal_nan=True)
    for g, h in zip(ours_grads, their_grads):
        assert (g is None) == (h is None)
        if g is not None:
            np.testing.assert_allclose(g, h, rtol=tol, atol=tol, equal_nan=True)
