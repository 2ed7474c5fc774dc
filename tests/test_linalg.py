"""tc.linalg: values against numpy and closed forms, gradients by gradcheck/gradgradcheck (float64), errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import linalg
from tinygrad_course.ops.linalg import LinAlgError


def arr(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def leaf(*shape: int, seed: int = 0) -> tc.Tensor:
    return tc.tensor(arr(*shape, seed=seed), requires_grad=True)


def wellcond(*shape: int, seed: int = 0) -> np.ndarray:
    """Random square matrices plus 3·I: comfortably invertible."""
    return arr(*shape, seed=seed) + 3 * np.eye(shape[-1])


def spd(x: tc.Tensor) -> tc.Tensor:
    return x @ x.transpose(-1, -2) + tc.eye(x.shape[-1], dtype=tc.float64) * x.shape[-1]


def sym(x: tc.Tensor) -> tc.Tensor:
    return x + x.transpose(-1, -2)


def T(a: np.ndarray) -> tc.Tensor:
    return tc.tensor(a)


# ------------------------------------------------------------------ values


def test_det_slogdet_inv_match_numpy() -> None:
    a = wellcond(2, 3, 4, 4)
    np.testing.assert_allclose(linalg.det(T(a))._array, np.linalg.det(a))
    sign, logabs = linalg.slogdet(T(-a))
    s, la = np.linalg.slogdet(-a)
    np.testing.assert_allclose(sign._array, s)
    np.testing.assert_allclose(logabs._array, la)
    assert linalg.slogdet(T(a)).logabsdet is not None  # a named tuple
    np.testing.assert_allclose(linalg.inv(T(a))._array, np.linalg.inv(a))


def test_solve_matrix_vector_left_false_and_broadcast() -> None:
    a, b = wellcond(2, 3, 3), arr(2, 3, 4, seed=1)
    np.testing.assert_allclose(linalg.solve(T(a), T(b))._array, np.linalg.solve(a, b))
    v = arr(2, 3, seed=2)
    x = linalg.solve(T(a), T(v))
    assert x.shape == (2, 3)
    np.testing.assert_allclose(np.einsum("bij,bj->bi", a, x._array), v, atol=1e-12)
    c = arr(5, 3, seed=3)
    x = linalg.solve(T(a[0]), T(c), left=False)  # X A = C
    np.testing.assert_allclose(x._array @ a[0], c, atol=1e-12)
    one = linalg.solve(T(a[0]), T(arr(4, 3, 2)))  # batch of B broadcast against one A
    assert one.shape == (4, 3, 2)


def test_cholesky_qr_reconstruct() -> None:
    x = arr(2, 4, 4)
    a = x @ np.swapaxes(x, -1, -2) + 4 * np.eye(4)
    L = linalg.cholesky(T(a))
    np.testing.assert_allclose(L._array, np.linalg.cholesky(a))
    U = linalg.cholesky(T(a), upper=True)
    np.testing.assert_allclose(np.swapaxes(U._array, -1, -2) @ U._array, a)
    for shape in [(5, 3), (3, 5), (2, 4, 4)]:
        m = arr(*shape)
        k = min(shape[-2:])
        Q, R = linalg.qr(T(m))
        assert Q.shape == shape[:-2] + (shape[-2], k) and R.shape == shape[:-2] + (k, shape[-1])
        np.testing.assert_allclose(Q._array @ R._array, m, atol=1e-12)
        Q, R = linalg.qr(T(m), mode="complete")
        assert Q.shape[-1] == shape[-2] and R.shape[-2] == shape[-2]
        np.testing.assert_allclose(Q._array @ R._array, m, atol=1e-12)
        np.testing.assert_allclose(linalg.qr(T(m), mode="r").R._array, np.linalg.qr(m, mode="r"))


def test_eigh_svd_match_numpy() -> None:
    x = arr(3, 4, 4)
    a = x + np.swapaxes(x, -1, -2)
    w, v = linalg.eigh(T(a))
    np.testing.assert_allclose(w._array, np.linalg.eigvalsh(a))
    np.testing.assert_allclose(v._array @ (w._array[..., None] * np.swapaxes(v._array, -1, -2)), a, atol=1e-12)
    upper = np.triu(x)  # UPLO='U' reads the upper triangle only
    np.testing.assert_allclose(linalg.eigvalsh(T(upper), UPLO="U")._array, np.linalg.eigvalsh(upper, UPLO="U"))
    m = arr(2, 5, 3)
    U, S, Vh = linalg.svd(T(m))
    assert (U.shape, S.shape, Vh.shape) == ((2, 5, 5), (2, 3), (2, 3, 3))
    U, S, Vh = linalg.svd(T(m), full_matrices=False)
    assert (U.shape, S.shape, Vh.shape) == ((2, 5, 3), (2, 3), (2, 3, 3))
    np.testing.assert_allclose((U._array * S._array[..., None, :]) @ Vh._array, m, atol=1e-12)
    np.testing.assert_allclose(linalg.svdvals(T(m))._array, np.linalg.svd(m, compute_uv=False))


def test_pinv_lstsq_rank_cond() -> None:
    m = arr(2, 5, 3)
    np.testing.assert_allclose(linalg.pinv(T(m))._array, np.linalg.pinv(m), atol=1e-12)
    low = arr(5, 2) @ arr(2, 4, seed=1)  # rank 2
    np.testing.assert_allclose(linalg.pinv(T(low))._array, np.linalg.pinv(low), atol=1e-10)
    assert linalg.matrix_rank(T(low)).item() == 2
    assert linalg.matrix_rank(T(m)).tolist() == [3, 3]
    h = low @ low.T
    np.testing.assert_allclose(linalg.pinv(T(h), hermitian=True)._array, np.linalg.pinv(h, hermitian=True), atol=1e-8)
    b = arr(5, 2, seed=4)
    sol, res, rank, sv = linalg.lstsq(T(m[0]), T(b), driver="gelsd")
    ref = np.linalg.lstsq(m[0], b, rcond=None)
    np.testing.assert_allclose(sol._array, ref[0], atol=1e-12)
    np.testing.assert_allclose(res._array, ref[1], atol=1e-12)
    assert rank.item() == 3
    np.testing.assert_allclose(sv._array, ref[3])
    default = linalg.lstsq(T(m[0]), T(b))  # gelsy, PyTorch's CPU default: no residuals
    assert default.residuals.shape == (0,) and default.singular_values.shape == (0,)
    sq = wellcond(3, 3)
    np.testing.assert_allclose(linalg.cond(T(sq))._array, np.linalg.cond(sq))
    for p in ["fro", "nuc", 1, -1, math.inf, -math.inf, -2]:
        np.testing.assert_allclose(linalg.cond(T(sq), p)._array, np.linalg.cond(sq, p), err_msg=str(p))


def test_matrix_exp_closed_forms() -> None:
    d = np.diag([0.5, -1.0, 2.0])
    np.testing.assert_allclose(linalg.matrix_exp(T(d))._array, np.diag(np.exp([0.5, -1.0, 2.0])))
    np.testing.assert_allclose(linalg.matrix_exp(T(np.array([[0.0, 1.0], [0.0, 0.0]])))._array, [[1, 1], [0, 1]])
    t = 0.7
    rot = linalg.matrix_exp(T(np.array([[0.0, -t], [t, 0.0]])))
    np.testing.assert_allclose(rot._array, [[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]], atol=1e-14)
    big = arr(4, 4) * 5  # scaling and squaring: exp(A) exp(−A) = I
    e = linalg.matrix_exp(T(np.stack([big, -big])))._array
    np.testing.assert_allclose(e[0] @ e[1], np.eye(4), atol=1e-6)
    assert linalg.matrix_exp(T(np.zeros((2, 3, 3), dtype=np.float32))).dtype == np.float32


@pytest.mark.parametrize("ord", [None, 2, 1, 3, math.inf, -math.inf, 0, -1])
def test_vector_norm_matches_numpy(ord) -> None:
    x = arr(3, 4)
    got = linalg.vector_norm(T(x), 2 if ord is None else ord, dim=-1)
    np.testing.assert_allclose(got._array, np.linalg.norm(x, ord, axis=-1))
    np.testing.assert_allclose(linalg.norm(T(x[0]), ord)._array, np.linalg.norm(x[0], ord))


@pytest.mark.parametrize("ord", [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf])
def test_matrix_norm_matches_numpy(ord) -> None:
    x = arr(2, 3, 4)
    np.testing.assert_allclose(linalg.norm(T(x), ord, dim=(-2, -1))._array, np.linalg.norm(x, ord, axis=(-2, -1)))
    np.testing.assert_allclose(linalg.norm(T(x[0]), ord)._array, np.linalg.norm(x[0], ord))
    if ord is not None:
        got = linalg.matrix_norm(T(x), ord, dim=(0, 2), keepdim=True)
        np.testing.assert_allclose(got._array, np.linalg.norm(x, ord, axis=(0, 2), keepdims=True))


def test_norm_of_everything_and_cross() -> None:
    x = arr(2, 3, 4)
    np.testing.assert_allclose(linalg.norm(T(x))._array, np.linalg.norm(x.ravel()))
    a, b = arr(4, 3), arr(4, 3, seed=1)
    np.testing.assert_allclose(linalg.cross(T(a), T(b))._array, np.cross(a, b))
    np.testing.assert_allclose(linalg.cross(T(a.T), T(b.T), dim=0)._array, np.cross(a, b).T)


# ------------------------------------------------------------------ gradients

def _inputs(*shapes: tuple[int, ...]) -> list[tc.Tensor]:
    return [leaf(*s, seed=k) for k, s in enumerate(shapes)]


def _wellcond_leaf(*shape: int) -> tc.Tensor:
    return tc.tensor(wellcond(*shape), requires_grad=True)


GRADS = {
    "det": (lambda a: linalg.det(a), lambda: [_wellcond_leaf(2, 3, 3)]),
    "slogdet": (lambda a: linalg.slogdet(a).logabsdet, lambda: [_wellcond_leaf(2, 3, 3)]),
    "inv": (lambda a: linalg.inv(a), lambda: [_wellcond_leaf(2, 3, 3)]),
    "solve": (lambda a, b: linalg.solve(a, b), lambda: [_wellcond_leaf(2, 3, 3), leaf(3, 2, seed=1)]),
    "solve_vector": (lambda a, b: linalg.solve(a, b), lambda: [_wellcond_leaf(3, 3), leaf(3, seed=1)]),
    "solve_left_false": (lambda a, b: linalg.solve(a, b, left=False), lambda: [_wellcond_leaf(3, 3), leaf(2, 3, seed=1)]),
    "cholesky": (lambda a: linalg.cholesky(spd(a)), lambda: _inputs((2, 3, 3))),
    "cholesky_upper": (lambda a: linalg.cholesky(spd(a), upper=True), lambda: _inputs((3, 3))),
    "qr_tall": (lambda a: tuple(linalg.qr(a)), lambda: _inputs((2, 4, 3))),
    "qr_wide": (lambda a: tuple(linalg.qr(a)), lambda: _inputs((3, 5))),
    "qr_complete_wide": (lambda a: tuple(linalg.qr(a, mode="complete")), lambda: _inputs((2, 3))),
    "eigh": (lambda a: tuple(linalg.eigh(sym(a))), lambda: _inputs((2, 3, 3))),
    "eigh_upper": (lambda a: tuple(linalg.eigh(sym(a), UPLO="U")), lambda: _inputs((3, 3))),
    "eigvalsh": (lambda a: linalg.eigvalsh(sym(a)), lambda: _inputs((2, 3, 3))),
    "svd": (lambda a: tuple(linalg.svd(a, full_matrices=False)), lambda: _inputs((2, 4, 3))),
    "svd_wide": (lambda a: tuple(linalg.svd(a, full_matrices=False)), lambda: _inputs((3, 4))),
    "svd_full_square": (lambda a: tuple(linalg.svd(a)), lambda: _inputs((3, 3))),
    "svdvals": (lambda a: linalg.svdvals(a), lambda: _inputs((2, 4, 3))),
    "pinv_tall": (lambda a: linalg.pinv(a), lambda: _inputs((2, 4, 3))),
    "pinv_wide": (lambda a: linalg.pinv(a), lambda: _inputs((3, 4))),
    "pinv_hermitian": (lambda a: linalg.pinv(spd(a), hermitian=True), lambda: _inputs((3, 3))),
    "lstsq": (lambda a, b: linalg.lstsq(a, b).solution, lambda: _inputs((4, 3), (4, 2))),
    "matrix_exp": (lambda a: linalg.matrix_exp(a), lambda: _inputs((2, 2, 2))),
    "matrix_norm_nuc": (lambda a: linalg.matrix_norm(a, "nuc"), lambda: _inputs((2, 3, 3))),
    "matrix_norm_2": (lambda a: linalg.matrix_norm(a, 2), lambda: _inputs((3, 4))),
    "matrix_norm_1": (lambda a: linalg.matrix_norm(a, 1), lambda: _inputs((3, 4))),
    "norm_fro": (lambda a: linalg.norm(a, dim=(-2, -1)), lambda: _inputs((2, 3, 3))),
    "vector_norm_3": (lambda a: linalg.vector_norm(a, 3, dim=-1), lambda: _inputs((2, 4))),
    "cond": (lambda a: linalg.cond(a), lambda: _inputs((3, 3))),
    "cross": (lambda a, b: linalg.cross(a, b), lambda: _inputs((2, 3), (3,))),
}


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradcheck_and_gradgradcheck(name: str) -> None:
    fn, make = GRADS[name]
    assert tc.gradcheck(fn, make())
    assert tc.gradgradcheck(fn, make())


def test_gradient_formulas_closed_form() -> None:
    a = _wellcond_leaf(3, 3)
    linalg.det(a).backward()
    np.testing.assert_allclose(a.grad._array, np.linalg.det(a._array) * np.linalg.inv(a._array).T)
    a.grad = None
    linalg.slogdet(a).logabsdet.backward()
    np.testing.assert_allclose(a.grad._array, np.linalg.inv(a._array).T)


# ------------------------------------------------------------------ errors


def test_errors_name_the_op_and_shapes() -> None:
    rect = T(arr(2, 3))
    for fn in (linalg.det, linalg.inv, linalg.cholesky, linalg.eigh, linalg.matrix_exp, linalg.slogdet):
        with pytest.raises(ValueError, match=r"linalg\.\w+: .*square.*2 by 3"):
            fn(rect)
    with pytest.raises(ValueError, match=r"at least 2 dimensions"):
        linalg.inv(T(arr(3)))
    with pytest.raises(LinAlgError, match=r"linalg\.inv: .*\(3, 3\) is singular"):
        linalg.inv(T(np.ones((3, 3))))
    with pytest.raises(LinAlgError, match=r"linalg\.solve: .*singular"):
        linalg.solve(T(np.ones((3, 3))), T(arr(3)))
    with pytest.raises(ValueError, match=r"linalg\.solve: incompatible shapes of A \(3, 3\) and B \(4, 2\)"):
        linalg.solve(T(wellcond(3, 3)), T(arr(4, 2)))
    with pytest.raises(LinAlgError, match=r"cholesky: .*not positive-definite"):
        linalg.cholesky(T(-np.eye(3)))
    with pytest.raises(TypeError, match=r"linalg\.det: expected a floating point tensor"):
        linalg.det(tc.tensor([[1, 2], [3, 4]]))
    with pytest.raises(ValueError, match=r"qr: mode"):
        linalg.qr(rect, mode="full")
    assert isinstance(LinAlgError("x"), RuntimeError) and linalg.LinAlgError is LinAlgError


def test_degenerate_spectra_raise_only_when_vectors_are_used() -> None:
    a = tc.tensor(np.diag([1.0, 1.0, 2.0]), requires_grad=True)
    w, v = linalg.eigh(a)
    with pytest.raises(RuntimeError, match=r"linalg\.eigh: .*eigenvectors.*repeated"):
        (v.sum() + w.sum()).backward()
    linalg.eigvalsh(a).sum().backward()  # the values alone are fine
    np.testing.assert_allclose(a.grad._array, np.eye(3))
    b = tc.tensor(np.eye(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"linalg\.svd: .*singular vectors.*repeated"):
        linalg.svd(b).U.sum().backward()
    linalg.svdvals(b).sum().backward()
    np.testing.assert_allclose(b.grad._array, np.eye(3))


def test_qr_gradient_refused_where_pytorch_refuses() -> None:
    a = leaf(4, 3)
    with pytest.raises(RuntimeError, match=r"not differentiable when mode='complete' and nrows > ncols"):
        linalg.qr(a, mode="complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match=r"mode='r'"):
        linalg.qr(a, mode="r").R.sum().backward()
