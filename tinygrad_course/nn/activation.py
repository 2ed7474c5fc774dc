"""Activation functions as modules (the g of the lecture's a = g(z)), for use in Sequential."""

from __future__ import annotations

from tinygrad_course.nn import functional as F
from tinygrad_course.nn.module import Module
from tinygrad_course.ops.elementwise import Relu
from tinygrad_course.tensor import Tensor


class ReLU(Module):
    """g(z) = max(z, 0)."""

    def __init__(self, inplace: bool = False) -> None:
        """inplace=True overwrites the input with the result (as PyTorch's, where allowed)."""
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """max(z, 0)."""
        if self.inplace:
            return input.relu_()
        return Relu.apply(input)  # what input.relu() does, one call shorter on every step

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Tanh(Module):
    """g(z) = tanh z."""

    def forward(self, input: Tensor) -> Tensor:
        """tanh z."""
        return input.tanh()


class Sigmoid(Module):
    """g(z) = σ(z) = 1 / (1 + e⁻ᶻ)."""

    def forward(self, input: Tensor) -> Tensor:
        """σ(z)."""
        return input.sigmoid()


class LeakyReLU(Module):
    """g(z) = z for z > 0, else negative_slope · z."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        """Keep the slope for negative inputs."""
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """z or negative_slope · z."""
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """g(z) = z Φ(z) (exact, with erf) or its tanh approximation (approximate="tanh")."""

    def __init__(self, approximate: str = "none") -> None:
        """Choose the exact ("none") or "tanh" form."""
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        """z Φ(z)."""
        return input.gelu(self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """g(z) = (1/β) log(1 + e^(βz)), linear above the threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        """Keep β and the threshold."""
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        """F.softplus(z, β, threshold)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """softmax along `dim`: e^(zᵢ) / Σⱼ e^(zⱼ) (computed stably)."""

    def __init__(self, dim: int | None = None) -> None:
        """Keep the dim (None: PyTorch's legacy implicit choice, with a warning)."""
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """F.softmax(z, dim)."""
        return F.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log softmax along `dim`: zᵢ − log Σⱼ e^(zⱼ) (computed stably)."""

    def __init__(self, dim: int | None = None) -> None:
        """Keep the dim."""
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """F.log_softmax(z, dim)."""
        return F.log_softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
