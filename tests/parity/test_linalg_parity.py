"""tc.linalg and the products against torch: values and gradients (float64) of the same functions."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import linalg
from tinygrad_course.tensor import products as P

torch = pytest.importorskip("torch")


def arr(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def both(fn_tc, fn_torch, *arrays: np.ndarray) -> None:
    """The same function's value and the gradient of a random weighting of its outputs agree."""
    xs = [tc.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_tc, out_t = fn_tc(*xs), fn_torch(*ts)
    out_tc = out_tc if isinstance(out_tc, tuple) else (out_tc,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    loss_tc, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_tc, out_t)):
        np.testing.assert_allclose(a._array, b.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=f"output {k}")
        w = arr(*a.shape, seed=100 + k)
        loss_tc = loss_tc + (a * tc.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_tc.backward()
    loss_t.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad._array, t.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=f"grad of input {k}")


def wellcond(*shape: int) -> np.ndarray:
    return arr(*shape) + 3 * np.eye(shape[-1])


def sym(x):
    return x + x.transpose(-1, -2)


def test_inverses_and_determinants() -> None:
    a = wellcond(2, 3, 3)
    both(linalg.det, torch.linalg.det, a)
    both(lambda x: linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet, -a)
    both(linalg.inv, torch.linalg.inv, a)
    both(linalg.solve, torch.linalg.solve, a, arr(2, 3, 2, seed=1))
    both(linalg.matrix_exp, torch.linalg.matrix_exp, arr(2, 3, 3))
    both(linalg.pinv, torch.linalg.pinv, arr(2, 4, 3))
    both(lambda x, y: linalg.lstsq(x, y).solution, lambda x, y: torch.linalg.lstsq(x, y).solution, arr(5, 3), arr(5, 2, seed=1))


def test_decompositions() -> None:
    x = arr(2, 4, 4)
    spd = x @ np.swapaxes(x, -1, -2) + 4 * np.eye(4)
    both(linalg.cholesky, torch.linalg.cholesky, spd)
    both(lambda t: tuple(linalg.qr(t)), lambda t: tuple(torch.linalg.qr(t)), arr(2, 5, 3))
    both(lambda t: tuple(linalg.qr(t)), lambda t: tuple(torch.linalg.qr(t)), arr(3, 5))
    # eigenvectors and singular vectors up to sign: compare sign-free functions of them
    both(lambda t: (linalg.eigh(sym(t)).eigenvalues, linalg.eigh(sym(t)).eigenvectors ** 2),
         lambda t: (torch.linalg.eigh(sym(t)).eigenvalues, torch.linalg.eigh(sym(t)).eigenvectors ** 2), arr(2, 4, 4))
    both(lambda t: linalg.eigh(t).eigenvectors ** 2, lambda t: torch.linalg.eigh(t).eigenvectors ** 2, sym(arr(4, 4)))

    def svd_tc(t):
        U, S, Vh = linalg.svd(t, full_matrices=False)
        return U * U, S, Vh * Vh

    def svd_torch(t):
        U, S, Vh = torch.linalg.svd(t, full_matrices=False)
        return U * U, S, Vh * Vh

    both(svd_tc, svd_torch, arr(2, 5, 3))
    both(svd_tc, svd_torch, arr(3, 5))
    both(linalg.svdvals, torch.linalg.svdvals, arr(4, 6))


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 2, -2, 1, float("inf")])
def test_matrix_norms(ord) -> None:
    both(lambda t: linalg.norm(t, ord, dim=(-2, -1)), lambda t: torch.linalg.norm(t, ord, dim=(-2, -1)), arr(2, 3, 4))


def test_products() -> None:
    both(lambda a, b, c: P.einsum("bij,jk,bkk->bi", a, b, c), lambda a, b, c: torch.einsum("bij,jk,bkk->bi", a, b, c),
         arr(2, 3, 4), arr(4, 2), arr(2, 2, 2))
    both(lambda a, b: P.einsum("...ij,...jk", a, b), lambda a, b: torch.einsum("...ij,...jk", a, b), arr(2, 3, 4), arr(4, 2))
    both(P.kron, torch.kron, arr(2, 3), arr(2, 2))
    both(lambda a, b: P.tensordot(a, b, ([0, 2], [1, 0])), lambda a, b: torch.tensordot(a, b, ([0, 2], [1, 0])),
         arr(2, 3, 4), arr(4, 2, 5))
    both(lambda i, a, b: P.addmm(i, a, b, beta=0.5, alpha=2), lambda i, a, b: torch.addmm(i, a, b, beta=0.5, alpha=2),
         arr(3, 2), arr(3, 4), arr(4, 2))
    both(lambda a: P.matrix_power(a, -2), lambda a: torch.linalg.matrix_power(a, -2), wellcond(3, 3))
    both(lambda a, b: P.cross(a, b, dim=-1), lambda a, b: torch.linalg.cross(a, b), arr(4, 3), arr(4, 3))
