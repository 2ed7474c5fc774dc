"""Indexing and movement ops (issue 12): values against numpy, gradcheck and gradgradcheck in float64, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.ops.indexing import IndexOutOfRange, groups, movedim_order, split_bounds
from tinygrad_course.tensor import movement_methods as mm

RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((2, 3, 4))
I = np.array([[0, 1, 1], [3, 3, 0], [2, 2, 2]])


def t(a: np.ndarray, grad: bool = False) -> tc.Tensor:
    return tc.tensor(np.asarray(a), requires_grad=grad)


def scatter_np(a, dim, idx, src, op):
    out = a.copy()
    for p in np.ndindex(idx.shape):
        q = list(p)
        q[dim] = idx[p]
        op(out, tuple(q), src[p])
    return out


def set_(o, q, v):
    o[q] = v


def add_(o, q, v):
    o[q] += v


# (id, f(tc-namespace-or-numpy …) for tc, numpy reference of A/B)
VALUES = [
    ("gather", lambda: t(A).gather(1, t(I)), np.take_along_axis(A, I, 1)),
    ("scatter", lambda: t(A).scatter(1, t(I[:2, :1]), t(I[:2, :1] * 1.0)), scatter_np(A, 1, I[:2, :1], I[:2, :1] * 1.0, set_)),
    ("scatter_add", lambda: t(A).scatter_add(1, t(I), t(np.ones((3, 3)))), scatter_np(A, 1, I, np.ones((3, 3)), add_)),
    ("scatter_reduce_sum", lambda: t(A).scatter_reduce(1, t(I), t(np.ones((3, 3))), "sum"), scatter_np(A, 1, I, np.ones((3, 3)), add_)),
    ("index_select", lambda: t(A).index_select(1, t([3, 0, 3])), A[:, [3, 0, 3]]),
    ("index_add", lambda: t(A).index_add(0, t([1, 1]), t(np.ones((2, 4)))), A + np.array([[0.0], [2.0], [0.0]])),
    ("masked_select", lambda: t(A).masked_select(t(A > 0)), A[A > 0]),
    ("take", lambda: t(A).take(t([[0, -1]])), A.reshape(-1)[[[0, -1]]]),
    ("tril", lambda: t(B).tril(1), np.tril(B, 1)),
    ("triu", lambda: t(B).triu(-1), np.triu(B, -1)),
    ("diagonal", lambda: t(B).diagonal(1, 1, 2), np.diagonal(B, 1, 1, 2)),
    ("diag_2d", lambda: mm.diag(t(A), -1), np.diag(A, -1)),
    ("diag_1d", lambda: mm.diag(t(A[0]), 2), np.diag(A[0], 2)),
    ("trace", lambda: mm.trace(t(A)), np.trace(A)),
    ("roll", lambda: mm.roll(t(B), (1, -2), (0, 2)), np.roll(B, (1, -2), (0, 2))),
    ("roll_flat", lambda: mm.roll(t(B), -7), np.roll(B, -7)),
    ("rot90", lambda: mm.rot90(t(B), 3, (2, 0)), np.rot90(B, 3, (2, 0))),
    ("fliplr", lambda: mm.fliplr(t(A)), np.fliplr(A)),
    ("movedim", lambda: mm.movedim(t(B), -1, 0), np.moveaxis(B, -1, 0)),
    ("narrow", lambda: t(A).narrow(0, 1, 2), A[1:3]),
    ("hstack", lambda: mm.hstack([t(A), t(A)]), np.hstack([A, A])),
    ("vstack", lambda: mm.vstack([t(A[0]), t(A)]), np.vstack([A[0], A])),
    ("dstack", lambda: mm.dstack([t(A), t(A)]), np.dstack([A, A])),
    ("column_stack", lambda: mm.column_stack([t(A[0]), t(A.T)]), np.column_stack([A[0], A.T])),
    ("repeat_interleave", lambda: t(A).repeat_interleave(t([1, 0, 2]), 0), np.repeat(A, [1, 0, 2], 0)),
    ("broadcast_to", lambda: mm.broadcast_to(t(A[0]), (2, 4)), np.broadcast_to(A[0], (2, 4))),
    ("unflatten", lambda: t(A).unflatten(1, (-1, 2)), A.reshape(3, 2, 2)),
    ("ravel", lambda: mm.ravel(t(B)), B.ravel()),
    ("tile", lambda: mm.tile(t(A), (2, 1, 3)), np.tile(A, (2, 1, 3))),
    ("take_along_dim", lambda: mm.take_along_dim(t(A), t(I[:, :1]), 1), np.take_along_axis(A, I[:, :1], 1)),
]


@pytest.mark.parametrize("f,expected", [v[1:] for v in VALUES], ids=[v[0] for v in VALUES])
def test_values_match_numpy(f, expected) -> None:
    out = f()
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-15)


def test_splits_and_grids_match_numpy() -> None:
    for got, want in [(mm.tensor_split(t(B), 3, 2), np.array_split(B, 3, 2)),
                      (t(B).tensor_split([1, 3], 2), np.split(B, [1, 3], 2)),
                      (mm.hsplit(t(A), 2), np.hsplit(A, 2)), (mm.vsplit(t(A), [1]), np.vsplit(A, [1])),
                      (mm.dsplit(t(B), 4), np.dsplit(B, 4)), (mm.unbind(t(A), 1), tuple(A.T)),
                      (mm.meshgrid(t(A[0]), t(A[1, :2]), indexing="xy"), np.meshgrid(A[0], A[1, :2], indexing="xy")),
                      (mm.meshgrid(t(A[0]), t(A[1, :2]), t(A[2]), indexing="ij"), np.meshgrid(A[0], A[1, :2], A[2], indexing="ij"))]:
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w)


def test_nonzero_argwhere_and_masked_scatter() -> None:
    x = t(np.array([[0.0, 1.5], [2.0, 0.0]]))
    assert x.nonzero().tolist() == [[0, 1], [1, 0]] and x.nonzero().dtype == np.int64
    assert [r.tolist() for r in mm.nonzero(x, as_tuple=True)] == [[0, 1], [1, 0]]
    assert mm.argwhere(x).shape == (2, 2) and t(np.zeros((2, 0))).nonzero().shape == (0, 2)
    out = x.masked_scatter(t(np.array([True, False])), t(np.array([7.0, 8.0, 9.0])))
    assert out.tolist() == [[7.0, 1.5], [8.0, 0.0]]
    assert mm.repeat_interleave(t(np.array([2, 1]))).tolist() == [0, 0, 1]


def test_atleast_nd() -> None:
    s, v, m = t(np.array(1.0)), t(A[0]), t(A)
    assert mm.atleast_1d(s).shape == (1,) and mm.atleast_2d(v).shape == (1, 4) and mm.atleast_3d(m).shape == (3, 4, 1)
    assert [x.shape for x in mm.atleast_3d(s, v)] == [(1, 1, 1), (1, 4, 1)]
    assert [x.shape for x in mm.atleast_2d([s, m])] == [(1, 1), (3, 4)]
    assert mm.atleast_1d(v) is v


# (id, f, input arrays): gradcheck and gradgradcheck in float64 of the differentiable ops
S = RNG.standard_normal((3, 3))
GRAD = [
    ("gather", lambda x: x.gather(1, t(I)), [A]),
    ("scatter", lambda x, s: x.scatter(1, t(I[:, :1]), s), [A, S]),
    ("scatter_add", lambda x, s: x.scatter_add(1, t(I), s), [A, S]),
    *[(f"scatter_reduce_{r}_{inc}", lambda x, s, r=r, inc=inc: x.scatter_reduce(1, t(I), s, r, include_self=inc), [A, S])
      for r in ("sum", "prod", "mean", "amax", "amin") for inc in (True, False)],
    ("index_select", lambda x: x.index_select(0, t([2, 2, 0])), [A]),
    ("index_add", lambda x, s: x.index_add(1, t([0, 0, 3]), s, alpha=-1.5), [A, S]),
    ("index_copy", lambda x, s: x.index_copy(1, t([0, 2, 3]), s), [A, S]),
    ("masked_select", lambda x: x.masked_select(t(A > 0)), [A]),
    ("masked_scatter", lambda x, s: x.masked_scatter(t(A > 0), s), [A, RNG.standard_normal(12)]),
    ("take", lambda x: x.take(t([[1, 1], [-1, 4]])), [A]),
    ("take_along_dim", lambda x: x.take_along_dim(t([[0, 1, 1, 2]]), 0), [A]),
    ("tril_triu", lambda x: x.tril(1) + x.triu(2) * 2, [B]),
    ("diag", lambda x: mm.diag(x.diag(1)), [A]),
    ("diag_embed", lambda x: x.diag_embed(-1, 2, 0), [B]),
    ("trace", lambda x: x.trace(), [A]),
    ("roll", lambda x: x.roll((1, 5), (0, 2)), [B]),
    ("rot90_flips", lambda x: x.rot90(1, (0, 2)).fliplr().flipud(), [B]),
    ("movedim", lambda x: x.movedim((0, 1), (2, 0)), [B]),
    ("unbind", lambda x: x.unbind(1)[2], [A]),
    ("narrow", lambda x: x.narrow(1, -2, 2), [A]),
    ("tensor_split", lambda x: x.tensor_split(3, 1)[0], [A]),
    ("stacks", lambda x, y: mm.hstack([x, y]) + mm.vstack([x, y]).sum() + mm.dstack([x, y]).sum(), [A[0], A[1]]),
    ("column_stack", lambda x, y: mm.column_stack([x, y]), [A[0], A.T]),
    ("repeat_interleave", lambda x: x.repeat_interleave(t([2, 0, 1, 3]), 1), [A]),
    ("meshgrid", lambda x, y: mm.meshgrid(x, y, indexing="ij")[0] * mm.meshgrid(x, y, indexing="ij")[1], [A[0], A[1, :2]]),
    ("unflatten_tile_ravel", lambda x: x.unflatten(1, (2, 2)).tile(2, 1, 1, 1).ravel(), [A]),
]


@pytest.mark.parametrize("f,arrays", [g[1:] for g in GRAD], ids=[g[0] for g in GRAD])
def test_gradcheck_and_gradgradcheck(f, arrays) -> None:
    xs = tuple(t(a, grad=True) for a in arrays)
    assert tc.gradcheck(f, xs)
    assert tc.gradgradcheck(f, xs)


def test_prod_with_zeros_has_exact_gradients() -> None:
    x = t(np.array([[2.0, 0.0, 3.0]]), grad=True)
    s = t(np.array([[0.0, 4.0, 5.0]]), grad=True)
    assert tc.gradcheck(lambda x, s: x.scatter_reduce(1, t([[0, 1, 1]]), s, "prod"), (x, s))
    assert tc.gradgradcheck(lambda x, s: x.scatter_reduce(1, t([[0, 1, 1]]), s, "prod"), (x, s))


ERRORS = [
    (lambda: t(A).gather(1, t([[4]])), IndexError, "gather: index 4 is out of bounds for dim 1 with size 4"),
    (lambda: t(A).gather(1, t([[-1]])), RuntimeError, "out of bounds"),
    (lambda: t(A).gather(1, t([0, 1])), RuntimeError, "as many dims"),
    (lambda: t(A).gather(0, t(np.zeros((1, 5), int))), RuntimeError, "larger than the tensor of shape (3, 4) in dim 1"),
    (lambda: t(A).gather(0, t([[0.5]])), TypeError, "integer"),
    (lambda: t(A).scatter(1, t([[0]]), t(np.ones((1, 1), np.float32))), RuntimeError, "same dtype"),
    (lambda: t(A).scatter_reduce(1, t([[0]]), t(np.ones((1, 1))), "max"), ValueError, "'sum', 'prod'"),
    (lambda: t(A).index_select(1, t([[0]])), IndexError, "0-D or 1-D"),
    (lambda: t(A).index_select(1, t([9])), IndexError, "index_select: index 9"),
    (lambda: t(A).index_add(0, t([0]), t(np.ones((1, 3)))), RuntimeError, "must have shape (1, 4)"),
    (lambda: t(A).masked_select(t(A)), TypeError, "bool"),
    (lambda: t(A).masked_select(t(np.ones(3, bool))), RuntimeError, "does not broadcast"),
    (lambda: t(A).masked_scatter(t(A > -9), t(np.ones(2))), RuntimeError, "selects 12 elements"),
    (lambda: t(A).take(t([12])), IndexError, "take: index 12"),
    (lambda: t(A[0]).tril(), RuntimeError, "at least 2 dimensions"),
    (lambda: t(A).diagonal(0, 1, -1), RuntimeError, "cannot be the same"),
    (lambda: t(B).diag(), RuntimeError, "1-D or 2-D"),
    (lambda: t(B).trace(), RuntimeError, "2-D"),
    (lambda: t(A).roll((1, 2)), RuntimeError, "one shift"),
    (lambda: t(A).roll(1, (0, 1)), RuntimeError, "same length"),
    (lambda: t(A[0]).fliplr(), RuntimeError, ">= 2-d"),
    (lambda: t(A).rot90(1, (0, 0)), RuntimeError, "must differ"),
    (lambda: t(B).movedim((0, 1), 2), RuntimeError, "same number"),
    (lambda: t(A).narrow(1, 3, 2), RuntimeError, "does not fit in dim 1 of size 4"),
    (lambda: t(A).tensor_split(0), RuntimeError, "larger than 0"),
    (lambda: t(A).hsplit(3), RuntimeError, "not divisible"),
    (lambda: t(A[0]).vsplit(2), RuntimeError, "at least 2 dim"),
    (lambda: t(A).repeat_interleave(t([1, 2])), RuntimeError, "12 counts"),
    (lambda: t(A).unflatten(1, (3, -1)), RuntimeError, "unflatten: dim 1"),
    (lambda: mm.meshgrid(t(A), t(A[0]), indexing="ij"), RuntimeError, "0-D or 1-D"),
    (lambda: mm.meshgrid(t(A[0]), indexing="yx"), ValueError, "'ij' or 'xy'"),
    (lambda: t(A).diag_embed(0, 0, 3), IndexError, "out of range"),
    (lambda: t(np.array(1.0)).gather(0, t(np.array(0))), RuntimeError, "at least 1 dim"),
]


@pytest.mark.parametrize("f,err,text", ERRORS, ids=[e[2] for e in ERRORS])
def test_bad_input_gets_a_clear_error(f, err, text) -> None:
    with pytest.raises(err, match=None) as info:
        f()
    assert text in str(info.value)


def test_out_of_range_is_both_index_and_runtime_error() -> None:
    assert issubclass(IndexOutOfRange, IndexError) and issubclass(IndexOutOfRange, RuntimeError)


def test_helpers() -> None:
    table, counts = groups(np.array([2, 0, 2, 2]), 4)
    assert counts.tolist() == [1, 0, 3, 0] and table.tolist() == [[1, 4, 4], [4, 4, 4], [0, 2, 3], [4, 4, 4]]
    assert split_bounds(7, 3, "x") == [(0, 3), (3, 5), (5, 7)] and split_bounds(5, [4, 2], "x") == [(0, 4), (4, 4), (2, 5)]
    assert movedim_order(4, (0, 3), (2, 1)) == (1, 3, 0, 2)


def test_function_forms_have_pytorchs_names_and_docstrings() -> None:
    torch = pytest.importorskip("torch")
    names = ["gather", "scatter", "scatter_add", "scatter_reduce", "index_select", "index_add", "index_copy",
             "masked_select", "masked_scatter", "take", "take_along_dim", "nonzero", "argwhere", "tril", "triu",
             "diag", "diagonal", "diag_embed", "trace", "roll", "fliplr", "flipud", "rot90", "movedim", "moveaxis",
             "unbind", "narrow", "tensor_split", "hsplit", "vsplit", "dsplit", "hstack", "vstack", "dstack",
             "column_stack", "row_stack", "atleast_1d", "atleast_2d", "atleast_3d", "repeat_interleave",
             "broadcast_to", "meshgrid", "unflatten", "ravel", "tile"]
    for n in names:
        assert hasattr(torch, n) and (getattr(mm, n).__doc__ or "").strip(), n
        if hasattr(torch.Tensor, n):
            assert (getattr(tc.Tensor, n).__doc__ or "").strip(), n


def test_meshgrid_without_indexing_warns_as_pytorch_and_uses_ij() -> None:
    with pytest.warns(UserWarning, match="meshgrid: in an upcoming release, it will be required to pass the indexing"):
        a, b = mm.meshgrid(t(A[0]), t(A[1, :2]))
    ea, eb = np.meshgrid(A[0], A[1, :2], indexing="ij")
    np.testing.assert_array_equal(a.numpy(), ea)
    np.testing.assert_array_equal(b.numpy(), eb)
