"""`draw_graph`: the computation graph as a Graphviz picture, with gradient flow on its edges."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.tensor import Tensor
from tinygrad_course.viz import style
from tinygrad_course.viz.flow import GradFlow
from tinygrad_course.viz.graph import Model, VNode, build, limit
from tinygrad_course.viz.render import GradGraph, use_text_labels

RANKDIRS = ("TB", "BT", "LR", "RL")
FONT = "Helvetica"


@dataclass
class Options:
    """The drawing switches of `draw_graph` (see there)."""

    rankdir: str = "TB"
    show_data: bool = True
    show_grad: bool = True
    ops_as_nodes: bool = False


def draw_graph(
    root: Tensor,
    params: Any = None,
    *,
    rankdir: str = "TB",
    show_data: bool = True,
    show_grad: bool = True,
    ops_as_nodes: bool = False,
    max_nodes: int | None = 500,
    depth: int | None = None,
    flow: GradFlow | autograd.BackwardRecord | None = None,
) -> GradGraph:
    """Draw the graph that computed `root`: tensors, ops, and the gradient ∂C/∂x that flowed back.

    Edges point forward (input → output). Each box shows the name (parameter name from `params`,
    or the op, e.g. ``MulBackward``), shape and dtype, the value (≤ 4 elements) or mean/std, and,
    when known, ‖grad‖ and max|grad|; the tooltip has full statistics. Colours and edge widths
    come from one log-scale ramp of r = ‖∂C/∂x‖ / ‖∂C/∂C‖ (legend at the bottom): r < 1e-4 is
    flagged vanishing, r ≥ 1e4 exploding, NaN/Inf is magenta and the box where it first appeared
    says so; tensors that need no gradient are grey.

    What is shown depends on when you call it:

    * before backward: structure and values;
    * after a plain ``loss.backward()``: additionally the leaves' ``.grad`` (and the ``.grad`` of
      tensors that called ``retain_grad()``);
    * with ``flow=viz.backward(loss)`` (or ``with viz.watch() as flow: loss.backward()``): every
      box's ∂C/∂out, the gradient along every edge, and each op numbered ``#k`` by the step at
      which the engine processed it (the reverse topological order).

    Args:
        root: the tensor to draw the graph of (usually the loss C).
        params: a Module (``named_parameters()``/``named_modules()``) or a dict name → Tensor, so
            parameters show their dotted names (``fc1.weight``) and modules become
            ``cluster_<path>`` boxes.
        rankdir: Graphviz layout direction, one of TB, BT, LR, RL.
        show_data: show values (or mean/std).
        show_grad: show gradient norms on boxes and edges, and the legend.
        ops_as_nodes: draw each op as its own small ellipse between its inputs and its output
            tensor (micrograd style; best for scalar lessons).
        max_nodes: past this many boxes, modules collapse into one summary box each (as deep as
            fits), then the boxes farthest from the root are replaced by one "more" box; None: no limit.
        depth: collapse every module at this nesting depth (0 = outermost) into a summary box.
        flow: the recorded backward pass (`viz.backward`, `viz.watch`), or the engine's
            `autograd.BackwardRecord` itself.

    Returns:
        A `graphviz.Digraph` (shown inline as SVG in Jupyter; ``.render(path, format="svg")``,
        ``.source`` for the DOT text). Rendering without Graphviz's `dot` uses the ``viz-wasm``
        extra if installed (SVG only), else raises `GraphvizNotFoundError`.
    """
    flow = check_args("draw_graph", root, rankdir, max_nodes, depth, flow)
    model = limit(build(root, params, flow), max_nodes, depth)
    return to_digraph(model, Options(rankdir, show_data, show_grad, ops_as_nodes))


def check_args(op: str, root: Any, rankdir: str, max_nodes: Any, depth: Any, flow: Any) -> GradFlow | None:
    """Validate draw_graph's arguments; returns `flow` as a GradFlow (or None)."""
    if not isinstance(root, Tensor):
        raise TypeError(f"{op}: root must be a Tensor (e.g. the loss), got {type(root).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"{op}: rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 2):
        raise ValueError(f"{op}: max_nodes must be an int ≥ 2 or None, got {max_nodes!r}")
    if depth is not None and (not isinstance(depth, int) or depth < 0):
        raise ValueError(f"{op}: depth must be an int ≥ 0 or None, got {depth!r}")
    if isinstance(flow, autograd.BackwardRecord):
        return GradFlow(flow)
    if flow is not None and not isinstance(flow, GradFlow):
        raise TypeError(
            f"{op}: flow must come from viz.backward(loss) or `with viz.watch() as flow:` (or be an "
            f"autograd.BackwardRecord), got {type(flow).__name__}"
        )
    return flow


def to_digraph(model: Model, opts: Options, caption: str = "", current: int | None = None) -> GradGraph:
    """Lay the model out as a Digraph: boxes in module clusters, coloured edges, the legend."""
    text = use_text_labels()
    g = GradGraph(
        name="grad_graph",
        graph_attr={
            "rankdir": opts.rankdir,
            "newrank": "true",
            "fontname": FONT,
            "fontsize": "10",
            "nodesep": "0.25",
            "ranksep": "0.35",
        },
        node_attr={
            "shape": "box",
            "style": "filled,rounded",
            "fontname": FONT,
            "fontsize": "10",
            "margin": "0.08,0.04",
        },
        edge_attr={"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"},
    )
    clusters: dict[int, tuple[GradGraph, tuple[Any, ...]]] = {}
    place: dict[str, Any] = {}  # node key → id of its innermost module (None: top level)
    spine = _spine(model)
    for node in model.nodes.values():
        container = _container(g, clusters, node.modules, model)
        place[node.key] = id(node.modules[-1]) if node.modules else None
        _draw_node(container, node, opts, text, model.reference, spine, current)
    edges = [(e.src, e.dst, e.grad, e.known) for e in model.edges]
    if opts.ops_as_nodes:
        # Inputs feed the op's ellipse; the ellipse feeds the output box with ∂C/∂out.
        edges = [
            (src, f"{dst}_op" if model.nodes[dst].kind == "op" else dst, grad, known) for src, dst, grad, known in edges
        ]
        edges += [(f"{n.key}_op", n.key, n.grad, n.grad_known) for n in model.nodes.values() if n.kind == "op"]
        place.update({f"{n.key}_op": place[n.key] for n in model.nodes.values() if n.kind == "op"})
    for src, dst, grad, known in edges:
        look = style.GradLook(grad, known, model.reference)
        attrs: dict[str, Any] = {"class": look.css, "penwidth": f"{look.penwidth:.1f}"}
        attrs["color"] = style.EDGE_UNKNOWN if look.css == "unknown" else look.colour
        if look.css == "nograd":
            attrs["style"] = "dashed"
        if opts.show_grad and look.norm is not None:
            attrs["label"] = style.fmt(look.norm)
        if opts.show_grad and not look.finite:
            attrs["label"] = "NaN/Inf"
        if known:
            attrs["tooltip"] = style.full_stats("gradient sent back along this edge", grad, "none flows here")
        if place.get(src) != place.get(dst) and src in spine:
            attrs["minlen"] = "2"  # room for the cluster's border and label along the main chain
        g.edge(src, dst, **attrs)
    # Clusters nest innermost first: graphviz copies a subgraph's body when it is attached.
    for _, (cluster, stack) in sorted(clusters.items(), key=lambda item: -len(item[1][1])):
        parent = clusters[id(stack[-2])][0] if len(stack) > 1 else g
        parent.subgraph(cluster)
    _legend(g, model, opts, text, caption)
    return g


def _container(
    g: GradGraph, clusters: dict[int, tuple[GradGraph, tuple[Any, ...]]], stack: tuple[Any, ...], model: Model
) -> GradGraph:
    if not stack:
        return g
    for j in range(len(stack)):
        module = stack[j]
        if id(module) not in clusters:
            path, cls = model.module_names[id(module)]
            cluster = GradGraph(name=f"cluster_{_cluster_id(path)}")
            cluster.attr(
                label=style.dot_text(f"{path}: {cls}" if path else cls),
                style="rounded,dashed",
                color="#7f7f7f",
                fontcolor="#404040",
                labeljust="l",
                fontname=FONT,
            )
            clusters[id(module)] = (cluster, stack[: j + 1])
    return clusters[id(stack[-1])][0]


def _cluster_id(path: str) -> str:
    """The module path as a DOT identifier: kept when it is plain, else made plain and made unique."""
    if not path:
        return "root"
    if re.fullmatch(r"[\w.]+", path, re.ASCII):
        return path
    digest = hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return re.sub(r"[^\w.]", "_", path, flags=re.ASCII) + "_" + digest


def _spine(model: Model) -> set[str]:
    """The longest chain of ops ending at the root: drawn straight (Graphviz `group`)."""
    inputs: dict[str, list[str]] = {}
    for e in model.edges:
        inputs.setdefault(e.dst, []).append(e.src)
    depth: dict[str, int] = {}
    for key in reversed(list(model.nodes)):  # inputs come after their consumers in model order
        preds = [depth.get(p, 0) for p in inputs.get(key, [])]
        depth[key] = 1 + max(preds, default=0)
    root = next((n.key for n in model.nodes.values() if n.is_root), None)
    spine: set[str] = set()
    key = root
    while key is not None and key not in spine:
        spine.add(key)
        preds = [p for p in inputs.get(key, []) if model.nodes[p].kind in ("op", "module")]
        key = max(preds, key=lambda p: depth.get(p, 0)) if preds else None
    return spine


def _draw_node(
    g: GradGraph, node: VNode, opts: Options, text: bool, reference: float, spine: set[str], current: int | None
) -> None:
    look = style.GradLook(node.grad, node.grad_known, reference)
    nonfinite = node.data is not None and node.data.dtype.kind == "f" and not bool(np.all(np.isfinite(node.data)))
    colour = style.MAGENTA if nonfinite else look.colour
    step = f" #{node.step}" if node.step is not None and node.kind == "op" else ""
    rows: list[tuple[str, bool]] = []
    separate_op = opts.ops_as_nodes and node.kind == "op"
    if not separate_op:
        rows.append((node.title + step, True))
    if node.data is not None:
        rows.append((f"{tuple(node.data.shape)} {node.data.dtype}", False))
    if node.consts and not separate_op:
        rows.append(("with " + ", ".join(node.consts), False))
    rows += [(line, False) for line in node.lines]
    if opts.show_data and node.data is not None:
        rows.append((style.data_summary(node.data), False))
    if opts.show_grad and style.grad_line(look):
        rows.append((style.grad_line(look), False))
    if look.flag and opts.show_grad:
        rows.append((look.flag, True))
    if nonfinite and not node.nan_origin:
        rows.append(("NaN/Inf value", True))
    if node.nan_origin:
        rows.append((f"⚠ NaN/Inf first appears here ({node.nan_origin})", True))
    css = [node.kind, look.css]
    attrs: dict[str, Any] = style.node_colour_attrs(colour)
    if node.nan_origin:
        css.append("nan-origin")
        attrs.update(penwidth="5", color=style.MAGENTA)
    if node.is_root:
        css.append("root")
        attrs.setdefault("penwidth", "2")
    if current is not None and node.step == current:
        css.append("current")
        attrs.update(penwidth="4", color="#000000")
    if node.kind == "input":
        attrs["style"] = "filled"
    elif node.kind == "module":
        attrs["shape"] = "box3d"
        attrs["style"] = "filled"
    elif node.kind == "more":
        attrs["shape"] = "note"
        attrs["style"] = "filled"
    if node.key in spine:
        attrs["group"] = "spine"
    attrs["class"] = " ".join(css)
    tooltip = [style.full_stats("value", node.data)] if node.data is not None else []
    if node.grad_known:
        tooltip.append(style.full_stats("grad", node.grad, "none (requires_grad=False)"))
    if tooltip:
        attrs["tooltip"] = "\n".join(tooltip)
    label = style.text_label(rows) if text else style.html_label(rows, colour)
    g.node(node.key, label=label, **attrs)
    if separate_op:
        _draw_op_node(g, node, step, text, node.key in spine)


def _draw_op_node(g: GradGraph, node: VNode, step: str, text: bool, spine: bool) -> None:
    """micrograd style: the op as a small ellipse feeding its output tensor's box."""
    rows = [(node.title.removesuffix("Backward") + step, True)]
    if node.consts:
        rows.append(("with " + ", ".join(node.consts), False))
    label = style.text_label(rows) if text else style.html_label(rows, style.NEUTRAL)
    attrs = {"class": "opnode", "group": "spine"} if spine else {"class": "opnode"}
    g.node(f"{node.key}_op", label=label, shape="ellipse", style="filled", fillcolor=style.NEUTRAL, _attributes=attrs)


def _legend(g: GradGraph, model: Model, opts: Options, text: bool, caption: str) -> None:
    known = any(n.grad is not None for n in model.nodes.values()) or any(e.grad is not None for e in model.edges)
    if not (opts.show_grad and known):
        if caption:
            g.attr(label=style.dot_text(caption), labelloc="b", labeljust="l")
        return
    if not text:
        g.attr(label=style.legend_html(caption), labelloc="b", labeljust="l")
        return
    # Plain-text Graphviz (WebAssembly) has no HTML tables: one small box per colour.
    g.attr(label=style.dot_text(caption), labelloc="b", labeljust="l")
    with g.subgraph(name="cluster_legend") as legend:
        legend.attr(label="‖∂C/∂x‖ / ‖∂C/∂C‖", style="rounded", color="#7f7f7f")
        for k, (colour, meaning) in enumerate(style.legend_rows()):
            legend.node(
                f"legend{k}",
                label=meaning,
                shape="box",
                style="filled",
                fontsize="8",
                _attributes={"class": "legend"},
                **style.node_colour_attrs(colour),
            )
