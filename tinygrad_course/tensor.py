"""`Tensor`: a numpy array plus a node in the autograd graph, with PyTorch's names.

Every differentiable method calls one `Function.apply` (see ops/) or is a short composition of
such methods, so a reader can jump from ``a * b`` to ``Mul`` in one step.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from tinygrad_course import autograd, dtypes
from tinygrad_course.ops import elementwise as E
from tinygrad_course.ops import matmul as M
from tinygrad_course.ops import movement as V
from tinygrad_course.ops import reduce as R

Dim = int | Sequence[int] | None


class ValuesIndices(NamedTuple):
    """What `max(dim)`/`min(dim)` return, like PyTorch's ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


def _dtype_of_python(value: Any, arr: np.ndarray) -> np.dtype:
    """PyTorch's inference: Python floats → default float, ints → int64, bools → bool."""
    kind = arr.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype()
    if kind in "iu":
        return dtypes.int64
    if kind == "b":
        return dtypes.bool_
    raise TypeError(
        f"Tensor: cannot make a tensor from {type(value).__name__} data (numpy dtype {arr.dtype}); "
        "accepted: numbers, bools, (nested) lists/tuples of them, numpy arrays, Tensors"
    )


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    if isinstance(data, Tensor):
        return np.array(data.data, dtype=dtype)
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "fiub":
            raise TypeError(
                f"Tensor: numpy arrays of dtype {data.dtype} are not supported; "
                "accepted: floating, integer and bool arrays"
            )
        return np.array(data, dtype=dtype)
    if isinstance(data, (str, bytes)):
        raise TypeError(
            f"Tensor: cannot make a tensor from a {type(data).__name__} ({data!r}); "
            "accepted: numbers, bools, (nested) lists/tuples of them, numpy arrays, Tensors"
        )
    try:
        arr = np.array(data)
    except ValueError as err:
        raise ValueError(
            "Tensor: ragged nested sequence: every list at the same depth must have the same "
            f"length to form a rectangular tensor ({err})"
        ) from None
    if isinstance(data, np.generic):
        inferred = arr.dtype
        if inferred.kind not in "fiub":
            _dtype_of_python(data, arr)
    else:
        inferred = _dtype_of_python(data, arr)
    return arr.astype(dtype if dtype is not None else inferred, copy=False)


class Tensor:
    """A multi-dimensional array that records the ops applied to it, for reverse-mode autodiff."""

    __slots__ = ("data", "grad", "_requires_grad", "grad_fn", "_hooks", "__weakref__")
    # numpy should hand `ndarray * Tensor` to Tensor.__rmul__ instead of looping over elements.
    __array_ufunc__ = None

    data: np.ndarray
    grad: Tensor | None
    grad_fn: autograd.Function | None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        """Make a leaf tensor from numbers, nested lists, a numpy array (copied) or a Tensor."""
        self.data = _to_array(data, None if dtype is None else np.dtype(dtype))
        self.grad = None
        self.grad_fn = None
        self._hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: np.ndarray, grad_fn: autograd.Function | None) -> Tensor:
        """Wrap an array without copying or checks (internal fast path)."""
        t = Tensor.__new__(Tensor)
        t.data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._hooks = None
        t._requires_grad = grad_fn is not None
        return t

    def _const(self, value: Any) -> Tensor:
        """A constant operand for `self op value`: Python numbers take self's dtype, like PyTorch."""
        if isinstance(value, Tensor):
            return value
        if isinstance(value, np.ndarray):
            return Tensor._make(value, None)
        if isinstance(value, (bool, int, float, np.number, np.bool_)):
            dtype = self.data.dtype
            if isinstance(value, (float, np.floating)) and dtype.kind != "f":
                dtype = dtypes.get_default_dtype()
            return Tensor._make(np.asarray(value, dtype=dtype), None)
        return Tensor(value)

    # ----------------------------------------------------------------- attributes
    @property
    def requires_grad(self) -> bool:
        """Whether gradients are computed for this tensor."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set `requires_grad` in place (leaves only; only floating dtypes may require grad)."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad of leaf tensors; this one was "
                f"made by {self.grad_fn.name()}. Use .detach() for a tensor without history"
            )
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"requires_grad: only floating-point tensors can require gradients, got dtype "
                f"{self.data.dtype} (shape {self.shape}); build it from floats or pass dtype=float32"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension."""
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the elements."""
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no grad_fn); only leaves get ``.grad`` by default."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.shape
        return self.shape[self._dim(dim, "size")]

    def dim(self) -> int:
        """The number of dimensions."""
        return self.data.ndim

    def numel(self) -> int:
        """The number of elements."""
        return int(self.data.size)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar, got shape {self.shape}"
            )
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory); like PyTorch, refuses a tensor that requires grad."""
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.data

    def tolist(self) -> Any:
        """The elements as (nested) Python lists."""
        return self.data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self.data.size} elements is ambiguous; use .any() or .all()")
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} {self.shape}")
        return int(self.data.item())

    # Tensors are compared elementwise, so they are hashed by identity (as in PyTorch).
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_):
            extra += f", dtype={self.data.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf into ``.grad`` of each leaf (`gradient` = ∂c/∂self for non-scalars)."""
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    def detach(self) -> Tensor:
        """The same data (shared) cut off from the graph: requires_grad=False, no grad_fn."""
        return Tensor._make(self.data, None)

    def retain_grad(self) -> None:
        """Ask backward to fill ``.grad`` of this non-leaf tensor too."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: can't retain_grad on a tensor that has requires_grad=False")
            return
        node = self.grad_fn
        if node._retained is None:
            node._retained = []
        if not any(ref() is self for ref in node._retained):
            node._retained.append(weakref.ref(self))

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Callable[[], None]:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a function that removes the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        owner: Any = self if self.grad_fn is None else self.grad_fn
        if owner._hooks is None:
            owner._hooks = []
        owner._hooks.append(hook)

        def remove() -> None:
            if hook in owner._hooks:
                owner._hooks.remove(hook)

        return remove

    def _sum_to_shape(self, shape: tuple[int, ...], node: Any = None) -> Tensor:
        """Sum a broadcast gradient back to `shape` (the one place broadcasting is undone)."""
        lead = self.ndim - len(shape)
        if lead < 0:
            raise RuntimeError(f"{node!r}: gradient of shape {self.shape} cannot be summed to shape {shape}")
        axes = tuple(range(lead)) + tuple(lead + d for d, n in enumerate(shape) if n == 1 and self.shape[lead + d] != 1)
        out = R.Sum.apply(self, axis=axes, keepdim=True) if axes else self
        out = V.Reshape.apply(out, shape=shape) if out.shape != shape else out
        if out.shape != shape:
            raise RuntimeError(f"{node!r}: returned a gradient of shape {self.shape} for an input of shape {shape}")
        return out

    # ----------------------------------------------------------------- dtype
    def to(self, dtype: Any) -> Tensor:
        """This tensor converted to `dtype` (differentiable between floating dtypes)."""
        d = np.dtype(dtype)
        if d == self.data.dtype:
            return self
        if self.requires_grad and d.kind != "f":
            return Tensor._make(self.data.astype(d), None)
        return E.Cast.apply(self, dtype=d)

    def float(self) -> Tensor:
        """Converted to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """Converted to float64."""
        return self.to(dtypes.float64)

    def long(self) -> Tensor:
        """Converted to int64 (not differentiable)."""
        return self.to(dtypes.int64)

    def bool(self) -> Tensor:
        """Converted to bool (not differentiable)."""
        return self.to(dtypes.bool_)

    # ----------------------------------------------------------------- arithmetic
    def _binary(self, fn: type[autograd.Function], other: Any, name: str, reflected: bool = False) -> Tensor:
        if type(other) is Tensor and other.data.dtype is self.data.dtype and not reflected:
            try:  # the common case, kept short: two tensors of one dtype
                return fn.apply(self, other)
            except ValueError:
                _check_broadcast(name, self.shape, other.shape)
                raise
        b = self._const(other)
        a = self
        if reflected:
            a, b = b, a
        if a.data.dtype != b.data.dtype:
            a, b = _promote(a, b)
        try:
            return fn.apply(a, b)
        except ValueError:
            _check_broadcast(name, a.shape, b.shape)
            raise

    def __add__(self, other: Any) -> Tensor:
        return self._binary(E.Add, other, "add")

    def __radd__(self, other: Any) -> Tensor:
        return self._binary(E.Add, other, "add", reflected=True)

    def __sub__(self, other: Any) -> Tensor:
        return self._binary(E.Sub, other, "sub")

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary(E.Sub, other, "sub", reflected=True)

    def __mul__(self, other: Any) -> Tensor:
        return self._binary(E.Mul, other, "mul")

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary(E.Mul, other, "mul", reflected=True)

    def __truediv__(self, other: Any) -> Tensor:
        a = self if self.data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return a._binary(E.Div, other, "div")

    def __rtruediv__(self, other: Any) -> Tensor:
        a = self if self.data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())
        return a._binary(E.Div, other, "div", reflected=True)

    def __pow__(self, exponent: Any) -> Tensor:
        return self._binary(E.Pow, exponent, "pow")

    def __rpow__(self, base: Any) -> Tensor:
        return self._binary(E.Pow, base, "pow", reflected=True)

    def __neg__(self) -> Tensor:
        return E.Neg.apply(self)

    def __matmul__(self, other: Any) -> Tensor:
        return self.matmul(other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._const(other).matmul(self)

    def add(self, other: Any) -> Tensor:
        """self + other (broadcast)."""
        return self + other

    def sub(self, other: Any) -> Tensor:
        """self − other (broadcast)."""
        return self - other

    def mul(self, other: Any) -> Tensor:
        """self · other (broadcast)."""
        return self * other

    def div(self, other: Any) -> Tensor:
        """self / other (broadcast, true division)."""
        return self / other

    def pow(self, exponent: Any) -> Tensor:
        """selfᵉˣᵖᵒⁿᵉⁿᵗ elementwise; ∂/∂x = e·x^(e−1), ∂/∂e = xᵉ ln x."""
        return self ** exponent

    def neg(self) -> Tensor:
        """−self."""
        return -self

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with numpy's rules: 1-D operands are promoted, batch dims broadcast."""
        other = self._const(other)
        a, b = (self, other) if self.dtype == other.dtype else _promote(self, other)
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
        k_a = a.shape[-1]
        k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if k_a != k_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({k_a} != {k_b})")
        if a.ndim == 1 and b.ndim == 1:
            return (a * b).sum()
        if a.ndim == 1:
            return M.MatMul.apply(a.unsqueeze(0), b).squeeze(-2)
        if b.ndim == 1:
            return M.MatMul.apply(a, b.unsqueeze(-1)).squeeze(-1)
        try:
            return M.MatMul.apply(a, b)
        except ValueError:
            raise ValueError(
                f"matmul: batch dims of shapes {a.shape} and {b.shape} cannot be broadcast together"
            ) from None

    # ----------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, ufunc: np.ufunc, other: Any, name: str) -> Tensor:
        b = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._make(ufunc(self.data, b), None)
        except ValueError:
            _check_broadcast(name, self.shape, np.shape(b))
            raise

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.equal, other, "eq")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(np.not_equal, other, "ne")

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other, "lt")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other, "le")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other, "gt")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other, "ge")

    def __and__(self, other: Any) -> Tensor:
        return self._compare(np.logical_and if self.dtype.kind == "b" else np.bitwise_and, other, "and")

    def __or__(self, other: Any) -> Tensor:
        return self._compare(np.logical_or if self.dtype.kind == "b" else np.bitwise_or, other, "or")

    def __invert__(self) -> Tensor:
        return Tensor._make(~self.data, None)

    def eq(self, other: Any) -> Tensor:
        """Elementwise self == other (bool, no gradient)."""
        return self == other

    def sign(self) -> Tensor:
        """−1, 0 or +1 by the sign of each element (no gradient)."""
        return Tensor._make(np.sign(self.data), None)

    def any(self) -> Tensor:
        """True if any element is nonzero (no gradient)."""
        return Tensor._make(np.any(self.data), None)

    def all(self) -> Tensor:
        """True if all elements are nonzero (no gradient)."""
        return Tensor._make(np.all(self.data), None)

    def isnan(self) -> Tensor:
        """Elementwise test for nan (no gradient)."""
        return Tensor._make(np.isnan(self.data), None)

    def isfinite(self) -> Tensor:
        """Elementwise test for finite values (no gradient)."""
        return Tensor._make(np.isfinite(self.data), None)

    # ----------------------------------------------------------------- elementwise
    def exp(self) -> Tensor:
        """eˣ; ∂/∂x = eˣ."""
        return E.Exp.apply(self._floating("exp"))

    def log(self) -> Tensor:
        """ln x; ∂/∂x = 1/x."""
        return E.Log.apply(self._floating("log"))

    def sqrt(self) -> Tensor:
        """√x; ∂/∂x = 1/(2√x)."""
        return E.Sqrt.apply(self._floating("sqrt"))

    def sin(self) -> Tensor:
        """sin x; ∂/∂x = cos x."""
        return E.Sin.apply(self._floating("sin"))

    def cos(self) -> Tensor:
        """cos x; ∂/∂x = −sin x."""
        return E.Cos.apply(self._floating("cos"))

    def tanh(self) -> Tensor:
        """tanh x; ∂/∂x = 1 − tanh²x."""
        return E.Tanh.apply(self._floating("tanh"))

    def sigmoid(self) -> Tensor:
        """σ(x) = 1/(1 + e⁻ˣ); ∂/∂x = σ(1 − σ)."""
        return E.Sigmoid.apply(self._floating("sigmoid"))

    def relu(self) -> Tensor:
        """max(x, 0); ∂/∂x = 1[x > 0]."""
        return E.Relu.apply(self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """x for x > 0, else negative_slope · x."""
        return self.where(self > 0, self * negative_slope)

    def erf(self) -> Tensor:
        """The error function erf x; ∂/∂x = (2/√π) e^(−x²)."""
        return E.Erf.apply(self._floating("erf"))

    def gelu(self, approximate: str = "none") -> Tensor:
        """GELU: x·Φ(x) = ½x(1 + erf(x/√2)); approximate="tanh": ½x(1 + tanh(√(2/π)(x + 0.044715x³)))."""
        if approximate == "none":
            return self * 0.5 * (1.0 + (self * (1.0 / math.sqrt(2.0))).erf())
        if approximate == "tanh":
            inner = (self + 0.044715 * self * self * self) * math.sqrt(2.0 / math.pi)
            return self * 0.5 * (1.0 + inner.tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def abs(self) -> Tensor:
        """|x|; ∂/∂x = sign(x)."""
        return E.Abs.apply(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Elements limited to [min, max]; ∂/∂x = 1 inside the range, 0 outside."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return E.Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max(self, other) (broadcast); ties split the gradient."""
        return self._binary(E.Maximum, other, "maximum")

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min(self, other) (broadcast); ties split the gradient."""
        return self._binary(E.Minimum, other, "minimum")

    def where(self, condition: Any, other: Any) -> Tensor:
        """self where condition else other (PyTorch's ``x.where(cond, y)``)."""
        return where(condition, self, other)

    def softmax(self, dim: int = -1) -> Tensor:
        """softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m), m = max x (stable for any logits)."""
        e = (self - self.amax(dim, keepdim=True).detach()).exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim: int = -1) -> Tensor:
        """log softmax(x)ᵢ = xᵢ − logsumexp(x) (stable for any logits)."""
        return self - self.logsumexp(dim, keepdim=True)

    def _floating(self, name: str) -> Tensor:
        # PyTorch computes exp/log/... of an integer tensor in the default float dtype.
        return self if self.data.dtype.kind == "f" else self.to(dtypes.get_default_dtype())

    # ----------------------------------------------------------------- reductions
    def _dim(self, dim: int, name: str) -> int:
        nd = max(self.ndim, 1)
        if not isinstance(dim, (int, np.integer)) or isinstance(dim, bool):
            raise TypeError(f"{name}: dim must be an int, got {type(dim).__name__}")
        if not -nd <= dim < nd:
            raise IndexError(
                f"{name}: dim {dim} is out of range for a tensor of shape {self.shape} "
                f"(accepted: {-nd} to {nd - 1})"
            )
        return int(dim) % nd

    def _dims(self, dim: Dim, axis: Dim, name: str) -> tuple[int, ...] | None:
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{name}: give dim or axis, not both")
            dim = axis
        if dim is None:
            return None
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if self.ndim == 0:
            # PyTorch accepts dim 0 / -1 on a 0-d tensor and reduces nothing.
            for d in dims:
                self._dim(d, name)
            return ()
        out = tuple(sorted({self._dim(d, name) for d in dims}))
        if len(out) != len(dims):
            raise ValueError(f"{name}: dim {dim} names a dimension twice")
        return out

    def sum(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """Σ over `dim` (all elements if None); ∂/∂x = 1 broadcast back."""
        return R.Sum.apply(self, axis=self._dims(dim, axis, "sum"), keepdim=keepdim)

    def mean(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """(1/n) Σ over `dim`; ∂/∂x = 1/n."""
        dims = self._dims(dim, axis, "mean")
        n = self._count(dims)
        return self._floating("mean").sum(dims, keepdim) / n

    def _count(self, dims: tuple[int, ...] | None) -> int:
        if dims is None:
            return int(self.data.size)
        return int(np.prod([self.shape[d] for d in dims], dtype=np.int64))

    def var(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None, axis: Dim = None,
    ) -> Tensor:
        """Σ(x − x̄)² / (n − correction); unbiased (correction=1) by default, like PyTorch."""
        if correction is None:
            correction = 0 if unbiased is False else 1
        elif unbiased is not None:
            raise TypeError("var: give unbiased or correction, not both")
        dims = self._dims(dim, axis, "var")
        x = self._floating("var")
        d = x - x.mean(dims, keepdim=True)
        return (d * d).sum(dims, keepdim) / max(self._count(dims) - correction, 0)

    def std(
        self, dim: Dim = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None, axis: Dim = None,
    ) -> Tensor:
        """√var (unbiased by default)."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis).sqrt()

    def amax(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """Max over `dim`; ties split the gradient evenly."""
        self._nonempty("amax")
        return R.Amax.apply(self, axis=self._dims(dim, axis, "amax"), keepdim=keepdim)

    def amin(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """Min over `dim`; ties split the gradient evenly."""
        self._nonempty("amin")
        return R.Amin.apply(self, axis=self._dims(dim, axis, "amin"), keepdim=keepdim)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        """Without dim: the largest element (0-d). With dim: (values, indices) along it, like PyTorch."""
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        return self._extreme(dim if axis is None else axis, keepdim, "max")

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: int | None = None) -> Any:
        """Without dim: the smallest element (0-d). With dim: (values, indices) along it."""
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        return self._extreme(dim if axis is None else axis, keepdim, "min")

    def _extreme(self, dim: int | None, keepdim: bool, name: str) -> Any:
        self._nonempty(name)
        if dim is None:
            return self.amax() if name == "max" else self.amin()
        if self.ndim == 0:
            self._dim(dim, name)
            return ValuesIndices(self, Tensor._make(np.zeros((), dtype=np.int64), None))
        d = self._dim(dim, name)
        idx = np.argmax(self.data, axis=d) if name == "max" else np.argmin(self.data, axis=d)
        # The gradient goes to the element the index names (PyTorch's rule for max(dim)).
        grid = list(np.indices(idx.shape, sparse=True))
        grid.insert(d, idx)
        values = V.GetItem.apply(self, index=tuple(grid))
        if keepdim:
            values, idx = values.unsqueeze(d), np.expand_dims(idx, d)
        return ValuesIndices(values, Tensor._make(idx.astype(np.int64), None))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the largest element (flat when dim is None); no gradient."""
        return self._arg(np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the smallest element (flat when dim is None); no gradient."""
        return self._arg(np.argmin, dim, keepdim, "argmin")

    def _arg(self, fn: Callable[..., Any], dim: int | None, keepdim: bool, name: str) -> Tensor:
        self._nonempty(name)
        if dim is None:
            out = np.asarray(fn(self.data))
            return Tensor._make(out.reshape((1,) * self.ndim) if keepdim else out.astype(np.int64), None)
        d = self._dim(dim, name) if self.ndim else None
        out = np.asarray(fn(self.data, axis=d))
        if keepdim and d is not None:
            out = np.expand_dims(out, d)
        return Tensor._make(out.astype(np.int64), None)

    def _nonempty(self, name: str) -> None:
        if self.data.size == 0:
            raise ValueError(f"{name}: cannot reduce an empty tensor of shape {self.shape}")

    def prod(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None) -> Tensor:
        """Π over `dim`; ∂/∂xᵢ = Π_{j≠i} xⱼ (exact with zeros too)."""
        return R.Prod.apply(self, axis=self._dims(dim, axis, "prod"), keepdim=keepdim)

    def logsumexp(self, dim: Dim = None, keepdim: bool = False, *, axis: Dim = None) -> Tensor:
        """log Σ eˣ = m + log Σ e^(x − m) with m = max x (no overflow); ∂/∂x = softmax(x)."""
        dims = self._dims(dim, axis, "logsumexp")
        x = self._floating("logsumexp")
        m = x.amax(dims, keepdim=True).detach()
        m = m.where(m.isfinite(), 0.0)  # all −inf rows stay −inf instead of becoming nan
        out = (x - m).exp().sum(dims, keepdim=True).log() + m
        return out if keepdim else out.reshape(np.sum(self.data, axis=dims).shape)

    def norm(self, p: float | str = "fro", dim: Dim = None, keepdim: bool = False) -> Tensor:
        """The p-norm (Σ|x|ᵖ)^(1/p) over `dim` ("fro" and 2 give √Σx², inf gives max|x|)."""
        dims = self._dims(dim, None, "norm")
        x = self._floating("norm")
        if p in ("fro", 2, 2.0):
            return (x * x).sum(dims, keepdim).sqrt()
        if p == 1:
            return x.abs().sum(dims, keepdim)
        if p == math.inf:
            return x.abs().amax(dims, keepdim)
        if p == -math.inf:
            return x.abs().amin(dims, keepdim)
        if isinstance(p, (int, float)) and p > 0:
            return (x.abs() ** p).sum(dims, keepdim) ** (1.0 / p)
        raise ValueError(f"norm: p must be 'fro', inf, -inf or a positive number, got {p!r}")

    # ----------------------------------------------------------------- movement
    def reshape(self, *shape: Any) -> Tensor:
        """The same elements in a new shape (one dim may be −1, inferred)."""
        shape = _shape_arg(shape)
        try:
            out_shape = _infer_shape(self.shape, shape)
        except ValueError as err:
            raise ValueError(f"reshape: {err}") from None
        if out_shape == self.shape:
            return self
        return V.Reshape.apply(self, shape=out_shape)

    view = reshape

    def permute(self, *dims: Any) -> Tensor:
        """Dimensions reordered: output dim i is input dim dims[i]."""
        dims = _shape_arg(dims)
        if len(dims) != self.ndim:
            raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor of shape {self.shape}; give one per dim")
        axes = tuple(self._dim(d, "permute") for d in dims)
        if len(set(axes)) != len(axes):
            raise ValueError(f"permute: dims {dims} repeat a dimension")
        return V.Permute.apply(self, axes=axes)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Dimensions dim0 and dim1 swapped."""
        if self.ndim < 2:
            self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
            return self
        axes = list(range(self.ndim))
        a, b = self._dim(dim0, "transpose"), self._dim(dim1, "transpose")
        axes[a], axes[b] = axes[b], axes[a]
        return V.Permute.apply(self, axes=tuple(axes))

    def t(self) -> Tensor:
        """Transpose of a ≤ 2-D tensor."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with ≤ 2 dims, got shape {self.shape}; use transpose(d0, d1)")
        return self.T

    def squeeze(self, dim: Dim = None) -> Tensor:
        """Size-1 dims removed (only `dim` if given; a dim that is not 1 is left unchanged)."""
        if dim is None:
            shape = tuple(n for n in self.shape if n != 1)
        else:
            dims = self._dims(dim, None, "squeeze") or ()
            shape = tuple(n for d, n in enumerate(self.shape) if not (d in dims and n == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """A size-1 dim inserted at position `dim` (−1 appends)."""
        nd = self.ndim + 1
        if not -nd <= dim < nd:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a tensor of shape {self.shape} (accepted: {-nd} to {nd - 1})")
        d = dim % nd
        return V.Reshape.apply(self, shape=self.shape[:d] + (1,) + self.shape[d:])

    def expand(self, *sizes: Any) -> Tensor:
        """A broadcast view with size-1 dims repeated to `sizes` (−1 keeps a dim)."""
        sizes = _shape_arg(sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: the number of sizes {sizes} must be ≥ the number of dims of shape {self.shape}")
        target = []
        for k, n in enumerate(sizes):
            own = self.shape[k - lead] if k >= lead else None
            if n == -1:
                if own is None:
                    raise ValueError(f"expand: -1 is not allowed for the new leading dim {k} in {sizes}")
                n = own
            if own is not None and own != 1 and own != n:
                raise ValueError(
                    f"expand: the size of dim {k - lead} of shape {self.shape} is {own}, which can "
                    f"only be expanded to {sizes} if it is 1 or equal"
                )
            target.append(n)
        target_t = tuple(target)
        return self if target_t == self.shape else V.Expand.apply(self, shape=target_t)

    def expand_as(self, other: Tensor) -> Tensor:
        """Expanded to other's shape."""
        return self.expand(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims start_dim..end_dim merged into one."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = self._dim(start_dim, "flatten"), self._dim(end_dim, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.shape[:s] + (int(np.prod(self.shape[s : e + 1], dtype=np.int64)),) + self.shape[e + 1 :]
        return self.reshape(shape)

    def flip(self, dims: Any) -> Tensor:
        """Elements reversed along `dims`."""
        dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
        axes = tuple(self._dim(d, "flip") for d in dims)
        return V.Flip.apply(self, axes=axes) if axes else self

    def repeat(self, *sizes: Any) -> Tensor:
        """Tiled `sizes[i]` times along each dim (PyTorch's repeat = numpy's tile)."""
        sizes = _shape_arg(sizes)
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat: number of repeat dims {len(sizes)} can not be smaller than the number "
                f"of dims of shape {self.shape}"
            )
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        x = self.reshape(shape)
        # Interleave a size-1 dim before each dim, expand it to the repeat count, merge.
        inter = tuple(v for n in shape for v in (1, n))
        big = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
        return x.reshape(inter).expand(big).reshape(tuple(r * n for r, n in zip(sizes, shape)))

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces along `dim`: of size `split_size` (the last may be smaller), or of the listed sizes."""
        d = self._dim(dim, "split")
        n = self.shape[d]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be a positive int, got {step}")
            sizes = [min(step, n - s) for s in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(
                    f"split: sizes {sizes} must be non-negative and sum to {n}, the size of dim {d} of shape {self.shape}"
                )
        out, start = [], 0
        for s in sizes:
            index = (slice(None),) * d + (slice(start, start + s),)
            out.append(self[index])
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Up to `chunks` pieces of size ⌈n / chunks⌉ along `dim` (PyTorch's sizes)."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be a positive int, got {chunks}")
        n = self.shape[self._dim(dim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    def __getitem__(self, index: Any) -> Tensor:
        try:
            return V.GetItem.apply(self, index=_normalize_index(index))
        except IndexError as err:
            raise IndexError(f"index: {err} (tensor shape {self.shape})") from None

    def __setitem__(self, index: Any, value: Any) -> None:
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError(
                "setitem: in-place assignment to a tensor that requires grad would corrupt its "
                "graph; do it under no_grad() or on .data"
            )
        v = value.data if isinstance(value, Tensor) else value
        try:
            self.data[_normalize_index(index)] = v
        except IndexError as err:
            raise IndexError(f"setitem: {err} (tensor shape {self.shape})") from None
        except ValueError as err:
            raise ValueError(f"setitem: {err} (tensor shape {self.shape})") from None

    # ----------------------------------------------------------------- in place (no graph)
    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        self.data[...] = 0
        return self

    def fill_(self, value: float) -> Tensor:
        """Fill with `value` in place."""
        self.data[...] = value
        return self

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast) into this tensor in place."""
        self.data[...] = src.data if isinstance(src, Tensor) else src
        return self


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """PyTorch's promotion: a float with an int/bool keeps the float's dtype; else the wider one."""
    fa, fb = a.data.dtype.kind == "f", b.data.dtype.kind == "f"
    if fa and not fb:
        return a, b.to(a.data.dtype)
    if fb and not fa:
        return a.to(b.data.dtype), b
    target = np.promote_types(a.data.dtype, b.data.dtype)
    return a.to(target), b.to(target)


def _check_broadcast(name: str, a: tuple[int, ...], b: tuple[int, ...]) -> None:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        raise ValueError(
            f"{name}: shapes {a} and {b} cannot be broadcast together (trailing dims must be "
            "equal or 1)"
        ) from None


def _shape_arg(args: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept f(2, 3), f((2, 3)) and f([2, 3])."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"sizes must be ints, got {args!r}")
    return tuple(int(a) for a in args)


def _infer_shape(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[int, ...]:
    size = int(np.prod(shape, dtype=np.int64))
    unknown = [k for k, n in enumerate(target) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in target):
        raise ValueError(f"invalid shape {target}: at most one -1 and no other negative sizes")
    known = int(np.prod([n for n in target if n != -1], dtype=np.int64))
    if unknown:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape tensor of shape {shape} ({size} elements) into shape {target}")
        target = tuple(size // known if n == -1 else n for n in target)
    elif known != size:
        raise ValueError(
            f"cannot reshape tensor of shape {shape} ({size} elements) into shape {target} ({known} elements)"
        )
    return target


def _normalize_index(index: Any) -> Any:
    """Tensors and lists inside an index become numpy arrays (lists of ints index like arrays)."""
    if isinstance(index, tuple):
        return tuple(_normalize_index_item(i) for i in index)
    return _normalize_index_item(index)


def _normalize_index_item(i: Any) -> Any:
    if isinstance(i, Tensor):
        return i.data
    if isinstance(i, list):
        return np.asarray(i)
    return i


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """input where condition else other (broadcast); the condition gets no gradient."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        cond = cond.astype(bool)
    x = input if isinstance(input, Tensor) else None
    y = other if isinstance(other, Tensor) else None
    if x is None and y is None:
        raise TypeError("where: input or other must be a Tensor")
    x = x if x is not None else y._const(input)  # type: ignore[union-attr]
    y = y if y is not None else x._const(other)
    if x.dtype != y.dtype:
        x, y = _promote(x, y)
    c = Tensor._make(cond, None)
    try:
        return E.Where.apply(c, x, y)
    except ValueError:
        _check_broadcast("where", np.broadcast_shapes(cond.shape, x.shape) if cond.shape else x.shape, y.shape)
        _check_broadcast("where", cond.shape, x.shape)
        raise


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors joined along an existing dim; all other dims must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of Tensors")
    first = tensors[0]
    d = first._dim(dim, "cat")
    for k, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1 :] != first.shape[:d] + first.shape[d + 1 :]:
            raise ValueError(
                f"cat: tensor {k} has shape {t.shape} but tensor 0 has shape {first.shape}; all "
                f"dims except dim {d} must match"
            )
    dtype = np.result_type(*[t.dtype for t in tensors])
    return V.Cat.apply(*[t.to(dtype) for t in tensors], axis=d)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """The tensors (all of one shape) joined along a new dim."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: expected a non-empty list of Tensors")
    for k, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: tensor {k} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}; all must be equal")
    nd = tensors[0].ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"stack: dim {dim} is out of range for the result's {nd} dims (accepted: {-nd} to {nd - 1})")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last len(pad)/2 dims: pad = (left, right) for the last dim, then the one before, …

    `mode` is "constant" (fill with `value`), "reflect", "replicate" or "circular", as in
    ``torch.nn.functional.pad``. Negative widths crop.
    """
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(
            f"pad: pad {tuple(pad)} must have an even length of at most 2 × the number of dims "
            f"({input.ndim} for shape {input.shape}): (left, right) for the last dim first"
        )
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    if mode == "constant":
        # Negative widths crop first, then the rest pads.
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, input.shape))
        x = input[crop] if any(lo < 0 or hi < 0 for lo, hi in widths) else input
        grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in widths)
        return V.Pad.apply(x, widths=grow, value=value) if any(lo or hi for lo, hi in grow) else x
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    # The other modes gather existing elements: pad an index range with numpy's mode and take
    # those elements (GetItem), so repeated elements accumulate their gradients.
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = input.shape[d]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than dim {d} of size {n} (shape {input.shape})")
        if lo < 0 or hi < 0:
            raise ValueError(f"pad: negative widths are only supported in constant mode, got {tuple(pad)}")
        idx = np.pad(np.arange(n), (lo, hi), mode=_PAD_MODES[mode])
        out = out[(slice(None),) * d + (idx,)]
    return out
