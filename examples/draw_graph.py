"""Draw the computation graph of a tiny model before and after backward.

    python examples/draw_graph.py [out_dir]      # default: ./out

Writes before.svg (structure and values), after.svg (gradients on every edge, ops numbered in
the order backward processed them; the README's picture, docs/images/gradient_flow_mlp.svg) and
steps.html (backprop, one step at a time). The pictures are laid out top to bottom, so that they
stay readable at the width of a page.
"""

import pathlib
import sys

import tinygrad_course as tc
from tinygrad_course import nn, viz


def main(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Build a 2 → 3 → 1 tanh network, draw its loss graph, backpropagate, draw it again."""
    out_dir.mkdir(parents=True, exist_ok=True)
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = tc.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = tc.tensor([[1.0], [1.0], [0.0], [0.0]])  # XOR
    loss = nn.MSELoss()(model(x), y)

    before = viz.draw_graph(loss, model, rankdir="TB")  # before backward: structure and values
    flow = viz.backward(loss, retain_graph=True)  # loss.backward(), with every edge's gradient recorded
    after = viz.draw_graph(loss, model, rankdir="TB", flow=flow)

    written = [out_dir / "before.svg", out_dir / "after.svg", out_dir / "steps.html"]
    written[0].write_bytes(before.pipe(format="svg"))
    written[1].write_bytes(after.pipe(format="svg"))
    viz.save_backprop_html(loss, written[2], model, flow=flow, rankdir="LR")
    for path in written:
        print(f"wrote {path}")
    return written


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "out"))
