"""Activation functions as modules (the g of the lecture's a = g(z)), for use in Sequential."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.nn import functional as F
from tinygrad_course.nn.module import Module, Parameter
from tinygrad_course.ops.elementwise import Relu
from tinygrad_course.tensor import Tensor, dtypes
from tinygrad_course.tensor import device as device_


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


class _Elementwise(Module):
    """An activation without options: forward applies `_fn` (a function of `F`)."""

    _fn: str = ""

    def __init__(self, inplace: bool = False) -> None:
        """inplace=True writes the result into the input and returns it (PyTorch's in-place rules)."""
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """The activation applied elementwise."""
        return getattr(F, self._fn)(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardswish(_Elementwise):
    """g(z) = z · relu6(z + 3) / 6."""

    _fn = "hardswish"


class Hardsigmoid(_Elementwise):
    """g(z) = relu6(z + 3) / 6."""

    _fn = "hardsigmoid"


class Mish(_Elementwise):
    """g(z) = z · tanh(softplus(z))."""

    _fn = "mish"


class SiLU(_Elementwise):
    """g(z) = z · σ(z)."""

    _fn = "silu"


class SELU(_Elementwise):
    """g(z) = scale · elu(z, α) with the self-normalising constants."""

    _fn = "selu"


class ReLU6(_Elementwise):
    """g(z) = min(max(z, 0), 6)."""

    _fn = "relu6"


class Softsign(Module):
    """g(z) = z / (1 + |z|)."""

    def forward(self, input: Tensor) -> Tensor:
        """F.softsign."""
        return F.softsign(input)


class Tanhshrink(Module):
    """g(z) = z − tanh z."""

    def forward(self, input: Tensor) -> Tensor:
        """F.tanhshrink."""
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """g(z) = log σ(z)."""

    def forward(self, input: Tensor) -> Tensor:
        """F.logsigmoid."""
        return F.logsigmoid(input)


class ELU(Module):
    """g(z) = z for z > 0, else α (eᶻ − 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        """Keep α."""
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """F.elu."""
        return F.elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """g(z) = max(0, z) + min(0, α (e^(z/α) − 1))."""

    def forward(self, input: Tensor) -> Tensor:
        """F.celu."""
        return F.celu(input, self.alpha, self.inplace)


class Hardtanh(Module):
    """g(z) = clamp(z, min_val, max_val)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        """Keep the bounds."""
        super().__init__()
        if min_val > max_val:
            raise ValueError(f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """F.hardtanh."""
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class GLU(Module):
    """Gated linear unit a ⊗ σ(b) over the halves of `dim`."""

    def __init__(self, dim: int = -1) -> None:
        """Keep the dim."""
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        """F.glu."""
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmin(Softmax):
    """softmax(−z) along `dim`."""

    def forward(self, input: Tensor) -> Tensor:
        """F.softmin."""
        return F.softmin(input, self.dim)


class Softshrink(Module):
    """g(z) = z − λ for z > λ, z + λ for z < −λ, 0 between."""

    def __init__(self, lambd: float = 0.5) -> None:
        """Keep λ (≥ 0)."""
        super().__init__()
        if lambd < 0:
            raise ValueError(f"Softshrink: lambd must be non-negative, got {lambd}")
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        """F.softshrink(z, λ)."""
        return F.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """g(z) = z where |z| > λ, else 0."""

    def __init__(self, lambd: float = 0.5) -> None:
        """Keep λ."""
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        """F.hardshrink(z, λ)."""
        return F.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Threshold(Module):
    """g(z) = z where z > threshold, else value."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        """Keep the threshold and the value that replaces what is not above it."""
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """F.threshold(z, threshold, value, inplace)."""
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """g(z) = z for z > 0, else a·z with a learnt slope a (one, or one per channel = dim 1), initially `init`."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None, dtype: Any = None) -> None:
        """weight: (num_parameters,) filled with init."""
        super().__init__()
        device_.check(device, "PReLU")
        if isinstance(num_parameters, bool) or not isinstance(num_parameters, int) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got {num_parameters!r}")
        self.num_parameters = num_parameters
        self.init = init
        dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
        self.weight = Parameter(np.full(num_parameters, init, dtype=dt))

    def reset_parameters(self) -> None:
        """weight = init."""
        self.weight._array[...] = self.init

    def forward(self, input: Tensor) -> Tensor:
        """F.prelu(z, weight)."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """g(z) = z for z > 0, else a·z: a ~ U(lower, upper) per element in training, (lower + upper)/2 in eval."""

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        """Keep the bounds of the random slope."""
        super().__init__()
        self.lower = lower
        self.upper = upper
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """F.rrelu(z, lower, upper, self.training, inplace)."""
        return F.rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace else "")
