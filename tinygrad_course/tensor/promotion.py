"""PyTorch's type promotion: which dtype ``a op b`` computes in.

Categories order bool < integer < floating < complex. Operands come in three priorities: tensors with
dimensions, 0-d tensors, and Python numbers. A lower-priority operand changes the result only
when its category is higher, and then a Python number brings its category's default dtype
(int64, or the default float dtype) rather than its own width:

    int32 tensor + 2.5           → float32   (numpy: float64)
    float16 tensor + float64 0-d → float16   (the dimensioned operand decides in its category)
    bool tensor + 5              → int64     (numpy with the scalar cast to bool: True)
    int64 tensor + float16       → float16   (a float with an int keeps the float's width)
    float64 tensor + 1j          → complex128 (a complex number keeps the float's width)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_course.tensor import dtypes


def _category(d: np.dtype) -> int:
    return 0 if d.kind == "b" else 2 if d.kind == "f" else 3 if d.kind == "c" else 1


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """Two dtypes' common dtype: the higher category wins with its own width; within one, the wider.

    Complex with floating takes the wider of the two parts (float64 with complex64 → complex128).
    """
    ca, cb = _category(a), _category(b)
    if {ca, cb} == {2, 3}:
        return np.promote_types(a, b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _combine(higher: np.dtype | None, lower: np.dtype | None) -> np.dtype | None:
    """A higher-priority result meets a lower-priority one (PyTorch's combine_categories)."""
    if higher is None:
        return lower
    if lower is None or _category(higher) >= _category(lower):
        return higher
    if lower.kind == "c":  # a complex operand of lower priority: complex with the floating operand's width
        return dtypes.to_complex(higher) if higher.kind == "f" else lower
    if higher.kind == "b" or lower.kind == "f":
        return promote_types(higher, lower) if higher.kind == "b" else lower
    return higher


def result_type(*operands: Any) -> np.dtype:
    """The dtype PyTorch computes ``op(*operands)`` in; operands are Tensors, numpy arrays or Python numbers."""
    dim = zero = scalar = None
    for x in operands:
        if isinstance(x, (bool, np.bool_)):
            d, slot = dtypes.bool_, "scalar"
        elif isinstance(x, (int, np.integer)):
            d, slot = dtypes.int64, "scalar"
        elif isinstance(x, (float, np.floating)):
            d, slot = dtypes.get_default_dtype(), "scalar"
        elif isinstance(x, (complex, np.complexfloating)):
            d, slot = dtypes.get_default_complex_dtype(), "scalar"
        elif not hasattr(x, "dtype") or x.dtype.kind not in "biufc":
            raise TypeError(f"not a number or tensor: got {x!r}; accepted: Tensors, numpy arrays, bool, int, float and complex")
        else:
            d = x.dtype
            slot = "dim" if x.ndim > 0 else "zero"
        if slot == "dim":
            dim = d if dim is None else promote_types(dim, d)
        elif slot == "zero":
            zero = d if zero is None else promote_types(zero, d)
        else:
            scalar = d if scalar is None else promote_types(scalar, d)
    out = _combine(dim, _combine(zero, scalar))
    assert out is not None, "result_type needs at least one operand"
    return out
