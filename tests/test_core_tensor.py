"""Tensor construction, dtypes, attributes, factories, seeding, and the messages for bad input."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor import pad

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


def test_dtype_inference_follows_pytorch() -> None:
    assert tc.tensor([1, 2]).dtype == np.int64
    assert tc.tensor([1.0, 2]).dtype == np.float32
    assert tc.tensor(3.5).dtype == np.float32
    assert tc.tensor([True, False]).dtype == np.bool_
    assert tc.tensor(np.zeros(2, dtype=np.float64)).dtype == np.float64
    assert tc.tensor(np.zeros(2, dtype=np.int32)).dtype == np.int32
    assert tc.tensor([1, 2], dtype=tc.float64).dtype == np.float64


def test_set_default_dtype() -> None:
    try:
        tc.set_default_dtype(tc.float64)
        assert tc.tensor([1.5]).dtype == np.float64
        assert tc.zeros(2).dtype == np.float64
        assert (tc.tensor([1, 2]) / 2).dtype == np.float64
    finally:
        tc.set_default_dtype(tc.float32)
    assert tc.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="only floating dtypes.*int64"):
        tc.set_default_dtype(tc.int64)


def test_constructor_copies_numpy_but_from_numpy_shares() -> None:
    a = np.zeros(3)
    t, s = tc.tensor(a), tc.from_numpy(a)
    a[0] = 5.0
    assert t._array[0] == 0.0 and s._array[0] == 5.0


def test_attributes_and_conversions() -> None:
    x = tc.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6
    assert x.size() == (2, 3) and x.size(-1) == 3 and len(x) == 2
    assert x.is_leaf and x.grad_fn is None and x.grad is None
    assert x.T.shape == (3, 2)
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward"
    assert tc.tensor([2.5]).item() == 2.5 and float(tc.tensor(1.5)) == 1.5 and int(tc.tensor(3)) == 3
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert x.detach().numpy() is x._array
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    with pytest.raises(ValueError, match=r"item: only one-element.*\(2, 3\)"):
        x.item()


def test_repr_shows_grad_fn_and_requires_grad() -> None:
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], grad_fn=<MulBackward>)"
    assert repr(tc.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(tc.tensor([1.0], dtype=tc.float64)) == "tensor([1.], dtype=float64)"


def test_scalars_keep_the_tensor_dtype_and_ints_promote_like_pytorch() -> None:
    x = tc.tensor([1.0, 2.0])
    assert (x * 2.5).dtype == np.float32 and (2 ** x).dtype == np.float32
    i = tc.tensor([1, 2])
    assert (i * 2).dtype == np.int64
    assert (i * 2.5).dtype == np.float32
    assert (i / 2).dtype == np.float32
    assert (x * i).dtype == np.float32  # numpy would give float64
    assert (x + tc.tensor([1.0], dtype=tc.float64)).dtype == np.float64


def test_numpy_operands_dispatch_to_tensor() -> None:
    x = tc.tensor([1.0, 2.0], requires_grad=True)
    y = np.float32(2.0) * x
    assert isinstance(y, tc.Tensor) and y.requires_grad
    z = np.array([1.0, 1.0], dtype=np.float32) + x
    assert isinstance(z, tc.Tensor)


def test_factories() -> None:
    assert tc.zeros(2, 3).shape == (2, 3) and tc.zeros((2, 3)).dtype == np.float32
    assert tc.ones([4])._array.sum() == 4
    assert tc.full((2, 2), 7).dtype == np.int64 and tc.full((2,), 0.5).dtype == np.float32
    np.testing.assert_array_equal(tc.eye(3)._array, np.eye(3))
    assert tc.arange(5).dtype == np.int64 and tc.arange(0, 1, 0.25).tolist() == [0, 0.25, 0.5, 0.75]
    np.testing.assert_allclose(tc.linspace(0.05, 0.95, 10)._array, np.linspace(0.05, 0.95, 10), rtol=1e-6)
    x = tc.randn(3, 4, dtype=tc.float64)
    assert tc.zeros_like(x).dtype == np.float64 and tc.ones_like(x).shape == (3, 4)
    r = tc.randint(0, 5, (100,))
    assert r.dtype == np.int64 and r._array.min() >= 0 and r._array.max() < 5
    assert tc.rand(1000)._array.min() >= 0 and tc.rand(1000)._array.max() < 1
    assert sorted(tc.randperm(5).tolist()) == [0, 1, 2, 3, 4]
    w = tc.zeros(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_manual_seed_makes_randomness_reproducible() -> None:
    tc.manual_seed(123)
    a = (tc.randn(5), tc.rand(3), tc.randint(0, 10, (4,)))
    tc.manual_seed(123)
    b = (tc.randn(5), tc.rand(3), tc.randint(0, 10, (4,)))
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p._array, q._array)
    tc.manual_seed(124)
    assert not np.array_equal(tc.randn(5)._array, a[0]._array)
    assert tc.initial_seed() == 124


def test_randn_statistics() -> None:
    tc.manual_seed(0)
    x = tc.randn(200_000, dtype=tc.float64)._array
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01


def test_setitem_and_in_place_helpers() -> None:
    x = tc.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = tc.tensor([1.0, 2.0, 3.0])
    assert x.tolist() == [[0, 5, 0], [1, 2, 3]]
    x.zero_().fill_(2.0)
    assert x._array.sum() == 12.0
    w = tc.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="setitem: a leaf Variable that requires grad is being used in an in-place operation.*no_grad"):
        w[0] = 1.0
    with tc.no_grad():
        w[0] = 1.0
    assert w.tolist() == [1.0, 0.0]


# ----------------------------------------------------------------- bad input


def test_bad_data() -> None:
    with pytest.raises(TypeError, match=r"Tensor: cannot make a tensor from a str \('abc'\).*accepted"):
        tc.tensor("abc")
    with pytest.raises(ValueError, match="Tensor: ragged nested sequence"):
        tc.tensor([[1, 2], [3]])
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor from"):
        tc.tensor([object()])
    with pytest.raises(TypeError, match="Tensor: numpy arrays of dtype <U1 are not supported"):
        tc.tensor(np.array(["a"]))


def test_requires_grad_on_integer_tensor() -> None:
    with pytest.raises(RuntimeError, match="only Tensors of floating point and complex dtype can require gradients, got dtype int64"):
        tc.tensor([1, 2], requires_grad=True)
    t = tc.tensor([1, 2])
    with pytest.raises(RuntimeError, match="dtype int64"):
        t.requires_grad = True
    with pytest.raises(RuntimeError, match="only change requires_grad of leaf"):
        (tc.zeros(1, requires_grad=True) * 2).requires_grad_(False)


def test_mismatched_shapes_in_binary_ops() -> None:
    a, b = tc.zeros(3), tc.zeros(4)
    with pytest.raises(ValueError, match=r"add: shapes \(3,\) and \(4,\) cannot be broadcast"):
        a + b
    with pytest.raises(ValueError, match=r"mul: shapes \(2, 3\) and \(2,\) cannot be broadcast"):
        tc.zeros(2, 3) * tc.zeros(2)
    with pytest.raises(ValueError, match=r"maximum: shapes \(3,\) and \(4,\)"):
        a.maximum(b)
    with pytest.raises(ValueError, match=r"lt: shapes \(3,\) and \(4,\)"):
        _ = a < b


def test_matmul_shape_errors() -> None:
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align \(4 != 5\)"):
        tc.zeros(3, 4) @ tc.zeros(5, 2)
    with pytest.raises(ValueError, match=r"matmul: batch dims of shapes \(2, 3, 4\) and \(3, 4, 5\) cannot be broadcast"):
        tc.zeros(2, 3, 4) @ tc.zeros(3, 4, 5)
    with pytest.raises(ValueError, match="matmul: both operands need at least 1 dim"):
        tc.zeros(()) @ tc.zeros(3)


def test_backward_on_non_scalar_needs_gradient() -> None:
    x = tc.zeros(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"backward: grad can be implicitly created only for scalar outputs.*\(2, 3\).*gradient="):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but output 0 has shape \(2, 3\)"):
        (x * 2).backward(tc.zeros(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        tc.zeros(2).sum().backward()


def test_index_out_of_range() -> None:
    x = tc.zeros(3, 4)
    with pytest.raises(IndexError, match=r"index: index 5 is out of bounds for axis 0 with size 3 \(tensor shape \(3, 4\)\)"):
        x[5]
    with pytest.raises(IndexError, match=r"index 7 is out of bounds for axis 1 with size 4"):
        x[:, [0, 7]]
    with pytest.raises(IndexError, match=r"sum: dim 2 is out of range for a tensor of shape \(3, 4\) \(accepted: -2 to 1\)"):
        x.sum(2)


def test_reshape_to_incompatible_size() -> None:
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\) \(6 elements\) into shape \(4,\) \(4 elements\)"):
        tc.zeros(2, 3).reshape(4)
    with pytest.raises(ValueError, match=r"reshape: cannot reshape tensor of shape \(2, 3\) \(6 elements\) into shape \(4, -1\)"):
        tc.zeros(2, 3).reshape(4, -1)
    with pytest.raises(ValueError, match="at most one -1"):
        tc.zeros(2, 3).reshape(-1, -1)


def test_other_movement_errors() -> None:
    x = tc.zeros(2, 3)
    with pytest.raises(ValueError, match=r"expand: the size of dim 1 of shape \(2, 3\) is 3"):
        x.expand(2, 4)
    with pytest.raises(ValueError, match=r"permute: got 3 dims .* shape \(2, 3\)"):
        x.permute(0, 1, 2)
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\)"):
        tc.cat([x, tc.zeros(2, 4)], dim=0)
    with pytest.raises(ValueError, match=r"stack: tensor 1 has shape \(3,\)"):
        tc.stack([tc.zeros(2), tc.zeros(3)])
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1, 1\] must be non-negative and sum to 2"):
        x.split([1, 1, 1], dim=0)
    with pytest.raises(ValueError, match=r"repeat: number of repeat dims 1 can not be smaller"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"pad: pad \(1, 2, 3\) must have an even length"):
        pad(x, (1, 2, 3))


def test_reductions_of_empty_tensor_explain() -> None:
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        tc.zeros(0).max()


def test_bool_of_many_elements_is_ambiguous() -> None:
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(tc.zeros(2))
    assert bool(tc.ones(1))
