"""Transformer layers, RMSNorm, shrink/threshold/PReLU/RReLU activations, channel dropout and pixel shuffling.

Definitions checked by hand, gradients by gradcheck/gradgradcheck (float64), the kinks' gradients,
module names, deep copies, init, masks, errors and reprs. The comparisons with PyTorch are in
tests/parity/test_transformer_layers_parity.py.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from conftest import random_leaf as leaf

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

# The core suite: every test here runs once on each engine (see conftest.py).
pytestmark = pytest.mark.usefixtures("engine")


# ----------------------------------------------------------------- activations
def test_shrink_threshold_prelu_rrelu_values_and_gradients_at_the_kinks():
    x = tc.tensor(np.array([-2.0, -0.5, -0.2, 0.0, 0.2, 0.5, 2.0]), requires_grad=True)
    cases = [
        (lambda t: F.softshrink(t, 0.5), [-1.5, 0, 0, 0, 0, 0, 1.5], [1, 0, 0, 0, 0, 0, 1]),
        (lambda t: F.hardshrink(t, 0.5), [-2, 0, 0, 0, 0, 0, 2], [1, 0, 0, 0, 0, 0, 1]),
        (lambda t: F.threshold(t, 0.2, -9.0), [-9, -9, -9, -9, -9, 0.5, 2], [0, 0, 0, 0, 0, 1, 1]),
        (lambda t: F.threshold(t, 0.0, 0.0), [0, 0, 0, 0, 0.2, 0.5, 2], [0, 0, 0, 0, 1, 1, 1]),  # relu
        (lambda t: F.prelu(t, tc.tensor(np.array([0.25]))), [-0.5, -0.125, -0.05, 0, 0.2, 0.5, 2],
         [0.25, 0.25, 0.25, 0.25, 1, 1, 1]),  # at 0: the slope, as PyTorch
        (lambda t: F.rrelu(t, 0.1, 0.3), [-0.4, -0.1, -0.04, 0, 0.2, 0.5, 2], [0.2, 0.2, 0.2, 0.2, 1, 1, 1]),
    ]
    for fn, values, grads in cases:
        x.grad = None
        out = fn(x)
        out.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), values, atol=1e-15)
        np.testing.assert_allclose(x.grad.detach().numpy(), grads, atol=1e-15)


@pytest.mark.parametrize("name, fn", [
    ("softshrink", lambda t: F.softshrink(t, 0.3)),
    ("hardshrink", lambda t: F.hardshrink(t, 0.3) ** 2),
    ("threshold", lambda t: F.threshold(t, -0.2, 0.7) ** 2),
    ("rrelu-eval", lambda t: F.rrelu(t) ** 2),
    ("rrelu-train", lambda t: (tc.manual_seed(5), F.rrelu(t, training=True) ** 2)[1]),  # the same slopes each call
    ("rms_norm", lambda t: F.rms_norm(t, (4,), eps=1e-3)),
    ("rms_norm-2d", lambda t: F.rms_norm(t, (3, 4))),
    ("pixel_shuffle", lambda t: F.pixel_shuffle(t.reshape(1, 4, 1, 3), 2) ** 2),
    ("pixel_unshuffle", lambda t: F.pixel_unshuffle(t.reshape(1, 1, 2, 6), 2) ** 2),
])
def test_functional_gradcheck_and_gradgradcheck(name, fn):
    x = leaf(3, 4, seed=len(name))
    assert tc.gradcheck(fn, (x,))
    assert tc.gradgradcheck(fn, (x,))


def test_prelu_and_weighted_rms_norm_gradcheck_in_the_weight_too():
    x, w = leaf(2, 3, 4, seed=1), tc.tensor(np.array([0.1, 0.3, -0.2]), requires_grad=True)
    assert tc.gradcheck(lambda a, b: F.prelu(a, b), (x, w))
    assert tc.gradgradcheck(lambda a, b: F.prelu(a, b) * a, (x, w))
    g = leaf(4, seed=2)
    assert tc.gradcheck(lambda a, b: F.rms_norm(a, 4, b), (x, g))
    assert tc.gradgradcheck(lambda a, b: F.rms_norm(a, [4], b), (x, g))


def test_rrelu_training_draws_slopes_from_the_generator_and_eval_uses_the_mean():
    x = tc.tensor(-np.ones(1000))
    tc.manual_seed(3)
    a = F.rrelu(x, 0.1, 0.5, training=True).detach().numpy()
    tc.manual_seed(3)
    np.testing.assert_array_equal(F.rrelu(x, 0.1, 0.5, training=True).detach().numpy(), a)  # seeded: reproducible
    assert -0.5 <= a.min() and a.max() <= -0.1 and abs(a.mean() + 0.3) < 0.02
    module = nn.RReLU(0.1, 0.5)
    assert len(np.unique(module(x).detach().numpy())) > 100
    np.testing.assert_array_equal(module.eval()(x).detach().numpy(), np.full(1000, -0.3))


def test_inplace_threshold_and_rrelu_write_into_the_input():
    x = tc.tensor(np.array([-1.0, 0.5, 2.0]))
    assert F.threshold(x, 1.0, 0.0, inplace=True) is x
    np.testing.assert_array_equal(x.detach().numpy(), [0.0, 0.0, 2.0])
    y = tc.tensor(np.array([-1.0, 3.0]))
    assert nn.RReLU(0.2, 0.4, inplace=True).eval()(y) is y
    np.testing.assert_allclose(y.detach().numpy(), [-0.3, 3.0])


def test_prelu_module_learns_one_slope_per_channel():
    m = nn.PReLU(3, init=0.1)
    assert m.weight.shape == (3,) and np.allclose(m.weight.detach().numpy(), 0.1) and m.weight.dtype == np.float32
    x = tc.tensor(np.array([[[-1.0, 2.0]] * 3]).astype(np.float32))  # (1, 3, 2)
    m(x).sum().backward()
    np.testing.assert_array_equal(m.weight.grad.detach().numpy(), [-1.0, -1.0, -1.0])
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    with pytest.raises(ValueError, match=r"prelu: mismatch of parameter numbers and input channel size: found 3 "
                                         r"parameters and channel size 4"):
        m(tc.ones(2, 4))


# ----------------------------------------------------------------- RMSNorm
def test_rms_norm_matches_its_definition_and_defaults():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    w = np.random.default_rng(1).standard_normal(4)
    expected = x / np.sqrt((x**2).mean(-1, keepdims=True) + 1e-6) * w
    np.testing.assert_allclose(F.rms_norm(tc.tensor(x), (4,), tc.tensor(w), 1e-6).detach().numpy(), expected, rtol=1e-12)
    eps64 = np.finfo(np.float64).eps
    np.testing.assert_allclose(F.rms_norm(tc.tensor(x), [3, 4]).detach().numpy(),
                               x / np.sqrt((x**2).mean((1, 2), keepdims=True) + eps64), rtol=1e-12)
    m = nn.RMSNorm([3, 4])
    assert m.weight.shape == (3, 4) and (m.weight.detach().numpy() == 1).all() and m.eps is None
    assert nn.RMSNorm(4, elementwise_affine=False).weight is None
    assert [n for n, _ in nn.RMSNorm(4).named_parameters()] == ["weight"]
    out = m(tc.tensor(x.astype(np.float32)))
    assert out.dtype == np.float32


def test_rms_norm_errors_name_the_op():
    x = tc.ones(2, 3)
    with pytest.raises(ValueError, match=r"rms_norm: input of shape \(2, 3\) does not end with normalized_shape \(4,\)"):
        F.rms_norm(x, 4)
    with pytest.raises(ValueError, match=r"rms_norm: weight must have the shape of normalized_shape \(3,\), got \(4,\)"):
        F.rms_norm(x, 3, tc.ones(4))
    with pytest.raises(TypeError, match="rms_norm: input must be floating point"):
        F.rms_norm(tc.tensor(np.ones((2, 3), dtype=np.int64)), 3)


# ----------------------------------------------------------------- channel dropout
def test_channel_dropout_drops_whole_channels_reproducibly():
    x = tc.ones(8, 16, 3, 3)
    tc.manual_seed(0)
    out = F.dropout2d(x, 0.25).detach().numpy()
    per_channel = out.reshape(8, 16, 9)
    assert (per_channel == per_channel[..., :1]).all()
    assert set(np.unique(per_channel)) == {0.0, np.float32(1 / 0.75)}
    assert 0.1 < (per_channel[..., 0] == 0).mean() < 0.4
    tc.manual_seed(0)
    np.testing.assert_array_equal(nn.Dropout2d(0.25)(x).detach().numpy(), out)
    unbatched = nn.Dropout1d(0.5)(tc.ones(6, 4)).detach().numpy()  # (C, L): whole rows
    assert (unbatched == unbatched[:, :1]).all()
    layer = nn.Dropout3d(0.9).eval()
    y = tc.ones(2, 3, 2, 2, 2)
    assert layer(y) is y
    z = tc.ones(2, 3, 4)
    assert F.dropout1d(z, 0.5, inplace=True) is z and set(np.unique(z.detach().numpy())) <= {0.0, 2.0}


def test_channel_dropout_gradient_is_the_mask_and_errors_name_the_op():
    x = leaf(4, 5, 6, seed=3)
    tc.manual_seed(1)
    out = F.dropout1d(x, 0.5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.detach().numpy(), out.detach().numpy() / x.detach().numpy())
    with pytest.raises(ValueError, match="dropout1d: Expected 2D or 3D input, but received a 4D input"):
        F.dropout1d(tc.ones(1, 2, 3, 4))
    with pytest.raises(ValueError, match="dropout3d: probability has to be between 0 and 1, but got -0.1"):
        F.dropout3d(tc.ones(1, 2, 3, 4), -0.1)
    with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d, which is deprecated"):
        F.dropout3d(tc.ones(2, 3, 4), 0.5, training=False)


# ----------------------------------------------------------------- pixel shuffle
def test_pixel_shuffle_follows_the_index_formula_and_unshuffle_inverts_it():
    r, c, h, w = 2, 3, 2, 3
    x = np.arange(2 * c * r * r * h * w, dtype=np.float64).reshape(2, c * r * r, h, w)
    out = F.pixel_shuffle(tc.tensor(x), r).detach().numpy()
    assert out.shape == (2, c, h * r, w * r)
    for ch in range(c):
        for i in range(r):
            for j in range(r):
                np.testing.assert_array_equal(out[:, ch, i::r, j::r], x[:, ch * r * r + i * r + j])
    np.testing.assert_array_equal(F.pixel_unshuffle(tc.tensor(out), r).detach().numpy(), x)
    np.testing.assert_array_equal(nn.PixelShuffle(r)(tc.tensor(x[0])).detach().numpy(), out[0])  # unbatched (C, H, W)


def test_pixel_shuffle_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match=r"pixel_shuffle expects its input's 'channel' dimension to be divisible by "
                                         r"the square of upscale_factor, but input.size\(-3\)=6 is not divisible by 4"):
        F.pixel_shuffle(tc.ones(1, 6, 2, 2), 2)
    with pytest.raises(ValueError, match="pixel_unshuffle expects width to be divisible by downscale_factor"):
        F.pixel_unshuffle(tc.ones(1, 1, 4, 3), 2)
    with pytest.raises(ValueError, match=r"pixel_shuffle expects input to have at least 3 dimensions, but got input "
                                         r"with 2 dimension\(s\)"):
        F.pixel_shuffle(tc.ones(4, 4), 2)
    with pytest.raises(TypeError, match="pixel_shuffle: upscale_factor must be an int"):
        F.pixel_shuffle(tc.ones(1, 4, 2, 2), 2.0)


# ----------------------------------------------------------------- transformer layers
ENCODER_NAMES = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                 "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                 "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]


def test_layer_parameter_and_submodule_names_are_pytorchs():
    enc = nn.TransformerEncoderLayer(8, 2, 16)
    assert [n for n, _ in enc.named_parameters()] == ENCODER_NAMES
    assert list(enc._modules) == ["self_attn", "linear1", "dropout", "linear2", "norm1", "norm2", "dropout1",
                                  "dropout2"]
    dec = nn.TransformerDecoderLayer(8, 2, 16, bias=False)
    assert list(dec.state_dict()) == ["self_attn.in_proj_weight", "self_attn.out_proj.weight",
                                      "multihead_attn.in_proj_weight", "multihead_attn.out_proj.weight",
                                      "linear1.weight", "linear2.weight", "norm1.weight", "norm2.weight",
                                      "norm3.weight"]
    model = nn.Transformer(8, 2, 2, 1, 16)
    names = list(model.state_dict())
    assert names[:12] == ["encoder.layers.0." + n for n in ENCODER_NAMES]
    assert names[24:26] == ["encoder.norm.weight", "encoder.norm.bias"]
    assert names[-2:] == ["decoder.norm.weight", "decoder.norm.bias"]
    assert len(names) == 2 * 12 + 2 + 18 + 2  # a decoder layer: 2 × 4 attention, 4 linear, 6 norm
    assert model.d_model == 8 and model.nhead == 2 and model.batch_first is False
    assert enc.activation is F.relu and enc.activation_relu_or_gelu == 1
    assert nn.TransformerEncoderLayer(8, 2, activation="gelu").activation is F.gelu


def test_the_stacks_hold_independent_deep_copies_of_the_layer():
    layer = nn.TransformerEncoderLayer(4, 2, 6)
    encoder = nn.TransformerEncoder(layer, 3, enable_nested_tensor=True)
    first, second = encoder.layers[0], encoder.layers[1]
    assert first is not layer and first.linear1.weight is not second.linear1.weight
    np.testing.assert_array_equal(first.linear1.weight.detach().numpy(), layer.linear1.weight.detach().numpy())  # the same values
    first.linear1.weight.detach().numpy()[...] = 7.0
    assert not (second.linear1.weight.detach().numpy() == 7).any() and not (layer.linear1.weight.detach().numpy() == 7).any()
    assert len(list(encoder.parameters())) == 3 * 12 and encoder.num_layers == 3 and encoder.norm is None
    x = leaf(5, 2, 4, seed=1).float()
    encoder(x).sum().backward()
    assert all(p.grad is not None for p in encoder.parameters())
    assert layer.linear1.weight.grad is None


def test_transformer_initialises_every_matrix_xavier_uniform():
    tc.manual_seed(0)
    model = nn.Transformer(16, 4, 1, 1, 32)
    for name, p in model.named_parameters():
        values = p.detach().numpy()
        if p.ndim > 1:
            bound = math.sqrt(6 / sum(p.shape))
            assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound, name
        elif name.endswith(("in_proj_bias", "out_proj.bias")) or (".norm" in name and name.endswith("bias")):
            assert not values.any(), name
        elif "norm" in name:
            assert (values == 1).all(), name
    layer = nn.TransformerEncoderLayer(16, 4, 32)  # alone: Linear's own init, bound 1/√in · √(6/(1+5))
    assert np.abs(layer.linear2.weight.detach().numpy()).max() <= 1 / math.sqrt(32)


def test_batch_first_and_unbatched_inputs_equal_the_sequence_first_batch():
    tc.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0).double()
    src, tgt = leaf(5, 2, 8, seed=1), leaf(3, 2, 8, seed=2)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=tc.float64)
    out = model(src, tgt, tgt_mask=mask)
    assert out.shape == (3, 2, 8)
    first = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, batch_first=True).double()
    first.load_state_dict(model.state_dict())
    out_bf = first(src.transpose(0, 1), tgt.transpose(0, 1), tgt_mask=mask)
    np.testing.assert_allclose(out_bf.transpose(0, 1).detach().numpy(), out.detach().numpy(), rtol=1e-12, atol=1e-13)
    single = model(src[:, 1], tgt[:, 1], tgt_mask=mask)
    np.testing.assert_allclose(single.detach().numpy(), out[:, 1].detach().numpy(), rtol=1e-12, atol=1e-13)


def test_causal_mask_is_detected_and_padding_hides_the_padded_keys():
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(mask.detach().numpy(), [[0, -np.inf, -np.inf, -np.inf], [0, 0, -np.inf, -np.inf],
                                                 [0, 0, 0, -np.inf], [0, 0, 0, 0]])
    assert mask.dtype == np.float32 and not mask.requires_grad
    tc.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), 2).double()
    x = leaf(4, 3, 4, seed=5)
    bool_mask = tc.tensor(np.triu(np.ones((4, 4), bool), 1))
    causal = encoder(x, mask=mask.double()).detach().numpy()
    np.testing.assert_allclose(encoder(x, mask=bool_mask).detach().numpy(), causal, rtol=1e-12)
    np.testing.assert_allclose(encoder(x, mask=mask.double(), is_causal=True).detach().numpy(), causal, rtol=1e-12)
    # a causal encoder: position 0 sees position 0 only
    y = x.detach().numpy().copy()
    y[1:] += 5.0
    np.testing.assert_allclose(encoder(tc.tensor(y), mask=bool_mask).detach().numpy()[0], causal[0], rtol=1e-12)
    # padded keys: what they hold does not change the other positions
    pad = tc.tensor(np.array([[False, False, True, True]] * 3))
    z = x.detach().numpy().copy()
    out = encoder(tc.tensor(z), src_key_padding_mask=pad).detach().numpy()
    z[2:] = 100.0
    out2 = encoder(tc.tensor(z), src_key_padding_mask=pad).detach().numpy()
    np.testing.assert_allclose(out2[:2], out[:2], rtol=1e-12)


def test_encoder_and_decoder_layers_gradcheck():
    tc.manual_seed(0)
    enc = nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, norm_first=True, activation="gelu").double()
    mask = tc.tensor(np.array([[False, True, False], [False, False, True], [False, False, False]]))
    assert tc.gradcheck(lambda t: enc(t, src_mask=mask), (leaf(3, 2, 4, seed=1),))
    dec = nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, batch_first=True).double()
    kpm = tc.tensor(np.array([[False, False, True], [False, False, False]]))
    assert tc.gradcheck(lambda t, m: dec(t, m, memory_key_padding_mask=kpm), (leaf(2, 2, 4, seed=2),
                                                                             leaf(2, 3, 4, seed=3)))


def test_dropout_acts_in_training_only_and_a_small_model_learns():
    tc.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.3, batch_first=True)
    src, tgt = tc.randn(4, 5, 8), tc.randn(4, 3, 8)
    model.eval()
    a, b = model(src, tgt).detach().numpy(), model(src, tgt).detach().numpy()
    np.testing.assert_array_equal(a, b)
    model.train()
    tc.manual_seed(1)
    c = model(src, tgt).detach().numpy()
    tc.manual_seed(1)
    np.testing.assert_array_equal(model(src, tgt).detach().numpy(), c)  # seeded: reproducible
    assert not np.allclose(a, c)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True)
    opt = tc.optim.Adam(model.parameters(), lr=1e-2)
    target = tc.randn(4, 3, 8)
    losses = []
    for _ in range(15):
        opt.zero_grad()
        loss = F.mse_loss(model(src, tgt), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0]


def test_transformer_errors_name_the_layer():
    with pytest.raises(ValueError, match="TransformerEncoderLayer: d_model=5 must be divisible by nhead=2"):
        nn.TransformerEncoderLayer(5, 2)
    with pytest.raises(ValueError, match="Transformer: d_model=6 must be divisible by nhead=4"):
        nn.Transformer(6, 4)
    with pytest.raises(ValueError, match="TransformerDecoderLayer: activation should be relu/gelu, not 'tanh'"):
        nn.TransformerDecoderLayer(4, 2, activation="tanh")
    with pytest.raises(TypeError, match="TransformerEncoderLayer: activation must be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(4, 2, activation=3)
    with pytest.raises(ValueError, match="TransformerEncoderLayer: dropout must be between 0 and 1, got 1.5"):
        nn.TransformerEncoderLayer(4, 2, dropout=1.5)
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    with pytest.raises(ValueError, match=r"TransformerEncoderLayer: expected src of shape \(L, N, E\) "
                                         r"\(batch_first=False\) or unbatched \(L, E\) with E = d_model = 4, got src "
                                         r"of shape \(3, 2, 5\)"):
        layer(tc.ones(3, 2, 5))
    with pytest.raises(ValueError, match=r"expected src of shape \(N, L, E\) \(batch_first=True\)"):
        nn.TransformerEncoderLayer(4, 2, 8, batch_first=True)(tc.ones(1, 3, 2, 4))
    with pytest.raises(ValueError, match="TransformerDecoderLayer: the batch size of tgt and memory must be equal"):
        nn.TransformerDecoderLayer(4, 2, 8)(tc.ones(3, 2, 4), tc.ones(3, 1, 4))
    model = nn.Transformer(4, 2, 1, 1, 8, batch_first=True)
    with pytest.raises(ValueError, match=r"Transformer: the batch number of src and tgt must be equal \(dim 0"):
        model(tc.ones(2, 3, 4), tc.ones(1, 3, 4))
    with pytest.raises(ValueError, match="Transformer: the feature number of src and tgt must be equal to d_model=4"):
        model(tc.ones(2, 3, 4), tc.ones(2, 3, 2))
    with pytest.raises(ValueError, match="TransformerEncoder: num_layers must be a non-negative int, got -1"):
        nn.TransformerEncoder(layer, -1)
    with pytest.raises(TypeError, match="TransformerDecoder: the layer must be an nn.Module, got str"):
        nn.TransformerDecoder("layer", 2)
    with pytest.raises(TypeError, match="TransformerEncoderLayer: only bool and floating types of src_mask"):
        layer(tc.ones(3, 2, 4), src_mask=tc.tensor(np.zeros((3, 3), dtype=np.int64)))
    with pytest.warns(UserWarning, match="TransformerEncoderLayer: support for mismatched src_key_padding_mask and "
                                         "src_mask is deprecated"):
        layer(tc.ones(3, 2, 4), src_mask=tc.zeros(3, 3), src_key_padding_mask=tc.tensor(np.zeros((2, 3), bool)))


def test_reprs_are_pytorchs():
    layer = nn.TransformerEncoderLayer(4, 2, 8, activation=nn.GELU())
    assert repr(layer).splitlines()[4:6] == ["  (linear1): Linear(in_features=4, out_features=8, bias=True)",
                                             "  (dropout): Dropout(p=0.1, inplace=False)"]
    assert repr(layer).splitlines()[-2:] == ["  (activation): GELU(approximate='none')", ")"]
    text = repr(nn.TransformerEncoder(layer, 3))
    assert text.splitlines()[:3] == ["TransformerEncoder(", "  (layers): ModuleList(",
                                     "    (0-2): 3 x TransformerEncoderLayer("]
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == (
        "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)")
    assert repr(nn.ModuleList()) == "ModuleList()"
    assert repr(nn.LayerNorm(3, bias=False)) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=False)"
    assert repr(nn.RMSNorm([2, 3], eps=1e-3)) == "RMSNorm((2, 3), eps=0.001, elementwise_affine=True)"
    assert repr(nn.RMSNorm(4)) == "RMSNorm((4,), eps=None, elementwise_affine=True)"
    assert [repr(m) for m in (nn.Softshrink(), nn.Hardshrink(0.3), nn.Threshold(0.1, 20), nn.PReLU(3),
                              nn.RReLU(0.1, 0.3, True), nn.Dropout3d(0.2), nn.PixelUnshuffle(3))] == [
        "Softshrink(0.5)", "Hardshrink(0.3)", "Threshold(threshold=0.1, value=20)", "PReLU(num_parameters=3)",
        "RReLU(lower=0.1, upper=0.3, inplace=True)", "Dropout3d(p=0.2, inplace=False)",
        "PixelUnshuffle(downscale_factor=3)"]


def test_copy_deepcopy_of_a_model_keeps_outputs_and_separates_parameters():
    tc.manual_seed(0)
    model = nn.Transformer(4, 2, 1, 1, 8, dropout=0.0).eval()
    clone = copy.deepcopy(model)
    src, tgt = tc.randn(3, 1, 4), tc.randn(2, 1, 4)
    np.testing.assert_array_equal(clone(src, tgt).detach().numpy(), model(src, tgt).detach().numpy())
    assert not any(np.shares_memory(a.detach().numpy(), b.detach().numpy()) for a, b in zip(model.parameters(), clone.parameters()))
