"""Variational wavefunctions as `tc.nn.Module`s: configurations (B, N) of ±1 in, log ψ (B,) out.

`RBM`, `Jastrow` and `MLPAnsatz` have real parameters, so ψ = exp(log ψ) is real and positive:
they suit Hamiltonians whose ground state has no signs (the Ising model with h > 0; not
`Heisenberg` with J > 0, which has Marshall's signs). `ComplexRBM` has complex parameters and a
log ψ holomorphic in them: Im log ψ is the phase of ψ, so it can learn signs (ψ < 0 is
log ψ = log|ψ| + iπ). Each model takes a batch (B, N); `tc.func.vmap` over the samples hands
it s.unsqueeze(0), a batch of one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.tensor import dtypes

__all__ = ["ComplexRBM", "MLPAnsatz", "RBM", "Jastrow", "complex_log_cosh", "log_cosh", "numpy_log_psi"]

INIT_STD = 0.01  # small weights: ψ starts close to the uniform superposition


def log_cosh(x: tc.Tensor) -> tc.Tensor:
    """log cosh x = |x| + log1p(e^(−2|x|)) − log 2, stable for large |x| (cosh overflows at |x| ≈ 710).

    (np.logaddexp(x, −x) − log 2 is the same in fewer ops, but 12× slower per element on the
    local energy's large batches.) Real x only: for complex z, |z| is the modulus and the
    formula would be wrong; use `complex_log_cosh`.
    """
    if x.is_complex():
        raise TypeError(f"log_cosh: real input only (float32 or float64), got {x.dtype}; for complex input use "
                        "complex_log_cosh (ComplexRBM does)")
    a = x.abs()
    return a + (-2 * a).exp().log1p() - math.log(2.0)


def real_part(z: tc.Tensor) -> tc.Tensor:
    """Re z as a cast to the real dtype (complex → real keeps Re, and its gradient is Re's).

    `z.real` is the same number with the same gradient, but has no vmap batching rule yet (inside
    `tc.func.vmap` it would run sample by sample); the cast has one.
    """
    return z.to(dtypes.to_real(z.dtype)) if z.is_complex() else z


def complex_log_cosh(z: tc.Tensor) -> tc.Tensor:
    """log cosh z for complex z, holomorphic and stable: with s = sign(Re z) (±1, a constant),
    log cosh z = s·z + log1p(e^(−2 s·z)) − log 2, and |e^(−2 s·z)| ≤ 1, so nothing overflows.

    cosh is even, so s·z has the same cosh as z; the result is one branch of the logarithm
    (it may differ from another by 2πi·k, the same ψ). Its derivative is tanh z. Real input works too.
    """
    flipped = tc.where(real_part(z) < 0, -z, z)
    return flipped + (-2 * flipped).exp().log1p() - math.log(2.0)


class RBM(nn.Module):
    """Restricted Boltzmann machine (Carleo & Troyer 2017), hidden units traced out:
    log ψ(σ) = Σᵢ aᵢσᵢ + Σⱼ log cosh(bⱼ + Σᵢ σᵢ Wᵢⱼ), with M = alpha·N hidden units.

    Parameter names are NetKet's: kernel W (N, M), hidden_bias b (M,), visible_bias a (N,).
    """

    def __init__(self, N: int, alpha: int = 1, use_visible_bias: bool = True, dtype: Any = tc.float64) -> None:
        """Weights drawn from N(0, 0.01²) by tc's generator (seed with tc.manual_seed); float64 as NetKet's default.

        dtype: tc.float32 or tc.float64 (complex parameters: `ComplexRBM`).
        """
        super().__init__()
        _check_sizes("RBM", N, alpha=alpha)
        if dtypes.as_dtype(dtype, "RBM").kind != "f":
            raise TypeError(f"RBM: dtype must be tc.float32 or tc.float64 (real parameters), got {dtype}; "
                            "for complex parameters use ComplexRBM")
        self.N = N
        self.kernel = nn.Parameter(tc.randn(N, alpha * N, dtype=dtype) * INIT_STD)
        self.hidden_bias = nn.Parameter(tc.randn(alpha * N, dtype=dtype) * INIT_STD)
        self.visible_bias = nn.Parameter(tc.randn(N, dtype=dtype) * INIT_STD) if use_visible_bias else None

    def forward(self, s: tc.Tensor) -> tc.Tensor:
        """log ψ of each row of s (B, N)."""
        _check_input("RBM", s, self.N)
        out = log_cosh(s @ self.kernel + self.hidden_bias).sum(-1)
        return out if self.visible_bias is None else out + (s * self.visible_bias).sum(-1)


class ComplexRBM(nn.Module):
    """The RBM with complex parameters (Carleo & Troyer 2017): log ψ(σ) = Σᵢ aᵢσᵢ + Σⱼ log cosh(bⱼ + Σᵢ σᵢ Wᵢⱼ),
    holomorphic in W, a, b, so that ψ has a phase and can change sign.

    The same parameter names and shapes as `RBM` (kernel W (N, M), hidden_bias b (M,),
    visible_bias a (N,)), of dtype complex128 (or complex64). log ψ is complex; VMC needs
    SR(holomorphic=True) for it, and updates θ ← θ − lr·δθ with a complex δθ.
    """

    def __init__(self, N: int, alpha: int = 1, use_visible_bias: bool = True, dtype: Any = tc.complex128) -> None:
        """Real and imaginary parts drawn from N(0, 0.01²/2) each (|θ|² has mean 0.01², NetKet's complex normal)."""
        super().__init__()
        _check_sizes("ComplexRBM", N, alpha=alpha)
        dtype = dtypes.as_dtype(dtype, "ComplexRBM")
        if dtype.kind != "c":
            raise TypeError(f"ComplexRBM: dtype must be tc.complex64 or tc.complex128, got {dtype}; "
                            "for real parameters use RBM")
        self.N = N
        self.kernel = nn.Parameter(_complex_normal((N, alpha * N), dtype))
        self.hidden_bias = nn.Parameter(_complex_normal((alpha * N,), dtype))
        self.visible_bias = nn.Parameter(_complex_normal((N,), dtype)) if use_visible_bias else None

    def forward(self, s: tc.Tensor) -> tc.Tensor:
        """log ψ (complex) of each row of s (B, N), a real tensor of ±1."""
        _check_input("ComplexRBM", s, self.N)
        out = complex_log_cosh(s @ self.kernel + self.hidden_bias).sum(-1)
        return out if self.visible_bias is None else out + (s * self.visible_bias).sum(-1)


class Jastrow(nn.Module):
    """Two-body Jastrow factor: log ψ(σ) = Σ_{i<j} σᵢ Jᵢⱼ σⱼ, one weight per pair (kernel, N(N−1)/2)."""

    def __init__(self, N: int, dtype: Any = tc.float64) -> None:
        """Weights drawn from N(0, 0.01²) by tc's generator."""
        super().__init__()
        _check_sizes("Jastrow", N)
        self.N = N
        self._i, self._j = np.triu_indices(N, k=1)  # the pairs i < j, in the order of kernel
        self.kernel = nn.Parameter(tc.randn(len(self._i), dtype=dtype) * INIT_STD)

    def forward(self, s: tc.Tensor) -> tc.Tensor:
        """log ψ of each row of s (B, N)."""
        _check_input("Jastrow", s, self.N)
        return (s[:, self._i] * s[:, self._j] * self.kernel).sum(-1)


class MLPAnsatz(nn.Module):
    """A tanh multilayer perceptron with a sum readout: log ψ(σ) = Σ_k h_k, h = tanh(W_L … tanh(W_1 σ + b_1) … + b_L)."""

    def __init__(self, N: int, hidden: int | Sequence[int], dtype: Any = tc.float64) -> None:
        """hidden: the width of each layer (an int for one layer); nn.Linear's default (Kaiming-uniform) init."""
        super().__init__()
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        _check_sizes("MLPAnsatz", N, *widths)
        self.N = N
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip([N] + widths[:-1], widths):
            layers += [nn.Linear(fan_in, fan_out, dtype=dtype), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, s: tc.Tensor) -> tc.Tensor:
        """log ψ of each row of s (B, N)."""
        _check_input("MLPAnsatz", s, self.N)
        return self.layers(s).sum(-1)


def numpy_log_psi(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """The model as a numpy function: configs (B, N) of ±1 → log ψ (B,), without recording a graph.

    The configurations are given to the model as real tensors of its parameters' (real) dtype:
    float64 for float64 or complex128 parameters; log ψ is complex for complex parameters.
    """
    dtype = config_dtype(model)

    def log_psi(configs: np.ndarray) -> np.ndarray:
        # from_numpy on the converted array (a copy when the dtype differs): no second copy per call,
        # which the sampler makes N times per sweep.
        with tc.no_grad():
            return model(tc.from_numpy(np.asarray(configs, dtype=dtype))).numpy()

    return log_psi


def config_dtype(model: nn.Module) -> np.dtype:
    """The real dtype in which configurations are fed to the model: its first parameter's, made real."""
    first = next(iter(model.parameters()), None)
    return tc.float64 if first is None else dtypes.to_real(first.dtype)


def _complex_normal(shape: tuple[int, ...], dtype: np.dtype) -> tc.Tensor:
    part = dtypes.to_real(dtype)
    scale = INIT_STD / math.sqrt(2)
    return tc.complex(tc.randn(*shape, dtype=part) * scale, tc.randn(*shape, dtype=part) * scale).to(dtype)


def _check_sizes(who: str, N: int, *widths: int, alpha: int = 1) -> None:
    for name, value in [("N", N), ("alpha", alpha)] + [("hidden", w) for w in widths]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{who}: {name} must be a positive integer, got {value!r}")


def _check_input(who: str, s: tc.Tensor, N: int) -> None:
    # s.shape is one sample's shape inside vmap, so this check runs there too.
    if s.ndim != 2 or s.shape[-1] != N:
        raise ValueError(f"{who}: expected configurations of shape (B, {N}), got {tuple(s.shape)}")
