"""The one seeded random generator that every random factory and layer draws from."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

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
    """The global numpy Generator (reseeded by `manual_seed`); refused inside `forbidden(True, …)`."""
    if _forbidden_by:
        raise RuntimeError(
            f"{_forbidden_by[-1]}: a random op was called; pass randomness='different' (independent "
            "draws per sample) or 'same' (one draw for the batch)"
        )
    return _generator


# Who forbids random draws at the moment (vmap with randomness='error'), innermost last.
_forbidden_by: list[str] = []


@contextlib.contextmanager
def forbidden(active: bool, reason: str) -> Iterator[None]:
    """Within the block, when `active`, every random draw raises a RuntimeError naming `reason`."""
    if active:
        _forbidden_by.append(reason)
    try:
        yield
    finally:
        if active:
            _forbidden_by.pop()
