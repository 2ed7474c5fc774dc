"""tc.distributions without torch: sampling statistics, reproducibility, rsample gradients,
gradcheck of log_prob, shapes and validation messages (parity with torch: tests/parity/)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import distributions as D

N = 20_000


def stats_ok(samples: tc.Tensor, mean: tc.Tensor, var: tc.Tensor) -> None:
    """Sample mean within 5 standard errors; sample variance within 10% (fixed seed)."""
    s = samples.detach().numpy().astype(np.float64)
    m, v = mean.detach().numpy(), var.detach().numpy()
    assert np.all(np.abs(s.mean(0) - m) < 5 * np.sqrt(v / len(s)) + 1e-12)
    assert np.allclose(s.var(0), v, rtol=0.1)


@pytest.mark.parametrize("make", [
    lambda: D.Normal(tc.tensor([0.5, -2.0]), tc.tensor([1.0, 3.0])),
    lambda: D.Uniform(tc.tensor([0.0, -1.0]), tc.tensor([1.0, 4.0])),
    lambda: D.Bernoulli(probs=tc.tensor([0.2, 0.9])),
    lambda: D.Exponential(tc.tensor([0.5, 3.0])),
    lambda: D.Laplace(tc.tensor([0.5, -2.0]), tc.tensor([1.0, 0.3])),
    lambda: D.LogNormal(tc.tensor([0.0, 0.5]), tc.tensor([0.3, 0.2])),
    lambda: D.Gamma(tc.tensor([2.0, 0.5]), tc.tensor([1.0, 3.0])),
    lambda: D.Beta(tc.tensor([2.0, 0.5]), tc.tensor([1.0, 3.0])),
    lambda: D.Poisson(tc.tensor([0.5, 7.0])),
    lambda: D.Categorical(probs=tc.tensor([0.1, 0.2, 0.7])),
    lambda: D.MultivariateNormal(tc.tensor([1.0, -1.0]), tc.tensor([[2.0, 0.5], [0.5, 1.0]])),
], ids=["Normal", "Uniform", "Bernoulli", "Exponential", "Laplace", "LogNormal", "Gamma", "Beta", "Poisson",
        "Categorical", "MultivariateNormal"])
def test_sample_statistics_and_reproducibility(make) -> None:
    d = make()
    tc.manual_seed(0)
    s = d.sample((N,))
    assert tuple(s.shape) == (N,) + d.batch_shape + d.event_shape
    if isinstance(d, D.Categorical):
        counts = np.bincount(s.numpy(), minlength=3) / N
        np.testing.assert_allclose(counts, d.probs.numpy(), atol=5 * np.sqrt(0.25 / N))
    else:
        stats_ok(s, d.mean, d.variance)
    tc.manual_seed(0)
    np.testing.assert_array_equal(d.sample((N,)).numpy(), s.numpy())
    assert s.grad_fn is None


def test_mvn_sample_covariance() -> None:
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    tc.manual_seed(1)
    s = D.MultivariateNormal(tc.zeros(2), tc.tensor(cov)).sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov, atol=0.08)


def test_rsample_gradients() -> None:
    loc, scale = tc.tensor([0.5, -1.0], requires_grad=True), tc.tensor([2.0, 0.5], requires_grad=True)
    tc.manual_seed(3)
    x = D.Normal(loc, scale).rsample()
    x.sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [1.0, 1.0])  # d/dloc of loc + scale·ε
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(scale.grad.numpy(), eps.numpy(), rtol=1e-6)
    low, high = tc.tensor(1.0, requires_grad=True), tc.tensor(3.0, requires_grad=True)
    u = D.Uniform(low, high).rsample((5,))
    u.sum().backward()
    np.testing.assert_allclose((low.grad + high.grad).item(), 5.0, rtol=1e-6)  # shift invariance
    mloc = tc.tensor([0.0, 1.0], requires_grad=True)
    tril = tc.tensor([[1.0, 0.0], [0.3, 2.0]], requires_grad=True)
    D.MultivariateNormal(mloc, scale_tril=tril).rsample((4,)).sum().backward()
    np.testing.assert_allclose(mloc.grad.numpy(), [4.0, 4.0])
    assert tril.grad is not None
    rate = tc.tensor(2.0, requires_grad=True)
    y = D.Exponential(rate).rsample((3,))
    y.sum().backward()
    np.testing.assert_allclose(rate.grad.item(), -(y.detach().sum() / rate.detach()).item(), rtol=1e-5)


def test_sample_has_no_rsample_for_discrete_and_numpy_samplers() -> None:
    for d in (D.Bernoulli(0.3), D.Categorical(logits=tc.zeros(3)), D.Gamma(1.0, 1.0), D.Poisson(1.0)):
        assert not d.has_rsample
        with pytest.raises(NotImplementedError, match="does not implement rsample"):
            d.rsample()


@pytest.mark.parametrize("fn", [
    lambda a, b, v: D.Normal(a, b.exp()).log_prob(v),
    lambda a, b, v: D.Laplace(a, b.exp()).log_prob(v),
    lambda a, b, v: D.LogNormal(a, b.exp()).log_prob(v.exp()),
    lambda a, b, v: D.Gamma(a.exp(), b.exp()).log_prob(v.exp()),
    lambda a, b, v: D.Beta(a.exp(), b.exp()).log_prob(v.sigmoid()),
    lambda a, b, v: D.Bernoulli(logits=a).log_prob((v > 0).to(tc.float64)) + D.Bernoulli(logits=b).entropy(),
    lambda a, b, v: D.Categorical(logits=tc.stack([a, b, v], -1)).entropy(),
    lambda a, b, v: D.kl_divergence(D.Normal(a, b.exp()), D.Normal(v, b.exp() + 1)),
    lambda a, b, v: D.MultivariateNormal(a, scale_tril=tc.diag_embed(b.exp()) + tc.tril(tc.ones(3, 3, dtype=tc.float64), -1)
                                         ).log_prob(v),
])
def test_gradcheck_float64(fn) -> None:
    rng = np.random.default_rng(0)
    ins = [tc.tensor(rng.standard_normal(3), requires_grad=True) for _ in range(3)]
    assert tc.gradcheck(fn, ins)


def test_shapes() -> None:
    d = D.Normal(tc.zeros(3, 1), tc.ones(4))
    assert (d.batch_shape, d.event_shape) == ((3, 4), ())
    assert tuple(d.sample((2, 5)).shape) == (2, 5, 3, 4)
    assert tuple(d.sample(7).shape) == (7, 3, 4)
    assert tuple(d.log_prob(tc.zeros(4)).shape) == (3, 4)
    c = D.Categorical(logits=tc.zeros(2, 5))
    assert (c.batch_shape, c.event_shape, tuple(c.sample((3,)).shape)) == ((2,), (), (3, 2))
    o = D.OneHotCategorical(probs=tc.ones(2, 5) / 5)
    assert (o.batch_shape, o.event_shape, tuple(o.sample((3,)).shape)) == ((2,), (5,), (3, 2, 5))
    i = D.Independent(D.Normal(tc.zeros(2, 3), 1.0), 2)
    assert (i.batch_shape, i.event_shape, tuple(i.log_prob(tc.zeros(2, 3)).shape)) == ((), (2, 3), ())
    assert D.Normal(0.0, 1.0).loc.dtype == tc.float32
    assert D.Normal(tc.zeros(2, dtype=tc.float64), 1.0).scale.dtype == tc.float64
    assert tc.distributions.normal.Normal is D.Normal


def test_validation_errors() -> None:
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution Normal"):
        D.Normal(tc.zeros(2), tc.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"within the support \(Real\(\)\) of the distribution Normal"):
        D.Normal(0.0, 1.0).log_prob(tc.tensor(float("nan")))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\) of the distribution Bernoulli"):
        D.Bernoulli(0.5).log_prob(tc.tensor(0.5))
    with pytest.raises(ValueError, match=r"IntegerInterval\(lower_bound=0, upper_bound=2\)"):
        D.Categorical(logits=tc.zeros(3)).log_prob(tc.tensor(3))
    with pytest.raises(ValueError, match="Value is not broadcastable with batch_shape\\+event_shape"):
        D.Normal(tc.zeros(3), 1.0).log_prob(tc.zeros(2))
    with pytest.raises(ValueError, match="constraint PositiveDefinite"):
        D.MultivariateNormal(tc.zeros(2), tc.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(tc.zeros(2), 1.0), 2)
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(0.5))
    # validate_args=False skips the checks, as in torch
    with np.errstate(invalid="ignore"):  # log of the negative scale: NaN, as in torch
        assert np.isnan(D.Normal(0.0, -1.0, validate_args=False).log_prob(0.5).item())
