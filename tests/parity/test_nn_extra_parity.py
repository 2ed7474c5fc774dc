"""Issue 12 against PyTorch: new functions equal torch's, new layers take torch's state_dict and agree."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.nn import functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6)) * 3
Y = RNG.standard_normal((4, 6))
P = np.abs(Y) + 0.1
S = np.sign(RNG.standard_normal(4))

FUNCS = [
    (name, (lambda n: lambda m, x, y: getattr(m, n)(x))(name))
    for name in "hardswish hardsigmoid mish silu selu celu elu softsign tanhshrink logsigmoid hardtanh relu6 glu".split()
] + [
    ("softmin", lambda m, x, y: m.softmin(x, 1)),
    ("normalize", lambda m, x, y: m.normalize(x, 3.0, 0)),
    ("cosine_similarity", lambda m, x, y: m.cosine_similarity(x, y)),
    ("pairwise_distance", lambda m, x, y: m.pairwise_distance(x, y, 1.5)),
    ("kl_div", lambda m, x, y: m.kl_div(x, y.abs() + 0.1, reduction="batchmean")),
    ("kl_div_log", lambda m, x, y: m.kl_div(x, y, reduction="none", log_target=True)),
    ("poisson", lambda m, x, y: m.poisson_nll_loss(x, (y.abs() * 3).floor(), full=True, reduction="sum")),
    ("gaussian", lambda m, x, y: m.gaussian_nll_loss(x, y, y.abs(), full=True)),
    ("ranking", lambda m, x, y: m.margin_ranking_loss(x[:, 0], y[:, 0], (y[:, 1] > 0) * 2.0 - 1, 0.5)),
    ("triplet", lambda m, x, y: m.triplet_margin_loss(x, y, x * y, swap=True, p=3)),
    ("cosine_emb", lambda m, x, y: m.cosine_embedding_loss(x, y, (y[:, 1] > 0) * 2.0 - 1, 0.2)),
    ("hinge", lambda m, x, y: m.hinge_embedding_loss(x, (y > 0) * 2.0 - 1, reduction="none")),
    ("multilabel", lambda m, x, y: m.multilabel_soft_margin_loss(x, (y > 0) * 1.0)),
    ("smooth_l1", lambda m, x, y: m.smooth_l1_loss(x, y, beta=0.7)),
    ("interp_nearest", lambda m, x, y: m.interpolate(x.reshape(1, 2, 3, 4), scale_factor=1.7)),
    ("interp_bilinear", lambda m, x, y: m.interpolate(x.reshape(1, 2, 3, 4), size=(5, 9), mode="bilinear",
                                                      align_corners=False)),
    ("adaptive", lambda m, x, y: m.adaptive_avg_pool2d(x.reshape(1, 2, 3, 4), (2, 3))),
]


@pytest.mark.parametrize("name,fn", FUNCS, ids=[n for n, _ in FUNCS])
def test_function_and_gradient_equal_torch(name, fn):
    x, y = tc.tensor(X, requires_grad=True), tc.tensor(Y)
    tx, ty = torch.tensor(X, requires_grad=True), torch.tensor(Y)
    ours, theirs = fn(F, x, y), fn(TF, tx, ty)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-7, atol=1e-10)  # torch: float 1/6 in hardsigmoid


def test_cdist_and_one_hot():
    for p in (1.0, 2.0, 3.0, float("inf")):
        np.testing.assert_allclose(F.cdist(tc.tensor(X), tc.tensor(Y[:3]), p).numpy(),
                                   torch.cdist(torch.tensor(X), torch.tensor(Y[:3]), p).numpy(), rtol=1e-10)
    idx = [[0, 3], [2, 1]]
    np.testing.assert_array_equal(F.one_hot(tc.tensor(idx), 5).numpy(), TF.one_hot(torch.tensor(idx), 5).numpy())


def _flat(r):
    return [r] if not isinstance(r, tuple) else sum((_flat(a) for a in r), [])


LAYERS = [
    ("RNN", lambda m: m.RNN(4, 6), (5, 3, 4)),
    ("RNN_relu_deep_bi", lambda m: m.RNN(4, 6, 2, nonlinearity="relu", bidirectional=True), (5, 3, 4)),
    ("LSTM_bf_bi", lambda m: m.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True), (3, 5, 4)),
    ("LSTM_unbatched", lambda m: m.LSTM(4, 6, 2), (5, 4)),
    ("LSTM_proj_bi", lambda m: m.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3), (5, 3, 4)),
    ("LSTM_proj_unbatched", lambda m: m.LSTM(4, 6, proj_size=2), (5, 4)),
    ("GRU_deep_bi", lambda m: m.GRU(4, 6, num_layers=3, bidirectional=True), (5, 3, 4)),
    ("GRU_nobias", lambda m: m.GRU(4, 6, bias=False), (5, 3, 4)),
    ("RNNCell", lambda m: m.RNNCell(4, 6), (3, 4)),
    ("LSTMCell", lambda m: m.LSTMCell(4, 6), (3, 4)),
    ("GRUCell", lambda m: m.GRUCell(4, 6), (3, 4)),
    ("GroupNorm", lambda m: m.GroupNorm(3, 6), (2, 6, 5, 7)),
    ("InstanceNorm2d", lambda m: m.InstanceNorm2d(6, affine=True, track_running_stats=True), (2, 6, 5, 7)),
    ("InstanceNorm2d_plain", lambda m: m.InstanceNorm2d(6), (2, 6, 5, 7)),
    ("ConvTranspose2d", lambda m: m.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2),
     (2, 6, 5, 7)),
    ("ConvTranspose2d_dil", lambda m: m.ConvTranspose2d(6, 3, (2, 3), stride=(1, 2), dilation=2), (2, 6, 5, 7)),
    ("Upsample_bilinear_ac", lambda m: m.Upsample(scale_factor=2, mode="bilinear", align_corners=True), (2, 6, 5, 7)),
    ("Upsample_nearest", lambda m: m.Upsample(size=(7, 3)), (2, 6, 5, 7)),
    ("AdaptiveAvgPool2d", lambda m: m.AdaptiveAvgPool2d((3, None)), (2, 6, 5, 7)),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 3)), (2, 6, 5, 7)),
    ("Identity", lambda m: m.Identity(), (2, 3)),
]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_state_dict_and_outputs_equal_torch(name, make, shape):
    torch.manual_seed(0)
    theirs = make(torch.nn).double()
    ours = make(nn).double()
    sd = {k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}
    osd = ours.state_dict()
    assert list(osd) == list(sd)
    assert all(osd[k].shape == sd[k].shape for k in sd)
    ours.load_state_dict({k: tc.tensor(v) for k, v in sd.items()})
    x = RNG.standard_normal(shape)
    tx, ox = torch.tensor(x, requires_grad=True), tc.tensor(x, requires_grad=True)
    out_t, out_o = _flat(theirs(tx)), _flat(ours(ox))
    for a, b in zip(out_o, out_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)
    sum(b.sum() for b in out_t).backward()
    sum(a.sum() for a in out_o).backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    for k, v in theirs.state_dict().items():  # running statistics move the same way
        np.testing.assert_allclose(ours.state_dict()[k].numpy(), v.numpy(), rtol=1e-10, atol=1e-12)


def test_bilinear_equals_torch():
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(4, 3, 5).double()
    ours = nn.Bilinear(4, 3, 5).double()
    ours.load_state_dict({k: tc.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    a, b = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 3, 3))
    np.testing.assert_allclose(ours(tc.tensor(a), tc.tensor(b)).detach().numpy(),
                               theirs(torch.tensor(a), torch.tensor(b)).detach().numpy(), rtol=1e-10)
