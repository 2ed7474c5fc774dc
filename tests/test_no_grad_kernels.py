"""The lean no-grad path: an op's `no_grad_kernel` (run instead of forward when grad mode is off)
gives exactly forward's result, values, dtype and shape, on ordinary and edge inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.autograd.function import Primitive


def _all_primitives() -> list[type]:
    found, todo = [], [Primitive]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


KERNELS = sorted((cls for cls in _all_primitives() if cls.no_grad_kernel is not None), key=lambda c: c.__name__)
EDGES = np.array([0.0, -0.0, 1.0, -1.0, -2.5, 1e-30, 1e30, np.inf, -np.inf, np.nan, 3.0, 0.5])


def _arity(cls: type) -> int:
    return cls.forward.__code__.co_argcount - 1  # (ctx, x) or (ctx, x, y)


def test_the_everyday_ops_have_kernels() -> None:
    names = {cls.__name__ for cls in KERNELS}
    assert {"Add", "Sub", "Mul", "Div", "Neg", "Exp", "Log", "Log1p", "Tanh", "Abs", "MatMul"} <= names


@pytest.mark.parametrize("cls", KERNELS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
def test_kernel_equals_forward(cls: type, dtype: type) -> None:
    rng = np.random.default_rng(0)
    if cls.__name__ == "MatMul":
        pairs = [(rng.standard_normal((3, 4)).astype(dtype), rng.standard_normal((4, 2)).astype(dtype)),
                 (rng.standard_normal((2, 3, 4)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype))]
    elif _arity(cls) == 2:
        x = EDGES.astype(dtype)
        pairs = [(x[:, None], x[None, :]), (rng.standard_normal((2, 3)).astype(dtype), rng.standard_normal(3).astype(dtype))]
    else:
        pairs = [(EDGES.astype(dtype),), (rng.standard_normal((2, 3)).astype(dtype),)]
    for arrays in pairs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the forward of some ops lets numpy warn at the edges too)
            expected = cls.forward(cls.__new__(cls), *arrays)
            got = cls.no_grad_kernel(*arrays)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
        np.testing.assert_array_equal(np.signbit(np.real(got)), np.signbit(np.real(expected)))


def test_no_grad_results_equal_grad_mode_results() -> None:
    x = tc.tensor(EDGES, requires_grad=True)
    y = tc.tensor(EDGES[::-1].copy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        recorded = [x * y, x / y, x - 2.0, 2.0 - x, -x, x.exp(), x.abs(), x.tanh(), (x * 0.5).log1p(), 3 * x, x.relu()]
        with tc.no_grad():
            plain = [x * y, x / y, x - 2.0, 2.0 - x, -x, x.exp(), x.abs(), x.tanh(), (x * 0.5).log1p(), 3 * x, x.relu()]
    for r, p in zip(recorded, plain):
        assert r.requires_grad and not p.requires_grad and p.grad_fn is None
        np.testing.assert_array_equal(r.detach().numpy(), p.numpy())
        assert r.dtype == p.dtype


def test_no_grad_errors_still_name_the_op() -> None:
    with tc.no_grad():
        with pytest.raises(ValueError, match=r"mul: shapes \(2,\) and \(3,\) cannot be broadcast"):
            tc.ones(2) * tc.ones(3)
        with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(2, 3\) do not align"):
            tc.ones(2, 3) @ tc.ones(2, 3)


def test_quietly_silences_numpy_for_the_op_only_and_keeps_the_callers_settings() -> None:
    from tinygrad_course.ops._kernels import quietly

    with np.errstate(all="raise"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = tc.tensor([-1.0, -2.0, 0.0]).log1p()  # −inf and NaN quietly, as PyTorch
            assert quietly(np.divide, np.ones(1), np.zeros(1))[0] == np.inf
        np.testing.assert_array_equal(out.numpy(), [-np.inf, np.nan, 0.0])
        assert np.geterr() == {"divide": "raise", "over": "raise", "under": "raise", "invalid": "raise"}
        with pytest.raises(FloatingPointError):
            np.log1p(np.array([-1.0]))  # the caller's own numpy calls still raise
    assert np.geterr()["divide"] == "warn"
