"""Categorical(probs=None, logits=None): one of K classes; batch over all but the last dimension."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.distributions.utils import as_value, lazy_property, logits_to_probs, probs_to_logits
from tinygrad_course.tensor import Tensor, random
from tinygrad_course.tensor.creation import full, tensor
from tinygrad_course.tensor.dtypes import int64
from tinygrad_course.tensor.movement_methods import broadcast_tensors


class Categorical(Distribution):
    """One of K classes with probabilities p (probs, or logits normalised by softmax); log p(k) = log p_k."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.IndependentReal()}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        param = probs if probs is not None else logits
        param = param if isinstance(param, Tensor) else tensor(param)
        if param.dim() < 1:
            raise ValueError("`probs` parameter must be at least one-dimensional." if probs is not None
                             else "`logits` parameter must be at least one-dimensional.")
        if probs is not None:
            self.probs = param / param.sum(-1, keepdim=True)
        else:
            self.logits = param - param.logsumexp(-1, keepdim=True)
        self._num_events = param.shape[-1]
        super().__init__(param.shape[:-1], validate_args=validate_args)

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> tuple[int, ...]:
        return self._batch_shape + (self._num_events,)

    @property
    def support(self) -> constraints.Constraint:
        return constraints.IntegerInterval(0, self._num_events - 1)

    @property
    def mean(self) -> Tensor:
        return full(self._batch_shape, float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return full(self._batch_shape, float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Inverse-CDF draws from the library's generator (tc.manual_seed makes them reproducible)."""
        shape = self._extended_shape(sample_shape)
        p = self.probs.detach().numpy()
        cdf = np.cumsum(p, -1)
        u = random.generator().random(shape + (1,)) * cdf[..., -1:]
        idx = (np.broadcast_to(cdf, shape + (self._num_events,)) <= u).sum(-1)
        return tensor(np.minimum(idx, self._num_events - 1), dtype=int64)

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = as_value(value, self.logits).long().unsqueeze(-1)
        value, log_pmf = broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self) -> Tensor:
        min_real = float(np.finfo(self.logits.detach().numpy().dtype).min)
        return -(self.logits.clamp(min=min_real) * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        values = tensor(np.arange(self._num_events), dtype=int64).reshape((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values
