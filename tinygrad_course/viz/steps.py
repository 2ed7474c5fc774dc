"""Watching backprop happen: one picture per backward step, and a self-contained HTML player."""

from __future__ import annotations

import html
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.tensor import Tensor
from tinygrad_course.viz.draw import Options, check_args, to_digraph
from tinygrad_course.viz.flow import GradFlow, dry_run
from tinygrad_course.viz.graph import build, limit
from tinygrad_course.viz.render import GradGraph
from tinygrad_course.viz.style import fmt


def backprop_frames(
    root: Tensor,
    params: Any = None,
    *,
    flow: GradFlow | autograd.BackwardRecord | None = None,
    rankdir: str = "TB",
    show_data: bool = False,
    show_grad: bool = True,
    ops_as_nodes: bool = False,
    max_nodes: int | None = 500,
    depth: int | None = None,
) -> Iterator[GradGraph]:
    """Yield one picture per backward step k = 1 … n: the gradients known after step k, step k outlined.

    Without `flow`, the pass is recorded by a dry run (`viz.flow_of`: leaves' ``.grad`` are left
    untouched), so call it before ``loss.backward()``, or pass the `flow` recorded by
    ``viz.backward(loss)``. The other arguments are those of `draw_graph` (here `show_data`
    defaults to False, to keep the frames small).
    """
    flow = check_args("backprop_frames", root, rankdir, max_nodes, depth, flow)
    if flow is None:
        flow = dry_run(root, "backprop_frames")
    opts = Options(rankdir, show_data, show_grad, ops_as_nodes)
    n = len(flow.steps)
    for k, caption in enumerate(step_captions(flow), start=1):
        model = limit(build(root, params, flow, upto=k), max_nodes, depth)
        yield to_digraph(model, opts, caption=f"backprop step {k}/{n}: {caption}", current=k)


def step_captions(flow: GradFlow) -> list[str]:
    """One line per step: the node, the ‖∂C/∂out‖ it received and the ‖gradient‖ it sent to each input."""
    lines = []
    for node, grad_out, grad_ins in flow.steps:
        received = fmt(float(np.linalg.norm(np.asarray(grad_out._array, dtype=np.float64).ravel())))
        sent = ", ".join(
            "—" if g is None else fmt(float(np.linalg.norm(np.asarray(g._array, dtype=np.float64).ravel())))
            for g in grad_ins
        )
        lines.append(f"{node.name()} received ‖∂C/∂out‖={received}, sent [{sent}]")
    return lines


def save_backprop_html(
    root: Tensor,
    path: str | os.PathLike[str],
    params: Any = None,
    *,
    flow: GradFlow | autograd.BackwardRecord | None = None,
    title: str = "Backpropagation, step by step",
    **draw_kwargs: Any,
) -> pathlib.Path:
    """Write one self-contained HTML file (inline SVG frames, a slider, no internet needed) stepping through backprop.

    One frame per backward step (see `backprop_frames`; `draw_kwargs` go there). Rendering needs
    Graphviz's `dot` or the ``viz-wasm`` extra. The file is written whole or not at all.
    """
    if isinstance(flow, autograd.BackwardRecord):
        flow = GradFlow(flow)
    if flow is None:
        flow = dry_run(root, "save_backprop_html")
    frames = [
        frame.pipe(format="svg", encoding="utf-8") for frame in backprop_frames(root, params, flow=flow, **draw_kwargs)
    ]
    captions = step_captions(flow)
    page = _page(title, [_inline_svg(svg) for svg in frames], captions)
    target = pathlib.Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target, then renamed over it: the file is whole or absent.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _inline_svg(svg: str) -> str:
    """An SVG document as an element for HTML: without the XML prolog and DOCTYPE."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("save_backprop_html: the renderer returned no <svg> element")
    return svg[start:]


def _page(title: str, frames: list[str], captions: list[str]) -> str:
    n = len(frames)
    divs = "\n".join(
        f'<div class="frame{" active" if k == 0 else ""}" data-step="{k + 1}" '
        f'data-caption="{html.escape(captions[k] if k < len(captions) else "")}">\n{svg}\n</div>'
        for k, svg in enumerate(frames)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 1em; }}
.controls {{ position: sticky; top: 0; background: white; padding: 0.5em 0; }}
.frame {{ display: none; }} .frame.active {{ display: block; }}
input[type=range] {{ width: 40em; max-width: 90%; vertical-align: middle; }}
#caption {{ font-family: monospace; margin-top: 0.3em; }}
</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>Backward processes the graph in reverse topological order, one node per step; the outlined box is
the node processed at this step, and coloured edges carry the gradients known so far.
Use the slider or the arrow keys.</p>
<div class="controls">
<button id="prev">&#9664;</button>
<input type="range" id="slider" min="1" max="{n}" value="1">
<button id="next">&#9654;</button>
<span id="label">step 1 / {n}</span>
<div id="caption"></div>
</div>
{divs}
<script>
(function () {{
  var frames = document.querySelectorAll('.frame');
  var slider = document.getElementById('slider');
  function show(k) {{
    k = Math.max(1, Math.min(frames.length, k));
    slider.value = k;
    for (var i = 0; i < frames.length; i++) frames[i].classList.toggle('active', i === k - 1);
    document.getElementById('label').textContent = 'step ' + k + ' / ' + frames.length;
    document.getElementById('caption').textContent = frames[k - 1].getAttribute('data-caption');
  }}
  slider.addEventListener('input', function () {{ show(parseInt(slider.value, 10)); }});
  document.getElementById('prev').addEventListener('click', function () {{ show(parseInt(slider.value, 10) - 1); }});
  document.getElementById('next').addEventListener('click', function () {{ show(parseInt(slider.value, 10) + 1); }});
  document.addEventListener('keydown', function (e) {{
    if (e.key === 'ArrowLeft') show(parseInt(slider.value, 10) - 1);
    if (e.key === 'ArrowRight') show(parseInt(slider.value, 10) + 1);
  }});
  show(1);
}})();
</script>
</body></html>
"""
