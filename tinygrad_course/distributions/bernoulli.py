"""Bernoulli(probs=None, logits=None): a coin with P(1) = probs = sigmoid(logits)."""

from __future__ import annotations

from typing import Any

from tinygrad_course.autograd import no_grad
from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import (
    as_value,
    broadcast_all,
    lazy_property,
    logits_to_probs,
    probs_to_logits,
    softplus,
)
from tinygrad_course.tensor import Tensor, where
from tinygrad_course.tensor.creation import bernoulli


def bce_with_logits(logits: Tensor, target: Tensor) -> Tensor:
    """Elementwise −[t·log σ(x) + (1−t)·log(1−σ(x))] = softplus(x) − t·x."""
    return softplus(logits) - target * logits


class Bernoulli(Distribution):
    """Bernoulli(p): 1 with probability p, else 0; log p(x) = x log p + (1 − x) log(1 − p) (probs or logits)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        super().__init__(self._param.shape, validate_args=validate_args)

    @property
    def _param(self) -> Tensor:
        return self.__dict__["probs"] if "probs" in self.__dict__ else self.__dict__["logits"]

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return where(self.probs == 0.5, float("nan"), mode)

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        with no_grad():
            return bernoulli(self.probs.detach().expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, as_value(value, self.logits))
        return -bce_with_logits(logits, value.to(logits.dtype))

    def entropy(self) -> Tensor:
        return bce_with_logits(self.logits, self.probs)
