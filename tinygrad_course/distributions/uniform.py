"""Uniform(low, high): constant density on [low, high), reparameterized."""

from __future__ import annotations

from typing import Any

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, broadcast_all
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import rand


class Uniform(Distribution):
    """U(low, high): density 1/(high − low) on [low, high); rsample x = low + (high − low) u."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        self.arg_constraints = {"low": constraints.LessThan(self.high), "high": constraints.GreaterThan(self.low)}
        super().__init__(self.low.shape, validate_args=validate_args)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.Interval(self.low, self.high)

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def mode(self) -> Tensor:
        return self.high * float("nan")

    @property
    def stddev(self) -> Tensor:
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.low)
        inside = (self.low <= value).to(self.low.dtype) * (self.high > value).to(self.low.dtype)
        return inside.log() - (self.high - self.low).log()

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.low)
        return ((value - self.low) / (self.high - self.low)).clamp(min=0.0, max=1.0)

    def icdf(self, value: Any) -> Tensor:
        value = as_value(value, self.low)
        return value * (self.high - self.low) + self.low

    def entropy(self) -> Tensor:
        return (self.high - self.low).log()
