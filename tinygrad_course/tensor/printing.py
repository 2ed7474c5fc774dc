"""How a Tensor prints: PyTorch's layout and number format (4 decimals, scientific when the range asks).

    tensor([0.1000, 2.5000, 3.0000])     fixed, `precision` decimals
    tensor([1., 2.])                     every value an integer
    tensor([1.0000e-05, 1.0000e+00])     max/min > 1000, max > 1e8 or min < 1e-4
"""

from __future__ import annotations

from typing import Any

import numpy as np

# PyTorch's defaults; `set_printoptions` changes them.
_options: dict[str, Any] = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: int | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as PyTorch's: decimals, summarising threshold, edge items, line width, profile."""
    if profile is not None:
        presets = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, 2**63 - 1, 3, 80)}
        if profile not in presets:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; accepted: {', '.join(presets)}")
        for key, value in zip(("precision", "threshold", "edgeitems", "linewidth"), presets[profile]):
            _options[key] = value
    for key, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                       ("linewidth", linewidth)):
        if value is not None:
            _options[key] = int(value)
    _options["sci_mode"] = sci_mode


def _float_formatter(values: np.ndarray) -> Any:
    """A function formatting one float as PyTorch would print it among `values` (padded to one width)."""
    precision = _options["precision"]
    finite = values[np.isfinite(values)].astype(np.float64)
    nonzero = np.abs(finite[finite != 0])
    int_mode = bool(np.all(finite == np.ceil(finite)))
    sci = False
    if nonzero.size:
        big, small = nonzero.max(), nonzero.min()
        sci = big / small > 1000.0 or big > 1e8 or (not int_mode and small < 1e-4)
    if _options["sci_mode"] is not None:
        sci = _options["sci_mode"]

    def one(v: Any) -> str:
        if not np.isfinite(v):
            return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        if sci:
            return f"{v:.{precision}e}"
        return f"{v:.0f}." if int_mode else f"{v:.{precision}f}"

    width = max((len(one(v)) for v in values.ravel()), default=0)
    return lambda v: one(v).rjust(width)


def tensor_body(array: np.ndarray) -> str:
    """The bracketed values of a tensor, as inside PyTorch's ``tensor(…)``."""
    if array.size == 0:
        return "[]" if array.shape == (0,) else f"[], size={array.shape}"
    if array.dtype.kind == "f":
        formatter = {"float_kind": _float_formatter(array)}
    elif array.dtype.kind == "c":  # each part formatted like a float tensor of its own, as PyTorch
        real, imag = _float_formatter(array.real), _float_formatter(array.imag)

        def one_complex(v: Any) -> str:
            im = imag(abs(v.imag)).strip() if not np.isnan(v.imag) else "nan"
            return f"{real(v.real)}{'-' if np.signbit(v.imag) else '+'}{im}j"

        formatter = {"complex_kind": one_complex}
    elif array.dtype.kind == "b":
        width = 5 if not array.all() else 4  # "False" is one wider than "True"
        formatter = {"bool": lambda v: str(bool(v)).rjust(width)}
    else:
        width = max(len(str(v)) for v in array.ravel())
        formatter = {"int_kind": lambda v: str(v).rjust(width)}
    return np.array2string(
        array, separator=", ", prefix="tensor(", formatter=formatter, threshold=_options["threshold"],
        edgeitems=_options["edgeitems"], max_line_width=_options["linewidth"],
    )
