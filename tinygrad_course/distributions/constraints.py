"""Constraints: what a parameter or a value must satisfy, with PyTorch's names and reprs.

`check(value)` returns a numpy bool array over the batch (event dimensions reduced), which
`Distribution` uses to raise PyTorch's ValueError when validation is on.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _array(value: Any) -> np.ndarray:
    return value.detach().numpy() if hasattr(value, "detach") else np.asarray(value)


def _bound(b: Any) -> Any:
    """A bound's repr: the number for a single element, else the array (a dependent bound)."""
    a = _array(b)
    return a.item() if a.size == 1 else a


class Constraint:
    """A region a tensor must lie in; `event_dim` is how many rightmost dimensions one event takes."""

    is_discrete = False
    event_dim = 0

    def check(self, value: Any) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Real(Constraint):
    """Any real number (not NaN)."""

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return a == a  # False for NaN only


class RealVector(Real):
    """A vector of real numbers (one event dim)."""

    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        return super().check(value).all(-1)

    def __repr__(self) -> str:
        return "IndependentConstraint(Real(), 1)"


class GreaterThan(Constraint):
    """x > lower_bound."""

    def __init__(self, lower_bound: Any) -> None:
        self.lower_bound = lower_bound

    def check(self, value: Any) -> np.ndarray:
        return _array(value) > _array(self.lower_bound)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower_bound={_bound(self.lower_bound)})"


class GreaterThanEq(GreaterThan):
    """x ≥ lower_bound."""

    def check(self, value: Any) -> np.ndarray:
        return _array(value) >= _array(self.lower_bound)


class LessThan(Constraint):
    """x < upper_bound."""

    def __init__(self, upper_bound: Any) -> None:
        self.upper_bound = upper_bound

    def check(self, value: Any) -> np.ndarray:
        return _array(value) < _array(self.upper_bound)

    def __repr__(self) -> str:
        return f"LessThan(upper_bound={_bound(self.upper_bound)})"


class Interval(Constraint):
    """lower_bound ≤ x ≤ upper_bound."""

    def __init__(self, lower_bound: Any, upper_bound: Any) -> None:
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return (_array(self.lower_bound) <= a) & (a <= _array(self.upper_bound))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(lower_bound={_bound(self.lower_bound)}, upper_bound={_bound(self.upper_bound)})"


class HalfOpenInterval(Interval):
    """lower_bound ≤ x < upper_bound."""

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return (_array(self.lower_bound) <= a) & (a < _array(self.upper_bound))


class IntegerInterval(Interval):
    """An integer in [lower_bound, upper_bound]."""

    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        return super().check(value) & (_array(value) % 1 == 0)


class IntegerGreaterThan(GreaterThanEq):
    """An integer ≥ lower_bound."""

    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        return super().check(value) & (_array(value) % 1 == 0)


class Boolean(Constraint):
    """0 or 1."""

    is_discrete = True

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return (a == 0) | (a == 1)


class OneHot(Constraint):
    """A one-hot vector: 0s and a single 1."""

    is_discrete = True
    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return (((a == 0) | (a == 1)).all(-1)) & (a.sum(-1) == 1)


class Simplex(Constraint):
    """Non-negative entries summing to 1 along the last dim."""

    event_dim = 1

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        return (a >= 0).all(-1) & (np.abs(a.sum(-1) - 1) < 1e-6)


class PositiveDefinite(Constraint):
    """A symmetric positive-definite matrix."""

    event_dim = 2

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        symmetric = np.isclose(a, np.swapaxes(a, -1, -2), atol=1e-6).all((-2, -1))
        eig = np.linalg.eigvalsh(np.where(np.isfinite(a), a, 0.0))
        return symmetric & (eig > 0).all(-1) & np.isfinite(a).all((-2, -1))


class LowerCholesky(Constraint):
    """Lower triangular with a positive diagonal."""

    event_dim = 2

    def check(self, value: Any) -> np.ndarray:
        a = _array(value)
        lower = (np.tril(a) == a).all((-2, -1))
        return lower & (np.diagonal(a, axis1=-2, axis2=-1) > 0).all(-1)


real = Real()
real_vector = RealVector()
positive = GreaterThan(0.0)
nonnegative = GreaterThanEq(0.0)
unit_interval = Interval(0.0, 1.0)
boolean = Boolean()
one_hot = OneHot()
simplex = Simplex()
nonnegative_integer = IntegerGreaterThan(0)
positive_definite = PositiveDefinite()
lower_cholesky = LowerCholesky()


class IndependentReal(RealVector):
    """Real values over the last dimension (PyTorch's ``independent(real, 1)``)."""
