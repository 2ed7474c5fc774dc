"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril), reparameterized
through the Cholesky factor L (Σ = L Lᵀ): rsample = loc + L ε."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_course import linalg
from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import randn, tensor


def _shape(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(np.broadcast_shapes(*shapes))


def batch_mahalanobis(L: Tensor, x: Tensor) -> Tensor:
    """‖L⁻¹ x‖² over the last dimension, L broadcast against x's batch."""
    n = x.shape[-1]
    batch = _shape(L.shape[:-2], x.shape[:-1])
    y = linalg.solve(L.expand(*batch, n, n), x.expand(*batch, n).unsqueeze(-1)).squeeze(-1)
    return (y ** 2).sum(-1)


class MultivariateNormal(Distribution):
    """N(μ, Σ) in d dims, given Σ, its inverse or its Cholesky factor L (Σ = L Lᵀ); rsample x = μ + L ε."""

    arg_constraints = {
        "loc": constraints.real_vector,
        "covariance_matrix": constraints.positive_definite,
        "precision_matrix": constraints.positive_definite,
        "scale_tril": constraints.lower_cholesky,
    }
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc: Any, covariance_matrix: Any = None, precision_matrix: Any = None,
                 scale_tril: Any = None, validate_args: bool | None = None) -> None:
        loc = loc if isinstance(loc, Tensor) else tensor(loc)
        if loc.dim() < 1:
            raise ValueError("loc must be at least one-dimensional.")
        given = [(k, v) for k, v in (("covariance_matrix", covariance_matrix), ("precision_matrix", precision_matrix),
                                     ("scale_tril", scale_tril)) if v is not None]
        if len(given) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        name, matrix = given[0]
        matrix = matrix if isinstance(matrix, Tensor) else tensor(matrix, dtype=loc.dtype)
        if matrix.dim() < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional leading batch dimensions")
        n = loc.shape[-1]
        batch_shape = _shape(matrix.shape[:-2], loc.shape[:-1])
        self.__dict__[name] = matrix.expand(*batch_shape, n, n)
        self.loc = loc.expand(*batch_shape, n)
        super().__init__(batch_shape, (n,), validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix.tril()  # only the lower triangle is read, as in torch
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = linalg.cholesky(linalg.inv(matrix))

    @property
    def scale_tril(self) -> Tensor:
        return self.__dict__.get("scale_tril", self._unbroadcasted_scale_tril.expand(*self._batch_shape, *self._event_shape * 2))

    @property
    def covariance_matrix(self) -> Tensor:
        if "covariance_matrix" in self.__dict__:
            return self.__dict__["covariance_matrix"]
        L = self._unbroadcasted_scale_tril
        return (L @ L.mT).expand(*self._batch_shape, *self._event_shape * 2)

    @property
    def precision_matrix(self) -> Tensor:
        if "precision_matrix" in self.__dict__:
            return self.__dict__["precision_matrix"]
        return linalg.inv(self.covariance_matrix)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        return (self._unbroadcasted_scale_tril ** 2).sum(-1).expand(*self._batch_shape, *self._event_shape)

    def _half_log_det(self) -> Tensor:
        return self._unbroadcasted_scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + (self._unbroadcasted_scale_tril @ eps.unsqueeze(-1)).squeeze(-1)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        diff = as_value(value, self.loc) - self.loc
        M = batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        n = self._event_shape[0]
        return -0.5 * (n * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self) -> Tensor:
        n = self._event_shape[0]
        H = 0.5 * n * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return H.expand(*self._batch_shape) if self._batch_shape else H
