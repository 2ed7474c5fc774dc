"""Seeing backpropagation: the graph of a small MLP before and after backward, a deep sigmoid
network whose gradients vanish layer by layer, and a step-through of backprop in the browser.

Backprop carries δ⁽ˡ⁾ = ∂C/∂z⁽ˡ⁾ down the layers with δ⁽ˡ⁾ = (δ⁽ˡ⁺¹⁾ W⁽ˡ⁺¹⁾) ⊙ g'(z⁽ˡ⁾) (eq. 2),
and ∂C/∂W⁽ˡ⁾ = a⁽ˡ⁻¹⁾ δ⁽ˡ⁾ (eq. 3). The sigmoid's slope is at most 1/4, so with small weights every
layer multiplies δ by a factor well below 1: the pictures show the gradient fading layer by layer.

Run with ``python -m tinygrad_course graph`` (writes to ./out/graph by default).
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

import tinygrad_course as tc
from tinygrad_course import nn, viz
from tinygrad_course.lessons.experiments.common import atomic_write, write_json
from tinygrad_course.viz.render import INSTALL_HELP


def mlp_batch(seed: int, batch: int = 16) -> tuple[nn.Module, tc.Tensor]:
    """A 2 → 8 → 1 tanh MLP and its MSE loss C on a mini-batch of y = sin(3 x₁) + x₂² (seeded)."""
    tc.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    x = tc.rand(batch, 2) * 2 - 1
    y = ((x[:, 0] * 3).sin() + x[:, 1] ** 2).unsqueeze(1)
    loss = nn.MSELoss()(model(x), y)
    return model, loss


def deep_sigmoid(seed: int, layers: int = 10, width: int = 16, std: float = 0.1) -> tuple[nn.Module, tc.Tensor]:
    """A deep sigmoid network initialised badly on purpose: W ~ N(0, std²), below Xavier's √(1/width) = 0.25."""
    tc.manual_seed(seed)
    blocks: list[nn.Module] = []
    for _ in range(layers):
        linear = nn.Linear(width, width)
        nn.init.normal_(linear.weight, 0.0, std)
        nn.init.zeros_(linear.bias)
        blocks += [linear, nn.Sigmoid()]
    head = nn.Linear(width, 1)
    model = nn.Sequential(*blocks, head)
    x = tc.randn(32, width)
    y = tc.randn(32, 1)
    loss = nn.MSELoss()(model(x), y)
    return model, loss


def _write(graph: viz.GradGraph, out_dir: pathlib.Path, stem: str, png: bool) -> list[pathlib.Path]:
    """Render to <stem>.svg (and .png with Graphviz's dot); without any renderer, save <stem>.dot. Each file atomically."""
    written = []
    try:
        path = out_dir / f"{stem}.svg"
        atomic_write(path, graph.pipe(format="svg"))
        written.append(path)
        if png:
            path = out_dir / f"{stem}.png"
            atomic_write(path, graph.pipe(format="png"))
            written.append(path)
    except viz.GraphvizNotFoundError:
        path = out_dir / f"{stem}.dot"
        atomic_write(path, graph.source)
        written.append(path)
    return written


def run(out_dir: pathlib.Path, quick: bool = False, seed: int = 0) -> dict[str, Any]:
    """Draw the three pictures into `out_dir` and write ``graph.json`` (the deep network's ‖∂C/∂W‖ per layer).

    Returns {"files": [...], "deep_grad_norms": {layer: ‖∂C/∂W‖}}.
    """
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    png = viz.dot_available()
    if not png and viz.wasm_renderer() is None:
        print("Graphviz's `dot` is not installed: writing DOT sources only.\n" + INSTALL_HELP)
    files: list[pathlib.Path] = []

    # (1) a 2-layer MLP on a mini-batch, before and after backward
    model, loss = mlp_batch(seed)
    files += _write(viz.draw_graph(loss, model, rankdir="LR"), out_dir, "mlp_before", png)
    flow = viz.flow_of(loss)  # a dry run keeps the graph for the step-through below
    files += _write(viz.draw_graph(loss, model, rankdir="LR", flow=flow), out_dir, "mlp_after", png)

    # (3) the step-through of that backward pass, one frame per node
    try:
        files.append(viz.save_backprop_html(loss, out_dir / "backprop_steps.html", model, flow=flow, rankdir="LR"))
    except viz.GraphvizNotFoundError:
        pass  # already explained above

    # (2) the deep sigmoid network: one box per layer, coloured by its aggregate ‖∂C/∂W‖
    layers = 6 if quick else 10
    deep, deep_loss = deep_sigmoid(seed, layers=layers)
    deep_flow = viz.backward(deep_loss)
    files += _write(viz.draw_graph(deep_loss, deep, flow=deep_flow, depth=1), out_dir, "deep_sigmoid", png)
    if not quick:
        files += _write(viz.draw_graph(deep_loss, deep, flow=deep_flow), out_dir, "deep_sigmoid_full", png)
    norms = {
        name: float(np.linalg.norm(p.grad._array))
        for name, p in deep.named_parameters()
        if name.endswith("weight") and p.grad is not None
    }
    print(f"deep sigmoid network, {layers} layers, W ~ N(0, 0.1²): ‖∂C/∂W‖ per layer (input side first)")
    for name, norm in norms.items():
        print(f"  {name:>10}  {norm:.3e}  {'#' * max(1, int(12 + np.log10(norm + 1e-30)))}")
    write_json(out_dir, "graph", {"layers": layers, "weight_std": 0.1, "deep_grad_norms": norms}, files)
    print("wrote:")
    for path in files:
        print(f"  {path}")
    return {"files": files, "deep_grad_norms": norms}
