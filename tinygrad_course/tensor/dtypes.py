"""dtypes: numpy dtypes under PyTorch's names, and the default floating dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
uint8 = np.dtype(np.uint8)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
complex64 = np.dtype(np.complex64)
complex128 = np.dtype(np.complex128)
# PyTorch's other names for the same dtypes.
half, float_, double = float16, float32, float64
short, int_, long = int16, int32, int64
cfloat, cdouble = complex64, complex128

# Every name a dtype may be given by, for `as_dtype` and its error message.
NAMES = {
    "float16": float16, "half": float16, "float32": float32, "float": float32, "float64": float64,
    "double": float64, "uint8": uint8, "int8": int8, "int16": int16, "short": int16, "int32": int32,
    "int": int32, "int64": int64, "long": int64, "bool": bool_,
    "complex64": complex64, "cfloat": complex64, "complex128": complex128, "cdouble": complex128,
}

# Python floats and lists of floats become this dtype (PyTorch's default is float32 too).
_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats: float32 unless changed by `set_default_dtype`."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of new tensors built from Python floats; only floating dtypes are accepted."""
    global _default_float
    d = as_dtype(dtype, "set_default_dtype")
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are accepted (float16/32/64), got {d}")
    _default_float = d


def get_default_complex_dtype() -> np.dtype:
    """The dtype of Python complex numbers: complex64 with the float32 default, complex128 with float64 (as PyTorch)."""
    return complex128 if _default_float == float64 else complex64


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64."""
    return dtype.kind == "f"


def is_complex(dtype: np.dtype) -> bool:
    """True for complex64/128."""
    return dtype.kind == "c"


def is_differentiable(dtype: np.dtype) -> bool:
    """True for the dtypes that may require grad: floating and complex."""
    return dtype.kind in "fc"


def to_real(dtype: np.dtype) -> np.dtype:
    """The real dtype of a complex one's parts (complex64 → float32), or the dtype itself."""
    return {complex64: float32, complex128: float64}.get(dtype, dtype)


def to_complex(dtype: np.dtype) -> np.dtype:
    """The complex dtype with parts of this real dtype (float64 → complex128; float16/32 → complex64)."""
    return complex128 if dtype in (float64, complex128) else complex64


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """A dtype from any of its names: a numpy dtype or type, one of ours, PyTorch's string names,
    or a Python type (float → float64, int → int64, bool → bool, as torch.tensor(..., dtype=float)).

    Unsupported dtypes raise a TypeError naming what exists.
    """
    if isinstance(dtype, str):
        d = NAMES.get(dtype.removeprefix("torch."))
    elif dtype is float:
        d = float64
    elif dtype is int:
        d = int64
    elif dtype is bool:
        d = bool_
    elif dtype is complex:
        d = complex128
    else:
        try:
            d = np.dtype(dtype)
        except TypeError:
            d = None
    if d is None or d not in NAMES.values():
        raise TypeError(
            f"{op}: unknown or unsupported dtype {dtype!r}; accepted: "
            + ", ".join(sorted(set(NAMES)))
        )
    return d


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating dtype, PyTorch's ``torch.finfo``: bits, eps, max, min, tiny (smallest_normal), resolution.

    ``tc.finfo()`` is the default dtype's; a complex dtype gives the limits of its parts.
    """

    def __init__(self, type: Any = None) -> None:  # noqa: A002 - PyTorch's argument name
        d = get_default_dtype() if type is None else as_dtype(type, "finfo")
        if d.kind == "c":
            d = to_real(d)
        if d.kind != "f":
            raise TypeError(f"finfo: expected a floating point dtype, got {d}; use tc.iinfo for integers")
        info = np.finfo(d)
        self.bits = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0 ** -int(info.precision)  # (exactly 1e-06 for float32, as PyTorch)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:.6e}, max={self.max:.6e}, eps={self.eps:.6e}, "
                f"smallest_normal={self.smallest_normal:.6e}, tiny={self.tiny:.6e}, dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Limits of an integer (or bool) dtype, PyTorch's ``torch.iinfo``: bits, max, min."""

    def __init__(self, type: Any) -> None:  # noqa: A002 - PyTorch's argument name
        d = as_dtype(type, "iinfo")
        if d.kind not in "iub":
            raise TypeError(f"iinfo: expected an integer dtype, got {d}; use tc.finfo for floating point")
        info = np.iinfo(np.uint8 if d.kind == "b" else d)
        self.bits = 8 if d.kind == "b" else int(info.bits)
        self.max = 1 if d.kind == "b" else int(info.max)
        self.min = 0 if d.kind == "b" else int(info.min)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min}, max={self.max}, dtype={self.dtype})"
