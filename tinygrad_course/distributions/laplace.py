"""Laplace(loc, scale): density e^(−|x−loc|/scale)/(2·scale), reparameterized."""

from __future__ import annotations

import math
from typing import Any

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, broadcast_all, eps_of
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import rand


class Laplace(Distribution):
    """Laplace(μ, b): density e^(−|x − μ|/b) / (2b); rsample by the inverse CDF."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def stddev(self) -> Tensor:
        return math.sqrt(2) * self.scale

    @property
    def variance(self) -> Tensor:
        return 2 * self.scale ** 2

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = eps_of(self.loc)
        u = rand(self._extended_shape(sample_shape), dtype=self.loc.dtype) * (2 - eps) + (eps - 1)  # in (eps−1, 1)
        return self.loc - self.scale * u.sign() * (-u.abs()).log1p()

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return -(2 * self.scale).log() - (as_value(value, self.loc) - self.loc).abs() / self.scale

    def cdf(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        d = as_value(value, self.loc) - self.loc
        return 0.5 - 0.5 * d.sign() * (-d.abs() / self.scale).expm1()

    def icdf(self, value: Any) -> Tensor:
        term = as_value(value, self.loc) - 0.5
        return self.loc - self.scale * term.sign() * (-2 * term.abs()).log1p()

    def entropy(self) -> Tensor:
        return 1 + (2 * self.scale).log()


