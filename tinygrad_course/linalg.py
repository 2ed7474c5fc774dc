"""`tc.linalg`: PyTorch's torch.linalg on numpy, differentiable twice (layer: tensor).

Every function takes batches of matrices (leading dims), with PyTorch's argument names,
defaults and result shapes; decompositions return named tuples (``Q, R = linalg.qr(A)``,
``linalg.eigh(A).eigenvalues``). The primitives and their gradient formulas are in
``tinygrad_course/ops/linalg.py``.

    >>> import tinygrad_course as tc
    >>> from tinygrad_course import linalg
    >>> A = tc.tensor([[2.0, 1.0], [1.0, 3.0]])
    >>> linalg.det(A)
    tensor(5.)
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from tinygrad_course.ops.linalg import (
    QR,
    SVD,
    Cholesky,
    Det,
    Eigh,
    Inv,
    LinAlgError,
    LogAbsDet,
    MatrixExp,
    Pinv,
    SignDet,
    Solve,
    unpack,
)
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.products import cross as _cross
from tinygrad_course.tensor.products import matrix_power, multi_dot, vecdot

__all__ = [
    "LinAlgError", "cholesky", "cond", "cross", "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_exp", "matrix_norm",
    "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vecdot",
    "vector_norm",
]


class SlogdetResult(NamedTuple):
    """linalg.slogdet's result: det = sign · exp(logabsdet)."""

    sign: Tensor
    logabsdet: Tensor


class LstsqResult(NamedTuple):
    """linalg.lstsq's result; residuals, rank and singular_values are empty where PyTorch leaves them empty."""

    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


class QRResult(NamedTuple):
    """linalg.qr's result: A = Q R."""

    Q: Tensor
    R: Tensor


class EighResult(NamedTuple):
    """linalg.eigh's result: A = V diag(λ) Vᴴ, eigenvalues ascending (real, also for complex A)."""

    eigenvalues: Tensor
    eigenvectors: Tensor


class SVDResult(NamedTuple):
    """linalg.svd's result: A = U diag(S) Vh, S descending (real, also for complex A)."""

    U: Tensor
    S: Tensor
    Vh: Tensor


def _tensor(x: Any, name: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"linalg.{name}: expected a Tensor, got {type(x).__name__}")
    return x


# The functions that accept complex matrices: the holomorphic primitives (inv, det, solve), the
# decompositions with PyTorch's complex gradients (cholesky, qr, eigh, svd, slogdet; ops/linalg.py),
# and what is built from them.
_COMPLEX_OK = {
    "inv", "det", "solve", "matrix_power", "multi_dot", "vecdot", "tensorinv", "tensorsolve", "vector_norm",
    "cholesky", "qr", "eigh", "eigvalsh", "svd", "svdvals", "slogdet", "matrix_norm", "norm", "cond",
}


def _floating(A: Any, name: str) -> Tensor:
    A = _tensor(A, name)
    if A.dtype.kind == "c" and name not in _COMPLEX_OK:
        raise TypeError(f"linalg.{name}: not implemented for complex tensors yet (got {A.dtype}); "
                        f"complex matrices are accepted by {', '.join(sorted(_COMPLEX_OK))}")
    if A.dtype.kind not in "fc":
        raise TypeError(f"linalg.{name}: expected a floating point tensor, got dtype {A.dtype}")
    return A


def _matrices(A: Any, name: str, square: bool = False) -> Tensor:
    """A checked to be (…, m, n) (square: m = n)."""
    A = _floating(A, name)
    if A.ndim < 2:
        raise ValueError(f"linalg.{name}: the input must have at least 2 dimensions (batches of matrices), got shape {A.shape}")
    if square and A.shape[-1] != A.shape[-2]:
        raise ValueError(f"linalg.{name}: A must be batches of square matrices, but they are "
                         f"{A.shape[-2]} by {A.shape[-1]} matrices (shape {A.shape})")
    return A


def _mT(x: Tensor) -> Tensor:
    return x.transpose(-1, -2)


def _mH(x: Tensor) -> Tensor:
    """The conjugate transpose (for a real matrix, the transpose)."""
    return x.transpose(-1, -2).conj()


# ------------------------------------------------------------------ norms


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """(Σ|x|ᵒʳᵈ)^(1/ord) over `dim` (all dims by default); ord inf/−inf: max/min |x|, 0: the count of non-zeros."""
    x = _floating(x, "vector_norm") if dtype is None else _tensor(x, "vector_norm").to(dtype)
    if isinstance(dim, int):
        dim = (dim,)
    if ord in (2, 1, math.inf, -math.inf) or (isinstance(ord, (int, float)) and ord > 0):
        return x.norm(ord, dim, keepdim)
    if ord == 0:
        axes = None if dim is None else tuple(dim)
        return Tensor._make(np.asarray(np.count_nonzero(x._array, axis=axes, keepdims=keepdim), dtype=x.dtype), None)
    if isinstance(ord, (int, float)):
        return (x.abs() ** ord).sum(dim, keepdim) ** (1.0 / ord)
    raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}")


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1), keepdim: bool = False, *,
                dtype: Any = None) -> Tensor:
    """A matrix norm over the two dims `dim`: 'fro', 'nuc', 1, −1, 2, −2, inf, −inf (PyTorch's)."""
    A = _matrices(A if dtype is None else A.to(dtype), "matrix_norm")
    if len(dim) != 2:
        raise ValueError(f"linalg.matrix_norm: dim must be a 2-tuple, got {dim!r}")
    d0, d1 = (d % A.ndim for d in dim)
    if d0 == d1:
        raise ValueError(f"linalg.matrix_norm: dims must be different, got {dim!r}")
    if ord == "fro":
        return A.norm(2, (d0, d1), keepdim)
    if ord in ("nuc", 2, -2):
        m = A.permute(*[k for k in range(A.ndim) if k not in (d0, d1)], d0, d1)
        s = svdvals(m)
        r = s.sum(-1) if ord == "nuc" else s.amax(-1) if ord == 2 else s.amin(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                r = r.unsqueeze(d)
        return r
    if ord in (1, -1, math.inf, -math.inf):
        summed, over = (d0, d1) if ord in (1, -1) else (d1, d0)  # 1: max column sum; inf: max row sum
        s = A.abs().sum(summed, keepdim=True)
        r = s.amax(over, keepdim=True) if ord > 0 else s.amin(over, keepdim=True)
        return r if keepdim else r.reshape(tuple(n for k, n in enumerate(r.shape) if k not in (d0, d1)))
    raise ValueError(f"linalg.matrix_norm: ord must be 'fro', 'nuc', 1, -1, 2, -2, inf or -inf, got {ord!r}")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """A vector norm (dim an int, or a 1-D input) or a matrix norm (dim a 2-tuple, or a 2-D input), as torch.linalg.norm."""
    A = _floating(A, "norm") if dtype is None else _tensor(A, "norm").to(dtype)
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is None:
        return vector_norm(A.flatten(), 2, None, False) if not keepdim else vector_norm(A, 2, None, True)
    if dim is None:
        if A.ndim not in (1, 2):
            raise ValueError(f"linalg.norm: with ord={ord!r} and dim=None the input must be 1-D or 2-D, got shape {A.shape}")
        dim = tuple(range(A.ndim))
    if len(dim) == 1:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim), keepdim)
    raise ValueError(f"linalg.norm: dim must be an int or a 2-tuple, got {dim!r}")


# ------------------------------------------------------------------ determinants and inverses


def det(A: Tensor) -> Tensor:
    """The determinant of each matrix (gradient det · A⁻ᵀ: A must be invertible to differentiate)."""
    return Det.apply(_matrices(A, "det", square=True))


def slogdet(A: Tensor) -> SlogdetResult:
    """(sign, log|det A|): the determinant without overflow, det = sign · exp(logabsdet).

    For real A the sign (±1, or 0) has no gradient; for complex A it is the unit complex number
    det/|det| and is differentiable (PyTorch's formulas); logabsdet is real in both cases.
    """
    A = _matrices(A, "slogdet", square=True)
    if A.dtype.kind == "c":
        return SlogdetResult(SignDet.apply(A), LogAbsDet.apply(A))
    sign = Tensor._make(np.asarray(np.linalg.slogdet(A._array)[0]), None)
    return SlogdetResult(sign, LogAbsDet.apply(A))


def inv(A: Tensor) -> Tensor:
    """A⁻¹ of each matrix; a singular matrix raises LinAlgError."""
    return Inv.apply(_matrices(A, "inv", square=True))


def _broadcast_batch(A: Tensor, B: Tensor, name: str) -> None:
    try:
        np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
    except ValueError:
        raise ValueError(f"linalg.{name}: the batch dims of A {A.shape} and B {B.shape} cannot be broadcast together") from None


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with A X = B (left=False: X A = B); B is a vector batch (…, n) when it has one dim less than A."""
    A = _matrices(A, "solve", square=True)
    B = _floating(B, "solve")
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])
    if not left:
        if vector:
            raise ValueError(f"linalg.solve: left=False needs B to be a matrix batch, got shape {B.shape}")
        return _mT(solve(_mT(A), _mT(B)))
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-1]:
        raise ValueError(f"linalg.solve: incompatible shapes of A {A.shape} and B {B.shape} "
                         f"(A is {A.shape[-2]}×{A.shape[-1]}, B must have {A.shape[-1]} rows)")
    _broadcast_batch(A, Bm, "solve")
    X = Solve.apply(A, Bm)
    return X.squeeze(-1) if vector else X


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The Moore–Penrose pseudo-inverse; singular values ≤ max(atol, rtol·σ₁) count as zero (rtol default eps·max(m, n))."""
    A = _matrices(A, "pinv", square=hermitian)
    atol_v, rtol_v = _tolerances(A, atol, rtol)
    return Pinv.apply(A, atol=atol_v, rtol=rtol_v, hermitian=hermitian)


def _tolerances(A: Tensor, atol: Any, rtol: Any) -> tuple[Any, Any]:
    """PyTorch's defaults: rtol = eps·max(m, n) when both are None, 0 when only atol is given."""
    def value(t: Any) -> Any:
        return t._array[..., None] if isinstance(t, Tensor) and t.ndim else float(t)

    a = 0.0 if atol is None else value(atol)
    if rtol is None:
        r = np.finfo(A.dtype).eps * max(A.shape[-2:]) if atol is None or (np.all(np.asarray(a) <= 0)) else 0.0
    else:
        r = value(rtol)
    return a, r


def matrix_exp(A: Tensor) -> Tensor:
    """exp(A) = Σ Aᵏ/k! of each square matrix (Padé approximant with scaling and squaring)."""
    return MatrixExp.apply(_matrices(A, "matrix_exp", square=True))


# ------------------------------------------------------------------ decompositions


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L lower-triangular with A = L Lᴴ (upper=True: U = Lᴴ, A = Uᴴ U); A symmetric (Hermitian) positive-definite.

    Only the lower triangle of A is read (the imaginary part of its diagonal too is ignored).
    """
    L = Cholesky.apply(_matrices(A, "cholesky", square=True))
    return _mH(L) if upper else L


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """A = Q R; mode 'reduced' (Q: m×k), 'complete' (Q: m×m) or 'r' (R only, Q empty)."""
    A = _matrices(A, "qr")
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    packed = QR.apply(A, mode=mode)
    m, n = A.shape[-2:]
    k = min(m, n)
    qshape = (m, 0) if mode == "r" else (m, m if mode == "complete" else k)
    rshape = (m if mode == "complete" else k, n)
    Q, R = unpack(packed, A.shape[:-2], [qshape, rshape])
    if mode == "r":
        Q = Tensor._make(np.zeros((0,), dtype=A.dtype), None)
    return QRResult(Q, R)


def _symmetric(A: Any, name: str, UPLO: str) -> Tensor:
    A = _matrices(A, name, square=True)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.{name}: UPLO must be 'L' or 'U', got {UPLO!r}")
    return A


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors (columns) of symmetric or Hermitian matrices.

    Only the UPLO triangle of A is read. The eigenvalues are real, also for complex A. The
    gradient through the eigenvectors is undefined where eigenvalues repeat, and, for complex A,
    when the loss depends on the eigenvectors' arbitrary phases e^{iφ}: backward then raises.
    """
    A = _symmetric(A, "eigh", UPLO)
    n = A.shape[-1]
    w, v = unpack(Eigh.apply(A, UPLO=UPLO), A.shape[:-2], [(n,), (n, n)])
    return EighResult(w.real, v)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of symmetric matrices; differentiable for any spectrum."""
    return eigh(_symmetric(A, "eigvalsh", UPLO), UPLO).eigenvalues


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> SVDResult:
    """A = U diag(S) Vh, S descending; full_matrices=False gives U: m×k, Vh: k×n (k = min(m, n)).

    S is real, also for complex A. The gradient through U or Vh is undefined where singular values
    repeat, and, for complex A, when the loss depends on the vectors' arbitrary phases (the pair
    uₖ e^{iφ}, vₖ e^{iφ}): backward then raises.
    """
    A = _matrices(A, "svd")
    m, n = A.shape[-2:]
    k = min(m, n)
    shapes = [(m, m), (k,), (n, n)] if full_matrices else [(m, k), (k,), (k, n)]
    U, S, Vh = unpack(SVD.apply(A, full_matrices=bool(full_matrices)), A.shape[:-2], shapes)
    return SVDResult(U, S.real, Vh)


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """The singular values, descending; differentiable for any spectrum."""
    return svd(_matrices(A, "svdvals"), full_matrices=False).S


def lstsq(A: Tensor, B: Tensor, rcond: Any = None, *, driver: str | None = None) -> LstsqResult:
    """The least-squares solution X = argmin ‖A X − B‖ (B: …, m, k or …, m), as torch.linalg.lstsq on the CPU.

    The solution is pinv(A) B (its gradient is pinv's, as PyTorch's). driver 'gelsy' (default),
    'gelsd', 'gelss' or 'gels'; residuals ‖A X − B‖² per column are filled when m > n and every
    A has full rank (PyTorch's rule), rank for all drivers but 'gels', singular_values for
    'gelsd' and 'gelss'.
    """
    A = _matrices(A, "lstsq")
    B = _floating(B, "lstsq")
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise ValueError(f"linalg.lstsq: driver must be one of 'gels', 'gelsy', 'gelsd', 'gelss', got {driver!r}")
    vector = B.ndim == A.ndim - 1
    Bm = B.unsqueeze(-1) if vector else B
    if Bm.ndim < 2 or Bm.shape[-2] != A.shape[-2]:
        raise ValueError(f"linalg.lstsq: incompatible shapes of A {A.shape} and B {B.shape} (B must have {A.shape[-2]} rows)")
    _broadcast_batch(A, Bm, "lstsq")
    m, n = A.shape[-2:]
    eps = np.finfo(A.dtype).eps
    r = eps * max(m, n) if rcond is None else float(rcond)
    X = Pinv.apply(A, atol=0.0, rtol=r) @ Bm
    s = np.linalg.svd(A._array, compute_uv=False)
    ranks = (s > r * s[..., :1]).sum(-1) if s.shape[-1] else np.zeros(A.shape[:-2], dtype=np.int64)
    empty = Tensor._make(np.zeros((0,), dtype=A.dtype), None)
    residuals = empty
    if m > n and np.all(ranks == n) and driver != "gelsy":
        residuals = ((A @ X - Bm) ** 2).sum(-2)
        residuals = residuals.squeeze(-1) if vector else residuals
    rank = Tensor._make(np.asarray(ranks, dtype=np.int64), None) if driver != "gels" else Tensor._make(np.zeros((0,), dtype=np.int64), None)
    sv = Tensor._make(s, None) if driver in ("gelsd", "gelss") else empty
    return LstsqResult(X.squeeze(-1) if vector else X, residuals, rank, sv)


def matrix_rank(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The number of singular values > max(atol, rtol·σ₁) (rtol default eps·max(m, n)); int64, no gradient."""
    A = _matrices(A, "matrix_rank", square=hermitian)
    a, r = _tolerances(A, atol, rtol)
    s = np.abs(np.linalg.eigvalsh(A._array)) if hermitian else np.linalg.svd(A._array, compute_uv=False)
    smax = s.max(-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,))
    return Tensor._make(np.asarray((s > np.maximum(a, r * smax)).sum(-1), dtype=np.int64), None)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """The condition number ‖A‖_p ‖A⁻¹‖_p (p None or 2: σ₁/σₙ, −2: σₙ/σ₁; 'fro', 'nuc', ±1, ±inf need square A)."""
    A = _matrices(A, "cond")
    if p in (None, 2, -2):
        s = svdvals(A)
        return s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
    _matrices(A, "cond", square=True)
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """The cross product of 3-vectors along `dim` (inputs broadcast)."""
    return _cross(input, other, dim=dim)
