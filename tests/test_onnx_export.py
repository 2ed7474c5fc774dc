"""ONNX export: models and one tiny graph per op, run in ONNX Runtime on new inputs of another batch size."""

from __future__ import annotations

import io

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

import tinygrad_course as tc  # noqa: E402
import tinygrad_course.nn.functional as F  # noqa: E402
from tinygrad_course import nn  # noqa: E402
from tinygrad_course.autograd.function import DelayedError  # noqa: E402
from tinygrad_course.onnx import ExportError, FrozenValueError, export  # noqa: E402
from tinygrad_course.ops import elementwise, fused, movement, reduce  # noqa: E402

TOL = 1e-5
RNG = np.random.default_rng(0)


def _t(a):
    return tc.tensor(np.asarray(a))


def randn(*shape):
    return _t(RNG.standard_normal(shape).astype(np.float32))


def roundtrip(model, trace_args, check_args, names=None, dynamic=True, path=None, **kw):
    """Export on trace_args, run ORT on check_args; returns the max abs error against tinygrad_course."""
    trace_args = trace_args if isinstance(trace_args, tuple) else (trace_args,)
    check_args = check_args if isinstance(check_args, tuple) else (check_args,)
    names = names or [f"in{k}" for k in range(len(trace_args))]
    axes = {n: {0: "batch"} for n in names} if dynamic else None
    if axes is not None:
        axes["out"] = {0: "batch"}
    f = path if path is not None else io.BytesIO()
    export(model, trace_args, f, input_names=names, output_names=["out"], dynamic_axes=axes, **kw)
    data = f.getvalue() if path is None else open(path, "rb").read()
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    feeds = {n: a._array for n, a in zip(names, check_args) if n in {i.name for i in sess.get_inputs()}}
    got = sess.run(None, feeds)[0]
    with tc.no_grad():
        ref = model(*check_args)._array
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert got.dtype == ref.dtype
    err = float(np.max(np.abs(got.astype(np.float64) - ref.astype(np.float64)))) if ref.size else 0.0
    assert err <= TOL, err
    return err


def op_types(model, args, **kw):
    proto = export(model, args, io.BytesIO(), **kw)
    return {n.op_type for n in proto.graph.node}


# ---------------------------------------------------------------------- models
def test_mlp(tmp_path):
    tc.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3), nn.Sigmoid())
    roundtrip(mlp, randn(5, 4), randn(9, 4), names=["x"], path=str(tmp_path / "mlp.onnx"))
    proto = export(mlp, randn(2, 4), io.BytesIO())
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "2.weight", "4.bias"} <= names
    assert [i.name for i in proto.graph.input] == ["input"] and [o.name for o in proto.graph.output] == ["output"]


def test_cnn_maxpool_avgpool():
    tc.manual_seed(1)
    cnn = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=1),
                        nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 3))
    roundtrip(cnn, randn(3, 2, 8, 8), randn(5, 2, 8, 8))
    assert "MaxPool" in op_types(cnn, randn(2, 2, 8, 8))


def test_functional_max_pool_with_stride_and_padding():
    def pool(x):
        return F.max_pool2d(x, 3, stride=2, padding=1)

    roundtrip(pool, randn(2, 3, 7, 7), randn(4, 3, 7, 7))


class LeakySoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 6)
        self.act = nn.LeakyReLU(0.1)
        self.head = nn.LogSoftmax(dim=1)

    def forward(self, x):
        h = self.act(self.lin(x))
        return F.softmax(h, dim=-1) + self.head(h) + h.logsumexp(1, keepdim=True)


def test_leaky_relu_softmax_log_softmax():
    tc.manual_seed(2)
    model = LeakySoftmax()
    roundtrip(model, randn(5, 4), randn(11, 4))
    ops = op_types(model, randn(3, 4))
    assert {"Softmax", "LogSoftmax", "Where", "Greater"} <= ops


class Block(nn.Module):
    def __init__(self, vocab=13, d=8):
        super().__init__()
        self.emb = nn.Embedding(vocab, d)
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.ff1, self.act, self.ff2 = nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d)
        self.out = nn.Linear(d, vocab)
        self.scale = 1.0 / d**0.5

    def forward(self, idx):
        h = self.emb(idx)
        a = self.ln1(h)
        att = (self.q(a) @ self.k(a).transpose(-1, -2) * self.scale).softmax(-1)
        h = h + att @ self.v(a)
        h = h + self.ff2(self.act(self.ff1(self.ln2(h))))
        return self.out(h)


def test_transformer_block():
    tc.manual_seed(3)
    block = Block()
    idx = _t(RNG.integers(0, 13, (2, 5)))
    roundtrip(block, idx, _t(RNG.integers(0, 13, (4, 5))), names=["idx"])
    assert "Softmax" in op_types(block, idx)


def test_two_inputs_and_outputs_default_names():
    def f(x, y):
        return x + y, x * y

    proto = export(f, (randn(2, 3), randn(2, 3)), io.BytesIO())
    assert [i.name for i in proto.graph.input] == ["input", "input.1"]
    assert [o.name for o in proto.graph.output] == ["output", "output.1"]


def test_static_export_without_dynamic_axes_fixes_the_batch():
    proto = export(nn.Flatten(), randn(3, 2, 2), io.BytesIO())
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [3, 2, 2]


def test_reshape_uses_minus_one_for_the_dynamic_batch():
    def f(x):
        return x.reshape(x.shape[0], -1) * 2.0

    roundtrip(f, randn(3, 2, 2), randn(6, 2, 2))


# ---------------------------------------------------------------------- one test per op
def pos(x):
    return x.abs() + 0.5


OPS = {
    "Add": (lambda x: x + x * 2.0, [(3, 4)]),
    "Sub": (lambda x, y: x - y, [(3, 4), (3, 4)]),
    "Mul": (lambda x: x * 3.0, [(3, 4)]),
    "Div": (lambda x: x / pos(x), [(3, 4)]),
    "Neg": (lambda x: -x, [(3, 4)]),
    "Pow": (lambda x: pos(x) ** 1.7, [(3, 4)]),
    "FloorDiv": (lambda x: (x * 4.0) // 1.5, [(3, 4)]),
    "Remainder": (lambda x: (x * 4.0) % 1.5, [(3, 4)]),
    "Exp": (lambda x: x.exp(), [(3, 4)]),
    "Log": (lambda x: pos(x).log(), [(3, 4)]),
    "Sqrt": (lambda x: pos(x).sqrt(), [(3, 4)]),
    "Sin": (lambda x: x.sin(), [(3, 4)]),
    "Cos": (lambda x: x.cos(), [(3, 4)]),
    "Tanh": (lambda x: x.tanh(), [(3, 4)]),
    "Sigmoid": (lambda x: x.sigmoid(), [(3, 4)]),
    "Relu": (lambda x: x.relu(), [(3, 4)]),
    "Abs": (lambda x: x.abs(), [(3, 4)]),
    "Erf": (lambda x: x.erf(), [(3, 4)]),
    "Clamp": (lambda x: x.clamp(-0.5, 0.7) + x.clamp(min=0.1), [(3, 4)]),
    "Maximum": (lambda x, y: x.maximum(y), [(3, 4), (3, 4)]),
    "Minimum": (lambda x, y: x.minimum(y), [(3, 4), (3, 4)]),
    "Where": (lambda x: F.leaky_relu(x, 0.2), [(3, 4)]),
    "Cast": (lambda x: elementwise.Cast.apply(x, dtype=np.float64).tanh(), [(3, 4)]),
    "Sum": (lambda x: x.sum(1) + x.sum((0, 1), keepdim=True).reshape(1), [(3, 4)]),
    "Amax": (lambda x: x.amax(1, keepdim=True) + x.amax(), [(3, 4)]),
    "Amin": (lambda x: x.amin(-1), [(3, 4)]),
    "Root": (lambda x: reduce.Root.apply(pos(x), p=3) + x.std(1, keepdim=True), [(3, 4)]),
    "Var": (lambda x: x.var(1) + x.var(0).sum(), [(3, 4)]),
    "Prod": (lambda x: pos(x).prod(1), [(3, 4)]),
    "Reshape": (lambda x: x.reshape(-1, 2, 3), [(3, 6)]),
    "Permute": (lambda x: x.permute(2, 0, 1), [(3, 2, 4)]),
    "Expand": (lambda x: x.unsqueeze(1).expand(-1, 5, -1) + x.sum(0).expand(5, 4).sum(), [(3, 4)]),
    "GetItem": (lambda x: x[:, 1:3] * 2.0 + x[:, -1:, None].squeeze(-1) + x[..., ::-2].sum(1, keepdim=True)
                + x[:, np.array([0, 2])].sum(1, keepdim=True) + x[:, 0][:, None], [(3, 4)]),
    "Clone": (lambda x: movement.Clone.apply(x) * 2.0, [(3, 4)]),
    "Cat": (lambda x, y: tc.cat([x, y * 2.0], 1), [(3, 4), (3, 2)]),
    "Pad": (lambda x: movement.Pad.apply(x, widths=((0, 0), (1, 2)), value=1.5), [(3, 4)]),
    "Flip": (lambda x: x.flip(1), [(3, 4)]),
    "MatMul": (lambda x, y: x @ y.transpose(1, 2), [(2, 3, 4), (2, 5, 4)]),
    "Linear": (lambda x: F.linear(x, _W, _B) + F.linear(x.reshape(-1, 1, 4), _W).reshape(-1, 3), [(3, 4)]),
    "Softplus": (lambda x: fused.Softplus.apply(x) + F.softplus(x, beta=2.0), [(3, 4)]),
    "BinaryCrossEntropy": (lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="none"),
                           [(3, 4), (3, 4)]),
    "Im2col": (lambda x: F.unfold(x, 2, padding=1, stride=2) * 1.0, [(2, 3, 5, 5)]),
    "Conv2d": (lambda x: F.conv2d(x, _K, stride=2, padding=1, dilation=1, groups=1), [(2, 2, 6, 6)]),
    "DelayedError": (lambda x: DelayedError.apply(x, x, message="no") * 2.0, [(3, 4)]),
}
_W = _t(RNG.standard_normal((3, 4)).astype(np.float32)).requires_grad_()
_B = _t(RNG.standard_normal(3).astype(np.float32)).requires_grad_()
_K = _t(RNG.standard_normal((3, 2, 3, 3)).astype(np.float32)).requires_grad_()


@pytest.mark.parametrize("name", sorted(OPS))
def test_op(name):
    fn, shapes = OPS[name]
    trace = tuple(randn(*s) for s in shapes)
    check = tuple(randn(s[0] + 2, *s[1:]) for s in shapes)
    roundtrip(fn, trace, check)


def test_op_SetItem():  # static shapes only: the written positions are a constant
    def f(x, v):
        return movement.SetItem.apply(x, v, index=(slice(None), slice(1, 3)))

    roundtrip(f, (randn(3, 4), randn(3, 2)), (randn(3, 4), randn(3, 2)), dynamic=False)


def test_op_IndexAdd():
    def f(x):
        return movement.IndexAdd.apply(x, index=(np.array([0, 2, 0]),), shape=(4, 3))

    roundtrip(f, randn(3, 3), randn(3, 3), dynamic=False)


def test_op_Embedding():
    w = randn(7, 3).requires_grad_()

    def f(idx):
        return F.embedding(idx, w)

    roundtrip(f, _t(RNG.integers(0, 7, (2, 4))), _t(RNG.integers(0, 7, (5, 4))))


def test_op_SoftmaxCrossEntropy():
    def f(z, y):
        return F.cross_entropy(z, y) + fused.SoftmaxCrossEntropy.apply(z, labels=y._array).sum() * 0.1

    trace = (randn(4, 5), _t(RNG.integers(0, 5, 4)))
    check = (randn(7, 5), _t(RNG.integers(0, 5, 7)))
    f_names = ["z", "y"]
    axes = {"z": {0: "b"}, "y": {0: "b"}}
    buf = io.BytesIO()
    export(f, trace, buf, input_names=f_names, dynamic_axes=axes)
    sess = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = sess.run(None, {"z": check[0]._array, "y": check[1]._array})[0]
    with tc.no_grad():
        ref = f(*check)._array
    assert abs(float(got) - float(ref)) <= TOL


def test_op_Col2im_raises():
    def f(x):
        return F.fold(x, (4, 4), 2, stride=2)

    with pytest.raises(ExportError, match="Col2im"):
        export(f, randn(1, 8, 4), io.BytesIO())


# ---------------------------------------------------------------------- frozen values
def test_frozen_mask_raises_and_opt_in_freezes():
    def f(x):
        return x * (x > 0).float()

    with pytest.raises(FrozenValueError, match="Mul"):
        export(f, randn(3, 4), io.BytesIO())
    with pytest.warns(UserWarning, match="frozen|freeze"):
        export(f, randn(3, 4), io.BytesIO(), allow_frozen=True)


def test_frozen_argmax_gather_raises():
    def f(x):
        return x.max(1).values

    with pytest.raises(FrozenValueError, match="GetItem"):
        export(f, randn(3, 4), io.BytesIO())


def test_frozen_numpy_constant_raises():
    def f(x):
        return x - tc.tensor(x._array.mean())  # the mean taken with numpy, outside the graph

    with pytest.raises(FrozenValueError, match="Sub"):
        export(f, randn(3, 4), io.BytesIO())


def test_dropout_exports_in_eval_mode():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    buf = io.BytesIO()
    export(model, randn(3, 4), buf, input_names=["x"], dynamic_axes={"x": {0: "b"}})
    assert model.training  # the mode is restored
    model.eval()
    x = randn(5, 4)
    got = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"]).run(None, {"x": x._array})[0]
    with tc.no_grad():
        assert np.max(np.abs(got - model(x)._array)) <= TOL


def test_dropout_mask_in_a_function_raises():
    def f(x):
        return F.dropout(x, 0.5, training=True)

    with pytest.raises(FrozenValueError):
        export(f, randn(3, 4), io.BytesIO())


def test_reshape_with_two_dynamic_dims_raises():
    def f(x):
        return x.reshape(x.shape[1], x.shape[0])

    with pytest.raises(ExportError, match="Reshape"):
        export(f, randn(3, 4), io.BytesIO(), input_names=["x"], dynamic_axes={"x": {0: "b", 1: "n"}})


def test_batchnorm_eval_constants_export():
    tc.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU())
    model.train()
    with tc.no_grad():
        model(randn(8, 1, 5, 5))
    model.eval()
    roundtrip(model, randn(2, 1, 5, 5), randn(3, 1, 5, 5))
