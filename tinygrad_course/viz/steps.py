"""Watching backprop happen: one picture per backward step, and a self-contained HTML player."""

from __future__ import annotations

import html
import os
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.tensor import Tensor
from tinygrad_course.viz.draw import Options, check_args, to_digraph
from tinygrad_course.viz.flow import GradFlow, dry_run
from tinygrad_course.viz.graph import build, limit, parameter_names
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
    for k, caption in enumerate(step_captions(flow, params), start=1):
        model = limit(build(root, params, flow, upto=k), max_nodes, depth)
        yield to_digraph(model, opts, caption=f"backprop step {k}/{n}: {caption}", current=k)


def step_captions(flow: GradFlow, params: Any = None) -> list[str]:
    """One line per step: the node, the ‖∂C/∂out‖ it received, and each input with the ‖gradient‖ it got.

    An input is named by its parameter name from `params` (``→ 0.weight: ‖g‖ = 0.26``), else by
    the op that made it and that op's step (``→ AddBackward #3: ‖g‖ = …``), else ``input (8, 3)``
    for a leaf; inputs that need no gradient are left out.
    """
    names, _ = parameter_names(params)
    order = flow.order()
    lines = []
    for node, grad_out, grad_ins in flow.steps:
        received = fmt(_norm(grad_out))
        sent = []
        for t, g in zip(node.parents, grad_ins):
            if not getattr(t, "requires_grad", False):
                continue
            sent.append(
                f"→ {_input_name(t, names, order)}: " + ("no gradient" if g is None else f"‖g‖ = {fmt(_norm(g))}")
            )
        lines.append(f"{node.name()} received ‖∂C/∂out‖ = {received}" + (" " + ", ".join(sent) if sent else ""))
    return lines


def _norm(g: Any) -> float:
    return float(np.linalg.norm(np.asarray(g._array, dtype=np.float64).ravel()))


def _input_name(t: Tensor, names: dict[int, str], order: dict[int, int]) -> str:
    if id(t) in names:
        return names[id(t)]
    if t.grad_fn is not None:
        step = order.get(id(t.grad_fn))
        return t.grad_fn.name() + (f" #{step}" if step is not None else "")
    return f"input {tuple(t.shape)}"


class BackpropViewer:
    """The step-through player of one backward pass: a self-contained HTML page.

    Shown inline in Jupyter (``_repr_html_``: the page in a sandboxed ``<iframe>``, so its script
    runs in classic Notebook, JupyterLab and VS Code alike); ``.save(path)`` writes the page;
    ``.html`` is its text. Arguments as for `save_backprop_html`.
    """

    def __init__(
        self,
        root: Tensor,
        params: Any = None,
        *,
        flow: GradFlow | autograd.BackwardRecord | None = None,
        title: str = "Backpropagation, step by step",
        height: int = 600,
        **draw_kwargs: Any,
    ) -> None:
        if isinstance(flow, autograd.BackwardRecord):
            flow = GradFlow(flow)
        if flow is None:
            flow = dry_run(root, "BackpropViewer")
        frames = [
            frame.pipe(format="svg", encoding="utf-8")
            for frame in backprop_frames(root, params, flow=flow, **draw_kwargs)
        ]
        self.captions = step_captions(flow, params)
        self.title = title
        self.height = height
        self.html = _page(title, [_inline_svg(svg) for svg in frames], self.captions)

    def __len__(self) -> int:
        return len(self.captions)

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="{html.escape(self.title)}" '
            f'style="width: 100%; height: {int(self.height)}px; border: 1px solid #ccc;" '
            'sandbox="allow-scripts"></iframe>'
        )

    def save(self, path: str | os.PathLike[str]) -> pathlib.Path:
        """Write the page to `path` (folders created), whole or not at all; returns the path."""
        target = pathlib.Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target, then renamed over it: the file is whole or absent.
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(self.html)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return target


def save_backprop_html(
    root: Tensor,
    path: str | os.PathLike[str],
    params: Any = None,
    *,
    flow: GradFlow | autograd.BackwardRecord | None = None,
    title: str = "Backpropagation, step by step",
    **draw_kwargs: Any,
) -> pathlib.Path:
    """Write one self-contained HTML file stepping through backprop (no internet needed).

    One frame per backward step (see `backprop_frames`; `draw_kwargs` go there), each with a
    caption naming every input and the ‖gradient‖ it received. The page fits the window at any
    size and zooms (wheel, ``+``/``-``, ``0`` to fit) and pans (drag, ``W``/``A``/``S``/``D``);
    ←/→ step, Home/End jump, space plays and pauses; the node processed at the current step is
    highlighted and kept in view. Rendering needs Graphviz's `dot` or the ``viz-wasm`` extra.
    The file is written whole or not at all. In Jupyter, show `BackpropViewer(...)` instead.
    """
    return BackpropViewer(root, params, flow=flow, title=title, **draw_kwargs).save(path)


def _inline_svg(svg: str) -> str:
    """An SVG document as an element for HTML: without the XML prolog and DOCTYPE, sized by the page."""
    start = svg.find("<svg")
    if start < 0:
        raise RuntimeError("save_backprop_html: the renderer returned no <svg> element")
    element = svg[start:]
    head_end = element.find(">")
    head = re.sub(r'\s(width|height)="[^"]*"', "", element[:head_end])
    return head + ' width="100%" height="100%" preserveAspectRatio="xMidYMid meet"' + element[head_end:]


def _page(title: str, frames: list[str], captions: list[str]) -> str:
    n = len(frames)
    divs = "\n".join(
        f'<div class="frame{" active" if k == 0 else ""}" data-step="{k + 1}" '
        f'data-caption="{html.escape(captions[k] if k < len(captions) else "")}">\n{svg}\n</div>'
        for k, svg in enumerate(frames)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
html, body {{ margin: 0; height: 100%; overflow: hidden; }}
body {{ display: flex; flex-direction: column; font-family: Helvetica, Arial, sans-serif; font-size: 14px; }}
header {{ flex: 0 0 auto; padding: 0.4em 0.8em; border-bottom: 1px solid #ddd; background: #fafafa; }}
h1 {{ font-size: 1.1em; margin: 0 0 0.3em 0; }}
.controls {{ display: flex; flex-wrap: wrap; align-items: center; gap: 0.4em; }}
.controls button {{ min-width: 2.2em; }}
#slider {{ flex: 1 1 8em; min-width: 4em; }}
#hint {{ color: #666; font-size: 0.85em; }}
#caption {{ font-family: monospace; white-space: pre-wrap; overflow-wrap: anywhere; margin-top: 0.3em;
  min-height: 2.5em; max-height: 7em; overflow-y: auto; }}
#stage {{ flex: 1 1 auto; position: relative; min-height: 0; overflow: hidden; cursor: grab; }}
#stage.dragging {{ cursor: grabbing; }}
.frame {{ display: none; position: absolute; left: 0; top: 0; right: 0; bottom: 0; }}
.frame.active {{ display: block; }}
.frame svg {{ display: block; width: 100%; height: 100%; }}
.frame g.node.current polygon, .frame g.node.current path, .frame g.node.current ellipse {{
  stroke: #d62728; stroke-width: 5px; }}
</style></head>
<body>
<header>
<h1>{html.escape(title)}</h1>
<div class="controls">
<button id="first" title="first step (Home)">|&#9664;</button>
<button id="prev" title="previous step (&#8592;)">&#9664;</button>
<button id="play" title="play / pause (space)">&#9654; play</button>
<button id="next" title="next step (&#8594;)">&#9654;</button>
<button id="last" title="last step (End)">&#9654;|</button>
<input type="range" id="slider" min="1" max="{n}" value="1" aria-label="step">
<span id="label">step 1 / {n}</span>
<button id="zoomout" title="zoom out (-)">&#8722;</button>
<button id="fit" title="fit to the window (0)">fit</button>
<button id="zoomin" title="zoom in (+)">+</button>
<span id="hint">&#8592;/&#8594; step &middot; space play/pause &middot; wheel or +/&#8722; zoom &middot; drag or W A S D pan &middot; 0 fit</span>
</div>
<div id="caption" aria-live="polite"></div>
</header>
<div id="stage">
{divs}
</div>
<script>
(function () {{
  var frames = document.querySelectorAll('.frame');
  var n = frames.length;
  var stage = document.getElementById('stage');
  var slider = document.getElementById('slider');
  var playButton = document.getElementById('play');
  var bases = [];
  for (var i = 0; i < n; i++) {{
    var b = frames[i].querySelector('svg').viewBox.baseVal;
    bases.push({{x: b.x, y: b.y, w: b.width, h: b.height}});
  }}
  var state = {{step: 1, zoom: 1, cx: null, cy: null, timer: null}};
  window.backpropViewer = state;

  function svg() {{ return frames[state.step - 1].querySelector('svg'); }}
  function clamp(v, lo, hi) {{ return lo > hi ? (lo + hi) / 2 : Math.max(lo, Math.min(hi, v)); }}
  function apply() {{
    var b = bases[state.step - 1];
    var w = b.w / state.zoom, h = b.h / state.zoom;
    if (state.cx === null) {{ state.cx = b.x + b.w / 2; state.cy = b.y + b.h / 2; }}
    state.cx = clamp(state.cx, b.x + w / 2, b.x + b.w - w / 2);
    state.cy = clamp(state.cy, b.y + h / 2, b.y + b.h - h / 2);
    svg().setAttribute('viewBox', (state.cx - w / 2) + ' ' + (state.cy - h / 2) + ' ' + w + ' ' + h);
  }}
  function toUser(clientX, clientY) {{
    var s = svg(), p = s.createSVGPoint();
    p.x = clientX; p.y = clientY;
    return p.matrixTransform(s.getScreenCTM().inverse());
  }}
  function centreCurrent() {{
    var node = frames[state.step - 1].querySelector('g.node.current');
    if (!node) return;
    var r = node.getBoundingClientRect();
    var c = toUser(r.left + r.width / 2, r.top + r.height / 2);
    state.cx = c.x; state.cy = c.y;
    apply();
  }}
  function show(k) {{
    k = Math.max(1, Math.min(n, k));
    state.step = k;
    slider.value = k;
    for (var i = 0; i < n; i++) frames[i].classList.toggle('active', i === k - 1);
    document.getElementById('label').textContent = 'step ' + k + ' / ' + n;
    var text = frames[k - 1].getAttribute('data-caption');
    document.getElementById('caption').textContent = 'step ' + k + ': ' + text.split(', \\u2192 ').join('\\n\\u2192 ').replace(' \\u2192 ', '\\n\\u2192 ');
    document.body.setAttribute('data-step', k);
    apply();
    centreCurrent();
    if (k === n) pause();
  }}
  function zoomBy(factor, clientX, clientY) {{
    var z = Math.max(0.5, Math.min(40, state.zoom * factor));
    factor = z / state.zoom;
    if (clientX !== undefined) {{
      var p = toUser(clientX, clientY);
      state.cx = p.x + (state.cx - p.x) / factor;
      state.cy = p.y + (state.cy - p.y) / factor;
    }}
    state.zoom = z;
    apply();
  }}
  function panBy(dxPixels, dyPixels) {{
    var scale = svg().getScreenCTM().a || 1;
    state.cx -= dxPixels / scale; state.cy -= dyPixels / scale;
    apply();
  }}
  function fit() {{ state.zoom = 1; state.cx = null; apply(); centreCurrent(); }}
  function play() {{
    if (state.timer) return;
    if (state.step === n) show(1);
    playButton.innerHTML = '&#10074;&#10074; pause';
    state.timer = setInterval(function () {{ show(state.step + 1); }}, 900);
  }}
  function pause() {{
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    playButton.innerHTML = '&#9654; play';
  }}
  slider.addEventListener('input', function () {{ show(parseInt(slider.value, 10)); }});
  document.getElementById('first').addEventListener('click', function () {{ show(1); }});
  document.getElementById('prev').addEventListener('click', function () {{ show(state.step - 1); }});
  document.getElementById('next').addEventListener('click', function () {{ show(state.step + 1); }});
  document.getElementById('last').addEventListener('click', function () {{ show(n); }});
  playButton.addEventListener('click', function () {{ state.timer ? pause() : play(); }});
  document.getElementById('zoomin').addEventListener('click', function () {{ zoomBy(1.25); centreCurrent(); }});
  document.getElementById('zoomout').addEventListener('click', function () {{ zoomBy(0.8); }});
  document.getElementById('fit').addEventListener('click', fit);
  stage.addEventListener('wheel', function (e) {{
    e.preventDefault();
    zoomBy(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX, e.clientY);
  }}, {{passive: false}});
  var drag = null;
  stage.addEventListener('mousedown', function (e) {{ drag = {{x: e.clientX, y: e.clientY}}; stage.classList.add('dragging'); }});
  window.addEventListener('mousemove', function (e) {{
    if (!drag) return;
    panBy(e.clientX - drag.x, e.clientY - drag.y);
    drag = {{x: e.clientX, y: e.clientY}};
  }});
  window.addEventListener('mouseup', function () {{ drag = null; stage.classList.remove('dragging'); }});
  window.addEventListener('resize', function () {{ apply(); }});
  document.addEventListener('keydown', function (e) {{
    if (e.target === slider && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) return;  // the slider steps itself
    var step = 60, handled = true;
    switch (e.key) {{
      case 'ArrowRight': case 'PageDown': case 'n': show(state.step + 1); break;
      case 'ArrowLeft': case 'PageUp': case 'p': show(state.step - 1); break;
      case 'Home': show(1); break;
      case 'End': show(n); break;
      case ' ': state.timer ? pause() : play(); break;
      case '+': case '=': zoomBy(1.25); centreCurrent(); break;
      case '-': case '_': zoomBy(0.8); break;
      case '0': fit(); break;
      case 'w': case 'W': panBy(0, step); break;
      case 's': case 'S': panBy(0, -step); break;
      case 'a': case 'A': panBy(step, 0); break;
      case 'd': case 'D': panBy(-step, 0); break;
      default: handled = false;
    }}
    if (handled) e.preventDefault();
  }});
  show(1);
}})();
</script>
</body></html>
"""
