"""The Tensor and everything that makes one: `Tensor` (tensor.py, with its method groups in
math_methods.py, reduce_methods.py and movement_methods.py), factories (creation.py), dtypes
(dtypes.py) and the seeded generator (random.py)."""

from tinygrad_course.tensor.math_methods import where
from tinygrad_course.tensor.movement_methods import cat, pad, shape_arg, stack
from tinygrad_course.tensor.reduce_methods import Dim, ValuesIndices
from tinygrad_course.tensor.tensor import Tensor

__all__ = ["Dim", "Tensor", "ValuesIndices", "cat", "pad", "shape_arg", "stack", "where"]
