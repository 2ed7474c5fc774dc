"""Poisson(rate): counts with mean rate; log_prob is differentiable in rate, samples are not."""

from __future__ import annotations

from typing import Any

from tinygrad_course.autograd import no_grad
from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, broadcast_all
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import poisson
from tinygrad_course.tensor.functions import xlogy


class Poisson(Distribution):
    """Poisson(λ): p(k) = λ^k e^(−λ) / k! on k = 0, 1, 2, …"""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate: Any, validate_args: bool | None = None) -> None:
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.rate

    @property
    def mode(self) -> Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> Tensor:
        return self.rate

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return poisson(self.rate.detach().expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.rate)
        return xlogy(value, self.rate) - self.rate - (value + 1).lgamma()
