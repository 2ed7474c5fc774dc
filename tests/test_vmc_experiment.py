"""The VMC experiment and the complex RBM: the quick TFIM run meets its target and writes its files; the
complex RBM's log-derivatives O against finite differences; a complex SR step lowers the Heisenberg
energy towards Lanczos'; clear errors for complex parameters given to real-only code."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import physics as ph
from tinygrad_course.lessons.experiments import vmc

KEYS = ["model", "N", "h", "alpha", "iterations", "seconds", "energy_exact", "energy_variational", "energy_mc",
        "energy_mc_error", "relative_error"]


def load(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------- the experiment


@pytest.fixture(scope="module")
def quick_tfim(tmp_path_factory):
    out = tmp_path_factory.mktemp("vmc")
    return out, vmc.run(out, quick=True, seed=0)


def test_quick_tfim_meets_its_target(quick_tfim):
    _, result = quick_tfim
    assert result["N"] == 8 and result["model"] == "tfim"
    assert result["relative_error"] <= 2e-3
    assert result["seconds"] <= 5
    assert result["energy_exact"] == pytest.approx(ph.tfim_ground_energy(8, 1.0))
    # variational: never below E₀; the Monte Carlo estimate agrees with the exact sum
    assert result["energy_variational"] >= result["energy_exact"] - 1e-10
    assert result["mc_within_3_sigma"]
    assert len(result["energies"]) == result["iterations"]


def test_quick_tfim_writes_the_json_and_the_plot(quick_tfim):
    out, result = quick_tfim
    data = load(out / "vmc.json")
    assert list(data) == KEYS
    assert data["model"] == "tfim" and data["N"] == 8 and data["h"] == 1.0 and data["alpha"] == 1
    for key in KEYS[3:]:
        assert isinstance(data[key], (int, float)) and math.isfinite(data[key]), key
    assert data["relative_error"] == pytest.approx(
        abs(data["energy_variational"] - data["energy_exact"]) / abs(data["energy_exact"]))
    assert {p.name for p in result["files"]} == {"vmc.json", "vmc_energy.png"}
    assert (out / "vmc_energy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_schedules_run_from_start_to_end():
    assert vmc.schedule(0, 11, 0.1, 0.01) == pytest.approx(0.1)
    assert vmc.schedule(10, 11, 0.1, 0.01) == pytest.approx(0.01)
    assert vmc.schedule(5, 11, 0.1, 0.01) == pytest.approx(0.055)  # the cosine's midpoint
    assert vmc.schedule(5, 11, 0.01, 1e-4, geometric=True) == pytest.approx(1e-3)


@pytest.mark.parametrize("kwargs, match", [({"model": "xxz"}, "model must be one of 'tfim', 'heisenberg'"),
                                           ({"model": "heisenberg", "N": 9}, "even N"),
                                           ({"N": 17}, "3 ≤ N ≤ 16"), ({"N": 2}, "3 ≤ N ≤ 16"),
                                           ({"N": 8.0}, "N must be an integer")])
def test_experiment_rejects_bad_input(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        vmc.run(tmp_path, quick=True, **kwargs)


@pytest.mark.slow
def test_tfim_n12_meets_its_target(tmp_path):
    result = vmc.run(tmp_path, seed=0)
    assert result["N"] == 12 and result["relative_error"] <= 2e-4 and result["mc_within_3_sigma"]
    assert result["seconds"] <= 30


@pytest.mark.slow
def test_heisenberg_complex_rbm_learns_the_signs(tmp_path):
    result = vmc.run(tmp_path, seed=0, model="heisenberg")
    assert result["N"] == 10 and result["relative_error"] <= 1e-3 and result["mc_within_3_sigma"]
    assert result["seconds"] <= 120
    assert load(tmp_path / "vmc.json")["h"] is None


# ---------------------------------------------------------------- the complex RBM


def scaled_complex_rbm(N: int, alpha: int, seed: int, scale: float) -> ph.ComplexRBM:
    tc.manual_seed(seed)
    model = ph.ComplexRBM(N, alpha=alpha)
    with tc.no_grad():
        for p in model.parameters():
            p.mul_(scale)  # |θ| ~ 0.01·scale: log cosh far from its quadratic start
    return model


def test_complex_log_cosh_is_holomorphic_and_stable():
    z = np.array([0.3 + 0.2j, -1.5 + 0.7j, 2.0 - 3.0j, -0.1 - 1.2j])
    got = ph.complex_log_cosh(tc.tensor(z)).numpy()
    diff = got - np.log(np.cosh(z))
    assert np.allclose(diff.real, 0, atol=1e-12)
    assert np.allclose(np.angle(np.exp(1j * diff.imag)), 0, atol=1e-12)  # the same ψ: equal up to 2πi·k
    big = ph.complex_log_cosh(tc.tensor(np.array([800 + 1j, -900 - 2j]))).numpy()
    assert np.allclose(big, [800 + 1j - math.log(2), 900 + 2j - math.log(2)])  # cosh itself overflows here
    # grad of Re f is conj f′ (tc's convention), f′ = tanh
    w = tc.tensor(z, requires_grad=True)
    ph.complex_log_cosh(w).real.sum().backward()
    assert np.allclose(w.grad.numpy(), np.conj(np.tanh(z)))
    real = ph.complex_log_cosh(tc.tensor([-3.0, 0.5], dtype=tc.float64)).numpy()
    assert np.allclose(real, np.log(np.cosh([-3.0, 0.5])))


def test_complex_rbm_computes_its_formula():
    model = scaled_complex_rbm(5, 2, seed=1, scale=40.0)
    assert model.kernel.dtype == tc.complex128 and model.kernel.shape == (5, 10)
    s = np.random.default_rng(2).choice([-1.0, 1.0], size=(9, 5))
    W, b, a = (p.detach().numpy() for p in (model.kernel, model.hidden_bias, model.visible_bias))
    got = ph.numpy_log_psi(model)(s)
    expected = s @ a + np.log(np.cosh(s @ W + b)).sum(1)
    assert np.allclose(got.real, expected.real) and np.allclose(np.exp(1j * got.imag), np.exp(1j * expected.imag))
    tc.manual_seed(3)
    init = ph.ComplexRBM(20).kernel.detach().numpy()
    assert 0.005 < init.real.std() < 0.01 and 0.005 < init.imag.std() < 0.01  # 0.01/√2 per part


def test_complex_rbm_log_derivatives_match_finite_differences():
    N = 6
    model = scaled_complex_rbm(N, 1, seed=4, scale=30.0)
    hilbert = ph.Spin(N, total_sz=0)
    driver = ph.VMC(model, ph.Heisenberg(hilbert, ph.Chain(N)), ph.MetropolisExchange(hilbert, ph.Chain(N), rng=0),
                    ph.SR(holomorphic=True), lr=0.01, n_samples=16)
    configs = hilbert.random_state(7, np.random.default_rng(5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no vmap fallback to a loop over the samples
        O = driver._log_derivatives(configs)
    assert O.shape == (7, N * N + N + N) and O.dtype == np.complex128
    log_psi = ph.numpy_log_psi(model)
    params = list(model.parameters())
    flat = [(p, idx) for p in params for idx in np.ndindex(*p.shape)]
    eps = 1e-6
    for k in (0, 7, 20, N * N + 1, N * N + N + 3):  # kernel, hidden_bias, visible_bias entries
        p, idx = flat[k]
        # holomorphic: the same f′ along the real and the imaginary axis (Cauchy–Riemann)
        for step in (eps, 1j * eps):
            with tc.no_grad():
                p[idx] = p[idx] + step
                up = log_psi(configs)
                p[idx] = p[idx] - 2 * step
                down = log_psi(configs)
                p[idx] = p[idx] + step
            numeric = (up - down) / (2 * step)
            assert np.allclose(O[:, k], numeric, atol=1e-7), (k, step)
    # and the formulas: ∂/∂W_ij = σ_i tanh(z_j), ∂/∂b_j = tanh(z_j), ∂/∂a_i = σ_i
    s = configs.astype(float)
    th = np.tanh(s @ model.kernel.detach().numpy() + model.hidden_bias.detach().numpy())
    expected = np.concatenate([(s[:, :, None] * th[:, None, :]).reshape(7, -1), th, s], axis=1)
    assert np.allclose(O, expected, atol=1e-12)


def test_complex_sr_steps_lower_the_heisenberg_energy_towards_lanczos():
    N, seed = 4, 2
    tc.manual_seed(seed)
    hilbert, graph = ph.Spin(N, total_sz=0), ph.Chain(N)
    H = ph.Heisenberg(hilbert, graph)
    E0 = ph.lanczos_ground_energy(H)
    model = ph.ComplexRBM(N)
    driver = ph.VMC(model, H, ph.MetropolisExchange(hilbert, graph, n_chains=50, rng=seed),
                    ph.SR(0.1, holomorphic=True), lr=0.05, n_samples=500)
    energies = [ph.exact_energy(model, H)]
    for _ in range(35):
        energy = driver.step()
        assert isinstance(energy.mean, float)  # Re E_loc
        energies.append(ph.exact_energy(model, H))
    # near the uniform state (E = +N, the top of the spectrum), then down to E₀ = −2N: the signs were learned
    assert energies[0] > 3.9 and energies[1] < energies[0]
    assert energies[-1] < energies[10] < energies[0]
    assert abs(energies[-1] - E0) / abs(E0) < 1e-3
    assert model.kernel.dtype == tc.complex128 and np.abs(model.visible_bias.detach().numpy().imag).max() > 0.3


# ---------------------------------------------------------------- complex parameters, real-only code


def test_complex_ansatz_needs_holomorphic_sr():
    hilbert = ph.Spin(4, total_sz=0)
    H, sampler = ph.Heisenberg(hilbert, ph.Chain(4)), ph.MetropolisExchange(hilbert, ph.Chain(4))
    with pytest.raises(ValueError, match=r"complex parameters \(kernel: complex128\).*needs SR\(holomorphic=True\).*"
                                         r"accepts real parameters \(float32/float64\) only"):
        ph.VMC(ph.ComplexRBM(4), H, sampler, ph.SR(), lr=0.1, n_samples=10)
    with pytest.raises(ValueError, match=r"SR\(holomorphic=True\) needs complex parameters.*real \(kernel: float64\)"):
        ph.VMC(ph.RBM(4), H, sampler, ph.SR(holomorphic=True), lr=0.1, n_samples=10)
    mixed = ph.RBM(4)
    mixed.visible_bias = tc.nn.Parameter(tc.zeros(4, dtype=tc.complex128))
    with pytest.raises(ValueError, match=r"mixes complex parameters \(visible_bias\) with real ones"):
        ph.VMC(mixed, H, sampler, ph.SR(holomorphic=True), lr=0.1, n_samples=10)
    # converted after the driver was built: the next step refuses
    model = ph.ComplexRBM(4)
    driver = ph.VMC(model, H, sampler, ph.SR(holomorphic=True), lr=0.1, n_samples=10)
    driver.sr = ph.SR()
    with pytest.raises(ValueError, match=r"needs SR\(holomorphic=True\)"):
        driver.step()


def test_real_only_code_refuses_complex_parameters():
    with pytest.raises(TypeError, match="RBM: dtype must be tc.float32 or tc.float64.*use ComplexRBM"):
        ph.RBM(4, dtype=tc.complex128)
    with pytest.raises(TypeError, match="ComplexRBM: dtype must be tc.complex64 or tc.complex128.*use RBM"):
        ph.ComplexRBM(4, dtype=tc.float64)
    with pytest.raises(TypeError, match=r"log_cosh: real input only \(float32 or float64\).*complex_log_cosh"):
        ph.log_cosh(tc.tensor([1 + 1j]))
    # a real RBM converted to complex parameters: its log cosh (|x|-based) would be wrong, so it refuses
    model = ph.RBM(4).to(tc.complex128)
    with pytest.raises(TypeError, match="complex_log_cosh"):
        model(tc.tensor(np.ones((1, 4))))
