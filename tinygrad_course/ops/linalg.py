"""Linear-algebra primitives: forward with numpy.linalg, backward by the published formulas in Tensor ops.

Every backward is written with Tensor operations (matmul, transpose, the other primitives of this
file), so ``create_graph=True`` differentiates it again and gradgradcheck passes. A
decomposition with several results (qr, eigh, svd) is one primitive whose output packs its
results side by side on the last axis (``tinygrad_course.linalg`` unpacks them by slicing): an op
here has one output. Notation: g = ∂c/∂out, Xᵀ = X.transpose(-1, -2) (``_mT``), Xᴴ = conj(Xᵀ) (``_mH``).

Complex matrices: inv, det and solve are holomorphic (the engines conjugate around their
backward). cholesky, qr, eigh, svd and slogdet are not, and take PyTorch's complex formulas
themselves (``complex_rule = "explicit"``: backward gets and returns the conjugate-Wirtinger
gradient ∂L/∂Re + i ∂L/∂Im). Written with Xᴴ, one formula serves real and complex matrices (for
real ones ``conj`` is the identity). Real results of a complex decomposition (eigenvalues,
singular values) are packed as complex numbers with zero imaginary part; their gradients are
read as real (only the real part of the slot is a free variable).

References: M. Giles, "An extended collection of matrix derivative results" (2008) for inv, det,
solve; I. Murray, "Differentiation of the Cholesky decomposition" (2016); S. Walter & L. Lehmann
(2018) for qr; PyTorch's FunctionsManual.cpp for eigh, svd and pinv (Golub–Pereyra); the block
matrix exp([[Aᵀ, G], [0, Aᵀ]]) for matrix_exp (Najfeld & Havel 1995).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course.autograd import function
from tinygrad_course.autograd.function import Primitive
from tinygrad_course.ops.movement import Cat


class LinAlgError(RuntimeError):
    """A linear-algebra routine could not finish (singular matrix, not positive-definite…), like torch.linalg.LinAlgError."""


def _mT(x: Any) -> Any:
    return x.transpose(-1, -2)


def _mH(x: Any) -> Any:
    """The conjugate transpose (the transpose of a real matrix: its conj() is itself)."""
    return x.transpose(-1, -2).conj()


def _is_complex(t: Any) -> bool:
    return t._array.dtype.kind == "c"


def _const(array: np.ndarray) -> Any:
    """A constant Tensor (no gradient) on `array`."""
    return function.Tensor._make(np.ascontiguousarray(array), None)


def _eye(n: int, dtype: Any) -> np.ndarray:
    return np.eye(n, dtype=dtype)


def _diag_embed(v: Any) -> Any:
    """(…, n) → (…, n, n) with v on the diagonal."""
    return v.unsqueeze(-1) * _eye(v.shape[-1], v._array.dtype)


def _tril(x: Any, k: int = 0) -> Any:
    return x * np.tril(np.ones(x.shape[-2:], dtype=x._array.dtype), k)


def _right_solve(x: Any, a: Any) -> Any:
    """x a⁻¹, as (a⁻ᵀ xᵀ)ᵀ."""
    return _mT(Solve.apply(_mT(a), _mT(x)))


def _is_zero(g: Any) -> bool:
    """True when a gradient part is an unused (constant zero) one: its op's result was not used."""
    return not g.requires_grad and not np.any(g._array)


def _pack(parts: list[np.ndarray], batch: tuple[int, ...]) -> np.ndarray:
    return np.concatenate([p.reshape(batch + (-1,)) for p in parts], axis=-1)


def unpack(t: Any, batch: tuple[int, ...], shapes: list[tuple[int, ...]]) -> list[Any]:
    """The parts of a packed output (Tensor ops: differentiable)."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(t[..., start:start + size].reshape(batch + shape))
        start += size
    return out


_PHASE_ERRORS = {
    "eigh": "linalg_eigh_backward: The eigenvectors in the complex case are specified up to multiplication by "
            "e^{i phi}. The specified loss function depends on this quantity, so it is ill-defined.",
    "svd": "svd_backward: The singular vectors in the complex case are specified up to multiplication by "
           "e^{i phi}. The specified loss function depends on this phase term, making it ill-defined.",
}


def _check_phase(im: np.ndarray, ref: Any, op: str) -> None:
    """PyTorch's gauge check: complex vectors are defined up to e^{iφ}, so the loss may not depend on φ.

    `im` is the loss's derivative along the phases (Im diag Vᴴ gV for eigh; for svd the sum of
    the U and V terms, `ref` the V term), which must vanish; PyTorch's lax tolerance
    (|im| ≤ 1e-2 + 1e-2·|ref|) avoids false alarms from rounding.
    """
    if np.size(im) and not np.all(np.abs(im) <= 1e-2 + 1e-2 * np.abs(ref)):
        raise RuntimeError(
            f"{_PHASE_ERRORS[op]} (Its derivative along the phases is {float(np.max(np.abs(im))):.3g}, not 0: "
            f"use a phase-invariant function of the vectors, such as |V|, V diag(λ) Vᴴ or U diag(S) Vh.)"
        )


def _check_gap(values: np.ndarray, name: str, what: str) -> None:
    """PyTorch's condition: the vectors of repeated values are not unique, so their gradient is undefined."""
    if values.shape[-1] < 2:
        return
    v = np.sort(values, axis=-1)
    gap = np.min(np.abs(np.diff(v, axis=-1)))
    scale = max(float(np.max(np.abs(v))), np.finfo(values.dtype).tiny)
    if gap <= 1e3 * np.finfo(values.dtype).eps * scale:
        raise RuntimeError(
            f"{name}: the gradient through the {what} is not defined when the {what[:-1] if what.endswith('s') else what} "
            f"values are repeated (two of {values.shape[-1]} values differ by {gap:.3g}); the loss depends on the "
            f"{what}, which are not unique then. Use only the values (e.g. linalg.{'eigvalsh' if 'eigen' in what else 'svdvals'}), "
            "or perturb the input to separate them"
        )


class Inv(Primitive):
    """z = a⁻¹; ∂c/∂a = −a⁻ᵀ g a⁻ᵀ."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.inv(a)
        except np.linalg.LinAlgError:
            raise LinAlgError(f"linalg.inv: the input of shape {a.shape} is singular; it has no inverse") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (inv,) = ctx.saved_tensors
        it = _mT(inv)
        return -(it @ g @ it)


class Det(Primitive):
    """z = det a; ∂c/∂a = g · det a · a⁻ᵀ (needs a invertible)."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, d = ctx.saved_tensors
        return (g * d).unsqueeze(-1).unsqueeze(-1) * _mT(Inv.apply(a))


class LogAbsDet(Primitive):
    """z = log |det a| (real, also for complex a); ∂c/∂a = g · a⁻ᴴ."""

    complex_rule = "explicit"  # a real output: d z = Re tr(a⁻¹ da), whose gradient is a⁻ᴴ

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.asarray(np.linalg.slogdet(a)[1])

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g.unsqueeze(-1).unsqueeze(-1) * _mH(Inv.apply(a))


class SignDet(Primitive):
    """z = det a / |det a| of complex a (a unit complex number); ∂c/∂a = i Im(g z̄) · a⁻ᴴ (PyTorch's).

    d z = z · i Im tr(a⁻¹ da), so only Im(g z̄), the part of g along the circle, counts. Real
    matrices have a constant sign (±1) and do not use this op.
    """

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, a):
        out = np.asarray(np.linalg.slogdet(a)[0])
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, sign = ctx.saved_tensors
        along = (g * sign.conj()).imag * 1j
        return along.unsqueeze(-1).unsqueeze(-1) * _mH(Inv.apply(a))


class Solve(Primitive):
    """x = a⁻¹ b (b: …, n, k; batch dims broadcast); ∂c/∂b = a⁻ᵀ g, ∂c/∂a = −(∂c/∂b) xᵀ."""

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, a, b):
        try:
            out = np.linalg.solve(a, b)
        except np.linalg.LinAlgError:
            raise LinAlgError(f"linalg.solve: the matrix A of shape {a.shape} is singular; the system has no unique solution") from None
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, x = ctx.saved_tensors
        gb = Solve.apply(_mT(a), g)
        ga = -(gb @ _mT(x)) if ctx.needs_input_grad[0] else None
        return ga, gb


class Cholesky(Primitive):
    """L with a = L Lᴴ (lower triangle of a read); Murray's ∂c/∂a = L⁻ᴴ Φ(Lᴴ g) L⁻¹, Φ: tril, made Hermitian, diagonal halved.

    For complex a this is PyTorch's cholesky_backward (the same formula with conjugate transposes).
    """

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, a):
        try:
            out = np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            what = "Hermitian positive-definite" if a.dtype.kind == "c" else "positive-definite"
            raise LinAlgError(f"linalg.cholesky: the input of shape {a.shape} is not {what}") from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (L,) = ctx.saved_tensors
        p = _tril(_mH(L) @ g)
        p = (p + _mH(_tril(p, -1))) * 0.5
        return _right_solve(Solve.apply(_mH(L), p), L)


def _qr_square_backward(q: Any, r: Any, gq: Any, gr: Any) -> Any:
    """m ≥ n, reduced: ∂c/∂a = (gQ + Q copyltu(M)) R⁻ᴴ, M = R gRᴴ − gQᴴ Q (Walter & Lehmann).

    copyltu(M) is the Hermitian matrix with M's strict lower triangle; its diagonal is Re diag M
    (R's diagonal is real, so only the real part of M's diagonal is a direction: PyTorch's syminvadj).
    """
    m = r @ _mH(gr) - _mH(gq) @ q
    if _is_complex(m):
        low = _tril(m, -1)
        copyltu = low + _mH(low) + (m + _mH(m)) * (0.5 * _eye(m.shape[-1], m._array.dtype))
    else:
        copyltu = _tril(m) + _mT(_tril(m, -1))
    return _mH(Solve.apply(r, _mH(gq + q @ copyltu)))


class QR(Primitive):
    """(Q, R) packed; backward for mode reduced (or complete with m ≤ n), as PyTorch (complex too: R's diagonal is real)."""

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, a, mode="reduced"):
        if mode == "r":
            r = np.linalg.qr(a, mode="r")
            q = np.zeros(a.shape[:-2] + (0,), dtype=a.dtype)
        else:
            q, r = np.linalg.qr(a, mode=mode)
        ctx.mode, ctx.batch, ctx.shapes = mode, a.shape[:-2], [q.shape[len(a.shape) - 2:], r.shape[-2:]]
        out = _pack([q, r], ctx.batch)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        m, n = a.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError("linalg.qr: the derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Use mode='reduced' to differentiate")
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(f"linalg.qr: the QR decomposition is not differentiable when mode='complete' and "
                               f"nrows > ncols (input of shape {tuple(a.shape)})")
        q, r = unpack(out, ctx.batch, ctx.shapes)
        gq, gr = unpack(g, ctx.batch, ctx.shapes)
        if m >= n:
            return _qr_square_backward(q, r, gq, gr)
        # m < n: a = [x | y], r = [u | v] with x = q u square; gy = q gv, and y's share of gq (y gvᴴ) goes to x.
        y, u, gu, gv = a[..., m:], r[..., :m], gr[..., :m], gr[..., m:]
        gx = _qr_square_backward(q, u, gq + y @ _mH(gv), gu)
        return Cat.apply(gx, q @ gv, axis=a.ndim - 1)


class Eigh(Primitive):
    """(eigenvalues λ, eigenvectors V) packed; ∂c/∂a = V (diag gλ + skew(Vᴴ gV)/2 ∘ F) Vᴴ, F_ij = 1/(λ_j − λ_i).

    Complex (Hermitian) a: λ is real (packed with a zero imaginary part, its gradient read as real),
    the diagonal of skew(Vᴴ gV) is dropped as PyTorch does, and a loss that depends on the
    eigenvectors' phases (Im diag Vᴴ gV ≠ 0) raises PyTorch's error.
    """

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, a, UPLO="L"):
        w, v = np.linalg.eigh(a, UPLO=UPLO)
        n = a.shape[-1]
        ctx.batch, ctx.shapes = a.shape[:-2], [(n,), (n, n)]
        out = _pack([w, v], ctx.batch)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        w, v = unpack(out, ctx.batch, ctx.shapes)
        gw, gv = unpack(g, ctx.batch, ctx.shapes)
        complex_ = _is_complex(out)
        if complex_:
            w, gw = w.real, gw.real
        inner = _diag_embed(gw)
        if not _is_zero(gv):
            _check_gap(w._array, "linalg.eigh", "eigenvectors")
            n = w.shape[-1]
            eye = _eye(n, w._array.dtype)
            e = w.unsqueeze(-2) - w.unsqueeze(-1) + eye  # λ_j − λ_i off the diagonal, 1 on it
            vgv = _mH(v) @ gv
            skew = (vgv - _mH(vgv)) * 0.5 / e
            if complex_:
                _check_phase(np.diagonal(vgv._array, 0, -2, -1).imag, 0.0, "eigh")
                skew = skew * (1 - eye)  # its diagonal, i Im diag(Vᴴ gV), is the phase direction: dropped
            inner = inner + skew
        return v @ inner @ _mH(v)


class SVD(Primitive):
    """(U, S, Vh) packed; backward by PyTorch's svd_backward (full_matrices: only the first k columns count).

    Complex a: S is real (packed with a zero imaginary part, its gradient read as real); the
    diagonal term i Im diag(Uᴴ gU)/S is added, and a loss that depends on the singular vectors'
    common phases (Im diag(Uᴴ gU + Vᴴ gV) ≠ 0) raises PyTorch's error.
    """

    complex_rule = "explicit"

    @staticmethod
    def forward(ctx, a, full_matrices=True):
        u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
        ctx.batch, ctx.shapes = a.shape[:-2], [u.shape[-2:], s.shape[-1:], vh.shape[-2:]]
        out = _pack([u, s, vh], ctx.batch)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        u, s, vh = unpack(out, ctx.batch, ctx.shapes)
        gu, gs, gvh = unpack(g, ctx.batch, ctx.shapes)
        complex_ = _is_complex(out)
        if complex_:
            s, gs = s.real, gs.real
        k = s.shape[-1]
        u, gu, vh, gvh = u[..., :k], gu[..., :k], vh[..., :k, :], gvh[..., :k, :]
        m, n = u.shape[-2], vh.shape[-1]
        use_u, use_v = not _is_zero(gu), not _is_zero(gvh)
        inner = _diag_embed(gs)
        if use_u or use_v:
            _check_gap(s._array, "linalg.svd", "singular vectors")
            s2 = s * s
            eye = _eye(k, s._array.dtype)
            e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
            v, gv = _mH(vh), _mH(gvh)
            if use_u:
                uhgu = _mH(u) @ gu
                uhgu = uhgu - _mH(uhgu)
                inner = inner + uhgu * s.unsqueeze(-2) / e
            if use_v:
                vhgv = _mH(v) @ gv
                vhgv = vhgv - _mH(vhgv)
                inner = inner + s.unsqueeze(-1) * vhgv / e
            if complex_:
                im_u = np.diagonal(uhgu._array, 0, -2, -1).imag if use_u else 0.0
                im_v = np.diagonal(vhgv._array, 0, -2, -1).imag if use_v else 0.0
                _check_phase(np.asarray(im_u + im_v), im_v, "svd")
                if use_u and use_v:  # PyTorch's i Im diag(Uᴴ gU) / S (the two phase terms, grouped)
                    inner = inner + uhgu * eye / (2 * s.unsqueeze(-2))
        ga = u @ inner @ vh
        if use_u and m > k:
            gus = gu / s.unsqueeze(-2)
            ga = ga + (gus - u @ (_mH(u) @ gus)) @ vh
        if use_v and n > k:
            gvs = _mH(gvh) / s.unsqueeze(-2)
            ga = ga + u @ (_mH(gvs) - (_mH(gvs) @ _mH(vh)) @ vh)
        return ga


class Pinv(Primitive):
    """The pseudo-inverse a⁺ (singular values ≤ max(atol, rtol·σ₁) dropped); Golub–Pereyra backward (constant rank)."""

    @staticmethod
    def forward(ctx, a, atol=0.0, rtol=0.0, hermitian=False):
        if hermitian:
            w, v = np.linalg.eigh(a)
            cut = np.maximum(atol, rtol * np.abs(w).max(-1, keepdims=True))
            inv_w = np.where(np.abs(w) > cut, 1 / np.where(w == 0, 1, w), 0)
            out = (v * inv_w[..., None, :]) @ np.swapaxes(v, -1, -2)
        else:
            u, s, vh = np.linalg.svd(a, full_matrices=False)
            cut = np.maximum(atol, rtol * (s.max(-1, keepdims=True) if s.shape[-1] else 0))
            inv_s = np.where(s > cut, 1 / np.where(s == 0, 1, s), 0)
            out = np.swapaxes(vh, -1, -2) @ (inv_s[..., :, None] * np.swapaxes(u, -1, -2))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, p = ctx.saved_tensors
        m, n = a.shape[-2:]
        pt, gt = _mT(p), _mT(g)
        if m <= n:
            k = gt @ p
            kpt = k @ pt
            return -_mT(p @ k) + kpt - (a @ p) @ kpt + (pt @ p) @ (gt - k @ a)
        k = p @ gt
        ptk = pt @ k
        return -_mT(k @ p) + (gt - a @ k) @ p @ pt + ptk - ptk @ p @ a


_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
           10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)


def _expm_one(a: np.ndarray) -> np.ndarray:
    """exp(a) for one matrix: Padé [13/13] with scaling and squaring (Higham 2005)."""
    b = _PADE13
    norm = np.abs(a).sum(0).max() if a.size else 0.0
    s = max(0, math.ceil(math.log2(norm / 5.371920351148152))) if norm > 0 else 0
    a = a / 2.0 ** s
    eye = np.eye(a.shape[0])
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    r = np.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


class MatrixExp(Primitive):
    """z = exp(a) = Σ aᵏ/k!; ∂c/∂a = the upper-right block of exp([[aᵀ, g], [0, aᵀ]])."""

    @staticmethod
    def forward(ctx, a):
        flat = a.reshape((-1,) + a.shape[-2:]).astype(np.float64)
        out = np.stack([_expm_one(m) for m in flat]) if len(flat) else flat
        ctx.save_for_backward(a)
        return out.reshape(a.shape).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        n, last = a.shape[-1], a.ndim - 1
        at = _mT(a)
        zeros = _const(np.zeros(a.shape, dtype=a._array.dtype))
        block = Cat.apply(Cat.apply(at, g, axis=last), Cat.apply(zeros, at, axis=last), axis=last - 1)
        return MatrixExp.apply(block)[..., :n, n:]


class Einsum(Primitive):
    """z = einsum(eq, *xs) with explicit subscripts 'ab,bc->ac' (equal sizes per letter); backward is einsum again.

    ∂c/∂xₖ = einsum of g with the other operands into xₖ's subscripts: a letter of xₖ found
    nowhere else comes from a ones vector, and a repeated letter (a diagonal, a trace) is
    spread back over the diagonal by identity matrices.
    """

    complex_rule = "holomorphic"

    @staticmethod
    def forward(ctx, *xs, equation=""):
        ctx.equation = equation
        ctx.save_for_backward(*xs)
        return np.asarray(np.einsum(equation, *xs, optimize=True))

    @staticmethod
    def backward(ctx, g):
        xs = ctx.saved_tensors
        ins, out = ctx.equation.split("->")
        subs = ins.split(",")
        sizes = {c: n for s, x in zip(subs, xs) for c, n in zip(s, x.shape)}
        used = set(ctx.equation) - set(",->")
        spare = iter(sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") - used))
        grads = []
        for k, needed in enumerate(ctx.needs_input_grad):
            if not needed:
                grads.append(None)
                continue
            operands, terms = [g], [out]
            for j, (s, x) in enumerate(zip(subs, xs)):
                if j != k:
                    operands.append(x)
                    terms.append(s)
            have = set("".join(terms))
            target, seen = [], set()
            for c in subs[k]:
                if c in seen:  # a repeated letter: a fresh one, tied to c by an identity matrix
                    fresh = next(spare)
                    operands.append(_const(_eye(sizes[c], g._array.dtype)))
                    terms.append(c + fresh)
                    target.append(fresh)
                    continue
                seen.add(c)
                target.append(c)
                if c not in have:
                    operands.append(_const(np.ones(sizes[c], dtype=g._array.dtype)))
                    terms.append(c)
                    have.add(c)
            grads.append(Einsum.apply(*operands, equation=",".join(terms) + "->" + "".join(target)))
        return tuple(grads)
