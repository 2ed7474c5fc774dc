"""The one seeded random generator that every random factory and layer draws from."""

from __future__ import annotations

import numpy as np

# PyTorch's CPU generator also starts from a fixed seed, so runs are reproducible by default.
_DEFAULT_SEED = 67280421310721
_generator = np.random.default_rng(_DEFAULT_SEED)
_seed = _DEFAULT_SEED


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed the global generator so that every random op after it is reproducible."""
    global _generator, _seed
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _seed = int(seed)
    _generator = np.random.default_rng(_seed % 2**64)
    return _generator


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return _seed


def generator() -> np.random.Generator:
    """The global numpy Generator (reseeded by `manual_seed`)."""
    return _generator
