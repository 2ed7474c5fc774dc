"""Random: `Generator` objects, ``generator=`` on every random factory and fill, the global generator's
state, and the distributions (checked statistically with fixed seeds, so the tests are deterministic)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.tensor import creation as C
from tinygrad_course.tensor import random as R

Generator = R.Generator


def chi2_critical(df: int, z: float = 3.09) -> float:
    """The chi-square quantile of `df` degrees of freedom at the standard normal quantile z (3.09: p = 0.001),
    by Wilson–Hilferty."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def assert_frequencies(samples: np.ndarray, probs: np.ndarray) -> None:
    """Pearson's chi-square test of the samples' category counts against probabilities `probs`."""
    probs = np.asarray(probs, dtype=np.float64) / np.sum(probs)
    counts = np.bincount(samples.ravel(), minlength=len(probs))
    assert counts[probs == 0].sum() == 0, "a category of probability 0 was drawn"
    live = probs > 0
    expected = samples.size * probs[live]
    stat = float((((counts[live] - expected) ** 2) / expected).sum())
    assert stat < chi2_critical(int(live.sum()) - 1), (stat, counts, expected)


def assert_moments(x: np.ndarray, mean: float, var: float, k: float = 5.0) -> None:
    """Sample mean and variance within k standard errors (the variance's error for a normal-ish tail)."""
    n = x.size
    assert abs(x.mean() - mean) < k * math.sqrt(var / n) + 1e-12, (x.mean(), mean)
    assert abs(x.var() - var) < k * var * math.sqrt(2 / n) * 2 + 1e-12, (x.var(), var)


# ------------------------------------------------------------------------------------------ Generator
def test_generator_seeding_api() -> None:
    g = Generator()
    assert g.device == tc.device("cpu") and str(g.device) == "cpu"
    assert g.initial_seed() == 67280421310721  # PyTorch's default seed, like the global generator's
    assert g.manual_seed(42) is g and g.initial_seed() == 42
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    assert g.seed() != s  # fresh entropy each time
    with pytest.raises(TypeError, match="seed must be an int"):
        g.manual_seed(1.5)
    with pytest.raises(RuntimeError, match="not available"):
        Generator(device="cuda")
    assert Generator("cpu").initial_seed() == Generator().initial_seed()
    assert "initial_seed=" in repr(Generator())


def test_same_seed_same_stream_and_the_global_generator_is_untouched() -> None:
    tc.manual_seed(5)
    before = R.get_rng_state().numpy().copy()
    a, b = Generator().manual_seed(123), Generator().manual_seed(123)
    for _ in range(3):
        np.testing.assert_array_equal(C.randn(4, 3, generator=a).numpy(), C.randn(4, 3, generator=b).numpy())
    np.testing.assert_array_equal(R.get_rng_state().numpy(), before)
    c = Generator().manual_seed(124)
    assert not np.array_equal(C.rand(8, generator=c).numpy(), C.rand(8, generator=Generator().manual_seed(123)).numpy())
    # A negative seed and its value modulo 2^64 give the same stream.
    np.testing.assert_array_equal(C.rand(5, generator=Generator().manual_seed(-1)).numpy(),
                                  C.rand(5, generator=Generator().manual_seed(2**64 - 1)).numpy())


# Every random factory and fill, called with a generator.
DRAWS = {
    "rand": lambda g: C.rand(2, 3, generator=g),
    "randn": lambda g: C.randn((2, 3), generator=g),
    "randint": lambda g: C.randint(0, 10, (5,), generator=g),
    "randperm": lambda g: C.randperm(7, generator=g),
    "rand_like": lambda g: C.rand_like(tc.zeros(4), generator=g),
    "randn_like": lambda g: C.randn_like(tc.zeros(4), generator=g),
    "randint_like": lambda g: C.randint_like(tc.zeros(4), 9, generator=g),
    "normal": lambda g: C.normal(tc.zeros(4), 2.0, generator=g),
    "bernoulli": lambda g: C.bernoulli(tc.full((6,), 0.5), generator=g),
    "multinomial": lambda g: C.multinomial(tc.tensor([1.0, 2.0, 3.0, 4.0]), 3, generator=g),
    "poisson": lambda g: C.poisson(tc.full((5,), 3.0), generator=g),
    "uniform_": lambda g: tc.zeros(4).uniform_(-1, 1, generator=g),
    "normal_": lambda g: tc.zeros(4).normal_(0, 1, generator=g),
    "bernoulli_": lambda g: tc.zeros(6).bernoulli_(0.5, generator=g),
    "random_": lambda g: tc.zeros(4, dtype=tc.int64).random_(0, 100, generator=g),
    "exponential_": lambda g: tc.zeros(4).exponential_(2.0, generator=g),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_every_random_op_takes_a_generator(name: str) -> None:
    draw = DRAWS[name]
    before = R.get_rng_state().numpy().copy()
    first = [draw(Generator().manual_seed(9)).numpy() for _ in range(2)]
    np.testing.assert_array_equal(first[0], first[1])
    np.testing.assert_array_equal(R.get_rng_state().numpy(), before)  # the global stream is not used
    g = Generator().manual_seed(9)
    draw(g)
    np.testing.assert_array_equal(draw(Generator().manual_seed(9)).numpy(), first[0])
    with pytest.raises(TypeError, match="generator must be"):
        draw("not a generator")
    # Without a generator, the op draws from the global generator, reproducibly under manual_seed.
    outs = []
    for _ in range(2):
        tc.manual_seed(77)
        outs.append(draw(None).numpy())
    np.testing.assert_array_equal(outs[0], outs[1])


def test_state_round_trip_replays_the_stream() -> None:
    g = Generator().manual_seed(2024)
    C.rand(3, generator=g)
    state = g.get_state()
    assert isinstance(state, tc.Tensor) and state.dtype == tc.uint8 and state.ndim == 1
    want = [C.randn(5, generator=g).numpy(), C.randint(0, 1000, (4,), generator=g).numpy()]
    assert g.set_state(state) is g
    np.testing.assert_array_equal(C.randn(5, generator=g).numpy(), want[0])
    np.testing.assert_array_equal(C.randint(0, 1000, (4,), generator=g).numpy(), want[1])
    # Into another generator: the same stream, and its initial seed too.
    h = Generator().set_state(state)
    assert h.initial_seed() == 2024
    np.testing.assert_array_equal(C.randn(5, generator=h).numpy(), want[0])
    np.testing.assert_array_equal(C.randint(0, 1000, (4,), generator=h).numpy(), want[1])
    np.testing.assert_array_equal(g.get_state().numpy()[:34], h.get_state().numpy()[:34])
    # A state is a copy: drawing does not change one already taken.
    before = state.numpy().copy()
    C.rand(10, generator=g)
    np.testing.assert_array_equal(state.numpy(), before)
    neg = Generator().manual_seed(-5)
    assert Generator().set_state(neg.get_state()).initial_seed() == -5
    for bad in (tc.zeros(3), tc.zeros(len(before), dtype=tc.uint8), tc.tensor([1, 2, 3], dtype=tc.uint8)):
        with pytest.raises(RuntimeError, match="set_state"):
            Generator().set_state(bad)


def test_state_round_trip_after_an_odd_number_of_32_bit_draws() -> None:
    # PCG64 buffers half of a 64-bit output after a 32-bit draw; the state carries it.
    g = Generator().manual_seed(3)
    R.rng(g).integers(0, 10, 1, dtype=np.int32)
    state = g.get_state()
    want = R.rng(g).integers(0, 10, 9, dtype=np.int32)
    np.testing.assert_array_equal(R.rng(g.set_state(state)).integers(0, 10, 9, dtype=np.int32), want)


def test_global_generator_state_seed_and_manual_seed() -> None:
    assert tc.manual_seed(11) is R.default_generator and R.initial_seed() == 11
    assert R.default_generator.initial_seed() == 11
    state = R.get_rng_state()
    a = tc.randn(6).numpy()
    tc.randn(100)
    R.set_rng_state(state)
    np.testing.assert_array_equal(tc.randn(6).numpy(), a)
    # The global generator seen as a Generator is the stream generator() returns.
    R.default_generator.manual_seed(12)
    assert R.initial_seed() == 12
    np.testing.assert_array_equal(C.rand(4, generator=R.default_generator).numpy(), (tc.manual_seed(12), tc.rand(4))[1].numpy())
    assert isinstance(R.generator(), np.random.Generator)
    # seed(): a fresh non-deterministic seed, returned and remembered.
    s = R.seed()
    assert R.initial_seed() == s and R.seed() != s
    # An explicit generator equals the global one seeded alike.
    tc.manual_seed(31)
    np.testing.assert_array_equal(tc.rand(5).numpy(), C.rand(5, generator=Generator().manual_seed(31)).numpy())


def test_forbidden_refuses_draws_from_any_generator() -> None:
    g = Generator()
    with R.forbidden(True, "vmap(randomness='error')"):
        with pytest.raises(RuntimeError, match="randomness='error'"):
            C.rand(2)
        with pytest.raises(RuntimeError, match="randomness='error'"):
            C.rand(2, generator=g)
    C.rand(2, generator=g)


# ------------------------------------------------------------------------------------- distributions
def test_uniform_normal_and_integer_factories() -> None:
    g = Generator().manual_seed(0)
    assert_moments(C.rand(20000, generator=g, dtype=tc.float64).numpy(), 0.5, 1 / 12)
    assert_moments(C.randn(20000, generator=g, dtype=tc.float64).numpy(), 0.0, 1.0)
    r = C.randint(3, 10, (20000,), generator=g).numpy()
    assert r.dtype == np.int64 and r.min() >= 3 and r.max() <= 9
    assert_frequencies(r - 3, np.ones(7))
    assert C.randint(5, (3, 2), generator=g).shape == (3, 2)  # randint(high, size)
    p = C.randperm(50, generator=g).numpy()
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(50))
    assert C.randperm(0).shape == (0,) and C.randperm(4, dtype=tc.int32).dtype == tc.int32
    firsts = [int(C.randperm(4, generator=g)[0]) for _ in range(4000)]
    assert_frequencies(np.array(firsts), np.ones(4))
    like = C.randint_like(tc.zeros(2, 3, dtype=tc.int32), 2, 6, generator=g)
    assert like.shape == (2, 3) and like.dtype == tc.int32 and 2 <= like.numpy().min() and like.numpy().max() <= 5
    assert C.randint_like(tc.zeros(1000), 4, generator=g).numpy().max() <= 3
    assert C.rand_like(tc.zeros(2, dtype=tc.float64)).dtype == tc.float64


def test_normal_overloads() -> None:
    g = Generator().manual_seed(1)
    mean = tc.tensor([[-3.0], [5.0]], dtype=tc.float64)
    std = tc.tensor([0.5, 2.0, 1.0], dtype=tc.float64)
    many = np.stack([C.normal(mean, std, generator=g).numpy() for _ in range(4000)])  # tensor, tensor
    assert many.shape == (4000, 2, 3)
    for i in range(2):
        for j in range(3):
            assert_moments(many[:, i, j], mean.numpy()[i, 0], std.numpy()[j] ** 2)
    x = C.normal(tc.full((20000,), 2.0), 3.0, generator=g)  # tensor, float
    assert x.shape == (20000,) and x.dtype == tc.float32
    assert_moments(x.numpy().astype(np.float64), 2.0, 9.0)
    assert_moments(C.normal(tc.full((20000,), 1.0)).numpy().astype(np.float64), 1.0, 1.0)  # std defaults to 1
    y = C.normal(-1.0, tc.full((20000,), 0.5, dtype=tc.float64), generator=g)  # float, tensor
    assert y.dtype == tc.float64
    assert_moments(y.numpy(), -1.0, 0.25)
    z = C.normal(4.0, 2.0, (200, 100), generator=g)  # float, float, size
    assert z.shape == (200, 100) and z.dtype == tc.get_default_dtype()
    assert_moments(z.numpy().astype(np.float64), 4.0, 4.0)
    assert C.normal(0.0, 1.0, size=(3,), dtype=tc.float64, requires_grad=True).requires_grad
    assert (C.normal(tc.ones(3), 0.0).numpy() == 1.0).all()
    with pytest.raises(TypeError, match="give size"):
        C.normal(0.0, 1.0)
    with pytest.raises(TypeError, match="size and dtype"):
        C.normal(tc.zeros(2), 1.0, (2,))
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        C.normal(tc.zeros(2), -1.0)
    with pytest.raises(RuntimeError, match="std >= 0.0"):
        C.normal(0.0, tc.tensor([1.0, -0.5]))
    with pytest.raises(RuntimeError, match="do not broadcast"):
        C.normal(tc.zeros(2), tc.ones(3))
    with pytest.raises(RuntimeError, match="floating-point"):
        C.normal(tc.tensor([1, 2]), 1.0)


def test_bernoulli_and_poisson() -> None:
    g = Generator().manual_seed(2)
    p = tc.tensor([0.0, 0.1, 0.5, 0.9, 1.0], dtype=tc.float64)
    draws = np.stack([C.bernoulli(p, generator=g).numpy() for _ in range(4000)])
    assert draws.dtype == np.float64 and set(np.unique(draws)) <= {0.0, 1.0}
    for j, q in enumerate(p.tolist()):
        assert abs(draws[:, j].mean() - q) < 5 * math.sqrt(q * (1 - q) / 4000) + 1e-12
    b = C.bernoulli(tc.zeros(20000), 0.3, generator=g)  # p overrides input's values
    assert b.dtype == tc.float32 and abs(b.numpy().mean() - 0.3) < 5 * math.sqrt(0.21 / 20000)
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        C.bernoulli(tc.tensor([0.5, 1.5]))
    with pytest.raises(RuntimeError, match=r"\[0, 1\]"):
        C.bernoulli(tc.zeros(2), 2.0)
    with pytest.raises(RuntimeError, match="floating-point"):
        C.bernoulli(tc.tensor([0, 1]))
    rates = tc.tensor([0.0, 0.5, 4.0, 30.0], dtype=tc.float64)
    counts = np.stack([C.poisson(rates, generator=g).numpy() for _ in range(5000)])
    assert counts.dtype == np.float64 and (counts == np.round(counts)).all() and (counts[:, 0] == 0).all()
    for j, lam in enumerate(rates.tolist()[1:], 1):
        assert_moments(counts[:, j], lam, lam)
    assert C.poisson(tc.full((2, 2), 3.0)).shape == (2, 2)
    with pytest.raises(RuntimeError, match="Poisson rate"):
        C.poisson(tc.tensor([1.0, -1.0]))
    with pytest.raises(RuntimeError, match="floating-point"):
        C.poisson(tc.tensor([1, 2]))


def test_multinomial_with_replacement_frequencies() -> None:
    g = Generator().manual_seed(3)
    w = np.array([1.0, 0.0, 2.0, 3.0, 4.0, 0.0])
    s = C.multinomial(tc.tensor(w), 20000, replacement=True, generator=g)
    assert s.shape == (20000,) and s.dtype == tc.int64
    assert_frequencies(s.numpy(), w)
    rows = np.array([[0.0, 0.0, 1.0], [5.0, 1.0, 4.0]])
    s2 = C.multinomial(tc.tensor(rows), 10000, True, generator=g).numpy()
    assert s2.shape == (2, 10000) and (s2[0] == 2).all()
    assert_frequencies(s2[1], rows[1])
    tiny = C.multinomial(tc.tensor([1e-30, 0.0, 1e-30]), 1000, True, generator=g).numpy()  # weights need not sum to 1
    assert set(tiny.tolist()) == {0, 2}
    assert C.multinomial(tc.tensor([[1.0, 2.0]]), 7, True).shape == (1, 7)  # more samples than categories


def test_multinomial_without_replacement() -> None:
    g = Generator().manual_seed(4)
    w = np.array([1.0, 2.0, 3.0, 4.0, 10.0])
    rows = tc.tensor(np.tile(w, (4000, 1)))
    s = C.multinomial(rows, 3, generator=g).numpy()
    assert s.shape == (4000, 3)
    assert all(len(set(r)) == 3 for r in s.tolist())  # distinct in every row
    assert_frequencies(s[:, 0], w)  # the first draw is proportional to the weights
    # The second, given the first: proportional to the weights left.
    second = s[s[:, 0] == 4][:, 1]
    assert_frequencies(second, np.where(np.arange(5) == 4, 0.0, w))
    full = C.multinomial(tc.tensor(w), 5, generator=g).numpy()
    assert sorted(full.tolist()) == [0, 1, 2, 3, 4]
    z = C.multinomial(tc.tensor([0.0, 3.0, 0.0, 1.0]), 4, generator=g).numpy()  # zero weights come last
    assert set(z[:2].tolist()) == {1, 3} and set(z[2:].tolist()) == {0, 2}
    one = C.multinomial(tc.tensor([0.0, 1.0, 0.0]), 1, generator=g)
    assert one.tolist() == [1]


@pytest.mark.parametrize(("args", "message"), [
    ((tc.tensor([1.0, 2.0]), 3), "without replacement"),
    ((tc.tensor([1.0, -1.0]), 1), "element < 0"),
    ((tc.tensor([1.0, float("nan")]), 1, True), "nan"),
    ((tc.tensor([1.0, float("inf")]), 1), "inf"),
    ((tc.tensor([[1.0, 2.0], [0.0, 0.0]]), 1, True), "sum of probabilities"),
    ((tc.tensor([1.0, 2.0]), 0), "n_sample <= 0"),
    ((tc.ones(2, 2, 2), 1), "1 or 2 dim"),
    ((tc.tensor(1.0), 1), "1 or 2 dim"),
    ((tc.tensor([1, 2]), 1), "floating-point"),
])
def test_multinomial_errors(args: tuple, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        C.multinomial(*args)


def test_in_place_fills() -> None:
    g = Generator().manual_seed(6)
    n = 20000
    assert_moments(tc.zeros(n, dtype=tc.float64).uniform_(-2, 4, generator=g).numpy(), 1.0, 36 / 12)
    assert_moments(tc.zeros(n, dtype=tc.float64).normal_(3, 0.5, generator=g).numpy(), 3.0, 0.25)
    assert_moments(tc.zeros(n, dtype=tc.float64).exponential_(4.0, generator=g).numpy(), 0.25, 1 / 16, k=6)
    b = tc.zeros(n).bernoulli_(0.2, generator=g).numpy()
    assert abs(b.mean() - 0.2) < 5 * math.sqrt(0.16 / n)
    bt = tc.zeros(2000, 2).bernoulli_(tc.tensor([0.0, 1.0]), generator=g).numpy()  # a tensor of probabilities
    assert (bt[:, 0] == 0).all() and (bt[:, 1] == 1).all()
    r = tc.zeros(n, dtype=tc.int64).random_(2, 7, generator=g).numpy()
    assert_frequencies(r - 2, np.ones(5))
    r10 = tc.zeros(n, dtype=tc.int64).random_(10, generator=g).numpy()  # one number is `to`, as in PyTorch
    assert_frequencies(r10, np.ones(10))
    big = tc.zeros(1000).random_(generator=g).numpy()
    assert big.min() >= 0 and big.max() < 2**24 and big.max() > 2**20
    for fill, message in [(lambda t: t.uniform_(2, 1), "from=2 > to=1"), (lambda t: t.normal_(0, -1), "std >= 0.0"),
                          (lambda t: t.bernoulli_(1.5), r"\[0, 1\]"), (lambda t: t.random_(5, 5), "less than 'to'"),
                          (lambda t: t.exponential_(0.0), "lambda > 0.0")]:
        with pytest.raises(RuntimeError, match=message):
            fill(tc.zeros(3))
