"""ONNX export: trace one forward pass, walk the recorded graph, emit ONNX nodes.

The model is run twice: once on the given inputs (the trace that is exported) and once on
other values, with the dynamic axes one longer. Pairing the two graphs node by node tells
which stored values depend on the input: a constant that differs between the two runs was
computed outside the graph (a mask of a comparison, a detached max, max-pool indices found
with numpy). Such a value is exported as the computation it stands for when it is recognised
(see `mapping.py`), and otherwise refused with `FrozenValueError` unless ``allow_frozen=True``.
Shapes that differ between the runs (a Reshape's target with the batch in it) become -1.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx

from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.onnx.errors import ExportError, FrozenValueError
from tinygrad_course.onnx.mapping import Emitter
from tinygrad_course.tensor import Tensor


def _tensor_cls() -> Any:
    return Tensor


def _as_tuple(args: Any) -> tuple[Any, ...]:
    if isinstance(args, (tuple, list)):
        return tuple(args)
    return (args,)


class _Trace:
    """One run of the model: the input copies, the outputs, and each input array's index."""

    def __init__(self, model: Any, arrays: Sequence[np.ndarray]) -> None:
        Tensor = _tensor_cls()
        self.inputs = []
        for a in arrays:
            t = Tensor._make(a, None)
            if a.dtype.kind == "f":
                t.requires_grad_()
            self.inputs.append(t)
        previous, mode.grad_enabled = mode.grad_enabled, True
        try:
            out = model(*self.inputs)
        finally:
            mode.grad_enabled = previous
        self.single = not isinstance(out, (tuple, list))
        self.outputs = list(_as_tuple(out))
        for k, o in enumerate(self.outputs):
            if not isinstance(o, Tensor):
                raise ExportError(f"output {k} of the model is a {type(o).__name__}, not a Tensor")
        self.input_index = {id(t._array): k for k, t in enumerate(self.inputs)}


def _pair(t1: _Trace, t2: _Trace) -> tuple[dict[int, Any], dict[int, Any], list[Any]]:
    """Pair the nodes and the leaves of two traces (same structure required); also all nodes of trace 1."""
    nodes: dict[int, Any] = {}
    leaves: dict[int, Any] = {}
    order: list[Any] = []
    stack = list(zip(t1.outputs, t2.outputs))
    while stack:
        a, b = stack.pop()
        fa, fb = a.grad_fn, b.grad_fn
        if fa is None:
            if fb is not None:
                raise ExportError("the graph differs between two runs of the model (data-dependent control flow?)")
            leaves[id(a)] = b
            continue
        if id(fa) in nodes:
            continue
        if type(fa) is not type(fb) or len(fa.parents) != len(fb.parents):
            raise ExportError(
                f"the graph differs between two runs of the model ({type(fa).__name__} vs "
                f"{type(fb).__name__ if fb is not None else 'a constant'}): data-dependent control flow cannot be exported"
            )
        nodes[id(fa)] = fb
        order.append(fa)
        stack.extend(zip(fa.parents, fb.parents))
    return nodes, leaves, order


def _second_inputs(arrays: Sequence[np.ndarray], dyn: list[set[int]]) -> list[np.ndarray]:
    """Other values for a second run, one longer along every dynamic axis."""
    rng = np.random.default_rng(12345)
    out = []
    for a, axes in zip(arrays, dyn):
        shape = tuple(n + 1 if d in axes else n for d, n in enumerate(a.shape))
        if a.dtype.kind == "f":
            scale = float(np.std(a)) if a.size > 1 and np.isfinite(a).all() and np.std(a) > 0 else 1.0
            centre = float(np.mean(a)) if a.size and np.isfinite(a).all() else 0.0
            b = (rng.standard_normal(shape) * scale + centre).astype(a.dtype)
        else:
            flat = np.roll(a.ravel(), 1) if a.size else np.zeros(1, a.dtype)
            b = np.resize(flat, shape).astype(a.dtype)
            if a.size > 1:
                b = np.resize(rng.permutation(flat), shape).astype(a.dtype)
        out.append(b)
    return out


def _dynamic_spec(dynamic_axes: Any, names: Sequence[str]) -> dict[str, dict[int, str]]:
    spec: dict[str, dict[int, str]] = {}
    for name, axes in (dynamic_axes or {}).items():
        if isinstance(axes, dict):
            spec[name] = {int(d): str(v) for d, v in axes.items()}
        else:
            spec[name] = {int(d): f"{name}_dynamic_axes_{k + 1}" for k, d in enumerate(axes)}
    return spec


def export(
    model: Any,
    args: Any,
    f: Any,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    dynamic_axes: dict[str, Any] | None = None,
    opset_version: int = 17,
    *,
    allow_frozen: bool = False,
    export_params: bool = True,
    verbose: bool = False,
) -> Any:
    """Export `model` called on `args` to ONNX, written to `f` (a path or a binary file object).

    As ``torch.onnx.export``: `args` is a Tensor or a tuple of Tensors; parameters become
    initializers named by their state_dict names; `input_names`/`output_names` name the graph's
    inputs and outputs (default ``input``/``input.1``…, ``output``/``output.1``…);
    `dynamic_axes` maps a name to ``{axis: "symbol"}`` (or a list of axes). The model is
    exported in eval mode. A value computed outside the graph from the input raises
    `FrozenValueError` unless ``allow_frozen=True`` (then it is frozen with a warning).
    Returns the ``onnx.ModelProto``.
    """
    if opset_version < 17:
        raise ValueError(f"export: opset_version {opset_version} is not supported; use 17 or later")
    Tensor = _tensor_cls()
    args_t = _as_tuple(args)
    for k, a in enumerate(args_t):
        if not isinstance(a, Tensor):
            raise TypeError(f"export: args[{k}] must be a Tensor, got {type(a).__name__}")
    arrays = [np.array(a._array, copy=True) for a in args_t]
    in_names = list(input_names or [])
    for k in range(len(in_names), len(arrays)):
        in_names.append("input" if k == 0 else f"input.{k}")
    in_names = in_names[: len(arrays)]
    spec = _dynamic_spec(dynamic_axes, in_names)
    dyn = [set(spec.get(n, {})) for n in in_names]

    training = getattr(model, "training", None)
    if training is not None:
        model.eval()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20000))
    try:
        tr1 = _Trace(model, arrays)
        tr2 = _Trace(model, _second_inputs(arrays, dyn))
        node_pair, leaf_pair, nodes = _pair(tr1, tr2)
        out_names = list(output_names or [])
        for k in range(len(out_names), len(tr1.outputs)):
            out_names.append("output" if k == 0 else f"output.{k}")
        spec = _dynamic_spec(dynamic_axes, in_names + out_names)
        em = Emitter(tr1, tr2, node_pair, leaf_pair, nodes, model, in_names, allow_frozen, opset_version)
        graph_outputs = []
        for k, (o, name) in enumerate(zip(tr1.outputs, out_names)):
            value = em.value(o, None, f"output {k}")
            em.node("Identity", [value], [name])
            graph_outputs.append(em.value_info(name, o._array, tr2.outputs[k]._array, spec.get(name, {})))
        graph_inputs = []
        for k, (t, name) in enumerate(zip(tr1.inputs, in_names)):
            if name in em.used_inputs:
                graph_inputs.append(em.value_info(name, t._array, tr2.inputs[k]._array, spec.get(name, {})))
        graph = onnx.helper.make_graph(em.nodes, "tinygrad_course", graph_inputs, graph_outputs, em.initializers)
        proto = onnx.helper.make_model(
            graph,
            producer_name="tinygrad_course",
            opset_imports=[onnx.helper.make_operatorsetid("", opset_version)],
        )
        proto.ir_version = min(proto.ir_version, 8)
        onnx.checker.check_model(proto)
    finally:
        sys.setrecursionlimit(limit)
        if training:
            model.train(True)
    if verbose:
        print(onnx.helper.printable_graph(proto.graph))
    data = proto.SerializeToString()
    if hasattr(f, "write"):
        f.write(data)
    else:
        with open(f, "wb") as fh:  # type: BinaryIO
            fh.write(data)
    return proto


__all__ = ["ExportError", "FrozenValueError", "export"]
