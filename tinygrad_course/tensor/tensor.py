"""`Tensor`: a numpy array plus a node in the autograd graph, with PyTorch's names.

Every differentiable method calls one `Function.apply` (see ops/) or is a short composition of
such methods, so a reader can jump from ``a * b`` to ``Mul`` in one step.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_course import autograd
from tinygrad_course.autograd.function import explain_broadcast
from tinygrad_course.autograd.grad_mode import mode
from tinygrad_course.ops.elementwise import Add, Cast, Div, FloorDiv, Mul, Neg, Pow, Relu, Remainder, Sub, relu_kernel
from tinygrad_course.ops.matmul import MatMul
from tinygrad_course.ops.movement import Clone, Reshape
from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor import dtypes
from tinygrad_course.tensor.complex_methods import ComplexMethods
from tinygrad_course.tensor.inplace_methods import InplaceMethods
from tinygrad_course.tensor.linalg_methods import LinalgMethods
from tinygrad_course.tensor.math_methods import MathMethods
from tinygrad_course.tensor.movement_methods import MovementMethods, shape_arg
from tinygrad_course.tensor.printing import tensor_body
from tinygrad_course.tensor.promotion import result_type
from tinygrad_course.tensor.reduce_methods import Dim, ReduceMethods

_new_object = object.__new__


def _dtype_of_python(value: Any, arr: np.ndarray) -> np.dtype:
    """PyTorch's inference: Python floats → default float, ints → int64, bools → bool."""
    kind = arr.dtype.kind
    if kind == "f":
        return dtypes.get_default_dtype()
    if kind in "iu":
        return dtypes.int64
    if kind == "b":
        return dtypes.bool_
    if kind == "c":
        return dtypes.get_default_complex_dtype()
    raise TypeError(
        f"Tensor: cannot make a tensor from {type(value).__name__} data (numpy dtype {arr.dtype}); "
        "accepted: numbers, bools, (nested) lists/tuples of them, numpy arrays, Tensors"
    )


def _as_numpy(data: Any) -> np.ndarray:
    """Numbers, bools, (nested) lists, numpy arrays as a numpy array, or a clear error."""
    if isinstance(data, np.ndarray):
        if data.dtype.kind not in "fiubc" or data.dtype == np.clongdouble or data.dtype == np.longdouble:
            raise TypeError(
                f"Tensor: numpy arrays of dtype {data.dtype} are not supported; "
                "accepted: floating (16/32/64-bit), complex (64/128-bit), integer and bool arrays"
            )
        return data
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
    if arr.dtype.kind not in "fiubc":
        _dtype_of_python(data, arr)  # raises, naming what was given
    return arr


def infer_dtype(data: Any) -> np.dtype:
    """The dtype ``tc.tensor(data)`` gives: a Tensor's or numpy value's own, else PyTorch's rule for Python data."""
    if isinstance(data, Tensor):
        return data.dtype
    arr = _as_numpy(data)
    if isinstance(data, (np.ndarray, np.generic)):
        return arr.dtype
    return _dtype_of_python(data, arr)


def _to_array(data: Any, dtype: np.dtype | None) -> np.ndarray:
    """A new array of `data` in `dtype` (None: a Tensor's own dtype)."""
    if isinstance(data, Tensor):
        return np.array(data._array, dtype=dtype)
    return np.array(_as_numpy(data), dtype=dtype)


class Tensor(MathMethods, ReduceMethods, MovementMethods, InplaceMethods, LinalgMethods, ComplexMethods):
    """A multi-dimensional array that records the ops applied to it, for reverse-mode autodiff.

    ``tc.tensor(data, dtype=None, requires_grad=False)`` copies `data` (numbers, nested lists,
    a numpy array or a Tensor) and infers the dtype as PyTorch: Python floats become the default
    float dtype (float32, see `set_default_dtype`), ints int64, bools bool; numpy arrays keep
    theirs. ``tc.Tensor(data)``, PyTorch's legacy constructor, always gives the default float
    dtype. Only floating tensors may require grad.

    Every operation on a tensor that requires grad records a node (``grad_fn``) in the graph;
    ``backward()`` on a scalar result c then fills ``.grad`` of each leaf x with ∂c/∂x.

    Attributes:
        data: the values as a detached Tensor sharing this one's storage (PyTorch's ``.data``);
            `numpy()` gives the numpy array.
        grad: ∂c/∂self after ``backward()`` (a Tensor), for leaves and retained tensors; else None.
        grad_fn: the node that made this tensor (e.g. ``<MulBackward>``); None for leaves.
        requires_grad: whether ops on this tensor are recorded for backward.

    Raises:
        TypeError: for data that is not numeric (strings, objects, complex numbers).
        ValueError: for ragged nested lists.
        RuntimeError: for ``requires_grad=True`` on an integer or bool tensor.

    Example::

        >>> x = tc.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        >>> y = (x @ x).sum()                 # y.grad_fn is <SumBackward>
        >>> y.backward()
        >>> x.grad                            # ∂y/∂x = 1 xᵀ + xᵀ 1 (1: the matrix of ones)
        tensor([[ 7., 11.],
                [ 9., 13.]])

    This file holds the core (data, graph, dtype, arithmetic, comparisons); elementwise math,
    reductions and movement live in math_methods.py, reduce_methods.py and movement_methods.py.
    """

    __slots__ = ("_array", "grad", "_requires_grad", "grad_fn", "_hooks", "__weakref__")
    # In-place writes bump the storage's version (see autograd/version.py); `.data` aliases do not.
    counts_writes = True
    # numpy should hand `ndarray * Tensor` to Tensor.__rmul__ instead of looping over elements.
    __array_ufunc__ = None

    _array: np.ndarray
    grad: Tensor | None
    grad_fn: autograd.Function | None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        """A leaf tensor from numbers, nested lists or a numpy array (copied), in the default float
        dtype unless `dtype` is given, as PyTorch's ``torch.Tensor(data)``; from a Tensor, a copy of
        its dtype. ``tc.tensor(data)`` infers the dtype from the data instead."""
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype, "Tensor")
        elif not isinstance(data, Tensor):
            dtype = dtypes.get_default_dtype()
        self._array = _to_array(data, dtype)
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
        t._array = data
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
        if isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
            dtype = self._array.dtype
            if isinstance(value, (complex, np.complexfloating)) and dtype.kind != "c":
                dtype = dtypes.to_complex(dtype) if dtype.kind == "f" else dtypes.get_default_complex_dtype()
            elif isinstance(value, (float, np.floating)) and dtype.kind not in "fc":
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
        if requires_grad and self._array.dtype.kind not in "fc":
            raise RuntimeError(
                f"requires_grad: only Tensors of floating point and complex dtype can require gradients, got dtype "
                f"{self._array.dtype} (shape {self.shape}); build it from floats or pass dtype=float32"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def shape(self) -> tuple[int, ...]:
        """The size of each dimension."""
        return self._array.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions."""
        return self._array.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the elements."""
        return self._array.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (no grad_fn); only leaves get ``.grad`` by default."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """All dimensions reversed (the matrix transpose for 2-D)."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped: the transpose of each matrix in a stack (…, m, n) → (…, n, m)."""
        if self.ndim < 2:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got {self.ndim}-D tensor.")
        return self.transpose(-2, -1)

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of each matrix in a stack: mT, since tensors here are real."""
        return self.mT

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix (2-D; a 0-D tensor is returned as it is), as PyTorch."""
        if self.ndim not in (0, 2):
            raise RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got {self.ndim}-D tensor."
                               + (" For batches of matrices, consider using tensor.mH" if self.ndim > 2 else ""))
        return self.T

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        if dim is None:
            return self.shape
        return self.shape[self._dim(dim, "size")]

    def dim(self) -> int:
        """The number of dimensions."""
        return self._array.ndim

    def numel(self) -> int:
        """The number of elements."""
        return int(self._array.size)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._array.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar, got shape {self.shape}"
            )
        return self._array.item()

    def numpy(self) -> np.ndarray:
        """The underlying array (shared memory); like PyTorch, refuses a tensor that requires grad."""
        if self.requires_grad:
            raise RuntimeError("numpy: can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._array

    def tolist(self) -> Any:
        """The elements as (nested) Python lists."""
        return self._array.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self._array if dtype is None else self._array.astype(dtype)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise RuntimeError(f"bool: the truth value of a tensor with {self._array.size} elements is ambiguous; use .any() or .all()")
        return bool(self._array)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iu" or self._array.size != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} {self.shape}")
        return int(self._array.item())

    # Tensors are compared elementwise, so they are hashed by identity (as in PyTorch).
    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = tensor_body(self._array)
        extra = ""
        if self._array.dtype not in (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool_, dtypes.get_default_complex_dtype()):
            extra += f", dtype={self._array.dtype}"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __format__(self, spec: str) -> str:
        """f"{loss:.4f}" formats a one-element tensor's number, as PyTorch; other specs format the repr."""
        if self._array.ndim == 0 and spec:
            return format(self._array.item(), spec)
        return format(repr(self), spec)

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False) -> None:
        """Backpropagate from this tensor: add ∂self/∂x to ``x.grad`` for every leaf x that requires grad.

        For a scalar loss c this fills ``x.grad`` with ∂c/∂x (the lecture's backpropagation,
        equations (1)–(4), for every op in the graph). For a non-scalar tensor pass
        ``gradient`` = ∂c/∂self of the same shape; the result is the vector-Jacobian product.

        Args:
            gradient: ∂c/∂self; may be omitted for a one-element tensor (then it is 1).
            retain_graph: keep the saved values so that backward can run through this graph
                again; without it they are freed, and a second backward raises a RuntimeError.
            create_graph: record the backward pass too, so that the gradients can be
                differentiated again (second derivatives); implies retain_graph.

        Gradients **accumulate**: calling backward twice adds to ``.grad`` (an optimizer's
        ``zero_grad()`` clears them between steps). Only leaves get ``.grad``, plus tensors that
        called ``retain_grad()``; hooks from ``register_hook`` see the gradient on its way.

        Raises:
            RuntimeError: if this tensor does not require grad, if `gradient` is missing for a
                non-scalar tensor or has another shape, or if the graph was already freed.

        Example::

            >>> w = tc.tensor([1.0, -2.0], requires_grad=True)
            >>> c = ((w * 3.0) ** 2).sum()        # c = Σ 9 w²
            >>> c.backward()
            >>> w.grad                            # ∂c/∂w = 18 w
            tensor([ 18., -36.])
        """
        autograd.backward(self, gradient, retain_graph=retain_graph, create_graph=create_graph)

    @property
    def data(self) -> Tensor:
        """The values as a Tensor that shares this one's storage, detached from the graph (PyTorch's ``.data``).

        Changes made through it (``p.data -= lr * p.grad``) are not recorded and do not count as
        in-place writes for the autograd version check: the escape hatch PyTorch documents, to
        be used with care. Assigning ``t.data = other`` replaces the values (any shape or dtype).
        """
        alias = DataAlias.__new__(DataAlias)
        alias._array = self._array
        alias.grad = alias.grad_fn = alias._hooks = None
        alias._requires_grad = False
        return alias

    @data.setter
    def data(self, value: Any) -> None:
        if not isinstance(value, (Tensor, np.ndarray)):
            raise TypeError(f"data: assign a Tensor (or a numpy array), got {type(value).__name__}")
        self._array = value._array if isinstance(value, Tensor) else value

    def clone(self) -> Tensor:
        """A copy with its own memory, still in the graph (∂clone/∂self = 1)."""
        return Clone.apply(self)

    def detach(self) -> Tensor:
        """The same data (shared) cut off from the graph: requires_grad=False, no grad_fn."""
        return Tensor._make(self._array, None)

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

    # ----------------------------------------------------------------- dtype
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor with another dtype: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``.

        The device is always the CPU (anything else raises); the result is this tensor itself when
        nothing changes (``copy=True`` forces a copy). Differentiable between floating dtypes.
        """
        dtype, _, copy = device_.parse_to(args, kwargs, "to")
        out = self if dtype is None else self._cast(dtype)
        return out.clone() if copy and out is self else out

    def _cast(self, dtype: Any) -> Tensor:
        d = dtypes.as_dtype(dtype, "to")
        if d == self._array.dtype:
            return self
        if self.requires_grad and d.kind not in "fc":
            data = self._array.real if self._array.dtype.kind == "c" else self._array
            return Tensor._make(data.astype(d), None)
        return Cast.apply(self, dtype=d)

    @property
    def device(self) -> device_.device:
        """Where the values live: always the CPU here (``device(type='cpu')``)."""
        return device_.CPU

    @property
    def is_cuda(self) -> bool:
        """False: there is only the CPU."""
        return False

    def cpu(self) -> Tensor:
        """This tensor (it is on the CPU already)."""
        return self

    def cuda(self, device: Any = None) -> Tensor:
        """Refused with a clear error: there is only the CPU."""
        device_.check("cuda" if device is None else device, "cuda")
        return self

    def contiguous(self) -> Tensor:
        """This tensor, or a copy in C order (values, graph and dtype unchanged)."""
        return self if self._array.flags.c_contiguous else self.clone()

    def type(self, dtype: Any = None) -> Any:
        """With a dtype, this tensor converted to it; without, the dtype's name ('torch.FloatTensor' style, as PyTorch)."""
        if dtype is None:
            names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
                     "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}
            return f"torch.{names[self.dtype.name]}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to other's dtype."""
        return self.to(other.dtype)

    def nelement(self) -> int:
        """The number of elements (PyTorch's other name for numel)."""
        return int(self._array.size)

    def element_size(self) -> int:
        """Bytes per element."""
        return int(self._array.itemsize)

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A new tensor from data, with this tensor's dtype unless given."""
        return Tensor(data, dtype=self.dtype if dtype is None else dtype, requires_grad=requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of the given size, with this tensor's dtype unless given."""
        return self._new(np.zeros, size, dtype, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of the given size, with this tensor's dtype unless given."""
        return self._new(np.ones, size, dtype, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of the given size (zeros here: never uninitialised memory), this tensor's dtype unless given."""
        return self._new(np.zeros, size, dtype, requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """`fill_value` in the given size, with this tensor's dtype unless given."""
        d = self.dtype if dtype is None else dtypes.as_dtype(dtype, "new_full")
        out = Tensor._make(np.full(shape_arg((size,)), fill_value, dtype=d), None)
        return out.requires_grad_() if requires_grad else out

    def _new(self, fill: Any, size: tuple[Any, ...], dtype: Any, requires_grad: bool) -> Tensor:
        d = self.dtype if dtype is None else dtypes.as_dtype(dtype, "new")
        out = Tensor._make(fill(shape_arg(size), dtype=d), None)
        return out.requires_grad_() if requires_grad else out

    def half(self) -> Tensor:
        """Converted to float16."""
        return self.to(dtypes.float16)

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
    def _binary(self, fn: type[autograd.Function], other: Any, reflected: bool = False, floating: bool = False) -> Tensor:
        """self op other (other op self if reflected) in PyTorch's result dtype (`floating`: at least the default float)."""
        if (type(other) is float or type(other) is int) and self._array.dtype.kind == "f":
            # The common case, a Python number with a float tensor: the tensor's dtype, no lookup.
            a, b = self._array, np.array(other, self._array.dtype)
            if not mode.grad_enabled and fn.no_grad_kernel is not None:  # nothing to record: numpy alone
                data = fn.no_grad_kernel(b, a) if reflected else fn.no_grad_kernel(a, b)
                return Tensor._make(data if type(data) is np.ndarray else np.asarray(data), None)
            b = Tensor._make(b, None)
            return fn.apply(b, self) if reflected else fn.apply(self, b)
        if isinstance(other, Tensor) and other.dtype == self._array.dtype and (not floating or other.dtype.kind in "fc"):
            # Two tensors of one dtype (a Parameter among them): that dtype, no promotion to work out.
            return fn.apply(other, self) if reflected else fn.apply(self, other)
        dtype = result_type(self, other)
        if floating and dtype.kind not in "fc":
            dtype = dtypes.get_default_dtype()
        a, b = self._as_operand(dtype), self._as_operand(dtype, other)
        return fn.apply(b, a) if reflected else fn.apply(a, b)

    def _as_operand(self, dtype: np.dtype, value: Any = None) -> Tensor:
        """self (or `value`: a Tensor, array or number) as a Tensor of `dtype`."""
        if value is None:
            value = self
        if not isinstance(value, Tensor):
            if isinstance(value, np.ndarray):
                return Tensor._make(value.astype(dtype, copy=False), None)
            if not isinstance(value, (bool, int, float, complex, np.number, np.bool_)):
                value = Tensor(value)
            else:  # via the value's own type, so that −1 wraps into uint8 as in PyTorch
                return Tensor._make(np.asarray(value).astype(dtype), None)
        return value if value.dtype == dtype else value.to(dtype)

    def _direct(self, ufunc: np.ufunc, other: Tensor, name: str) -> Tensor:
        """ufunc(self, other) with no graph to record (grad mode off): numpy, and a Tensor around it."""
        try:
            data = ufunc(self._array, other._array)
        except ValueError:
            explain_broadcast(name, [self._array.shape, other._array.shape])
            raise
        # The output Tensor filled in here (what _make does, one call less per op).
        out = _new_object(Tensor)
        out._array = data if type(data) is np.ndarray else np.asarray(data)
        out.grad = out.grad_fn = out._hooks = None
        out._requires_grad = False
        return out

    # Each operator first tries the common case, two tensors of one dtype, in one step; with
    # grad mode off (inside a plain backward, or under no_grad) no node is made at all, as in
    # PyTorch, whose no-grad ops skip autograd: `+`, `-` and `*` run _direct's body inline
    # (numpy's operator on the two arrays; a 0-d result, a numpy scalar, becomes a 0-d array).
    def __add__(self, other: Any) -> Tensor:
        if type(other) in PLAIN_TYPES:
            a, b = self._array, other._array
            if a.dtype is b.dtype:
                if mode.grad_enabled:
                    return Add.apply(self, other)
                try:  # _direct, spelled out: one call less per op
                    data = a + b
                except ValueError:
                    explain_broadcast("add", [a.shape, b.shape])
                    raise
                out = _new_object(Tensor)
                out._array = data if type(data) is np.ndarray else np.asarray(data)
                out.grad = out.grad_fn = out._hooks = None
                out._requires_grad = False
                return out
        return self._binary(Add, other)

    def __radd__(self, other: Any) -> Tensor:
        return self._binary(Add, other, reflected=True)

    def __sub__(self, other: Any) -> Tensor:
        if type(other) in PLAIN_TYPES:
            a, b = self._array, other._array
            if a.dtype is b.dtype:
                if mode.grad_enabled:
                    return Sub.apply(self, other)
                try:  # _direct, spelled out: one call less per op
                    data = a - b
                except ValueError:
                    explain_broadcast("sub", [a.shape, b.shape])
                    raise
                out = _new_object(Tensor)
                out._array = data if type(data) is np.ndarray else np.asarray(data)
                out.grad = out.grad_fn = out._hooks = None
                out._requires_grad = False
                return out
        return self._binary(Sub, other)

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary(Sub, other, reflected=True)

    def __mul__(self, other: Any) -> Tensor:
        if type(other) in PLAIN_TYPES:
            a, b = self._array, other._array
            if a.dtype is b.dtype:
                if mode.grad_enabled:
                    return Mul.apply(self, other)
                try:  # _direct, spelled out: one call less per op
                    data = a * b
                except ValueError:
                    explain_broadcast("mul", [a.shape, b.shape])
                    raise
                out = _new_object(Tensor)
                out._array = data if type(data) is np.ndarray else np.asarray(data)
                out.grad = out.grad_fn = out._hooks = None
                out._requires_grad = False
                return out
        return self._binary(Mul, other)

    def relu(self) -> Tensor:
        """max(x, 0); ∂/∂x = 1[x > 0]. (Under no_grad, like the operators above: numpy's call, a Tensor around it.)"""
        if not mode.grad_enabled and type(self) in PLAIN_TYPES:
            a = self._array
            if a.dtype.kind != "c":  # (complex: Relu.apply's error)
                out = _new_object(Tensor)
                out._array = relu_kernel(a)
                out.grad = out.grad_fn = out._hooks = None
                out._requires_grad = False
                return out
        return Relu.apply(self)

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary(Mul, other, reflected=True)

    def __truediv__(self, other: Any) -> Tensor:
        return self._binary(Div, other, floating=True)

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._binary(Div, other, reflected=True, floating=True)

    def __floordiv__(self, other: Any) -> Tensor:
        return self._binary(FloorDiv, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return self._binary(FloorDiv, other, reflected=True)

    def __mod__(self, other: Any) -> Tensor:
        return self._binary(Remainder, other)

    def __rmod__(self, other: Any) -> Tensor:
        return self._binary(Remainder, other, reflected=True)

    def floor_divide(self, other: Any) -> Tensor:
        """⌊self / other⌋, rounding toward −∞ (``//``); no gradient."""
        return self // other

    def remainder(self, other: Any) -> Tensor:
        """self − other ⌊self / other⌋, with the sign of other (``%``)."""
        return self % other

    def __pow__(self, exponent: Any) -> Tensor:
        return self._binary(Pow, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return self._binary(Pow, base, reflected=True)

    def __neg__(self) -> Tensor:
        return Neg.apply(self)

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

    def mm(self, other: Any) -> Tensor:
        """The product of two matrices (2-D only, as PyTorch's mm)."""
        if self.ndim != 2 or getattr(other, "ndim", 0) != 2:
            raise RuntimeError(f"mm: both operands must be matrices (2-D), got shapes {self.shape} and {getattr(other, 'shape', ())}")
        return self.matmul(other)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with numpy's rules: 1-D operands are promoted, batch dims broadcast."""
        if isinstance(other, Tensor) and other.dtype == self.dtype:
            a, b = self, other  # one dtype: nothing to promote
        else:
            dtype = result_type(self, other)
            a, b = self._as_operand(dtype), self._as_operand(dtype, other)
        sa, sb = a.shape, b.shape  # (read once: on a vmap-batched tensor they are computed)
        if not sa or not sb:
            raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {sa} and {sb}")
        k_a = sa[-1]
        k_b = sb[0] if len(sb) == 1 else sb[-2]
        if k_a != k_b:
            raise ValueError(f"matmul: shapes {sa} and {sb} do not align ({k_a} != {k_b})")
        # A 1-D operand is a matrix of one row (a) or one column (b), dropped from the result.
        if len(sa) == 1 and len(sb) == 1:  # the dot product, in the operands' dtype (a sum would widen ints)
            return Reshape.apply(MatMul.apply(Reshape.apply(a, shape=(1, k_a)), Reshape.apply(b, shape=(k_b, 1))), shape=())
        if len(sa) == 1:
            out = MatMul.apply(Reshape.apply(a, shape=(1, k_a)), b)
            return Reshape.apply(out, shape=sb[:-2] + sb[-1:])
        if len(sb) == 1:
            out = MatMul.apply(a, Reshape.apply(b, shape=(k_b, 1)))
            return Reshape.apply(out, shape=sa[:-1])
        try:
            return MatMul.apply(a, b)
        except ValueError:
            raise ValueError(f"matmul: batch dims of shapes {sa} and {sb} cannot be broadcast together") from None

    # ----------------------------------------------------------------- comparisons (no gradient)
    def _compare(self, ufunc: np.ufunc, other: Any, name: str) -> Tensor:
        b = other._array if isinstance(other, Tensor) else other
        if name in ("lt", "le", "gt", "ge") and (self._array.dtype.kind == "c" or np.iscomplexobj(b)):
            raise TypeError(f"{name}: complex numbers have no order; compare .real, .imag or .abs() instead")
        try:
            return Tensor._make(ufunc(self._array, b), None)
        except ValueError:
            explain_broadcast(name, [self.shape, np.shape(b)])
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
        return Tensor._make(~self._array, None)

    def eq(self, other: Any) -> Tensor:
        """Elementwise self == other (bool, no gradient)."""
        return self == other

    def sign(self) -> Tensor:
        """−1, 0 or +1 by the sign of each element (no gradient)."""
        return Tensor._make(np.sign(self._array), None)

    def any(self) -> Tensor:
        """True if any element is nonzero (no gradient)."""
        return Tensor._make(np.any(self._array), None)

    def all(self) -> Tensor:
        """True if all elements are nonzero (no gradient)."""
        return Tensor._make(np.all(self._array), None)

    def isnan(self) -> Tensor:
        """Elementwise test for nan (no gradient)."""
        return Tensor._make(np.isnan(self._array), None)

    def isinf(self) -> Tensor:
        """Elementwise test for ±inf (no gradient)."""
        return Tensor._make(np.isinf(self._array), None)

    def isfinite(self) -> Tensor:
        """Elementwise test for finite values (no gradient)."""
        return Tensor._make(np.isfinite(self._array), None)

    # ----------------------------------------------------------------- dims
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
        if type(dim) is int and axis is None:  # the common case, one valid int dim, in one step
            nd = self.ndim
            if -nd <= dim < nd:
                return (dim % nd,)
        if axis is not None:
            if dim is not None:
                raise TypeError(f"{name}: give dim or axis, not both")
            dim = axis
        if dim is None:
            return None
        if isinstance(dim, (int, np.integer)):
            dims = (dim,)
        elif isinstance(dim, (tuple, list)):
            dims = tuple(dim)
        else:
            raise TypeError(f"{name}: dim must be an int or a tuple of ints, got {dim!r}")
        if self.ndim == 0:
            # PyTorch accepts dim 0 / -1 on a 0-d tensor and reduces nothing.
            for d in dims:
                self._dim(d, name)
            return ()
        out = tuple(sorted({self._dim(d, name) for d in dims}))
        if len(out) != len(dims):
            raise ValueError(f"{name}: dim {dim} names a dimension twice")
        return out


# Tensor classes whose `_array` is their own values (not vmap's BatchedTensor): the operators'
# one-step path takes them. nn registers Parameter here with `register_plain_type`.
PLAIN_TYPES: set[type] = {Tensor}


def register_plain_type(cls: type) -> None:
    """Let the operators' fast path take tensors of this Tensor subclass (its `_array` holds its values)."""
    PLAIN_TYPES.add(cls)


class DataAlias(Tensor):
    """What ``t.data`` returns: a Tensor sharing t's storage whose in-place writes skip the version check."""

    __slots__ = ()
    counts_writes = False


# The one link from autograd up to Tensor: Function.apply and the engines make Tensors of this class.
autograd.register_tensor_type(Tensor)


register_plain_type(DataAlias)
