"""Continuous-space VMC for coupled oscillators: exact E₀, the local energy's Laplacian path, the quick run."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.lessons.experiments import oscillators
from tinygrad_course.physics.continuous import ContinuousVMC, CoupledOscillators, GaussianAnsatz, MetropolisGaussian

QUICK_TOLERANCE = 1e-6  # relative error the quick run (d = 6, 20 SR steps) must reach; it gets ~1e-8


def ring_matrix(d: int, omega0: float, k: float) -> np.ndarray:
    """K of ½ xᵀKx = Σᵢ ½ω₀²xᵢ² + ½k(xᵢ − xᵢ₊₁)², built bond by bond (d = 2: the bond counted twice)."""
    K = omega0**2 * np.eye(d)
    for i in range(d):
        j = (i + 1) % d
        K[i, i] += k
        K[j, j] += k
        K[i, j] -= k
        K[j, i] -= k
    return K


def exact_ansatz(H: CoupledOscillators, hidden: int = 0) -> GaussianAnsatz:
    """A GaussianAnsatz set to the exact ground state, A = √K."""
    model = GaussianAnsatz(H.d, hidden=hidden)
    L = np.linalg.cholesky(H.ground_state_matrix() - model.eps * np.eye(H.d))
    with tc.no_grad():
        model.tril.copy_(tc.tensor(L[np.tril_indices(H.d)]))
    return model


@pytest.mark.parametrize(("d", "omega0", "k"), [(2, 1.0, 0.5), (3, 0.7, 2.0), (6, 1.0, 0.5), (20, 1.0, 0.5), (9, 2.0, 0.0)])
def test_exact_ground_energy_equals_diagonalisation(d, omega0, k):
    H = CoupledOscillators(d, omega0, k)
    K = ring_matrix(d, omega0, k)
    assert np.allclose(H.coupling, K, atol=1e-14)
    by_eigh = 0.5 * np.sqrt(np.linalg.eigvalsh(K)).sum()
    assert H.exact_ground_energy() == pytest.approx(by_eigh, rel=1e-13)
    assert np.allclose(np.sort(H.normal_modes()), np.sqrt(np.linalg.eigvalsh(K)), atol=1e-13)
    assert H.gaussian_energy(H.ground_state_matrix()) == pytest.approx(by_eigh, rel=1e-13)
    assert H.gaussian_energy(np.eye(d)) > by_eigh  # the variational principle


def test_potential_on_arrays_and_tensors():
    H = CoupledOscillators(5, omega0=1.3, k=0.4)
    x = np.random.default_rng(0).standard_normal((7, 5))
    by_sum = 0.5 * 1.3**2 * (x**2).sum(1) + 0.5 * 0.4 * ((x - np.roll(x, -1, axis=1)) ** 2).sum(1)
    assert np.allclose(H.potential(x), by_sum, atol=1e-12)
    v = H.potential(tc.tensor(x))
    assert isinstance(v, tc.Tensor) and np.allclose(v.numpy(), by_sum, atol=1e-12)


@pytest.mark.parametrize("method", ["forward", "backward"])
def test_local_energy_of_the_exact_ground_state_is_e0_at_every_sample(method):
    H = CoupledOscillators(8, omega0=1.0, k=0.5)
    x = 2.0 * np.random.default_rng(1).standard_normal((300, 8))  # far into the tails too
    e_loc = H.local_energy(exact_ansatz(H), x, method=method)
    assert e_loc.shape == (300,)
    assert np.max(np.abs(e_loc - H.exact_ground_energy())) < 1e-11  # zero variance


def test_local_energy_paths_agree_with_the_closed_form():
    tc.manual_seed(0)
    H = CoupledOscillators(5)
    model = GaussianAnsatz(5, hidden=4)
    rng = np.random.default_rng(2)
    with tc.no_grad():
        model.tril.add_(tc.tensor(0.3 * rng.standard_normal(model.tril.shape)))
    x = rng.standard_normal((50, 5))
    forward, backward = H.local_energy(model, x), H.local_energy(model, x, method="backward")
    A = model.matrix()  # the MLP correction is zero at the start: ψ Gaussian
    closed = 0.5 * np.trace(A) - 0.5 * np.einsum("bi,ij,jk,bk->b", x, A, A, x) + H.potential(x)
    assert np.allclose(forward, closed, atol=1e-11) and np.allclose(backward, closed, atol=1e-11)
    with tc.no_grad():  # a non-zero tanh correction: the two Laplacian paths still agree
        model.mlp[2].weight.copy_(tc.tensor(rng.standard_normal((1, 4))))
    assert np.allclose(H.local_energy(model, x), H.local_energy(model, x, method="backward"), atol=1e-10)


def test_log_derivatives_are_those_of_the_gaussian():
    H = CoupledOscillators(4)
    model = GaussianAnsatz(4)
    vmc = ContinuousVMC(model, H, MetropolisGaussian(4, n_chains=8, rng=0), n_samples=8)
    x = np.random.default_rng(3).standard_normal((6, 4))
    L = model.factor().detach().numpy()
    # ∂/∂L_ij of −½ |Lᵀx|² = −x_i (Lᵀx)_j, for the entries j ≤ i
    full = -x[:, :, None] * (x @ L)[:, None, :]
    rows, cols = np.tril_indices(4)
    assert np.allclose(vmc.log_derivatives(x), full[:, rows, cols], atol=1e-12)


def test_sampler_draws_the_gaussian_at_half_acceptance():
    A = np.array([[1.5, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 0.8]])
    sampler = MetropolisGaussian(3, n_chains=2000, step_size=3.0, rng=0)
    samples, acceptance = sampler.sample(lambda x: -0.5 * np.einsum("bi,ij,bj->b", x, A, x), 8000, n_discard=60, thin=3)
    assert samples.shape == (4, 2000, 3)
    assert abs(acceptance - 0.5) < 0.05
    cov = np.cov(samples.reshape(-1, 3).T)
    assert np.allclose(cov, np.linalg.inv(2 * A), atol=0.04)  # |ψ|² = exp(−xᵀAx): covariance (2A)⁻¹


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("oscillators")
    return out, oscillators.run(out, quick=True)


def test_quick_run_reaches_the_exact_energy(quick_run):
    _, result = quick_run
    assert result["d"] == 6 and result["iterations"] == oscillators.SIZES["quick"]["iterations"]
    assert result["relative_error"] <= QUICK_TOLERANCE
    assert result["energy_mc_error"] <= QUICK_TOLERANCE * result["energy_exact"]
    assert result["energy_exact"] == pytest.approx(CoupledOscillators(6, 1.0, 0.5).exact_ground_energy(), rel=1e-15)
    sr = result["sr"]
    assert sr["variance"][-1] < 1e-6 * sr["variance"][0]  # zero variance at the optimum
    assert result["adam"]["relative_error"] < 1e-2  # Adam gets there too, more slowly


def test_quick_run_writes_its_json_and_plot(quick_run):
    out, result = quick_run
    data = json.loads((out / "oscillators.json").read_text(encoding="utf-8"))
    assert list(data) == ["d", "omega0", "k", "iterations", "seconds", "energy_exact", "energy_mc",
                          "energy_mc_error", "relative_error"]
    assert data["relative_error"] == pytest.approx(result["relative_error"], rel=1e-12)
    assert (data["omega0"], data["k"]) == (oscillators.OMEGA0, oscillators.K)
    assert {p.name for p in result["files"]} == {"oscillators.json", "oscillators_energy.png"}
    assert (out / "oscillators_energy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_gets_a_clear_error():
    H = CoupledOscillators(4)
    model = GaussianAnsatz(4)
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        H.potential(np.zeros(4))
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        H.local_energy(model, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        model(tc.zeros(2, 3, dtype=tc.float64))
    with pytest.raises(ValueError, match="omega0 must be positive"):
        CoupledOscillators(4, omega0=0.0)
    with pytest.raises(ValueError, match="omega0 must be positive"):
        CoupledOscillators(4, omega0=-1.0)
    with pytest.raises(ValueError, match="d must be an integer ≥ 2"):
        CoupledOscillators(1)
    with pytest.raises(ValueError, match="k must be ≥ 0"):
        CoupledOscillators(4, k=-0.1)
    with pytest.raises(ValueError, match="must be finite"):
        CoupledOscillators(4, k=float("nan"))
    with pytest.raises(ValueError, match="method must be"):
        H.local_energy(model, np.zeros((3, 4)), method="fd")
    with pytest.raises(ValueError, match="log_psi must map"):
        MetropolisGaussian(4, n_chains=3, rng=0).sample(lambda x: x, 3)
    with pytest.raises(ValueError, match="must match"):
        ContinuousVMC(GaussianAnsatz(3), H, MetropolisGaussian(4, rng=0), n_samples=10)
