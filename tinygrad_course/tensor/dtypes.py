"""dtypes: numpy dtypes under PyTorch's names, and the default floating dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

# Python floats and lists of floats become this dtype (PyTorch's default is float32 too).
_default_float = float32


def get_default_dtype() -> np.dtype:
    """The dtype given to Python floats: float32 unless changed by `set_default_dtype`."""
    return _default_float


def set_default_dtype(dtype: Any) -> None:
    """Set the dtype of new tensors built from Python floats; only floating dtypes are accepted."""
    global _default_float
    try:
        d = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"set_default_dtype: {dtype!r} is not a dtype; use float32 or float64") from err
    if d.kind != "f":
        raise TypeError(f"set_default_dtype: only floating dtypes are accepted (float16/32/64), got {d}")
    _default_float = d


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64, the dtypes that may require grad."""
    return dtype.kind == "f"
