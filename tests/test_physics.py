"""tinygrad_course.physics: lattices, Hilbert space, Hamiltonians against Kronecker products,
exact energies (free fermions, Lanczos, dense), samplers against exact enumeration, Monte Carlo
statistics, SR against a hand-written step, the models' log-derivatives, and a short VMC run."""

from __future__ import annotations

import math
import time
from functools import reduce

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import physics as ph

# ---------------------------------------------------------------- references built by hand

# Pauli matrices in the textbook basis (↑, ↓). physics numbers states with ↑ (σ = +1) as bit 1
# and site 0 most significant, so its basis is the textbook one in reverse order.
PAULI = {"x": np.array([[0, 1], [1, 0]], dtype=complex), "y": np.array([[0, -1j], [1j, 0]]),
         "z": np.array([[1, 0], [0, -1]], dtype=complex)}


def site(p: str, i: int, N: int) -> np.ndarray:
    """σᵖ acting on site i of N: I ⊗ … ⊗ σᵖ ⊗ … ⊗ I."""
    return reduce(np.kron, [PAULI[p] if k == i else np.eye(2) for k in range(N)])


def to_physics_order(H: np.ndarray) -> np.ndarray:
    assert np.abs(H.imag).max() < 1e-12
    return H.real[::-1, ::-1].copy()


def kron_ising(N: int, edges: list[tuple[int, int]], h: float, J: float) -> np.ndarray:
    H = -J * sum(site("z", i, N) @ site("z", j, N) for i, j in edges) - h * sum(site("x", i, N) for i in range(N))
    return to_physics_order(H)


def kron_xxz(N: int, groups: list[tuple[list[tuple[int, int]], float, float]]) -> np.ndarray:
    """Σ over (edges, J, Δ) groups of J (σˣσˣ + σʸσʸ + Δ σᶻσᶻ)."""
    H = np.zeros((2**N, 2**N), dtype=complex)
    for edges, J, delta in groups:
        for i, j in edges:
            H += J * (site("x", i, N) @ site("x", j, N) + site("y", i, N) @ site("y", j, N)
                      + delta * site("z", i, N) @ site("z", j, N))
    return to_physics_order(H)


def sector(hilbert: ph.Spin, H_full: np.ndarray) -> np.ndarray:
    """H restricted to the basis of a constrained space (its states' unconstrained numbers)."""
    codes = hilbert.codes()
    return H_full[np.ix_(codes, codes)]


def cases() -> list[tuple[str, ph.SpinHamiltonian, np.ndarray]]:
    out = []
    for N in (4, 5, 6):
        g = ph.Chain(N)
        out.append((f"ising{N}", ph.Ising(ph.Spin(N), g, h=0.7, J=1.3), kron_ising(N, g.edges(), 0.7, 1.3)))
        out.append((f"xxz{N}", ph.Heisenberg(ph.Spin(N), g, J=0.8, delta=0.5), kron_xxz(N, [(g.edges(), 0.8, 0.5)])))
        groups = [(g.edges(1), 1.0, 1.0), (g.edges(2), 0.45, 1.0)]
        out.append((f"j1j2_{N}", ph.J1J2(ph.Spin(N), g, J1=1.0, J2=0.45), kron_xxz(N, groups)))
    g = ph.Chain(6, pbc=False)
    out.append(("ising_open6", ph.Ising(ph.Spin(6), g, h=-0.4), kron_ising(6, g.edges(), -0.4, 1.0)))
    sq = ph.Square(2)
    out.append(("j1j2_square2", ph.J1J2(ph.Spin(4), sq, 1.0, 0.3),
                kron_xxz(4, [(sq.edges(1), 1.0, 1.0), (sq.edges(2), 0.3, 1.0)])))
    hs = ph.Spin(6, total_sz=0)
    out.append(("xxz6_sz0", ph.Heisenberg(hs, ph.Chain(6), delta=1.5),
                sector(hs, kron_xxz(6, [(ph.Chain(6).edges(), 1.0, 1.5)]))))
    hs = ph.Spin(5, total_sz=0.5)
    out.append(("j1j2_5_sz", ph.J1J2(hs, ph.Chain(5), 1.0, 0.2),
                sector(hs, kron_xxz(5, [(ph.Chain(5).edges(1), 1.0, 1.0), (ph.Chain(5).edges(2), 0.2, 1.0)]))))
    return out


CASES = cases()

# ---------------------------------------------------------------- graph


def test_chain_edges() -> None:
    assert ph.Chain(4).n_nodes == 4
    assert ph.Chain(4).edges() == [(0, 1), (0, 3), (1, 2), (2, 3)]
    assert ph.Chain(4, pbc=False).edges() == [(0, 1), (1, 2), (2, 3)]
    assert ph.Chain(6).edges(2) == [(0, 2), (0, 4), (1, 3), (1, 5), (2, 4), (3, 5)]
    assert ph.Chain(6, pbc=False).edges(2) == [(0, 2), (1, 3), (2, 4), (3, 5)]
    assert ph.Chain(2).edges() == [(0, 1)]  # the ring of two has one bond, counted once
    assert ph.Chain(4).edges(2) == [(0, 2), (1, 3)]  # 0–2 "both ways round": once


def test_square_edges() -> None:
    for L, pbc, n1, n2 in [(3, True, 18, 18), (4, True, 32, 32), (3, False, 12, 8), (4, False, 24, 18)]:
        g = ph.Square(L, pbc=pbc)
        e1, e2 = g.edges(1), g.edges(2)
        assert g.n_nodes == L * L and (len(e1), len(e2)) == (n1, n2)
        for edges in (e1, e2):
            assert all(i < j for i, j in edges) and len(set(edges)) == len(edges)
    g = ph.Square(4)
    assert (0, 1) in g.edges(1) and (0, 4) in g.edges(1) and (0, 3) in g.edges(1) and (0, 12) in g.edges(1)
    assert (0, 5) in g.edges(2) and (0, 15) in g.edges(2)  # the diagonals, one across the boundary
    assert all(sum(k in e for e in g.edges(1)) == 4 for k in range(16))  # coordination 4


@pytest.mark.parametrize("make, match", [(lambda: ph.Chain(1), "N must be an integer ≥ 2"),
                                         (lambda: ph.Chain(0), "N must be"), (lambda: ph.Chain(3.0), "N must be"),
                                         (lambda: ph.Square(1), "L must be an integer ≥ 2"),
                                         (lambda: ph.Chain(3).edges(2), "only 1 distinct"),
                                         (lambda: ph.Chain(5).edges(0), "order must be")])
def test_graph_errors(make, match) -> None:
    with pytest.raises(ValueError, match=match):
        make()


# ---------------------------------------------------------------- hilbert


@pytest.mark.parametrize("N, total_sz, count", [(1, None, 2), (6, None, 64), (6, 0, 20), (6, 1, 15), (5, 0.5, 10),
                                                 (5, -2.5, 1), (10, 0, 252)])
def test_enumeration(N, total_sz, count) -> None:
    h = ph.Spin(N, total_sz=total_sz)
    states = h.all_states()
    assert h.n_states == count and states.shape == (count, N) and states.dtype == np.int8
    assert len({s.tobytes() for s in states}) == count and set(np.unique(states)) <= {-1, 1}
    if total_sz is not None:
        assert np.all(states.sum(1) == 2 * total_sz)
    assert np.array_equal(h.states_to_numbers(states), np.arange(count))
    assert np.array_equal(h.numbers_to_states(np.arange(count)), states)


def test_numbering_is_netkets() -> None:
    h = ph.Spin(3)
    assert h.all_states()[0].tolist() == [-1, -1, -1] and h.all_states()[1].tolist() == [-1, -1, 1]
    assert h.states_to_numbers(np.array([[1, -1, -1]])).tolist() == [4]
    assert ph.Spin(30).n_states == 2**30 and ph.Spin(30, total_sz=0).n_states == math.comb(30, 15)


def test_random_state() -> None:
    rng = np.random.default_rng(0)
    s = ph.Spin(8, total_sz=1).random_state(5600, rng)
    assert s.shape == (5600, 8) and np.all(s.sum(1) == 2)
    # uniform over the C(8, 5) = 56 states of the sector: 100 ± 10 each
    counts = np.bincount(ph.Spin(8, total_sz=1).states_to_numbers(s), minlength=56)
    assert len(counts) == 56 and counts.min() > 60 and counts.max() < 140
    free = ph.Spin(8).random_state(1000, rng)
    assert set(np.unique(free)) == {-1, 1} and abs(free.mean()) < 0.1


def test_hilbert_errors() -> None:
    with pytest.raises(ValueError, match="impossible for N=5"):
        ph.Spin(5, total_sz=0)
    with pytest.raises(ValueError, match="impossible"):
        ph.Spin(4, total_sz=3)
    with pytest.raises(ValueError, match="positive integer"):
        ph.Spin(0)
    h = ph.Spin(4, total_sz=0)
    with pytest.raises(ValueError, match="total Sᶻ ≠ 0.0"):
        h.states_to_numbers(np.array([[1, 1, 1, -1]]))
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        h.states_to_numbers(np.array([1, 1, -1, -1]))
    with pytest.raises(ValueError, match="±1"):
        ph.Spin(3).states_to_numbers(np.array([[0, 1, 1]]))
    with pytest.raises(ValueError, match="N ≤ 20"):
        ph.Spin(21).all_states()
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        ph.Spin(4, total_sz=0).numbers_to_states([6])


# ---------------------------------------------------------------- operators against Kronecker products


@pytest.mark.parametrize("name, op, H_ref", CASES, ids=[c[0] for c in CASES])
def test_dense_matches_kronecker(name, op, H_ref) -> None:
    assert np.allclose(op.to_dense(), H_ref, atol=1e-12)


@pytest.mark.parametrize("name, op, H_ref", CASES, ids=[c[0] for c in CASES])
def test_get_conn_rows_match_kronecker(name, op, H_ref) -> None:
    states = op.hilbert.all_states()
    conns, mels, mask = op.get_conn(states)
    assert conns.shape == (len(states), op.max_conn_size, op.hilbert.size) and mels.shape == mask.shape
    assert np.array_equal(conns[:, 0], states) and mask[:, 0].all()
    rows = np.zeros_like(H_ref)
    for b in range(len(states)):  # one row of H per configuration, built from its connections
        np.add.at(rows[b], op.hilbert.states_to_numbers(conns[b][mask[b]]), mels[b][mask[b]])
    assert np.allclose(rows, H_ref, atol=1e-12)
    assert np.all(mels[~mask] == 0)


@pytest.mark.parametrize("name, op, H_ref", CASES, ids=[c[0] for c in CASES])
def test_matvec_matches_kronecker(name, op, H_ref) -> None:
    v = np.random.default_rng(1).standard_normal(len(H_ref))
    assert np.allclose(op.matvec(v), H_ref @ v, atol=1e-12)


def test_local_energy_of_the_ground_state_is_its_energy() -> None:
    # E_loc(s) = (Hψ₀)(s)/ψ₀(s) = E₀ for every s: for Ising ψ₀ > 0 (a real log ψ); the
    # Heisenberg ground state has Marshall's signs, so log ψ is complex (log of a negative number).
    for op, kind in [(ph.Ising(ph.Spin(6), ph.Chain(6), h=0.9), float),
                     (ph.Heisenberg(ph.Spin(6, total_sz=0), ph.Chain(6)), complex)]:
        E0, psi = ph.exact_ground_state(op)
        psi = psi * np.sign(psi[np.argmax(np.abs(psi))])
        assert kind is complex or np.all(psi > 0)

        def log_psi(configs, op=op, psi=psi, kind=kind):
            return np.log(psi[op.hilbert.states_to_numbers(configs)].astype(kind))

        e_loc = op.local_energy(log_psi, op.hilbert.all_states())
        assert np.allclose(e_loc, E0, atol=1e-9)


def test_local_energy_is_the_row_times_psi_ratio() -> None:
    op = ph.J1J2(ph.Spin(6), ph.Chain(6), 1.0, 0.5)
    H = op.to_dense()
    psi = np.exp(np.random.default_rng(2).standard_normal(64) * 0.5)
    states = op.hilbert.all_states()
    e_loc = op.local_energy(lambda c: np.log(psi[op.hilbert.states_to_numbers(c)]), states[[3, 17, 40]])
    assert np.allclose(e_loc, (H @ psi)[[3, 17, 40]] / psi[[3, 17, 40]])


def test_operator_errors() -> None:
    with pytest.raises(ValueError, match="Hilbert space has 8 sites but the graph Chain\\(10, pbc=True\\) has 10 nodes"):
        ph.Ising(ph.Spin(8), ph.Chain(10), h=1.0)
    with pytest.raises(ValueError, match="Heisenberg.*9 sites.*16 nodes"):
        ph.Heisenberg(ph.Spin(9), ph.Square(4))
    with pytest.raises(ValueError, match="σˣ changes the total Sᶻ"):
        ph.Ising(ph.Spin(4, total_sz=0), ph.Chain(4), h=1.0)
    op = ph.Ising(ph.Spin(4), ph.Chain(4), h=1.0)
    with pytest.raises(ValueError, match=r"Ising.get_conn: configurations must have shape \(B, 4\).*got \(4,\)"):
        op.get_conn(np.ones(4))
    with pytest.raises(ValueError, match=r"shape \(B, 4\).*\(2, 5\)"):
        op.local_energy(lambda c: np.zeros(len(c)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="log_psi must map"):
        op.local_energy(lambda c: np.zeros((len(c), 1)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"matvec: v must have shape \(16,\)"):
        op.matvec(np.ones(8))
    with pytest.raises(ValueError, match="N ≤ 14"):
        ph.Ising(ph.Spin(15), ph.Chain(15), h=1.0).to_dense()


# ---------------------------------------------------------------- exact energies


def test_free_fermions_match_dense_diagonalisation() -> None:
    # Both parity sectors matter: odd N, h < 0, J < 0 and h = 0 (degenerate) are included.
    for N in range(4, 11):
        for h, J in [(0.5, 1.0), (1.0, 1.0), (2.0, 1.0)] + ([(-0.7, 1.0), (0.8, -1.0), (0.0, 1.0)] if N <= 8 else []):
            dense = np.linalg.eigvalsh(ph.Ising(ph.Spin(N), ph.Chain(N), h=h, J=J).to_dense())[0]
            assert abs(dense - ph.tfim_ground_energy(N, h, J)) < 1e-10, (N, h, J)
    with pytest.raises(ValueError, match="≥ 3"):
        ph.tfim_ground_energy(2, 1.0)


@pytest.mark.parametrize("N", [8, 12, 16])
def test_lanczos_matches_free_fermions(N) -> None:
    op = ph.Ising(ph.Spin(N), ph.Chain(N), h=1.0)
    assert abs(ph.lanczos_ground_energy(op) - ph.tfim_ground_energy(N, 1.0)) < 1e-10


@pytest.mark.slow
def test_lanczos_n20_matches_free_fermions() -> None:
    op = ph.Ising(ph.Spin(20), ph.Chain(20), h=1.0)
    assert abs(ph.lanczos_ground_energy(op) - ph.tfim_ground_energy(20, 1.0)) < 1e-10


def test_lanczos_matches_dense_for_heisenberg() -> None:
    for hilbert in (ph.Spin(10), ph.Spin(10, total_sz=0)):
        op = ph.Heisenberg(hilbert, ph.Chain(10))
        E0, psi = ph.exact_ground_state(op)
        assert abs(ph.lanczos_ground_energy(op) - E0) < 1e-10
        assert np.allclose(op.matvec(psi), E0 * psi, atol=1e-9)
    op = ph.J1J2(ph.Spin(12, total_sz=0), ph.Chain(12), 1.0, 0.5)
    # J2 = J1/2 is the Majumdar–Ghosh point: two dimer coverings, E₀ = −(3/2)·N in Pauli units
    assert abs(ph.lanczos_ground_energy(op) + 1.5 * 12) < 1e-10


def test_lanczos_raises_when_not_converged() -> None:
    with pytest.raises(RuntimeError, match="not converged"):
        ph.lanczos_ground_energy(ph.Ising(ph.Spin(12), ph.Chain(12), h=1.0), k=5)


# ---------------------------------------------------------------- samplers against exact enumeration


def chi_square(samples: np.ndarray, hilbert: ph.Spin, p: np.ndarray) -> float:
    """Pearson's χ² of the histogram of the samples against p; states expected < 5 times share one bin."""
    counts = np.bincount(hilbert.states_to_numbers(samples.reshape(-1, hilbert.size)), minlength=len(p))
    expected = p * counts.sum()
    rare = expected < 5
    if rare.any():
        counts = np.append(counts[~rare], counts[rare].sum())
        expected = np.append(expected[~rare], expected[rare].sum())
    return float(((counts - expected) ** 2 / expected).sum())


def test_metropolis_local_samples_psi_squared() -> None:
    tc.manual_seed(3)
    model = ph.RBM(6, alpha=2)
    with tc.no_grad():
        for p in model.parameters():
            p.mul_(20.0)  # std 0.2: |ψ|² spans three decades
    log_psi = ph.numpy_log_psi(model)
    hilbert = ph.Spin(6)
    log_p = 2 * log_psi(hilbert.all_states())
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    sampler = ph.MetropolisLocal(hilbert, n_chains=200, rng=np.random.default_rng(4))
    samples, acceptance = sampler.sample(log_psi, n_samples=40_000, n_discard=20)
    assert samples.shape == (200, 200, 6) and samples.dtype == np.int8 and 0.1 < acceptance < 1
    # ≤ 63 degrees of freedom: χ² ≈ 63 ± 11 for independent samples (a little more with correlations)
    assert chi_square(samples, hilbert, p) < 120
    # the test has power: |ψ| instead of |ψ|² is far off
    wrong = np.sqrt(p) / np.sqrt(p).sum()
    assert chi_square(samples, hilbert, wrong) > 1000


def test_metropolis_exchange_samples_psi_squared_and_keeps_sz() -> None:
    rng = np.random.default_rng(5)
    hilbert, graph = ph.Spin(6, total_sz=0), ph.Chain(6)
    J = np.triu(rng.standard_normal((6, 6)) * 0.6, 1)

    def log_psi(c):
        s = c.astype(float)
        return np.einsum("bi,ij,bj->b", s, J, s) + s @ np.arange(6) * 0.1

    log_p = 2 * log_psi(hilbert.all_states())
    p = np.exp(log_p - log_p.max())
    p /= p.sum()
    sampler = ph.MetropolisExchange(hilbert, graph, n_chains=100, rng=np.random.default_rng(6))
    samples, acceptance = sampler.sample(log_psi, n_samples=20_000, n_discard=20)
    assert np.all(samples.sum(-1) == 0) and 0 < acceptance < 1
    assert chi_square(samples, hilbert, p) < 45  # 19 degrees of freedom
    assert chi_square(samples, hilbert, np.full(20, 1 / 20)) > 500


def test_samplers_are_reproducible_and_continue_their_chains() -> None:
    hilbert = ph.Spin(5)

    def log_psi(c):
        return 0.3 * c.sum(1).astype(float)

    a = ph.MetropolisLocal(hilbert, n_chains=4, rng=7).sample(log_psi, 12, 2)[0]
    b = ph.MetropolisLocal(hilbert, n_chains=4, rng=np.random.default_rng(7)).sample(log_psi, 12, 2)[0]
    assert np.array_equal(a, b) and a.shape == (3, 4, 5)
    sampler = ph.MetropolisLocal(hilbert, n_chains=4, rng=7)
    first, _ = sampler.sample(log_psi, 5, 0)  # 5 → 2 per chain (rounded up)
    assert first.shape == (2, 4, 5) and np.array_equal(sampler.state, first[-1])


def test_sampler_errors() -> None:
    hilbert = ph.Spin(4)
    for bad in (np.inf, np.nan):
        sampler = ph.MetropolisLocal(hilbert, n_chains=3, rng=0)

        def log_psi(c, bad=bad):
            out = np.zeros(len(c))
            out[c[:, 0] > 0] = bad
            return out

        with pytest.raises(ValueError, match=f"MetropolisLocal: log_psi returned {bad}"):
            sampler.sample(log_psi, 30, 5)
    exchange = ph.MetropolisExchange(ph.Spin(4, total_sz=0), ph.Chain(4), n_chains=2, rng=0)
    with pytest.raises(ValueError, match="MetropolisExchange: log_psi returned nan"):
        exchange.sample(lambda c: np.full(len(c), np.nan), 4)
    with pytest.raises(ValueError, match=r"MetropolisLocal: log_psi must map an \(3, 4\) array to shape \(3,\)"):
        ph.MetropolisLocal(hilbert, n_chains=3, rng=0).sample(lambda c: np.zeros((len(c), 1)), 3)
    with pytest.raises(ValueError, match="use MetropolisExchange"):
        ph.MetropolisLocal(ph.Spin(4, total_sz=0))
    with pytest.raises(ValueError, match="4 sites but the graph Chain\\(6, pbc=True\\) has 6 nodes"):
        ph.MetropolisExchange(hilbert, ph.Chain(6))
    with pytest.raises(ValueError, match="n_chains"):
        ph.MetropolisLocal(hilbert, n_chains=0)


# ---------------------------------------------------------------- statistics


def ar1(phi: float, n: int, chains: int, rng: np.random.Generator) -> np.ndarray:
    """x_t = φ x_{t−1} + ε_t, stationary from the start: Var x = 1/(1 − φ²), τ = φ/(1 − φ)."""
    x = np.empty((n, chains))
    x[0] = rng.standard_normal(chains) / math.sqrt(1 - phi**2)
    noise = rng.standard_normal((n, chains))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return x


def test_statistics_of_ar1_chains() -> None:
    phi, n, chains = 0.8, 4000, 200
    x = ar1(phi, n, chains, np.random.default_rng(8)) + 3.0
    s = ph.statistics(x)
    tau = phi / (1 - phi)  # 4
    true_error = math.sqrt(1 / (1 - phi**2) * (1 + 2 * tau) / (n * chains))
    assert abs(s.tau_corr - tau) < 0.2 * tau  # 200 blocks: ±10 % (1σ)
    assert abs(s.error_of_mean / true_error - 1) < 0.15
    assert abs(s.mean - 3.0) < 4 * true_error
    assert abs(s.variance - 1 / (1 - phi**2)) < 0.05 * (1 / (1 - phi**2))
    assert 0.99 < s.R_hat < 1.01
    # one chain: batch means
    one = ph.statistics(ar1(phi, 200_000, 1, np.random.default_rng(9))[:, 0])
    assert abs(one.tau_corr - tau) < 0.5 * tau  # 32 batches: ±25 % (1σ)
    # uncorrelated data: τ ≈ 0
    white = ph.statistics(np.random.default_rng(10).standard_normal((1000, 50)))
    assert white.tau_corr < 0.3


def test_r_hat_flags_chains_that_disagree() -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((500, 4))
    x[:, 0] += 2.0
    assert ph.statistics(x).R_hat > 1.2
    drifting = rng.standard_normal((500, 4)) + np.linspace(0, 3, 500)[:, None]  # not stationary: split-R̂ sees it
    assert ph.statistics(drifting).R_hat > 1.2


def test_stats_repr_and_errors() -> None:
    s = ph.Stats(mean=-12.3412, error_of_mean=0.0123, variance=0.5312, tau_corr=1.0, R_hat=1.00213)
    assert repr(s) == "-12.341 ± 0.012 [σ²=0.531, R̂=1.0021]"
    assert "nan" in repr(ph.statistics(np.array([1.0])))
    with pytest.raises(ValueError, match="not finite"):
        ph.statistics(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="shape"):
        ph.statistics(np.zeros((2, 2, 2)))
    c = ph.statistics(np.array([[1 + 1j, 2], [3, 4 - 1j]]))
    assert isinstance(c.mean, complex) and "j ±" in repr(c)


# ---------------------------------------------------------------- SR


def sr_by_hand(O: np.ndarray, E: np.ndarray, shift: float) -> np.ndarray:
    n = len(E)
    S = (O.conj().T @ O) / n - np.outer(O.conj().mean(0), O.mean(0))
    F = (O.conj().T @ E) / n - O.conj().mean(0) * E.mean()
    return np.linalg.solve(S.real + shift * np.eye(O.shape[1]), F.real)


@pytest.mark.parametrize("ns, P", [(50, 10), (6, 20)])  # the parameter-space and the sample-space form
def test_sr_matches_a_hand_written_step(ns, P) -> None:
    rng = np.random.default_rng(12)
    O = rng.standard_normal((ns, P))
    E = rng.standard_normal(ns)
    assert np.allclose(ph.SR(0.01)(O, E), sr_by_hand(O, E, 0.01), atol=1e-10)
    Oc = O + 1j * rng.standard_normal((ns, P))  # real parameters of a complex ψ: real parts
    Ec = E + 1j * rng.standard_normal(ns)
    assert np.allclose(ph.SR(0.05)(Oc, Ec), sr_by_hand(Oc, Ec, 0.05), atol=1e-10)


def test_sr_holomorphic_and_errors() -> None:
    rng = np.random.default_rng(13)
    O = rng.standard_normal((30, 5)) + 1j * rng.standard_normal((30, 5))
    E = rng.standard_normal(30) + 0j
    n = 30
    S = O.conj().T @ O / n - np.outer(O.conj().mean(0), O.mean(0))
    F = O.conj().T @ E / n - O.conj().mean(0) * E.mean()
    assert np.allclose(ph.SR(0.1, holomorphic=True)(O, E), np.linalg.solve(S + 0.1 * np.eye(5), F))
    with pytest.raises(ValueError, match=r"O of shape \(Ns, P\)"):
        ph.SR()(O, E[:5])
    with pytest.raises(ValueError, match="diag_shift"):
        ph.SR(-1.0)


# ---------------------------------------------------------------- models


def test_log_cosh_is_stable() -> None:
    x = tc.tensor([-1000.0, -3.0, 0.0, 0.5, 800.0], dtype=tc.float64)
    got = ph.log_cosh(x).numpy()
    assert np.all(np.isfinite(got))
    assert np.allclose(got[1:4], np.log(np.cosh(x.numpy()[1:4])))
    assert np.allclose(got[[0, 4]], np.abs(x.numpy()[[0, 4]]) - math.log(2))


def test_models_compute_their_formulas() -> None:
    tc.manual_seed(14)
    s = np.random.default_rng(15).choice([-1.0, 1.0], size=(9, 5))
    rbm = ph.RBM(5, alpha=2)
    W, b, a = (p.detach().numpy() for p in (rbm.kernel, rbm.hidden_bias, rbm.visible_bias))
    assert W.shape == (5, 10) and 0.004 < W.std() < 0.02  # the init: N(0, 0.01²)
    assert np.allclose(ph.numpy_log_psi(rbm)(s), s @ a + np.log(np.cosh(s @ W + b)).sum(1))
    assert len(list(ph.RBM(5, use_visible_bias=False).parameters())) == 2
    jastrow = ph.Jastrow(5)
    K = np.zeros((5, 5))
    K[np.triu_indices(5, 1)] = jastrow.kernel.detach().numpy()
    assert np.allclose(ph.numpy_log_psi(jastrow)(s), np.einsum("bi,ij,bj->b", s, K, s))
    mlp = ph.MLPAnsatz(5, (7, 3))
    assert tuple(mlp(tc.tensor(s)).shape) == (9,)
    tc.manual_seed(14)
    assert np.array_equal(ph.RBM(5, alpha=2).kernel.detach().numpy(), W)  # seeded by tc.manual_seed
    with pytest.raises(ValueError, match=r"RBM: expected configurations of shape \(B, 5\), got \(9, 4\)"):
        rbm(tc.tensor(s[:, :4]))
    with pytest.raises(ValueError, match="alpha must be a positive integer"):
        ph.RBM(5, alpha=0)


def test_vmc_log_derivatives_are_the_rbm_formulas() -> None:
    tc.manual_seed(16)
    N = 6
    model = ph.RBM(N)
    with tc.no_grad():
        for p in model.parameters():
            p.mul_(30.0)
    hilbert = ph.Spin(N)
    driver = ph.VMC(model, ph.Ising(hilbert, ph.Chain(N), h=1.0), ph.MetropolisLocal(hilbert, rng=0), ph.SR(),
                    lr=0.1, n_samples=16)
    s = hilbert.random_state(11, np.random.default_rng(17)).astype(float)
    O = driver._log_derivatives(s)
    th = np.tanh(s @ model.kernel.detach().numpy() + model.hidden_bias.detach().numpy())
    # named_parameters order: kernel (N·M), hidden_bias (M), visible_bias (N)
    expected = np.concatenate([(s[:, :, None] * th[:, None, :]).reshape(11, -1), th, s], axis=1)
    assert np.allclose(O, expected, atol=1e-12)


def test_exact_energy_is_the_rayleigh_quotient() -> None:
    tc.manual_seed(18)
    model = ph.RBM(6)
    with tc.no_grad():
        for p in model.parameters():
            p.mul_(50.0)
    op = ph.Ising(ph.Spin(6), ph.Chain(6), h=0.6)
    psi = np.exp(ph.numpy_log_psi(model)(op.hilbert.all_states()))
    assert abs(ph.exact_energy(model, op) - psi @ op.to_dense() @ psi / (psi @ psi)) < 1e-10


# ---------------------------------------------------------------- a short VMC run


def test_vmc_finds_the_tfim_ground_state() -> None:
    N = 8
    tc.manual_seed(0)
    hilbert = ph.Spin(N)
    H = ph.Ising(hilbert, ph.Chain(N), h=1.0)
    model = ph.RBM(N, alpha=1)
    driver = ph.VMC(model, H, ph.MetropolisLocal(hilbert, n_chains=100, rng=1), ph.SR(diag_shift=0.01),
                    lr=0.05, n_samples=1000, n_discard=2)
    seen = []
    start = time.perf_counter()
    history = driver.run(50, callback=lambda k, energy: seen.append(k))
    seconds = time.perf_counter() - start
    E0 = ph.tfim_ground_energy(N, 1.0)
    error = abs(ph.exact_energy(model, H) - E0) / abs(E0)
    print(f"VMC N={N}: relative error {error:.2e} after 50 iterations × 1000 samples in {seconds:.1f} s")
    assert error <= 2e-3
    assert len(history) == 50 and seen == list(range(50))
    assert abs(history[-1].mean - E0) < 5 * history[-1].error_of_mean + 1e-2
    assert driver.run(3, callback=lambda k, energy: False) and driver.energy is not None  # False stops the run


def test_vmc_rejects_mismatched_pieces() -> None:
    hilbert = ph.Spin(6)
    with pytest.raises(ValueError, match="VMC: the model has N=8 sites"):
        ph.VMC(ph.RBM(8), ph.Ising(hilbert, ph.Chain(6), h=1.0), ph.MetropolisLocal(hilbert), ph.SR(), 0.1, 100)
    with pytest.raises(ValueError, match="N ≤ 16"):
        ph.exact_energy(ph.RBM(17), ph.Ising(ph.Spin(17), ph.Chain(17), h=1.0))
