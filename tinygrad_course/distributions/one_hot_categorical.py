"""OneHotCategorical(probs=None, logits=None): a Categorical whose samples are one-hot vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.distributions import constraints
from tinygrad_course.distributions.categorical import Categorical
from tinygrad_course.distributions.distribution import Distribution
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import tensor


class OneHotCategorical(Distribution):
    """Categorical, with each sample a one-hot vector of length K."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.IndependentReal()}
    support = constraints.one_hot

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        self._categorical = Categorical(probs, logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:], validate_args=False)
        if validate_args is not None:
            self._validate_args = validate_args

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    def _one_hot(self, index: Tensor) -> Tensor:
        n = self._event_shape[0]
        return tensor(np.eye(n)[index.numpy()], dtype=self.probs.dtype)

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def mode(self) -> Tensor:
        return self._one_hot(self.probs.argmax(-1))

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self._one_hot(self._categorical.sample(sample_shape))

    def log_prob(self, value: Any) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self) -> Tensor:
        return self._categorical.entropy()

    def __repr__(self) -> str:
        return repr(self._categorical).replace("Categorical", "OneHotCategorical", 1)
