"""tensor/products.py: einsum (values and gradients on 20+ equations), tensordot, outer, inner, kron, cross, dot,
vdot, mv, bmm, addmm, addmv, baddbmm, matrix_power, multi_dot, chain_matmul, against numpy."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor import products as P


def arr(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


def leaves(*shapes: tuple[int, ...]) -> list[tc.Tensor]:
    return [tc.tensor(arr(*s, seed=k), requires_grad=True) for k, s in enumerate(shapes)]


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("ii->", [(3, 3)]),  # trace
    ("ii->i", [(3, 3)]),  # diagonal
    ("iij->j", [(2, 2, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("i,j->ij", [(2,), (3,)]),
    ("i,i->", [(4,), (4,)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("...ij,...jk->...ik", [(2, 2, 3), (3, 2)]),  # ellipsis, broadcast batch
    ("...i,...i->...", [(2, 1, 3), (4, 3)]),  # size-1 broadcast inside the ellipsis
    ("i...->...", [(3, 2, 2)]),
    ("ij,jk", [(2, 3), (3, 2)]),  # implicit output
    ("ba,ca", [(2, 3), (2, 3)]),
    ("ijk,jl,kl->il", [(2, 3, 2), (3, 2), (2, 2)]),
    ("ab,bc,cd,de,ef,fg->ag", [(2, 2), (2, 3), (3, 2), (2, 2), (2, 3), (3, 2)]),  # six operands
    ("ab,bc,ca->", [(2, 3), (3, 2), (2, 2)]),
    ("bii,bj->bij", [(2, 3, 3), (2, 2)]),
    ("ij,kl->ijkl", [(2, 2), (2, 1)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("a b , b c -> a c", [(2, 3), (3, 2)]),  # spaces
]


@pytest.mark.parametrize("equation,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum_values_and_gradcheck(equation: str, shapes: list[tuple[int, ...]]) -> None:
    xs = leaves(*shapes)
    got = P.einsum(equation, *xs)
    np.testing.assert_allclose(got._array, np.einsum(equation.replace(" ", ""), *[x._array for x in xs]), atol=1e-12)
    assert tc.gradcheck(lambda *t: P.einsum(equation, *t), xs)


@pytest.mark.parametrize("equation,shapes", [EINSUM[k] for k in (1, 2, 4, 12, 17, 19)])
def test_einsum_gradgradcheck(equation: str, shapes: list[tuple[int, ...]]) -> None:
    assert tc.gradgradcheck(lambda *t: P.einsum(equation, *t), leaves(*shapes))


def test_einsum_list_form_and_errors() -> None:
    a, b = leaves((2, 3), (3, 4))
    np.testing.assert_allclose(P.einsum("ij,jk->ik", [a, b])._array, a._array @ b._array)
    with pytest.raises(ValueError, match=r"einsum: the equation 'ij,jk->ik' has 2 operand\(s\) but 1"):
        P.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"einsum: subscript 'j' has size"):
        P.einsum("ij,jk->ik", a, a)
    with pytest.raises(ValueError, match=r"einsum: the subscripts 'ijk' name 3 dims but the operand has shape \(2, 3\)"):
        P.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"output subscript 'z'"):
        P.einsum("ij->z", a)


def test_tensordot_outer_inner_dot() -> None:
    a, b = leaves((2, 3, 4), (3, 4, 5))
    np.testing.assert_allclose(P.tensordot(a, b)._array, np.tensordot(a._array, b._array))
    np.testing.assert_allclose(P.tensordot(a, b, dims=([1, 2], [0, 1]))._array, np.tensordot(a._array, b._array, ([1, 2], [0, 1])))
    np.testing.assert_allclose(P.tensordot(a, b, dims=0)._array, np.tensordot(a._array, b._array, 0))
    u, v = leaves((3,), (4,))
    np.testing.assert_allclose(P.outer(u, v)._array, np.outer(u._array, v._array))
    c = leaves((2, 4))[0]
    np.testing.assert_allclose(P.inner(a, c)._array, np.inner(a._array, c._array))
    w = leaves((3,))[0]
    assert P.dot(u, w).item() == pytest.approx(float(u._array @ w._array))
    assert P.vdot(u, w).item() == pytest.approx(float(np.vdot(u._array, w._array)))
    with pytest.raises(ValueError, match=r"dot: 1D tensors expected"):
        P.dot(a, u)
    with pytest.raises(ValueError, match=r"dot: inconsistent tensor size"):
        P.dot(u, v)
    np.testing.assert_allclose(P.vecdot(a, a[0])._array, (a._array * a._array[0]).sum(-1))


def test_mv_bmm_add_family() -> None:
    m, v, x = leaves((3, 4), (4,), (3,))
    np.testing.assert_allclose(P.mv(m, v)._array, m._array @ v._array)
    np.testing.assert_allclose(P.addmv(x, m, v, beta=0.5, alpha=2)._array, 0.5 * x._array + 2 * m._array @ v._array)
    b1, b2, inp = leaves((2, 3, 4), (2, 4, 5), (3, 5))
    np.testing.assert_allclose(P.bmm(b1, b2)._array, b1._array @ b2._array)
    np.testing.assert_allclose(P.baddbmm(inp, b1, b2, alpha=3)._array, inp._array + 3 * b1._array @ b2._array)
    m2 = leaves((4, 5))[0]
    np.testing.assert_allclose(P.addmm(inp, m, m2, beta=2)._array, 2 * inp._array + m._array @ m2._array)
    nan = tc.tensor(np.full((3, 5), np.nan))
    assert np.all(np.isfinite(P.addmm(nan, m, m2, beta=0)._array))  # beta=0 ignores input, as PyTorch
    with pytest.raises(ValueError, match=r"bmm: expected two 3-D tensors"):
        P.bmm(m, m2)
    with pytest.raises(ValueError, match=r"bmm: shapes \(2, 3, 4\) and \(2, 3, 4\) do not match"):
        P.bmm(b1, b1)
    with pytest.raises(ValueError, match=r"addmm: mat1 and mat2 shapes cannot be multiplied \(\(3, 4\) and \(3, 4\)\)"):
        P.addmm(inp, m, m)
    with pytest.raises(ValueError, match=r"mv: expected"):
        P.mv(m, x)
    assert tc.gradgradcheck(lambda i, a, b: P.baddbmm(i, a, b, beta=0.5, alpha=2), [inp, b1, b2])


def test_matrix_power_multi_dot_chain_matmul() -> None:
    a = tc.tensor(arr(2, 3, 3) + 3 * np.eye(3), requires_grad=True)
    for n in (0, 1, 2, 5, -1, -3):
        np.testing.assert_allclose(P.matrix_power(a, n)._array, np.linalg.matrix_power(a._array, n), rtol=1e-10, err_msg=str(n))
    assert tc.gradgradcheck(lambda t: P.matrix_power(t, 3), [a])
    assert tc.gradcheck(lambda t: P.matrix_power(t, -2), [a])
    ms = leaves((3,), (3, 5), (5, 2), (2, 4), (4,))
    want = np.linalg.multi_dot([m._array for m in ms])
    np.testing.assert_allclose(P.multi_dot(ms)._array, want)
    assert P.multi_dot(ms).shape == ()
    mats = leaves((2, 3), (3, 5), (5, 2))
    np.testing.assert_allclose(P.chain_matmul(*mats)._array, np.linalg.multi_dot([m._array for m in mats]))
    assert tc.gradcheck(lambda *t: P.multi_dot(list(t)), mats)
    with pytest.raises(ValueError, match=r"multi_dot: tensors 0 and 1 cannot be multiplied"):
        P.multi_dot([mats[0], mats[0]])
    with pytest.raises(ValueError, match=r"matrix_power: A must be batches of square matrices"):
        P.matrix_power(mats[0], 2)


def test_kron_and_cross() -> None:
    a, b = leaves((2, 3), (3, 2))
    np.testing.assert_allclose(P.kron(a, b)._array, np.kron(a._array, b._array))
    c, d = leaves((2, 1, 2), (3,))
    np.testing.assert_allclose(P.kron(c, d)._array, np.kron(c._array, d._array))
    assert tc.gradgradcheck(P.kron, [a, b])
    u, v = leaves((4, 3), (4, 3))
    np.testing.assert_allclose(P.cross(u, v)._array, np.cross(u._array, v._array))  # dim=None: the first size-3 dim
    np.testing.assert_allclose(P.cross(u.transpose(0, 1), v.transpose(0, 1), dim=0)._array, np.cross(u._array, v._array).T)
    assert tc.gradgradcheck(lambda x, y: P.cross(x, y, dim=-1), [u, v])
    with pytest.raises(ValueError, match=r"cross: dim 0 must have size 3"):
        P.cross(u, v, dim=0)
