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
# PyTorch's other names for the same dtypes.
half, float_, double = float16, float32, float64
short, int_, long = int16, int32, int64

# Every name a dtype may be given by, for `as_dtype` and its error message.
NAMES = {
    "float16": float16, "half": float16, "float32": float32, "float": float32, "float64": float64,
    "double": float64, "uint8": uint8, "int8": int8, "int16": int16, "short": int16, "int32": int32,
    "int": int32, "int64": int64, "long": int64, "bool": bool_,
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


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64, the dtypes that may require grad."""
    return dtype.kind == "f"


def as_dtype(dtype: Any, op: str = "dtype") -> np.dtype:
    """A dtype from any of its names: a numpy dtype or type, one of ours, PyTorch's string names,
    or a Python type (float → float64, int → int64, bool → bool, as torch.tensor(..., dtype=float)).

    Complex and other unsupported dtypes raise a TypeError naming what exists.
    """
    if isinstance(dtype, str):
        d = NAMES.get(dtype.removeprefix("torch."))
    elif dtype is float:
        d = float64
    elif dtype is int:
        d = int64
    elif dtype is bool:
        d = bool_
    else:
        try:
            d = np.dtype(dtype)
        except TypeError:
            d = None
    if d is None or d not in NAMES.values():
        what = "complex tensors are not supported yet; " if d is not None and d.kind == "c" else ""
        raise TypeError(
            f"{op}: unknown or unsupported dtype {dtype!r}; {what}accepted: "
            + ", ".join(sorted(set(NAMES)))
        )
    return d
