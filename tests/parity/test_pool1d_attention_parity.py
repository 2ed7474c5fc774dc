"""1-D pooling, scaled_dot_product_attention and MultiheadAttention against PyTorch: values, indices,
gradients, state_dicts (both ways), reprs, init statistics, and which inputs each refuses."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-5)}


def _pair(array, requires_grad=True):
    return tc.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


def _ids(case):
    return "-".join(f"{k}{v}" for k, v in case.items())


def _same(ours, theirs, dtype=np.float64):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL[dtype])


# ----------------------------------------------------------------- 1-D pooling
MAX_SETTINGS = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
    for k, s, p, d, c in itertools.product((1, 2, 3, 4), (None, 1, 2, 3), (0, 1, 2), (1, 2), (False, True))
    if p <= k // 2 and (s != 1 or d == 1)
]
AVG_SETTINGS = [
    dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
    for k, s, p, c, i in itertools.product((1, 2, 3, 5), (None, 1, 2, 3), (0, 1, 2), (False, True), (True, False))
    if p <= k // 2
]


@pytest.mark.parametrize("case", MAX_SETTINGS, ids=[_ids(c) for c in MAX_SETTINGS])
def test_max_pool1d_values_indices_and_gradients_equal_torch(case):
    rng = np.random.default_rng(MAX_SETTINGS.index(case))
    for length in (7, 10):
        # small integers: many ties, so the first-maximum rule of values, indices and gradients is compared too
        x = _pair(rng.integers(-3, 4, (2, 3, length)).astype(np.float64))
        out, idx = F.max_pool1d(x[0], **case, return_indices=True)
        t_out, t_idx = TF.max_pool1d(x[1], **case, return_indices=True)
        _same(out, t_out)
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
        up = rng.standard_normal(out.shape)
        out.backward(tc.tensor(up))
        t_out.backward(torch.tensor(up))
        np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", AVG_SETTINGS, ids=[_ids(c) for c in AVG_SETTINGS])
def test_avg_pool1d_values_and_gradients_equal_torch(case, dtype):
    rng = np.random.default_rng(AVG_SETTINGS.index(case))
    for length in (7, 10):
        x = _pair(rng.standard_normal((2, 3, length)).astype(dtype))
        out, t_out = F.avg_pool1d(x[0], **case), TF.avg_pool1d(x[1], **case)
        assert out.dtype == dtype
        _same(out, t_out, dtype)
        up = rng.standard_normal(out.shape).astype(dtype)
        out.backward(tc.tensor(up))
        t_out.backward(torch.tensor(up))
        np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("length, size", [(10, 3), (7, 7), (5, 8), (9, 1), (6, 4), (13, 5), (1, 3)])
def test_adaptive_pool1d_values_indices_and_gradients_equal_torch(length, size):
    rng = np.random.default_rng(length * 31 + size)
    x = _pair(rng.integers(-2, 3, (2, 3, length)).astype(np.float64))  # ties: the first maximum wins in both
    out, idx = F.adaptive_max_pool1d(x[0], size, return_indices=True)
    t_out, t_idx = TF.adaptive_max_pool1d(x[1], size, return_indices=True)
    _same(out, t_out)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    avg, t_avg = F.adaptive_avg_pool1d(x[0], size), TF.adaptive_avg_pool1d(x[1], size)
    _same(avg, t_avg)
    up, up_avg = rng.standard_normal(out.shape), rng.standard_normal(out.shape)
    (out * tc.tensor(up)).sum().backward()
    (avg * tc.tensor(up_avg)).sum().backward()
    (t_out * torch.tensor(up)).sum().backward()
    (t_avg * torch.tensor(up_avg)).sum().backward()
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), rtol=1e-12, atol=1e-12)


def test_unbatched_float32_pools_and_modules_equal_torch():
    x = np.random.default_rng(5).standard_normal((4, 11)).astype(np.float32)
    pairs = [
        (nn.MaxPool1d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool1d(3, 2, 1, ceil_mode=True)),
        (nn.MaxPool1d(2, dilation=2), torch.nn.MaxPool1d(2, dilation=2)),
        (nn.AvgPool1d(4, 3, 2, True, False), torch.nn.AvgPool1d(4, 3, 2, True, False)),
        (nn.AdaptiveAvgPool1d(3), torch.nn.AdaptiveAvgPool1d(3)),
        (nn.AdaptiveMaxPool1d((5,)), torch.nn.AdaptiveMaxPool1d((5,))),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        out, t_out = ours(tc.tensor(x)), theirs(torch.tensor(x))
        assert out.dtype == np.float32
        _same(out, t_out, np.float32)
    for ours, theirs in [(nn.MaxPool1d(3, return_indices=True), torch.nn.MaxPool1d(3, return_indices=True)),
                         (nn.AdaptiveMaxPool1d(4, True), torch.nn.AdaptiveMaxPool1d(4, True))]:
        (out, idx), (t_out, t_idx) = ours(tc.tensor(x)), theirs(torch.tensor(x))
        _same(out, t_out, np.float32)
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=(3,), stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=2, stride=(1,), padding=(1,), count_include_pad=False)])
def test_pool1d_module_attributes_and_reprs_equal_torch(kw):
    avg, t_avg = nn.AvgPool1d(**kw), torch.nn.AvgPool1d(**kw)
    assert repr(avg) == repr(t_avg)
    assert (avg.kernel_size, avg.stride, avg.padding, avg.ceil_mode, avg.count_include_pad) == (
        t_avg.kernel_size, t_avg.stride, t_avg.padding, t_avg.ceil_mode, t_avg.count_include_pad)
    kw_max = {k: v for k, v in kw.items() if k != "count_include_pad"}
    mp, t_mp = nn.MaxPool1d(**kw_max, dilation=1), torch.nn.MaxPool1d(**kw_max, dilation=1)
    assert repr(mp) == repr(t_mp)
    assert (mp.kernel_size, mp.stride, mp.padding, mp.dilation, mp.ceil_mode, mp.return_indices) == (
        t_mp.kernel_size, t_mp.stride, t_mp.padding, t_mp.dilation, t_mp.ceil_mode, t_mp.return_indices)


@pytest.mark.parametrize("call", [
    lambda f, x: f.max_pool1d(x, 3, padding=2),
    lambda f, x: f.max_pool1d(x, 7),
    lambda f, x: f.max_pool1d(x, 3, dilation=3),
    lambda f, x: f.avg_pool1d(x, 3, padding=2),
    lambda f, x: f.avg_pool1d(x, 7),
    lambda f, x: f.max_pool1d(x, 2, stride=0),
    lambda f, x: f.max_pool1d(x, (2, 2)),
    lambda f, x: f.adaptive_avg_pool1d(x, (2, 3)),
    lambda f, x: f.max_pool1d(x[0, 0], 2),
    lambda f, x: f.adaptive_max_pool1d(x[0, 0], 2),
    lambda f, x: f.avg_pool1d(x.unsqueeze(0), 2),
], ids=["max-pad", "max-too-long", "max-dilated", "avg-pad", "avg-too-long", "stride0", "kernel-pair",
        "adaptive-pair", "max-1d", "adaptive-1d", "avg-4d"])
def test_pool1d_refuses_what_torch_refuses(call):
    x = np.random.default_rng(6).standard_normal((1, 2, 5))
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        call(TF, torch.tensor(x))
    with pytest.raises((ValueError, TypeError)):
        call(F, tc.tensor(x))


# ----------------------------------------------------------------- scaled_dot_product_attention
SDPA_CASES = [
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5)),
    dict(q=(4, 8), k=(6, 8), v=(6, 5), scale=0.3),
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5), mask="bool"),
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5), mask="bool-dead-row"),
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5), mask="float"),
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5), mask="float-dead-row"),
    dict(q=(2, 3, 6, 8), k=(2, 3, 4, 8), v=(2, 3, 4, 5), is_causal=True),
    dict(q=(2, 3, 4, 8), k=(2, 3, 6, 8), v=(2, 3, 6, 5), is_causal=True, scale=2.0),
    dict(q=(2, 4, 4, 8), k=(2, 2, 6, 8), v=(2, 2, 6, 5), enable_gqa=True),
    dict(q=(2, 1, 4, 8), k=(3, 6, 8), v=(3, 6, 5), mask="bool"),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", SDPA_CASES, ids=[_ids(c) for c in SDPA_CASES])
def test_sdpa_values_and_gradients_equal_torch(case, dtype):
    rng = np.random.default_rng(SDPA_CASES.index(case))
    q, k, v = (_pair(rng.standard_normal(case[n]).astype(dtype)) for n in ("q", "k", "v"))
    length, source = case["q"][-2], case["k"][-2]
    mask, grads = (None, None), [q, k, v]
    kind = case.get("mask")
    if kind and kind.startswith("bool"):
        allowed = rng.random((case["q"][0], 1, length, source)) < 0.6
        if kind.endswith("dead-row"):
            allowed[0, 0, 1] = False  # a query that may attend nowhere: 0 in both
        mask = (tc.tensor(allowed), torch.tensor(allowed))
    elif kind:
        values = rng.standard_normal((length, source)).astype(dtype)
        if kind.endswith("dead-row"):
            values[2] = -np.inf
        mask = _pair(values)
        grads.append(mask)
    kw = {n: case[n] for n in ("is_causal", "scale", "enable_gqa") if n in case}
    out = F.scaled_dot_product_attention(q[0], k[0], v[0], mask[0], **kw)
    t_out = TF.scaled_dot_product_attention(q[1], k[1], v[1], mask[1], **kw)
    _same(out, t_out, dtype)
    up = rng.standard_normal(out.shape).astype(dtype)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    for ours, theirs in grads:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), **TOL[dtype])


def test_sdpa_dropout_one_gives_zeros_as_torch():
    q, k, v = (np.random.default_rng(i).standard_normal((2, 3, 4)) for i in range(3))
    out = F.scaled_dot_product_attention(tc.tensor(q), tc.tensor(k), tc.tensor(v), dropout_p=1.0)
    t_out = TF.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v), dropout_p=1.0)
    _same(out, t_out)


# ----------------------------------------------------------------- MultiheadAttention
def _boolkpm(rng, shape):
    return rng.random(shape) < 0.3


def _floatkpm(rng, shape):
    return rng.standard_normal(shape)


def _boolmask(rng, length, source, heads):
    return rng.random((length, source)) < 0.3


def _boolmask3(rng, length, source, heads):
    return rng.random((heads, length, source)) < 0.3


def _floatmask(rng, length, source, heads):
    return rng.standard_normal((length, source))


def _floatmask3(rng, length, source, heads):
    return rng.standard_normal((heads, length, source))


def _causal(rng, length, source, heads):
    return np.triu(np.ones((length, source), bool), 1)


LAYERS = {
    "cross": dict(),
    "self": dict(self_attn=True),
    "batch_first": dict(batch_first=True),
    "batch_first-self": dict(batch_first=True, self_attn=True),
    "unbatched": dict(unbatched=True),
    "unbatched-self": dict(unbatched=True, self_attn=True),
    "kdim-vdim": dict(kdim=3, vdim=6),
    "kdim-vdim-batch_first": dict(kdim=3, vdim=6, batch_first=True),
    "no-bias": dict(bias=False),
    "bias_kv": dict(bias_kv=True),
    "zero_attn": dict(zero_attn=True),
    "bias_kv-zero_attn-unbatched": dict(bias_kv=True, zero_attn=True, unbatched=True),
}
CALLS = {
    "plain": dict(),
    "kpm-bool": dict(kpm=_boolkpm),
    "kpm-float": dict(kpm=_floatkpm),
    "mask-bool": dict(mask=_boolmask),
    "mask-bool-3d": dict(mask=_boolmask3),
    "mask-float-3d": dict(mask=_floatmask3),
    "kpm-and-mask": dict(kpm=_boolkpm, mask=_boolmask),
    "no-weights": dict(need_weights=False),
    "no-weights-kpm-mask": dict(need_weights=False, kpm=_boolkpm, mask=_floatmask3),
    "per-head-weights": dict(average=False, mask=_floatmask),
    "causal-hint": dict(self_attn=True, mask=_causal, is_causal=True),
    "causal-hint-no-weights": dict(self_attn=True, mask=_causal, is_causal=True, need_weights=False),
}
MHA_CASES = [(layer, call) for layer, call in itertools.product(LAYERS, CALLS)
             if not ("kdim" in layer and "self_attn" in CALLS[call])]


def _mha_pair(e, h, seed, kdim=None, vdim=None, bias=True, bias_kv=False, zero_attn=False, batch_first=False,
               dropout=0.0):
    """A torch layer with random (non-zero) parameters, and ours loaded from its state_dict."""
    rng = np.random.default_rng(seed)
    kw = dict(bias=bias, add_bias_kv=bias_kv, add_zero_attn=zero_attn, kdim=kdim, vdim=vdim, batch_first=batch_first,
              dropout=dropout)
    theirs = torch.nn.MultiheadAttention(e, h, dtype=torch.float64, **kw)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    ours = nn.MultiheadAttention(e, h, dtype="float64", **kw)
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    assert all(tuple(ours.state_dict()[k].shape) == tuple(v.shape) for k, v in sd.items())
    ours.load_state_dict({k: tc.tensor(v.numpy()) for k, v in sd.items()}, strict=True)
    assert repr(ours) == repr(theirs)
    return ours, theirs


@pytest.mark.parametrize("layer, call", MHA_CASES, ids=[f"{a}-{b}" for a, b in MHA_CASES])
def test_mha_outputs_weights_and_gradients_equal_torch(layer, call):
    e, h, length, source, n = 8, 2, 4, 5, 3
    kw, ckw = LAYERS[layer], CALLS[call]
    seed = MHA_CASES.index((layer, call))
    rng = np.random.default_rng(seed + 1000)
    ours, theirs = _mha_pair(e, h, seed, **{k: v for k, v in kw.items() if k not in ("self_attn", "unbatched")})
    self_attn = kw.get("self_attn") or ckw.get("self_attn")
    unbatched, batch_first = kw.get("unbatched", False), kw.get("batch_first", False)
    if self_attn:
        source = length

    def shape(seq, features):
        return (seq, features) if unbatched else (n, seq, features) if batch_first else (seq, n, features)

    q = _pair(rng.standard_normal(shape(length, e)))
    k = q if self_attn else _pair(rng.standard_normal(shape(source, kw.get("kdim", e))))
    v = q if self_attn else _pair(rng.standard_normal(shape(source, kw.get("vdim", e))))
    masks: tuple[dict, dict] = ({}, {})
    if "kpm" in ckw:
        m = ckw["kpm"](rng, (source,) if unbatched else (n, source))
        masks[0]["key_padding_mask"], masks[1]["key_padding_mask"] = tc.tensor(m), torch.tensor(m)
    if "mask" in ckw:
        m = ckw["mask"](rng, length, source, h if unbatched else n * h)
        masks[0]["attn_mask"], masks[1]["attn_mask"] = tc.tensor(m), torch.tensor(m)
    flags = dict(need_weights=ckw.get("need_weights", True), average_attn_weights=ckw.get("average", True),
                 is_causal=ckw.get("is_causal", False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's "mismatched mask types" deprecation, and ours
        out, w = ours(q[0], k[0], v[0], **masks[0], **flags)
        t_out, t_w = theirs(q[1], k[1], v[1], **masks[1], **flags)
    _same(out, t_out)
    if flags["need_weights"]:
        _same(w, t_w)
    else:
        assert w is None and t_w is None
    up = rng.standard_normal(out.shape)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    grads = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=name)
    for ours_t, theirs_t in ([q] if self_attn else [q, k, v]):
        np.testing.assert_allclose(ours_t.grad.numpy(), theirs_t.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_mha_fully_padded_batch_element_gives_nan_weights_or_zeros_as_torch():
    ours, theirs = _mha_pair(4, 2, seed=1)
    x = np.random.default_rng(2).standard_normal((3, 2, 4))
    pad = np.array([[False, False, True], [True, True, True]])
    for need_weights in (True, False):
        with np.errstate(invalid="ignore"):
            out, w = ours(tc.tensor(x), tc.tensor(x), tc.tensor(x), key_padding_mask=tc.tensor(pad),
                          need_weights=need_weights)
        t_out, t_w = theirs(torch.tensor(x), torch.tensor(x), torch.tensor(x), key_padding_mask=torch.tensor(pad),
                            need_weights=need_weights)
        _same(out, t_out)  # NaN where NaN
        if need_weights:
            _same(w, t_w)


def test_mha_float32_module_and_our_state_dict_into_torch():
    tc.manual_seed(0)
    ours = nn.MultiheadAttention(12, 3, batch_first=True, kdim=5)
    theirs = torch.nn.MultiheadAttention(12, 3, batch_first=True, kdim=5)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 12), (2, 6, 5), (2, 6, 12)))
    mask = rng.random((2, 6)) < 0.3
    mask[:, 0] = False
    out, w = ours(tc.tensor(q), tc.tensor(k), tc.tensor(v), key_padding_mask=tc.tensor(mask))
    theirs.eval()  # the fast path where torch has one: the same numbers
    with torch.no_grad():
        t_out, t_w = theirs(torch.tensor(q), torch.tensor(k), torch.tensor(v), key_padding_mask=torch.tensor(mask))
    assert out.dtype == np.float32
    _same(out, t_out, np.float32)
    _same(w, t_w, np.float32)


def test_mha_init_statistics_equal_torch():
    torch.manual_seed(0)
    tc.manual_seed(0)
    e = 32
    ours, theirs = nn.MultiheadAttention(e, 4, add_bias_kv=True), torch.nn.MultiheadAttention(e, 4, add_bias_kv=True)
    for name, p in theirs.named_parameters():
        mine = dict(ours.named_parameters())[name].detach().numpy()
        ref = p.detach().numpy()
        assert mine.shape == ref.shape and mine.dtype == np.float32, name
        if not ref.any():
            assert not mine.any(), name  # the zero biases
            continue
        assert abs(mine.std() - ref.std()) < 0.15 * ref.std(), name
        if "bias_" not in name:  # uniform: the same bound
            assert np.abs(mine).max() <= np.abs(ref).max() * 1.02 + 1e-6 and np.abs(mine).max() > 0.9 * np.abs(ref).max()
    bound = math.sqrt(6 / (e + 3 * e))
    assert np.abs(ours.in_proj_weight.detach().numpy()).max() <= bound


@pytest.mark.parametrize("call", [
    lambda m, x, mod: m.MultiheadAttention(5, 2),
    lambda m, x, mod: m.MultiheadAttention(0, 2),
    lambda m, x, mod: mod(x.unsqueeze(0), x, x),
    lambda m, x, mod: mod(x, x[0], x),
    lambda m, x, mod: mod(x, x, x[:2]),
    lambda m, x, mod: mod(x, x, x, attn_mask=x[0, :, :2] > 0),
    lambda m, x, mod: mod(x, x, x, key_padding_mask=x[:, :, 0] > 0),
    lambda m, x, mod: mod(x, x, x, is_causal=True),
], ids=["indivisible", "zero-dim", "4d-query", "2d-key", "value-length", "mask-shape", "kpm-shape", "causal-no-mask"])
def test_mha_refuses_what_torch_refuses(call):
    x = np.random.default_rng(4).standard_normal((3, 2, 4))
    mod, t_mod = nn.MultiheadAttention(4, 2, dtype="float64"), torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    with pytest.raises((RuntimeError, AssertionError, ValueError)):
        call(torch.nn, torch.tensor(x), t_mod)
    with pytest.raises((ValueError, TypeError)):
        call(nn, tc.tensor(x), mod)
