"""Loss modules: thin wrappers that keep the options of the functions in `functional_losses`."""

from __future__ import annotations

from tinygrad_course.nn.functional_losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    check_reduction,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
)
from tinygrad_course.nn.module import Module
from tinygrad_course.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        check_reduction(type(self).__name__, reduction)
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error (x − y)², reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.mse_loss."""
        return mse_loss(input, target, self.reduction)


class L1Loss(_Loss):
    """Mean absolute error |x − y|, reduced."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.l1_loss."""
        return l1_loss(input, target, self.reduction)


class HuberLoss(_Loss):
    """½d² for |d| < δ, else δ(|d| − ½δ), with d = x − y, reduced."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        """Keep the reduction and δ."""
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.huber_loss."""
        return huber_loss(input, target, self.reduction, self.delta)


class CrossEntropyLoss(_Loss):
    """−log softmax(x)_y with optional class weights, ignore_index and label smoothing (a buffer `weight`)."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        """Keep the options; `weight` (C,) is registered as a buffer, as in PyTorch."""
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.cross_entropy."""
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_Loss):
    """−w_y x_y for log-probabilities x (use after LogSoftmax)."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        """Keep the options; `weight` (C,) is a buffer."""
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.nll_loss."""
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """−w [y log x + (1 − y) log(1 − x)] for probabilities x."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        """Keep the options; `weight` (broadcast to the input) is a buffer."""
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.binary_cross_entropy."""
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable formula, with optional pos_weight per class."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        """Keep the options; `weight` and `pos_weight` are buffers."""
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """F.binary_cross_entropy_with_logits."""
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
