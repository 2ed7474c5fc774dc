"""Built-in data: the lecture's regression data, two moons, spirals, and the Ising sampler and its cache."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import datasets
from tinygrad_course.datasets import cache, ising_mc

# The package exports the function ising, which hides the module of the same name.
ising_module = importlib.import_module("tinygrad_course.datasets.ising")


# ----------------------------------------------------------------------------- regression, moons, spirals
def test_polynomial_regression_is_the_lectures_data():
    tc.manual_seed(0)
    x, y, x_test, y_test = datasets.polynomial_regression(10, 10, dtype=tc.float64)
    assert np.array_equal(x._array, np.linspace(0.05, 0.95, 10))
    # the lecture's order of draws: s = randn(N_train), then x_test = random(N_test), s_test = randn(N_test)
    rng = np.random.default_rng(0)
    s = rng.standard_normal(10)
    expected_x_test = rng.random(10)
    s_test = rng.standard_normal(10)
    assert np.allclose(y._array, 2 * x._array + s, rtol=0, atol=1e-15)
    assert np.allclose(x_test._array, expected_x_test, rtol=0, atol=1e-15)
    assert np.allclose(y_test._array, 2 * x_test._array + s_test, rtol=0, atol=1e-15)
    assert x.dtype == np.float64


def test_polynomial_regression_noise_statistics_and_default_dtype():
    tc.manual_seed(1)
    x, y, x_test, y_test = datasets.polynomial_regression(20000, 20000)
    assert x.dtype == np.float32
    s = y._array - 2 * x._array
    assert abs(s.mean()) < 0.03 and abs(s.std() - 1) < 0.03
    assert x_test._array.min() >= 0 and x_test._array.max() < 1 and abs(x_test._array.mean() - 0.5) < 0.01


def test_two_moons_lie_on_their_circles_without_noise():
    x, y = datasets.two_moons(101, noise=0.0, generator=np.random.default_rng(0))
    assert x.shape == (101, 2) and y.dtype == np.int64
    assert np.bincount(y._array).tolist() == [50, 51]
    top, bottom = x._array[y._array == 0], x._array[y._array == 1]
    assert np.allclose(np.hypot(top[:, 0], top[:, 1]), 1, atol=1e-6)
    assert np.allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1, atol=1e-6)
    assert top[:, 1].min() >= -1e-7 and bottom[:, 1].max() <= 0.5 + 1e-7


def test_two_moons_and_spirals_are_reproducible_under_manual_seed():
    tc.manual_seed(4)
    first = datasets.two_moons(50), datasets.spirals(60)
    tc.manual_seed(4)
    second = datasets.two_moons(50), datasets.spirals(60)
    for a, b in zip(first, second):
        assert np.array_equal(a[0]._array, b[0]._array) and np.array_equal(a[1]._array, b[1]._array)


def test_spirals_arms_without_noise():
    x, y = datasets.spirals(301, n_classes=3, noise=0.0, generator=np.random.default_rng(0))
    assert np.bincount(y._array).tolist() == [101, 100, 100]
    radius = np.hypot(x._array[:, 0], x._array[:, 1])
    assert np.isclose(radius.min(), 0.05, atol=1e-6) and np.isclose(radius.max(), 1.0, atol=1e-6)
    # on arm k the angle is 2π r + 2π k/3 (mod 2π)
    angle = np.arctan2(x._array[:, 1], x._array[:, 0])
    expected = 2 * np.pi * radius + 2 * np.pi * y._array / 3
    assert np.allclose(np.cos(angle - expected), 1, atol=1e-5)


def test_synthetic_bad_input():
    with pytest.raises(ValueError, match="polynomial_regression: n_train must be an int >= 1, got 0"):
        datasets.polynomial_regression(0)
    with pytest.raises(ValueError, match="two_moons: noise must be a finite number >= 0, got -1"):
        datasets.two_moons(10, noise=-1)
    with pytest.raises(ValueError, match="spirals: n_samples must be an int >= 4, got 3"):
        datasets.spirals(3, n_classes=4)
    with pytest.raises(ValueError, match="spirals: turns must be a finite number > 0"):
        datasets.spirals(10, turns=0)


# ----------------------------------------------------------------------------- Ising: the Monte Carlo kernels
def reference_components(right: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Plain union–find over the periodic bonds of one lattice: the smallest index in each component."""
    L = right.shape[0]
    parent = list(range(L * L))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(L):
        for j in range(L):
            here = i * L + j
            for active, there in ((right[i, j], i * L + (j + 1) % L), (down[i, j], ((i + 1) % L) * L + j)):
                if active:
                    a, b = find(here), find(there)
                    parent[max(a, b)] = min(a, b)
    return np.array([find(k) for k in range(L * L)]).reshape(L, L)


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_cluster_labels_match_plain_union_find(p):
    rng = np.random.default_rng(int(p * 10))
    right = rng.random((3, 6, 6)) < p
    down = rng.random((3, 6, 6)) < p
    labels = ising_mc.cluster_labels(right, down)
    for b in range(3):
        expected = reference_components(right[b], down[b]) + b * 36  # flat indices across the batch
        assert np.array_equal(labels[b], expected)


def test_energy_and_magnetization_of_known_states():
    up = np.ones((1, 4, 4), dtype=np.int8)
    stripes = np.ones((1, 4, 4), dtype=np.int8)
    stripes[0, :, ::2] = -1  # columns alternate: every horizontal bond broken, every vertical one intact
    checker = np.where(np.indices((4, 4)).sum(axis=0) % 2 == 0, 1, -1).astype(np.int8)[None]
    assert ising_mc.energy_per_spin(up).tolist() == [-2.0] and ising_mc.magnetization(up).tolist() == [1.0]
    assert ising_mc.energy_per_spin(stripes).tolist() == [0.0] and ising_mc.magnetization(stripes).tolist() == [0.0]
    assert ising_mc.energy_per_spin(checker).tolist() == [2.0]
    assert ising_mc.neighbour_sum(checker)[0, 0, 0] == -4


def exact_4x4(temperature: float) -> tuple[float, float]:
    """⟨E⟩/N and ⟨|m|⟩ of the periodic 4×4 lattice by summing over all 2¹⁶ configurations."""
    bits = (np.arange(2**16)[:, None] >> np.arange(16)) & 1
    spins = (2 * bits - 1).astype(np.int8).reshape(-1, 4, 4)
    energy = ising_mc.energy_per_spin(spins)
    m = np.abs(ising_mc.magnetization(spins))
    weight = np.exp(-16 * (energy - energy.min()) / temperature)
    weight /= weight.sum()
    return float(weight @ energy), float(weight @ m)


@pytest.mark.parametrize("cluster", [True, False])
@pytest.mark.parametrize("temperature", [1.8, 2.27, 3.0])
def test_sampler_matches_exact_enumeration_of_the_4x4_lattice(temperature, cluster):
    data = datasets.ising(
        4, [temperature], 4000, n_chains=1000, n_equilibrate=30, n_decorrelate=3, cluster=cluster, seed=11, cache=False
    )
    energy = ising_mc.energy_per_spin(data.spins._array)
    m = np.abs(ising_mc.magnetization(data.spins._array))
    exact_energy, exact_m = exact_4x4(temperature)
    # 5 standard errors (samples of one chain are a little correlated, hence not 3)
    assert abs(energy.mean() - exact_energy) < 5 * energy.std() / math.sqrt(energy.size)
    assert abs(m.mean() - exact_m) < 5 * m.std() / math.sqrt(m.size)


def test_chains_start_random_at_every_temperature():
    # no equilibration: the samples are the starting states, which must not depend on T
    data = datasets.ising(16, [0.5, 5.0], 200, n_equilibrate=0, seed=3, cache=False)
    m = ising_mc.magnetization(data.spins._array).reshape(2, 200)
    assert set(np.unique(data.spins._array).tolist()) == {-1, 1}
    assert np.all(np.abs(m.mean(axis=1)) < 0.02) and np.all(np.abs(m).mean(axis=1) < 0.1)


def test_cluster_updates_order_low_temperature_lattices_from_random_starts():
    spont = (1 - math.sinh(2 / 1.5) ** -4) ** 0.125  # Onsager's spontaneous magnetisation at T = 1.5
    with_clusters = datasets.ising(16, [1.5], 200, n_chains=50, n_equilibrate=20, seed=5, cache=False)
    m = np.abs(ising_mc.magnetization(with_clusters.spins._array))
    assert m.min() > 0.85 and abs(m.mean() - spont) < 0.01
    # single flips alone leave stripe domains (m ≈ 0) after the same number of sweeps
    single_flips = datasets.ising(16, [1.5], 200, n_chains=50, n_equilibrate=20, cluster=False, seed=5, cache=False)
    assert np.mean(np.abs(ising_mc.magnetization(single_flips.spins._array)) < 0.5) > 0.05


def test_samples_grouped_by_temperature():
    data = datasets.ising(4, [3.0, 1.0, 2.0], 8, n_chains=2, seed=0, cache=False)
    assert data.spins.shape == (24, 4, 4) and data.spins.dtype == np.int8
    assert data.temperature._array.tolist() == [3.0] * 8 + [1.0] * 8 + [2.0] * 8


def test_seed_none_is_reproducible_under_manual_seed():
    runs = []
    for _ in range(2):
        tc.manual_seed(9)
        runs.append(datasets.ising(8, [2.0], 4, n_equilibrate=2, cache=False).spins._array)
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], datasets.ising(8, [2.0], 4, n_equilibrate=2, cache=False).spins._array)


# ----------------------------------------------------------------------------- Ising: the cache
def test_cache_file_is_written_once_and_read_back(tmp_path, monkeypatch):
    kwargs = {"n_equilibrate": 3, "seed": 1, "cache_dir": tmp_path}
    first = datasets.ising(8, [1.5, 3.0], 6, **kwargs)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 1 and files[0].startswith("ising-") and files[0].endswith(".npz")  # no temporary file left

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled again although the cache holds these arguments")

    monkeypatch.setattr(ising_module, "sample", no_sampling)
    again = datasets.ising(8, [1.5, 3.0], 6, **kwargs)
    assert np.array_equal(first.spins._array, again.spins._array)
    assert np.array_equal(first.temperature._array, again.temperature._array)
    with pytest.raises(AssertionError, match="sampled again"):
        datasets.ising(8, [1.5, 3.0], 6, n_equilibrate=4, seed=1, cache_dir=tmp_path)  # other arguments, other file


def test_damaged_or_foreign_cache_file_is_regenerated(tmp_path):
    kwargs = {"n_equilibrate": 3, "seed": 2, "cache_dir": tmp_path}
    fresh = datasets.ising(8, [2.0], 4, cache=False, n_equilibrate=3, seed=2)
    (path,) = tmp_path.iterdir() if any(tmp_path.iterdir()) else (None,)
    assert path is None  # cache=False wrote nothing
    datasets.ising(8, [2.0], 4, **kwargs)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not a zip file")
    assert np.array_equal(datasets.ising(8, [2.0], 4, **kwargs).spins._array, fresh.spins._array)
    np.savez(path, up=np.zeros(3, dtype=np.uint8))  # readable, but no key: not ours
    assert np.array_equal(datasets.ising(8, [2.0], 4, **kwargs).spins._array, fresh.spins._array)


def test_default_cache_dir_lookup_order(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYGRAD_COURSE_CACHE", str(tmp_path / "explicit"))
    assert cache.default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("TINYGRAD_COURSE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "xdg" / "tinygrad_course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.default_cache_dir() == tmp_path / "home" / ".cache" / "tinygrad_course"


def test_unwritable_cache_warns_and_still_returns_data(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.warns(UserWarning, match="could not write the cache file"):
        data = datasets.ising(4, [2.0], 2, n_equilibrate=1, seed=0, cache_dir=blocker / "sub")
    assert data.spins.shape == (2, 4, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"L": 7}, "L must be even so that the checkerboard update tiles the periodic lattice, got L=7"),
        ({"L": 2}, "L must be an int >= 4, got 2"),
        ({"temperatures": [2.0, 0.0]}, "temperatures must be a non-empty 1-d sequence of finite values > 0"),
        ({"temperatures": []}, "temperatures must be a non-empty"),
        ({"n_samples": 6, "n_chains": 4}, "n_chains=4 must divide n_samples=6"),
        ({"n_decorrelate": 0}, "n_decorrelate must be an int >= 1, got 0"),
        ({"seed": -1}, "seed must be an int >= 0, got -1"),
    ],
)
def test_ising_bad_input(kwargs, message):
    arguments = {"L": 4, "temperatures": [2.0], "n_samples": 4, "cache": False, **kwargs}
    with pytest.raises(ValueError, match=f"ising: {message}"):
        datasets.ising(**arguments)


def test_onsager_temperature():
    assert datasets.TC_EXACT == pytest.approx(2.269185314213022, abs=1e-15)
