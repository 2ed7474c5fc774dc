"""tc.distributions against torch.distributions (float64): log_prob, cdf, entropy, moments, kl, and
the gradients of log_prob/entropy/kl with respect to the parameters."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

RNG = np.random.default_rng(0)
A = RNG.standard_normal((2, 3, 3))
COV = A @ np.swapaxes(A, -1, -2) + np.eye(3)
B = RNG.standard_normal((3, 3))
COV2 = B @ B.T + np.eye(3)

# name: (params as numpy arrays, a value array, keyword names or None for positional)
CASES = {
    "Normal": ([np.array([0.3, -1.0, 2.0]), np.array([0.5, 1.5, 2.0])], np.array([0.1, -0.4, 3.0]), None),
    "Uniform": ([np.array([-1.0, 0.0]), np.array([2.0, 0.5])], np.array([0.3, 0.25]), None),
    "Laplace": ([np.array([0.3, -1.0]), np.array([0.7, 2.0])], np.array([1.1, -0.5]), None),
    "LogNormal": ([np.array([0.3, -1.0]), np.array([0.7, 2.0])], np.array([1.1, 0.5]), None),
    "Exponential": ([np.array([0.7, 2.0])], np.array([1.1, 0.5]), None),
    "Gamma": ([np.array([0.7, 3.0]), np.array([1.5, 2.0])], np.array([1.1, 0.5]), None),
    "Beta": ([np.array([0.7, 3.0]), np.array([1.5, 2.0])], np.array([0.2, 0.5]), None),
    "Poisson": ([np.array([0.7, 3.0])], np.array([1.0, 4.0]), None),
    "Bernoulli_probs": ([np.array([0.2, 0.7])], np.array([1.0, 0.0]), "probs"),
    "Bernoulli_logits": ([np.array([0.2, -1.7])], np.array([1.0, 0.0]), "logits"),
    "Categorical_probs": ([np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])], np.array([2, 0]), "probs"),
    "Categorical_logits": ([np.array([[0.2, -0.3, 1.5], [0.6, 0.1, -2.3]])], np.array([1, 2]), "logits"),
    "OneHotCategorical": ([np.array([[0.2, -0.3, 1.5], [0.6, 0.1, -2.3]])], np.eye(3)[[1, 2]], "logits"),
    "MultivariateNormal": ([np.array([0.1, -0.2, 0.3]), COV], np.array([[0.5, 0.1, -1.0]]), "covariance_matrix"),
    "MultivariateNormal_tril": ([np.array([0.1, -0.2, 0.3]), np.linalg.cholesky(COV)], np.array([0.5, 0.1, -1.0]),
                                "scale_tril"),
    "MultivariateNormal_prec": ([np.array([0.1, -0.2, 0.3]), COV2], np.array([0.5, 0.1, -1.0]), "precision_matrix"),
}
HAS = {"cdf": {"Normal", "Uniform", "Laplace", "LogNormal", "Exponential"},
       "entropy": set(CASES) - {"Poisson"}}


def build(name: str, lib: str, params: list):
    cls = name.split("_")[0]
    mod = D if lib == "tc" else TD
    kw = CASES[name][2]
    if kw in ("probs", "logits"):
        return getattr(mod, cls)(**{kw: params[0]})
    if kw:
        return getattr(mod, cls)(params[0], **{kw: params[1]})
    return getattr(mod, cls)(*params)


def pair(name: str):
    arrays = CASES[name][0]
    ps = [tc.tensor(a, requires_grad=True) for a in arrays]
    qs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ps, qs, build(name, "tc", ps), build(name, "torch", qs)


def close(a, b, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


def grads_close(ps, qs, out_tc, out_t):
    out_tc.sum().backward()
    out_t.sum().backward()
    for p, q in zip(ps, qs):
        if p.grad is None:  # the output does not depend on p (torch gives zeros)
            assert q.grad is None or not q.grad.any()
            continue
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_log_prob_values_and_grads(name: str) -> None:
    ps, qs, d, t = pair(name)
    v = CASES[name][1]
    v_tc = tc.tensor(v) if v.dtype.kind == "f" else tc.tensor(v, dtype=tc.int64)
    out_tc, out_t = d.log_prob(v_tc), t.log_prob(torch.tensor(v))
    assert tuple(out_tc.shape) == tuple(out_t.shape)
    close(out_tc, out_t)
    grads_close(ps, qs, out_tc, out_t)


@pytest.mark.parametrize("name", sorted(HAS["entropy"]))
def test_entropy_values_and_grads(name: str) -> None:
    ps, qs, d, t = pair(name)
    out_tc, out_t = d.entropy(), t.entropy()
    assert tuple(out_tc.shape) == tuple(out_t.shape)
    close(out_tc, out_t)
    grads_close(ps, qs, out_tc, out_t)


@pytest.mark.parametrize("name", list(CASES))
def test_shapes_and_moments(name: str) -> None:
    _, _, d, t = pair(name)
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    assert d.has_rsample == t.has_rsample or name in ("Gamma", "Beta")  # torch samples these differentiably
    assert tuple(d.sample((4, 2)).shape) == tuple(t.sample((4, 2)).shape)
    for attr in ("mean", "variance", "stddev", "mode"):
        close(getattr(d, attr), getattr(t, attr))


@pytest.mark.parametrize("name", sorted(HAS["cdf"]))
def test_cdf_icdf(name: str) -> None:
    _, _, d, t = pair(name)
    v = CASES[name][1]
    close(d.cdf(tc.tensor(v)), t.cdf(torch.tensor(v)))
    q = np.linspace(0.1, 0.8, len(v))
    close(d.icdf(tc.tensor(q)), t.icdf(torch.tensor(q)), rtol=1e-8)


KL_CASES = [
    ("Normal", [np.array([0.3, -1.0]), np.array([0.5, 1.5])], [np.array([0.0, 1.0]), np.array([1.2, 0.4])], None),
    ("Uniform", [np.array([-1.0, 0.0]), np.array([1.0, 0.5])], [np.array([-2.0, -1.0]), np.array([1.5, 0.4])], None),
    ("Bernoulli", [np.array([0.2, 0.7])], [np.array([0.5, 0.1])], "probs"),
    ("Categorical", [np.array([[0.2, 0.3, 0.5]])], [np.array([[0.6, 0.1, 0.3], [0.3, 0.3, 0.4]])], "probs"),
    ("Exponential", [np.array([0.7, 2.0])], [np.array([1.5, 0.3])], None),
    ("Laplace", [np.array([0.3, -1.0]), np.array([0.5, 1.5])], [np.array([0.0, 1.0]), np.array([1.2, 0.4])], None),
    ("MultivariateNormal", [np.array([0.1, -0.2, 0.3]), COV], [np.array([0.0, 0.5, 0.0]), COV2], "covariance_matrix"),
]


def make(cls: str, lib: str, params: list, kw: str | None):
    mod = D if lib == "tc" else TD
    if kw in ("probs", "logits"):
        return getattr(mod, cls)(**{kw: params[0]})
    if kw:
        return getattr(mod, cls)(params[0], **{kw: params[1]})
    return getattr(mod, cls)(*params)


@pytest.mark.parametrize("case", KL_CASES, ids=[c[0] for c in KL_CASES])
def test_kl_values_and_grads(case) -> None:
    cls, pa, qa, kw = case
    ps = [tc.tensor(a, requires_grad=True) for a in pa + qa]
    ts = [torch.tensor(a, requires_grad=True) for a in pa + qa]
    k = len(pa)
    out_tc = D.kl_divergence(make(cls, "tc", ps[:k], kw), make(cls, "tc", ps[k:], kw))
    out_t = TD.kl_divergence(make(cls, "torch", ts[:k], kw), make(cls, "torch", ts[k:], kw))
    assert tuple(out_tc.shape) == tuple(out_t.shape)
    close(out_tc, out_t)
    if np.isfinite(out_t.detach().numpy()).all():
        grads_close(ps, ts, out_tc, out_t)


def test_kl_infinite_cases_match_torch() -> None:
    p, q = D.Uniform(0.0, 2.0), D.Uniform(0.5, 3.0)
    assert D.kl_divergence(p, q).item() == TD.kl_divergence(TD.Uniform(0.0, 2.0), TD.Uniform(0.5, 3.0)).item()
    pc, qc = D.Categorical(probs=tc.tensor([0.5, 0.5])), D.Categorical(probs=tc.tensor([1.0, 0.0]))
    tk = TD.kl_divergence(TD.Categorical(probs=torch.tensor([0.5, 0.5])), TD.Categorical(probs=torch.tensor([1.0, 0.0])))
    assert D.kl_divergence(pc, qc).item() == tk.item() == float("inf")


def test_independent_and_kl() -> None:
    loc, scale = RNG.standard_normal((2, 3)), np.exp(RNG.standard_normal((2, 3)))
    d = D.Independent(D.Normal(tc.tensor(loc), tc.tensor(scale)), 1)
    t = TD.Independent(TD.Normal(torch.tensor(loc), torch.tensor(scale)), 1)
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    v = RNG.standard_normal((5, 2, 3))
    close(d.log_prob(tc.tensor(v)), t.log_prob(torch.tensor(v)))
    close(d.entropy(), t.entropy())
    d2 = D.Independent(D.Normal(tc.tensor(loc * 0), tc.tensor(scale * 0 + 1)), 1)
    t2 = TD.Independent(TD.Normal(torch.tensor(loc * 0), torch.tensor(scale * 0 + 1)), 1)
    close(D.kl_divergence(d, d2), TD.kl_divergence(t, t2))


def test_broadcast_batch_shapes_match_torch() -> None:
    d = D.Normal(tc.zeros(3, 1, dtype=tc.float64), tc.ones(4, dtype=tc.float64))
    t = TD.Normal(torch.zeros(3, 1, dtype=torch.float64), torch.ones(4, dtype=torch.float64))
    assert d.batch_shape == tuple(t.batch_shape) == (3, 4)
    m = D.MultivariateNormal(tc.zeros(5, 1, 3, dtype=tc.float64), tc.tensor(COV))
    tm = TD.MultivariateNormal(torch.zeros(5, 1, 3, dtype=torch.float64), torch.tensor(COV))
    assert m.batch_shape == tuple(tm.batch_shape) and tuple(m.rsample((7,)).shape) == tuple(tm.rsample((7,)).shape)
    close(m.log_prob(tc.zeros(3, dtype=tc.float64)), tm.log_prob(torch.zeros(3, dtype=torch.float64)))
    close(m.entropy(), tm.entropy())
    close(m.covariance_matrix, tm.covariance_matrix, rtol=1e-8)
    close(m.precision_matrix, tm.precision_matrix, rtol=1e-8)


ERRORS = [
    (lambda M: M.Normal(0.0, -1.0), "Expected parameter scale (Tensor of shape ()) of distribution Normal"),
    (lambda M: M.Uniform(1.0, 0.0), "Expected parameter low (Tensor of shape ()) of distribution Uniform"),
    (lambda M: M.Bernoulli(probs=1.5), "to satisfy the constraint Interval(lower_bound=0.0, upper_bound=1.0)"),
    (lambda M: M.Bernoulli(0.5, 0.1), "Either `probs` or `logits` must be specified, but not both."),
    (lambda M: M.Categorical(), "Either `probs` or `logits` must be specified, but not both."),
    (lambda M: M.MultivariateNormal(M.Normal(0.0, 1.0).mean.reshape(1).expand(2)),
     "Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified."),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_validation_messages_match_torch(k: int) -> None:
    fn, fragment = ERRORS[k]
    with pytest.raises(ValueError, match=None) as mine:
        fn(D)
    with pytest.raises(ValueError) as theirs:
        fn(TD)
    assert fragment in str(mine.value) and fragment in str(theirs.value)


def test_kl_not_implemented_message_matches_torch() -> None:
    with pytest.raises(NotImplementedError) as theirs:
        TD.kl_divergence(TD.Laplace(0.0, 1.0), TD.Poisson(1.0))
    with pytest.raises(NotImplementedError) as mine:
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Poisson(1.0))
    assert str(mine.value) == str(theirs.value)
