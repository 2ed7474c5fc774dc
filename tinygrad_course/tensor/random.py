"""The seeded random generators: the global one that every random factory and layer draws from by
default, and `Generator` objects (PyTorch's ``torch.Generator``) that a factory's ``generator=`` uses
instead.

Every stream is numpy's PCG64, seeded with the seed itself, so runs are reproducible: the same seed
gives the same numbers (not PyTorch's numbers: only the distributions match). A generator's state
is a uint8 tensor (like PyTorch's) that `set_state` takes back to replay the stream from there.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_course.autograd import function as _function
from tinygrad_course.tensor import device as device_

# PyTorch's CPU generator also starts from a fixed seed, so runs are reproducible by default.
_DEFAULT_SEED = 67280421310721
_generator = np.random.default_rng(_DEFAULT_SEED)
_seed = _DEFAULT_SEED

# The state's bytes: a format byte, PCG64's 128-bit state and increment, its buffered 32-bit half
# (a flag and the value), and the seed the generator was last seeded with (two's complement, 16 bytes).
_STATE_FORMAT = 1
_STATE_BYTES = 1 + 16 + 16 + 1 + 4 + 16


def _check_seed(seed: Any, where: str) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"{where}: seed must be an int, got {type(seed).__name__}")
    return int(seed)


def _check_allowed() -> None:
    if _forbidden_by:
        raise RuntimeError(
            f"{_forbidden_by[-1]}: a random op was called; pass randomness='different' (independent "
            "draws per sample) or 'same' (one draw for the batch)"
        )


def manual_seed(seed: int) -> Generator:
    """Reseed the global generator so that every random op after it is reproducible; returns it
    (``tc.default_generator``), as PyTorch does. Raises TypeError for a seed that is not an int."""
    global _generator, _seed
    _seed = _check_seed(seed, "manual_seed")
    _generator = np.random.default_rng(_seed % 2**64)
    return default_generator


def initial_seed() -> int:
    """The seed the global generator was last seeded with."""
    return _seed


def seed() -> int:
    """Reseed the global generator with a fresh non-deterministic seed, and return that seed."""
    return default_generator.seed()


def generator() -> np.random.Generator:
    """The global numpy Generator (reseeded by `manual_seed`); refused inside `forbidden(True, …)`."""
    _check_allowed()
    return _generator


def rng(gen: Any = None) -> np.random.Generator:
    """The numpy Generator a ``generator=`` argument names: the global one for None, else the given
    `Generator`'s (a numpy Generator is accepted as is); refused inside `forbidden(True, …)` either way."""
    if gen is None:
        return generator()
    _check_allowed()
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a tc.Generator, got {type(gen).__name__}")


def _encode(bit_state: dict[str, Any], seed_value: int) -> np.ndarray:
    if bit_state.get("bit_generator") != "PCG64":
        raise RuntimeError(f"get_state: unsupported bit generator {bit_state.get('bit_generator')!r}")
    raw = (bytes([_STATE_FORMAT]) + bit_state["state"]["state"].to_bytes(16, "little")
           + bit_state["state"]["inc"].to_bytes(16, "little") + bytes([int(bit_state["has_uint32"])])
           + int(bit_state["uinteger"]).to_bytes(4, "little") + (seed_value % 2**128).to_bytes(16, "little"))
    return np.frombuffer(raw, dtype=np.uint8).copy()


def _decode(state: Any) -> tuple[dict[str, Any], int]:
    array = state._array if hasattr(state, "_array") else np.asarray(state)
    if array.dtype != np.uint8 or array.ndim != 1 or array.size != _STATE_BYTES or array[0] != _STATE_FORMAT:
        raise RuntimeError(
            f"set_state: expected a uint8 tensor of {_STATE_BYTES} bytes from get_state(), "
            f"got dtype {array.dtype}, shape {tuple(array.shape)}"
        )
    raw = array.tobytes()
    seed_value = int.from_bytes(raw[38:54], "little")
    bit_state = {
        "bit_generator": "PCG64",
        "state": {"state": int.from_bytes(raw[1:17], "little"), "inc": int.from_bytes(raw[17:33], "little")},
        "has_uint32": raw[33],
        "uinteger": int.from_bytes(raw[34:38], "little"),
    }
    return bit_state, seed_value - 2**128 if seed_value >= 2**127 else seed_value


class Generator:
    """A seedable random stream, PyTorch's ``torch.Generator``: pass it as ``generator=`` to any random
    factory or in-place fill to draw from it instead of the global generator (which it leaves alone).

        >>> g = tc.Generator().manual_seed(0)
        >>> a = tc.rand(3, generator=g)
        >>> bool((tc.rand(3, generator=tc.Generator().manual_seed(0)) == a).all())
        True

    A new generator starts from PyTorch's default seed, like the global one. Raises (on
    ``device=``) RuntimeError for any device but the CPU.
    """

    __slots__ = ("_own_rng", "_own_seed")

    def __init__(self, device: Any = "cpu") -> None:
        device_.check(device, "Generator")
        self._own_rng = np.random.default_rng(_DEFAULT_SEED)
        self._own_seed = _DEFAULT_SEED

    # The numpy stream and the seed (the global generator's live in this module's globals).
    @property
    def _rng(self) -> np.random.Generator:
        return self._own_rng

    @_rng.setter
    def _rng(self, value: np.random.Generator) -> None:
        self._own_rng = value

    @property
    def _seed(self) -> int:
        return self._own_seed

    @_seed.setter
    def _seed(self, value: int) -> None:
        self._own_seed = value

    @property
    def device(self) -> device_.device:
        """Where it draws: the CPU."""
        return device_.CPU

    def manual_seed(self, seed: int) -> Generator:
        """Reseed with `seed` (any int; used modulo 2^64); returns the generator itself."""
        value = _check_seed(seed, "Generator.manual_seed")
        self._rng, self._seed = np.random.default_rng(value % 2**64), value
        return self

    def seed(self) -> int:
        """Reseed with a fresh non-deterministic 64-bit seed, and return it."""
        value = secrets.randbits(64)
        self.manual_seed(value)
        return value

    def initial_seed(self) -> int:
        """The seed it was last seeded with."""
        return self._seed

    def get_state(self) -> Any:
        """The state as a uint8 tensor; `set_state` with it replays the stream from this point."""
        return _function.Tensor._make(_encode(self._rng.bit_generator.state, self._seed), None)

    def set_state(self, new_state: Any) -> Generator:
        """Restore a state from `get_state` (of this or any generator); returns the generator itself.
        Raises RuntimeError for anything else than such a state."""
        bit_state, seed_value = _decode(new_state)
        self._rng.bit_generator.state = bit_state
        self._seed = seed_value
        return self

    def __repr__(self) -> str:
        return f"<tc.Generator device=cpu initial_seed={self._seed}>"


class _GlobalGenerator(Generator):
    """The global generator seen as a `Generator` (``tc.default_generator``): it reads and writes
    this module's `_generator` and `_seed`, the ones `generator()` and `manual_seed` use."""

    __slots__ = ()

    @property
    def _rng(self) -> np.random.Generator:
        return _generator

    @_rng.setter
    def _rng(self, value: np.random.Generator) -> None:
        global _generator
        _generator = value

    @property
    def _seed(self) -> int:
        return _seed

    @_seed.setter
    def _seed(self, value: int) -> None:
        global _seed
        _seed = value


default_generator = _GlobalGenerator.__new__(_GlobalGenerator)


def get_rng_state() -> Any:
    """The global generator's state, a uint8 tensor for `set_rng_state`."""
    return default_generator.get_state()


def set_rng_state(new_state: Any) -> None:
    """Restore the global generator to a state from `get_rng_state` (or any `Generator.get_state`)."""
    default_generator.set_state(new_state)


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
