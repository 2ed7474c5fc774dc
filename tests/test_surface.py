"""The everyday PyTorch surface: names, dtypes, devices, function forms, Tensor methods."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.serialization import CheckpointError

# PyTorch's top-level names for the features this library has (written out, not read from torch).
TOP_LEVEL = """
abs neg exp log log2 log10 sqrt rsqrt square sin cos tanh sigmoid relu erf sign clamp clip softmax
log_softmax add sub mul div pow maximum minimum matmul mm sum mean prod var std amax amin max min
argmax argmin logsumexp norm all any numel reshape flatten squeeze unsqueeze transpose swapaxes t
permute flip split chunk clone detach isnan isfinite eq ne lt le gt ge isclose allclose equal
empty empty_like zeros zeros_like ones ones_like full full_like eye arange linspace rand rand_like
randn randn_like randint randperm tensor from_numpy cat stack where is_tensor is_floating_point
float float16 float32 float64 half double int int8 int16 int32 int64 long short uint8 bool
device cuda backends no_grad enable_grad set_grad_enabled is_grad_enabled inference_mode
manual_seed initial_seed get_default_dtype set_default_dtype save load Tensor autograd nn optim
tan sinh cosh asin acos atan asinh acosh atanh arcsin arccos arctan arcsinh arccosh arctanh exp2 expm1 log1p
erfc erfinv lgamma digamma sinc floor ceil trunc fix frac sgn rad2deg deg2rad reciprocal atan2 arctan2
logaddexp logaddexp2 xlogy hypot fmod fmax fmin round nan_to_num lerp addcmul addcdiv polygamma cumsum
cumprod cummax cummin logcumsumexp sort argsort topk kthvalue median nanmean nansum quantile var_mean
std_mean count_nonzero diff einsum tensordot outer ger inner kron cross dot vdot mv bmm addmm addmv baddbmm
matrix_power chain_matmul det slogdet inverse matrix_exp linalg func gather scatter scatter_add
scatter_reduce index_select index_add index_copy masked_select masked_scatter take take_along_dim nonzero
argwhere tril triu diag diag_embed diagonal trace roll fliplr flipud rot90 movedim moveaxis unbind narrow
tensor_split hsplit vsplit dsplit hstack vstack dstack column_stack row_stack atleast_1d atleast_2d
atleast_3d repeat_interleave broadcast_to meshgrid unflatten ravel tile Generator default_generator
get_rng_state set_rng_state seed multinomial bernoulli normal poisson randint_like cdist
""".split()
TENSOR_METHODS = """
nelement numel view_as reshape_as type_as expand_as new_zeros new_ones new_full new_empty new_tensor
mm clone contiguous type to cpu device dim size item tolist numpy detach requires_grad_ backward
log10 log2 square rsqrt add_ sub_ mul_ div_ zero_ fill_ copy_ masked_fill masked_fill_ uniform_ normal_
bmm mv dot vdot outer ger inner kron addmm addmv baddbmm matrix_power det inverse matrix_exp pinverse
""".split()


def test_every_listed_pytorch_name_exists() -> None:
    missing = [n for n in TOP_LEVEL if not hasattr(tc, n)]
    assert missing == []
    missing = [n for n in TENSOR_METHODS if not hasattr(tc.Tensor, n)]
    assert missing == []


def test_the_list_is_pytorchs_where_torch_is_installed() -> None:
    torch = pytest.importorskip("torch")
    assert [n for n in TOP_LEVEL if not hasattr(torch, n)] == []
    assert [n for n in TENSOR_METHODS if not hasattr(torch.Tensor, n)] == []


def test_function_forms_equal_the_methods() -> None:
    x = tc.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], dtype=tc.float64)
    p = x.abs() + 0.1
    for name in ("abs", "exp", "sin", "cos", "tanh", "sigmoid", "relu", "sign", "square", "neg"):
        np.testing.assert_array_equal(getattr(tc, name)(x).numpy(), getattr(x, name)().numpy() if name != "neg" else -x.numpy())
    for name in ("log", "log2", "log10", "sqrt", "rsqrt"):
        np.testing.assert_allclose(getattr(tc, name)(p).numpy(), getattr(np, name if name != "rsqrt" else "sqrt")(p.numpy()) ** (-1 if name == "rsqrt" else 1), rtol=1e-14)
    assert tc.sum(x).item() == pytest.approx(x.numpy().sum()) and tc.sum(x, 1, keepdim=True).shape == (2, 1)
    assert tc.mean(x, 0).tolist() == pytest.approx(x.numpy().mean(0).tolist())
    assert tc.max(x).item() == 2.0 and tc.max(x, 1).indices.tolist() == [2, 0]
    assert tc.max(x, tc.zeros(2, 3, dtype=tc.float64)).tolist() == np.maximum(x.numpy(), 0).tolist()
    assert tc.mul(x, 2).tolist() == (2 * x.numpy()).tolist() and tc.add(x, x, alpha=2).tolist() == (3 * x.numpy()).tolist()
    assert tc.flatten(x).shape == (6,) and tc.transpose(x, 0, 1).shape == (3, 2) and tc.t(x).shape == (3, 2)
    assert tc.softmax(x, 1).sum(1).tolist() == pytest.approx([1.0, 1.0])
    assert tc.clamp(x, -0.5, 0.5).tolist() == np.clip(x.numpy(), -0.5, 0.5).tolist()
    assert bool(tc.all(x != 7)) and bool(tc.any(x > 1.9)) and tc.numel(x) == 6
    assert tc.allclose(x, x + 1e-9) and not tc.allclose(x, x + 1e-3) and tc.equal(x, x.clone())
    assert tc.isclose(x, x + tc.tensor([1e-9, 1.0, 0.0], dtype=tc.float64)).tolist() == [[True, False, True]] * 2
    assert tc.mm(x, tc.t(x)).shape == (2, 2)
    # the function forms are differentiable as the methods are
    w = tc.tensor([0.3, 0.7], dtype=tc.float64, requires_grad=True)
    assert tc.gradcheck(lambda v: tc.log10(tc.exp(v) + 1).sum() + tc.square(v).mean(), (w,))


def test_tensor_everyday_methods() -> None:
    x = tc.arange(6).reshape(2, 3)
    assert x.nelement() == 6 and x.element_size() == 8
    assert x.view_as(tc.zeros(3, 2)).shape == (3, 2) and x.reshape_as(tc.zeros(6)).shape == (6,)
    assert x.type_as(tc.zeros(1)).dtype == tc.float32 and x.type() == "torch.LongTensor"
    assert x.type(tc.float64).dtype == tc.float64 and x.float().type() == "torch.FloatTensor"
    assert x.new_zeros(2, 2).dtype == tc.int64 and x.new_ones((3,)).tolist() == [1, 1, 1]
    assert x.new_full((2,), 7).tolist() == [7, 7] and x.new_tensor([1.5]).dtype == tc.int64
    assert x.new_empty(4, dtype=tc.float64).shape == (4,)
    t = x.T
    assert not t.numpy().flags.c_contiguous and t.contiguous().numpy().flags.c_contiguous
    assert t.contiguous().tolist() == t.tolist()
    c = tc.tensor([1.0, 2.0], requires_grad=True)
    d = c.clone()
    assert d.grad_fn.name() == "CloneBackward"
    (d * 3).sum().backward()
    assert c.grad.tolist() == [3.0, 3.0]
    assert x.sum(0, keepdims=True).shape == (1, 3) and x.float().mean(1, keepdims=True).shape == (2, 1)
    with pytest.raises(RuntimeError, match=r"mm: both operands must be matrices \(2-D\), got shapes \(6,\)"):
        tc.arange(6).mm(x)


def test_dtype_names_and_a_clear_error_for_unknown_ones() -> None:
    assert (tc.float, tc.double, tc.half, tc.long, tc.int, tc.short, tc.bool) == (
        np.float32, np.float64, np.float16, np.int64, np.int32, np.int16, np.bool_)
    assert tc.zeros(2, dtype=tc.long).dtype == np.int64 and tc.tensor([1], dtype=float).dtype == np.float64
    assert tc.ones(1, dtype="float64").dtype == np.float64 and tc.tensor([1.0]).to(tc.half).dtype == np.float16
    with pytest.raises(TypeError, match="zeros|dtype: unknown or unsupported dtype 'floaty'; accepted: bool, cdouble, cfloat, complex128"):
        tc.zeros(2, dtype="floaty")
    # Complex dtypes, as PyTorch's: Python complex → complex64 (the float32 default), numpy keeps its own.
    assert tc.tensor([1.0], dtype=np.complex128).dtype == np.complex128 and tc.tensor([1 + 2j]).dtype == np.complex64
    assert tc.tensor(np.array([1 + 2j])).dtype == np.complex128 and (tc.ones(2) * 1j).dtype == np.complex64
    assert (tc.ones(2, dtype=tc.float64) + np.array([1j, 2j], dtype=np.complex64)).dtype == np.complex128
    assert tc.from_numpy(np.zeros(2, dtype=np.complex64)).dtype == np.complex64
    assert (tc.cfloat, tc.cdouble) == (np.complex64, np.complex128)
    with pytest.raises(TypeError, match="numpy arrays of dtype complex256 are not supported"):
        tc.tensor(np.array([1 + 2j], dtype=np.clongdouble))


def test_devices_the_cpu_only_with_one_clear_error() -> None:
    dev = tc.device("cuda" if tc.cuda.is_available() else "cpu")
    assert dev == tc.device("cpu") == "cpu" and str(dev) == "cpu" and repr(dev) == "device(type='cpu')"
    assert tc.device("cpu:0").index == 0 and tc.device(dev).type == "cpu"
    assert not tc.cuda.is_available() and tc.cuda.device_count() == 0
    assert not tc.backends.mps.is_available() and not tc.accelerator.is_available()
    x = tc.zeros(2, 3, device=dev)
    assert x.device == dev and x.to(dev) is x and x.cpu() is x and not x.is_cuda
    assert x.to(dev, tc.float64).dtype == np.float64 and x.to(tc.ones(1, dtype=tc.int64)).dtype == np.int64
    assert x.to(device="cpu", dtype=tc.float16).dtype == np.float16 and x.to(dev, copy=True) is not x
    for make in (lambda: tc.device("cuda"), lambda: x.to("cuda"), lambda: x.cuda(), lambda: tc.ones(2, device="cuda:0"),
                 lambda: tc.randn(2, device="mps"), lambda: nn.Linear(2, 2).to("cuda")):
        with pytest.raises(RuntimeError, match="is not available; tinygrad_course runs on the CPU only"):
            make()
    for factory in (tc.zeros, tc.ones, tc.rand, tc.randn, tc.empty):
        assert factory(2, device="cpu").shape == (2,)
    assert tc.arange(3, device=dev).tolist() == [0, 1, 2] and tc.eye(2, device=dev).shape == (2, 2)
    assert tc.full((2,), 1.5, device=dev).tolist() == [1.5, 1.5] and tc.tensor([1], device=dev).device == dev


def test_module_to_converts_parameters_and_buffers_in_place() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    params = list(model.parameters())
    opt = tc.optim.SGD(model.parameters(), lr=0.1)
    assert model.to("cpu") is model and model.double() is model
    assert [p is q for p, q in zip(model.parameters(), params)] == [True] * 4
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model[1].running_mean.dtype == np.float64 and model[1].num_batches_tracked.dtype == np.int64
    y = model(tc.randn(4, 3, dtype=tc.float64)).sum()
    y.backward()
    opt.step()  # the optimizer holds the same Parameter objects
    assert model.float()[0].weight.dtype == np.float32 and model.half()[0].weight.dtype == np.float16
    assert model.type(tc.float64)[0].bias.dtype == np.float64 and model.cpu() is model


def test_no_grad_bare_and_inference_mode() -> None:
    @tc.no_grad
    def bare() -> bool:
        return tc.is_grad_enabled()

    @tc.inference_mode()
    def called() -> bool:
        return tc.is_grad_enabled()

    assert bare() is False and called() is False and tc.is_grad_enabled()
    x = tc.ones(2, requires_grad=True)
    with tc.inference_mode():
        assert not (x * 2).requires_grad
    with tc.inference_mode(False):
        assert (x * 2).requires_grad


def test_a_device_agnostic_training_loop_runs() -> None:
    device = tc.device("cuda" if tc.cuda.is_available() else "cpu")
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 1)).to(device)
    opt = tc.optim.Adam(model.parameters(), lr=0.05)
    x = tc.randn(64, 2).to(device)
    y = (x[:, :1] * 2 - x[:, 1:]).to(device)
    first = None
    for _ in range(100):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.05 * first and loss.device == device


@pytest.mark.parametrize("make,text", [
    (lambda: tc.tensor([0.1, 2.5, 3.0]), "tensor([0.1000, 2.5000, 3.0000])"),
    (lambda: tc.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: tc.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: tc.tensor([1e10, 1.0]), "tensor([1.0000e+10, 1.0000e+00])"),
    (lambda: tc.tensor(2.8123456), "tensor(2.8123)"),
    (lambda: tc.tensor([[1.5, 2.25], [3.0, 4.0]]), "tensor([[1.5000, 2.2500],\n        [3.0000, 4.0000]])"),
    (lambda: tc.tensor([1, 2, 30]), "tensor([ 1,  2, 30])"),
    (lambda: tc.tensor([True, False]), "tensor([ True, False])"),
    (lambda: tc.tensor([float("nan"), float("inf"), 1.5]), "tensor([   nan,    inf, 1.5000])"),
    (lambda: tc.zeros(0), "tensor([])"),
    (lambda: tc.zeros(0, 3), "tensor([], size=(0, 3))"),
    (lambda: tc.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    (lambda: tc.tensor([1.5, 2.0], dtype=tc.float64), "tensor([1.5000, 2.0000], dtype=float64)"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_printing_like_pytorch(make, text) -> None:
    assert repr(make()) == text and str(make()) == text


def test_print_options_and_format() -> None:
    try:
        tc.set_printoptions(precision=2)
        assert repr(tc.tensor([0.125, 1.0])) == "tensor([0.12, 1.00])"
        tc.set_printoptions(sci_mode=True)
        assert repr(tc.tensor([0.5])) == "tensor([5.00e-01])"
        tc.set_printoptions(threshold=5, edgeitems=2, sci_mode=False)
        assert repr(tc.arange(10)) == "tensor([0, 1, ..., 8, 9])"
    finally:
        tc.set_printoptions(profile="default")
    assert repr(tc.tensor([0.125])) == "tensor([0.1250])"
    loss = tc.tensor(2.81234)
    assert f"{loss:.2f}" == "2.81" and f"{loss:.3e}" == "2.812e+00" and f"{loss}" == "tensor(2.8123)"
    with pytest.raises(ValueError, match="unknown profile 'long'"):
        tc.set_printoptions(profile="long")


def test_the_legacy_constructor_gives_the_default_float_dtype() -> None:
    assert tc.Tensor([1, 2, 3]).dtype == np.float32 and tc.Tensor(np.array([1, 2])).dtype == np.float32
    assert tc.Tensor([True]).dtype == np.float32 and tc.Tensor([1], dtype=tc.int64).dtype == np.int64
    assert tc.Tensor(tc.tensor([1, 2])).dtype == np.int64  # from a Tensor: its own dtype, as PyTorch
    assert tc.tensor([1, 2, 3]).dtype == np.int64 and tc.tensor(np.array([1.0], dtype=np.float16)).dtype == np.float16


def test_save_and_load_with_open_files_and_bytes_io(tmp_path) -> None:
    import io

    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    buf = io.BytesIO()
    tc.save(model.state_dict(), buf)
    buf.seek(0)
    state = tc.load(buf, map_location="cpu", weights_only=True)
    assert sorted(state) == sorted(model.state_dict())
    np.testing.assert_array_equal(state["0.weight"].numpy(), model[0].weight.detach().numpy())
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        tc.save({"model": model.state_dict(), "step": 7}, f)
    with open(path, "rb") as f:
        loaded = tc.load(f, map_location=tc.device("cpu"))
    assert loaded["step"] == 7 and loaded["model"]["1.num_batches_tracked"].dtype == np.int64
    assert tc.load(path, map_location=lambda storage, loc: storage)["step"] == 7
    with pytest.raises(RuntimeError, match="load: device 'cuda:0' is not available"):
        tc.load(path, map_location="cuda:0")
    with pytest.raises(CheckpointError, match="not an .npz"):
        tc.load(io.BytesIO(b"not a checkpoint"))


def test_tensor_methods_of_products_and_linear_algebra_equal_the_functions() -> None:
    rng = np.random.default_rng(3)
    a = tc.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3))
    b = tc.tensor(rng.standard_normal((2, 3, 4)))
    c = tc.tensor(rng.standard_normal((2, 4, 5)))
    v, w = tc.tensor([1.0, 2.0, 3.0]), tc.tensor([0.5, -1.0, 2.0])
    assert a.det().item() == pytest.approx(np.linalg.det(a.numpy()), rel=1e-12)
    np.testing.assert_allclose(a.inverse().numpy(), np.linalg.inv(a.numpy()), rtol=1e-12)
    np.testing.assert_allclose(a.pinverse().numpy(), np.linalg.pinv(a.numpy()), rtol=1e-10)
    np.testing.assert_allclose(b.bmm(c).numpy(), b.numpy() @ c.numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.mv(v).numpy(), a.numpy() @ v.numpy(), rtol=1e-12)
    assert v.dot(w).item() == pytest.approx(4.5) and v.vdot(w).item() == pytest.approx(4.5)
    np.testing.assert_array_equal(v.outer(w).numpy(), np.outer(v.numpy(), w.numpy()))
    np.testing.assert_array_equal(v.ger(w).numpy(), np.outer(v.numpy(), w.numpy()))
    np.testing.assert_allclose(a.matrix_power(3).numpy(), np.linalg.matrix_power(a.numpy(), 3), rtol=1e-12)
    np.testing.assert_allclose(a.addmm(a, a, beta=0.5).numpy(), 0.5 * a.numpy() + a.numpy() @ a.numpy(), rtol=1e-12)
    np.testing.assert_array_equal(v.kron(w).numpy(), np.kron(v.numpy(), w.numpy()))
    with pytest.raises(ValueError, match=r"det: expected \(batches of\) square matrices, got shape \(2, 3, 4\)"):
        b.det()
    x = a.detach().requires_grad_()
    assert tc.gradcheck(lambda m: m.det() + m.inverse().sum() + m.matrix_exp().sum() * 0.01, (x,))


def test_clamp_with_tensor_bounds_flip_of_0d_and_matrix_transposes() -> None:
    """clamp(min=Tensor, max=Tensor) with PyTorch's gradients (x at a tie, hi where lo > hi); flip of 0-d; mT, mH, H."""
    a = tc.tensor([[1.0, 5.0, -2.0], [0.5, 3.0, 9.0]], requires_grad=True)
    lo = tc.tensor([0.0, 5.0, 2.0], requires_grad=True)
    hi = tc.tensor(4.0, requires_grad=True)
    y = a.clamp(lo, hi)
    np.testing.assert_array_equal(y.detach().numpy(), [[1.0, 4.0, 2.0], [0.5, 4.0, 4.0]])
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # a = lo = 5 → hi wins (lo > hi)
    np.testing.assert_array_equal(lo.grad.numpy(), [0.0, 0.0, 1.0])
    assert hi.grad.item() == 3.0
    assert a.clamp(min=lo).shape == (2, 3)
    x = tc.tensor(2.0, requires_grad=True)
    assert x.flip(0).item() == 2.0 and x.flip(-1).grad_fn is not None
    m = tc.randn(2, 3, 4)
    assert m.mT.shape == (2, 4, 3) and m.mH.shape == (2, 4, 3) and m[0].H.shape == (4, 3)
    np.testing.assert_array_equal(m.mT.numpy(), np.swapaxes(m.numpy(), -1, -2))
    with pytest.raises(RuntimeError, match="tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."):
        _ = tc.randn(3).mT
    with pytest.raises(RuntimeError, match="tensor.H is only supported on matrices .2-D tensors.. Got 3-D tensor"):
        _ = m.H
