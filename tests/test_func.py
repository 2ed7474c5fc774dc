"""Function transforms: tc.autograd.functional and tc.func, against closed forms and finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import func, nn
from tinygrad_course.autograd import functional as AF

pytestmark = pytest.mark.usefixtures("engine")


def t64(values) -> tc.Tensor:
    return tc.tensor(np.asarray(values, dtype=np.float64))


def numeric_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of a numpy-valued f: shape f(x).shape + x.shape."""
    y0 = np.asarray(f(x))
    jac = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        jac[(Ellipsis,) + i] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return jac


X = np.array([0.3, -1.2, 2.0])


def energy(x):
    """A potential: V(x) = Σ sin(xᵢ) xᵢ² + (Σ xᵢ)³ / 3."""
    return ((x.sin() * x * x).sum() + x.sum() ** 3 / 3.0)


def energy_np(x):
    return np.sum(np.sin(x) * x * x) + np.sum(x) ** 3 / 3.0


def grad_energy_np(x):
    return np.cos(x) * x * x + 2 * x * np.sin(x) + np.sum(x) ** 2


def hess_energy_np(x):
    diag = -np.sin(x) * x * x + 4 * x * np.cos(x) + 2 * np.sin(x)
    return np.diag(diag) + 2 * np.sum(x) * np.ones((3, 3))


# ----------------------------------------------------------------- autograd.functional
def test_vjp_and_jvp_of_a_vector_function() -> None:
    f = lambda x: x.exp() * x[0]  # noqa: E731
    j = numeric_jacobian(lambda a: np.exp(a) * a[0], X)
    v = t64([1.0, 2.0, -1.0])
    out, vj = AF.vjp(f, t64(X), v)
    np.testing.assert_allclose(out.numpy(), np.exp(X) * X[0], rtol=1e-14)
    np.testing.assert_allclose(vj.numpy(), v.numpy() @ j, rtol=1e-7)
    _, jv = AF.jvp(f, t64(X), v)
    np.testing.assert_allclose(jv.numpy(), j @ v.numpy(), rtol=1e-7)


def test_jacobian_single_and_tuple() -> None:
    jac = AF.jacobian(lambda x: x**2 * 3, t64(X))
    np.testing.assert_allclose(jac.numpy(), np.diag(6 * X), rtol=1e-14)
    a, b = t64([1.0, 2.0]), t64([3.0, 4.0, 5.0])
    jac = AF.jacobian(lambda a, b: (a.sum() * b, a * b.sum()), (a, b))
    assert [[j.shape for j in row] for row in jac] == [[(3, 2), (3, 3)], [(2, 2), (2, 3)]]
    np.testing.assert_allclose(jac[0][0].numpy(), np.outer([3, 4, 5], [1, 1]))
    np.testing.assert_allclose(jac[1][1].numpy(), np.outer([1, 2], [1, 1, 1]))


def test_hessian_of_a_potential_and_hvp_vhp() -> None:
    h = AF.hessian(energy, t64(X))
    np.testing.assert_allclose(h.numpy(), hess_energy_np(X), rtol=1e-12)
    v = t64([0.5, -1.0, 2.0])
    value, hv = AF.hvp(energy, t64(X), v)
    assert value.item() == pytest.approx(energy_np(X), rel=1e-14)
    np.testing.assert_allclose(hv.numpy(), hess_energy_np(X) @ v.numpy(), rtol=1e-12)
    _, vh = AF.vhp(energy, t64(X), v)
    np.testing.assert_allclose(vh.numpy(), v.numpy() @ hess_energy_np(X), rtol=1e-12)


def test_hessian_of_two_inputs() -> None:
    f = lambda a, b: (a * a * b).sum()  # noqa: E731
    h = AF.hessian(f, (t64([1.0, 2.0]), t64([3.0, 4.0])))
    np.testing.assert_allclose(h[0][0].numpy(), np.diag([6.0, 8.0]))
    np.testing.assert_allclose(h[0][1].numpy(), np.diag([2.0, 4.0]))
    np.testing.assert_allclose(h[1][1].numpy(), np.zeros((2, 2)))


def test_create_graph_makes_results_differentiable() -> None:
    x = t64(X).requires_grad_()
    h = AF.hessian(lambda y: (y**4).sum(), x, create_graph=True)
    assert h.requires_grad
    (g,) = tc.grad(h.sum(), x)  # d/dx Σ diag(12x²) = 24x
    np.testing.assert_allclose(g.numpy(), 24 * X, rtol=1e-12)
    _, vj = AF.vjp(lambda y: y.sin(), x, t64([1.0, 1.0, 1.0]), create_graph=True)
    (g2,) = tc.grad(vj.sum(), x)
    np.testing.assert_allclose(g2.numpy(), -np.sin(X), rtol=1e-12)


def test_strict_mode_and_bad_input() -> None:
    f = lambda a, b: a * 2  # noqa: E731
    _, (ga, gb) = AF.vjp(f, (t64([1.0]), t64([2.0])), t64([1.0]))
    assert gb.tolist() == [0.0]
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed in strict mode"):
        AF.vjp(f, (t64([1.0]), t64([2.0])), t64([1.0]), strict=True)
    with pytest.raises(RuntimeError, match=r"vjp: the vector v can only be None if the function's output has a single element; output 0 has shape \(3,\)"):
        AF.vjp(lambda x: x * 2, t64(X))
    with pytest.raises(TypeError, match="jacobian: input 0 must be a Tensor, got list"):
        AF.jacobian(lambda x: x, [[1.0]])
    with pytest.raises(RuntimeError, match=r"hessian: the function must return a single-element Tensor, got shape \(3,\)"):
        AF.hessian(lambda x: x * 2, t64(X))


# ----------------------------------------------------------------- tc.func
def test_grad_grad_and_value_argnums_has_aux() -> None:
    g = func.grad(energy)(t64(X))
    np.testing.assert_allclose(g.detach().numpy(), grad_energy_np(X), rtol=1e-12)
    g, value = func.grad_and_value(energy)(t64(X))
    assert value.item() == pytest.approx(energy_np(X), rel=1e-14)
    f = lambda a, b: (a * b.exp()).sum()  # noqa: E731
    ga, gb = func.grad(f, argnums=(0, 1))(t64([1.0, 2.0]), t64([0.5, 0.0]))
    np.testing.assert_allclose(ga.detach().numpy(), np.exp([0.5, 0.0]))
    np.testing.assert_allclose(gb.detach().numpy(), [np.exp(0.5), 2.0])
    g, aux = func.grad(lambda x: ((x**2).sum(), x.mean()), has_aux=True)(t64(X))
    assert aux.item() == pytest.approx(X.mean()) and np.allclose(g.detach().numpy(), 2 * X)
    with pytest.raises(RuntimeError, match=r"grad\(f\)\(\*args\): expected f\(\*args\) to return a scalar Tensor, got \(3,\)"):
        func.grad(lambda x: x * 2)(t64(X))
    with pytest.raises(RuntimeError, match="with has_aux=True, f must return a \\(output, aux\\) tuple"):
        func.grad(lambda x: x.sum(), has_aux=True)(t64(X))


def test_grad_composes_into_higher_derivatives() -> None:
    # a one-element input: each level's gradient has one element, so it can be differentiated again
    d3 = func.grad(func.grad(func.grad(lambda x: x.sin().sum())))
    assert d3(t64([0.7])).item() == pytest.approx(-np.cos(0.7), rel=1e-14)
    second = func.grad(lambda y: func.grad(lambda z: (z**4).sum())(y).sum())
    np.testing.assert_allclose(second(t64([2.0])).detach().numpy(), [12 * 4.0])


def test_vjp_jvp_jacrev_jacfwd_hessian() -> None:
    f = lambda x: x.exp() * x[0]  # noqa: E731
    j = numeric_jacobian(lambda a: np.exp(a) * a[0], X)
    out, vjp_fn = func.vjp(f, t64(X))
    (vj,) = vjp_fn(t64([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(vj.detach().numpy(), np.array([1.0, 0.0, 2.0]) @ j, rtol=1e-7)
    _, jv = func.jvp(f, (t64(X),), (t64([0.0, 1.0, 1.0]),))
    np.testing.assert_allclose(jv.detach().numpy(), j @ np.array([0.0, 1.0, 1.0]), rtol=1e-7)
    np.testing.assert_allclose(func.jacrev(f)(t64(X)).detach().numpy(), j, rtol=1e-7)
    np.testing.assert_allclose(func.jacfwd(f)(t64(X)).detach().numpy(), j, rtol=1e-7)
    np.testing.assert_allclose(func.hessian(energy)(t64(X)).detach().numpy(), hess_energy_np(X), rtol=1e-12)
    np.testing.assert_allclose(func.jacrev(func.jacrev(energy))(t64(X)).detach().numpy(), hess_energy_np(X), rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"jvp: tangent 0 has shape \(2,\) but primal 0 has shape \(3,\)"):
        func.jvp(f, (t64(X),), (t64([1.0, 2.0]),))


def test_functional_call_and_stack_module_state() -> None:
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    model.double()
    x = tc.randn(5, 3, dtype=tc.float64)
    params = {k: v.detach() * 2 for k, v in model.named_parameters()}
    out = func.functional_call(model, params, (x,))
    w0, b0, w1, b1 = (params[k].numpy() for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    np.testing.assert_allclose(out.numpy(), np.tanh(x.numpy() @ w0.T + b0) @ w1.T + b1, rtol=1e-12)
    assert model[0].weight.requires_grad and np.allclose(model[0].weight.detach().numpy() * 2, w0)  # restored
    with pytest.raises(RuntimeError, match=r"functional_call: unexpected key\(s\) \['nope'\]"):
        func.functional_call(model, {"nope": tc.zeros(1)}, (x,))
    models = [nn.Linear(3, 2) for _ in range(4)]
    params, buffers = func.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["weight"].requires_grad and buffers == {}


def test_per_sample_gradients_equal_the_loop() -> None:
    tc.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))
    model.double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    x, y = tc.randn(6, 3, dtype=tc.float64), tc.randint(0, 2, (6,))

    def loss(p, xb, yb):
        return nn.functional.cross_entropy(func.functional_call(model, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))

    per = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for b in range(6):
        model.zero_grad()
        nn.functional.cross_entropy(model(x[b : b + 1]), y[b : b + 1]).backward()
        for name, p in model.named_parameters():
            np.testing.assert_allclose(per[name][b].detach().numpy(), p.grad.numpy(), rtol=1e-12)


def test_vmap_in_dims_out_dims_nested_and_errors() -> None:
    a = t64(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(func.vmap(lambda r: r.sum())(a).numpy(), a.numpy().sum(1))
    np.testing.assert_allclose(func.vmap(lambda c: c.sum(), in_dims=1)(a).numpy(), a.numpy().sum(0))
    np.testing.assert_allclose(func.vmap(lambda r, w: r * w, in_dims=(0, None))(a, t64([1.0, 2, 3, 4])).numpy(),
                               a.numpy() * [1, 2, 3, 4])
    np.testing.assert_allclose(func.vmap(lambda r: r * 2, out_dims=1)(a).numpy(), (a.numpy() * 2).T)
    np.testing.assert_allclose(func.vmap(func.vmap(lambda s: s * s))(a).numpy(), a.numpy() ** 2)
    dot = func.vmap(lambda u, v: (u * v).sum())
    np.testing.assert_allclose(dot(a, a).numpy(), (a.numpy() ** 2).sum(1))
    with pytest.raises(ValueError, match="vmap: expected all mapped inputs to have the same size along their in_dims"):
        dot(a, a[:2])
    with pytest.raises(ValueError, match=r"vmap: in_dims=2 is out of range for argument 0 of shape \(3, 4\)"):
        func.vmap(lambda r: r, in_dims=2)(a)
    with pytest.raises(ValueError, match=r"in_dims has 2 entries for 1 positional arguments"):
        func.vmap(lambda r: r, in_dims=(0, 0))(a)
    with pytest.raises(RuntimeError, match=r"vmap\(randomness='error'\): a random op was called"):
        func.vmap(lambda r: r + tc.randn(4, dtype=tc.float64))(a)
    same = func.vmap(lambda r: r * 0 + tc.randn(4, dtype=tc.float64), randomness="same")(a)
    assert np.allclose(same.numpy()[0], same.numpy()[1])
    different = func.vmap(lambda r: r * 0 + tc.randn(4, dtype=tc.float64), randomness="different")(a)
    assert not np.allclose(different.numpy()[0], different.numpy()[1])


def test_laplacian_equals_the_trace_of_the_hessian() -> None:
    def psi(x):  # a small "wavefunction" network, per sample: (B, d) → (B,)
        return (x.tanh() * t64([1.0, -2.0, 0.5])).sum(1) + (x * x).sum(1).sqrt()

    x = t64(np.array([[0.3, -0.2, 1.0], [1.5, 0.4, -0.7]]))
    lap = func.laplacian(psi)(x)
    for b in range(2):
        h = AF.hessian(lambda row: psi(row.unsqueeze(0)).sum(), x[b])
        assert lap[b].item() == pytest.approx(np.trace(h.numpy()), rel=1e-12)
    with pytest.raises(RuntimeError, match=r"laplacian: expected x of shape \(B, d\) and f\(x\) of shape \(B,\)"):
        func.laplacian(lambda z: z.sum())(x)


def test_grad_is_differentiable_exactly_when_something_outside_requires_grad() -> None:
    x = t64([0.5, -1.0, 2.0])
    # Nothing outside requires grad: plain numbers, no graph kept.
    g = func.grad(lambda z: (z**3).sum())(x)
    assert not g.requires_grad
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    # A closure's parameter requires grad: a gradient penalty must reach it, ∂/∂w Σ 2wx = 2x.
    w = t64([1.0, 2.0, 3.0]).requires_grad_()
    g = func.grad(lambda z: (w * z**2).sum())(x)
    assert g.requires_grad
    (gw,) = tc.grad(g.sum(), w)
    np.testing.assert_allclose(gw.numpy(), 2 * x.numpy())
    # The argument itself requires grad: the gradient is differentiable in it (∂/∂x Σ 3x² = 6x).
    xr = x.clone().requires_grad_()
    (gx,) = tc.grad(func.grad(lambda z: (z**3).sum())(xr).sum(), xr)
    np.testing.assert_allclose(gx.numpy(), 6 * x.numpy())
    # Under no_grad nothing is kept even with a parameter outside; f = z itself has a constant gradient.
    with tc.no_grad():
        assert not func.grad(lambda z: (w * z**2).sum())(x).requires_grad
    assert func.grad(lambda z: z)(t64(2.0)).item() == 1.0


def test_laplacian_is_differentiable_in_the_parameters_and_plain_under_no_grad() -> None:
    # f_b = Σᵢ wᵢ x_{b,i}³  ⇒  Δf_b = Σᵢ 6 wᵢ x_{b,i}  ⇒  ∂(Σ_b Δf_b)/∂wᵢ = 6 Σ_b x_{b,i}
    w = t64([0.5, -1.0, 2.0]).requires_grad_()
    x = t64(np.array([[0.3, -0.2, 1.0], [1.5, 0.4, -0.7]]))
    lap = func.laplacian(lambda z: (w * z**3).sum(1))(x)
    np.testing.assert_allclose(lap.detach().numpy(), 6 * x.numpy() @ w.detach().numpy(), rtol=1e-13)
    (gw,) = tc.grad(lap.sum(), w)
    np.testing.assert_allclose(gw.numpy(), 6 * x.numpy().sum(0), rtol=1e-13)
    with tc.no_grad():
        plain = func.laplacian(lambda z: (w * z**3).sum(1))(x)
    assert not plain.requires_grad
    np.testing.assert_allclose(plain.numpy(), lap.detach().numpy(), rtol=1e-15)


def test_grad_with_batched_grad_outputs() -> None:
    x = t64(X).requires_grad_()
    y = x.exp() * x[0]
    (jac,) = tc.grad(y, x, tc.eye(3, dtype=tc.float64), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), numeric_jacobian(lambda a: np.exp(a) * a[0], X), rtol=1e-7)
    with pytest.raises(RuntimeError, match="is_grads_batched=True needs grad_outputs"):
        tc.grad(y, x, is_grads_batched=True)


@pytest.mark.parametrize("create_graph", [False, True])
def test_batched_grad_outputs_run_one_vectorised_backward_through_an_mlp(create_graph: bool) -> None:
    """is_grads_batched runs the backward formulas once under vmap (no loop warning): the loop's numbers."""
    import warnings

    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    x = t64(np.random.default_rng(5).standard_normal((5, 4))).requires_grad_()
    y = model(x)
    wrt = [x, *model.parameters()]
    vs = t64(np.random.default_rng(6).standard_normal((7, 5, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = tc.grad(y, wrt, vs, is_grads_batched=True, retain_graph=True, create_graph=create_graph)
    rows = [tc.grad(y, wrt, vs[b], retain_graph=True, create_graph=create_graph) for b in range(7)]
    for k, g in enumerate(got):
        assert g.requires_grad == rows[0][k].requires_grad  # the last bias's gradient Σ v is a constant
        assert g.requires_grad == (create_graph and k < len(got) - 1)
        np.testing.assert_allclose(g.detach().numpy(), np.stack([r[k].detach().numpy() for r in rows]), rtol=1e-12, atol=1e-14)
    z = t64([1.0, 2.0]).requires_grad_()
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(2,\)\) was not used"):
        tc.grad(y, [x, z], vs, is_grads_batched=True, retain_graph=True)
    assert tc.grad(y, [x, z], vs, is_grads_batched=True, retain_graph=True, allow_unused=True)[1] is None


LAPLACIAN_CASES = {
    "tanh MLP": lambda m: (lambda v: m(v).squeeze(-1)),
    "softplus and sigmoid": lambda m: (lambda v: (tc.nn.functional.softplus(v) * v.sigmoid()).sum(1) * m(v).squeeze(-1)),
    "quotient and powers": lambda m: (
        lambda v: (v.sin() * v.exp()).sum(-1) / (1 + (m(v) ** 2).sum(-1)) + (v ** 3).mean(1)),
    "a reshape's view beside its source": lambda m: (
        lambda v: (lambda y: (y.sin() * y.reshape(v.shape).cos()).sum(1) + m(v).squeeze(-1))(v * 3.0)),
    "relu, where and cos": lambda m: (lambda v: (v.relu() ** 2 + v.cos() - v.tanh() * v).sum(-1) - m(v).exp().squeeze(-1)),
}


@pytest.mark.parametrize("name", list(LAPLACIAN_CASES))
def test_forward_laplacian_equals_the_hessian_trace_and_uses_the_forward_rules(name: str) -> None:
    """The forward Laplacian (no fallback) gives tr ∂²f/∂x² per sample, in value and in its parameter gradients."""
    import sys

    rules = sys.modules["tinygrad_course.func.laplacian_forward"]
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Linear(3, 6), tc.nn.Tanh(), tc.nn.Linear(6, 6), tc.nn.Softplus(), tc.nn.Linear(6, 1)).double()
    f = LAPLACIAN_CASES[name](model)
    x = t64(np.random.default_rng(1).standard_normal((4, 3)))
    with tc.enable_grad():  # the forward rules cover every op of these functions
        v = x.detach().requires_grad_()
        assert rules.forward_laplacian(v, f(v), False) is not None
    with tc.no_grad():  # values only, on arrays (twice: the second call reuses the first one's J arrays)
        values = [func.laplacian(f)(x).numpy() for _ in range(2)]
    lap = func.laplacian(f)(x)
    np.testing.assert_allclose(values[0], lap.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(values[1], lap.detach().numpy(), rtol=1e-12, atol=1e-12)
    hess = [AF.hessian(lambda r: f(r.unsqueeze(0)).sum(), x[b]).numpy() for b in range(4)]
    np.testing.assert_allclose(lap.detach().numpy(), [np.trace(h) for h in hess], rtol=1e-10, atol=1e-12)
    params = list(model.parameters())

    def double_backward() -> tc.Tensor:
        z = x.detach().requires_grad_()
        (g,) = tc.grad(f(z).sum(), z, create_graph=True)
        return sum(tc.grad(g[:, i].sum(), z, create_graph=True)[0][:, i] for i in range(3))

    got = tc.grad(lap.sum(), params, allow_unused=True)
    want = tc.grad(double_backward().sum(), params, allow_unused=True)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_laplacian_falls_back_to_double_backward_for_ops_without_a_forward_rule() -> None:
    """erf has no forward-Laplacian rule: the double-backward path gives Δ Σ erf(x) = Σ −4x/√π e^{−x²}."""
    x = t64(np.random.default_rng(2).standard_normal((5, 3)))
    lap = func.laplacian(lambda v: v.erf().sum(1))(x)
    want = (-4 * x.numpy() / np.sqrt(np.pi) * np.exp(-x.numpy() ** 2)).sum(1)
    np.testing.assert_allclose(lap.numpy(), want, rtol=1e-12)


def test_vectorized_jacobian_and_hessian_equal_the_row_by_row_ones() -> None:
    """vectorize=True (rows by vmap, no fallback warning) gives the same Jacobians and Hessians, tuples included."""
    import warnings

    rng = np.random.default_rng(4)
    x = t64(rng.standard_normal(6))
    a = t64(rng.standard_normal((6, 6)))

    def energy6(p):
        return p @ a @ p + p.cos().sum() + 0.1 * (p ** 4).sum()

    def pair(u, v):
        return u * v.sum(), (u ** 2).sum() * v

    def mixed(u, v):
        return (u * v).sum() * u.sin().sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h_vec = AF.hessian(energy6, x, vectorize=True)
        j_vec = AF.jacobian(pair, (x[:3], x[3:]), vectorize=True)
        hm_vec = AF.hessian(mixed, (x[:3], x[3:]), vectorize=True)
    np.testing.assert_allclose(h_vec.numpy(), AF.hessian(energy6, x).numpy(), rtol=1e-12, atol=1e-12)
    want = a.numpy() + a.numpy().T - np.diag(np.cos(x.numpy())) + np.diag(1.2 * x.numpy() ** 2)
    np.testing.assert_allclose(h_vec.numpy(), want, rtol=1e-12, atol=1e-12)
    for got, ref in ((j_vec, AF.jacobian(pair, (x[:3], x[3:]))), (hm_vec, AF.hessian(mixed, (x[:3], x[3:])))):
        for row_got, row_ref in zip(got, ref):
            for g, r in zip(row_got, row_ref):
                assert tuple(g.shape) == tuple(r.shape)
                np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-12, atol=1e-12)
    xr = x.detach().requires_grad_()
    hc = AF.hessian(lambda p: (p ** 3).sum() * p.sum(), xr, create_graph=True, vectorize=True)
    ref = AF.hessian(lambda p: (p ** 3).sum() * p.sum(), xr, create_graph=True)
    np.testing.assert_allclose(tc.grad(hc.sum(), xr)[0].numpy(), tc.grad(ref.sum(), xr)[0].numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="jacobian: strict=True and vectorize=True are not supported together"):
        AF.jacobian(energy6, x, strict=True, vectorize=True)


def test_transforms_inside_vmap_are_batched_and_give_plain_results() -> None:
    """vmap of jvp, vjp, jacfwd, hessian, grad_and_value: no loop fallback, the loop's numbers, no grad attached."""
    import warnings

    def f(x):
        return x.sin() * x.sum()

    xs = t64(np.random.default_rng(7).standard_normal((4, 3)))
    vs = t64(np.random.default_rng(8).standard_normal((4, 3)))

    def vjp_row(a, b):
        return func.vjp(f, a)[1](b)[0]

    def scalar(a):
        return (a.sin() ** 2).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jv = func.vmap(lambda a, b: func.jvp(f, (a,), (b,))[1])(xs, vs)
        vj = func.vmap(vjp_row)(xs, vs)
        jf = func.vmap(func.jacfwd(f))(xs)
        hs = func.vmap(func.hessian(scalar))(xs)
        g, value = func.vmap(func.grad_and_value(scalar))(xs)
    for got, one in ((jv, lambda b: func.jvp(f, (xs[b],), (vs[b],))[1]), (vj, lambda b: vjp_row(xs[b], vs[b])),
                     (jf, lambda b: func.jacfwd(f)(xs[b])), (hs, lambda b: func.hessian(scalar)(xs[b])),
                     (g, lambda b: func.grad(scalar)(xs[b])), (value, lambda b: scalar(xs[b]))):
        assert not got.requires_grad
        np.testing.assert_allclose(got.numpy(), np.stack([one(b).numpy() for b in range(4)]), rtol=1e-12, atol=1e-14)
    out, jv0 = func.jvp(f, (xs[0],), (vs[0],))
    assert not out.requires_grad and not jv0.requires_grad  # plain inputs: plain results, as torch.func


def test_where_softplus_and_embedding_with_batched_conditions_and_indices_are_batched() -> None:
    """tc.where with a batched condition, F.softplus, F.embedding with batched indices: no loop fallback."""
    import warnings

    xs = t64(np.random.default_rng(9).standard_normal((4, 5)) * 20)
    table = t64(np.random.default_rng(10).standard_normal((6, 3)))
    idx = tc.tensor(np.random.default_rng(11).integers(0, 6, (4, 2)))
    cases = {
        "where": (lambda x: tc.where(x > 0, x, -x * 2), xs),
        "softplus": (lambda x: tc.nn.functional.softplus(x, beta=0.5), xs),
        "embedding": (lambda i: tc.nn.functional.embedding(i, table), idx),
    }
    for name, (f, arg) in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = func.vmap(f)(arg)
        want = np.stack([f(arg[b]).numpy() for b in range(4)])
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, err_msg=name)


def test_complex_arguments_nested_outputs_and_real_conj_batch_under_vmap() -> None:
    """grad of a complex argument (PyTorch's convention, 2z for |z|²) under vmap, Re/conj batched, a tuple of dicts out."""
    import warnings

    z = tc.tensor(np.random.default_rng(3).standard_normal((4, 3)) + 1j * np.random.default_rng(4).standard_normal((4, 3)))
    x = t64(np.random.default_rng(5).standard_normal((5, 2)))
    p, q = {"w": t64([0.5, -1.0])}, {"v": t64([2.0, 3.0])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = func.vmap(func.grad(lambda v: (v.abs() ** 2).sum()))(z)
        parts = func.vmap(lambda v: (v.real * v.imag + v.conj().abs()).sum())(z)
        gp, gq = func.vmap(func.grad(lambda a, b, s: (a["w"] * b["v"] * s).sum(), argnums=(0, 1)), in_dims=(None, None, 0))(p, q, x)
    np.testing.assert_allclose(g.numpy(), 2 * z.numpy(), rtol=1e-14)
    zn = z.numpy()
    np.testing.assert_allclose(parts.numpy(), (zn.real * zn.imag + np.abs(zn)).sum(1), rtol=1e-14)
    np.testing.assert_allclose(gp["w"].numpy(), q["v"].numpy() * x.numpy(), rtol=1e-14)
    np.testing.assert_allclose(gq["v"].numpy(), p["w"].numpy() * x.numpy(), rtol=1e-14)


def test_per_sample_gradients_of_a_cnn_are_one_grouped_convolution() -> None:
    """vmap(grad) through Conv2d layers (grouped too): each sample's weights a group, no loop, the loop's numbers."""
    import warnings

    tc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3, groups=2), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    rng = np.random.default_rng(6)
    x, y = t64(rng.standard_normal((5, 1, 6, 6))), tc.tensor(rng.integers(0, 3, 5))

    def loss(p, xb, yb):
        return tc.nn.functional.cross_entropy(func.functional_call(model, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, x, y)
    for b in range(5):
        want = func.grad(loss)(params, x[b], y[b])
        for k in want:
            np.testing.assert_allclose(got[k][b].numpy(), want[k].numpy(), rtol=1e-12, atol=1e-14, err_msg=k)
