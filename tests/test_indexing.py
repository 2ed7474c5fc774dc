"""PyTorch's advanced-indexing rule: an int next to index arrays selects first (numpy moves dims)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc

X = np.arange(24.0).reshape(2, 3, 4)
# (index, PyTorch's shape, the same selection written as two numpy steps)
CASES = [
    ((0, slice(None), [0, 1]), (3, 2), lambda a: a[0][:, [0, 1]]),
    ((0, None, [True, False, True]), (1, 2, 4), lambda a: a[0][None, [True, False, True]]),
    ((Ellipsis, 1, [0, 2]), (2, 2), lambda a: a[:, 1][:, [0, 2]]),
    (([0, 1], slice(None), 0), (2, 3), lambda a: a[:, :, 0][[0, 1], :]),
    ((1, [0, 2], slice(1, 3)), (2, 2), lambda a: a[1][[0, 2], 1:3]),
    ((slice(None), 0, [1, 1, 2]), (2, 3), lambda a: a[:, 0][:, [1, 1, 2]]),
    (([1, 0], [2, 1]), (2, 4), lambda a: a[[1, 0], [2, 1]]),            # no int: numpy's rule is PyTorch's
    (([1, 0], slice(None), [2, 1]), (2, 3), lambda a: a[[1, 0], :, [2, 1]]),
]


@pytest.mark.parametrize("index,shape,two_steps", CASES, ids=[str(c[0]) for c in CASES])
def test_values_shapes_and_gradients(index, shape, two_steps) -> None:
    x = tc.tensor(X, requires_grad=True)
    got = x[index]
    assert got.shape == shape
    np.testing.assert_array_equal(got.detach().numpy(), two_steps(X))
    w = np.arange(1.0, 1.0 + got.numel()).reshape(shape)
    (got * tc.tensor(w)).sum().backward()
    expected = np.zeros_like(X)
    flat = np.arange(X.size).reshape(X.shape)
    np.add.at(expected.reshape(-1), two_steps(flat).reshape(-1), w.reshape(-1))
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("index,shape,two_steps", CASES, ids=[str(c[0]) for c in CASES])
def test_setitem_writes_where_getitem_reads(index, shape, two_steps) -> None:
    t = tc.zeros(2, 3, 4, dtype=tc.float64)
    values = np.arange(1.0, 1.0 + int(np.prod(shape))).reshape(shape)
    t[index] = tc.tensor(values)  # with a repeated index, the last write wins (as numpy and PyTorch on the CPU)
    flat = np.arange(X.size).reshape(X.shape)
    written = np.zeros(X.size)
    written[two_steps(flat).reshape(-1)] = values.reshape(-1)
    np.testing.assert_array_equal(t.numpy().reshape(-1), written)


def test_setitem_with_an_int_and_an_array_records_its_gradient() -> None:
    v = tc.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=tc.float64, requires_grad=True)
    t = tc.zeros(2, 3, 4, dtype=tc.float64)
    t[0, :, [0, 1]] = v * 2
    (t * tc.tensor(X)).sum().backward()
    np.testing.assert_array_equal(v.grad.numpy(), 2 * X[0][:, [0, 1]])


def test_the_same_as_pytorch_where_installed() -> None:
    torch = pytest.importorskip("torch")
    for index, _, _ in CASES:
        a, b = tc.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
        np.testing.assert_array_equal(a[index].detach().numpy(), b[index].detach().numpy())
        a[index].sum().backward()
        b[index].sum().backward()
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())
