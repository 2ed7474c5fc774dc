"""tc.fft and tc.special against torch: values (edges included) and gradients of real losses."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc

torch = pytest.importorskip("torch")

# name, kind (c2c/r2c/c2r), 1-d (n) or n-d (s), kwargs
CASES = [
    ("fft", "c", {}), ("fft", "c", {"n": 7}), ("fft", "c", {"n": 3, "dim": 0, "norm": "ortho"}),
    ("ifft", "c", {"norm": "forward"}), ("ifft", "c", {"n": 9}),
    ("fft2", "c", {}), ("ifft2", "c", {"s": (3, 7), "norm": "ortho"}),
    ("fftn", "c", {}), ("fftn", "c", {"s": (5, 2), "dim": (2, 0)}), ("ifftn", "c", {"dim": (1,), "norm": "forward"}),
    ("rfft", "r", {}), ("rfft", "r", {"n": 8}), ("rfft", "r", {"n": 3, "norm": "ortho"}),
    ("rfft2", "r", {"norm": "forward"}), ("rfftn", "r", {"s": (3, 4, 7)}), ("rfftn", "r", {"dim": (0, 1)}),
    ("irfft", "c", {}), ("irfft", "c", {"n": 7}), ("irfft", "c", {"n": 4, "norm": "ortho"}),
    ("irfft2", "c", {"norm": "forward"}), ("irfftn", "c", {"s": (2, 5, 9)}), ("irfftn", "c", {"dim": (0, 2), "s": (5, 6)}),
]


def _input(kind: str, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 3, 5))
    return x + 1j * rng.standard_normal((4, 3, 5)) if kind == "c" else x


@pytest.mark.parametrize(("name", "kind", "kw"), CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
@pytest.mark.parametrize("loss", ["abs2", "real", "imag"])
def test_fft_values_and_gradients_equal_torch(name: str, kind: str, kw: dict, loss: str) -> None:
    data = _input(kind)
    x = tc.tensor(data, requires_grad=True)
    xt = torch.tensor(data, requires_grad=True)
    y, yt = getattr(tc.fft, name)(x, **kw), getattr(torch.fft, name)(xt, **kw)
    assert y.shape == tuple(yt.shape) and str(y.dtype) == str(yt.dtype).replace("torch.", "")
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = np.random.default_rng(3).standard_normal(y.shape)  # weights so that no symmetry hides an error
    wt = torch.tensor(w)
    if loss == "abs2":
        ((y.abs() ** 2) * tc.tensor(w)).sum().backward()
        ((yt.abs() ** 2) * wt).sum().backward()
    elif loss == "real" or y.dtype.kind != "c":
        (y.real * tc.tensor(w)).sum().backward() if y.dtype.kind == "c" else (y * tc.tensor(w)).sum().backward()
        (yt.real * wt).sum().backward() if yt.is_complex() else (yt * wt).sum().backward()
    else:
        (y.imag * tc.tensor(w)).sum().backward()
        (yt.imag * wt).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft"])
def test_c2c_and_r2c_of_real_float32_input(name: str) -> None:
    data = np.random.default_rng(1).standard_normal((3, 6)).astype(np.float32)
    x, xt = tc.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y, yt = getattr(tc.fft, name)(x, n=5), getattr(torch.fft, name)(xt, n=5)
    assert y.dtype == tc.complex64 and yt.dtype == torch.complex64
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().resolve_conj().numpy(), rtol=1e-5, atol=1e-5)
    (y.abs() ** 2).sum().backward()
    (yt.abs() ** 2).sum().backward()
    assert x.grad.dtype == tc.float32
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_frequencies_and_shifts_equal_torch() -> None:
    for n in (1, 4, 7):
        np.testing.assert_allclose(tc.fft.fftfreq(n, d=0.3).numpy(), torch.fft.fftfreq(n, d=0.3).numpy(), rtol=1e-6)
        np.testing.assert_allclose(tc.fft.rfftfreq(n, 2.0).numpy(), torch.fft.rfftfreq(n, 2.0).numpy(), rtol=1e-6)
    assert tc.fft.fftfreq(4, dtype=tc.float64).dtype == tc.float64
    data = np.arange(30.0).reshape(5, 6)
    for dim in (None, 0, 1, (0, 1), -1):
        for name in ("fftshift", "ifftshift"):
            got = getattr(tc.fft, name)(tc.tensor(data), dim=dim).numpy()
            np.testing.assert_array_equal(got, getattr(torch.fft, name)(torch.tensor(data), dim=dim).numpy())


X = np.array([-3.0, -1.5, -0.5, 0.0, 0.25, 0.7, 1.0, 2.5, 4.0])
EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan])
UNARY = [
    ("expit", X), ("erf", X), ("erfc", X), ("expm1", X), ("exp2", X), ("sinc", X),
    ("log1p", np.abs(X) + 0.1), ("gammaln", np.abs(X) + 0.1), ("digamma", np.abs(X) + 0.1), ("psi", np.abs(X) + 0.1),
    ("erfinv", np.array([-0.99, -0.5, 0.0, 0.3, 0.9])), ("logit", np.array([0.01, 0.3, 0.5, 0.9])),
    ("ndtr", X), ("ndtri", np.array([1e-6, 0.01, 0.3, 0.5, 0.8, 0.999])), ("log_ndtr", X), ("entr", np.abs(X) + 0.1),
]


@pytest.mark.parametrize(("name", "values"), UNARY, ids=[u[0] for u in UNARY])
def test_special_unary_values_and_gradients(name: str, values: np.ndarray) -> None:
    x, xt = tc.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y, yt = getattr(tc.special, name)(x), getattr(torch.special, name)(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-7, atol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("name", ["expit", "erf", "erfc", "expm1", "exp2", "sinc", "log1p", "gammaln", "ndtr",
                                  "log_ndtr", "entr", "ndtri", "erfinv", "logit"])
def test_special_edge_values_and_empty(name: str) -> None:
    with np.errstate(all="ignore"):
        got = getattr(tc.special, name)(tc.tensor(EDGES)).numpy()
    np.testing.assert_allclose(got, getattr(torch.special, name)(torch.tensor(EDGES)).numpy(), rtol=1e-12)
    assert getattr(tc.special, name)(tc.zeros(0)).shape == (0,)


def test_log_ndtr_deep_left_tail() -> None:
    x = np.array([-30.0, -20.0, -12.0, -10.5, -10.0, -9.5, -5.0, 5.0, 10.0, 30.0])
    xt = torch.tensor(x, requires_grad=True)
    t = tc.tensor(x, requires_grad=True)
    y, yt = tc.special.log_ndtr(t), torch.special.log_ndtr(xt)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), xt.grad.numpy(), rtol=1e-9)
    x32 = np.array([-30.0, -15.0, -3.0], dtype=np.float32)  # float32: Φ itself underflows below ≈ −13
    np.testing.assert_allclose(tc.special.log_ndtr(tc.tensor(x32)).numpy(),
                               torch.special.log_ndtr(torch.tensor(x32)).numpy(), rtol=1e-6)


def test_xlogy_and_xlog1py_values_and_gradients_at_zero() -> None:
    xs = np.array([0.0, 0.0, 0.0, 1.5, -2.0, 3.0])
    ys = np.array([0.0, np.nan, 2.0, 0.5, 4.0, -0.5])
    for name in ("xlogy", "xlog1py"):
        x, y = tc.tensor(xs, requires_grad=True), tc.tensor(ys, requires_grad=True)
        xt, yt = torch.tensor(xs, requires_grad=True), torch.tensor(ys, requires_grad=True)
        out, outt = getattr(tc.special, name)(x, y), getattr(torch.special, name)(xt, yt)
        np.testing.assert_allclose(out.detach().numpy(), outt.detach().numpy(), rtol=1e-12)
        keep = ~np.isnan(ys)  # the NaN row's gradient is NaN in both
        out[tc.tensor(keep)].sum().backward()
        outt[torch.tensor(keep)].sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(y.grad.numpy(), yt.grad.numpy(), rtol=1e-12)
    assert tc.special.xlog1py(tc.tensor([0.0]), tc.tensor([-1.0])).item() == 0.0


def test_reductions_polygamma_multigammaln_round() -> None:
    data = np.random.default_rng(2).standard_normal((3, 4))
    x, xt = tc.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for name, args in [("logsumexp", (1,)), ("softmax", (0,)), ("log_softmax", (1,))]:
        x.grad, xt.grad = None, None
        y, yt = getattr(tc.special, name)(x, *args), getattr(torch.special, name)(xt, *args)
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-12)
        (y * tc.tensor(np.arange(y.numel()).reshape(y.shape))).sum().backward()
        (yt * torch.arange(yt.numel()).reshape(yt.shape)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    pos = np.abs(data) + 1.2
    for n in (0, 1, 3):
        np.testing.assert_allclose(tc.special.polygamma(n, tc.tensor(pos)).numpy(),
                                   torch.special.polygamma(n, torch.tensor(pos)).numpy(), rtol=1e-9)  # tc's trigamma: ~5e-10
    np.testing.assert_allclose(tc.special.multigammaln(tc.tensor(pos), 3).numpy(),
                               torch.special.multigammaln(torch.tensor(pos), 3).numpy(), rtol=1e-12)
    r = np.array([0.5, 1.5, 2.5, -0.5, 1.2345, -2.675])
    np.testing.assert_array_equal(tc.special.round(tc.tensor(r)).numpy(), torch.special.round(torch.tensor(r)).numpy())
    np.testing.assert_allclose(tc.special.round(tc.tensor(r), decimals=2).numpy(),
                               torch.special.round(torch.tensor(r), decimals=2).numpy())
