"""The experiments in --quick mode reproduce the lecture's lessons, with numbers; their JSON layouts."""

from __future__ import annotations

import json
import math
import sys

import numpy as np
import pytest

from tinygrad_course.lessons.experiments import backprop, ising, optimizers, overfitting


@pytest.fixture(scope="module")
def ising_cache(tmp_path_factory):
    """One Ising cache folder for the whole session (test_cli's demo finds its samples there too)."""
    return tmp_path_factory.getbasetemp() / "ising-cache"


def load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- overfitting
@pytest.fixture(scope="module")
def overfit(tmp_path_factory):
    out = tmp_path_factory.mktemp("overfitting")
    return out, overfitting.run(out, quick=True)


def row(results: list[dict], degree: int, n_train: int, weight_decay: float = 0.0) -> dict:
    (match,) = [r for r in results if (r["degree"], r["n_train"], r["weight_decay"]) == (degree, n_train, weight_decay)]
    return match


def test_overfitting_lessons(overfit):
    _, result = overfit
    results = result["results"]
    small_1, small_10 = row(results, 1, 10), row(results, 10, 10)
    # degree 10 fits the 10 training points best (exactly) and predicts worst
    assert small_10["train_mse"] < 1e-10 < small_1["train_mse"]
    assert small_10["test_mse"] > 2 * small_1["test_mse"]
    # more data: the gap between degree 10 and degree 1 on the test set shrinks, towards the noise floor 1
    large_1, large_10 = row(results, 1, 1000), row(results, 10, 1000)
    assert large_10["test_mse"] - large_1["test_mse"] < (small_10["test_mse"] - small_1["test_mse"]) / 5
    assert row(results, 10, 100)["test_mse"] < small_10["test_mse"] and abs(large_1["test_mse"] - 1) < 0.15
    # weight decay: the degree-10 test error falls at N_train = 10, at the price of a worse fit of the training set
    decayed = row(results, 10, 10, overfitting.WEIGHT_DECAY)
    assert decayed["test_mse"] < small_10["test_mse"] / 2 and decayed["train_mse"] > small_10["train_mse"]


def test_overfitting_json_and_plots(overfit):
    out, result = overfit
    data = load(out / "overfitting.json")
    assert list(data) == ["results"]
    assert len(data["results"]) == 12
    for entry in data["results"]:
        assert list(entry) == ["degree", "n_train", "weight_decay", "train_mse", "test_mse"]
    assert data["results"] == result["results"]
    assert {p.name for p in result["files"]} == {"overfitting.json", "overfitting_fits.png", "overfitting_mse.png"}
    assert (out / "overfitting_fits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("n", "degree"), [(10, 1), (10, 3), (10, 10), (100, 10)])
def test_polynomial_fit_matches_lstsq(n, degree):
    rng = np.random.default_rng(n + degree)
    x = np.linspace(0.05, 0.95, n)
    y = 2 * x + rng.standard_normal(n)
    coefficients = overfitting.fit_polynomial(x, y, degree)
    phi = overfitting.features(x, degree)._array
    # lstsq's minimum-norm solution: also what GD from w = 0 converges to when degree + 1 > n
    expected = np.linalg.lstsq(phi, y, rcond=None)[0]
    assert np.max(np.abs(coefficients - expected)) < 1e-10


def test_polynomial_fit_with_weight_decay_is_ridge_regression():
    rng = np.random.default_rng(0)
    x = np.linspace(0.05, 0.95, 10)
    y = 2 * x + rng.standard_normal(10)
    phi = overfitting.features(x, 10)._array
    # minimum of (1/N)‖Φw − y‖² + (λ/2)‖w‖²: (2/N ΦᵀΦ + λ I) w = 2/N Φᵀ y
    expected = np.linalg.solve(2 / 10 * phi.T @ phi + 0.1 * np.eye(11), 2 / 10 * phi.T @ y)
    assert np.max(np.abs(overfitting.fit_polynomial(x, y, 10, weight_decay=0.1) - expected)) < 1e-10


def test_legendre_features_are_orthonormal_on_the_unit_interval():
    x = (np.arange(20000) + 0.5) / 20000  # midpoint rule on [0, 1]
    phi = overfitting.features(x, 10)._array
    assert np.allclose(phi.T @ phi / len(x), np.eye(11), atol=1e-6)


# ----------------------------------------------------------------------------- optimizers
@pytest.fixture(scope="module")
def optimizer_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("optimizers")
    return out, optimizers.run(out, quick=True)


def steps(value: int | None) -> float:
    return math.inf if value is None else value


def test_momentum_and_adam_cross_the_valley_faster_than_plain_sgd(optimizer_run):
    _, result = optimizer_run
    valley = result["valley"]["steps_to_target"]
    for fast in ("momentum", "nesterov", "adam"):
        assert valley[fast] is not None
        assert valley[fast] < steps(valley["sgd"]) and valley[fast] < steps(valley["gd"])
    assert result["valley"]["final_loss"]["momentum"] < result["valley"]["final_loss"]["gd"] / 10


def test_mini_batches_and_momentum_train_the_mlp_in_fewer_epochs(optimizer_run):
    _, result = optimizer_run
    epochs = result["epochs_to_target"]
    assert epochs["sgd"] is not None and epochs["sgd"] < steps(epochs["gd"])  # many steps per epoch beat one
    for fast in ("momentum", "nesterov", "rmsprop", "adam"):
        assert epochs[fast] is not None and epochs[fast] < epochs["sgd"]


def test_optimizers_json_layout(optimizer_run):
    out, result = optimizer_run
    data = load(out / "optimizers.json")
    assert list(data) == ["epochs_to_target", "final_loss"]
    names = ["gd", "sgd", "momentum", "nesterov", "rmsprop", "adam"]
    assert list(data["epochs_to_target"]) == names and list(data["final_loss"]) == names
    assert data["epochs_to_target"] == result["epochs_to_target"]
    assert all(isinstance(v, float) and v > 0 for v in data["final_loss"].values())
    assert {p.name for p in result["files"]} == {"optimizers.json", "optimizers_valley.png", "optimizers_two_moons.png"}


def test_rosenbrock_and_first_below():
    import tinygrad_course as tc

    assert optimizers.rosenbrock(tc.tensor([1.0, 1.0])).item() == 0.0
    assert optimizers.rosenbrock(tc.tensor([-1.0, 2.0])).item() == pytest.approx(4 + 100)
    assert optimizers.first_below([3.0, 2.0, 0.5, 0.1], 1.0) == 3
    assert optimizers.first_below([3.0, 2.0], 1.0) is None


# ----------------------------------------------------------------------------- backprop
def test_backprop_by_hand_equals_autograd(tmp_path):
    result = backprop.run(tmp_path, quick=True)
    assert result["max_abs_diff"] <= 1e-12
    data = load(tmp_path / "backprop.json")
    assert list(data) == ["max_abs_diff", "per_parameter"]
    assert list(data["per_parameter"]) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert max(data["per_parameter"].values()) == data["max_abs_diff"] <= 1e-12


def test_backprop_numpy_catches_a_wrong_gradient():
    # the comparison can fail: perturb one weight on the numpy side only
    import tinygrad_course as tc
    from tinygrad_course import nn

    tc.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(4, 6, dtype=tc.float64),
        nn.Sigmoid(),
        nn.Linear(6, 5, dtype=tc.float64),
        nn.Tanh(),
        nn.Linear(5, 3, dtype=tc.float64),
        nn.Sigmoid(),
    )
    x, y = np.random.default_rng(0).standard_normal((8, 4)), np.random.default_rng(1).random((8, 3))
    linears = [model[0], model[2], model[4]]
    weights = [m.weight._array.T.copy() for m in linears]
    weights[1][0, 0] += 1e-3
    by_hand = backprop.backprop_numpy(x, y, weights, [m.bias._array for m in linears])
    by_engine = backprop.backprop_autograd(x, y, model)
    assert np.max(np.abs(by_hand["W1"] - by_engine["W1"])) > 1e-9


# ----------------------------------------------------------------------------- ising
@pytest.fixture(scope="module")
def ising_run(tmp_path_factory, ising_cache):
    out = tmp_path_factory.mktemp("ising")
    return out, ising.run(out, quick=True, cache_dir=ising_cache)


def test_ising_quick_estimate_within_3_percent_of_onsager(ising_run):
    _, result = ising_run
    assert result["L"] == 16
    assert abs(result["relative_error"]) < 0.03
    assert result["tc_estimate"] == pytest.approx(result["tc_exact"] * (1 + result["relative_error"]), rel=1e-12)
    p = result["p_ordered"][16]
    assert p[0] > 0.9 and p[-1] < 0.1  # ordered at T = 1.8, disordered at T = 2.8


def test_ising_json_layout(ising_run):
    out, result = ising_run
    data = load(out / "ising.json")
    assert list(data) == ["L", "tc_estimate", "tc_exact", "relative_error"]  # one size: no finite_size entry
    assert data["tc_exact"] == pytest.approx(2 / math.log(1 + math.sqrt(2)), abs=1e-15)
    assert {p.name for p in result["files"]} == {"ising.json", "ising_phases.png", "ising_configurations.png"}


def test_ising_training_temperatures_stay_away_from_the_transition():
    assert np.min(np.abs(ising.TRAIN_TEMPERATURES - ising.TC_EXACT)) >= ising.GAP - 1e-12
    below = ising.TRAIN_TEMPERATURES < ising.TC_EXACT
    assert below.sum() == (~below).sum() == 15
    assert ising.EVAL_TEMPERATURES[0] == 1.8 and ising.EVAL_TEMPERATURES[-1] == 2.8


def test_crossing_and_extrapolation_on_exact_curves():
    t = np.linspace(1.8, 2.8, 41)
    line = np.clip(0.5 - 2.0 * (t - 2.3), 0, 1)  # a straight slope through ½ at T = 2.3
    assert ising.crossing(t, line) == pytest.approx(2.3, abs=1e-12)
    steep = np.where(t < 2.31, 1.0, 0.0)  # no point on the slope: the bracketing pair is used
    assert 2.275 <= ising.crossing(t, steep) <= 2.325
    assert math.isnan(ising.crossing(t, np.ones_like(t)))
    tc_inf, slope = ising.extrapolate([8, 16, 32], [2.3 + 0.4 / 8, 2.3 + 0.4 / 16, 2.3 + 0.4 / 32])
    assert (tc_inf, slope) == (pytest.approx(2.3, abs=1e-12), pytest.approx(0.4, abs=1e-10))
    # Weights 1/error: an uncertain small lattice pulls the fit less than a certain one.
    noisy = [2.3 + 0.4 / 8 - 0.05, 2.3 + 0.4 / 16, 2.3 + 0.4 / 32]
    equal, _ = ising.extrapolate([8, 16, 32], noisy)
    weighted, _ = ising.extrapolate([8, 16, 32], noisy, [1.0, 0.01, 0.01])
    assert abs(weighted - 2.3) < 0.002 < abs(equal - 2.3)
    # The bootstrap error of the crossing: zero when every configuration agrees, positive otherwise.
    same = np.repeat(line[:, None], 20, axis=1)
    assert ising.bootstrap_error(t, same, seed=0) < 1e-12
    rng = np.random.default_rng(0)
    spread = np.clip(same + rng.normal(0, 0.3, same.shape), 0, 1)
    assert 0.0 < ising.bootstrap_error(t, spread, seed=0) < 0.05


# ----------------------------------------------------------------------------- no matplotlib
def test_without_matplotlib_the_table_and_json_still_come(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    result = backprop.run(tmp_path, quick=True)
    out = capsys.readouterr().out
    assert "max |difference|" in out and "W3" in out  # the table
    assert "plots skipped: matplotlib is not installed" in out and "pip install tinygrad_course[examples]" in out
    assert [p.name for p in result["files"]] == ["backprop.json"]
    assert not list(tmp_path.glob("*.png"))
