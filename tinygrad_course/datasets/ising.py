"""Equilibrium configurations of the 2D Ising model, sampled locally and cached.

    >>> from tinygrad_course import datasets
    >>> data = datasets.ising(16, [1.5, 3.5], n_samples=4, cache=False, seed=0)
    >>> data.spins.shape, data.temperature.shape
    ((8, 16, 16), (8,))

Every chain starts from a random configuration (infinite temperature), at every temperature:
a sampler that starts ordered below T_c would hand a classifier the answer through its
starting point whenever equilibration is too short. Chains then run `n_equilibrate` sweeps;
one sweep is a checkerboard Metropolis sweep followed, if `cluster`, by a Swendsen–Wang
cluster update (see ising_mc.py). Each chain gives n_samples / n_chains samples,
`n_decorrelate` sweeps apart.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from tinygrad_course.datasets import ising_mc
from tinygrad_course.datasets.cache import cached
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.creation import from_numpy

TC_EXACT = 2.0 / math.log(1.0 + math.sqrt(2.0))
"""Onsager's critical temperature of the infinite square lattice, T_c = 2 / ln(1 + √2) ≈ 2.26919 (J = k_B = 1)."""

_FORMAT = 1  # bump when the sampler changes, so old cache files are not reused


class IsingSamples(NamedTuple):
    """Configurations `spins` (N, L, L) int8 of ±1 and the `temperature` (N,) float64 each was sampled at."""

    spins: Tensor
    temperature: Tensor


def _check_int(name: str, value: object, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"ising: {name} must be an int >= {low}, got {value!r}")
    return int(value)


def sample(
    L: int,
    temperatures: np.ndarray,
    n_samples: int,
    n_chains: int,
    n_equilibrate: int,
    n_decorrelate: int,
    cluster: bool,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Run n_chains chains per temperature, all at once; returns spins (T·n_samples, L, L) and their temperatures."""
    per_chain = n_samples // n_chains
    beta = np.repeat(1.0 / temperatures, n_chains)  # lattice b = t·n_chains + c
    spins = rng.integers(0, 2, size=(beta.size, L, L), dtype=np.int8)
    spins *= 2
    spins -= 1
    colours = ising_mc.checkerboard(L)

    def sweeps(n: int) -> None:
        for _ in range(n):
            ising_mc.metropolis_sweep(spins, beta, rng, colours)
            if cluster:
                ising_mc.swendsen_wang_step(spins, beta, rng)

    sweeps(n_equilibrate)
    taken = []
    for k in range(per_chain):
        if k:
            sweeps(n_decorrelate)
        taken.append(spins.copy())
    # (per_chain, T·n_chains, L, L) → (T, n_chains·per_chain, L, L): samples grouped by temperature.
    stacked = np.stack(taken).reshape(per_chain, temperatures.size, n_chains, L, L)
    out = stacked.transpose(1, 2, 0, 3, 4).reshape(temperatures.size * n_samples, L, L)
    return out, np.repeat(temperatures, n_samples)


def ising(
    L: int,
    temperatures: Sequence[float] | np.ndarray,
    n_samples: int = 100,
    *,
    n_chains: int | None = None,
    n_equilibrate: int = 50,
    n_decorrelate: int = 5,
    cluster: bool = True,
    seed: int | None = None,
    generator: np.random.Generator | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> IsingSamples:
    """`n_samples` configurations of the periodic L×L Ising model at each temperature (J = k_B = 1).

    Args:
        L: the lattice side, even (the checkerboard must tile the torus) and >= 4.
        temperatures: the temperatures T > 0; samples come out grouped by temperature in this order.
        n_samples: configurations per temperature.
        n_chains: independent chains per temperature (default n_samples: one sample per chain);
            must divide n_samples.
        n_equilibrate: sweeps from the random start before the first sample.
        n_decorrelate: sweeps between two samples of the same chain.
        cluster: follow each Metropolis sweep by a Swendsen–Wang update (needed near and below T_c).
        seed: seeds the sampler; None draws one from `generator` (default: the package's
            generator), so the result is reproducible under ``manual_seed``.
        cache: read and write ``ising-<hash>.npz`` in `cache_dir` (see datasets.cache), keyed by
            all of the above (the drawn seed included).
    """
    L = _check_int("L", L, 4)
    if L % 2:
        raise ValueError(f"ising: L must be even so that the checkerboard update tiles the periodic lattice, got L={L}")
    temps = np.asarray(temperatures, dtype=np.float64)
    if temps.ndim != 1 or temps.size == 0 or not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise ValueError(
            f"ising: temperatures must be a non-empty 1-d sequence of finite values > 0, got {temperatures!r}"
        )
    n_samples = _check_int("n_samples", n_samples, 1)
    n_chains = n_samples if n_chains is None else _check_int("n_chains", n_chains, 1)
    if n_samples % n_chains:
        raise ValueError(f"ising: n_chains={n_chains} must divide n_samples={n_samples}")
    n_equilibrate = _check_int("n_equilibrate", n_equilibrate, 0)
    n_decorrelate = _check_int("n_decorrelate", n_decorrelate, 1)
    if seed is None:
        seed = int((generator or _random.generator()).integers(2**63))
    seed = _check_int("seed", seed, 0)
    arguments = {
        "format": _FORMAT,
        "L": L,
        "temperatures": [float(t) for t in temps],
        "n_samples": n_samples,
        "n_chains": n_chains,
        "n_equilibrate": n_equilibrate,
        "n_decorrelate": n_decorrelate,
        "cluster": bool(cluster),
        "seed": seed,
    }

    def make() -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        spins, temperature = sample(L, temps, n_samples, n_chains, n_equilibrate, n_decorrelate, cluster, rng)
        return {"up": np.packbits(spins > 0, axis=-1), "temperature": temperature}

    arrays = cached("ising", arguments, make, cache_dir, use_cache=cache)
    spins = np.unpackbits(arrays["up"], axis=-1, count=L).view(np.int8)
    spins *= 2
    spins -= 1
    return IsingSamples(from_numpy(spins), from_numpy(arrays["temperature"]))
