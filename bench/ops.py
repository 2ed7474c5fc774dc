"""Benchmark of the autograd core's per-op overhead (numpy + tinygrad_course only; < 1 minute).

(a) A 100-op elementwise chain (mul, add, relu repeated) on a (4, 4) float32 tensor, forward +
    ``.sum().backward()``, in µs per op, next to the same chain in plain numpy with a
    hand-written backward — the floor for any framework that calls numpy once per op.
(b) A chain 10,000 and 100,000 ops deep (x = x * 1.0001 + 0.0): graph build and backward time
    per node, and the peak RSS of two consecutive runs (the second must not grow: the first
    graph was freed by reference counting).

Run: ``python bench/ops.py``. Figures are medians of repeated runs; the machine is shared.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import tinygrad_course as tc  # noqa: E402

N_OPS = 100
REPEATS = 2000


def chain(x: Any, c: Any, d: Any) -> None:
    """The 100-op chain (×c, +d, relu, …) and its .sum().backward(), on any tensor type (ours, PyTorch's)."""
    y = x
    for k in range(N_OPS):
        if k % 3 == 0:
            y = y * c
        elif k % 3 == 1:
            y = y + d
        else:
            y = y.relu()
    y.sum().backward()


def chain_tc(x0: np.ndarray, c: np.ndarray, d: np.ndarray) -> None:
    chain(tc.Tensor._make(x0, None).requires_grad_(), tc.from_numpy(c), tc.from_numpy(d))


def chain_numpy(x0: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The same chain with a hand-written backward: the lecture's chain rule, op by op."""
    saved = []
    y = x0
    for k in range(N_OPS):
        if k % 3 == 0:
            saved.append(None)
            y = y * c
        elif k % 3 == 1:
            saved.append(None)
            y = y + d
        else:
            y = np.maximum(y, 0)
            saved.append(y)
    _ = y.sum()
    g = np.ones_like(y)
    for k in range(N_OPS - 1, -1, -1):
        if k % 3 == 0:
            g = g * c
        elif k % 3 == 2:
            g = g * (saved[k] > 0)
    return g


def bench_chain() -> tuple[float, float, float]:
    """Median µs/op of ours and of numpy, timed alternately (so both see the same machine
    load), and the median of the per-pair ratios."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 4)).astype(np.float32)
    c = rng.uniform(0.9, 1.1, (4, 4)).astype(np.float32)
    d = rng.uniform(-0.1, 0.1, (4, 4)).astype(np.float32)
    for _ in range(50):  # warm up
        chain_tc(x0, c, d)
        chain_numpy(x0, c, d)
    ours, theirs, ratios = [], [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        chain_tc(x0, c, d)
        t1 = time.perf_counter()
        chain_numpy(x0, c, d)
        t2 = time.perf_counter()
        ours.append(t1 - t0)
        theirs.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
    per_op = 1e6 / N_OPS
    return statistics.median(ours) * per_op, statistics.median(theirs) * per_op, statistics.median(ratios)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset VmHWM to the current RSS
        return True
    except OSError:
        return False


def deep_chain(n: int) -> tuple[float, float, int]:
    """Build x·1.0001 + 0.0 n times (2n nodes), then backward; returns (build s, backward s, nodes)."""
    x = tc.tensor([1.0], requires_grad=True)
    t0 = time.perf_counter()
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    loss = y.sum()
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    expected = float(np.float32(1.0001)) ** n  # the float32 multiplier, compounded
    assert abs(x.grad.item() / expected - 1) < 1e-3, (x.grad.item(), expected)
    return t1 - t0, t2 - t1, 2 * n + 1


def bench_deep() -> list[tuple[int, float, float, int, int]]:
    rows = []
    gc.collect()
    for n in (10_000, 100_000):
        builds, backs, peaks = [], [], []
        for _ in range(2):  # two consecutive runs: the first graph must be freed
            gc.collect()
            _reset_peak_rss()
            b, k, nodes = deep_chain(n)
            peaks.append(_status_kib("VmHWM"))
            builds.append(b / nodes)
            backs.append(k / nodes)
        rows.append((n, min(builds) * 1e6, min(backs) * 1e6, peaks[0], peaks[1]))
    return rows


def main() -> None:
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    ours, floor, ratio = bench_chain()
    print("\n(a) 100-op chain (mul/add/relu) on (4, 4) float32, forward + .sum().backward()")
    print(f"    tinygrad_course       {ours:6.2f} µs/op")
    print(f"    numpy, hand backward  {floor:6.2f} µs/op")
    print(f"    ratio                 {ratio:6.2f}×   (median of {REPEATS} paired runs; target ≤ 3×, PyTorch's autograd: ~3.5×)")
    print("\n(b) deep chain x = x * 1.0001 + 0.0 (2 nodes per step)")
    print(f"    {'steps':>8} {'build µs/node':>14} {'backward µs/node':>17} {'peak RSS run 1':>15} {'run 2':>10}")
    rows = bench_deep()
    for n, b, k, p1, p2 in rows:
        print(f"    {n:>8} {b:14.2f} {k:17.2f} {p1 / 1024:12.1f} MiB {p2 / 1024:7.1f} MiB")
    flat = rows[1][2] / rows[0][2]
    print(f"    backward per node, 10⁵ vs 10⁴: {flat:.2f}× (target ≤ 1.3×, and ≤ 4 µs/node)")
    grow = rows[1][4] / rows[1][3]
    print(f"    second run's peak RSS / first's (10⁵): {grow:.3f} (target within 10%)")


if __name__ == "__main__":
    main()
