"""The picture's model: which nodes and edges to draw and what is known about each.

The walk is the engine's own iterative `autograd.topological_order`, so a graph of any depth is
drawn without recursion. Ops merge into their output tensor (the output Tensor object is found
among its consumers' inputs, so values survive even after backward freed the graph).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.tensor import Tensor
from tinygrad_course.viz.flow import GradFlow
from tinygrad_course.viz.style import data_summary


@dataclass
class VNode:
    """One box of the picture: an op's output, a leaf tensor, a collapsed module, or "more"."""

    key: str
    kind: str  # "op", "param", "leaf", "input", "module" or "more"
    title: str
    data: np.ndarray | None = None
    grad: np.ndarray | None = None
    grad_known: bool = False
    step: int | None = None
    consts: list[str] = field(default_factory=list)
    modules: tuple[Any, ...] = ()
    nan_origin: str = ""  # "forward" or "backward" where a NaN/Inf first appeared
    is_root: bool = False
    lines: list[str] = field(default_factory=list)  # summary lines of a collapsed module


@dataclass
class VEdge:
    """An input → output edge and the gradient that flowed back along it (if known)."""

    src: str
    dst: str
    grad: np.ndarray | None
    known: bool


@dataclass
class Model:
    """Nodes (in order: root first), edges, module names and the reference magnitude ‖∂C/∂C‖."""

    nodes: dict[str, VNode]
    edges: list[VEdge]
    module_names: dict[int, tuple[str, str]]  # id(module) → (dotted path, class name)
    reference: float


def parameter_names(params: Any) -> tuple[dict[int, str], dict[str, Any]]:
    """(id(tensor) → dotted name, dotted path → module) from a dict or a Module-like object."""
    if params is None:
        return {}, {}
    if isinstance(params, Mapping):
        names = {}
        for name, t in params.items():
            if not isinstance(t, Tensor):
                raise TypeError(
                    f"draw_graph: params[{name!r}] is a {type(t).__name__}, not a Tensor; params must "
                    "map names to Tensors, or be a Module (with named_parameters())"
                )
            names[id(t)] = str(name)
        return names, {}
    if not hasattr(params, "named_parameters"):
        raise TypeError(
            f"draw_graph: params must be a dict name → Tensor or a Module with named_parameters(), "
            f"got {type(params).__name__}"
        )
    names = {id(t): name for name, t in params.named_parameters()}
    modules = dict(params.named_modules()) if hasattr(params, "named_modules") else {}
    return names, modules


def build(root: Tensor, params: Any = None, flow: GradFlow | None = None, upto: int | None = None) -> Model:
    """The full model of `root`'s graph; with `flow`, gradients known by step `upto` (all if None)."""
    names, modules_by_path = parameter_names(params)
    fns = autograd.topological_order([root.grad_fn]) if root.grad_fn is not None else []
    # Each op's output Tensor: the root, or the input of some consumer that it feeds.
    outputs: dict[int, Tensor] = {id(root.grad_fn): root} if root.grad_fn is not None else {}
    stack_of: dict[int, tuple[Any, ...]] = {}
    for fn in fns:
        for t in fn.parents:
            if t.grad_fn is not None and id(t.grad_fn) not in outputs:
                outputs[id(t.grad_fn)] = t
        for j in range(len(fn._modules)):
            stack_of.setdefault(id(fn._modules[j]), fn._modules[: j + 1])
    model = Model({}, [], _module_names(stack_of, modules_by_path), flow.reference() if flow else 1.0)
    order = flow.order() if flow is not None else {}
    nan_backward = flow.nan_origin() if flow is not None else None
    key_of = {id(fn): f"op{i}" for i, fn in enumerate(fns)}
    leaf_keys: dict[int, str] = {}
    leaf_tensors: dict[str, Tensor] = {}
    leaf_sums: dict[int, np.ndarray] = {}
    if root.grad_fn is None:
        leaf_keys[id(root)] = "leaf0"
        leaf_tensors["leaf0"] = root
        _add_leaf(model, root, "leaf0", names, modules_by_path, stack_of)
        model.nodes["leaf0"].is_root = True
    for fn in fns:
        key = key_of[id(fn)]
        out = outputs[id(fn)]
        node = VNode(key, "op", fn.name(), data=out._array, modules=fn._modules, is_root=out is root)
        step = order.get(id(fn))
        if step is not None and (upto is None or step <= upto):
            node.step = step
        if flow is not None:
            node.grad = flow.grad_output(fn, upto)
        else:
            node.grad = _retained_grad(out, fn)
        node.grad_known = node.grad is not None
        if nan_backward == id(fn) and node.step is not None:
            node.nan_origin = "backward"
        elif _is_nonfinite(out._array) and all(not _is_nonfinite(t._array) for t in fn.parents):
            node.nan_origin = "forward"
        model.nodes[key] = node
        for k, t in enumerate(fn.parents):
            known = flow is not None and flow.processed(fn, upto)
            grad = flow.edge_grad(fn, k) if known else None
            if not t.requires_grad:
                known, grad = True, None  # no gradient can ever flow here
            if t.grad_fn is not None:
                model.edges.append(VEdge(key_of[id(t.grad_fn)], key, grad, known))
                continue
            if not t.requires_grad and t._array.size <= 1 and id(t) not in names:
                node.consts.append(data_summary(t._array))  # a scalar constant joins its op's label
                continue
            if id(t) not in leaf_keys:
                leaf_keys[id(t)] = f"leaf{len(leaf_keys)}"
                leaf_tensors[leaf_keys[id(t)]] = t
                # A constant compared with something computed (pred − y, a loss's target) is a
                # target; one that meets parameters or nothing (x @ W) is an input.
                is_target = not t.requires_grad and any(p is not t and p.grad_fn is not None for p in fn.parents)
                _add_leaf(model, t, leaf_keys[id(t)], names, modules_by_path, stack_of, is_target)
            if known and grad is not None:
                leaf_sums[id(t)] = leaf_sums[id(t)] + grad if id(t) in leaf_sums else grad
            model.edges.append(VEdge(leaf_keys[id(t)], key, grad, known))
    _leaf_grads(model, leaf_keys, leaf_tensors, leaf_sums, flow, upto)
    return model


def _add_leaf(
    model: Model,
    t: Tensor,
    key: str,
    names: dict[int, str],
    modules_by_path: dict[str, Any],
    stack_of: dict[int, tuple[Any, ...]],
    is_target: bool = False,
) -> None:
    name = names.get(id(t))
    kind = "param" if name is not None else ("leaf" if t.requires_grad else "input")
    label = name if name is not None else ("target" if is_target else kind)
    node = VNode(key, kind, label, data=t._array)
    if not t.requires_grad:
        node.grad_known = True  # known to have no gradient
    if name is not None:
        # "fc1.weight" belongs to the module at "fc1"; "weight" to the root module "".
        owner = modules_by_path.get(name.rsplit(".", 1)[0] if "." in name else "")
        if owner is not None:
            node.modules = stack_of.get(id(owner), ())
    model.nodes[key] = node


def _leaf_grads(
    model: Model,
    leaf_keys: dict[int, str],
    tensors: dict[str, Tensor],
    sums: dict[int, np.ndarray],
    flow: GradFlow | None,
    upto: int | None,
) -> None:
    # A frame (upto given) shows what this pass delivered so far; a full picture shows .grad,
    # the gradient the user will step with (it may hold earlier passes too).
    for tid, key in leaf_keys.items():
        node = model.nodes[key]
        t = tensors[key]
        if not t.requires_grad:
            continue
        if upto is None and t.grad is not None:
            node.grad = t.grad._array
        elif flow is not None:
            node.grad = sums.get(tid)
        node.grad_known = node.grad is not None


def _retained_grad(out: Tensor, fn: Any) -> np.ndarray | None:
    if out.grad is not None:
        return out.grad._array
    for ref in fn._retained or []:
        owner = ref()
        if owner is not None and owner.grad is not None:
            return owner.grad._array
    return None


def _is_nonfinite(data: np.ndarray) -> bool:
    return data.dtype.kind == "f" and not bool(np.all(np.isfinite(data)))


def _module_names(stack_of: dict[int, tuple[Any, ...]], modules_by_path: dict[str, Any]) -> dict[int, tuple[str, str]]:
    known = {id(m): path for path, m in modules_by_path.items()}
    names: dict[int, tuple[str, str]] = {}
    used: set[str] = set(known.values())
    for mid, stack in stack_of.items():
        module = stack[-1]
        cls = type(module).__name__
        path = known.get(mid)
        if path is None:
            # A module outside `params` (e.g. a loss module): name it after its class.
            path = cls.lower()
            n = 1
            while path in used:
                n += 1
                path = f"{cls.lower()}{n}"
            used.add(path)
        names[mid] = (path, cls)
    return names


def collapse(model: Model, depth: int) -> Model:
    """Replace every module at nesting depth `depth` (0 = outermost) by one summary node."""
    rep: dict[str, str] = {}
    groups: dict[int, VNode] = {}
    members: dict[str, list[VNode]] = {}
    nodes: dict[str, VNode] = {}
    for key, node in model.nodes.items():
        if len(node.modules) <= depth:
            nodes[key] = node
            continue
        module = node.modules[depth]
        summary = groups.get(id(module))
        if summary is None:
            path, cls = model.module_names[id(module)]
            summary = VNode(
                f"mod{len(groups)}", "module", f"{path}: {cls}" if path else cls, modules=node.modules[:depth]
            )
            groups[id(module)] = summary
            members[summary.key] = []
            nodes[summary.key] = summary
        rep[key] = summary.key
        members[summary.key].append(node)
        summary.is_root = summary.is_root or node.is_root
        if node.nan_origin and not summary.nan_origin:
            summary.nan_origin = node.nan_origin
    edges = _merge_edges(model.edges, rep)
    for key, group in members.items():
        _summarise(nodes[key], group, model, edges, rep)
    return Model(nodes, edges, model.module_names, model.reference)


def _merge_edges(edges: list[VEdge], rep: dict[str, str]) -> list[VEdge]:
    merged: dict[tuple[str, str], VEdge] = {}
    for e in edges:
        src, dst = rep.get(e.src, e.src), rep.get(e.dst, e.dst)
        if src == dst:
            continue
        old = merged.get((src, dst))
        if old is None:
            merged[(src, dst)] = VEdge(src, dst, e.grad, e.known)
            continue
        # Several edges become one: its magnitude is that of all their gradients together.
        grads = [g.ravel() for g in (old.grad, e.grad) if g is not None]
        old.grad = np.concatenate(grads) if grads else None
        old.known = old.known and e.known
    return list(merged.values())


def _summarise(summary: VNode, group: list[VNode], model: Model, edges: list[VEdge], rep: dict[str, str]) -> None:
    inside = {n.key for n in group}
    shapes_in = []
    for e in model.edges:
        if e.dst in inside and e.src not in inside:
            src = model.nodes[e.src]
            if src.data is not None and tuple(src.data.shape) not in shapes_in:
                shapes_in.append(tuple(src.data.shape))
    shapes_out = []
    for e in model.edges:
        if e.src in inside and e.dst not in inside:
            out = model.nodes[e.src]
            if out.data is not None and tuple(out.data.shape) not in shapes_out:
                shapes_out.append(tuple(out.data.shape))
    if summary.is_root:
        root = next(n for n in group if n.is_root)
        if root.data is not None:
            shapes_out.append(tuple(root.data.shape))
    params = [n for n in group if n.kind in ("param", "leaf")]
    n_params = sum(int(n.data.size) for n in params if n.data is not None)
    # Aggregate ‖grad‖ over the module's parameters, or over its output when it has none.
    sources = (
        params if params else [n for n in group if any(e.src == n.key and e.dst not in inside for e in model.edges)]
    )
    grads = [n.grad.ravel() for n in sources if n.grad is not None]
    summary.grad = np.concatenate(grads) if grads else None
    summary.grad_known = summary.grad is not None
    steps = [n.step for n in group if n.step is not None]
    summary.lines = [
        "in: " + (", ".join(str(s) for s in shapes_in) or "—"),
        "out: " + (", ".join(str(s) for s in shapes_out) or "—"),
        (f"{n_params:,} parameters, " if n_params else "") + (f"{len(group)} nodes" if len(group) > 1 else "1 node"),
        # Say which norm the box's colour and ‖g‖ show: one norm over everything, not per weight.
        "‖g‖: all its parameters together" if params else "‖g‖: its output",
    ]
    if steps:
        span = f"step #{min(steps)}" if min(steps) == max(steps) else f"steps #{min(steps)}–#{max(steps)}"
        summary.lines.append("backprop " + span)
    summary.step = min(steps) if steps else None


def truncate(model: Model, max_nodes: int) -> Model:
    """Keep the `max_nodes` − 1 boxes nearest the root; one "more" box stands for the rest."""
    if len(model.nodes) <= max_nodes:
        return model
    keep = dict(list(model.nodes.items())[: max(max_nodes - 1, 1)])
    cut = len(model.nodes) - len(keep)
    more = VNode("more", "more", f"… {cut:,} more nodes not drawn (max_nodes={max_nodes})")
    rep = {key: "more" for key in model.nodes if key not in keep}
    keep["more"] = more
    edges = _merge_edges(model.edges, rep)
    return Model(keep, edges, model.module_names, model.reference)


def limit(model: Model, max_nodes: int | None, depth: int | None) -> Model:
    """Collapse modules (at `depth`, or as deep as fits in `max_nodes`), then truncate if still too big."""
    if depth is not None:
        model = collapse(model, depth)
    elif max_nodes is not None and len(model.nodes) > max_nodes:
        deepest = max((len(n.modules) for n in model.nodes.values()), default=0)
        for d in range(deepest - 1, -1, -1):
            collapsed = collapse(model, d)
            if len(collapsed.nodes) <= max_nodes or d == 0:
                model = collapsed
                break
    if max_nodes is not None:
        model = truncate(model, max_nodes)
    return model
