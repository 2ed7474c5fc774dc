"""Every differentiable op: forward against numpy, gradcheck and gradgradcheck in float64.

Shapes cover broadcast pairs, size-1 dims, 0-d tensors and non-contiguous (transposed) inputs.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor import pad

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf)(x)


def make(shape, domain: str = "real", seed: int = 0, transposed: bool = False) -> tc.Tensor:
    """A float64 leaf; domain 'pos' is > 0.5, 'away' keeps |x| ≥ 0.2 (away from kinks)."""
    rng = np.random.default_rng(seed)
    if transposed:
        base = rng.standard_normal(tuple(reversed(shape)))
        data = base.T  # a non-contiguous view
    else:
        data = rng.standard_normal(shape)
    if domain == "pos":
        data = np.abs(data) + 0.5
    elif domain == "away":
        data = np.sign(data) * (np.abs(data) + 0.2)
    if transposed:
        # Keep a transposed (non-contiguous) layout even after the domain arithmetic above.
        data = np.ascontiguousarray(data.T).T
        t = tc.from_numpy(data).requires_grad_()
        assert not t._array.flags.c_contiguous or t.ndim < 2
        return t
    return tc.tensor(data, requires_grad=True)


@dataclass
class Unary:
    name: str
    fn: Callable[[tc.Tensor], tc.Tensor]
    ref: Callable[[np.ndarray], np.ndarray]
    domain: str = "real"


UNARY = [
    Unary("neg", lambda x: -x, lambda a: -a),
    Unary("exp", lambda x: x.exp(), np.exp),
    Unary("log", lambda x: x.log(), np.log, "pos"),
    Unary("sqrt", lambda x: x.sqrt(), np.sqrt, "pos"),
    Unary("sin", lambda x: x.sin(), np.sin),
    Unary("cos", lambda x: x.cos(), np.cos),
    Unary("tanh", lambda x: x.tanh(), np.tanh),
    Unary("sigmoid", lambda x: x.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    Unary("relu", lambda x: x.relu(), lambda a: np.maximum(a, 0), "away"),
    Unary("leaky_relu", lambda x: x.leaky_relu(0.1), lambda a: np.where(a > 0, a, 0.1 * a), "away"),
    Unary("abs", lambda x: x.abs(), np.abs, "away"),
    Unary("erf", lambda x: x.erf(), _erf),
    Unary("gelu", lambda x: x.gelu(), lambda a: 0.5 * a * (1 + _erf(a / np.sqrt(2)))),
    Unary(
        "gelu_tanh",
        lambda x: x.gelu(approximate="tanh"),
        lambda a: 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3))),
    ),
    Unary("clamp", lambda x: x.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), "away"),
    Unary("clamp_min", lambda x: x.clamp(min=0.1), lambda a: np.clip(a, 0.1, None), "away"),
    Unary("pow_scalar", lambda x: x**3, lambda a: a**3),
    Unary("pow_half", lambda x: x**0.5, np.sqrt, "pos"),
    Unary("rpow", lambda x: 2.0**x, lambda a: 2.0**a),
    Unary("rsub", lambda x: 1.0 - x, lambda a: 1.0 - a),
    Unary("rdiv", lambda x: 1.0 / x, lambda a: 1.0 / a, "pos"),
    Unary("square_via_mul", lambda x: x * x, lambda a: a * a),
]

UNARY_SHAPES = [(3, 4), (), (1,), (2, 1, 3)]


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
def test_unary(op: Unary, shape) -> None:
    x = make(shape, op.domain)
    np.testing.assert_allclose(op.fn(x)._array, op.ref(x._array), rtol=1e-12, atol=1e-12)
    assert op.fn(x).shape == shape
    assert tc.gradcheck(op.fn, (x,))
    assert tc.gradgradcheck(op.fn, (x,))


@pytest.mark.parametrize("op", UNARY, ids=lambda o: o.name)
def test_unary_transposed_input(op: Unary) -> None:
    x = make((3, 4), op.domain, transposed=True)
    np.testing.assert_allclose(op.fn(x)._array, op.ref(x._array), rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(op.fn, (x,))


@dataclass
class Binary:
    name: str
    fn: Callable[[tc.Tensor, tc.Tensor], tc.Tensor]
    ref: Callable[[np.ndarray, np.ndarray], np.ndarray]
    domains: tuple[str, str] = ("real", "real")


BINARY = [
    Binary("add", lambda x, y: x + y, np.add),
    Binary("sub", lambda x, y: x - y, np.subtract),
    Binary("mul", lambda x, y: x * y, np.multiply),
    Binary("div", lambda x, y: x / y, np.divide, ("real", "pos")),
    Binary("pow", lambda x, y: x**y, np.power, ("pos", "real")),
    Binary("maximum", lambda x, y: tc.maximum(x, y), np.maximum),
    Binary("minimum", lambda x, y: x.minimum(y), np.minimum),
    Binary("where", lambda x, y: tc.where(x > 0, x, y), lambda a, b: np.where(a > 0, a, b), ("away", "real")),
    Binary("mixed", lambda x, y: (x * y).sin() / (1.0 + y * y), lambda a, b: np.sin(a * b) / (1 + b * b)),
]

BINARY_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((), (2, 3)), ((2, 3), ()), ((1,), (1,)), ((2, 1, 3), (4, 1))]


@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
def test_binary(op: Binary, shapes) -> None:
    x = make(shapes[0], op.domains[0], seed=1)
    y = make(shapes[1], op.domains[1], seed=2)
    out = op.fn(x, y)
    np.testing.assert_allclose(out._array, op.ref(x._array, y._array), rtol=1e-12, atol=1e-12)
    assert tc.gradcheck(op.fn, (x, y))
    assert tc.gradgradcheck(op.fn, (x, y))


@pytest.mark.parametrize("op", BINARY, ids=lambda o: o.name)
def test_binary_transposed_inputs(op: Binary) -> None:
    x = make((3, 4), op.domains[0], seed=3, transposed=True)
    y = make((3, 4), op.domains[1], seed=4, transposed=True)
    np.testing.assert_allclose(op.fn(x, y)._array, op.ref(x._array, y._array), rtol=1e-12)
    assert tc.gradcheck(op.fn, (x, y))
    assert tc.gradgradcheck(op.fn, (x, y))


MATMUL_SHAPES = [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
def test_matmul(shapes) -> None:
    x, y = make(shapes[0], seed=5), make(shapes[1], seed=6)
    np.testing.assert_allclose((x @ y)._array, np.matmul(x._array, y._array), rtol=1e-12)
    assert tc.gradcheck(lambda a, b: a @ b, (x, y))
    assert tc.gradgradcheck(lambda a, b: a @ b, (x, y))


def test_matmul_transposed_operand() -> None:
    x, y = make((3, 4), seed=7, transposed=True), make((4, 2), seed=8, transposed=True)
    assert tc.gradgradcheck(lambda a, b: a @ b.T.T, (x, y))


REDUCTIONS = [
    ("sum_all", lambda x: x.sum(), lambda a: a.sum()),
    ("sum_0", lambda x: x.sum(0), lambda a: a.sum(0)),
    ("sum_-1_keep", lambda x: x.sum(-1, keepdim=True), lambda a: a.sum(-1, keepdims=True)),
    ("sum_tuple", lambda x: x.sum((0, 2)), lambda a: a.sum((0, 2))),
    ("sum_axis_kw", lambda x: x.sum(axis=1), lambda a: a.sum(axis=1)),
    ("mean_all", lambda x: x.mean(), lambda a: a.mean()),
    ("mean_1", lambda x: x.mean(1, keepdim=True), lambda a: a.mean(1, keepdims=True)),
    ("var_all", lambda x: x.var(), lambda a: a.var(ddof=1)),
    ("var_0_biased", lambda x: x.var(0, unbiased=False), lambda a: a.var(0)),
    ("std_-1", lambda x: x.std(-1), lambda a: a.std(-1, ddof=1)),
    ("std_correction0", lambda x: x.std(1, correction=0), lambda a: a.std(1)),
    ("max_all", lambda x: x.max(), lambda a: a.max()),
    ("min_all", lambda x: x.min(), lambda a: a.min()),
    ("max_dim", lambda x: x.max(1).values, lambda a: a.max(1)),
    ("min_dim_keep", lambda x: x.min(0, keepdim=True).values, lambda a: a.min(0, keepdims=True)),
    ("amax_tuple", lambda x: x.amax((0, 1)), lambda a: a.max((0, 1))),
    ("prod_all", lambda x: x.prod(), lambda a: a.prod()),
    ("prod_1", lambda x: x.prod(1), lambda a: a.prod(1)),
    ("logsumexp_1", lambda x: x.logsumexp(1), lambda a: np.log(np.exp(a).sum(1))),
    ("logsumexp_all", lambda x: x.logsumexp(), lambda a: np.log(np.exp(a).sum())),
    ("norm_fro", lambda x: x.norm(), lambda a: np.sqrt((a * a).sum())),
    ("norm_1_dim", lambda x: x.norm(1, dim=0), lambda a: np.abs(a).sum(0)),
    ("norm_3_dim", lambda x: x.norm(3, dim=-1), lambda a: (np.abs(a) ** 3).sum(-1) ** (1 / 3)),
    ("norm_inf", lambda x: x.norm(math.inf), lambda a: np.abs(a).max()),
    ("softmax_1", lambda x: x.softmax(1), lambda a: np.exp(a) / np.exp(a).sum(1, keepdims=True)),
    ("log_softmax_-1", lambda x: x.log_softmax(-1), lambda a: a - np.log(np.exp(a).sum(-1, keepdims=True))),
]


@pytest.mark.parametrize("name,fn,ref", REDUCTIONS, ids=[r[0] for r in REDUCTIONS])
def test_reduction(name, fn, ref) -> None:
    x = make((3, 4, 2), "away", seed=9)
    np.testing.assert_allclose(fn(x)._array, ref(x._array), rtol=1e-12)
    assert tc.gradcheck(fn, (x,))
    assert tc.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref", REDUCTIONS[:9], ids=[r[0] for r in REDUCTIONS[:9]])
def test_reduction_transposed(name, fn, ref) -> None:
    x = make((3, 4, 2), seed=10, transposed=True)
    np.testing.assert_allclose(fn(x)._array, ref(x._array), rtol=1e-12)
    assert tc.gradcheck(fn, (x,))


def test_reductions_of_0d() -> None:
    x = tc.tensor(1.5, dtype=tc.float64, requires_grad=True)
    for fn in (lambda t: t.sum(), lambda t: t.mean(), lambda t: t.max(), lambda t: t.prod(), lambda t: t.logsumexp()):
        assert fn(x).shape == ()
        assert tc.gradgradcheck(fn, (x,))


def test_max_ties_split_gradient_evenly() -> None:
    x = tc.tensor([1.0, 3.0, 3.0, 2.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad._array, [0.0, 0.5, 0.5, 0.0])


def test_max_dim_gradient_goes_to_returned_index() -> None:
    x = tc.tensor([[1.0, 3.0, 3.0], [5.0, 0.0, 5.0]], requires_grad=True)
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(indices._array, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad._array, [[0, 1, 0], [1, 0, 0]])


def test_prod_with_zeros_gradients() -> None:
    x = make((3, 4), seed=11)
    x._array[0, 1] = 0.0
    x._array[1, 2] = x._array[1, 3] = 0.0
    for fn in (lambda t: t.prod(1), lambda t: t.prod(0), lambda t: t.prod()):
        assert tc.gradcheck(fn, (x,))
        assert tc.gradgradcheck(fn, (x,))


MOVEMENT = [
    ("reshape", lambda x: x.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("reshape_-1", lambda x: x.reshape(-1, 3), lambda a: a.reshape(-1, 3)),
    ("view", lambda x: x.view(24), lambda a: a.reshape(24)),
    ("transpose", lambda x: x.transpose(0, 2), lambda a: a.swapaxes(0, 2)),
    ("permute", lambda x: x.permute(2, 0, 1), lambda a: a.transpose(2, 0, 1)),
    ("T", lambda x: x.T, lambda a: a.T),
    ("unsqueeze", lambda x: x.unsqueeze(1), lambda a: a[:, None]),
    ("unsqueeze_-1", lambda x: x.unsqueeze(-1), lambda a: a[..., None]),
    ("squeeze", lambda x: x.unsqueeze(0).squeeze(), lambda a: a),
    ("squeeze_dim", lambda x: x.unsqueeze(2).squeeze(2), lambda a: a),
    ("squeeze_non1", lambda x: x.squeeze(0), lambda a: a),
    ("expand", lambda x: x[:, :1].expand(2, 3, 4), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
    ("expand_new_dim", lambda x: x.expand(5, 2, 3, 4), lambda a: np.broadcast_to(a, (5, 2, 3, 4))),
    ("flatten", lambda x: x.flatten(), lambda a: a.reshape(-1)),
    ("flatten_1", lambda x: x.flatten(1), lambda a: a.reshape(2, -1)),
    ("flip", lambda x: x.flip((0, 2)), lambda a: a[::-1, :, ::-1]),
    ("repeat", lambda x: x.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3))),
    ("repeat_more_dims", lambda x: x.repeat(2, 1, 1, 2), lambda a: np.tile(a, (2, 1, 1, 2))),
    ("getitem_int", lambda x: x[1], lambda a: a[1]),
    ("getitem_slice", lambda x: x[:, 1:3, ::2], lambda a: a[:, 1:3, ::2]),
    ("getitem_negstep", lambda x: x[:, ::-1], lambda a: a[:, ::-1]),
    ("getitem_none_ellipsis", lambda x: x[None, ..., 0], lambda a: a[None, ..., 0]),
    ("getitem_repeated", lambda x: x[[0, 1, 0, 0]], lambda a: a[[0, 1, 0, 0]]),
    ("getitem_adv_pair", lambda x: x[[0, 1, 1], :, [3, 0, 3]], lambda a: a[[0, 1, 1], :, [3, 0, 3]]),
    ("getitem_tensor_index", lambda x: x[:, tc.tensor([2, 2, 0])], lambda a: a[:, [2, 2, 0]]),
    ("getitem_mask", lambda x: x[x > 0], lambda a: a[a > 0]),
    ("split", lambda x: x.split(2, dim=1)[1], lambda a: a[:, 2:3]),
    ("split_sections", lambda x: x.split([1, 3], dim=2)[1], lambda a: a[:, :, 1:]),
    ("chunk", lambda x: x.chunk(2, dim=2)[0], lambda a: a[:, :, :2]),
    ("cat", lambda x: tc.cat([x, x * 2, x[:, :1]], dim=1), lambda a: np.concatenate([a, 2 * a, a[:, :1]], 1)),
    ("stack", lambda x: tc.stack([x, x.exp()], dim=-1), lambda a: np.stack([a, np.exp(a)], -1)),
    ("pad_constant", lambda x: pad(x, (1, 2, 0, 1), value=0.5), lambda a: np.pad(a, ((0, 0), (0, 1), (1, 2)), constant_values=0.5)),
    ("pad_reflect", lambda x: pad(x, (1, 1), mode="reflect"), lambda a: np.pad(a, ((0, 0), (0, 0), (1, 1)), mode="reflect")),
    ("pad_replicate", lambda x: pad(x, (2, 1, 1, 0), mode="replicate"), lambda a: np.pad(a, ((0, 0), (1, 0), (2, 1)), mode="edge")),
    ("pad_circular", lambda x: pad(x, (1, 3), mode="circular"), lambda a: np.pad(a, ((0, 0), (0, 0), (1, 3)), mode="wrap")),
    ("pad_crop", lambda x: pad(x, (-1, 0, 1, -1)), lambda a: np.pad(a[:, :-1, 1:], ((0, 0), (1, 0), (0, 0)))),
]


@pytest.mark.parametrize("name,fn,ref", MOVEMENT, ids=[m[0] for m in MOVEMENT])
def test_movement(name, fn, ref) -> None:
    x = make((2, 3, 4), "away", seed=12)
    np.testing.assert_array_equal(fn(x)._array, ref(x._array))
    assert tc.gradcheck(fn, (x,))
    assert tc.gradgradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref", MOVEMENT, ids=[m[0] for m in MOVEMENT])
def test_movement_transposed(name, fn, ref) -> None:
    x = make((2, 3, 4), "away", seed=13, transposed=True)
    np.testing.assert_array_equal(fn(x)._array, ref(x._array))
    assert tc.gradcheck(fn, (x,))


def test_repeated_indices_accumulate() -> None:
    x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad._array, [3.0, 0.0, 1.0])


def test_split_and_chunk_sizes_follow_pytorch() -> None:
    x = tc.arange(10)
    assert [p.shape[0] for p in x.split(4)] == [4, 4, 2]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in tc.arange(6).chunk(4)] == [2, 2, 2]  # PyTorch gives 3 chunks here
    assert [p.shape[0] for p in x.split([1, 9])] == [1, 9]


def test_cast_between_float_dtypes_is_differentiable() -> None:
    x = make((2, 3), seed=14)
    y = x.float()
    assert y.dtype == np.float32
    (y * 3).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad._array, np.full((2, 3), 3.0))


def test_cast_second_derivative() -> None:
    x = make((3,), seed=15)
    (g,) = tc.grad((x.float() ** 3).double().sum(), x, create_graph=True)
    (h,) = tc.grad(g.sum(), x)
    np.testing.assert_allclose(h._array, 6 * x._array, rtol=1e-6)


def test_log_softmax_keeps_float32_precision_for_large_logits() -> None:
    x = tc.tensor([[1e4, 1e4, 0.0]])
    np.testing.assert_allclose(x.log_softmax(-1)._array, [[-np.log(2), -np.log(2), -1e4 - np.log(2)]], rtol=1e-6)
    np.testing.assert_allclose(x.softmax(-1)._array, [[0.5, 0.5, 0.0]], atol=1e-7)


def test_no_grad_arithmetic_matches_recorded_arithmetic() -> None:
    # With grad mode off, + - * of two tensors of one dtype skip the node and call numpy directly.
    x, y = make((3, 1), seed=22), make((1, 4), seed=23)
    recorded = [x + y, x - y, x * y, tc.tensor(2.0) * tc.tensor(3.0)]
    with tc.no_grad():
        plain = [x + y, x - y, x * y, tc.tensor(2.0) * tc.tensor(3.0)]
        with pytest.raises(ValueError, match=r"sub: shapes \(3,\) and \(4,\) cannot be broadcast"):
            tc.zeros(3) - tc.zeros(4)
    for r, p in zip(recorded, plain):
        assert p.grad_fn is None and not p.requires_grad and type(p._array) is np.ndarray
        assert p.dtype == r.dtype and p.shape == r.shape
        np.testing.assert_array_equal(p._array, r._array)


def test_array_backward_ops_give_the_same_gradients_on_arrays_and_on_tensors() -> None:
    # A plain backward runs these ops' backward on numpy arrays; create_graph runs the same code
    # on Tensors. Both must give the same numbers (gradcheck checks the first, gradgradcheck the second).
    from tinygrad_course.ops import elementwise as E

    ops = [c for c in vars(E).values() if isinstance(c, type) and issubclass(c, tc.Function) and c.array_backward]
    assert {c.__name__ for c in ops} >= {"Mul", "Div", "Exp", "Tanh", "Sigmoid", "Relu"}
    for cls in ops:
        x, y = make((3, 4), "pos", seed=30), make((3, 4), "pos", seed=31)
        args = (x, y) if cls.broadcasts else (x,)
        plain = tc.grad(cls.apply(*args).sum(), args)
        graphed = tc.grad(cls.apply(*args).sum(), args, create_graph=True)
        for p, q in zip(plain, graphed):
            assert type(p._array) is np.ndarray and p.dtype == q.dtype == np.float64
            np.testing.assert_allclose(p._array, q._array, rtol=1e-15, atol=0)


class Square(tc.autograd.Primitive):
    """y = x²; a user op whose backward is plain arithmetic, so it may declare array_backward."""

    array_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2.0 * x


def test_user_function_with_array_backward() -> None:
    x = make((2, 3), seed=32)
    assert tc.gradcheck(Square.apply, (x,))
    assert tc.gradgradcheck(Square.apply, (x,))
    y = tc.tensor(3.0, dtype=tc.float64, requires_grad=True)
    Square.apply(y).backward()
    assert y.grad.item() == 6.0 and type(y.grad._array) is np.ndarray


@pytest.mark.parametrize("shape", [(3, 4), (40, 40)], ids=["small: sign mask", "large: bool mask"])
def test_relu_gradient_on_small_and_large_arrays(shape) -> None:
    x = make(shape, "away", seed=33)
    for dtype in (tc.float64, tc.float32):
        t = x.detach().to(dtype).requires_grad_()
        t.relu().sum().backward()
        assert t.grad.dtype == dtype
        np.testing.assert_array_equal(t.grad._array, (x._array > 0).astype(dtype))
    assert tc.gradgradcheck(lambda t: t.relu() * t, (x,))
