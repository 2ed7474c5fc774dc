"""PyTorch's type promotion in every binary op, cat, stack, where, matmul, and with Python scalars."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor.promotion import result_type

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 3, 2.5]


def make(name: str, ndim: int = 1) -> tc.Tensor:
    return tc.tensor(np.ones((2,) * ndim, dtype=name))


# Written out from PyTorch's documented rules (and checked against torch below where installed).
NOTABLE = [
    ("bool", 5, "int64"),          # numpy would cast 5 to True
    ("int32", 2.5, "float32"),     # a Python float brings the default float dtype
    ("float16", 2.5, "float16"),   # ... never widening a float tensor
    ("uint8", -1, "uint8"),        # a Python int never widens an int tensor
    ("bool", True, "bool"),
]
PAIRS = [
    ("int64", "float16", "float16"),   # a float with an int keeps the float's width (numpy: float64)
    ("int32", "float32", "float32"),   # (numpy: float64)
    ("uint8", "int8", "int16"),
    ("bool", "int8", "int8"),
    ("float16", "float64", "float64"),
]


@pytest.mark.parametrize("dtype,scalar,want", NOTABLE)
def test_tensor_with_python_scalar(dtype, scalar, want) -> None:
    assert (make(dtype) + scalar).dtype == want and (scalar * make(dtype)).dtype == want


@pytest.mark.parametrize("a,b,want", PAIRS)
def test_tensor_with_tensor(a, b, want) -> None:
    assert (make(a) + make(b)).dtype == want and (make(b) - make(a)).dtype == want


def test_zero_dim_tensors_take_part_only_across_categories() -> None:
    assert (make("float16") + tc.tensor(2.0, dtype=tc.float64)).dtype == "float16"
    assert (make("int32") + tc.tensor(2.0, dtype=tc.float64)).dtype == "float64"
    assert (make("int8") + tc.tensor(300)).dtype == "int8"


def test_values_of_the_cases_numpy_gets_wrong() -> None:
    assert (tc.tensor([True, False]) + 5).tolist() == [6, 5]
    assert (tc.tensor([True, False]) ** 2).dtype == np.int64
    assert (2 ** tc.tensor([True, False])).tolist() == [2, 1]
    x = tc.tensor([1, 2], dtype=tc.int32)
    assert (x @ x).dtype == np.int32 and (x @ x).item() == 5
    assert (tc.tensor([3]) / tc.tensor([2.0], dtype=tc.float16)).dtype == np.float16
    assert (tc.tensor([3]) / 2).tolist() == [1.5] and (tc.tensor([3]) / 2).dtype == np.float32
    assert tc.cat([tc.zeros(2, dtype=tc.int32), tc.zeros(2, dtype=tc.int64), tc.zeros(2)]).dtype == np.float32
    assert tc.stack([tc.ones(2, dtype=tc.int64), tc.ones(2, dtype=tc.float16)]).dtype == np.float16
    assert tc.where(tc.tensor([True, False]), tc.tensor([1, 2]), 0.5).dtype == np.float32
    assert tc.where(tc.tensor([True, False]), 1.5, tc.zeros(2, dtype=tc.float64)).dtype == np.float64


def test_every_pair_and_scalar_computes_in_the_result_type() -> None:
    for a, b in itertools.product(DTYPES, DTYPES):
        for nda, ndb in ((1, 1), (1, 0), (0, 1), (0, 0)):
            x, y = make(a, nda), make(b, ndb)
            want = result_type(x, y)
            assert (x + y).dtype == want and (x * y).dtype == want, (a, nda, b, ndb)
            if want.kind != "b":
                assert (x - y).dtype == want
    for a, s in itertools.product(DTYPES, SCALARS):
        assert (make(a) + s).dtype == result_type(make(a), s)


def test_the_whole_table_is_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    for a, b in itertools.product(DTYPES, DTYPES):
        for nda, ndb in ((1, 1), (1, 0), (0, 1), (0, 0)):
            ta = torch.ones((2,) * nda, dtype=getattr(torch, a))
            tb = torch.ones((2,) * ndb, dtype=getattr(torch, b))
            assert result_type(make(a, nda), make(b, ndb)).name == str(torch.result_type(ta, tb)).removeprefix("torch.")
            if torch.result_type(ta, tb) != torch.bool:
                theirs = str((ta / tb).dtype).removeprefix("torch.")
                assert (make(a, nda) / make(b, ndb)).dtype.name == theirs, (a, b)
        for s in SCALARS:
            ta = torch.ones(2, dtype=getattr(torch, a))
            assert (make(a) + s).dtype.name == str((ta + s).dtype).removeprefix("torch.")
            assert (s * make(a)).dtype.name == str((s * ta).dtype).removeprefix("torch.")
