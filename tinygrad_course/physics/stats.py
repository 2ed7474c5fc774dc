"""Monte Carlo statistics of correlated chains (NetKet's `nk.stats.statistics` and `Stats`).

Samples from one Markov chain are correlated: the variance of their mean is σ²(1 + 2τ)/n, not
σ²/n, with τ the integrated autocorrelation time. Averages over independent blocks (the chains,
or consecutive batches of one chain) are nearly uncorrelated, so their spread gives an honest
error bar, and comparing it with σ²/n gives τ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Stats", "statistics"]

N_BATCHES = 32  # batch means for a single chain


@dataclass(frozen=True)
class Stats:
    """A Monte Carlo estimate: mean ± error_of_mean, the variance σ², τ_corr and split-R̂."""

    mean: complex | float
    error_of_mean: float
    variance: float
    tau_corr: float
    R_hat: float

    def __repr__(self) -> str:
        """'-12.34 ± 0.01 [σ²=0.53, R̂=1.0021]', the mean rounded to the error's second significant digit."""
        err = self.error_of_mean
        digits = max(0, 1 - math.floor(math.log10(err))) if math.isfinite(err) and err > 0 else 6
        if isinstance(self.mean, complex) or np.iscomplexobj(self.mean):
            mean = f"{self.mean.real:.{digits}f}{self.mean.imag:+.{digits}f}j"
        else:
            mean = f"{self.mean:.{digits}f}"
        return f"{mean} ± {err:.{digits}f} [σ²={self.variance:.{digits}f}, R̂={self.R_hat:.4f}]"


def statistics(values: np.ndarray) -> Stats:
    """Stats of samples (n_samples, n_chains) (one chain if 1-D): blocks are the chains, or 32 batches of one chain.

    error_of_mean = √(Var(block means)/n_blocks); τ_corr = ½(b·Var(block means)/σ² − 1) for blocks
    of b samples (≥ 0); R̂ = √(V̂/W), Gelman–Rubin on the chains split in halves (split-R̂: W the
    mean within-half variance, V̂ = (n−1)/n·W + Var(half means)); NaN where too few samples.
    """
    x = np.asarray(values)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.size == 0:
        raise ValueError(f"statistics: values must have shape (n_samples, n_chains) or (n_samples,), got {np.shape(values)}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"statistics: {int((~np.isfinite(x)).sum())} of {x.size} values are not finite")
    n, chains = x.shape
    mean = x.mean()
    variance = float(np.mean(np.abs(x - mean) ** 2))
    if chains > 1:  # each chain is a block
        blocks = x.mean(axis=0)
    else:  # consecutive batches of the single chain (the remainder is dropped)
        n_batches = min(N_BATCHES, n)
        b = n // n_batches
        blocks = x[: n_batches * b, 0].reshape(n_batches, b).mean(axis=1)
    size = n * chains / len(blocks)  # samples per block
    if len(blocks) > 1:
        block_var = float(np.sum(np.abs(blocks - blocks.mean()) ** 2) / (len(blocks) - 1))
        error = math.sqrt(block_var / len(blocks))
        tau = max(0.0, 0.5 * (size * block_var / variance - 1)) if variance > 0 else 0.0
    else:
        error = tau = float("nan")
    return Stats(mean=complex(mean) if np.iscomplexobj(x) else float(mean), error_of_mean=error,
                 variance=variance, tau_corr=tau, R_hat=_split_r_hat(x))


def _split_r_hat(x: np.ndarray) -> float:
    half = x.shape[0] // 2
    if half < 2:
        return float("nan")
    halves = np.concatenate([x[:half], x[half:2 * half]], axis=1)  # (half, 2·n_chains)
    within = float(np.mean(np.var(halves, axis=0, ddof=1)))  # W (np.var of complex: of |x − x̄|²)
    between = float(np.var(halves.mean(axis=0), ddof=1))  # B/n
    if within == 0:
        return float("nan") if between == 0 else float("inf")
    return math.sqrt(((half - 1) / half * within + between) / within)
