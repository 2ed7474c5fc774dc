"""Optional: the 100-op chain of bench/ops.py (a) in PyTorch too, timed in the same run.

PyTorch is not a dependency; this script needs it installed (`pip install torch`) and exits
with a message otherwise. One CPU thread for PyTorch, as numpy on (4, 4) arrays uses one.

Run: ``python bench/torch_compare.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ops  # noqa: E402  (bench/ops.py: the same chains)

REPEATS = 1500


def main() -> int:
    try:
        import torch
    except ImportError:
        print("bench/torch_compare.py needs PyTorch (pip install torch); nothing measured")
        return 1
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((4, 4)).astype(np.float32)
    c = rng.uniform(0.9, 1.1, (4, 4)).astype(np.float32)
    d = rng.uniform(-0.1, 0.1, (4, 4)).astype(np.float32)
    ct, dt = torch.tensor(c), torch.tensor(d)

    def chain_torch() -> None:
        ops.chain(torch.tensor(x0, requires_grad=True), ct, dt)

    steps = {"tinygrad_course": lambda: ops.chain_tc(x0, c, d), "PyTorch": chain_torch, "numpy, hand backward": lambda: ops.chain_numpy(x0, c, d)}
    for _ in range(50):  # warm up
        for step in steps.values():
            step()
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(REPEATS):  # round robin, so all three see the same machine load
        for name, step in steps.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    us = {name: statistics.median(t) * 1e6 / ops.N_OPS for name, t in times.items()}
    floor = us["numpy, hand backward"]
    print(f"100-op chain (mul/add/relu) on (4, 4) float32, forward + backward; torch {torch.__version__}, median of {REPEATS}")
    for name, value in us.items():
        print(f"    {name:22s} {value:6.2f} µs/op   {value / floor:5.2f}× numpy")
    print(f"    tinygrad_course / PyTorch: {us['tinygrad_course'] / us['PyTorch']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
