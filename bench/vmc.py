"""Variational Monte Carlo (issue 14): one SR step of tinygrad_course.physics.VMC against the same
algorithm written by hand in numpy, and the small-batch no_grad forward the sampler calls.

Workload: TFIM chain N = 12, h = 1, RBM α = 1 (float64), 16 chains × 63 samples, 2 discarded
sweeps per step, single-flip Metropolis (N proposals per sweep), E_loc over the N + 1 connected
states, SR with diag_shift 0.01. The numpy version does exactly that with arrays: the same
log ψ formula, the analytic RBM log-derivatives O (where ours uses tc.func.vmap(tc.func.grad)),
the same SR solve. CPU time (time.process_time) per step, medians of interleaved rounds.

Run: ``python bench/vmc.py`` (``--rounds N``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinygrad_course as tc  # noqa: E402
from tinygrad_course import physics  # noqa: E402

N, ALPHA, CHAINS, SAMPLES, DISCARD, H, LR, SHIFT = 12, 1, 16, 1008, 2, 1.0, 0.05, 0.01


def log_cosh(x: np.ndarray) -> np.ndarray:
    """physics.log_cosh's formula (np.logaddexp(x, −x) would be 12× slower per element)."""
    a = np.abs(x)
    return a + np.log1p(np.exp(-2 * a)) - math.log(2.0)


class NumpyVMC:
    """The same VMC step, by hand: RBM log ψ(σ) = a·σ + Σⱼ log cosh(b + σW)ⱼ, analytic O, SR."""

    def __init__(self, kernel: np.ndarray, hidden: np.ndarray, visible: np.ndarray, seed: int) -> None:
        self.W, self.b, self.a = kernel.copy(), hidden.copy(), visible.copy()
        self.rng = np.random.default_rng(seed)
        self.state = self.rng.choice([-1, 1], size=(CHAINS, N)).astype(np.int8)

    def log_psi(self, s: np.ndarray) -> np.ndarray:
        s = s.astype(np.float64)
        return log_cosh(s @ self.W + self.b).sum(-1) + s @ self.a

    def sample(self) -> np.ndarray:
        per_chain = -(-SAMPLES // CHAINS)
        out = np.empty((per_chain, CHAINS, N), dtype=np.int8)
        current = self.log_psi(self.state)
        rows = np.arange(CHAINS)
        for k in range(DISCARD + per_chain):
            for _ in range(N):
                proposal = self.state.copy()
                proposal[rows, self.rng.integers(0, N, CHAINS)] *= -1
                new = self.log_psi(proposal)
                accept = np.log(self.rng.random(CHAINS)) < 2 * (new - current)
                self.state = np.where(accept[:, None], proposal, self.state)
                current = np.where(accept, new, current)
            if k >= DISCARD:
                out[k - DISCARD] = self.state
        return out.reshape(-1, N)

    def local_energy(self, s: np.ndarray) -> np.ndarray:
        """E_loc = −Σ σᵢσᵢ₊₁ − h Σᵢ ψ(s with σᵢ flipped)/ψ(s) (periodic chain, J = 1)."""
        flips = np.repeat(s[:, None, :], N, axis=1)
        flips[:, np.arange(N), np.arange(N)] *= -1
        ratios = np.exp(self.log_psi(flips.reshape(-1, N)).reshape(len(s), N) - self.log_psi(s)[:, None])
        return -(s * np.roll(s, -1, axis=1)).sum(1) - H * ratios.sum(1)

    def step(self) -> float:
        s = self.sample()
        e = self.local_energy(s)
        sf = s.astype(np.float64)
        t = np.tanh(sf @ self.W + self.b)
        O = np.concatenate([(sf[:, :, None] * t[:, None, :]).reshape(len(s), -1), t, sf], axis=1)
        X = (O - O.mean(0)) / np.sqrt(len(s))
        r = (e - e.mean()) / np.sqrt(len(s))
        delta = np.linalg.solve(X.T @ X + SHIFT * np.eye(X.shape[1]), X.T @ r)
        nW = self.W.size
        self.W -= LR * delta[:nW].reshape(self.W.shape)
        self.b -= LR * delta[nW:nW + self.b.size]
        self.a -= LR * delta[nW + self.b.size:]
        return float(e.mean())


def ours(seed: int) -> tuple[physics.VMC, physics.RBM]:
    tc.manual_seed(seed)
    hilbert, graph = physics.Spin(N), physics.Chain(N)
    model = physics.RBM(N, alpha=ALPHA)
    vmc = physics.VMC(model, physics.Ising(hilbert, graph, h=H), physics.MetropolisLocal(hilbert, CHAINS, rng=seed),
                      physics.SR(diag_shift=SHIFT), lr=LR, n_samples=SAMPLES, n_discard=DISCARD)
    return vmc, model


def cpu_time(fn, repeat: int) -> float:
    t0 = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - t0) / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    args = parser.parse_args()
    vmc, model = ours(0)
    p = {name: t.detach().numpy() for name, t in model.named_parameters()}
    ref = NumpyVMC(p["kernel"], p["hidden_bias"], p["visible_bias"], seed=0)
    vmc.step(), ref.step()  # warm up
    steps: dict[str, list[float]] = {"tinygrad_course VMC step": [], "numpy VMC step": []}
    for _ in range(args.rounds):
        steps["tinygrad_course VMC step"].append(cpu_time(vmc.step, 3))
        steps["numpy VMC step"].append(cpu_time(ref.step, 3))
    ours_t, np_t = (statistics.median(v) for v in steps.values())
    print(f"VMC step, TFIM N={N}, RBM α={ALPHA}, {SAMPLES} samples (CPU time, median of {args.rounds} rounds)")
    print(f"    tinygrad_course     {ours_t * 1e3:8.2f} ms")
    print(f"    numpy by hand       {np_t * 1e3:8.2f} ms")
    ratios = [a / b for a, b in zip(*steps.values())]
    print(f"    ratio               {ours_t / np_t:8.2f}×   (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; target ≤ 2×)")
    # The sampler's forward: log ψ of 16 configurations under no_grad, ours (tc ops) against the same numpy ops.
    configs = ref.state.copy()
    log_psi = physics.numpy_log_psi(model)
    fwd: dict[str, list[float]] = {"tc": [], "numpy": []}
    for _ in range(args.rounds):
        fwd["tc"].append(cpu_time(lambda: log_psi(configs), 2000))
        fwd["numpy"].append(cpu_time(lambda: ref.log_psi(configs), 2000))
    a, b = statistics.median(fwd["tc"]), statistics.median(fwd["numpy"])
    print(f"no_grad forward of the RBM on ({CHAINS}, {N}) configurations (the sampler's call)")
    print(f"    tinygrad_course     {a * 1e6:8.1f} µs")
    print(f"    numpy               {b * 1e6:8.1f} µs")
    print(f"    ratio               {a / b:8.2f}×   (the same 10 ops; target ≤ 4×)")


if __name__ == "__main__":
    main()
