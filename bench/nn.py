"""Benchmark: one SGD training step of (a) an MLP and (b) a small CNN, tinygrad_course vs hand-written numpy.

The numpy step is the floor for any numpy framework: forward, backprop by the lecture's
equations (1)–(4) (δᴸ = ∂c/∂a ⊙ g'(zᴸ), δˡ = δˡ⁺¹ W ⊙ g'(zˡ), ∂c/∂W = aᵀδ, ∂c/∂b = Σδ), and
the update W ← W − η ∂c/∂W; the convolution as im2col (a strided view) + GEMM. Both run in
the same process on the same data and weights; the script prints the medians and the ratio.

    python3 bench/nn.py [--repeat 300] [--profile mlp|conv]
"""

from __future__ import annotations

import argparse
import cProfile
import ctypes
import ctypes.util
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_course as tc  # noqa: E402
from tinygrad_course import nn, optim  # noqa: E402
from tinygrad_course.nn import functional as F  # noqa: E402

LR = 0.01


def median_times(ours: Callable[[], object], ref: Callable[[], object], repeat: int) -> tuple[float, float, list[float]]:
    """Median wall times (s) of two steps, run interleaved (alternating which goes first) after
    warm-up, so that a load change on the machine hits both alike; also the quartiles of the
    per-pair ratios ours/ref, which show how far the machine's noise moves the ratio."""
    for _ in range(3):
        ours()
        ref()
    t_ours, t_ref = [], []
    for k in range(repeat):
        pair = ((ours, t_ours), (ref, t_ref)) if k % 2 == 0 else ((ref, t_ref), (ours, t_ours))
        for step, times in pair:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    ratios = [a / b for a, b in zip(t_ours, t_ref)]
    return statistics.median(t_ours), statistics.median(t_ref), statistics.quantiles(ratios, n=4)


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory instead of returning it to the OS (Linux only).

    By default glibc trims the heap top and unmaps big blocks when they are freed, so the next
    step's arrays are fresh pages and pay a page fault per 4 KiB. Which step pays depends on
    the order of allocations (in an interleaved run the second one reuses what the first
    grew), not on the code being measured; keeping memory makes both steps fault-free.
    """
    path = ctypes.util.find_library("c")
    if path is None:
        return False
    libc = ctypes.CDLL(path)
    if not hasattr(libc, "mallopt"):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(libc.mallopt(m_trim_threshold, 1 << 30)) and bool(libc.mallopt(m_mmap_threshold, 1 << 25))


def softmax_ce_delta(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of logits z (N, C) for labels y, and δᴸ = (softmax(z) − onehot(y)) / N (eq. 1)."""
    n = z.shape[0]
    shifted = z - z.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    loss = -(shifted[np.arange(n), y] - np.log(s[:, 0])).mean()
    e /= s
    e[np.arange(n), y] -= 1.0
    e *= 1.0 / n
    return float(loss), e


# ------------------------------------------------------------------------------- (a) MLP
def mlp_numpy_step(x: np.ndarray, y: np.ndarray, params: list[np.ndarray]) -> float:
    """784-256-128-10 ReLU MLP, cross-entropy, one SGD step, by hand."""
    w1, b1, w2, b2, w3, b3 = params
    z1 = x @ w1.T + b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ w2.T + b2
    a2 = np.maximum(z2, 0)
    z3 = a2 @ w3.T + b3
    loss, d3 = softmax_ce_delta(z3, y)  # eq. (1)
    gw3, gb3 = d3.T @ a2, d3.sum(0)  # eqs. (3), (4)
    d2 = (d3 @ w3) * (z2 > 0)  # eq. (2)
    gw2, gb2 = d2.T @ a1, d2.sum(0)
    d1 = (d2 @ w2) * (z1 > 0)
    gw1, gb1 = d1.T @ x, d1.sum(0)
    for p, g in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
        p -= LR * g
    return loss


def ours_step(model: nn.Module, opt: optim.SGD, x: tc.Tensor, y: tc.Tensor) -> float:
    """The same step with tinygrad_course, as PyTorch's training loops write it:
    opt.zero_grad(), forward, backward(), opt.step() (p ← p − η ∂c/∂p)."""
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def manual_step(model: nn.Module, x: tc.Tensor, y: tc.Tensor) -> float:
    """The same step with the update written out: p.data -= η p.grad for model.parameters()."""
    model.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    for p in model.parameters():
        p.data -= LR * p.grad.data
    return loss


Result = tuple[float, float, list[float]]


def bench_model(model: nn.Module, numpy_step: Callable[..., float], x: np.ndarray, y: np.ndarray,
                repeat: int, profile: bool) -> tuple[Result, Result]:
    """Time our step (with optim.SGD, then with the update written out) against numpy_step."""
    params = [p.detach().numpy().copy() for p in model.parameters()]
    xt, yt = tc.from_numpy(x), tc.from_numpy(y)
    opt = optim.SGD(model.parameters(), lr=LR)
    # Same numbers first: one step each from the same weights must give the same loss.
    assert abs(numpy_step(x, y, params) - float(ours_step(model, opt, xt, yt))) < 1e-4
    if profile:
        run_profile(lambda: ours_step(model, opt, xt, yt))
    with_opt = median_times(lambda: ours_step(model, opt, xt, yt), lambda: numpy_step(x, y, params), repeat)
    written_out = median_times(lambda: manual_step(model, xt, yt), lambda: numpy_step(x, y, params), repeat)
    return with_opt, written_out


def bench_mlp(repeat: int, profile: bool) -> tuple[Result, Result]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return bench_model(model, mlp_numpy_step, x, y, repeat, profile)


# ------------------------------------------------------------------------------- (b) CNN
def conv_numpy_step(x: np.ndarray, y: np.ndarray, params: list[np.ndarray]) -> float:
    """Conv2d(1→8, 3×3) + ReLU + Linear(8·26·26 → 10) + cross-entropy, one SGD step, by hand."""
    wc, bc, wl, bl = params
    n, c, h, w = x.shape
    cout, _, kh, kw = wc.shape
    oh, ow = h - kh + 1, w - kw + 1
    # im2col in PyTorch's unfold layout (N, C·kh·kw, OH·OW): one GEMM per image gives NCHW
    cols = sliding_window_view(x, (kh, kw), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)
    z1 = wc.reshape(cout, -1) @ cols + bc.reshape(cout, 1)  # (N, C_out, OH·OW)
    a1 = np.maximum(z1, 0)
    flat = a1.reshape(n, -1)  # a view: already PyTorch's (C, H, W) order
    z2 = flat @ wl.T + bl
    loss, d2 = softmax_ce_delta(z2, y)  # eq. (1)
    gwl, gbl = d2.T @ flat, d2.sum(0)  # eqs. (3), (4)
    d1 = (d2 @ wl).reshape(n, cout, oh * ow) * (z1 > 0)  # eq. (2)
    gwc = (d1 @ cols.transpose(0, 2, 1)).sum(0).reshape(wc.shape)  # eq. (3), summed over images
    gbc = d1.sum((0, 2))
    for p, g in zip(params, (gwc, gbc, gwl, gbl)):
        p -= LR * g
    return loss


def bench_conv(repeat: int, profile: bool) -> tuple[Result, Result]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    tc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 26 * 26, 10))
    return bench_model(model, conv_numpy_step, x, y, repeat, profile)


def run_profile(step: Callable[[], object]) -> None:
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(200):
        step()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--profile", choices=("mlp", "conv"), default=None)
    parser.add_argument("--default-malloc", action="store_true", help="leave glibc's trimming on (page faults)")
    args = parser.parse_args()
    if not args.default_malloc:
        print("malloc: freed memory kept (no page faults from heap trimming):", keep_freed_memory())
    print(f"{'step':<50} {'ours (ms)':>10} {'numpy (ms)':>11} {'ratio':>7} {'target':>7}  pair ratios q1–q3")
    mlp, conv = bench_mlp(args.repeat, args.profile == "mlp"), bench_conv(args.repeat, args.profile == "conv")
    rows = [
        ("MLP 784-256-128-10, batch 128, SGD step", mlp[0], "1.1×"),
        ("  the same, update written out", mlp[1], ""),
        ("Conv2d(1→8,3×3)+ReLU+Linear, (64,1,28,28)", conv[0], "1.3×"),
        ("  the same, update written out", conv[1], ""),
    ]
    for name, (ours, ref, (q1, _, q3)), target in rows:
        print(f"{name:<50} {ours * 1e3:>10.3f} {ref * 1e3:>11.3f} {ours / ref:>6.2f}× {target:>7}  {q1:.2f}–{q3:.2f}")


if __name__ == "__main__":
    main()
