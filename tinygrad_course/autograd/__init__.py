"""The autograd core: `Function`, grad mode, two engines with one semantics, `grad`, gradient checks.

Reading order (docs/how-autograd-works.md walks it): `function.py` (an op and its node),
`reference.py` (backpropagation, plainly), `graph.py` (topological order, un-broadcasting),
`grad_mode.py`, `api.py` (`backward`, `grad`, the engine switch), then `engine.py` (the fast
engine, same results) and `gradcheck.py`.
"""

import os

from tinygrad_course.autograd import functional
from tinygrad_course.autograd.anomaly import BackwardRecord, detect_anomaly, record_backward
from tinygrad_course.autograd.api import backward, get_engine, grad, set_engine
from tinygrad_course.autograd.function import Function, Primitive, once_differentiable, register_tensor_type
from tinygrad_course.autograd.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_course.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_course.autograd.graph import module_scope, sum_to_shape, topological_order

# TINYGRAD_COURSE_ENGINE=reference runs everything on the reference engine (CI runs the core
# tests both ways); the default is the fast engine.
set_engine(os.environ.get("TINYGRAD_COURSE_ENGINE", "fast"))

__all__ = [
    "BackwardRecord", "Function", "functional", "GradcheckError", "backward", "detect_anomaly", "enable_grad", "get_engine",
    "grad", "gradcheck", "gradgradcheck", "inference_mode", "is_grad_enabled", "module_scope", "no_grad", "once_differentiable", "Primitive", "record_backward",
    "register_tensor_type", "set_engine", "set_grad_enabled", "sum_to_shape", "topological_order",
]
