"""Learning-rate schedules: η as a function of the epoch, PyTorch's torch.optim.lr_scheduler.

Each scheduler writes the new η into every ``param_group["lr"]`` of its optimizer when
``step()`` is called (once per epoch, after ``optimizer.step()``). Like PyTorch, the schedules
are computed in their chainable (recursive) form from the current ``group["lr"]``; the closed
forms in the docstrings are what they equal when nothing else changes the rates.
"""

from tinygrad_course.optim.lr_scheduler.base import LRScheduler
from tinygrad_course.optim.lr_scheduler.composite import ChainedScheduler, SequentialLR
from tinygrad_course.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from tinygrad_course.optim.lr_scheduler.decay import (
    ConstantLR,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    PolynomialLR,
    StepLR,
)
from tinygrad_course.optim.lr_scheduler.plateau import ReduceLROnPlateau

__all__ = [
    "ChainedScheduler", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ExponentialLR",
    "LRScheduler", "LambdaLR", "LinearLR", "MultiStepLR", "OneCycleLR", "PolynomialLR", "ReduceLROnPlateau",
    "SequentialLR", "StepLR",
]
