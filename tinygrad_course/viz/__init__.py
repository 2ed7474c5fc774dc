"""The gradient-flow renderer: see the computation graph, and watch backprop happen.

Usage (``loss`` computed by ``model``, a Module or a dict name → Tensor)::

    from tinygrad_course import viz
    viz.draw_graph(loss, model)                    # before backward: structure and values
    flow = viz.backward(loss)                      # loss.backward(), with every edge recorded
    viz.draw_graph(loss, model, flow=flow).render("after", format="svg")
    viz.save_backprop_html(loss, "backprop.html", model, flow=flow)   # step through it
    viz.BackpropViewer(loss, model, flow=flow)     # the same player, inline in Jupyter
"""

from tinygrad_course.viz.draw import draw_graph
from tinygrad_course.viz.flow import GradFlow, backward, flow_of, watch
from tinygrad_course.viz.render import GradGraph, GraphvizNotFoundError, dot_available, wasm_renderer
from tinygrad_course.viz.steps import BackpropViewer, backprop_frames, save_backprop_html
from tinygrad_course.viz.style import EXPLODING, PALETTE, RAMP, VANISHING

__all__ = [
    "EXPLODING",
    "BackpropViewer",
    "PALETTE",
    "RAMP",
    "VANISHING",
    "GradFlow",
    "GradGraph",
    "GraphvizNotFoundError",
    "backprop_frames",
    "backward",
    "dot_available",
    "draw_graph",
    "flow_of",
    "save_backprop_html",
    "wasm_renderer",
    "watch",
]
