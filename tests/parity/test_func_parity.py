"""tc.autograd.functional and tc.func against torch.autograd.functional and torch.func (float64).

Every function below is written once, with methods both libraries share, and each transform is
compared value for value: single and tuple inputs, scalar and vector outputs, create_graph on
and off (with create_graph the result's own gradient is compared too).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import func
from tinygrad_course.autograd import functional as AF

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.func's own use of torch.jit

A = np.random.default_rng(7).standard_normal((5, 5)) / 3
W1 = np.random.default_rng(8).standard_normal((6, 5)) / 2
W2 = np.random.default_rng(9).standard_normal((3, 6)) / 2

# Scalar functions of one vector x (5,).
SCALAR = {
    "sin·exp": lambda x: (x.sin() * x.exp()).sum(),
    "quadratic form": lambda x: x @ x.new_tensor(A) @ x,
    "logsumexp": lambda x: x.logsumexp(0),
    "tanh²": lambda x: (x.tanh() ** 2).sum(),
    "norm": lambda x: x.norm(),
    "softplus": lambda x: (1 + x.exp()).log().sum(),
    "cubic × mean": lambda x: (x ** 3).sum() * x.mean(),
    "sigmoid product": lambda x: x.sigmoid().prod(),
    "cos over quadratic": lambda x: x.cos().sum() / (1 + x @ x),
    "double well": lambda x: (x ** 4).sum() / 4 - (x ** 2).sum() / 2,
    "MLP energy": lambda x: ((x.new_tensor(W2) @ (x.new_tensor(W1) @ x).tanh()) ** 2).sum(),
}
# Vector functions of one vector x (5,).
VECTOR = {
    "sin × sum": lambda x: x.sin() * x.sum(),
    "cumsum × x": lambda x: x.cumsum(0) * x,
    "softmax": lambda x: x.softmax(0),
    "MLP": lambda x: x.new_tensor(W2) @ (x.new_tensor(W1) @ x).tanh(),
    "outer product": lambda x: (x.unsqueeze(1) * x.exp().unsqueeze(0)).reshape(-1),
    "sqrt of squares": lambda x: (x * x + 1).sqrt(),
}
# Functions of two inputs a (5,), b (5,): scalar, vector and tuple outputs.
PAIRS = {
    "dot": lambda a, b: (a * b.sin()).sum(),
    "weighted": lambda a, b: a * b.sum() + b.exp(),
    "two outputs": lambda a, b: (a * b, (a + b).tanh().sum()),
}

X = np.random.default_rng(1).standard_normal(5)
V5 = np.random.default_rng(2).standard_normal(5)


def close(a, b, what: str = "") -> None:
    """Same shape, same numbers (tuples elementwise)."""
    if isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), what
        for k, (x, y) in enumerate(zip(a, b)):
            close(x, y, f"{what}[{k}]")
        return
    got = a.detach().numpy() if isinstance(a, tc.Tensor) else np.asarray(a)
    want = b.detach().numpy()
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-11, err_msg=what)


def pair(values: np.ndarray, grad: bool = False):
    return tc.tensor(values, requires_grad=grad), torch.tensor(values, requires_grad=grad)


def summed(result):
    """Σ of every tensor in a (nested tuple) result."""
    if isinstance(result, (tuple, list)):
        return sum(summed(r) for r in result)
    return result.sum()


@pytest.mark.parametrize("vectorize", [False, True])
@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(SCALAR))
def test_hessian_jacobian_hvp_vhp_of_scalar_functions(name: str, create_graph: bool, vectorize: bool) -> None:
    """hessian, jacobian (the gradient), hvp, vhp of a scalar function, as torch.autograd.functional."""
    f = SCALAR[name]
    x, tx = pair(X, grad=create_graph)
    kw = {"create_graph": create_graph, "vectorize": vectorize}
    h, th = AF.hessian(f, x, **kw), torch.autograd.functional.hessian(f, tx, **kw)
    close(h, th, "hessian")
    close(AF.jacobian(f, x, **kw), torch.autograd.functional.jacobian(f, tx, **kw), "jacobian")
    v, tv = pair(V5)
    close(AF.hvp(f, x, v, create_graph=create_graph), torch.autograd.functional.hvp(f, tx, tv, create_graph=create_graph), "hvp")
    close(AF.vhp(f, x, v, create_graph=create_graph), torch.autograd.functional.vhp(f, tx, tv, create_graph=create_graph), "vhp")
    assert h.requires_grad == th.requires_grad  # (a constant Hessian, of a quadratic form, requires none)
    if th.requires_grad:  # the Hessian is itself differentiable: ∂(Σ H)/∂x
        (g,) = tc.grad(h.sum(), x)
        (tg,) = torch.autograd.grad(th.sum(), tx)
        close(g, tg, "∂ΣH/∂x")


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("name", list(VECTOR))
def test_jacobian_vjp_jvp_of_vector_functions(name: str, create_graph: bool) -> None:
    """jacobian (both strategies of rows), vjp, jvp of a vector function, as torch.autograd.functional."""
    f = VECTOR[name]
    x, tx = pair(X, grad=create_graph)
    for vectorize in (False, True):
        j = AF.jacobian(f, x, create_graph=create_graph, vectorize=vectorize)
        tj = torch.autograd.functional.jacobian(f, tx, create_graph=create_graph, vectorize=vectorize)
        close(j, tj, f"jacobian vectorize={vectorize}")
    out = f(tc.tensor(X))
    u, tu = pair(np.random.default_rng(3).standard_normal(tuple(out.shape)))
    v, tv = pair(V5)
    close(AF.vjp(f, x, u, create_graph=create_graph), torch.autograd.functional.vjp(f, tx, tu, create_graph=create_graph), "vjp")
    close(AF.jvp(f, x, v, create_graph=create_graph), torch.autograd.functional.jvp(f, tx, tv, create_graph=create_graph), "jvp")
    assert j.requires_grad == tj.requires_grad
    if tj.requires_grad:
        (g,) = tc.grad(j.sum(), x)
        (tg,) = torch.autograd.grad(tj.sum(), tx)
        close(g, tg, "∂ΣJ/∂x")


@pytest.mark.parametrize("name", list(PAIRS))
def test_tuple_inputs_and_outputs(name: str) -> None:
    """Tuple inputs (and a tuple output): jacobian, vjp, jvp, and hessian for a scalar output."""
    f = PAIRS[name]
    (a, ta), (b, tb) = pair(X), pair(V5)
    close(AF.jacobian(f, (a, b)), torch.autograd.functional.jacobian(f, (ta, tb)), "jacobian")
    close(AF.jacobian(f, (a, b), vectorize=True), torch.autograd.functional.jacobian(f, (ta, tb), vectorize=True), "jacobian vec")
    out = f(a, b)
    outs = out if isinstance(out, tuple) else (out,)
    cot = [np.random.default_rng(10 + k).standard_normal(tuple(o.shape)) for k, o in enumerate(outs)]
    u = tuple(tc.tensor(c) for c in cot) if isinstance(out, tuple) else tc.tensor(cot[0])
    tu = tuple(torch.tensor(c) for c in cot) if isinstance(out, tuple) else torch.tensor(cot[0])
    close(AF.vjp(f, (a, b), u), torch.autograd.functional.vjp(f, (ta, tb), tu), "vjp")
    close(AF.jvp(f, (a, b), (a, b)), torch.autograd.functional.jvp(f, (ta, tb), (ta, tb)), "jvp")
    if not isinstance(out, tuple) and out.numel() == 1:
        close(AF.hessian(f, (a, b)), torch.autograd.functional.hessian(f, (ta, tb)), "hessian")
        close(AF.hessian(f, (a, b), vectorize=True), torch.autograd.functional.hessian(f, (ta, tb), vectorize=True), "hessian vec")


@pytest.mark.parametrize("name", list(SCALAR))
def test_func_transforms_of_scalar_functions(name: str) -> None:
    """func.grad, grad_and_value, hessian, jacfwd(jacrev), grad(grad) composition, vjp and jvp, as torch.func."""
    f = SCALAR[name]
    x, tx = pair(X)
    close(func.grad(f)(x), torch.func.grad(f)(tx), "grad")
    close(func.grad_and_value(f)(x), torch.func.grad_and_value(f)(tx), "grad_and_value")
    close(func.hessian(f)(x), torch.func.hessian(f)(tx), "hessian")
    close(func.jacrev(func.jacrev(f))(x), torch.func.jacrev(torch.func.jacrev(f))(tx), "jacrev(jacrev)")
    v, tv = pair(V5)
    close(func.jvp(func.grad(f), (x,), (v,)), torch.func.jvp(torch.func.grad(f), (tx,), (tv,)), "jvp(grad) = Hv")
    out, fn = func.vjp(f, x)
    tout, tfn = torch.func.vjp(f, tx)
    close(out, tout, "vjp value")
    close(fn(tc.tensor(1.5)), tfn(torch.tensor(1.5, dtype=torch.float64)), "vjp_fn")


@pytest.mark.parametrize("name", list(VECTOR))
def test_func_jacobians_and_vmap_of_vector_functions(name: str) -> None:
    """jacrev, jacfwd, vmap(f) and vmap(jacrev(f)) over a batch, as torch.func; no loop fallback."""
    f = VECTOR[name]
    x, tx = pair(X)
    close(func.jacrev(f)(x), torch.func.jacrev(f)(tx), "jacrev")
    close(func.jacfwd(f)(x), torch.func.jacfwd(f)(tx), "jacfwd")
    xs, txs = pair(np.random.default_rng(4).standard_normal((3, 5)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched by the rules, not by the per-sample fallback
        got, jac = func.vmap(f)(xs), func.vmap(func.jacrev(f))(xs)
    close(got, torch.func.vmap(f)(txs), "vmap")
    close(jac, torch.func.vmap(torch.func.jacrev(f))(txs), "vmap(jacrev)")


def test_per_sample_gradients_of_a_classifier_as_torch_func() -> None:
    """vmap(grad(loss), in_dims=(None, 0, 0)) over functional_call: torch.func's per-sample gradients."""
    tc.manual_seed(0)
    model = tc.nn.Sequential(tc.nn.Linear(4, 8), tc.nn.Tanh(), tc.nn.Linear(8, 3)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).double()
    tmodel.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in model.state_dict().items()})
    rng = np.random.default_rng(5)
    xs, ys = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)

    def loss(p, xb, yb):
        return tc.nn.functional.cross_entropy(func.functional_call(model, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))

    def tloss(p, xb, yb):
        return torch.nn.functional.cross_entropy(torch.func.functional_call(tmodel, p, (xb.unsqueeze(0),)), yb.unsqueeze(0))

    params = {k: v.detach() for k, v in model.named_parameters()}
    tparams = {k: v.detach() for k, v in tmodel.named_parameters()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = func.vmap(func.grad(loss), in_dims=(None, 0, 0))(params, tc.tensor(xs), tc.tensor(ys))
    want = torch.func.vmap(torch.func.grad(tloss), in_dims=(None, 0, 0))(tparams, torch.tensor(xs), torch.tensor(ys))
    for k in want:
        close(got[k], want[k], k)


def test_laplacian_equals_torchs_trace_of_the_hessian() -> None:
    """func.laplacian (forward Laplacian) of an MLP equals torch's double-backward trace, per sample."""
    tc.manual_seed(1)
    model = tc.nn.Sequential(tc.nn.Linear(6, 16), tc.nn.Tanh(), tc.nn.Linear(16, 1)).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()
    tmodel.load_state_dict({k: torch.tensor(v.detach().numpy()) for k, v in model.state_dict().items()})
    xs = np.random.default_rng(6).standard_normal((8, 6))
    with tc.no_grad():
        lap = func.laplacian(lambda v: model(v).squeeze(-1))(tc.tensor(xs))
    tx = torch.tensor(xs, requires_grad=True)
    (g,) = torch.autograd.grad(tmodel(tx).sum(), tx, create_graph=True)
    want = sum(torch.autograd.grad(g[:, i].sum(), tx, retain_graph=True)[0][:, i] for i in range(6))
    close(lap, want, "laplacian")
