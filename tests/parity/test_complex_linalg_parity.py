"""Complex tc.linalg against torch (complex128): values and gradients of eigh, cholesky, qr, svd, slogdet.

Eigenvectors and singular vectors are defined up to phases e^{iφ} (LAPACK builds may choose
differently), so they are compared through phase-invariant quantities: |V|, V f(Λ) Vᴴ, U S Vh.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import linalg

torch = pytest.importorskip("torch")


def carr(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def weights(shape: tuple[int, ...], seed: int, complex_: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape)
    return w + 1j * rng.standard_normal(shape) if complex_ else w


def both(fn_tc, fn_torch, *arrays: np.ndarray) -> None:
    """Equal values, and equal gradients of L = Σ Re(w̄ · out) for random complex (real for real outputs) weights w."""
    xs = [tc.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out_tc, out_t = fn_tc(*xs), fn_torch(*ts)
    out_tc = out_tc if isinstance(out_tc, tuple) else (out_tc,)
    out_t = out_t if isinstance(out_t, tuple) else (out_t,)
    loss_tc, loss_t = 0, 0
    for k, (a, b) in enumerate(zip(out_tc, out_t)):
        assert str(a.dtype) == str(b.dtype).removeprefix("torch."), f"output {k}: {a.dtype} vs {b.dtype}"
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-10, err_msg=f"output {k}")
        w = weights(tuple(a.shape), 100 + k, a.is_complex())
        loss_tc = loss_tc + (a * tc.tensor(w).conj()).real.sum()
        loss_t = loss_t + (b * torch.tensor(w).conj()).real.sum()
    loss_tc.backward()
    loss_t.backward()
    for k, (x, t) in enumerate(zip(xs, ts)):
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-7, atol=1e-9, err_msg=f"grad of input {k}")


def herm(x):
    return x + x.transpose(-1, -2).conj()


def hpd(x, lib):
    return x @ x.transpose(-1, -2).conj() + lib.eye(x.shape[-1], dtype=lib.float64) * x.shape[-1]


def eigh_parts(la):
    def f(x, UPLO="L"):
        w, v = la.eigh(x, UPLO=UPLO)
        return w, v.abs(), (v * w.unsqueeze(-2).sin()) @ v.transpose(-1, -2).conj()
    return f


def test_eigh_and_eigvalsh() -> None:
    both(lambda x: eigh_parts(linalg)(herm(x)), lambda x: eigh_parts(torch.linalg)(herm(x)), carr(2, 4, 4))
    # a raw (non-Hermitian) input: both read the UPLO triangle alone and give the same (Hermitian) gradient
    both(lambda x: eigh_parts(linalg)(x, "U"), lambda x: eigh_parts(torch.linalg)(x, "U"), carr(3, 3, seed=1))
    both(linalg.eigvalsh, torch.linalg.eigvalsh, carr(2, 3, 3, seed=2))


def test_cholesky() -> None:
    both(lambda x: linalg.cholesky(hpd(x, tc)), lambda x: torch.linalg.cholesky(hpd(x, torch)), carr(2, 4, 4))
    both(lambda x: linalg.cholesky(hpd(x, tc), upper=True), lambda x: torch.linalg.cholesky(hpd(x, torch), upper=True),
         carr(3, 3, seed=1))
    a = carr(3, 3, seed=2)
    a = a @ a.conj().T + 3 * np.eye(3)
    both(linalg.cholesky, torch.linalg.cholesky, a)  # the raw input: the same (non-Hermitian) gradient as torch


@pytest.mark.parametrize("shape,mode", [((2, 5, 3), "reduced"), ((4, 4), "reduced"), ((3, 5), "reduced"),
                                        ((2, 3, 5), "complete"), ((3, 3), "complete")])
def test_qr(shape, mode) -> None:
    # Q and R themselves: LAPACK's convention (R's diagonal real) fixes them, and both libraries follow it
    both(lambda x: tuple(linalg.qr(x, mode=mode)), lambda x: tuple(torch.linalg.qr(x, mode=mode)), carr(*shape))


def svd_parts(la, full):
    def f(x):
        U, S, Vh = la.svd(x, full_matrices=full)
        k = S.shape[-1]
        u, vh = U[..., :k], Vh[..., :k, :]
        return U.abs(), S, Vh.abs(), (u * S.unsqueeze(-2).exp()) @ vh
    return f


@pytest.mark.parametrize("shape", [(2, 5, 3), (3, 3), (3, 5)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full) -> None:
    both(svd_parts(linalg, full), svd_parts(torch.linalg, full), carr(*shape))


def test_svdvals_norms_and_cond() -> None:
    both(linalg.svdvals, torch.linalg.svdvals, carr(2, 4, 6))
    for ord in ("fro", "nuc", 2, -2, 1, float("inf")):
        both(lambda x, o=ord: linalg.matrix_norm(x, o), lambda x, o=ord: torch.linalg.matrix_norm(x, o), carr(2, 3, 4))
    both(linalg.cond, torch.linalg.cond, carr(2, 3, 3))


def test_slogdet() -> None:
    both(lambda x: tuple(linalg.slogdet(x)), lambda x: tuple(torch.linalg.slogdet(x)), carr(2, 3, 3) + 2 * np.eye(3))


def test_the_gauge_errors_match_torch() -> None:
    a = herm(carr(3, 3))
    messages = []
    for lib, la in ((tc, linalg), (torch, torch.linalg)):
        x = lib.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError) as eigh_error:
            la.eigh(x).eigenvectors.real.sum().backward()
        x = lib.tensor(a, requires_grad=True)
        with pytest.raises(RuntimeError) as svd_error:
            la.svd(x).U[:, 0].real.sum().backward()
        messages.append((str(eigh_error.value), str(svd_error.value)))
    for ours, theirs in zip(*messages):
        assert ours.startswith(theirs.strip().split("\n")[0])
