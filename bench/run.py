"""Every benchmark of bench/ in one table (``python3 tasks.py bench``; about 2–3 minutes).

Each workload is timed against its reference (hand-written numpy, or PyTorch where it is
installed) in interleaved pairs, over several rounds. The table shows the median time of each
side, the ratio (the median of the rounds' ratios, each round's ratio being the median of its
per-pair ratios), each round's ratio, the spread (quartiles of all per-pair ratios), minor page
faults per step of ours (getrusage's ru_minflt), the target, and whether it holds.

The float64 MLP runs each side alone in its own process (``--worker``), since what glibc's
malloc does depends on what else the process allocated: one round is one process for ours and
one for numpy, started alternately. By default nothing tunes malloc; ``--keep-freed-memory``
sets glibc's trim and mmap thresholds in every process (for analysis: it hides page faults).

    python3 bench/run.py [--rounds 5] [--json PATH] [--only NAME] [--keep-freed-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import nn as bench_nn  # noqa: E402  (bench/nn.py)
import ops as bench_ops  # noqa: E402  (bench/ops.py)
import optim as bench_optim  # noqa: E402  (bench/optim.py)
import vmc as bench_vmc  # noqa: E402  (bench/vmc.py)

import tinygrad_course as tc  # noqa: E402
from tinygrad_course import nn, optim  # noqa: E402

try:
    import torch
except ImportError:  # PyTorch is optional: its rows fall back to numpy or are skipped
    torch = None

Step = Callable[[], object]


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_pairs(ours: Step, ref: Step, pairs: int, warmup: int = 5) -> tuple[list[float], list[float], float]:
    """Per-step times of ours and ref, interleaved (which goes first alternates); ours' faults per step."""
    for _ in range(warmup):
        ours()
        ref()
    t_ours, t_ref, n_faults = [], [], 0
    for k in range(pairs):
        f0 = faults()
        t0 = time.perf_counter()
        if k % 2:
            ref()
            t1 = time.perf_counter()
            f1 = faults()
            ours()
            t2 = time.perf_counter()
            n_faults += faults() - f1
            t_ref.append(t1 - t0)
            t_ours.append(t2 - t1)
        else:
            ours()
            t1 = time.perf_counter()
            n_faults += faults() - f0
            ref()
            t2 = time.perf_counter()
            t_ours.append(t1 - t0)
            t_ref.append(t2 - t1)
    return t_ours, t_ref, n_faults / pairs


# ----------------------------------------------------------------------------- workloads
# Each builds (ours, reference, reference's name) in this process.
def mlp32() -> tuple[Step, Step, str]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    params = [p.detach().numpy().copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=bench_nn.LR)
    xt, yt = tc.from_numpy(x), tc.from_numpy(y)
    return (lambda: bench_nn.ours_step(model, opt, xt, yt)), (lambda: bench_nn.mlp_numpy_step(x, y, params)), "numpy"


def mlp64_numpy_preallocated(x: np.ndarray, y: np.ndarray, params: list[np.ndarray]) -> Step:
    """The float64 MLP step by hand with every buffer allocated once (out= everywhere): no allocation per step."""
    w1, b1, w2, b2, w3, b3 = params
    n = x.shape[0]
    rows = np.arange(n)
    z1, z2, z3 = np.empty((n, 256)), np.empty((n, 128)), np.empty((n, 10))
    d1, d2 = np.empty_like(z1), np.empty_like(z2)
    m1, m2 = np.empty(z1.shape, bool), np.empty(z2.shape, bool)
    mx, s = np.empty((n, 1)), np.empty((n, 1))
    grads = [np.empty_like(p) for p in params]
    tmp = [np.empty_like(p) for p in params]

    def step() -> float:
        np.matmul(x, w1.T, out=z1)
        np.add(z1, b1, out=z1)
        np.maximum(z1, 0, out=z1)
        np.matmul(z1, w2.T, out=z2)
        np.add(z2, b2, out=z2)
        np.maximum(z2, 0, out=z2)
        np.matmul(z2, w3.T, out=z3)
        np.add(z3, b3, out=z3)
        np.maximum.reduce(z3, axis=1, keepdims=True, out=mx)
        np.subtract(z3, mx, out=z3)
        loss = -z3[rows, y].mean()
        np.exp(z3, out=z3)
        np.add.reduce(z3, axis=1, keepdims=True, out=s)
        loss += np.log(s).mean()
        np.divide(z3, s, out=z3)
        z3[rows, y] -= 1.0
        np.multiply(z3, 1.0 / n, out=z3)  # δ³
        gw1, gb1, gw2, gb2, gw3, gb3 = grads
        np.matmul(z3.T, z2, out=gw3)
        np.add.reduce(z3, axis=0, out=gb3)
        np.matmul(z3, w3, out=d2)
        np.greater(z2, 0, out=m2)
        np.multiply(d2, m2, out=d2)
        np.matmul(d2.T, z1, out=gw2)
        np.add.reduce(d2, axis=0, out=gb2)
        np.matmul(d2, w2, out=d1)
        np.greater(z1, 0, out=m1)
        np.multiply(d1, m1, out=d1)
        np.matmul(d1.T, x, out=gw1)
        np.add.reduce(d1, axis=0, out=gb1)
        for p, g, t in zip(params, grads, tmp):
            np.multiply(g, bench_nn.LR, out=t)
            p -= t
        return float(loss)

    return step


def mlp64_side(side: str) -> Step:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784))
    y = rng.integers(0, 10, 128)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10)).double()
    if side == "ref":
        return mlp64_numpy_preallocated(x, y, [p.detach().numpy().copy() for p in model.parameters()])
    opt = optim.SGD(model.parameters(), lr=bench_nn.LR)
    xt, yt = tc.from_numpy(x), tc.from_numpy(y)
    return lambda: bench_nn.ours_step(model, opt, xt, yt)


def conv() -> tuple[Step, Step, str]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    tc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))
    opt = optim.SGD(model.parameters(), lr=bench_nn.LR)
    xt, yt = tc.from_numpy(x), tc.from_numpy(y)
    ours = lambda: bench_nn.ours_step(model, opt, xt, yt)  # noqa: E731
    params = [p.detach().numpy().copy() for p in model.parameters()]
    if torch is None:
        return ours, (lambda: bench_nn.conv_numpy_step(x, y, params)), "numpy im2col"
    tm = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8 * 26 * 26, 10))
    with torch.no_grad():
        for p, a in zip(tm.parameters(), params):
            p.copy_(torch.from_numpy(a))
    topt = torch.optim.SGD(tm.parameters(), lr=bench_nn.LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def torch_step() -> object:
        topt.zero_grad()
        loss = torch.nn.functional.cross_entropy(tm(tx), ty)
        loss.backward()
        topt.step()
        return loss

    return ours, torch_step, f"PyTorch {torch.__version__.split('+')[0]}"


def _chain_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (rng.standard_normal((4, 4)).astype(np.float32), rng.uniform(0.9, 1.1, (4, 4)).astype(np.float32),
            rng.uniform(-0.1, 0.1, (4, 4)).astype(np.float32))


def chain_numpy() -> tuple[Step, Step, str]:
    x0, c, d = _chain_arrays()
    return (lambda: bench_ops.chain_tc(x0, c, d)), (lambda: bench_ops.chain_numpy(x0, c, d)), "numpy"


def chain_torch() -> tuple[Step, Step, str]:
    x0, c, d = _chain_arrays()
    ct, dt = torch.tensor(c), torch.tensor(d)
    return (lambda: bench_ops.chain_tc(x0, c, d)), (lambda: bench_ops.chain(torch.tensor(x0, requires_grad=True), ct, dt)), \
        f"PyTorch {torch.__version__.split('+')[0]}"


def chain_no_grad() -> tuple[Step, Step, str]:
    x0, c, d = _chain_arrays()
    xt, ct, dt = tc.from_numpy(x0), tc.from_numpy(c), tc.from_numpy(d)

    def ours() -> object:
        with tc.no_grad():
            y = xt
            for k in range(bench_ops.N_OPS):
                y = y * ct if k % 3 == 0 else y + dt if k % 3 == 1 else y.relu()
        return y

    def ref() -> object:
        y = x0
        for k in range(bench_ops.N_OPS):
            y = y * c if k % 3 == 0 else y + d if k % 3 == 1 else np.maximum(y, 0)
        return y

    return ours, ref, "numpy"


def cube() -> tuple[Step, Step, str]:
    x = np.random.default_rng(0).standard_normal(2000).astype(np.float32)
    xt = tc.from_numpy(x)
    if torch is None:
        return (lambda: xt ** 3), (lambda: x * x * x), "numpy x*x*x"
    tx = torch.from_numpy(x)
    return (lambda: xt ** 3), (lambda: tx ** 3), f"PyTorch {torch.__version__.split('+')[0]}"


def vmc_step() -> tuple[Step, Step, str]:
    """One VMC step (TFIM N = 12, RBM, SR) against the same algorithm by hand in numpy (bench/vmc.py)."""
    vmc, model = bench_vmc.ours(0)
    p = {name: t.detach().numpy() for name, t in model.named_parameters()}
    ref = bench_vmc.NumpyVMC(p["kernel"], p["hidden_bias"], p["visible_bias"], seed=0)
    return vmc.step, ref.step, "numpy by hand"


def vmc_forward() -> tuple[Step, Step, str]:
    """The sampler's call: the RBM's log ψ of 16 configurations under no_grad, against the same numpy ops."""
    _, model = bench_vmc.ours(0)
    p = {name: t.detach().numpy() for name, t in model.named_parameters()}
    ref = bench_vmc.NumpyVMC(p["kernel"], p["hidden_bias"], p["visible_bias"], seed=0)
    log_psi, configs = bench_vmc.physics.numpy_log_psi(model), ref.state.copy()
    return (lambda: log_psi(configs)), (lambda: ref.log_psi(configs)), "numpy"


def _optim(name: str) -> Callable[[], tuple[Step, Step, str]]:
    def build() -> tuple[Step, Step, str]:
        params = bench_optim.make_params(np.random.default_rng(0))
        copies = [p.detach().numpy().copy() for p in params]
        grads = [p.grad.numpy() for p in params]
        if name == "sgd":
            opt = optim.SGD(params, lr=bench_optim.LR, momentum=bench_optim.MOMENTUM)
            return opt.step, bench_optim.numpy_sgd(copies, grads), "numpy loop"
        opt = optim.Adam(params, lr=bench_optim.LR, betas=(bench_optim.BETA1, bench_optim.BETA2), eps=bench_optim.EPS)
        return opt.step, bench_optim.numpy_adam(copies, grads), "numpy loop"

    return build


# name, label, builder (None: subprocesses), target ratio, pairs per round, unit scale
WORKLOADS: list[tuple[str, str, Any, float, int, float]] = [
    ("mlp64", "MLP 784-256-128-10 float64, SGD step (own processes)", None, 1.10, 60, 1e3),
    ("mlp32", "MLP 784-256-128-10 float32, SGD step", mlp32, 1.08, 120, 1e3),
    ("conv", "Conv2d(1→8,3×3)+ReLU+Linear step, (64,1,28,28)", conv, 1.0 if torch else 1.1, 80, 1e3),
    ("chain", "100-op chain (4,4) f32, fwd+bwd", chain_numpy, 2.5, 400, 1e3),
    ("chain_torch", "100-op chain (4,4) f32, fwd+bwd", chain_torch if torch else None, 0.6, 300, 1e3),
    ("chain_nograd", "100-op chain (4,4) f32, forward, no_grad", chain_no_grad, 2.0, 600, 1e3),
    ("cube", "x ** 3, 2,000 float32", cube, 2.0, 2000, 1e3),
    ("sgd", "SGD(momentum) step, 10⁶ params / 100 tensors", _optim("sgd"), 1.3, 20, 1e3),
    ("adam", "Adam step, 10⁶ params / 100 tensors", _optim("adam"), 1.3, 12, 1e3),
    ("vmc", "VMC step, TFIM N=12, RBM α=1, SR, 1008 samples", vmc_step, 2.0, 6, 1e3),
    ("vmc_forward", "RBM log ψ of (16, 12) configs, no_grad (sampling)", vmc_forward, 4.0, 2000, 1e3),
]


def keep_freed_memory_env() -> dict[str, str]:
    return {"MALLOC_TRIM_THRESHOLD_": str(1 << 30), "MALLOC_MMAP_THRESHOLD_": str(1 << 25)}


def worker(side: str, pairs: int) -> None:
    """One side of the float64 MLP alone in this process: warm up, then per-step times and faults."""
    step = mlp64_side(side)
    for _ in range(10):
        step()
    times, f0 = [], faults()
    for _ in range(pairs):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"times": times, "faults": (faults() - f0) / pairs}))


def run_subprocess_round(pairs: int, order: tuple[str, str], keep: bool) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    if keep:
        env.update(keep_freed_memory_env())
    out = {}
    for side in order:
        done = subprocess.run([sys.executable, __file__, "--worker", side, "--pairs", str(pairs)],
                              capture_output=True, text=True, env=env, check=True)
        out[side] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def measure(name: str, builder: Any, rounds: int, pairs: int, keep: bool) -> dict[str, Any]:
    round_ratios, pair_ratios, ours_all, ref_all, fault_rates = [], [], [], [], []
    ref_name = "numpy, preallocated"
    built = None if name == "mlp64" else builder()
    if built is not None:
        ours, ref, ref_name = built
    for r in range(rounds):
        if built is None:
            got = run_subprocess_round(pairs, ("ours", "ref") if r % 2 == 0 else ("ref", "ours"), keep)
            t_ours, t_ref, f = got["ours"]["times"], got["ref"]["times"], got["ours"]["faults"]
        else:
            t_ours, t_ref, f = time_pairs(ours, ref, pairs)
        ratios = [a / b for a, b in zip(t_ours, t_ref)]
        round_ratios.append(statistics.median(ratios))
        pair_ratios += ratios
        ours_all += t_ours
        ref_all += t_ref
        fault_rates.append(f)
    q1, _, q3 = statistics.quantiles(pair_ratios, n=4)
    return {
        "name": name, "reference": ref_name, "ours_s": statistics.median(ours_all), "ref_s": statistics.median(ref_all),
        "ratio": statistics.median(round_ratios), "rounds": round_ratios, "spread": [q1, q3],
        "faults_per_step": statistics.median(fault_rates),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", metavar="PATH", help="also write the table as JSON")
    parser.add_argument("--only", action="append", help="run only these workloads (repeatable)")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="analysis only: glibc keeps freed memory (MALLOC_TRIM/MMAP_THRESHOLD_) in every process")
    parser.add_argument("--worker", choices=("ours", "ref"), help=argparse.SUPPRESS)
    parser.add_argument("--pairs", type=int, default=60, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.pairs)
        return 0
    if args.keep_freed_memory:
        print("malloc: freed memory kept in this process:", bench_nn.keep_freed_memory())
    if torch is not None:
        torch.set_num_threads(1)  # as numpy on small arrays; the conv's GEMMs are small too
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}, torch {torch.__version__ if torch else 'not installed'}, "
          f"{os.cpu_count()} CPUs; {args.rounds} rounds; malloc {'tuned (analysis)' if args.keep_freed_memory else 'glibc default'}")
    head = f"{'workload':<50} {'ours':>9} {'reference':>20} {'ref':>9} {'ratio':>6} {'q1–q3':>10} {'flt/step':>8} {'target':>7} {'holds':>5}  rounds"
    print(head)
    rows = []
    for name, label, builder, target, pairs, scale in WORKLOADS:
        if args.only and name not in args.only:
            continue
        if builder is None and name != "mlp64":
            print(f"{label:<50} (needs PyTorch: skipped)")
            continue
        row = measure(name, builder, args.rounds, pairs, args.keep_freed_memory)
        row.update(label=label, target=target, holds=row["ratio"] <= target)
        if name == "mlp64":
            row["holds"] = row["holds"] and row["faults_per_step"] <= 10
            row["target_faults"] = 10
        rows.append(row)
        unit = "ms"
        rr = " ".join(f"{x:.2f}" for x in row["rounds"])
        print(f"{label:<50} {row['ours_s'] * scale:>6.3f} {unit} {row['reference']:>20} {row['ref_s'] * scale:>6.3f} {unit} "
              f"{row['ratio']:>5.2f}× {row['spread'][0]:>4.2f}–{row['spread'][1]:<4.2f} {row['faults_per_step']:>8.1f} "
              f"{'≤' + format(target, '.2f') + '×':>7} {'yes' if row['holds'] else 'NO':>5}  {rr}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "keep_freed_memory": args.keep_freed_memory}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
