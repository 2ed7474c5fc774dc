"""Complex linear algebra: eigh/eigvalsh, cholesky, qr, svd/svdvals and slogdet on complex64/complex128.

Values by reconstruction and against numpy; gradients by complex gradcheck/gradgradcheck (real
and imaginary parts perturbed) on phase-invariant functions of the vectors; PyTorch's gauge
error for a loss that depends on the arbitrary phases e^{iφ}.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import linalg
from tinygrad_course.ops.linalg import LinAlgError


def carr(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def hermitian(*shape: int, seed: int = 0) -> np.ndarray:
    x = carr(*shape, seed=seed)
    return x + np.conj(np.swapaxes(x, -1, -2))


def hpd(*shape: int, seed: int = 0) -> np.ndarray:
    x = carr(*shape, seed=seed)
    return x @ np.conj(np.swapaxes(x, -1, -2)) + shape[-1] * np.eye(shape[-1])


def mH(a: np.ndarray) -> np.ndarray:
    return np.conj(np.swapaxes(a, -1, -2))


def T(a: np.ndarray, requires_grad: bool = False) -> tc.Tensor:
    return tc.tensor(a, requires_grad=requires_grad)


# ------------------------------------------------------------------ values


def test_eigh_values_are_real_ascending_and_reconstruct() -> None:
    a = hermitian(2, 3, 4, 4)
    w, v = linalg.eigh(T(a))
    assert w.dtype == tc.float64 and v.dtype == tc.complex128 and w.shape == (2, 3, 4) and v.shape == (2, 3, 4, 4)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigvalsh(a), atol=1e-12)
    assert np.all(np.diff(w.numpy(), axis=-1) > 0)
    np.testing.assert_allclose((v.numpy() * w.numpy()[..., None, :]) @ mH(v.numpy()), a, atol=1e-12)
    np.testing.assert_allclose(mH(v.numpy()) @ v.numpy(), np.broadcast_to(np.eye(4), a.shape), atol=1e-12)
    np.testing.assert_allclose(linalg.eigvalsh(T(a)).numpy(), w.numpy())
    # only the UPLO triangle is read: garbage in the other one changes nothing
    low, up = np.tril(a) + np.triu(carr(4, 4, seed=5), 1), np.triu(a) + np.tril(carr(4, 4, seed=6), -1)
    np.testing.assert_allclose(linalg.eigvalsh(T(low)).numpy(), w.numpy(), atol=1e-12)
    np.testing.assert_allclose(linalg.eigvalsh(T(up), UPLO="U").numpy(), w.numpy(), atol=1e-12)
    w32, v32 = linalg.eigh(T(a.astype(np.complex64)))
    assert w32.dtype == tc.float32 and v32.dtype == tc.complex64
    np.testing.assert_allclose(w32.numpy(), w.numpy(), rtol=1e-4, atol=1e-4)


def test_cholesky_qr_svd_slogdet_reconstruct() -> None:
    a = hpd(2, 4, 4)
    L = linalg.cholesky(T(a)).numpy()
    np.testing.assert_allclose(L, np.tril(L))
    np.testing.assert_allclose(L @ mH(L), a, atol=1e-12)
    U = linalg.cholesky(T(a), upper=True).numpy()
    np.testing.assert_allclose(U, mH(L))  # Lᴴ, not Lᵀ
    np.testing.assert_allclose(mH(U) @ U, a, atol=1e-12)
    for shape in [(2, 5, 3), (3, 5), (4, 4)]:
        m = carr(*shape)
        Q, R = (t.numpy() for t in linalg.qr(T(m)))
        np.testing.assert_allclose(Q @ R, m, atol=1e-12)
        np.testing.assert_allclose(mH(Q) @ Q, np.broadcast_to(np.eye(Q.shape[-1]), Q.shape[:-2] + (Q.shape[-1],) * 2),
                                   atol=1e-12)
        np.testing.assert_allclose(np.diagonal(R, 0, -2, -1).imag, 0, atol=1e-12)  # R's diagonal is real
        U, S, Vh = linalg.svd(T(m), full_matrices=False)
        assert S.dtype == tc.float64 and U.dtype == tc.complex128
        np.testing.assert_allclose((U.numpy() * S.numpy()[..., None, :]) @ Vh.numpy(), m, atol=1e-12)
        np.testing.assert_allclose(S.numpy(), np.linalg.svd(m, compute_uv=False), atol=1e-12)
        np.testing.assert_allclose(linalg.svdvals(T(m)).numpy(), S.numpy())
    full = linalg.svd(T(carr(2, 5, 3)))
    assert full.U.shape == (2, 5, 5) and full.Vh.shape == (2, 3, 3)
    b = carr(2, 3, 3) + 2 * np.eye(3)
    sign, logabs = linalg.slogdet(T(b))
    assert sign.dtype == tc.complex128 and logabs.dtype == tc.float64
    np.testing.assert_allclose(np.abs(sign.numpy()), 1)
    np.testing.assert_allclose(sign.numpy() * np.exp(logabs.numpy()), np.linalg.det(b))
    assert linalg.slogdet(T(b.astype(np.complex64))).logabsdet.dtype == tc.float32


# ------------------------------------------------------------------ gradients


def _leaf(*shape: int, seed: int = 1) -> tc.Tensor:
    return T(carr(*shape, seed=seed), requires_grad=True)


def _herm(x: tc.Tensor) -> tc.Tensor:
    return x + x.transpose(-1, -2).conj()


def _hpd(x: tc.Tensor) -> tc.Tensor:
    return x @ x.transpose(-1, -2).conj() + tc.eye(x.shape[-1], dtype=tc.float64) * x.shape[-1]


def _eigh_parts(a: tc.Tensor) -> tuple[tc.Tensor, ...]:
    w, v = linalg.eigh(_herm(a))
    return w, v.abs(), (v * w.unsqueeze(-2).exp()) @ v.transpose(-1, -2).conj()  # phase-free functions of V


def _svd_parts(a: tc.Tensor, full: bool = False) -> tuple[tc.Tensor, ...]:
    U, S, Vh = linalg.svd(a, full_matrices=full)
    k = S.shape[-1]
    U, Vh = U[..., :k], Vh[..., :k, :]
    return U.abs(), S, Vh.abs(), (U * S.unsqueeze(-2).sin()) @ Vh


GRADS = {
    "eigh": (_eigh_parts, (2, 3, 3)),
    "eigh_upper": (lambda a: tuple(r.abs() for r in linalg.eigh(_herm(a), UPLO="U")), (3, 3)),
    "eigvalsh": (lambda a: linalg.eigvalsh(_herm(a)), (2, 3, 3)),
    "cholesky": (lambda a: linalg.cholesky(_hpd(a)), (2, 3, 3)),
    "cholesky_upper": (lambda a: linalg.cholesky(_hpd(a), upper=True), (3, 3)),
    "qr_tall": (lambda a: tuple(linalg.qr(a)), (2, 4, 3)),
    "qr_wide": (lambda a: tuple(linalg.qr(a)), (3, 4)),
    "qr_complete_wide": (lambda a: tuple(linalg.qr(a, mode="complete")), (2, 3)),
    "svd_tall": (_svd_parts, (2, 4, 3)),
    "svd_wide": (_svd_parts, (3, 4)),
    "svd_full": (lambda a: _svd_parts(a, full=True), (4, 3)),
    "svdvals": (linalg.svdvals, (2, 4, 3)),
    "slogdet": (lambda a: tuple(linalg.slogdet(a)), (2, 3, 3)),
}


@pytest.mark.usefixtures("engine")
@pytest.mark.parametrize("name", sorted(GRADS))
def test_complex_gradcheck_and_gradgradcheck(name: str) -> None:
    fn, shape = GRADS[name]
    assert tc.gradcheck(fn, (_leaf(*shape),))
    assert tc.gradgradcheck(fn, (_leaf(*shape),))


def test_gradient_closed_forms() -> None:
    """Σλ = tr A gives I; Σ g·λ gives V diag(g) Vᴴ; log|det A| gives A⁻ᴴ; the phase of det A gives i·A⁻ᴴ."""
    a = T(hermitian(3, 3), requires_grad=True)
    linalg.eigvalsh(a).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3), atol=1e-12)
    a.grad = None
    g = np.array([0.5, -1.0, 2.0])
    (linalg.eigvalsh(a) * T(g)).sum().backward()
    w, v = np.linalg.eigh(hermitian(3, 3))
    np.testing.assert_allclose(a.grad.numpy(), (v * g) @ mH(v), atol=1e-12)
    b = T(carr(3, 3) + 2 * np.eye(3), requires_grad=True)
    linalg.slogdet(b).logabsdet.backward()
    np.testing.assert_allclose(b.grad.numpy(), mH(np.linalg.inv(b.detach().numpy())), atol=1e-12)
    b.grad = None
    linalg.slogdet(b).sign.angle().backward()  # arg det = Im log det: gradient i·A⁻ᴴ
    np.testing.assert_allclose(b.grad.numpy(), 1j * mH(np.linalg.inv(b.detach().numpy())), atol=1e-12)


def test_singular_values_gradient_is_u_vh() -> None:
    """∂(Σ S)/∂A = U Vh (the nuclear norm's gradient), batched."""
    m = carr(2, 4, 3)
    a = T(m, requires_grad=True)
    linalg.svdvals(a).sum().backward()
    u, _, vh = np.linalg.svd(m, full_matrices=False)
    np.testing.assert_allclose(a.grad.numpy(), u @ vh, atol=1e-12)


def test_complex64_gradients_have_the_input_dtype() -> None:
    a = T(hermitian(2, 3, 3).astype(np.complex64), requires_grad=True)
    w, v = linalg.eigh(a)
    (w.sum() + v.abs().sum()).backward()
    assert a.grad.dtype == tc.complex64
    b = T(carr(3, 3).astype(np.complex64), requires_grad=True)
    U, S, Vh = linalg.svd(b)
    (S.sum() + (U @ Vh).abs().sum()).backward()
    assert b.grad.dtype == tc.complex64


# ------------------------------------------------------------------ errors


def test_a_loss_depending_on_the_phases_raises_pytorchs_error() -> None:
    a = T(hermitian(3, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^linalg_eigh_backward: The eigenvectors in the complex case are specified "
                                           r"up to multiplication by e\^\{i phi\}\. The specified loss function depends "
                                           r"on this quantity, so it is ill-defined\."):
        linalg.eigh(a).eigenvectors.real.sum().backward()
    b = T(carr(3, 3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^svd_backward: The singular vectors in the complex case are specified up "
                                           r"to multiplication by e\^\{i phi\}\. The specified loss function depends on "
                                           r"this phase term, making it ill-defined\."):
        linalg.svd(b).U.imag.sum().backward()
    with pytest.raises(RuntimeError, match=r"^svd_backward: .*e\^\{i phi\}"):
        linalg.svd(b).Vh[0].real.sum().backward()
    # the same vectors in phase-invariant losses: no error
    (linalg.eigh(a).eigenvectors.abs() ** 2 * T(np.arange(9.0).reshape(3, 3))).sum().backward()
    U, S, Vh = linalg.svd(b)
    ((U * S.unsqueeze(-2)) @ Vh).real.sum().backward()
    np.testing.assert_allclose(b.grad.numpy(), np.ones((3, 3)), atol=1e-12)  # U S Vh = A: the gradient of Σ Re A


def test_errors_remain_clear() -> None:
    with pytest.raises(LinAlgError, match=r"linalg\.cholesky: .*not Hermitian positive-definite"):
        linalg.cholesky(T(-np.eye(3) + 0j))
    with pytest.raises(ValueError, match=r"linalg\.eigh: A must be batches of square matrices.*2 by 3"):
        linalg.eigh(T(carr(2, 3)))
    with pytest.raises(TypeError, match=r"linalg\.pinv: not implemented for complex tensors yet \(got complex128\)"):
        linalg.pinv(T(carr(3, 3)))
    a = T(np.diag([1.0, 1.0, 2.0]) + 0j, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"linalg\.eigh: .*eigenvectors.*repeated"):
        linalg.eigh(a).eigenvectors.abs().sum().backward()
    linalg.eigvalsh(a).sum().backward()  # the values alone are fine
    np.testing.assert_allclose(a.grad.numpy(), np.eye(3))


def test_complex_slogdet_under_vmap_runs_batched_and_equals_the_loop() -> None:
    import warnings

    rng = np.random.default_rng(7)
    a = tc.tensor(rng.standard_normal((5, 3, 3)) + 1j * rng.standard_normal((5, 3, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a per-sample fallback would warn
        sign, logabs = tc.func.vmap(tc.linalg.slogdet)(a)
    for k in range(5):
        s, la = tc.linalg.slogdet(a[k])
        np.testing.assert_allclose(sign[k].numpy(), s.numpy(), rtol=1e-12)
        np.testing.assert_allclose(logabs[k].numpy(), la.numpy(), rtol=1e-12)
