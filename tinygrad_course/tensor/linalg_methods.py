"""Matrix-product and linear-algebra methods of `Tensor` (``a.bmm(b)``, ``a.det()``, …), as PyTorch has them.

A mixin: each method is the function of the same name in products.py, or the linalg op.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tinygrad_course.ops.linalg import Det, Inv, MatrixExp, Pinv
from tinygrad_course.tensor import products

if TYPE_CHECKING:
    from tinygrad_course.tensor import Tensor


class LinalgMethods:
    """bmm, mv, dot, vdot, outer/ger, inner, kron, addmm, addmv, baddbmm, matrix_power, det, inverse, matrix_exp, pinverse."""

    __slots__ = ()

    def bmm(self, mat2: Tensor) -> Tensor:
        """Batched matrix product of (b, n, m) and (b, m, p)."""
        return products.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        """Matrix (n, m) times vector (m,)."""
        return products.mv(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        """Σ xᵢ yᵢ of two 1-D tensors."""
        return products.dot(self, other)

    def vdot(self, other: Tensor) -> Tensor:
        """Σ xᵢ yᵢ of two 1-D tensors (the complex-conjugating dot, for real tensors the same)."""
        return products.vdot(self, other)

    def outer(self, vec2: Tensor) -> Tensor:
        """xᵢ yⱼ of two 1-D tensors."""
        return products.outer(self, vec2)

    ger = outer

    def inner(self, other: Tensor) -> Tensor:
        """Σ over the last dims of both."""
        return products.inner(self, other)

    def kron(self, other: Tensor) -> Tensor:
        """The Kronecker product."""
        return products.kron(self, other)

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        """a × b of 3-vectors along dim (None: the first dim of size 3)."""
        return products.cross(self, other, dim)

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """β·self + α·mat1 @ mat2."""
        return products.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def addmv(self, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """β·self + α·mat @ vec."""
        return products.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
        """β·self + α·batch1 @ batch2, batched."""
        return products.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    def matrix_power(self, n: int) -> Tensor:
        """Aⁿ of square matrices (n < 0: the inverse's power)."""
        return products.matrix_power(self, n)

    def det(self: Any) -> Tensor:
        """det A of square matrices; ∂/∂A = det A · A⁻ᵀ."""
        return Det.apply(self._square("det"))

    def inverse(self: Any) -> Tensor:
        """A⁻¹ of square matrices; ∂c/∂A = −A⁻ᵀ g A⁻ᵀ."""
        return Inv.apply(self._square("inverse"))

    def matrix_exp(self: Any) -> Tensor:
        """e^A of square matrices."""
        return MatrixExp.apply(self._square("matrix_exp"))

    def pinverse(self: Any, rcond: float = 1e-15) -> Tensor:
        """The Moore–Penrose pseudo-inverse (singular values below rcond·σ_max count as 0)."""
        return Pinv.apply(self._matrix("pinverse"), atol=0.0, rtol=rcond, hermitian=False)

    def _matrix(self: Any, name: str) -> Any:
        x = self._floating(name)
        if x.ndim < 2:
            raise ValueError(f"{name}: expected (batches of) matrices, got shape {x.shape}")
        return x

    def _square(self: Any, name: str) -> Any:
        x = self._matrix(name)
        if x.shape[-1] != x.shape[-2]:
            raise ValueError(f"{name}: expected (batches of) square matrices, got shape {x.shape}")
        return x
