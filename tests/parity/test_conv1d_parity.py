"""F.conv1d and nn.Conv1d against PyTorch: values, gradients, padding modes, state_dict, init statistics, repr."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# torch's own note that an even 'same' total needs a padded copy (which is what we do too).
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}

SETTINGS = [
    dict(stride=s, padding=p, dilation=d, groups=g)
    for s, p, d, g in itertools.product((1, 2, 3), (0, 2, (1,), "same", "valid"), (1, 2), (1, 2))
    if not (p == "same" and s != 1)
]


def _ids(case):
    return "-".join(f"{k}{v}" for k, v in case.items())


def _pair(array, requires_grad=True):
    return tc.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", SETTINGS, ids=[_ids(c) for c in SETTINGS])
def test_functional_values_and_gradients_equal_torch(case, dtype):
    rng = np.random.default_rng(SETTINGS.index(case))
    g = case["groups"]
    bias = case["stride"] != 2  # bias on and off
    x, w = _pair(rng.standard_normal((2, 2 * g, 10)).astype(dtype)), _pair(rng.standard_normal((3 * g, 2, 3)).astype(dtype))
    b = _pair(rng.standard_normal(3 * g).astype(dtype)) if bias else (None, None)
    ours = F.conv1d(x[0], w[0], b[0], **case)
    theirs = TF.conv1d(x[1], w[1], b[1], **case)
    assert ours.shape == tuple(theirs.shape) and ours.dtype == dtype
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL[dtype])
    upstream = rng.standard_normal(ours.shape).astype(dtype)
    ours.backward(tc.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    for mine, ref in [(x, x), (w, w)] + ([(b, b)] if bias else []):
        np.testing.assert_allclose(mine[0].grad.numpy(), ref[1].grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("k, dilation", [(2, 1), (4, 1), (3, 2), (4, 3), (5, 1)])
def test_same_padding_with_odd_and_even_totals_equals_torch(k, dilation):
    rng = np.random.default_rng(k * 10 + dilation)
    x, w = _pair(rng.standard_normal((1, 3, 8))), _pair(rng.standard_normal((2, 3, k)))
    ours, theirs = F.conv1d(x[0], w[0], padding="same", dilation=dilation), TF.conv1d(x[1], w[1], padding="same",
                                                                                     dilation=dilation)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w[0].grad.numpy(), w[1].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_unbatched_input_equals_torch():
    rng = np.random.default_rng(1)
    x, w, b = _pair(rng.standard_normal((4, 9))), _pair(rng.standard_normal((6, 2, 3))), _pair(rng.standard_normal(6))
    ours, theirs = F.conv1d(x[0], w[0], b[0], 2, 1, 1, 2), TF.conv1d(x[1], w[1], b[1], 2, 1, 1, 2)
    assert ours.shape == tuple(theirs.shape) == (6, 5)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    (ours ** 2).sum().backward()
    (theirs ** 2).sum().backward()
    for mine, ref in (x, x), (w, w), (b, b):
        np.testing.assert_allclose(mine[0].grad.numpy(), ref[1].grad.numpy(), rtol=1e-10, atol=1e-12)


MODULES = [
    dict(in_channels=4, out_channels=6, kernel_size=k, padding=p, padding_mode=m, stride=s, dilation=d, groups=g,
         bias=bias)
    for (k, p, s, d, g, bias), m in itertools.product(
        [(3, 1, 1, 1, 1, True), (4, "same", 1, 1, 2, False), (3, "same", 1, 2, 1, True), (3, 2, 2, 1, 2, True),
         (2, "valid", 1, 1, 1, True), (5, 0, 1, 1, 2, True)],
        ("zeros", "reflect", "replicate", "circular"))
]


@pytest.mark.parametrize("dtype", ["double", "float"])
@pytest.mark.parametrize("unbatched", [False, True], ids=["batched", "unbatched"])
@pytest.mark.parametrize("kw", MODULES, ids=[_ids(c) for c in MODULES])
def test_module_with_torch_state_dict_equals_torch_in_every_padding_mode(kw, unbatched, dtype):
    torch.manual_seed(0)
    theirs = getattr(torch.nn.Conv1d(**kw), dtype)()
    ours = getattr(nn.Conv1d(**kw), dtype)()
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    assert all(tuple(ours.state_dict()[k].shape) == tuple(v.shape) for k, v in sd.items())
    ours.load_state_dict({k: tc.tensor(v.numpy()) for k, v in sd.items()}, strict=True)
    assert repr(ours) == repr(theirs)
    assert (ours.kernel_size, ours.stride, ours.padding, ours.dilation, ours.groups, ours.padding_mode) == (
        theirs.kernel_size, theirs.stride, theirs.padding, theirs.dilation, theirs.groups, theirs.padding_mode)
    np_dtype = np.float64 if dtype == "double" else np.float32
    shape = (4, 7) if unbatched else (2, 4, 7)
    x = _pair(np.random.default_rng(2).standard_normal(shape).astype(np_dtype))
    out_o, out_t = ours(x[0]), theirs(x[1])
    assert out_o.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), **TOL[np_dtype])
    (out_o * out_o).sum().backward()
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), **TOL[np_dtype])
    grads = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), **TOL[np_dtype])


def test_our_state_dict_loads_into_torch_and_the_outputs_agree():
    tc.manual_seed(0)
    ours = nn.Sequential(nn.Conv1d(3, 8, 5, padding=2), nn.ReLU(), nn.Conv1d(8, 4, 3, stride=2, groups=4))
    theirs = torch.nn.Sequential(torch.nn.Conv1d(3, 8, 5, padding=2), torch.nn.ReLU(),
                                 torch.nn.Conv1d(8, 4, 3, stride=2, groups=4))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    x = np.random.default_rng(3).standard_normal((2, 3, 16)).astype(np.float32)
    np.testing.assert_allclose(ours(tc.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cin, cout, k, groups", [(16, 32, 7, 1), (32, 64, 3, 4), (8, 16, 1, 8)])
def test_parameter_shapes_and_init_statistics_equal_torch(cin, cout, k, groups):
    torch.manual_seed(0)
    tc.manual_seed(0)
    ws_o, ws_t, bs_o, bs_t = [], [], [], []
    for _ in range(20):  # enough draws for the statistics of the small layers
        ours, theirs = nn.Conv1d(cin, cout, k, groups=groups), torch.nn.Conv1d(cin, cout, k, groups=groups)
        assert ours.weight.shape == tuple(theirs.weight.shape) and ours.bias.shape == tuple(theirs.bias.shape)
        assert ours.weight.dtype == np.float32
        ws_o.append(ours.weight.detach().numpy().ravel())
        ws_t.append(theirs.weight.detach().numpy().ravel())
        bs_o.append(ours.bias.detach().numpy())
        bs_t.append(theirs.bias.detach().numpy())
    w_o, w_t, b_o, b_t = (np.concatenate(a) for a in (ws_o, ws_t, bs_o, bs_t))
    bound = 1 / math.sqrt(cin // groups * k)  # both weight and bias: U(±1/√fan_in)
    for ours_v, theirs_v in (w_o, w_t), (b_o, b_t):
        assert np.abs(ours_v).max() <= bound and np.abs(theirs_v).max() <= bound
        assert np.abs(ours_v).max() > 0.9 * bound
        np.testing.assert_allclose(ours_v.var(), theirs_v.var(), rtol=0.15)
        np.testing.assert_allclose(ours_v.var(), bound ** 2 / 3, rtol=0.15)
        assert abs(ours_v.mean()) < 0.1 * bound


@pytest.mark.parametrize("kw", [
    dict(), dict(stride=2), dict(padding=1), dict(padding="same"), dict(padding="valid"), dict(dilation=3),
    dict(groups=3), dict(bias=False), dict(padding=2, padding_mode="reflect"), dict(padding_mode="circular"),
    dict(kernel_size=(2,), stride=(3,), padding=(1,), dilation=(2,), groups=3, bias=False, padding_mode="replicate"),
], ids=lambda kw: _ids(kw) or "default")
def test_repr_equals_torch(kw):
    kw = {"kernel_size": 5, **kw}
    assert repr(nn.Conv1d(3, 6, **kw)) == repr(torch.nn.Conv1d(3, 6, **kw))


@pytest.mark.parametrize("call", [
    lambda m: m.Conv1d(3, 4, 3, stride=2, padding="same"),
    lambda m: m.Conv1d(3, 4, 3, groups=2),
    lambda m: m.Conv1d(3, 4, 3, padding="full"),
    lambda m: m.Conv1d(3, 4, 3, padding_mode="mirror"),
])
def test_the_settings_torch_refuses_are_refused(call):
    with pytest.raises(ValueError):
        call(torch.nn)
    with pytest.raises(ValueError, match="Conv1d: "):
        call(nn)
