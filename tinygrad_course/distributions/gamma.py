"""Gamma(concentration, rate) and Beta(concentration1, concentration0): log_prob, entropy and
moments are differentiable; samples come from numpy through the library's generator and are not
(has_rsample is False, unlike PyTorch)."""

from __future__ import annotations

from typing import Any

from tinygrad_course.autograd import no_grad
from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, broadcast_all
from tinygrad_course.tensor import Tensor, random, where
from tinygrad_course.tensor.creation import tensor
from tinygrad_course.tensor.functions import xlogy


class Gamma(Distribution):
    """Gamma(α, β) (concentration, rate): density β^α x^(α−1) e^(−βx) / Γ(α) on x > 0."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative

    def __init__(self, concentration: Any, rate: Any, validate_args: bool | None = None) -> None:
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0.0)

    @property
    def variance(self) -> Tensor:
        return self.concentration / self.rate ** 2

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            shape = self._extended_shape(sample_shape)
            c, r = self.concentration.detach().numpy(), self.rate.detach().numpy()
            return tensor(random.generator().gamma(c, 1.0, size=shape) / r, dtype=self.rate.dtype)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, c, r = as_value(value, self.rate), self.concentration, self.rate
        return xlogy(c, r) + xlogy(c - 1, value) - r * value - c.lgamma()

    def entropy(self) -> Tensor:
        c = self.concentration
        return c - self.rate.log() + c.lgamma() + (1.0 - c) * c.digamma()


class Beta(Distribution):
    """Beta(α, β): density x^(α−1) (1 − x)^(β−1) / B(α, β) on 0 < x < 1."""

    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval

    def __init__(self, concentration1: Any, concentration0: Any, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        super().__init__(self.concentration1.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        a1, b1 = (a - 1).clamp(min=0.0), (b - 1).clamp(min=0.0)
        both_below_one = (a < 1) & (b < 1)  # then the larger concentration's end, as torch
        return where(both_below_one, (a >= b).to(a.dtype), a1 / where(both_below_one, 1.0, a1 + b1))

    @property
    def variance(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        return a * b / ((a + b) ** 2 * (a + b + 1))

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            a, b = self.concentration1.detach().numpy(), self.concentration0.detach().numpy()
            draws = random.generator().beta(a, b, size=self._extended_shape(sample_shape))
            return tensor(draws, dtype=self.concentration1.dtype)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, a, b = as_value(value, self.concentration1), self.concentration1, self.concentration0
        return xlogy(a - 1, value) + xlogy(b - 1, 1 - value) + (a + b).lgamma() - a.lgamma() - b.lgamma()

    def entropy(self) -> Tensor:
        a, b = self.concentration1, self.concentration0
        log_beta = a.lgamma() + b.lgamma() - (a + b).lgamma()
        return log_beta - (a - 1) * a.digamma() - (b - 1) * b.digamma() + (a + b - 2) * (a + b).digamma()
