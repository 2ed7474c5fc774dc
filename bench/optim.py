"""Benchmark of one optimizer step over 1M float32 parameters in 100 tensors (< 1 minute).

``optim.SGD(momentum=0.9)`` and ``optim.Adam`` next to a plain numpy loop over the same arrays
doing the same arithmetic (the floor for any optimizer written on numpy). Both are timed
alternately, step by step, so that they see the same machine load; the table shows medians
and the median of the per-step ratios. Target: ratio <= 1.3.

Run: ``python bench/optim.py``.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tinygrad_course as tc  # noqa: E402
from tinygrad_course import optim  # noqa: E402

N_TENSORS = 100
SHAPE = (100, 100)  # 100 × 10,000 = 1M parameters
REPEATS = 60
LR, MOMENTUM = 0.01, 0.9
BETA1, BETA2, EPS = 0.9, 0.999, 1e-8


def make_params(rng: np.random.Generator) -> list[tc.Tensor]:
    params = []
    for _ in range(N_TENSORS):
        p = tc.tensor(rng.standard_normal(SHAPE, dtype=np.float32), requires_grad=True)
        p.grad = tc.tensor(rng.standard_normal(SHAPE, dtype=np.float32) * np.float32(0.01))
        params.append(p)
    return params


def numpy_sgd(params: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    """b ← μ b + g; p ← p − η b, written the plain numpy way."""
    bufs = [g.copy() for g in grads]

    def step() -> None:
        for p, g, b in zip(params, grads, bufs):
            b *= MOMENTUM
            b += g
            p -= LR * b

    return step


def numpy_adam(params: list[np.ndarray], grads: list[np.ndarray]) -> Callable[[], None]:
    """m ← β₁m + (1−β₁)g; s ← β₂s + (1−β₂)g²; p ← p − η/(1−β₁ᵗ) · m / (√s/√(1−β₂ᵗ) + ε)."""
    ms = [np.zeros_like(p) for p in params]
    ss = [np.zeros_like(p) for p in params]
    t = [0]

    def step() -> None:
        t[0] += 1
        step_size = LR / (1 - BETA1 ** t[0])
        bc2_sqrt = math.sqrt(1 - BETA2 ** t[0])
        for p, g, m, s in zip(params, grads, ms, ss):
            m *= BETA1
            m += (1 - BETA1) * g
            s *= BETA2
            s += (1 - BETA2) * g * g
            p -= step_size * m / (np.sqrt(s) / bc2_sqrt + EPS)

    return step


def measure(ours: Callable[[], object], theirs: Callable[[], object]) -> tuple[float, float, float]:
    """Median ms of ours and of numpy, alternating, and the median of per-step ratios."""
    for _ in range(5):  # warm up (state creation, scratch buffers, caches)
        ours()
        theirs()
    a, b, ratios = [], [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        ours()
        t1 = time.perf_counter()
        theirs()
        t2 = time.perf_counter()
        a.append(t1 - t0)
        b.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
    return statistics.median(a) * 1e3, statistics.median(b) * 1e3, statistics.median(ratios)


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for name, make_opt, make_numpy in (
        ("SGD(momentum=0.9)", lambda ps: optim.SGD(ps, lr=LR, momentum=MOMENTUM), numpy_sgd),
        ("Adam", lambda ps: optim.Adam(ps, lr=LR, betas=(BETA1, BETA2), eps=EPS), numpy_adam),
    ):
        params = make_params(rng)
        opt = make_opt(params)
        copies = [p.detach().numpy().copy() for p in params]
        grads = [p.grad.numpy() for p in params]
        rows.append((name, *measure(opt.step, make_numpy(copies, grads))))
    n = N_TENSORS * SHAPE[0] * SHAPE[1]
    print(f"optimizer step over {n:,} float32 parameters in {N_TENSORS} tensors of {SHAPE}, median of {REPEATS}")
    print(f"{'step':<20}{'tinygrad_course ms':>20}{'numpy loop ms':>16}{'ratio':>8}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:<20}{ours:>20.3f}{theirs:>16.3f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
