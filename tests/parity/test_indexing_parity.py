"""Indexing and movement ops against torch: values, dtypes, shapes and gradients (float64) of the same calls."""

from __future__ import annotations

import types

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor import movement_methods as mm

torch = pytest.importorskip("torch")

# The functions by their PyTorch names (tc's top level, or movement_methods until exported there).
TC = types.SimpleNamespace(**{n: getattr(tc, n, None) or getattr(mm, n) for n in dir(mm) if not n.startswith("_")},
                           tensor=tc.tensor, float64=tc.float64, int64=tc.int64)


def arr(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# (id, input shapes, f(m, *xs)) where m is tc's namespace or torch: the same code runs on both.
CASES = [
    ("gather", [(3, 4)], lambda m, x: m.gather(x, 1, m.tensor([[0, 1, 1], [3, 3, 0], [2, 2, 2]]))),
    ("gather_dim0_small_index", [(3, 4)], lambda m, x: x.gather(0, m.tensor([[2, 0], [1, 1]]))),
    ("scatter_src", [(3, 4), (2, 3)], lambda m, x, s: x.scatter(1, m.tensor([[0, 2, 3], [1, 0, 2]]), s)),
    ("scatter_value", [(3, 4)], lambda m, x: m.scatter(x, 0, m.tensor([[0, 2], [1, 0]]), 1.5)),
    ("scatter_add", [(3, 4), (3, 3)], lambda m, x, s: m.scatter_add(x, 1, m.tensor([[0, 0, 3], [1, 1, 1], [2, 3, 2]]), s)),
    ("index_select", [(3, 4)], lambda m, x: m.index_select(x, 1, m.tensor([3, 0, 3]))),
    ("index_add", [(3, 4), (3, 2)], lambda m, x, s: m.index_add(x, 1, m.tensor([2, 2]), s, alpha=2.0)),
    ("index_copy", [(4, 3), (2, 3)], lambda m, x, s: m.index_copy(x, 0, m.tensor([3, 0]), s)),
    ("masked_select", [(3, 4)], lambda m, x: m.masked_select(x, m.tensor([True, False, True, True]))),
    ("masked_scatter", [(3, 4), (10,)], lambda m, x, s: m.masked_scatter(x, m.tensor([[True], [False], [True]]), s)),
    ("take", [(3, 4)], lambda m, x: m.take(x, m.tensor([[0, -1], [5, 5]]))),
    ("take_along_dim", [(3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([[0], [3], [1]]), 1)),
    ("take_along_dim_bcast", [(3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([[0, 1, 1, 2]]), 0)),
    ("take_along_dim_none", [(3, 4)], lambda m, x: m.take_along_dim(x, m.tensor([11, 0, 4]))),
    ("tril", [(3, 4)], lambda m, x: m.tril(x)),
    ("tril_batched", [(2, 3, 4)], lambda m, x: x.tril(-1)),
    ("triu", [(4, 3)], lambda m, x: m.triu(x, 1)),
    ("diag_1d", [(3,)], lambda m, x: m.diag(x, -1)),
    ("diag_2d", [(3, 4)], lambda m, x: m.diag(x, 1)),
    ("diagonal", [(2, 3, 4)], lambda m, x: m.diagonal(x, -1, 2, 0)),
    ("diag_embed", [(2, 3)], lambda m, x: m.diag_embed(x, 1, 0, 2)),
    ("diag_embed_default", [(2, 3)], lambda m, x: x.diag_embed(-2)),
    ("trace", [(3, 4)], lambda m, x: m.trace(x)),
    ("roll_flat", [(3, 4)], lambda m, x: m.roll(x, 5)),
    ("roll_dims", [(3, 4)], lambda m, x: m.roll(x, (1, -1), (0, 1))),
    ("fliplr", [(3, 4)], lambda m, x: m.fliplr(x)),
    ("flipud", [(3, 4)], lambda m, x: m.flipud(x)),
    ("rot90", [(2, 3, 4)], lambda m, x: m.rot90(x, 1, (1, 2))),
    ("rot90_k2", [(3, 4)], lambda m, x: x.rot90(2)),
    ("rot90_k-1", [(3, 4)], lambda m, x: x.rot90(-1)),
    ("movedim", [(2, 3, 4)], lambda m, x: m.movedim(x, (0, 2), (2, 0))),
    ("moveaxis", [(2, 3, 4)], lambda m, x: m.moveaxis(x, 0, -1)),
    ("unbind", [(3, 4)], lambda m, x: m.unbind(x, 1)),
    ("narrow", [(3, 4)], lambda m, x: m.narrow(x, 1, -3, 2)),
    ("tensor_split_sections", [(7, 2)], lambda m, x: m.tensor_split(x, 3)),
    ("tensor_split_indices", [(2, 7)], lambda m, x: m.tensor_split(x, [2, -2, 9], 1)),
    ("hsplit", [(2, 6)], lambda m, x: m.hsplit(x, 3)),
    ("vsplit", [(4, 2)], lambda m, x: m.vsplit(x, [1])),
    ("dsplit", [(1, 2, 4)], lambda m, x: m.dsplit(x, 2)),
    ("hstack", [(3,), (2,)], lambda m, x, y: m.hstack([x, y])),
    ("vstack", [(3,), (2, 3)], lambda m, x, y: m.vstack([x, y])),
    ("row_stack", [(3,), (3,)], lambda m, x, y: m.row_stack((x, y))),
    ("dstack", [(2, 3), (2, 3)], lambda m, x, y: m.dstack([x, y])),
    ("column_stack", [(3,), (3, 2)], lambda m, x, y: m.column_stack([x, y])),
    ("atleast_3d", [(4,), (2, 3)], lambda m, x, y: m.atleast_3d(x, y)),
    ("atleast_2d", [()], lambda m, x: m.atleast_2d(x)),
    ("repeat_interleave_int", [(2, 3)], lambda m, x: m.repeat_interleave(x, 2)),
    ("repeat_interleave_tensor", [(2, 3)], lambda m, x: x.repeat_interleave(m.tensor([1, 0, 3]), dim=1)),
    ("broadcast_to", [(3, 1)], lambda m, x: m.broadcast_to(x, (2, 3, 4))),
    ("meshgrid_ij", [(2,), (3,)], lambda m, x, y: m.meshgrid(x, y, indexing="ij")),
    ("meshgrid_xy", [(2,), (3,), (4,)], lambda m, x, y, z: m.meshgrid([x, y, z], indexing="xy")),
    ("unflatten", [(2, 12)], lambda m, x: m.unflatten(x, 1, (3, -1))),
    ("ravel", [(2, 3)], lambda m, x: m.ravel(x.t())),
    ("tile", [(2, 3)], lambda m, x: m.tile(x, (2,))),
    ("tile_more", [(2, 3)], lambda m, x: x.tile(2, 1, 2)),
]
for red in ("sum", "prod", "mean", "amax", "amin"):
    for inc in (True, False):
        CASES.append((f"scatter_reduce_{red}_{inc}", [(3, 4), (3, 3)], lambda m, x, s, red=red, inc=inc: m.scatter_reduce(
            x, 1, m.tensor([[0, 0, 2], [1, 1, 1], [3, 0, 3]]), s, red, include_self=inc)))


@pytest.mark.parametrize("shapes,f", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_values_and_gradients_match_torch(shapes, f) -> None:
    arrays = [arr(*s, seed=k) for k, s in enumerate(shapes)]
    xs = [tc.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_tc, out_t = f(TC, *xs), f(torch, *ts)
    out_tc = out_tc if isinstance(out_tc, tuple) else (out_tc,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    assert len(out_tc) == len(out_t)
    loss_tc, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_tc, out_t)):
        assert a.shape == tuple(b.shape), f"output {k}"
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=f"output {k}")
        w = arr(*a.shape, seed=100 + k)
        loss_tc = loss_tc + (a * tc.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_tc.backward()
    loss_t.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        expected = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        got = x.grad.numpy() if x.grad is not None else np.zeros(x.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=f"gradient of input {k}")


def test_scatter_reduce_ties_share_the_gradient_as_torch() -> None:
    a, s = np.array([[1.0, 5.0, 0.0]]), np.array([[5.0, 5.0, 2.0]])
    for red in ("amax", "amin"):
        x, y = tc.tensor(a, requires_grad=True), tc.tensor(s, requires_grad=True)
        tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
        idx = [[1, 1, 2]] if red == "amax" else [[0, 2, 2]]
        x.scatter_reduce(1, tc.tensor(idx), y, red).sum().backward()
        tx.scatter_reduce(1, torch.tensor(idx), ty, red).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


def test_prod_with_zeros_matches_torch() -> None:
    a, s = np.array([[2.0, 0.0, 3.0]]), np.array([[0.0, 4.0, 5.0]])
    x, y = tc.tensor(a, requires_grad=True), tc.tensor(s, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(s, requires_grad=True)
    x.scatter_reduce(1, tc.tensor([[0, 1, 1]]), y, "prod").sum().backward()
    tx.scatter_reduce(1, torch.tensor([[0, 1, 1]]), ty, "prod").sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy())


INT_CASES = [
    ("nonzero", lambda m, x: m.nonzero(x)),
    ("nonzero_tuple", lambda m, x: m.nonzero(x, as_tuple=True)),
    ("argwhere", lambda m, x: m.argwhere(x)),
    ("nonzero_0d", lambda m, x: m.nonzero(x[0, 1])),
    ("repeat_interleave_counts", lambda m, x: m.repeat_interleave(m.tensor([2, 0, 1]))),
    ("trace_int", lambda m, x: m.trace(x)),
    ("scatter_reduce_int_mean", lambda m, x: x.scatter_reduce(0, m.tensor([[0, 0, 1]]), x[:1] * 3 + 1, "mean")),
    ("scatter_reduce_int_amax", lambda m, x: x.scatter_reduce(1, m.tensor([[2, 2, 2]]), x[1:] - 4, "amax", include_self=False)),
    ("tril_int", lambda m, x: x.tril()),
    ("gather_int", lambda m, x: x.gather(0, m.tensor([[1, 0, 1]]))),
]


@pytest.mark.parametrize("f", [c[1] for c in INT_CASES], ids=[c[0] for c in INT_CASES])
def test_integer_results_and_dtypes_match_torch(f) -> None:
    a = np.array([[0, 3, 0], [7, 0, -2]], dtype=np.int64)
    out_tc, out_t = f(TC, tc.tensor(a)), f(torch, torch.tensor(a))
    out_tc = out_tc if isinstance(out_tc, tuple) else (out_tc,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    for a_, b in zip(out_tc, out_t, strict=True):
        assert a_.shape == tuple(b.shape) and str(a_.dtype) == str(b.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(a_.numpy(), b.numpy())
