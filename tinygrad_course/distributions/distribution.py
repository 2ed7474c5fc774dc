"""`Distribution`: the base class (PyTorch's ``torch.distributions.Distribution``).

Shapes follow PyTorch: a sample has shape ``sample_shape + batch_shape + event_shape``; log_prob
returns ``sample_shape + batch_shape``. Validation is on by default (as in PyTorch): parameters are
checked against `arg_constraints` when built, values against `support` in log_prob/cdf.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.autograd import no_grad
from tinygrad_course.distributions import constraints
from tinygrad_course.tensor import Tensor


class Distribution:
    """The base of every distribution, PyTorch's API: batch_shape, event_shape, sample, rsample, log_prob, entropy, mean, variance; parameter and value checks when validate_args."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True
    arg_constraints: dict[str, constraints.Constraint] = {}
    support: Any = None

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turn argument and value checks on or off for distributions made afterwards (on by default, as PyTorch)."""
        if value not in (True, False):
            raise ValueError("set_default_validate_args: expected True or False")
        Distribution._validate_args = value

    def __init__(self, batch_shape: Any = (), event_shape: Any = (), validate_args: bool | None = None) -> None:
        self._batch_shape, self._event_shape = tuple(batch_shape), tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            for param, constraint in self.arg_constraints.items():
                if param not in self.__dict__:
                    continue  # a parameter not given (logits when probs was), as PyTorch skips lazy ones
                value = self.__dict__[param]
                if not np.all(constraint.check(value)):
                    raise ValueError(
                        f"Expected parameter {param} (Tensor of shape {tuple(value.shape)}) of distribution "
                        f"{self!r} to satisfy the constraint {constraint!r}, but found invalid values:\n{value}"
                    )

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """The shape of the batch of independent distributions this object holds."""
        return self._batch_shape

    @property
    def event_shape(self) -> tuple[int, ...]:
        """The shape of one sample of one distribution (() for scalar ones, (d,) for MultivariateNormal)."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> tuple[int, ...]:
        sample_shape = (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)
        return sample_shape + self._batch_shape + self._event_shape

    def sample(self, sample_shape: Any = ()) -> Tensor:
        """Draws without a graph (reparameterized distributions reuse rsample)."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        """Reparameterised samples x = g(θ, ε): gradients flow to the parameters θ."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample (has_rsample is False)")

    def sample_n(self, n: int) -> Tensor:
        """n samples (sample((n,)), PyTorch's older name)."""
        return self.sample((n,))

    def log_prob(self, value: Tensor) -> Tensor:
        """log p(value), one number per batch element."""
        raise NotImplementedError

    def cdf(self, value: Tensor) -> Tensor:
        """P(X ≤ value)."""
        raise NotImplementedError

    def icdf(self, value: Tensor) -> Tensor:
        """The inverse of cdf: the x with P(X ≤ x) = value."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """H = −E[log p(X)]."""
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """e^H, the exponential of the entropy."""
        return self.entropy().exp()

    @property
    def mean(self) -> Tensor:
        """E[X]."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mean")

    @property
    def mode(self) -> Tensor:
        """The most probable value."""
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self) -> Tensor:
        """Var[X] = E[(X − E X)²]."""
        raise NotImplementedError(f"{type(self).__name__} does not implement variance")

    @property
    def stddev(self) -> Tensor:
        """√Var[X]."""
        return self.variance.sqrt()

    def _validate_sample(self, value: Any) -> None:
        """PyTorch's checks of a value: a Tensor, broadcastable to batch+event shape, in the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim = len(self._event_shape)
        actual, expected = tuple(value.shape), self._batch_shape + self._event_shape
        if actual[len(actual) - event_dim:] != self._event_shape:
            raise ValueError(f"The right-most size of value must match event_shape: {actual} vs {self._event_shape}.")
        for i, j in zip(reversed(actual), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {actual} vs {expected}.")
        if self.support is not None and not np.all(self.support.check(value)):
            raise ValueError(
                f"Expected value argument (Tensor of shape {actual}) to be within the support "
                f"({self.support!r}) of the distribution {self!r}, but found invalid values:\n{value}"
            )

    def __repr__(self) -> str:
        parts = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                v = self.__dict__[name]
                parts.append(f"{name}: {v.item() if v.numel() == 1 else tuple(v.shape)}")
        return f"{type(self).__name__}({', '.join(parts)})"
