"""tinygrad_course: a small, readable autograd framework on numpy with PyTorch's names.

    >>> import tinygrad_course as tc
    >>> x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""

# The public names. Each layer imports only the layers below it (autograd knows no Tensor; the
# tensor package registers its class with autograd when it is imported), so the order of these
# lines does not matter; tests/test_core_layout.py checks the layering.
from tinygrad_course import autograd, data, nn, optim
from tinygrad_course.autograd import (
    Function,
    GradcheckError,
    detect_anomaly,
    enable_grad,
    grad,
    gradcheck,
    gradgradcheck,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinygrad_course.serialization import load, save
from tinygrad_course.tensor import Tensor, cat, random, stack, where
from tinygrad_course.tensor.creation import (
    arange,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinygrad_course.tensor.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
)
from tinygrad_course.tensor.random import initial_seed, manual_seed


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise max(input, other), broadcast; ties split the gradient."""
    return input.maximum(other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise min(input, other), broadcast; ties split the gradient."""
    return input.minimum(other)


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """input @ other with numpy's batched broadcasting."""
    return input.matmul(other)


__all__ = [
    "Function", "GradcheckError", "Tensor", "arange", "autograd", "bool_", "cat", "data", "detect_anomaly",
    "enable_grad", "eye", "float16", "float32", "float64", "from_numpy", "full", "full_like",
    "get_default_dtype", "grad", "gradcheck", "gradgradcheck", "initial_seed", "int32", "int64",
    "is_grad_enabled", "set_grad_enabled", "linspace", "load", "manual_seed", "matmul", "maximum", "minimum", "nn", "no_grad", "ones",
    "ones_like", "optim", "rand", "random", "rand_like", "randint", "randn", "randn_like", "randperm", "save",
    "set_default_dtype", "stack", "tensor", "where", "zeros", "zeros_like",
]
