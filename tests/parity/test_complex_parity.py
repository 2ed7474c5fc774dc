"""Complex tensors against torch: values and gradients of holomorphic and non-holomorphic ops, and
the optimizers' steps on complex parameters (PyTorch treats them as their real and imaginary parts)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim

torch = pytest.importorskip("torch")


def cplx(*shape: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def real(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# name -> (function written with methods both libraries share, inputs)
OPS = {
    "add/mul": (lambda a, b: a * b + a, (cplx(3), cplx(3, seed=1))),
    "div": (lambda a, b: a / b, (cplx(3), cplx(3, seed=1))),
    "exp": (lambda a: a.exp(), (cplx(4),)),
    "log": (lambda a: a.log(), (cplx(4),)),
    "sqrt": (lambda a: a.sqrt(), (cplx(4),)),
    "sin·cos": (lambda a: a.sin() * a.cos(), (cplx(4),)),
    "tanh": (lambda a: a.tanh(), (cplx(4),)),
    "sigmoid": (lambda a: a.sigmoid(), (cplx(4),)),
    "pow 3": (lambda a: a ** 3, (cplx(4),)),
    "pow z^w": (lambda a, b: a ** b, (cplx(3), cplx(3, seed=1))),
    "matmul": (lambda a, b: a @ b, (cplx(3, 4), cplx(4, 2, seed=1))),
    "sum/mean": (lambda a: a.sum(0) * a.mean(), (cplx(3, 2),)),
    "prod": (lambda a: a.prod(), (cplx(4),)),
    "reshape/T/index": (lambda a: a.reshape(2, 3).T[1:], (cplx(6),)),
    "cumsum": (lambda a: a.cumsum(0), (cplx(5),)),
    "abs": (lambda a: a.abs(), (cplx(5),)),
    "conj": (lambda a: a.conj() * a, (cplx(5),)),
    "real·imag": (lambda a: a.real * a.imag, (cplx(5),)),
    "angle": (lambda a: a.angle(), (cplx(5),)),
    "mixed real×complex": (lambda a, r: a * r + r, (cplx(3), real(3, seed=2))),
    "inverse": (lambda a: a.inverse(), (cplx(3, 3) + 3 * np.eye(3),)),
    "det": (lambda a: a.det(), (cplx(3, 3) + 3 * np.eye(3),)),
    "norm": (lambda a: a.norm(dim=1), (cplx(3, 4),)),
    "var/std": (lambda a: a.var(0) + a.std(), (cplx(4, 3),)),
    "vdot": (lambda a, b: a.vdot(b), (cplx(4), cplx(4, seed=1))),
    "sgn": (lambda a: a.sgn(), (cplx(5),)),
    "embedding-like index": (lambda a: a[[0, 2, 2]] * a[1], (cplx(3, 2),)),
}


def run(lib, fn, arrays):
    ts = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ts)
    return ts, out


@pytest.mark.parametrize("name", list(OPS))
def test_complex_op_values_and_gradients_equal_torch(name: str) -> None:
    """The value and the gradient of L = Re Σ v̄·f (v random complex) agree with torch's (PyTorch's ∂L/∂z̄ convention)."""
    fn, arrays = OPS[name]
    ours, out = run(tc, fn, arrays)
    theirs, tout = run(torch, fn, arrays)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    v = cplx(*out.shape, seed=9) if out.dtype.kind == "c" else real(*out.shape, seed=9)
    loss = (tc.tensor(v).conj() * out).real.sum() if out.dtype.kind == "c" else (tc.tensor(v) * out).sum()
    tv = torch.tensor(v)
    tloss = (tv.conj() * tout).real.sum() if tout.is_complex() else (tv * tout).sum()
    loss.backward()
    tloss.backward()
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-11, err_msg=f"input {k}")


@pytest.mark.parametrize("name", list(OPS))
def test_complex_gradcheck(name: str) -> None:
    """Complex gradcheck and gradgradcheck (real and imaginary parts perturbed) pass for every op."""
    fn, arrays = OPS[name]
    ins = tuple(tc.tensor(a, requires_grad=True) for a in arrays)
    assert tc.gradcheck(fn, ins)
    assert tc.gradgradcheck(fn, ins)


OPTIMIZERS = {
    "SGD momentum nesterov wd": (optim.SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    "Adam": (optim.Adam, torch.optim.Adam, {"lr": 0.05}),
    "Adam amsgrad wd": (optim.Adam, torch.optim.Adam, {"lr": 0.05, "amsgrad": True, "weight_decay": 0.1}),
    "AdamW": (optim.AdamW, torch.optim.AdamW, {"lr": 0.05}),
    "RMSprop centered momentum": (optim.RMSprop, torch.optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5}),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.1}),
}


@pytest.mark.parametrize("foreach", [None, False])
@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_on_complex_parameters_equal_torch(name: str, foreach) -> None:
    """Five steps on a complex parameter (loss |z − c|² + Re z³) give torch's parameters and state."""
    ours_cls, torch_cls, kw = OPTIMIZERS[name]
    z0, c = cplx(4, seed=3), cplx(4, seed=4)
    z, tz = tc.tensor(z0, requires_grad=True), torch.tensor(z0, requires_grad=True)
    opt, topt = ours_cls([z], foreach=foreach, **kw), torch_cls([tz], **kw)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        (((z - tc.tensor(c)).abs() ** 2).sum() + (z ** 3).real.sum()).backward()
        (((tz - torch.tensor(c)).abs() ** 2).sum() + (tz ** 3).real.sum()).backward()
        opt.step()
        topt.step()
    np.testing.assert_allclose(z.detach().numpy(), tz.detach().numpy(), rtol=1e-10, atol=1e-12)
    for key, value in topt.state[tz].items():
        if isinstance(value, torch.Tensor) and value.ndim:
            np.testing.assert_allclose(opt.state[z][key].numpy(), value.numpy(), rtol=1e-10, atol=1e-12, err_msg=key)
