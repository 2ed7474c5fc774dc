"""Conv1d and F.conv1d: forward against a naive numpy loop, gradients by gradcheck/gradgradcheck, errors, vmap."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import random_leaf as leaf

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


def naive_conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """The definition, one output element at a time: z[n, o, t] = b[o] + Σ_{c,k} W[o, c, k] · x_pad[n, g·C/g + c, s·t + d·k]."""
    n, c, length = x.shape
    cout, cin_g, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding)))
    lout = (length + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    out = np.zeros((n, cout, lout))
    per_group = cout // groups
    for i in range(n):
        for o in range(cout):
            g = o // per_group
            for t in range(lout):
                acc = 0.0 if b is None else b[o]
                for ci in range(cin_g):
                    for j in range(k):
                        acc += w[o, ci, j] * xp[i, g * cin_g + ci, t * stride + j * dilation]
                out[i, o, t] = acc
    return out


def same_padding(k, dilation=1):
    """PyTorch's split of 'same' padding: total d·(K − 1), the odd extra at the end."""
    total = dilation * (k - 1)
    return total // 2, total - total // 2


CASES = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=1, padding=2, dilation=2, groups=1),
    dict(stride=3, padding=1, dilation=2, groups=2),
    dict(stride=1, padding=0, dilation=1, groups=4),  # depthwise
]


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_the_naive_loop_for_ints_and_one_tuples(case):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 11))
    w = rng.standard_normal((8, 4 // case["groups"], 3))
    b = rng.standard_normal(8)
    want = naive_conv1d(x, w, b, **case)
    out = F.conv1d(tc.from_numpy(x), tc.from_numpy(w), tc.from_numpy(b), **case)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    as_tuples = {k: (v,) if k != "groups" else v for k, v in case.items()}
    out = F.conv1d(tc.from_numpy(x), tc.from_numpy(w), tc.from_numpy(b), **as_tuples)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    no_bias = F.conv1d(tc.from_numpy(x), tc.from_numpy(w), None, **case)
    np.testing.assert_allclose(no_bias.numpy(), naive_conv1d(x, w, None, **case), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("k, dilation", [(3, 1), (4, 1), (2, 3), (4, 2), (1, 1)])
def test_same_and_valid_padding(k, dilation):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 9))
    w = rng.standard_normal((5, 3, k))
    lo, hi = same_padding(k, dilation)
    want = naive_conv1d(np.pad(x, ((0, 0), (0, 0), (lo, hi))), w, None, dilation=dilation)
    out = F.conv1d(tc.from_numpy(x), tc.from_numpy(w), padding="same", dilation=dilation)
    assert out.shape == (2, 5, 9)
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-12, atol=1e-12)
    valid = F.conv1d(tc.from_numpy(x), tc.from_numpy(w), padding="valid", dilation=dilation)
    np.testing.assert_allclose(valid.numpy(), naive_conv1d(x, w, None, dilation=dilation), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES[:4])
def test_gradcheck_input_weight_bias(case):
    g = case["groups"]
    x, w, b = leaf(2, 2 * g, 7, seed=1), leaf(2 * g, 2, 3, seed=2), leaf(2 * g, seed=3)
    assert tc.gradcheck(lambda x, w, b: F.conv1d(x, w, b, **case), (x, w, b))


def test_gradcheck_same_padding_with_an_odd_total_and_no_bias():
    x, w = leaf(2, 2, 6, seed=4), leaf(3, 2, 4, seed=5)
    assert tc.gradcheck(lambda x, w: F.conv1d(x, w, padding="same"), (x, w))
    assert tc.gradcheck(lambda x, w: F.conv1d(x, w, padding="same", dilation=3), (x, w))


def test_gradgradcheck():
    x, w, b = leaf(1, 2, 6, seed=6), leaf(2, 2, 3, seed=7), leaf(2, seed=8)
    assert tc.gradgradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (x, w, b))
    assert tc.gradgradcheck(lambda x, w: F.conv1d(x, w, dilation=2, groups=2, padding="same"),
                            (leaf(1, 2, 5, seed=9), leaf(2, 1, 2, seed=10)))


def test_unbatched_input_equals_the_batch_of_one_with_its_gradients():
    x, w, b = leaf(3, 8, seed=11), leaf(4, 3, 3, seed=12), leaf(4, seed=13)
    single = F.conv1d(x, w, b, stride=2, padding=1)
    assert single.shape == (4, 4)
    batch = F.conv1d(x.detach().unsqueeze(0), w.detach(), b.detach(), stride=2, padding=1)
    np.testing.assert_allclose(single.detach().numpy(), batch.numpy()[0], rtol=1e-14)
    np.testing.assert_allclose(single.detach().numpy(), naive_conv1d(x.detach().numpy()[None], w.detach().numpy(),
                                                                     b.detach().numpy(), 2, 1)[0], rtol=1e-12)
    assert tc.gradcheck(lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1), (x, w, b))


def test_module_attributes_shapes_init_state_dict_and_repr():
    tc.manual_seed(0)
    conv = nn.Conv1d(6, 9, 5, stride=2, padding=1, dilation=2, groups=3)
    assert (conv.kernel_size, conv.stride, conv.padding, conv.dilation) == ((5,), (2,), (1,), (2,))
    assert conv.weight.shape == (9, 2, 5) and conv.bias.shape == (9,)
    assert list(conv.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(2 * 5)  # fan_in = in/groups · K
    assert np.abs(conv.weight.detach().numpy()).max() <= bound and np.abs(conv.bias.detach().numpy()).max() <= bound
    assert np.abs(conv.bias.detach().numpy()).max() > bound / 2  # drawn over the whole range, not a smaller one
    x = tc.randn(2, 6, 13)
    want = naive_conv1d(x.numpy(), conv.weight.detach().numpy(), conv.bias.detach().numpy(), 2, 1, 2, 3)
    np.testing.assert_allclose(conv(x).detach().numpy(), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(conv(x[0]).detach().numpy(), want[0], rtol=1e-5, atol=1e-6)  # (9, 4), unbatched
    assert repr(conv) == "Conv1d(6, 9, kernel_size=(5,), stride=(2,), padding=(1,), dilation=(2,), groups=3)"
    assert repr(nn.Conv1d(3, 8, 5)) == "Conv1d(3, 8, kernel_size=(5,), stride=(1,))"
    assert repr(nn.Conv1d(3, 8, (4,), padding="same", bias=False, padding_mode="circular")) == (
        "Conv1d(3, 8, kernel_size=(4,), stride=(1,), padding=same, bias=False, padding_mode=circular)")
    assert nn.Conv1d(3, 8, 4, padding="same").padding == "same"
    assert nn.Conv1d(2, 2, 3, bias=False).bias is None and list(nn.Conv1d(2, 2, 3, bias=False).state_dict()) == ["weight"]
    assert nn.Conv1d(2, 2, 3, dtype=tc.float64).weight.dtype == np.float64
    assert nn.Conv1d(2, 2, 3).weight.dtype == np.float32


def test_init_statistics_match_kaiming_uniform_with_a_sqrt5():
    tc.manual_seed(1)
    conv = nn.Conv1d(16, 64, 7, groups=2)
    fan_in = 8 * 7
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    # Kaiming-uniform with a = √5: gain √(2 / 6), bound = gain · √(3 / fan_in) = 1/√fan_in; variance bound²/3.
    assert np.abs(w).max() <= 1 / math.sqrt(fan_in)
    np.testing.assert_allclose(w.var(), 1 / (3 * fan_in), rtol=0.05)
    assert abs(w.mean()) < 0.01
    assert np.abs(b).max() <= 1 / math.sqrt(fan_in)
    conv2 = nn.Conv2d(4, 6, (3, 2))  # the generalised helper leaves Conv2d's fan_in = in/groups · kh · kw
    assert np.abs(conv2.bias.detach().numpy()).max() <= 1 / math.sqrt(4 * 3 * 2)


@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
@pytest.mark.parametrize("padding", [2, "same"])
def test_padding_modes_match_numpy_padding_then_a_valid_convolution(mode, np_mode, padding):
    tc.manual_seed(2)
    conv = nn.Conv1d(2, 3, 4, padding=padding, padding_mode=mode).double()
    x = np.random.default_rng(14).standard_normal((2, 2, 7))
    lo, hi = (2, 2) if padding == 2 else same_padding(4)
    xp = np.pad(x, ((0, 0), (0, 0), (lo, hi)), mode=np_mode)
    want = naive_conv1d(xp, conv.weight.detach().numpy(), conv.bias.detach().numpy())
    np.testing.assert_allclose(conv(tc.from_numpy(x)).detach().numpy(), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv(tc.from_numpy(x[1])).detach().numpy(), want[1], rtol=1e-12, atol=1e-12)
    xl = leaf(1, 2, 6, seed=15)
    assert tc.gradcheck(lambda t: conv(t), (xl,))


def test_functional_errors_name_conv1d_and_the_shapes():
    x, w = tc.randn(2, 4, 9), tc.randn(6, 2, 3)
    with pytest.raises(ValueError, match=r"conv1d: expected input of shape \(N, C, L\) or \(C, L\), got shape \(2, 4, 9, 1\)"):
        F.conv1d(x.unsqueeze(-1), w, groups=2)
    with pytest.raises(ValueError, match=r"conv1d: expected input of shape \(N, C, L\) or \(C, L\), got shape \(9,\)"):
        F.conv1d(tc.randn(9), w)
    with pytest.raises(ValueError, match=r"conv1d: weight must be 3-D \(C_out, C_in/groups, K\), got shape \(6, 2, 1, 3\)"):
        F.conv1d(x, w.unsqueeze(2))
    with pytest.raises(ValueError, match=r"conv1d: expected input with 2 channels \(weight of shape \(6, 2, 3\), "
                                         r"groups=1\), got input of shape \(2, 4, 9\)"):
        F.conv1d(x, w)
    with pytest.raises(ValueError, match=r"conv1d: groups must be a positive int dividing C_out=6, got 4"):
        F.conv1d(tc.randn(2, 8, 9), w, groups=4)
    with pytest.raises(ValueError, match=r"conv1d: groups must be a positive int dividing C_out=6, got 0"):
        F.conv1d(x, w, groups=0)
    with pytest.raises(ValueError, match=r"conv1d: bias must have shape \(6,\), got \(3,\)"):
        F.conv1d(x, w, tc.randn(3), groups=2)
    with pytest.raises(TypeError, match=r"conv1d: input has dtype float64 but weight has float32; convert the input"):
        F.conv1d(x.double(), w, groups=2)
    with pytest.raises(ValueError, match=r"conv1d: input of length 4 \(padding \(0,\)\) is too small for kernel size 3 "
                                         r"with dilation 2: the output would have length 0"):
        F.conv1d(tc.randn(2, 4, 4), w, groups=2, dilation=2)
    with pytest.raises(TypeError, match=r"conv1d: stride must be an int or a 1-tuple of ints, got \(1, 1\)"):
        F.conv1d(x, w, groups=2, stride=(1, 1))
    with pytest.raises(TypeError, match=r"conv1d: dilation must be an int or a 1-tuple of ints, got 1.5"):
        F.conv1d(x, w, groups=2, dilation=1.5)
    with pytest.raises(ValueError, match=r"conv1d: padding must be ≥ 0, got -1"):
        F.conv1d(x, w, groups=2, padding=-1)
    with pytest.raises(ValueError, match=r"conv1d: stride must be ≥ 1, got \(0,\)"):
        F.conv1d(x, w, groups=2, stride=(0,))
    with pytest.raises(ValueError, match=r"conv1d: padding='same' is not supported for strided convolutions \(stride \(2,\)\)"):
        F.conv1d(x, w, groups=2, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got 'full'"):
        F.conv1d(x, w, groups=2, padding="full")
    with pytest.raises(TypeError, match=r"conv1d: input must be a Tensor, got ndarray"):
        F.conv1d(np.zeros((2, 4, 9)), w, groups=2)


def test_module_errors_name_conv1d():
    with pytest.raises(ValueError, match=r"Conv1d: groups=2 must be positive and divide in_channels=3 and out_channels=4"):
        nn.Conv1d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"Conv1d: padding_mode must be one of .*, got 'mirror'"):
        nn.Conv1d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"Conv1d: padding must be an int, a 1-tuple, 'valid' or 'same', got 'full'"):
        nn.Conv1d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match=r"Conv1d: padding='same' is not supported for strided convolutions \(stride \(2,\)\)"):
        nn.Conv1d(3, 4, 3, stride=2, padding="same")
    with pytest.raises(TypeError, match=r"Conv1d: kernel_size must be an int or a 1-tuple of ints, got \(3, 3\)"):
        nn.Conv1d(3, 4, (3, 3))
    conv = nn.Conv1d(3, 4, 3)
    with pytest.raises(ValueError, match=r"Conv1d\(3, 4, kernel_size=\(3,\), stride=\(1,\)\): expected input of shape "
                                         r"\(N, 3, L\) or \(3, L\) with 3 channels, got input of shape \(2, 5, 8\)"):
        conv(tc.randn(2, 5, 8))
    with pytest.raises(ValueError, match=r"got input of shape \(2, 3, 8, 8\)"):
        conv(tc.randn(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"pad: reflect padding \(3, 3\) must be smaller than dim 2 of size 3"):
        nn.Conv1d(3, 4, 3, padding=3, padding_mode="reflect")(tc.randn(1, 3, 3))


def test_vmap_over_a_batch_equals_the_loop():
    rng = np.random.default_rng(16)
    w, b = tc.from_numpy(rng.standard_normal((4, 1, 3))), tc.from_numpy(rng.standard_normal(4))
    xs = tc.from_numpy(rng.standard_normal((5, 2, 2, 9)))  # 5 samples, each a (2, 2, 9) batch
    singles = tc.from_numpy(rng.standard_normal((5, 2, 9)))  # 5 samples, each unbatched (2, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no sample-by-sample fallback
        got = func.vmap(lambda x: F.conv1d(x, w, b, stride=2, padding=1, groups=2))(xs)
        got_single = func.vmap(lambda x: F.conv1d(x, w, b, padding="same", dilation=2, groups=2))(singles)
        ws = tc.from_numpy(rng.standard_normal((5, 3, 2, 2)))  # each sample its own weight
        got_w = func.vmap(lambda x, wi: F.conv1d(x, wi))(xs, ws)
    for i in range(5):
        np.testing.assert_allclose(got.numpy()[i], F.conv1d(xs[i], w, b, stride=2, padding=1, groups=2).numpy(), rtol=1e-13)
        np.testing.assert_allclose(got_single.numpy()[i],
                                   F.conv1d(singles[i], w, b, padding="same", dilation=2, groups=2).numpy(), rtol=1e-13)
        np.testing.assert_allclose(got_w.numpy()[i], naive_conv1d(xs.numpy()[i], ws.numpy()[i]), rtol=1e-12, atol=1e-13)
    assert got.shape == (5, 2, 4, 5) and got_single.shape == (5, 4, 9) and got_w.shape == (5, 2, 3, 8)


def test_per_sample_gradients_with_vmap_of_grad():
    tc.manual_seed(3)
    model = nn.Sequential(nn.Conv1d(2, 4, 3, padding=1, padding_mode="reflect"), nn.Tanh(),
                          nn.Conv1d(4, 2, 3, groups=2), nn.Flatten(), nn.Linear(2 * 6, 3)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    rng = np.random.default_rng(17)
    x, y = tc.from_numpy(rng.standard_normal((4, 2, 8))), tc.tensor(rng.integers(0, 3, 4))

    def loss(p, xb, yb):
        return F.cross_entropy(func.functional_call(model, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    assert set(got) == {"0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"}
    for i in range(4):
        want = func.grad(loss)(params, x[i], y[i])
        for k in want:
            assert got[k].shape == (4,) + tuple(want[k].shape)
            np.testing.assert_allclose(got[k].numpy()[i], want[k].numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
