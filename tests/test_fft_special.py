"""tc.fft and tc.special: gradcheck/gradgradcheck in float64 (complex128), dtype rules, errors."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc

rng = np.random.default_rng(0)
C = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
R = rng.standard_normal((3, 4))

GRAD_CASES = [
    ("fft", C, {"n": 6, "norm": "ortho"}), ("fft", C, {"n": 2, "dim": 0}), ("ifft", C, {"norm": "forward"}),
    ("fft2", C, {"s": (2, 5)}), ("ifftn", C, {"dim": (0,), "norm": "ortho"}), ("fft", R, {"n": 5}),
    ("rfft", R, {}), ("rfft", R, {"n": 7, "norm": "forward"}), ("rfftn", R, {"s": (4, 3), "norm": "ortho"}),
    ("irfft", C, {}), ("irfft", C, {"n": 5, "norm": "ortho"}), ("irfft2", C, {"s": (2, 4)}),
    ("irfftn", C, {"dim": (0,), "norm": "forward"}), ("irfft", R, {"n": 4}),
]


@pytest.mark.parametrize(("name", "data", "kw"), GRAD_CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(GRAD_CASES)])
def test_fft_gradcheck_and_gradgradcheck(name: str, data: np.ndarray, kw: dict) -> None:
    x = tc.tensor(data, requires_grad=True)
    fn = getattr(tc.fft, name)
    assert tc.gradcheck(lambda t: fn(t, **kw), (x,))
    assert tc.gradgradcheck(lambda t: fn(t, **kw), (x,))


def test_fft_round_trips_and_dtypes() -> None:
    x = tc.tensor(R)
    np.testing.assert_allclose(tc.fft.irfft(tc.fft.rfft(x), n=4).numpy(), R, atol=1e-14)
    np.testing.assert_allclose(tc.fft.ifftn(tc.fft.fftn(tc.tensor(C))).numpy(), C, atol=1e-14)
    assert tc.fft.fft(tc.ones(4)).dtype == tc.complex64
    assert tc.fft.fft(tc.ones(4, dtype=tc.float64)).dtype == tc.complex128
    assert tc.fft.fft(tc.arange(4)).dtype == tc.complex64  # integers: the default float's complex
    assert tc.fft.irfft(tc.ones(3, dtype=tc.complex64)).dtype == tc.float32
    assert tc.fft.irfft(tc.ones(3, dtype=tc.complex128)).shape == (4,)
    assert tc.fft.rfft2(tc.ones(3, 6)).shape == (3, 4)
    assert tc.fft.fftfreq(3).dtype == tc.float32 and tc.fft.rfftfreq(4, dtype=tc.float64).dtype == tc.float64
    z = tc.tensor(C, requires_grad=True)
    tc.fft.fftshift(z).abs().sum().backward()  # a roll: gradient z/|z|
    np.testing.assert_allclose(z.grad.numpy(), C / np.abs(C))


def test_fft_errors_name_the_function_and_the_choices() -> None:
    x = tc.ones(4)
    with pytest.raises(RuntimeError, match='fft.rfft: invalid normalization mode "Ortho"; norm must be one of '
                                           '"backward", "ortho", "forward" or None'):
        tc.fft.rfft(x, norm="Ortho")
    with pytest.raises(RuntimeError, match=r"fft.fft: invalid number of data points \(0\) specified"):
        tc.fft.fft(x, n=0)
    with pytest.raises(RuntimeError, match=r"fft.fft: invalid number of data points \(0\) specified"):
        tc.fft.fft(tc.zeros(0))
    with pytest.raises(RuntimeError, match=r"fft.irfft: invalid number of data points \(0\)"):
        tc.fft.irfft(tc.ones(1))
    with pytest.raises(IndexError, match=r"fft.fft: dimension out of range \(expected to be in range of \[-1, 0\], "
                                         r"but got 2\)"):
        tc.fft.fft(x, dim=2)
    with pytest.raises(IndexError, match="fft.fft2: dimension out of range"):
        tc.fft.fft2(x)
    with pytest.raises(RuntimeError, match=r"fft.fftn: FFT dims must be unique, got \(0, -2\)"):
        tc.fft.fftn(tc.ones(2, 2), dim=(0, -2))
    with pytest.raises(RuntimeError, match="fft.fftn: when given, dim and shape arguments must have the same length"):
        tc.fft.fftn(tc.ones(2, 2), s=(2, 2), dim=(0,))
    with pytest.raises(RuntimeError, match="fft.rfft expects a real input tensor, but got complex64"):
        tc.fft.rfft(tc.ones(4, dtype=tc.complex64))


SPECIAL_GRAD = [
    ("expit", R), ("erf", R), ("erfc", R), ("expm1", R), ("exp2", R), ("sinc", R), ("log1p", np.abs(R)),
    ("gammaln", np.abs(R) + 0.5), ("digamma", np.abs(R) + 0.5), ("erfinv", R / 4), ("logit", np.abs(R) / 4 + 0.1),
    ("ndtr", R), ("ndtri", np.abs(R) / 4 + 0.1), ("log_ndtr", R * 5), ("entr", np.abs(R) + 0.1),
]


@pytest.mark.parametrize(("name", "data"), SPECIAL_GRAD, ids=[s[0] for s in SPECIAL_GRAD])
def test_special_gradcheck_and_gradgradcheck(name: str, data: np.ndarray) -> None:
    x = tc.tensor(data, requires_grad=True)
    fn = getattr(tc.special, name)
    assert tc.gradcheck(fn, (x,))
    assert tc.gradgradcheck(fn, (x,))


def test_special_binary_and_reductions_gradcheck() -> None:
    x = tc.tensor(R, requires_grad=True)
    y = tc.tensor(np.abs(R) + 0.5, requires_grad=True)
    assert tc.gradcheck(tc.special.xlog1py, (x, y)) and tc.gradgradcheck(tc.special.xlog1py, (x, y))
    assert tc.gradcheck(tc.special.xlogy, (x, y))
    assert tc.gradcheck(lambda t: tc.special.log_softmax(t, 1), (x,))
    assert tc.gradcheck(lambda t: tc.special.logsumexp(t, 0), (x,))
    assert tc.gradcheck(lambda t: tc.special.multigammaln(t, 2), (y,))


def test_special_dtypes_and_errors() -> None:
    assert tc.special.ndtr(tc.tensor([0, 1])).dtype == tc.float32  # integers: the default float
    assert tc.special.log_ndtr(tc.tensor([-40.0], dtype=tc.float64)).item() == pytest.approx(-804.6084420137538)
    assert tc.special.softmax(tc.tensor([1.0, 2.0]), 0, dtype=tc.float64).dtype == tc.float64
    assert tc.special.entr(tc.tensor([0.0, -1.0])).tolist() == [0.0, float("-inf")]
    assert tc.special.psi is tc.special.digamma
    with pytest.raises(RuntimeError, match=r"special.multigammaln: all elements must be greater than \(p-1\)/2 = 1.0"):
        tc.special.multigammaln(tc.tensor([0.5, 3.0]), 3)
    with pytest.raises(RuntimeError, match="special.multigammaln: p has to be greater than or equal to 1, got 0"):
        tc.special.multigammaln(tc.tensor([3.0]), 0)
