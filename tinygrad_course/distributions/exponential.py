"""Exponential(rate): density rate·e^(−rate·x) on x ≥ 0, reparameterized (−log(1−u)/rate)."""

from __future__ import annotations

from typing import Any

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, broadcast_all
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import rand, zeros_like


class Exponential(Distribution):
    """Exponential(λ): density λ e^(−λx) on x ≥ 0; rsample x = −ln(1 − u)/λ."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> Tensor:
        return zeros_like(self.rate)

    @property
    def stddev(self) -> Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> Tensor:
        return self.rate ** -2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = rand(self._extended_shape(sample_shape), dtype=self.rate.dtype)
        return -(-u).log1p() / self.rate

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * as_value(value, self.rate)

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - (-self.rate * as_value(value, self.rate)).exp()

    def icdf(self, value: Any) -> Tensor:
        return -(-as_value(value, self.rate)).log1p() / self.rate

    def entropy(self) -> Tensor:
        return 1.0 - self.rate.log()
