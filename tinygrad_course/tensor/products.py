"""Products of tensors with PyTorch's names: einsum, tensordot, outer, inner, kron, cross, dot, vdot,
mv, bmm, addmm, addmv, baddbmm, matrix_power, multi_dot, chain_matmul, vecdot.

einsum is one primitive (numpy's einsum with ``optimize=True`` picks the contraction order)
whose backward is einsum again; it takes ellipses, repeated indices (traces, diagonals),
implicit output (``"ij,jk"``), broadcasting of size-1 dims and any number of operands. The
others are written with it or with matmul, so all are differentiable twice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.ops.linalg import Einsum, Inv
from tinygrad_course.tensor.movement_methods import stack

if TYPE_CHECKING:
    from tinygrad_course.tensor.tensor import Tensor

__all__ = [
    "addmm", "addmv", "baddbmm", "bmm", "chain_matmul", "cross", "dot", "einsum", "inner", "kron", "matrix_power",
    "multi_dot", "mv", "outer", "tensordot", "vdot", "vecdot",
]

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _check(x: Any, name: str) -> Tensor:
    if not isinstance(x, function.Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    return x


def einsum(equation: str, *operands: Any) -> Tensor:
    """Σ over the repeated subscripts of the operands' product, e.g. ``einsum("bij,bjk->bik", a, b)``.

    Operands may also come as one list: ``einsum("ij,jk", [a, b])``.
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    ops = [_check(x, "einsum") for x in operands]
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != len(ops):
        raise ValueError(f"einsum: the equation {equation!r} has {len(subs)} operand(s) but {len(ops)} were given")
    bad = set(eq) - set(_LETTERS) - set(",->.")
    if bad:
        raise ValueError(f"einsum: invalid subscript(s) {sorted(bad)} in {equation!r}; use letters a-z, A-Z")
    spare = [c for c in _LETTERS if c not in eq]
    # Each ellipsis becomes explicit letters, aligned on the right like broadcasting.
    n_ell = 0
    for s, x in zip(subs, ops):
        named = len(s.replace("...", ""))
        if "..." in s:
            if x.ndim < named:
                raise ValueError(f"einsum: operand of shape {x.shape} has fewer dims than the subscripts {s!r} name")
            n_ell = max(n_ell, x.ndim - named)
        elif x.ndim != named:
            raise ValueError(f"einsum: the subscripts {s!r} name {named} dims but the operand has shape {x.shape}")
    ell = "".join(spare[:n_ell])
    full = [s.replace("...", ell[n_ell - (x.ndim - len(s.replace('...', ''))):] if n_ell else "") for s, x in zip(subs, ops)]
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {c: "".join(subs).count(c) for c in set("".join(subs)) - {"."}}
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1))
    sizes: dict[str, int] = {}
    for s, x in zip(full, ops):
        for c, n in zip(s, x.shape):
            if sizes.get(c, 1) not in (1, n) and n != 1:
                raise ValueError(f"einsum: subscript {c!r} has size {n} in an operand of shape {x.shape}, "
                                 f"but size {sizes[c]} in another ({equation!r})")
            sizes[c] = max(sizes.get(c, n), n)
    for c in out:
        if c not in sizes:
            raise ValueError(f"einsum: output subscript {c!r} appears in no operand ({equation!r})")
    expanded = []
    for s, x in zip(full, ops):
        target = tuple(sizes[c] for c in s)
        expanded.append(x.expand(target) if target != x.shape else x)
    return Einsum.apply(*expanded, equation=",".join(full) + "->" + out)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Σ over a's last `dims` dims against b's first (or over the dims listed: ``dims=([1, 0], [0, 1])``)."""
    a, b = _check(a, "tensordot"), _check(b, "tensordot")
    if isinstance(dims, function.Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0 or dims > min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: dims={dims} is out of range for shapes {a.shape} and {b.shape}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(da) != len(db):
        raise ValueError(f"tensordot: both dims lists must have the same length, got {da} and {db}")
    da, db = [d % a.ndim for d in da], [d % b.ndim for d in db]
    sa, sb = list(_LETTERS[:a.ndim]), list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: dim {i} of a {a.shape} and dim {j} of b {b.shape} differ in size")
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two vectors: out[i, j] = input[i] · vec2[j]."""
    input, vec2 = _check(input, "outer"), _check(vec2, "outer")
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {input.shape} and {vec2.shape}")
    return input.unsqueeze(-1) * vec2


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Σ over the last dims of both (a scalar operand multiplies); shape input.shape[:-1] + other.shape[:-1]."""
    input, other = _check(input, "inner"), _check(other, "inner")
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise ValueError(f"inner: the last dims of shapes {input.shape} and {other.shape} differ")
    return tensordot(input, other, ([-1], [-1]))


def dot(input: Tensor, tensor: Tensor) -> Tensor:
    """Σᵢ input[i] · tensor[i] of two 1-D tensors of one size."""
    input, tensor = _check(input, "dot"), _check(tensor, "dot")
    if input.ndim != 1 or tensor.ndim != 1:
        raise ValueError(f"dot: 1D tensors expected, but got {input.ndim}D and {tensor.ndim}D tensors (shapes {input.shape} and {tensor.shape})")
    if input.shape != tensor.shape:
        raise ValueError(f"dot: inconsistent tensor size, expected tensors of the same size, got shapes {input.shape} and {tensor.shape}")
    return (input * tensor).sum()


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """dot with the first argument conjugated, Σ x̄ᵢ yᵢ: for real tensors, dot."""
    return dot(input.conj(), other)


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Σ x̄ · y along `dim` (inputs broadcast; x conjugated, as torch.linalg.vecdot)."""
    return (_check(x, "vecdot").conj() * _check(y, "vecdot")).sum(dim)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """The (n, m) matrix times the m-vector."""
    input, vec = _check(input, "mv"), _check(vec, "mv")
    if input.ndim != 2 or vec.ndim != 1 or input.shape[1] != vec.shape[0]:
        raise ValueError(f"mv: expected a matrix (n, m) and a vector (m,), got shapes {input.shape} and {vec.shape}")
    return input @ vec


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batches of matrix products: (b, n, m) @ (b, m, p) → (b, n, p), no broadcasting."""
    input, mat2 = _check(input, "bmm"), _check(mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3:
        raise ValueError(f"bmm: expected two 3-D tensors, got shapes {input.shape} and {mat2.shape}")
    if input.shape[0] != mat2.shape[0] or input.shape[2] != mat2.shape[1]:
        raise ValueError(f"bmm: shapes {input.shape} and {mat2.shape} do not match as (b, n, m) and (b, m, p)")
    return input @ mat2


def _mm(a: Tensor, b: Tensor, name: str) -> Tensor:
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"{name}: mat1 and mat2 shapes cannot be multiplied ({a.shape} and {b.shape})")
    return a @ b


def _scaled(input: Tensor, product: Tensor, beta: float, alpha: float) -> Tensor:
    """beta·input + alpha·product; beta = 0 ignores input (nan and inf in it do not propagate), as PyTorch."""
    p = product if alpha == 1 else product * alpha
    if beta == 0:
        shape = np.broadcast_shapes(input.shape, p.shape)
        return p.expand(shape) if shape != p.shape else p
    return (input if beta == 1 else input * beta) + p


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta · input + alpha · (mat1 @ mat2); input broadcasts to the (n, p) result."""
    return _scaled(_check(input, "addmm"), _mm(_check(mat1, "addmm"), _check(mat2, "addmm"), "addmm"), beta, alpha)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta · input + alpha · (mat @ vec)."""
    return _scaled(_check(input, "addmv"), mv(mat, vec), beta, alpha)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """beta · input + alpha · bmm(batch1, batch2)."""
    return _scaled(_check(input, "baddbmm"), bmm(batch1, batch2), beta, alpha)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """Aⁿ of each square matrix by repeated squaring (n = 0: the identity; n < 0: (A⁻¹)^|n|)."""
    A = _check(A, "matrix_power")
    if A.ndim < 2 or A.shape[-1] != A.shape[-2]:
        raise ValueError(f"matrix_power: A must be batches of square matrices, got shape {A.shape}")
    if not isinstance(n, (int, np.integer)):
        raise TypeError(f"matrix_power: n must be an int, got {type(n).__name__}")
    if n == 0:
        eye = function.Tensor._make(np.broadcast_to(np.eye(A.shape[-1], dtype=A.dtype), A.shape).copy(), None)
        return eye
    if n < 0:
        A, n = Inv.apply(A), -n
    result: Tensor | None = None
    while n:
        if n & 1:
            result = A if result is None else result @ A
        n >>= 1
        if n:
            A = A @ A
    assert result is not None
    return result


def multi_dot(tensors: Sequence[Tensor]) -> Tensor:
    """The product of a chain of matrices in the cheapest order; the first/last may be a vector (row/column)."""
    ts = [_check(t, "multi_dot") for t in tensors]
    if len(ts) < 2:
        raise ValueError(f"multi_dot: expected at least 2 tensors, got {len(ts)}")
    first_vec, last_vec = ts[0].ndim == 1, ts[-1].ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for k, t in enumerate(ts):
        if t.ndim != 2:
            raise ValueError(f"multi_dot: tensor {k} must be 2-D (the first and last may be 1-D), got shape {tensors[k].shape}")
        if k and ts[k - 1].shape[1] != t.shape[0]:
            raise ValueError(f"multi_dot: tensors {k - 1} and {k} cannot be multiplied ({ts[k - 1].shape} and {t.shape})")
    dims = [ts[0].shape[0]] + [t.shape[1] for t in ts]
    n = len(ts)
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):  # the classic dynamic program of matrix-chain order
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k

    def chain(i: int, j: int) -> Tensor:
        return ts[i] if i == j else chain(i, split[i][j]) @ chain(split[i][j] + 1, j)

    out = chain(0, n - 1)
    if first_vec and last_vec:
        return out.reshape(())
    if first_vec:
        return out.squeeze(0)
    return out.squeeze(-1) if last_vec else out


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices in the cheapest order (PyTorch's deprecated spelling of multi_dot)."""
    for k, m in enumerate(matrices):
        if _check(m, "chain_matmul").ndim != 2:
            raise ValueError(f"chain_matmul: tensor {k} must be 2-D, got shape {m.shape}")
    return matrices[0] if len(matrices) == 1 else multi_dot(list(matrices))


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: out[i·q + k, j·r + l] = input[i, j] · other[k, l] (any number of dims)."""
    a, b = _check(input, "kron"), _check(other, "kron")
    nd = max(a.ndim, b.ndim)
    a = a.reshape((1,) * (nd - a.ndim) + a.shape)
    b = b.reshape((1,) * (nd - b.ndim) + b.shape)
    pa = tuple(x for n in a.shape for x in (n, 1))
    pb = tuple(x for n in b.shape for x in (1, n))
    return (a.reshape(pa) * b.reshape(pb)).reshape(tuple(x * y for x, y in zip(a.shape, b.shape)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along `dim` (None: the first dim of size 3), inputs broadcast."""
    a, b = _check(input, "cross"), _check(other, "cross")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"cross: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
    if dim is None:
        dims = [k for k, n in enumerate(shape) if n == 3]
        if not dims:
            raise ValueError(f"cross: no dimension of size 3 in shape {tuple(shape)}")
        dim = dims[0]
    if not -len(shape) <= dim < len(shape) or shape[dim] != 3:
        raise ValueError(f"cross: dim {dim} must have size 3 (shapes {a.shape} and {b.shape})")
    d = dim % len(shape)
    a, b = a.expand(shape).transpose(d, -1), b.expand(shape).transpose(d, -1)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], dim=-1)
    return out.transpose(d, -1)
