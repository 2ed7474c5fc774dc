"""tinygrad_course: a small, readable autograd framework on numpy with PyTorch's names.

    >>> import tinygrad_course as tc
    >>> x = tc.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
"""

# ruff: noqa: A001, A004 - PyTorch's names (tc.float, tc.abs, tc.sum, …) shadow Python builtins here
# The public names. Each layer imports only the layers below it (autograd knows no Tensor; the
# tensor package registers its class with autograd when it is imported), so the order of these
# lines does not matter; tests/test_core_layout.py checks the layering.
from tinygrad_course import autograd, data, func, linalg, nn, optim
from tinygrad_course.autograd import (
    Function,
    GradcheckError,
    detect_anomaly,
    enable_grad,
    grad,
    gradcheck,
    gradgradcheck,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinygrad_course.linalg import det, matrix_exp, slogdet
from tinygrad_course.linalg import inv as inverse
from tinygrad_course.serialization import CheckpointError, load, load_safetensors, save, save_safetensors
from tinygrad_course.tensor import Tensor, cat, random, stack, where
from tinygrad_course.tensor.creation import (
    arange,
    bernoulli,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinygrad_course.tensor.device import accelerator, backends, cuda, device
from tinygrad_course.tensor.dtypes import (
    bool_,
    double,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    short,
    uint8,
)
from tinygrad_course.tensor.functions import (
    abs,
    add,
    all,
    allclose,
    amax,
    amin,
    any,
    argmax,
    argmin,
    chunk,
    clamp,
    clip,
    clone,
    cos,
    detach,
    div,
    empty,
    empty_like,
    eq,
    equal,
    erf,
    exp,
    flatten,
    flip,
    ge,
    gt,
    is_floating_point,
    is_tensor,
    isclose,
    isfinite,
    isnan,
    le,
    log,
    log2,
    log10,
    log_softmax,
    logsumexp,
    lt,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mm,
    mul,
    ne,
    neg,
    norm,
    numel,
    permute,
    pow,
    prod,
    relu,
    reshape,
    rsqrt,
    sigmoid,
    sign,
    sin,
    softmax,
    split,
    sqrt,
    square,
    squeeze,
    std,
    sub,
    sum,
    swapaxes,
    t,
    tanh,
    transpose,
    unsqueeze,
    var,
)
from tinygrad_course.tensor.printing import set_printoptions
from tinygrad_course.tensor.products import (
    addmm,
    addmv,
    baddbmm,
    bmm,
    chain_matmul,
    cross,
    dot,
    einsum,
    inner,
    kron,
    matrix_power,
    mv,
    outer,
    tensordot,
    vdot,
)
from tinygrad_course.tensor.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    seed,
    set_rng_state,
)

ger = outer  # PyTorch's older name

# PyTorch's dtype names that are also Python builtins' names.
float = float32
int = int32
bool = bool_

__all__ = [
    "CheckpointError", "Function", "Generator", "bernoulli", "default_generator", "get_rng_state", "multinomial", "normal", "poisson", "randint_like", "seed", "set_rng_state", "addmm", "addmv", "baddbmm", "bmm", "chain_matmul", "cross", "det", "dot", "einsum", "ger", "inner", "inverse", "kron", "linalg", "matrix_exp", "matrix_power", "mv", "outer", "slogdet", "tensordot", "vdot", "GradcheckError", "Tensor", "accelerator", "arange", "autograd", "backends", "bool", "bool_", "cat",
    "cuda", "data", "detect_anomaly", "func", "device", "double", "enable_grad", "eye", "float", "float16", "float32",
    "float64", "from_numpy", "full", "full_like", "get_default_dtype", "grad", "gradcheck", "gradgradcheck", "half",
    "inference_mode", "initial_seed", "int", "int8", "int16", "int32", "int64", "is_grad_enabled", "linspace", "load", "load_safetensors",
    "long", "manual_seed", "nn", "no_grad", "ones", "ones_like", "optim", "rand", "rand_like", "randint", "randn",
    "randn_like", "randperm", "random", "save", "save_safetensors", "set_default_dtype", "set_grad_enabled", "set_printoptions", "short", "stack", "tensor",
    "uint8", "where", "zeros", "zeros_like",
    "abs", "add", "all", "allclose", "amax", "amin", "any", "argmax", "argmin", "chunk", "clamp", "clip", "clone",
    "cos", "detach", "div", "empty", "empty_like", "eq", "equal", "erf", "exp", "flatten", "flip", "ge", "gt",
    "is_floating_point", "is_tensor", "isclose", "isfinite", "isnan", "le", "log", "log10", "log2", "log_softmax",
    "logsumexp", "lt", "matmul", "max", "maximum", "mean", "min", "minimum", "mm", "mul", "ne", "neg", "norm",
    "numel", "permute", "pow", "prod", "relu", "reshape", "rsqrt", "sigmoid", "sign", "sin", "softmax", "split",
    "sqrt", "square", "squeeze", "std", "sub", "sum", "swapaxes", "t", "tanh", "transpose", "unsqueeze", "var",
]
