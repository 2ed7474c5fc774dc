"""Shared test helpers: the `engine` fixture (core tests run on both engines) and float64 leaves."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import autograd

ENGINES = ("fast", "reference")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: a long run (the full demo); deselect with -m 'not slow'")
    config.addinivalue_line(
        "markers", "fast_engine_only: checks a shortcut of the fast engine (e.g. which arrays it reuses)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses the `engine` fixture once per engine (fast_engine_only: fast alone)."""
    if "engine" in metafunc.fixturenames:
        only_fast = metafunc.definition.get_closest_marker("fast_engine_only") is not None
        metafunc.parametrize("engine", ENGINES[:1] if only_fast else ENGINES, indirect=True)


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> Iterator[str]:
    """Select an engine for the test (parametrized over both), then restore the one in use before."""
    before = autograd.get_engine()
    autograd.set_engine(request.param)
    try:
        yield request.param
    finally:
        autograd.set_engine(before)


def float64_leaf(values: object) -> tc.Tensor:
    """A float64 leaf that requires grad (what gradcheck needs)."""
    return tc.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def random_leaf(*shape: int, seed: int = 0, scale: float = 1.0) -> tc.Tensor:
    """A float64 leaf of standard normal values times `scale`, reproducible by `seed`."""
    return float64_leaf(np.random.default_rng(seed).standard_normal(shape) * scale)
