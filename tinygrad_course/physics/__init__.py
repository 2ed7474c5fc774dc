"""Many-body quantum physics on numpy: the toolbox of the variational Monte Carlo lesson.

The pieces carry NetKet's names, one job per file:

- `graph`: the lattice (`Chain`, `Square`; `edges(order)` gives the bonds).
- `hilbert`: the basis, configurations σ ∈ {−1, +1}^N (`Spin`, optionally at fixed total Sᶻ).
- `operator`: the Hamiltonian (`Ising`, `Heisenberg`, `J1J2`); `get_conn(s)` lists the states s′
  with H_{s s′} ≠ 0, `local_energy` turns them into E_loc(s) = Σ_{s′} H_{s s′} ψ(s′)/ψ(s).
- `exact`: references (`tfim_ground_energy` by free fermions, `lanczos_ground_energy`,
  `exact_ground_state`).
- `models`: the variational state log ψ_θ(σ) as a `tc.nn.Module` (`RBM`, `Jastrow`, `MLPAnsatz`;
  `ComplexRBM`, complex parameters, for ground states with signs).
- `sampler`: Markov chains that draw s ~ |ψ_θ(s)|² (`MetropolisLocal`, `MetropolisExchange`).
- `stats`: mean, error bar, τ and R̂ of correlated chains (`statistics`, `Stats`).
- `sr`: stochastic reconfiguration, the natural-gradient step (`SR`).
- `vmc`: the driver (`VMC`) and `exact_energy` of a small model.

One VMC step, E(θ) = ⟨ψ_θ|H|ψ_θ⟩/⟨ψ_θ|ψ_θ⟩ = 𝔼_{s~|ψ_θ|²}[E_loc(s)]:

1. sample s₁ … s_Ns ~ |ψ_θ|² (sampler);
2. local energies E_loc(s) (operator.local_energy): their mean estimates E(θ);
3. per-sample log-derivatives O_k(s) = ∂ log ψ_θ(s)/∂θ_k by
   ``tc.func.vmap(tc.func.grad(f), in_dims=(None, 0))(params, configs)`` where
   ``f(params, s) = tc.func.functional_call(model, params, (s.unsqueeze(0),)).squeeze()``;
4. SR: solve (S + λI) δθ = F, S = ⟨O*O⟩ − ⟨O*⟩⟨O⟩, F = ⟨O* E_loc⟩ − ⟨O*⟩⟨E_loc⟩;
5. update θ ← θ − lr·δθ (under tc.no_grad()).

A complex ansatz (`ComplexRBM`, log ψ holomorphic in complex θ) takes SR(holomorphic=True):
O is then the complex derivative, S and F complex, and δθ complex (see `vmc`).

Example::

    import tinygrad_course as tc
    from tinygrad_course import physics as ph

    tc.manual_seed(0)
    hilbert, graph = ph.Spin(8), ph.Chain(8)
    H = ph.Ising(hilbert, graph, h=1.0)
    model = ph.RBM(8, alpha=1)
    driver = ph.VMC(model, H, ph.MetropolisLocal(hilbert, n_chains=100, rng=1), ph.SR(0.01),
                    lr=0.05, n_samples=1000)
    driver.run(50)
    print(ph.exact_energy(model, H), ph.tfim_ground_energy(8, h=1.0))
"""

from tinygrad_course.physics.exact import exact_ground_state, lanczos_ground_energy, tfim_ground_energy
from tinygrad_course.physics.graph import Chain, Lattice, Square
from tinygrad_course.physics.hilbert import Spin
from tinygrad_course.physics.models import (
    RBM,
    ComplexRBM,
    Jastrow,
    MLPAnsatz,
    complex_log_cosh,
    log_cosh,
    numpy_log_psi,
)
from tinygrad_course.physics.operator import J1J2, Heisenberg, Ising, SpinHamiltonian
from tinygrad_course.physics.sampler import MetropolisExchange, MetropolisLocal, MetropolisSampler
from tinygrad_course.physics.sr import SR
from tinygrad_course.physics.stats import Stats, statistics
from tinygrad_course.physics.vmc import VMC, exact_energy

__all__ = ["Chain", "ComplexRBM", "Heisenberg", "Ising", "J1J2", "Jastrow", "Lattice", "MLPAnsatz",
           "MetropolisExchange", "MetropolisLocal", "MetropolisSampler", "RBM", "SR", "Spin", "SpinHamiltonian",
           "Square", "Stats", "VMC", "complex_log_cosh", "exact_energy", "exact_ground_state",
           "lanczos_ground_energy", "log_cosh", "numpy_log_psi", "statistics", "tfim_ground_energy"]
