"""The op → ONNX mapping: one ``op_<Primitive>`` method per op class (docs/onnx.md has the table).

Values are named on demand, from the outputs back (so nodes whose value is not needed, such
as the flat reshape in front of a recognised max pool, are not emitted). Values of the
second trace (see export.py) tell which dims are dynamic and which stored values depend on
the input.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from tinygrad_course.onnx.errors import ExportError, FrozenValueError
from tinygrad_course.ops.conv import out_size, windows

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min

UNARY = {
    "Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Sin": "Sin", "Cos": "Cos", "Tanh": "Tanh",
    "Sigmoid": "Sigmoid", "Relu": "Relu", "Abs": "Abs", "Erf": "Erf", "Softplus": "Softplus",
    "Clone": "Identity", "DelayedError": "Identity",
}
BINARY = {"Add": "Add", "Sub": "Sub", "Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max", "Minimum": "Min"}
COMPARE = (("Greater", np.greater), ("GreaterOrEqual", np.greater_equal), ("Less", np.less), ("LessOrEqual", np.less_equal))


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _is_basic(index: Any) -> bool:
    items = index if type(index) is tuple else (index,)
    return all(
        i is None or i is Ellipsis or isinstance(i, slice) or (isinstance(i, (int, np.integer)) and not isinstance(i, bool))
        or (isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu")
        for i in items
    )


def _norm_axes(axis: Any, ndim: int) -> tuple[int, ...] | None:
    if axis is None:
        return None
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim if ndim else 0 for a in axes))


def _pool_index(xa: np.ndarray, k: tuple[int, int], s: tuple[int, int], p: tuple[int, int], d: tuple[int, int]) -> Any:
    """The flat gather index F.max_pool2d computes for x (N, C, H, W) (None if the sizes do not fit)."""
    n, c, h, w = xa.shape
    oh, ow = out_size(h, k[0], s[0], p[0], d[0]), out_size(w, k[1], s[1], p[1], d[1])
    if oh <= 0 or ow <= 0 or p[0] > k[0] // 2 or p[1] > k[1] // 2:
        return None
    view = windows(xa, k, s, p, d, fill=-np.inf)
    arg = view.transpose(0, 1, 4, 5, 2, 3).reshape(n, c, oh, ow, k[0] * k[1]).argmax(-1)
    ki, kj = np.divmod(arg, k[1])
    rows = np.arange(oh).reshape(oh, 1) * s[0] + ki * d[0] - p[0]
    cols = np.arange(ow) * s[1] + kj * d[1] - p[1]
    base = (np.arange(n).reshape(n, 1, 1, 1) * c + np.arange(c).reshape(1, c, 1, 1)) * (h * w)
    return base + rows * w + cols


def _pair2(v: Any) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))


class Emitter:
    """Builds the ONNX nodes and initializers of one traced graph."""

    def __init__(self, tr1: Any, tr2: Any, node_pair: dict[int, Any], leaf_pair: dict[int, Any], nodes: list[Any],
                 model: Any, in_names: list[str], allow_frozen: bool, opset: int) -> None:
        self.tr1, self.tr2 = tr1, tr2
        self.node_pair, self.leaf_pair = node_pair, leaf_pair
        self.in_names = in_names
        self.allow_frozen = allow_frozen
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.used_inputs: set[str] = set()
        self.names: dict[int, str] = {}
        self.counter = 0
        self.params: dict[int, str] = {}  # id(Tensor) and id(array) of parameters and buffers → state_dict name
        self.param_done: dict[str, str] = {}
        if hasattr(model, "named_parameters"):
            for name, p in list(model.named_parameters()) + [(n, b) for n, b in model.named_buffers() if b is not None]:
                self.params.setdefault(id(p), name)
                self.params.setdefault(id(p._array), name)
        self.maxes: dict[int, tuple[Any, tuple[int, ...]]] = {}
        self._find_detached_maxes(nodes)

    # ------------------------------------------------------------------ helpers
    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}_{self.counter}"

    def node(self, op: str, inputs: list[str], outputs: list[str] | None = None, **attrs: Any) -> str:
        outputs = outputs or [self.fresh(op)]
        self.nodes.append(helper.make_node(op, inputs, outputs, name=self.fresh(f"/{op}"), **attrs))
        return outputs[0]

    def const(self, value: Any, hint: str = "const", name: str | None = None) -> str:
        name = name or self.fresh(hint)
        self.initializers.append(numpy_helper.from_array(np.array(value, order="C", copy=True), name))
        return name

    def i64(self, values: Any) -> str:
        return self.const(np.asarray(values, dtype=np.int64), "shape")

    def value_info(self, name: str, a1: np.ndarray, a2: np.ndarray, names: dict[int, str]) -> onnx.ValueInfoProto:
        dims: list[Any] = []
        for d, n in enumerate(a1.shape):
            if d in names:
                dims.append(names[d])
            elif a1.ndim == a2.ndim and a2.shape[d] != n:
                dims.append(f"{name}_dim{d}")
            else:
                dims.append(int(n))
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a1.dtype), dims)

    def cast(self, name: str, src: np.dtype, dst: np.dtype) -> str:
        if src == dst:
            return name
        return self.node("Cast", [name], to=helper.np_dtype_to_tensor_dtype(np.dtype(dst)))

    def operand(self, t: Any, n: Any, k: int, dtype: np.dtype) -> str:
        return self.cast(self.value(t, n, f"input {k}"), t._array.dtype, dtype)

    def reduce(self, op: str, x: str, axes: tuple[int, ...] | None, keepdims: bool) -> str:
        keep = int(bool(keepdims))
        if axes is None:
            return self.node(op, [x], keepdims=keep)
        if op == "ReduceSum" or self.opset >= 18:
            return self.node(op, [x, self.i64(list(axes))], keepdims=keep)
        return self.node(op, [x], axes=list(axes), keepdims=keep)

    def pair(self, n: Any) -> Any:
        return self.node_pair[id(n)]

    def out(self, n: Any) -> tuple[np.ndarray, np.ndarray]:
        return n._out_data, self.pair(n)._out_data

    # ------------------------------------------------------------------ values
    def value(self, t: Any, consumer: Any, role: str) -> str:
        fn = t.grad_fn
        if fn is not None:
            key = id(fn)
            if key not in self.names:
                self.names[key] = self.emit(fn)
            return self.names[key]
        key = id(t)
        if key not in self.names:
            self.names[key] = self.leaf(t, consumer, role)
        return self.names[key]

    def emit(self, n: Any) -> str:
        kind = type(n).__name__
        if kind in UNARY:
            return self.node(UNARY[kind], [self.value(n.parents[0], n, "input 0")])
        if kind in BINARY:
            special = self.fused(n, kind)
            if special is not None:
                return special
            dtype = n._out_data.dtype
            return self.node(BINARY[kind], [self.operand(p, n, k, dtype) for k, p in enumerate(n.parents)])
        handler = getattr(self, f"op_{kind}", None)
        if handler is None:
            raise ExportError(f"{kind}: no ONNX mapping for this op (see docs/onnx.md for the ops that export)")
        return handler(n)

    def array_arg(self, n: Any, attr: str) -> str:
        """An array stored on the node (labels, indices): a graph input, a constant, or a frozen value."""
        a1, a2 = getattr(n, attr), getattr(self.pair(n), attr)
        k = self.tr1.input_index.get(id(a1))
        if k is not None and self.tr2.input_index.get(id(a2)) == k:
            self.used_inputs.add(self.in_names[k])
            return self.in_names[k]
        copied = self.input_copy(a1, a2)
        if copied is not None:
            return copied
        if _same(a1, a2):
            return self.const(a1, attr)
        return self.frozen(a1, f"{type(n).__name__}: its stored {attr!r}")

    def input_copy(self, a1: np.ndarray, a2: np.ndarray) -> str | None:
        """An input's values (a reshaped view or a copy, e.g. cross_entropy's targets) in both traces."""
        for k, (t1, t2) in enumerate(zip(self.tr1.inputs, self.tr2.inputs)):
            b1, b2 = t1._array, t2._array
            if a1.size != b1.size or a2.size != b2.size or a1.ndim != a2.ndim:
                continue
            if not (np.array_equal(a1.ravel(), b1.ravel()) and np.array_equal(a2.ravel(), b2.ravel())):
                continue
            name = self.in_names[k]
            self.used_inputs.add(name)
            if a1.shape != b1.shape or a2.shape != b2.shape:
                target = [-1 if a1.shape[i] != a2.shape[i] else n for i, n in enumerate(a1.shape)]
                if target.count(-1) > 1:
                    continue
                name = self.node("Reshape", [name, self.i64(target)])
            return self.cast(name, b1.dtype, a1.dtype)
        return None

    def frozen(self, a: np.ndarray, what: str) -> str:
        message = (f"{what} is a value computed outside the graph from the input (it changes with the input); "
                   "exporting it would freeze it. Compute it with tensor ops, or pass allow_frozen=True to freeze it")
        if not self.allow_frozen:
            raise FrozenValueError(message)
        warnings.warn(message, stacklevel=4)
        return self.const(a, "frozen")

    def leaf(self, t: Any, consumer: Any, role: str) -> str:
        arr = t._array
        k = self.tr1.input_index.get(id(arr))
        if k is not None:
            self.used_inputs.add(self.in_names[k])
            return self.in_names[k]
        name = self.params.get(id(t)) or self.params.get(id(arr))
        if name is not None:
            if name not in self.param_done:
                self.param_done[name] = self.const(arr, name=name)
            return name
        if id(t) in self.maxes:
            x, axes = self.maxes[id(t)]
            return self.reduce("ReduceMax", self.value(x, consumer, role), axes, True)
        t2 = self.leaf_pair.get(id(t))
        if consumer is not None and type(consumer).__name__ == "Where" and consumer.parents[0] is t:
            mask = self.where_mask(consumer)
            if mask is not None:
                return mask
        if t2 is not None and _same(arr, t2._array):
            return self.const(arr)
        where = type(consumer).__name__ if consumer is not None else "the model's output"
        return self.frozen(arr, f"{where}: {role} (shape {arr.shape}, dtype {arr.dtype})")

    # ------------------------------------------------------------------ recognisers
    def _find_detached_maxes(self, nodes: list[Any]) -> None:
        """Constants equal to max(x) over their size-1 dims for a graph value x beside them (softmax's shift)."""
        for n in nodes:
            graph = [p for p in n.parents if p.grad_fn is not None or id(p._array) in self.tr1.input_index]
            for c in n.parents:
                if c.grad_fn is not None or c._requires_grad or id(c) in self.maxes or c._array.ndim == 0:
                    continue
                if id(c._array) in self.tr1.input_index or id(c) in self.params or id(c._array) in self.params:
                    continue
                c2 = self.leaf_pair.get(id(c))
                if c2 is None:
                    continue
                for x in graph:
                    x2 = self._twin(x)
                    if x2 is None or x._array.ndim != c._array.ndim or x._array.dtype.kind != "f":
                        continue
                    axes = tuple(i for i, m in enumerate(c._array.shape) if m == 1)
                    if any(c._array.shape[i] != x._array.shape[i] for i in range(c._array.ndim) if i not in axes):
                        continue
                    try:
                        ok = _same(c._array, np.max(x._array, axis=axes, keepdims=True)) and _same(
                            c2._array, np.max(x2._array, axis=axes, keepdims=True))
                    except ValueError:
                        ok = False
                    if ok:
                        self.maxes[id(c)] = (x, tuple(i for i in axes if x._array.shape[i] != 1) or axes)
                        break

    def _twin(self, t: Any) -> Any:
        """t's counterpart in the second trace."""
        if t.grad_fn is not None:
            n2 = self.node_pair.get(id(t.grad_fn))
            return None if n2 is None else _FakeTensor(n2._out_data)
        k = self.tr1.input_index.get(id(t._array))
        if k is not None:
            return self.tr2.inputs[k]
        return self.leaf_pair.get(id(t))

    def where_mask(self, n: Any) -> str | None:
        """Where's condition as a comparison of a graph value with 0 (leaky_relu), or softplus's threshold."""
        cond1, cond2 = n.parents[0]._array, self.leaf_pair[id(n.parents[0])]._array
        candidates = []
        for p in n.parents[1:]:
            candidates.append(p)
            if p.grad_fn is not None:
                candidates.extend(p.grad_fn.parents)
        for x in candidates:
            x2 = self._twin(x)
            if x2 is None or x._array.shape != cond1.shape or x2._array.shape != cond2.shape:
                continue
            if x.grad_fn is None and id(x._array) not in self.tr1.input_index:
                continue
            mixed = (cond1.any() and not cond1.all()) or (cond2.any() and not cond2.all())
            for op, fn in COMPARE:
                if mixed and _same(cond1, fn(x._array, 0)) and _same(cond2, fn(x2._array, 0)):
                    zero = self.const(np.zeros((), x._array.dtype))
                    return self.node(op, [self.value(x, n, "input 1"), zero])
        # F.softplus: soft.where(x·β ≤ threshold, x) with soft = Softplus(x) or Softplus(x·β)/β
        x, soft = n.parents[2], n.parents[1]
        beta = self._softplus_beta(soft, x)
        x2 = self._twin(x)
        if beta is not None and x2 is not None:
            for threshold in (20.0,):
                if _same(cond1, x._array * beta <= threshold) and _same(cond2, x2._array * beta <= threshold):
                    dtype = x._array.dtype
                    scaled = self.value(x, n, "input 2")
                    if beta != 1.0:
                        scaled = self.node("Mul", [scaled, self.const(np.asarray(beta, dtype))])
                    return self.node("LessOrEqual", [scaled, self.const(np.asarray(threshold, dtype))])
        return None

    @staticmethod
    def _softplus_beta(soft: Any, x: Any) -> float | None:
        fn = soft.grad_fn
        if fn is None:
            return None
        if type(fn).__name__ == "Softplus" and fn.parents[0] is x:
            return 1.0
        if type(fn).__name__ == "Div" and fn.parents[0].grad_fn is not None and type(fn.parents[0].grad_fn).__name__ == "Softplus":
            inner = fn.parents[0].grad_fn.parents[0].grad_fn
            if inner is not None and type(inner).__name__ == "Mul" and inner.parents[0] is x:
                beta = float(inner.parents[1]._array)
                if float(fn.parents[1]._array) == beta:
                    return beta
        return None

    def _shift_source(self, t: Any) -> tuple[Any, int] | None:
        """(x, d) when t = x − max(x along d).detach() (the softmax family's shift)."""
        fn = t.grad_fn
        if fn is None or type(fn).__name__ != "Sub":
            return None
        x, m = fn.parents
        entry = self.maxes.get(id(m))
        if entry is None or entry[0] is not x or len(entry[1]) != 1:
            return None
        return x, entry[1][0]

    def fused(self, n: Any, kind: str) -> str | None:
        """Softmax (e / Σe with e = exp(x − max x)) and LogSoftmax (s − log Σ exp s with s = x − max x)."""
        a, b = n.parents
        sfn = b.grad_fn
        if kind == "Div" and a.grad_fn is not None and type(a.grad_fn).__name__ == "Exp" and sfn is not None \
                and type(sfn).__name__ == "Sum" and sfn.parents[0].grad_fn is a.grad_fn:
            src = self._shift_source(a.grad_fn.parents[0])
            if src is not None and _norm_axes(sfn.axis, a._array.ndim) == (src[1],) and b._array.ndim == a._array.ndim:
                return self.node("Softmax", [self.value(src[0], n, "input 0")], axis=src[1])
        if kind == "Sub" and sfn is not None and type(sfn).__name__ == "Log":
            s = sfn.parents[0].grad_fn
            if s is not None and type(s).__name__ == "Sum":
                e = s.parents[0].grad_fn
                if e is not None and type(e).__name__ == "Exp" and e.parents[0].grad_fn is a.grad_fn:
                    src = self._shift_source(a)
                    if src is not None and _norm_axes(s.axis, a._array.ndim) == (src[1],) and b._array.ndim == a._array.ndim:
                        return self.node("LogSoftmax", [self.value(src[0], n, "input 0")], axis=src[1])
        return None

    # ------------------------------------------------------------------ elementwise
    def op_FloorDiv(self, n: Any) -> str:
        dtype = n._out_data.dtype
        if dtype.kind != "f":
            raise ExportError("FloorDiv: only floating point inputs export (ONNX Div truncates integers)")
        x, y = (self.operand(p, n, k, dtype) for k, p in enumerate(n.parents))
        return self.node("Floor", [self.node("Div", [x, y])])

    def op_Remainder(self, n: Any) -> str:
        dtype = n._out_data.dtype
        x, y = (self.operand(p, n, k, dtype) for k, p in enumerate(n.parents))
        if dtype.kind != "f":
            return self.node("Mod", [x, y], fmod=0)
        q = self.node("Floor", [self.node("Div", [x, y])])
        return self.node("Sub", [x, self.node("Mul", [y, q])])

    def op_Clamp(self, n: Any) -> str:
        dtype = n._out_data.dtype
        x = self.operand(n.parents[0], n, 0, dtype)
        lo = "" if n.lo is None else self.const(np.asarray(n.lo, dtype))
        hi = "" if n.hi is None else self.const(np.asarray(n.hi, dtype))
        return self.node("Clip", [x, lo, hi])

    def op_Where(self, n: Any) -> str:
        dtype = n._out_data.dtype
        cond = self.value(n.parents[0], n, "its condition (input 0)")
        cond = self.cast(cond, n.parents[0]._array.dtype, np.dtype(bool))
        return self.node("Where", [cond, self.operand(n.parents[1], n, 1, dtype), self.operand(n.parents[2], n, 2, dtype)])

    def op_Cast(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        return self.node("Cast", [x], to=helper.np_dtype_to_tensor_dtype(n._out_data.dtype))

    # ------------------------------------------------------------------ reductions
    def _keep(self, n: Any) -> bool:
        return n._out_data.ndim == len(n.in_shape) and len(n.in_shape) > 0

    def op_Sum(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        axes = _norm_axes(n.axis, len(n.in_shape))
        if axes == ():
            return self.node("Identity", [x])
        return self.reduce("ReduceSum", x, axes, self._keep(n))

    def op_Amax(self, n: Any) -> str:
        return self.reduce("ReduceMax", self.value(n.parents[0], n, "input 0"), _norm_axes(n.axis, len(n.in_shape)), self._keep(n))

    def op_Amin(self, n: Any) -> str:
        return self.reduce("ReduceMin", self.value(n.parents[0], n, "input 0"), _norm_axes(n.axis, len(n.in_shape)), self._keep(n))

    def op_Prod(self, n: Any) -> str:
        return self.reduce("ReduceProd", self.value(n.parents[0], n, "input 0"), _norm_axes(n.axis, len(n.in_shape)), self._keep(n))

    def op_Root(self, n: Any) -> str:
        s = self.value(n.parents[0], n, "input 0")
        if n.p == 2:
            return self.node("Sqrt", [s])
        return self.node("Pow", [s, self.const(np.asarray(1.0 / n.p, n._out_data.dtype))])

    def op_Var(self, n: Any) -> str:
        xt = n.parents[0]
        x = self.value(xt, n, "input 0")
        dtype = n._out_data.dtype
        axes = _norm_axes(n.axis, len(n.in_shape))
        mean = self.reduce("ReduceMean", x, axes, True)
        d = self.node("Sub", [x, mean])
        total = self.reduce("ReduceSum", self.node("Mul", [d, d]), axes, self._keep(n))
        if n.denominator == self.pair(n).denominator:
            denom = self.const(np.asarray(n.denominator, dtype))
        else:  # the count depends on a dynamic dim: n = size(x) / size(mean) at run time
            count = self.node("Div", [self.node("Size", [x]), self.node("Size", [mean])])
            correction = n.in_shape and (np.prod([n.in_shape[a] for a in (axes or range(len(n.in_shape)))]) - n.denominator)
            fcount = self.node("Cast", [count], to=helper.np_dtype_to_tensor_dtype(dtype))
            denom = self.node("Max", [self.node("Sub", [fcount, self.const(np.asarray(correction, dtype))]),
                                      self.const(np.zeros((), dtype))])
        return self.node("Div", [total, denom])

    # ------------------------------------------------------------------ movement
    def op_Reshape(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        (o1, o2), in1, in2 = self.out(n), n.in_shape, self.pair(n).in_shape
        target = list(o1.shape)
        dyn = [i for i in range(o1.ndim) if o1.ndim != o2.ndim or o1.shape[i] != o2.shape[i]]
        if o1.ndim != o2.ndim:
            raise ExportError(f"Reshape: the rank of the target {o1.shape} changes with the input size")
        rest = []
        for i in dyn:
            if i < len(in1) and in1[i] == o1.shape[i] and i < len(in2) and in2[i] == o2.shape[i] and \
                    all(in1[j] == o1.shape[j] for j in range(i)):
                target[i] = 0  # copied from the input's dim
            else:
                rest.append(i)
        if len(rest) > 1:
            raise ExportError(
                f"Reshape: the target {o1.shape} has {len(rest)} dims that change with the dynamic axes "
                f"({rest}); only one can be inferred (-1)")
        for i in rest:
            target[i] = -1
        if any(v == 0 for i, v in enumerate(o1.shape) if i not in dyn):
            raise ExportError(f"Reshape: a target with a size-0 dim {o1.shape} does not export")
        return self.node("Reshape", [x, self.i64(target)])

    def op_Permute(self, n: Any) -> str:
        return self.node("Transpose", [self.value(n.parents[0], n, "input 0")], perm=[int(a) for a in n.axes])

    def op_Expand(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        (o1, o2), in1, in2 = self.out(n), n.in_shape, self.pair(n).in_shape
        target = list(o1.shape)
        lead = o1.ndim - len(in1)
        for i in range(o1.ndim):
            if o1.shape[i] == o2.shape[i]:
                continue
            j = i - lead
            if j >= 0 and in1[j] == o1.shape[i] and in2[j] == o2.shape[i]:
                target[i] = 1  # the input's own (dynamic) dim, kept by broadcasting
            else:
                raise ExportError(f"Expand: the target {o1.shape} broadcasts a dim that changes with the dynamic axes")
        return self.node("Expand", [x, self.i64(target)])

    def op_GetItem(self, n: Any) -> str:
        pooled = self.max_pool(n)
        if pooled is not None:
            return pooled
        x = self.value(n.parents[0], n, "input 0")
        i1, i2 = n.index, self.pair(n).index
        shape = n.in_shape
        if _is_basic(i1):
            items1 = i1 if type(i1) is tuple else (i1,)
            items2 = i2 if type(i2) is tuple else (i2,)
            if len(items1) != len(items2) or any(not (a is b or (type(a) is type(b) and a == b)) for a, b in zip(items1, items2)
                                                  if not isinstance(a, np.ndarray)):
                raise ExportError(f"GetItem: the index {i1!r} changes with the input size")
            return self.basic_index(x, items1, len(shape))
        items1 = i1 if type(i1) is tuple else (i1,)
        items2 = i2 if type(i2) is tuple else (i2,)
        arrays = [k for k, it in enumerate(items1) if isinstance(it, np.ndarray)]
        if (len(arrays) == 1 and items1[arrays[0]].dtype.kind in "iu" and len(items1) == len(items2)
                and all(isinstance(it, slice) and it == slice(None) for k, it in enumerate(items1) if k != arrays[0])):
            k = arrays[0]
            idx = self.array_index(n, items1[k], items2[k])
            return self.node("Gather", [x, idx], axis=k)
        flat1 = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[i1]
        flat2 = np.arange(int(np.prod(self.pair(n).in_shape)), dtype=np.int64).reshape(self.pair(n).in_shape)[i2]
        positions = self.const(flat1) if _same(flat1, flat2) else self.frozen(flat1, "GetItem: its index")
        return self.node("Gather", [self.node("Reshape", [x, self.i64([-1])]), positions], axis=0)

    def array_index(self, n: Any, a1: np.ndarray, a2: np.ndarray) -> str:
        k = self.tr1.input_index.get(id(a1))
        if k is not None:
            self.used_inputs.add(self.in_names[k])
            return self.in_names[k]
        if _same(a1, a2):
            return self.const(a1.astype(np.int64), "index")
        return self.frozen(a1, f"{type(n).__name__}: its index array")

    def basic_index(self, x: str, items: tuple[Any, ...], ndim: int) -> str:
        used = sum(1 for i in items if i is not None and i is not Ellipsis)
        expanded: list[Any] = []
        for i in items:
            expanded.extend([slice(None)] * (ndim - used) if i is Ellipsis else [i])
        starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
        dim = out = 0
        for it in expanded:
            if it is None:
                unsqueeze.append(out)
                out += 1
                continue
            if isinstance(it, slice):
                if it != slice(None):
                    step = 1 if it.step is None else int(it.step)
                    start = it.start if it.start is not None else (0 if step > 0 else INT64_MAX)
                    stop = it.stop if it.stop is not None else (INT64_MAX if step > 0 else INT64_MIN)
                    starts.append(int(start))
                    ends.append(int(stop))
                    axes.append(dim)
                    steps.append(step)
                out += 1
            else:
                i = int(it)
                starts.append(i)
                ends.append(i + 1 if i != -1 else INT64_MAX)
                axes.append(dim)
                steps.append(1)
                squeeze.append(dim)
            dim += 1
        y = x
        if axes:
            y = self.node("Slice", [y, self.i64(starts), self.i64(ends), self.i64(axes), self.i64(steps)])
        if squeeze:
            y = self.node("Squeeze", [y, self.i64(squeeze)])
        if unsqueeze:
            y = self.node("Unsqueeze", [y, self.i64(unsqueeze)])
        return y if y != x else self.node("Identity", [x])

    def max_pool(self, n: Any) -> str | None:
        """F.max_pool2d's gather x.reshape(-1)[base + argmax index] → one MaxPool node."""
        idx = n.index[0] if type(n.index) is tuple and len(n.index) == 1 else n.index
        flat = n.parents[0]
        r = flat.grad_fn
        if not isinstance(idx, np.ndarray) or idx.ndim != 4 or r is None or type(r).__name__ != "Reshape" \
                or flat._array.ndim != 1 or len(r.in_shape) != 4:
            return None
        x = r.parents[0]
        x2 = self._twin(x)
        idx2 = self.pair(n).index
        idx2 = idx2[0] if type(idx2) is tuple else idx2
        candidates = []
        for m in reversed(getattr(n, "_modules", ()) or ()):
            if type(m).__name__ == "MaxPool2d":
                candidates.append((_pair2(m.kernel_size), _pair2(m.stride), _pair2(m.padding), _pair2(m.dilation)))
        h, w = r.in_shape[2], r.in_shape[3]
        for kh in range(1, min(h, 7) + 1):
            for kw in range(1, min(w, 7) + 1):
                for sh, sw in {(kh, kw), (1, 1), (2, 2)}:
                    for ph in range(kh // 2 + 1):
                        for pw in range(kw // 2 + 1):
                            candidates.append(((kh, kw), (sh, sw), (ph, pw), (1, 1)))
        for k, s, p, d in candidates:
            e1 = _pool_index(x._array, k, s, p, d)
            if e1 is None or e1.shape != idx.shape or not np.array_equal(e1, idx):
                continue
            e2 = _pool_index(x2._array, k, s, p, d)
            if e2 is None or e2.shape != idx2.shape or not np.array_equal(e2, idx2):
                continue
            return self.node("MaxPool", [self.value(x, n, "input 0")], kernel_shape=list(k), strides=list(s),
                             pads=[p[0], p[1], p[0], p[1]], dilations=list(d))
        raise FrozenValueError(
            "GetItem: a gather by indices computed outside the graph (max_pool2d's argmax?) that was not "
            "recognised as a max pool; it would freeze the traced input's maxima")

    def op_IndexAdd(self, n: Any) -> str:
        return self._scatter(n, n.parents[0], None, reduction="add")

    def op_SetItem(self, n: Any) -> str:
        return self._scatter(n, n.parents[1], n.parents[0], reduction=None)

    def _scatter(self, n: Any, src: Any, base: Any, reduction: str | None) -> str:
        (o1, o2) = self.out(n)
        i1, i2 = n.index, self.pair(n).index
        pos1 = np.arange(o1.size, dtype=np.int64).reshape(o1.shape)[i1]
        pos2 = np.arange(o2.size, dtype=np.int64).reshape(o2.shape)[i2]
        kind = type(n).__name__
        if not _same(pos1, pos2):
            raise ExportError(f"{kind}: the positions it writes change with the input size (static shapes only)")
        dtype = o1.dtype
        v = self.operand(src, n, 1 if base is not None else 0, dtype)
        updates = self.node("Expand", [v, self.i64(pos1.shape)])
        if base is None:
            data = self.const(np.zeros(o1.size, dtype))
        else:
            data = self.node("Reshape", [self.operand(base, n, 0, dtype), self.i64([-1])])
        attrs = {"reduction": reduction} if reduction else {}
        scattered = self.node("ScatterND", [data, self.const(pos1[..., None], "positions"), updates], **attrs)
        return self.node("Reshape", [scattered, self.i64(o1.shape)])

    def op_Cat(self, n: Any) -> str:
        dtype = n._out_data.dtype
        return self.node("Concat", [self.operand(p, n, k, dtype) for k, p in enumerate(n.parents)], axis=int(n.axis))

    def op_Pad(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        out = n._out_data
        inside = np.zeros(out.shape, dtype=bool)
        inside[n.index] = True
        if inside.all():
            return self.node("Identity", [x])
        value = out[~inside].flat[0]  # the fill value (Pad keeps only the index of the middle)
        lo = [s.start for s in n.index]
        hi = [out.shape[d] - s.stop for d, s in enumerate(n.index)]
        return self.node("Pad", [x, self.i64(lo + hi), self.const(np.asarray(value, out.dtype))], mode="constant")

    def op_Flip(self, n: Any) -> str:
        x = self.value(n.parents[0], n, "input 0")
        nd = n._out_data.ndim
        axes = sorted({int(a) % nd for a in ((n.axes,) if isinstance(n.axes, int) else n.axes)})
        k = len(axes)
        return self.node("Slice", [x, self.i64([-1] * k), self.i64([INT64_MIN] * k), self.i64(axes), self.i64([-1] * k)])

    # ------------------------------------------------------------------ matmul, fused, conv
    def op_MatMul(self, n: Any) -> str:
        dtype = n._out_data.dtype
        return self.node("MatMul", [self.operand(p, n, k, dtype) for k, p in enumerate(n.parents)])

    def op_Linear(self, n: Any) -> str:
        a, w = n.parents[0], n.parents[1]
        an, wn = self.value(a, n, "input"), self.value(w, n, "weight")
        bn = self.value(n.parents[2], n, "bias") if len(n.parents) > 2 else None
        if a._array.ndim == 2:
            return self.node("Gemm", [an, wn] + ([bn] if bn else []), transB=1)
        z = self.node("MatMul", [an, self.node("Transpose", [wn], perm=[1, 0])])
        return self.node("Add", [z, bn]) if bn else z

    def op_Conv2d(self, n: Any) -> str:
        _, kernel, stride, padding, dilation, groups, _ = n.args
        inputs = [self.value(p, n, f"input {k}") for k, p in enumerate(n.parents)]
        return self.node("Conv", inputs, kernel_shape=list(kernel), strides=list(stride),
                         pads=[padding[0], padding[1], padding[0], padding[1]], dilations=list(dilation), group=int(groups))

    def op_Im2col(self, n: Any) -> str:
        """The windows by a grouped convolution with one-hot kernels, then (N, C, kh, kw, OH, OW)."""
        shape, (kh, kw), stride, padding, dilation = n.args
        c = shape[1]
        dtype = n._out_data.dtype
        eye = np.zeros((c * kh * kw, 1, kh, kw), dtype)
        for ch in range(c):
            for i in range(kh):
                for j in range(kw):
                    eye[ch * kh * kw + i * kw + j, 0, i, j] = 1
        x = self.value(n.parents[0], n, "input 0")
        cols = self.node("Conv", [x, self.const(eye, "im2col_kernel")], kernel_shape=[kh, kw], strides=list(stride),
                         pads=[padding[0], padding[1], padding[0], padding[1]], dilations=list(dilation), group=int(c))
        oh, ow = n._out_data.shape[4], n._out_data.shape[5]
        return self.node("Reshape", [cols, self.i64([0, c, kh, kw, oh, ow])])

    def op_Col2im(self, n: Any) -> str:
        raise ExportError("Col2im: no ONNX mapping (fold / the backward of unfold; ONNX Col2Im needs opset 18 and is not mapped)")

    def op_Embedding(self, n: Any) -> str:
        w = self.value(n.parents[0], n, "weight")
        return self.node("Gather", [w, self.array_arg(n, "idx")], axis=0)

    def op_SoftmaxCrossEntropy(self, n: Any) -> str:
        z = self.value(n.parents[0], n, "input 0")
        dtype = n._out_data.dtype
        logp = self.node("LogSoftmax", [z], axis=1)
        if n.labels is not None:
            labels = self.cast(self.array_arg(n, "labels"), n.labels.dtype, np.dtype(np.int64))
            picked = self.node("GatherElements", [logp, self.node("Unsqueeze", [labels, self.i64([1])])], axis=1)
            loss = self.node("Neg", [self.node("Squeeze", [picked, self.i64([1])])])
        else:
            q = self.array_arg(n, "q")
            loss = self.node("Neg", [self.reduce("ReduceSum", self.node("Mul", [q, logp]), (1,), False)])
        s1, s2 = n.scale, self.pair(n).scale
        if s1 is None:
            return loss
        if s1 == s2:
            return self.node("Mul", [self.reduce("ReduceSum", loss, None, False), self.const(np.asarray(s1, dtype))])
        m1, m2 = n.parents[0]._array.shape[0], self.pair(n).parents[0]._array.shape[0]
        if np.isclose(s1, 1.0 / m1) and np.isclose(s2, 1.0 / m2):
            return self.reduce("ReduceMean", loss, None, False)
        raise ExportError("SoftmaxCrossEntropy: its scale changes with the input size and is not 1/batch")

    def op_BinaryCrossEntropy(self, n: Any) -> str:
        dtype = n._out_data.dtype
        x, y = (self.operand(p, n, k, dtype) for k, p in enumerate(n.parents))
        one, floor = self.const(np.ones((), dtype)), self.const(np.asarray(-100.0, dtype))
        log_x = self.node("Max", [self.node("Log", [x]), floor])
        log_1mx = self.node("Max", [self.node("Log", [self.node("Sub", [one, x])]), floor])
        total = self.node("Add", [self.node("Mul", [y, log_x]), self.node("Mul", [self.node("Sub", [one, y]), log_1mx])])
        return self.node("Neg", [total])


class _FakeTensor:
    """An array where a Tensor of the second trace is expected (only ``_array`` is read)."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array
