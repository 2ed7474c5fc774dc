"""Transformer layers, RMSNorm, the shrink/threshold/PReLU/RReLU activations, channel dropout and pixel
shuffling against PyTorch: values, gradients, state_dicts (both ways), reprs, init, and refusals."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=1e-5, atol=1e-5)}


def _pair(array, requires_grad=True):
    return tc.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


def _same(ours, theirs, dtype=np.float64):
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **TOL[dtype])


def _load(ours, theirs, seed):
    """Random (non-zero) float64 parameters in torch's module, copied into ours; names, shapes and reprs equal."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5))
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd)
    ours.load_state_dict({k: tc.tensor(v.numpy()) for k, v in sd.items()}, strict=True)
    assert repr(ours) == repr(theirs)


def _grads_equal(ours, theirs, inputs):
    grads = dict(ours.named_parameters())
    assert sorted(grads) == sorted(n for n, _ in theirs.named_parameters())
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(grads[name].grad.numpy(), p.grad.numpy(), **TOL[np.float64], err_msg=name)
    for o, t in inputs:
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **TOL[np.float64])


def _masks(rng, kind, length, source, n, heads, unbatched=False):
    """(ours, torch) mask pair of a kind; every query keeps key 0, so no row is fully masked."""
    if kind is None:
        return None, None
    if kind == "bool":
        m = rng.random((length, source)) < 0.4
        m[:, 0] = False
    elif kind == "float":
        m = rng.standard_normal((length, source))
    elif kind == "bool3":
        m = rng.random((heads * (1 if unbatched else n), length, source)) < 0.4
        m[..., 0] = False
    elif kind == "causal":
        m = np.triu(np.ones((length, source), bool), 1)
    elif kind == "causal-float":
        m = np.triu(np.full((length, source), -np.inf), 1)
    elif kind == "kpm-bool":
        m = np.zeros((source,) if unbatched else (n, source), bool)
        m[..., source - 1] = True  # the last position is padding
        if not unbatched:
            m[0, source - 2] = True
    elif kind == "kpm-float":
        m = rng.standard_normal((source,) if unbatched else (n, source))
    else:
        raise AssertionError(kind)
    return tc.tensor(m), torch.tensor(m)


def _shape(seq, n, e, batch_first, unbatched):
    return (seq, e) if unbatched else (n, seq, e) if batch_first else (seq, n, e)


# ----------------------------------------------------------------- encoder layer
ENC_CASES = [
    dict(),
    dict(norm_first=True),
    dict(batch_first=True),
    dict(batch_first=True, norm_first=True, activation="gelu"),
    dict(activation="gelu", mask="bool"),
    dict(mask="float", kpm="kpm-bool"),
    dict(batch_first=True, mask="bool3"),
    dict(norm_first=True, kpm="kpm-float"),
    dict(mask="causal", is_causal=True),
    dict(batch_first=True, mask="causal-float", is_causal=True, kpm="kpm-bool"),
    dict(unbatched=True, mask="bool", kpm="kpm-bool"),
    dict(unbatched=True, norm_first=True, batch_first=True),
    dict(bias=False, mask="bool"),
    dict(activation="module-gelu", layer_norm_eps=1e-3),
    dict(activation="silu", mask="bool", kpm="kpm-float"),
    dict(eval=True, mask="bool", kpm="kpm-bool"),
]


def _activations(name):
    """(ours, torch) for an activation spelling: a string, a module, or a function."""
    if name == "module-gelu":
        return nn.GELU(), torch.nn.GELU()
    if name == "silu":
        return F.silu, TF.silu
    return name, name


@pytest.mark.parametrize("case", ENC_CASES, ids=[str(i) for i in range(len(ENC_CASES))])
def test_encoder_layer_outputs_and_gradients_equal_torch(case):
    e, h, ff, length, n = 8, 2, 12, 5, 3
    seed = ENC_CASES.index(case)
    rng = np.random.default_rng(seed + 100)
    act_ours, act_theirs = _activations(case.get("activation", "relu"))
    kw = dict(dropout=0.0, batch_first=case.get("batch_first", False), norm_first=case.get("norm_first", False),
              bias=case.get("bias", True), layer_norm_eps=case.get("layer_norm_eps", 1e-5))
    ours = nn.TransformerEncoderLayer(e, h, ff, activation=act_ours, dtype="float64", **kw)
    theirs = torch.nn.TransformerEncoderLayer(e, h, ff, activation=act_theirs, dtype=torch.float64, **kw)
    _load(ours, theirs, seed)
    if case.get("eval"):
        ours.eval(), theirs.eval()
    unbatched = case.get("unbatched", False)
    x = _pair(rng.standard_normal(_shape(length, n, e, kw["batch_first"], unbatched)))
    mask = _masks(rng, case.get("mask"), length, length, n, h, unbatched)
    kpm = _masks(rng, case.get("kpm"), length, length, n, h, unbatched)
    causal = case.get("is_causal", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mismatched-mask-types deprecation (both libraries)
        out = ours(x[0], src_mask=mask[0], src_key_padding_mask=kpm[0], is_causal=causal)
        t_out = theirs(x[1], src_mask=mask[1], src_key_padding_mask=kpm[1], is_causal=causal)
    _same(out, t_out)
    up = rng.standard_normal(out.shape)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    _grads_equal(ours, theirs, [x])


# ----------------------------------------------------------------- decoder layer
DEC_CASES = [
    dict(),
    dict(norm_first=True, tgt_mask="causal", tgt_is_causal=True),
    dict(batch_first=True, tgt_mask="bool", memory_mask="float"),
    dict(batch_first=True, norm_first=True, activation="gelu", tgt_kpm="kpm-bool", memory_kpm="kpm-bool"),
    dict(memory_mask="bool", memory_kpm="kpm-float"),
    dict(tgt_mask="bool3", memory_mask="bool3"),
    dict(unbatched=True, tgt_mask="causal", memory_kpm="kpm-bool"),
    dict(bias=False, tgt_mask="causal-float"),
    dict(activation="module-gelu", eval=True, tgt_kpm="kpm-float"),
]


@pytest.mark.parametrize("case", DEC_CASES, ids=[str(i) for i in range(len(DEC_CASES))])
def test_decoder_layer_outputs_and_gradients_equal_torch(case):
    e, h, ff, length, source, n = 8, 2, 12, 4, 6, 3
    seed = DEC_CASES.index(case)
    rng = np.random.default_rng(seed + 200)
    act_ours, act_theirs = _activations(case.get("activation", "relu"))
    kw = dict(dropout=0.0, batch_first=case.get("batch_first", False), norm_first=case.get("norm_first", False),
              bias=case.get("bias", True))
    ours = nn.TransformerDecoderLayer(e, h, ff, activation=act_ours, dtype="float64", **kw)
    theirs = torch.nn.TransformerDecoderLayer(e, h, ff, activation=act_theirs, dtype=torch.float64, **kw)
    _load(ours, theirs, seed + 50)
    if case.get("eval"):
        ours.eval(), theirs.eval()
    unbatched = case.get("unbatched", False)
    tgt = _pair(rng.standard_normal(_shape(length, n, e, kw["batch_first"], unbatched)))
    mem = _pair(rng.standard_normal(_shape(source, n, e, kw["batch_first"], unbatched)))
    masks = dict(tgt_mask=_masks(rng, case.get("tgt_mask"), length, length, n, h, unbatched),
                 memory_mask=_masks(rng, case.get("memory_mask"), length, source, n, h, unbatched),
                 tgt_key_padding_mask=_masks(rng, case.get("tgt_kpm"), length, length, n, h, unbatched),
                 memory_key_padding_mask=_masks(rng, case.get("memory_kpm"), length, source, n, h, unbatched))
    causal = case.get("tgt_is_causal", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the mismatched-mask-types deprecation (both libraries)
        out = ours(tgt[0], mem[0], **{k: v[0] for k, v in masks.items()}, tgt_is_causal=causal)
        t_out = theirs(tgt[1], mem[1], **{k: v[1] for k, v in masks.items()}, tgt_is_causal=causal)
    _same(out, t_out)
    up = rng.standard_normal(out.shape)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    _grads_equal(ours, theirs, [tgt, mem])


# ----------------------------------------------------------------- stacks and the whole model
STACK_CASES = [
    dict(),
    dict(batch_first=True, norm_first=True, src_mask="causal", tgt_mask="causal"),  # causal masks detected
    dict(src_kpm="kpm-bool", memory_kpm="kpm-bool", tgt_kpm="kpm-bool", tgt_mask="causal-float"),
    dict(batch_first=True, activation="gelu", src_mask="float", memory_mask="bool", src_kpm="kpm-float"),
    dict(unbatched=True, tgt_mask="causal", src_kpm="kpm-bool"),
]


@pytest.mark.parametrize("case", STACK_CASES, ids=[str(i) for i in range(len(STACK_CASES))])
def test_transformer_outputs_and_gradients_equal_torch(case):
    e, h, ff, s_len, t_len, n = 8, 2, 10, 5, 4, 2
    seed = STACK_CASES.index(case)
    rng = np.random.default_rng(seed + 300)
    kw = dict(dropout=0.0, batch_first=case.get("batch_first", False), norm_first=case.get("norm_first", False),
              activation=case.get("activation", "relu"))
    ours = nn.Transformer(e, h, 2, 2, ff, dtype="float64", **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's enable_nested_tensor notice
        theirs = torch.nn.Transformer(e, h, 2, 2, ff, dtype=torch.float64, **kw)
    _load(ours, theirs, seed + 80)
    unbatched = case.get("unbatched", False)
    src = _pair(rng.standard_normal(_shape(s_len, n, e, kw["batch_first"], unbatched)))
    tgt = _pair(rng.standard_normal(_shape(t_len, n, e, kw["batch_first"], unbatched)))
    masks = dict(src_mask=_masks(rng, case.get("src_mask"), s_len, s_len, n, h, unbatched),
                 tgt_mask=_masks(rng, case.get("tgt_mask"), t_len, t_len, n, h, unbatched),
                 memory_mask=_masks(rng, case.get("memory_mask"), t_len, s_len, n, h, unbatched),
                 src_key_padding_mask=_masks(rng, case.get("src_kpm"), s_len, s_len, n, h, unbatched),
                 tgt_key_padding_mask=_masks(rng, case.get("tgt_kpm"), t_len, t_len, n, h, unbatched),
                 memory_key_padding_mask=_masks(rng, case.get("memory_kpm"), t_len, s_len, n, h, unbatched))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = ours(src[0], tgt[0], **{k: v[0] for k, v in masks.items()})
        t_out = theirs(src[1], tgt[1], **{k: v[1] for k, v in masks.items()})
    _same(out, t_out)
    up = rng.standard_normal(out.shape)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    _grads_equal(ours, theirs, [src, tgt])


def test_encoder_and_decoder_stacks_without_norm_and_mask_detection_equal_torch():
    rng = np.random.default_rng(7)
    layer = nn.TransformerEncoderLayer(6, 3, 8, dropout=0.0, dtype="float64")
    t_layer = torch.nn.TransformerEncoderLayer(6, 3, 8, dropout=0.0, dtype=torch.float64)
    ours, theirs = nn.TransformerEncoder(layer, 3), torch.nn.TransformerEncoder(t_layer, 3, enable_nested_tensor=False)
    _load(ours, theirs, 8)
    dec, t_dec = (nn.TransformerDecoder(nn.TransformerDecoderLayer(6, 3, 8, dropout=0.0, dtype="float64"), 2),
                  torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(6, 3, 8, dropout=0.0,
                                                                               dtype=torch.float64), 2))
    _load(dec, t_dec, 9)
    x = _pair(rng.standard_normal((5, 2, 6)))
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype="float64")
    t_causal = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    np.testing.assert_array_equal(causal.numpy(), t_causal.numpy())
    memory, t_memory = ours(x[0], mask=causal), theirs(x[1], mask=t_causal)
    _same(memory, t_memory)
    y = _pair(rng.standard_normal((4, 2, 6)))
    out = dec(y[0], memory, tgt_mask=nn.Transformer.generate_square_subsequent_mask(4, dtype="float64"))
    t_out = t_dec(y[1], t_memory, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64))
    _same(out, t_out)
    out.sum().backward()
    t_out.sum().backward()
    _grads_equal(ours, theirs, [x])
    _grads_equal(dec, t_dec, [y])


def test_eval_layers_equal_torchs_inference_fast_path_float32():
    tc.manual_seed(1)
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation="gelu"), 2)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True,
                                                                          activation="gelu"), 2)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    ours.eval(), theirs.eval()
    x = np.random.default_rng(2).standard_normal((3, 5, 8)).astype(np.float32)
    mask = np.triu(np.ones((5, 5), bool), 1)
    with torch.no_grad():  # torch's fused encoder-layer kernel
        t_out = theirs(torch.tensor(x), mask=torch.tensor(mask))
    out = ours(tc.tensor(x), mask=tc.tensor(mask))
    assert out.dtype == np.float32
    _same(out, t_out, np.float32)


def test_our_transformer_state_dict_loads_into_torch_and_init_matches_torchs():
    torch.manual_seed(0)
    tc.manual_seed(0)
    e, ff = 16, 32
    ours = nn.Transformer(e, 4, 1, 1, ff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(e, 4, 1, 1, ff)
    theirs_sd = theirs.state_dict()
    for name, value in ours.state_dict().items():
        ref = theirs_sd[name].numpy()
        mine = value.numpy()
        assert mine.shape == ref.shape and mine.dtype == np.float32, name
        if mine.ndim > 1:  # Xavier-uniform everywhere: the bound sqrt(6 / (fan_in + fan_out))
            bound = math.sqrt(6 / sum(mine.shape))
            assert np.abs(mine).max() <= bound and np.abs(ref).max() <= bound * 1.0001, name
            assert np.abs(mine).max() > 0.8 * bound, name
        elif not ref.any():
            assert not mine.any(), name  # in_proj_bias, out_proj.bias, LayerNorm biases
        elif (ref == 1).all():
            assert (mine == 1).all(), name  # LayerNorm weights
        else:  # Linear biases keep Linear's U(±1/√in)
            assert np.abs(mine).max() <= np.abs(ref).max() * 1.5 + 0.05 and mine.std() > 0, name
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    ours.eval(), theirs.eval()
    rng = np.random.default_rng(1)
    src, tgt = rng.standard_normal((6, 2, e)).astype(np.float32), rng.standard_normal((3, 2, e)).astype(np.float32)
    _same(ours(tc.tensor(src), tc.tensor(tgt)), theirs(torch.tensor(src), torch.tensor(tgt)), np.float32)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("call", [
    lambda m, x: m.TransformerEncoderLayer(5, 2),
    lambda m, x: m.TransformerDecoderLayer(6, 4),
    lambda m, x: m.TransformerEncoderLayer(4, 2, activation="tanh"),
    lambda m, x: m.Transformer(4, 2, 1, 1, 8)(x, x[:, :1]),
    lambda m, x: m.Transformer(4, 2, 1, 1, 8)(x, x[..., :2]),
    lambda m, x: m.TransformerEncoderLayer(4, 2, 8)(x.unsqueeze(0)),
    lambda m, x: m.TransformerEncoderLayer(4, 2, 8)(x[..., :3]),
    lambda m, x: m.TransformerEncoderLayer(4, 2, 8)(x, src_key_padding_mask=(x[:, :, 0] > 0)),
    lambda m, x: m.TransformerEncoderLayer(4, 2, 8)(x, is_causal=True),
    lambda m, x: m.TransformerDecoderLayer(4, 2, 8)(x, x[:, :1]),
], ids=["enc-indivisible", "dec-indivisible", "activation", "batch-mismatch", "features", "4d-src", "src-features",
        "kpm-shape", "causal-no-mask", "memory-batch"])
def test_transformer_refuses_what_torch_refuses(call):
    x = np.random.default_rng(4).standard_normal((3, 2, 4)).astype(np.float32)
    with pytest.raises((RuntimeError, AssertionError, ValueError)):
        call(torch.nn, torch.tensor(x))
    with pytest.raises((ValueError, TypeError)):
        call(nn, tc.tensor(x))


# ----------------------------------------------------------------- activations
KINKS = np.array([np.nan, -2.0, -0.5, -0.3, 0.0, 0.3, 0.5, 1.0, 2.0, 20.0])
ACTIVATIONS = {
    "softshrink": (lambda m, x: m.softshrink(x, 0.5), lambda x: TF.softshrink(x, 0.5)),
    "softshrink-0": (lambda m, x: m.softshrink(x, 0.0), lambda x: TF.softshrink(x, 0.0)),
    "hardshrink": (lambda m, x: m.hardshrink(x, 0.5), lambda x: TF.hardshrink(x, 0.5)),
    "hardshrink-neg": (lambda m, x: m.hardshrink(x, -1.0), lambda x: TF.hardshrink(x, -1.0)),
    "threshold": (lambda m, x: m.threshold(x, 1.0, 20.0), lambda x: TF.threshold(x, 1.0, 20.0)),
    "threshold-0": (lambda m, x: m.threshold(x, 0.0, -3.0), lambda x: TF.threshold(x, 0.0, -3.0)),
    "rrelu-eval": (lambda m, x: m.rrelu(x), lambda x: TF.rrelu(x)),
    "rrelu-eval-bounds": (lambda m, x: m.rrelu(x, 0.2, 0.6), lambda x: TF.rrelu(x, 0.2, 0.6)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_values_and_gradients_at_the_kinks_equal_torch(name, dtype):
    ours_fn, theirs_fn = ACTIVATIONS[name]
    x = _pair(KINKS.astype(dtype))
    out, t_out = ours_fn(F, x[0]), theirs_fn(x[1])
    assert out.dtype == dtype
    _same(out, t_out, dtype)  # NaN where NaN
    out.sum().backward()
    t_out.sum().backward()
    # not at NaN: torch's own gradient there depends on its kernel (vectorised or not, i.e. on the length)
    np.testing.assert_allclose(x[0].grad.numpy()[1:], x[1].grad.numpy()[1:], **TOL[dtype])


@pytest.mark.parametrize("shape, n", [((7,), 1), ((), 1), ((2, 3), 3), ((2, 3, 4), 3), ((2, 3, 2, 2), 1),
                                      ((2, 3, 2, 2), 3)])
def test_prelu_values_and_gradients_of_input_and_weight_equal_torch(shape, n):
    rng = np.random.default_rng(n + len(shape))
    values = rng.integers(-2, 3, shape).astype(np.float64)  # zeros: the kink
    x, w = _pair(values), _pair(rng.uniform(0.1, 0.4, n))
    out, t_out = F.prelu(x[0], w[0]), TF.prelu(x[1], w[1])
    _same(out, t_out)
    up = rng.standard_normal(out.shape)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    for o, t in (x, w):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), **TOL[np.float64])


def test_activation_modules_reprs_parameters_and_outputs_equal_torch():
    pairs = [(nn.Softshrink(), torch.nn.Softshrink()), (nn.Softshrink(0.25), torch.nn.Softshrink(0.25)),
             (nn.Hardshrink(), torch.nn.Hardshrink()), (nn.Hardshrink(1.5), torch.nn.Hardshrink(1.5)),
             (nn.Threshold(0.1, 20), torch.nn.Threshold(0.1, 20)),
             (nn.Threshold(1, 2, True), torch.nn.Threshold(1, 2, True)),
             (nn.PReLU(), torch.nn.PReLU()), (nn.PReLU(3, 0.1), torch.nn.PReLU(3, 0.1)),
             (nn.RReLU(), torch.nn.RReLU()), (nn.RReLU(0.1, 0.3, True), torch.nn.RReLU(0.1, 0.3, True))]
    x = np.random.default_rng(3).standard_normal((2, 3, 4)).astype(np.float32)
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        for k, v in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy())
        ours.eval(), theirs.eval()
        _same(ours(tc.tensor(x)), theirs(torch.tensor(x)), np.float32)


def test_rrelu_training_slopes_lie_in_the_bounds_and_are_the_gradient_as_torchs():
    x_np = np.concatenate([np.linspace(-3, -0.1, 200), [0.0, 0.0], np.linspace(0.1, 3, 50)])
    tc.manual_seed(0)
    for module in (F, TF):
        x = tc.tensor(x_np, requires_grad=True) if module is F else torch.tensor(x_np, requires_grad=True)
        out = module.rrelu(x, 0.1, 0.3, training=True)
        out.sum().backward()
        y, g = out.detach().numpy(), x.grad.numpy()
        neg, pos = x_np < 0, x_np > 0
        slopes = y[neg] / x_np[neg]
        assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
        np.testing.assert_allclose(g[neg], slopes, rtol=1e-12)
        np.testing.assert_array_equal(y[pos], x_np[pos])
        np.testing.assert_array_equal(g[pos], 1.0)
        assert ((g[x_np == 0] >= 0.1) & (g[x_np == 0] <= 0.3)).all()  # x = 0 gets a random slope too


@pytest.mark.parametrize("call", [
    lambda m, f, x: f.softshrink(x, -0.5),
    lambda m, f, x: f.rrelu(x, 0.5, 0.1),
    lambda m, f, x: f.prelu(x, x[0, 0, :2].detach()),
    lambda m, f, x: f.prelu(x, x[:1, :1, :1].detach()),
], ids=["softshrink-negative", "rrelu-bounds", "prelu-channels", "prelu-3d-weight"])
def test_activations_refuse_what_torch_refuses(call):
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    with pytest.raises(RuntimeError):
        call(torch.nn, TF, torch.tensor(x))
    with pytest.raises(ValueError):
        call(nn, F, tc.tensor(x))


# ----------------------------------------------------------------- RMSNorm
RMS_CASES = [((2, 3, 4), (4,), True, None), ((2, 3, 4), (3, 4), True, 1e-3), ((5,), (5,), False, None),
             ((2, 3, 4), (4,), False, 0.1), ((3, 2, 2), (2, 2), True, None)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shape, normalized, affine, eps", RMS_CASES)
def test_rms_norm_values_and_gradients_equal_torch(shape, normalized, affine, eps, dtype):
    rng = np.random.default_rng(len(shape) + len(normalized))
    x = _pair(rng.standard_normal(shape).astype(dtype))
    x[0].detach().numpy()[..., 0] = 0.0  # a zero row in some cases: eps matters
    x[1].detach()[..., 0] = 0.0
    ours, theirs = nn.RMSNorm(normalized, eps, affine, dtype=dtype), torch.nn.RMSNorm(
        list(normalized), eps, affine, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    assert repr(ours) == repr(theirs)
    if affine:
        w = rng.uniform(0.5, 1.5, normalized).astype(dtype)
        ours.weight.detach().numpy()[...] = w
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
    out, t_out = ours(x[0]), theirs(x[1])
    assert out.dtype == dtype
    _same(out, t_out, dtype)
    _same(F.rms_norm(x[0], normalized, ours.weight, eps), TF.rms_norm(x[1], list(normalized), theirs.weight, eps),
          dtype)
    up = rng.standard_normal(shape).astype(dtype)
    out.backward(tc.tensor(up))
    t_out.backward(torch.tensor(up))
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy(), rtol=1e-4 if dtype == np.float32 else 1e-9,
                               atol=1e-4 if dtype == np.float32 else 1e-11)
    if affine:
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), **TOL[dtype])


def test_rms_norm_default_eps_is_the_dtypes_and_float16_computes_in_float32():
    zero = np.zeros((2, 3))
    x = _pair(zero)
    F.rms_norm(x[0], (3,)).sum().backward()
    TF.rms_norm(x[1], [3]).sum().backward()
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy())  # 1/√eps of float64: 2²⁶
    half = np.array([[1e-3, 2e-3, 0.0], [3.0, -1.0, 0.5]], dtype=np.float16)
    out, t_out = F.rms_norm(tc.tensor(half), (3,)), TF.rms_norm(torch.tensor(half), [3])
    assert out.dtype == np.float16
    np.testing.assert_allclose(out.numpy().astype(np.float64), t_out.numpy().astype(np.float64), rtol=1e-3)


def test_rms_norm_refuses_what_torch_refuses():
    x = np.random.default_rng(0).standard_normal((2, 3))
    for call in (lambda f, t, w: f.rms_norm(t, [4]), lambda f, t, w: f.rms_norm(t, [3], w)):
        with pytest.raises(RuntimeError):
            call(TF, torch.tensor(x), torch.ones(4, dtype=torch.float64))
        with pytest.raises(ValueError):
            call(F, tc.tensor(x), tc.ones(4, dtype=tc.float64))


# ----------------------------------------------------------------- channel dropout
@pytest.mark.parametrize("name, shape, channels_at", [
    ("dropout1d", (4, 6, 5), (0, 1)), ("dropout1d", (6, 5), (0,)), ("dropout2d", (3, 6, 2, 5), (0, 1)),
    ("dropout3d", (2, 6, 2, 2, 3), (0, 1)), ("dropout3d", (6, 2, 2, 3), (0,)),
])
def test_channel_dropout_zeros_whole_channels_and_scales_as_torch(name, shape, channels_at):
    x = np.random.default_rng(1).uniform(1, 2, shape)
    tc.manual_seed(0)
    torch.manual_seed(0)
    for fn, make in ((getattr(F, name), tc.tensor), (getattr(TF, name), torch.tensor)):
        t = make(x, requires_grad=True)
        out = fn(t, 0.4, True)
        out.sum().backward()
        y, g = out.detach().numpy(), t.grad.numpy()
        ratio = (y / x).reshape(shape[: len(channels_at)] + (-1,))
        # every channel is all zero or all ×1/(1 − p), and the gradient is that factor
        assert np.allclose(ratio, ratio[..., :1]) and set(np.round(np.unique(ratio), 9)) <= {0.0, round(1 / 0.6, 9)}
        assert 0 < (ratio[..., 0] == 0).sum() < ratio[..., 0].size
        np.testing.assert_allclose(g, y / x)
        np.testing.assert_array_equal(fn(make(x), 0.4, False).numpy(), x)  # eval: identity
        np.testing.assert_array_equal(fn(make(x), 1.0, True).numpy(), 0 * x)


def test_channel_dropout_modules_reprs_and_refusals_equal_torch():
    for ours, theirs in [(nn.Dropout1d(), torch.nn.Dropout1d()), (nn.Dropout2d(0.2, True), torch.nn.Dropout2d(0.2, True)),
                         (nn.Dropout3d(0.0), torch.nn.Dropout3d(0.0))]:
        assert repr(ours) == repr(theirs)
    x = np.ones((2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        TF.dropout1d(torch.tensor(x))
    with pytest.raises(ValueError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(tc.tensor(x))
    with pytest.raises(ValueError):
        torch.nn.Dropout2d(1.5)
    with pytest.raises(ValueError, match="Dropout2d: probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout2d(1.5)
    for f in (TF.dropout2d, F.dropout2d):  # both warn that 3-D input is read as (N, C, L)
        with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
            f(torch.tensor(x[0]) if f is TF.dropout2d else tc.tensor(x[0]))


# ----------------------------------------------------------------- pixel shuffle
@pytest.mark.parametrize("shape, r", [((1, 8, 2, 3), 2), ((2, 18, 3, 2), 3), ((9, 2, 2), 3), ((2, 2, 4, 3, 2), 2),
                                      ((1, 5, 2, 2), 1)])
def test_pixel_shuffle_and_unshuffle_values_and_gradients_equal_torch(shape, r):
    rng = np.random.default_rng(r + len(shape))
    x = _pair(rng.standard_normal(shape))
    out, t_out = F.pixel_shuffle(x[0], r), TF.pixel_shuffle(x[1], r)
    _same(out, t_out)
    back, t_back = F.pixel_unshuffle(out, r), TF.pixel_unshuffle(t_out, r)
    _same(back, t_back)
    up = rng.standard_normal(back.shape)
    (back * tc.tensor(up) + out.sum()).sum().backward()
    (t_back * torch.tensor(up) + t_out.sum()).sum().backward()
    np.testing.assert_allclose(x[0].grad.numpy(), x[1].grad.numpy())
    shuffle, t_shuffle = nn.PixelShuffle(r), torch.nn.PixelShuffle(r)
    unshuffle, t_unshuffle = nn.PixelUnshuffle(r), torch.nn.PixelUnshuffle(r)
    assert repr(shuffle) == repr(t_shuffle) and repr(unshuffle) == repr(t_unshuffle)
    _same(unshuffle(shuffle(x[0])), t_unshuffle(t_shuffle(x[1])))
    np.testing.assert_array_equal(unshuffle(shuffle(x[0])).detach().numpy(), x[0].detach().numpy())


@pytest.mark.parametrize("call", [
    lambda f, x: f.pixel_shuffle(x, 3), lambda f, x: f.pixel_shuffle(x[0, 0], 2), lambda f, x: f.pixel_shuffle(x, 0),
    lambda f, x: f.pixel_unshuffle(x, 3), lambda f, x: f.pixel_unshuffle(x[..., :3], 2),
], ids=["channels", "2d", "zero", "height", "width"])
def test_pixel_shuffle_refuses_what_torch_refuses(call):
    x = np.zeros((1, 8, 4, 4))
    with pytest.raises(RuntimeError) as theirs:
        call(TF, torch.tensor(x))
    with pytest.raises(ValueError) as ours:
        call(F, tc.tensor(x))
    assert str(ours.value).split(",")[0] == str(theirs.value).split(",")[0]  # the same words as torch's
