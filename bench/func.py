"""Function transforms (issue 13): per-sample gradients, Jacobian, HVP, Hessian and Laplacian, float64.

Each workload is timed against a loop of ``tc.grad`` (the hand-written way) and, when PyTorch
is installed, against ``torch.func`` / ``torch.autograd.functional`` in the same run: medians of
interleaved rounds, so every contender sees the same machine load. PyTorch runs on one thread,
as numpy on these small arrays does.

Run: ``python bench/func.py`` (``--rounds N`` for more rounds).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import tinygrad_course as tc  # noqa: E402
from tinygrad_course import func, nn  # noqa: E402
from tinygrad_course.autograd import functional as AF  # noqa: E402
from tinygrad_course.nn import functional as F  # noqa: E402

try:
    import torch
except ImportError:  # the PyTorch columns are then left out
    torch = None


def medians(contenders: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each contender, calls interleaved round by round."""
    for step in contenders.values():  # warm up (and fail early)
        step()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, step in contenders.items():
            t0 = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(t) for name, t in times.items()}


def report(title: str, t: dict[str, float], ours: str, target: str) -> None:
    """Print each contender's time and its ratio to ours."""
    print(f"{title}  (target: {target})")
    for name, s in t.items():
        print(f"    {name:34s} {s * 1e3:9.3f} ms   ours / this = {t[ours] / s:6.2f}")


def mlp(sizes: list[int]) -> nn.Sequential:
    """A tanh MLP in float64 (the weights drawn by the seeded generator)."""
    layers: list[nn.Module] = []
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if k < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers).double()


def torch_copy(model: nn.Module) -> object:
    """The same MLP in PyTorch, with our weights."""
    layers = []
    for m in model:
        if isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features).double()
            t.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in m.state_dict().items()})
            layers.append(t)
        else:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def per_sample(rounds: int) -> None:
    """Per-sample gradients of a 10→32→3 classifier's loss, batch 64."""
    tc.manual_seed(0)
    model = mlp([10, 32, 3])
    params = {k: v.detach() for k, v in model.named_parameters()}
    rng = np.random.default_rng(0)
    x, y = tc.tensor(rng.standard_normal((64, 10))), tc.tensor(rng.integers(0, 3, 64))

    def loss(p: dict, xb: tc.Tensor, yb: tc.Tensor) -> tc.Tensor:
        out = func.functional_call(model, p, (xb.unsqueeze(0),))
        return F.cross_entropy(out, yb.unsqueeze(0))

    ours = func.vmap(func.grad(loss), in_dims=(None, 0, 0))
    leaves = [p.requires_grad_() for p in (v.clone() for v in params.values())]
    names = list(params)

    def loop() -> object:
        out = []
        for b in range(64):
            p = dict(zip(names, leaves))
            out.append(tc.grad(loss(p, x[b], y[b]), leaves))
        return out

    contenders = {"tc.func.vmap(grad)": lambda: ours(params, x, y), "loop of tc.grad": loop}
    if torch is not None:
        tm = torch_copy(model)
        tp = {k: v.detach() for k, v in tm.named_parameters()}
        tx, ty = torch.tensor(x.numpy()), torch.tensor(y.numpy())

        def tloss(p: dict, xb: object, yb: object) -> object:
            out = torch.func.functional_call(tm, p, (xb.unsqueeze(0),))
            return torch.nn.functional.cross_entropy(out, yb.unsqueeze(0))

        tf = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))
        contenders["torch.func.vmap(grad)"] = lambda: tf(tp, tx, ty)
    report("per-sample gradients, MLP 10→32→3, batch 64", medians(contenders, rounds),
           "tc.func.vmap(grad)", "≤ 1.0× torch.func, ≥ 5× faster than the loop")


def jacobian_hvp_hessian(rounds: int) -> None:
    """Jacobian of an MLP R¹⁰→R⁵, an HVP of it, and the Hessian of a 50-parameter scalar function."""
    tc.manual_seed(1)
    model = mlp([10, 32, 5])
    x = tc.tensor(np.random.default_rng(1).standard_normal(10))
    contenders = {"tc.autograd.functional.jacobian": lambda: AF.jacobian(model, x)}
    if torch is not None:
        tm, tx = torch_copy(model), torch.tensor(x.numpy())
        contenders["torch.autograd.functional.jacobian"] = lambda: torch.autograd.functional.jacobian(tm, tx)
    report("Jacobian, MLP R¹⁰→R⁵", medians(contenders, rounds), "tc.autograd.functional.jacobian", "≤ 1.0× torch")

    def energy(v: tc.Tensor) -> tc.Tensor:
        return (model(v) ** 2).sum()

    w = tc.tensor(np.ones(10))
    contenders = {"tc.autograd.functional.hvp": lambda: AF.hvp(energy, x, w)}
    if torch is not None:
        contenders["torch.autograd.functional.hvp"] = lambda: torch.autograd.functional.hvp(
            lambda v: (tm(v) ** 2).sum(), tx, torch.ones(10, dtype=torch.float64))
    report("HVP of ‖MLP(x)‖²", medians(contenders, rounds), "tc.autograd.functional.hvp", "≤ 1.5× torch")

    rng = np.random.default_rng(2)
    a, p0 = rng.standard_normal((50, 50)) / 50, rng.standard_normal(50)
    ta = tc.tensor(a)
    contenders = {"tc hessian(vectorize=True)": lambda: AF.hessian(
        lambda q: (q.tanh() @ ta @ q.tanh()) + (q ** 4).sum(), tc.tensor(p0), vectorize=True)}
    if torch is not None:
        ta_t = torch.tensor(a)
        contenders["torch hessian(vectorize=True)"] = lambda: torch.autograd.functional.hessian(
            lambda q: (q.tanh() @ ta_t @ q.tanh()) + (q ** 4).sum(), torch.tensor(p0), vectorize=True)
    report("Hessian of a 50-parameter scalar function", medians(contenders, rounds), "tc hessian(vectorize=True)",
           "≤ 2× torch's vectorize=True")


def laplacian(rounds: int) -> None:
    """Δₓ of an MLP 20→32→32→1 over a batch of 256 inputs."""
    tc.manual_seed(3)
    model = mlp([20, 32, 32, 1])
    x = tc.tensor(np.random.default_rng(3).standard_normal((256, 20)))

    def f(v: tc.Tensor) -> tc.Tensor:
        return model(v).squeeze(-1)

    lap = func.laplacian(f)

    def lap_values_only() -> tc.Tensor:
        with tc.no_grad():
            return lap(x)

    def double_backward_loop() -> tc.Tensor:
        v = x.detach().requires_grad_()
        (g,) = tc.grad(f(v).sum(), v, create_graph=True)
        return sum(tc.grad(g[:, i].sum(), v, retain_graph=True)[0][:, i] for i in range(20))

    # The loops below give values only; tc.func.laplacian under grad mode also keeps Δf
    # differentiable in the parameters, under no_grad it gives values only, like them.
    contenders = {"tc.func.laplacian (no_grad)": lap_values_only, "tc.func.laplacian (differentiable)": lambda: lap(x),
                  "double-backward loop (tc)": double_backward_loop}
    if torch is not None:
        tm, tx = torch_copy(model), torch.tensor(x.numpy())

        def torch_loop() -> object:
            v = tx.detach().requires_grad_()
            (g,) = torch.autograd.grad(tm(v).squeeze(-1).sum(), v, create_graph=True)
            return sum(torch.autograd.grad(g[:, i].sum(), v, retain_graph=True)[0][:, i] for i in range(20))

        contenders["double-backward loop (torch)"] = torch_loop
    report("Laplacian, MLP 20→32→32→1, batch 256", medians(contenders, rounds), "tc.func.laplacian (no_grad)",
           "≤ 0.6× the double-backward loop, ≤ 1.0× torch's loop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds per workload (default 30)")
    args = parser.parse_args()
    if torch is not None:
        torch.set_num_threads(1)
        print(f"torch {torch.__version__}, one thread")
    else:
        print("PyTorch not installed: the torch columns are left out")
    per_sample(args.rounds)
    jacobian_hvp_hessian(args.rounds)
    laplacian(args.rounds)


if __name__ == "__main__":
    main()
