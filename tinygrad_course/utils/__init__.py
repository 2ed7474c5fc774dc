"""PyTorch's ``torch.utils`` names that training scripts import: ``tc.utils.data``."""

from tinygrad_course.utils import data

__all__ = ["data"]
