"""Complex tensors: PyTorch's gradient convention (∂L/∂Re z + i ∂L/∂Im z), dtypes, errors, optimizers."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim

pytestmark = pytest.mark.usefixtures("engine")

Z = np.array([1.0 + 2.0j, -0.5 + 0.3j, 2.0 - 1.0j])


def test_the_gradient_of_abs_squared_is_two_z() -> None:
    """L = Σ|z|² gives 2z, the first classic example of the convention."""
    z = tc.tensor(Z, requires_grad=True)
    (z.abs() ** 2).sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), 2 * Z, rtol=1e-14)
    w = tc.tensor(Z, requires_grad=True)
    (w * w.conj()).real.sum().backward()  # the same L written as z z̄
    np.testing.assert_allclose(w.grad.numpy(), 2 * Z, rtol=1e-14)


def test_the_gradient_of_re_f_is_the_conjugate_of_the_derivative() -> None:
    """For holomorphic f, the gradient of Re f(z) is conj f′(z): here f = exp(z²), f′ = 2z exp(z²)."""
    z = tc.tensor(Z, requires_grad=True)
    (z * z).exp().real.sum().backward()
    np.testing.assert_allclose(z.grad.numpy(), np.conj(2 * Z * np.exp(Z ** 2)), rtol=1e-13)
    z.grad = None
    (z * z).exp().imag.sum().backward()  # Im f = Re(−i f): gradient conj(−i f′)
    np.testing.assert_allclose(z.grad.numpy(), np.conj(-1j * 2 * Z * np.exp(Z ** 2)), rtol=1e-13)


@pytest.mark.parametrize("name", ["mul", "div", "exp·log", "abs", "angle", "view_as_real", "polar", "matmul", "pow"])
def test_complex_gradcheck_and_gradgradcheck(name: str) -> None:
    """Finite differences on real and imaginary parts agree with backward, to second order."""
    rng = np.random.default_rng(1)
    a = tc.tensor(rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2)), requires_grad=True)
    b = tc.tensor(rng.standard_normal((2, 2)) + 1j * rng.standard_normal((2, 2)), requires_grad=True)
    r = tc.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    fns = {
        "mul": (lambda x, y: x * y, (a, b)), "div": (lambda x, y: x / y, (a, b)),
        "exp·log": (lambda x: x.exp() * x.log(), (a,)), "abs": (lambda x: x.abs(), (a,)),
        "angle": (lambda x: x.angle(), (a,)), "view_as_real": (lambda x: tc.view_as_real(x).sin(), (a,)),
        "polar": (lambda m, t: tc.polar(m, t), (r.abs().detach().requires_grad_(), r)),
        "matmul": (lambda x, y: x @ y, (a, b)), "pow": (lambda x, y: x ** y, (a, b)),
    }
    fn, ins = fns[name]
    assert tc.gradcheck(fn, ins)
    assert tc.gradgradcheck(fn, ins)


def test_dtypes_promotion_and_printing() -> None:
    """complex64/128, PyTorch's promotion with floats and Python complex numbers, PyTorch's repr."""
    x32, x64 = tc.ones(2), tc.ones(2, dtype=tc.float64)
    assert (x32 * 1j).dtype == tc.complex64 and (x64 * 1j).dtype == tc.complex128
    assert (x32 + tc.tensor([1j], dtype=tc.complex128)).dtype == tc.complex128
    assert (tc.tensor([1, 2]) + 1j).dtype == tc.complex64
    assert tc.tensor([1 + 2j]).dtype == tc.complex64 and tc.randn(3, dtype=tc.cdouble).dtype == tc.complex128
    assert repr(tc.tensor([1 + 2j, 3 - 1j])) == "tensor([1.+2.j, 3.-1.j])"
    assert repr(tc.tensor([0.25 + 0.5j], dtype=tc.complex128)) == "tensor([0.2500+0.5000j], dtype=complex128)"
    z = tc.tensor(Z)
    assert z.is_complex() and tc.is_complex(z) and not tc.ones(1).is_complex()
    np.testing.assert_array_equal(tc.view_as_real(z).numpy(), np.stack([Z.real, Z.imag], -1))
    np.testing.assert_array_equal(tc.view_as_complex(tc.view_as_real(z)).numpy(), Z)
    np.testing.assert_allclose(tc.polar(z.abs(), z.angle()).numpy(), Z, rtol=1e-14)
    assert tc.ones(2).real is not None and tc.ones(2).conj().dtype == tc.float32
    samples = tc.randn(20000, dtype=tc.cdouble).numpy()
    assert abs(np.mean(np.abs(samples) ** 2) - 1) < 0.05  # E|z|² = 1, as PyTorch's complex randn


def test_clear_errors_for_what_complex_numbers_do_not_have() -> None:
    """Ordering, relu, imag of a real tensor, implicit backward of a complex output: PyTorch's kind of error."""
    z = tc.tensor(Z, requires_grad=True)
    with pytest.raises(TypeError, match="relu: not implemented for complex tensors"):
        z.relu()
    with pytest.raises(TypeError, match="lt: complex numbers have no order"):
        _ = z < z
    assert (z == z).numpy().all()
    with pytest.raises(RuntimeError, match="imag is not implemented for tensors with non-complex dtypes"):
        _ = tc.ones(2).imag
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for real scalar outputs but got complex128"):
        (z * z).sum().backward()
    with pytest.raises(RuntimeError, match="view_as_complex: the last dimension must have size 2"):
        tc.view_as_complex(tc.ones(3, 3))
    with pytest.raises(RuntimeError, match="complex: expected real and imag to have the same dtype"):
        tc.complex(tc.ones(2), tc.ones(2, dtype=tc.float64))


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, lr=0.1, momentum=0.5), lambda p: optim.Adam(p, lr=0.1)])
def test_optimizers_fit_a_complex_parameter(make) -> None:
    """Gradient descent on |z − c|² with the convention's gradient 2(z − c) converges to c."""
    c = tc.tensor(Z)
    z = tc.zeros(3, dtype=tc.complex128, requires_grad=True)
    opt = make([z])
    for _ in range(300):
        opt.zero_grad()
        ((z - c).abs() ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(z.detach().numpy(), Z, atol=1e-3)


def test_a_module_converted_to_complex_trains_with_complex_parameters() -> None:
    """Module.to(cfloat) makes the floating parameters complex in place; a complex Linear fits a complex map."""
    tc.manual_seed(0)
    model = tc.nn.Linear(2, 2).to(tc.cdouble)
    assert model.weight.dtype == tc.complex128 and model.weight.requires_grad
    target = np.array([[1 + 1j, -0.5j], [2.0, 0.3 - 0.2j]])
    x = tc.randn(64, 2, dtype=tc.cdouble)
    y = x @ tc.tensor(target).T
    opt = optim.Adam(model.parameters(), lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        ((model(x) - y).abs() ** 2).mean().backward()
        opt.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), target, atol=1e-3)
    with pytest.raises(TypeError, match="Module.to: only floating and complex dtypes are accepted"):
        model.to(tc.int64)
