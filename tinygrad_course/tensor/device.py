"""Devices: there is one, the CPU. PyTorch's device API, so that device-agnostic programs run.

``tc.device("cpu")``, ``t.device``, ``t.cpu()``, ``t.to("cpu")``, ``device=`` on every factory,
``tc.cuda.is_available()`` (False) … all work; asking for any other device raises one clear error.
"""

from __future__ import annotations

from typing import Any


class device:  # noqa: N801 - PyTorch's name
    """A device: here always ``device(type='cpu')``; ``device('cpu')``, ``device('cpu', 0)`` and ``'cpu:0'`` are accepted."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        name = str(type)
        if ":" in name:
            name, _, number = name.partition(":")
            index = int(number) if number.isdigit() else index
        if name != "cpu":
            raise RuntimeError(
                f"device: {type!r} is not available; tinygrad_course runs on the CPU only "
                "(use 'cpu', or write device-agnostic code with tc.cuda.is_available(), which is False)"
            )
        self.type = "cpu"
        self.index = index

    def __eq__(self, other: Any) -> bool:
        try:
            return isinstance(other, (device, str)) and device(other).type == self.type
        except RuntimeError:
            return False

    def __hash__(self) -> int:
        return hash(self.type)

    def __repr__(self) -> str:
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.index is None else f"cpu:{self.index}"


CPU = device("cpu")


def check(where: Any, op: str) -> None:
    """Accept None or the CPU in any of its spellings; raise the one clear error for anything else."""
    if where is None or where is CPU:
        return
    try:
        device(where)
    except (RuntimeError, ValueError, TypeError):
        raise RuntimeError(
            f"{op}: device {where!r} is not available; tinygrad_course runs on the CPU only (device='cpu')"
        ) from None


def parse_to(args: tuple[Any, ...], kwargs: dict[str, Any], op: str) -> tuple[Any, Any, bool]:
    """The (dtype, device, copy) of PyTorch's ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, keywords too."""
    kwargs = dict(kwargs)
    dtype, where, copy = kwargs.pop("dtype", None), kwargs.pop("device", None), kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}: unexpected keyword arguments {sorted(kwargs)}; accepted: dtype, device, copy, non_blocking")
    for a in args:
        if hasattr(a, "_array"):  # a Tensor: its dtype (and its device, the CPU)
            dtype = a.dtype
        elif isinstance(a, (str, device)):
            where = a
        elif not isinstance(a, bool):  # (a positional non_blocking)
            dtype = a
    check(where, op)
    return dtype, where, bool(copy)


class _NoAccelerator:
    """What ``tc.cuda``, ``tc.backends.mps`` and ``tc.accelerator`` answer: nothing is available."""

    def __init__(self, name: str) -> None:
        self._name = name

    def is_available(self) -> bool:
        """False: only the CPU exists here."""
        return False

    def device_count(self) -> int:
        """0: only the CPU exists here."""
        return 0

    def manual_seed(self, seed: int) -> None:
        """Accepted (nothing to seed), as PyTorch's on a machine without the device."""

    def manual_seed_all(self, seed: int) -> None:
        """Accepted (nothing to seed)."""

    def __repr__(self) -> str:
        return f"<{self._name}: not available>"


cuda = _NoAccelerator("cuda")
accelerator = _NoAccelerator("accelerator")


class _Backends:
    """``tc.backends.mps`` and ``tc.backends.cuda``: not available."""

    def __init__(self) -> None:
        self.mps = _NoAccelerator("mps")
        self.cuda = _NoAccelerator("cuda")


backends = _Backends()
