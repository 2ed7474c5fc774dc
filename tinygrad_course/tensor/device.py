"""Devices: there is one, the CPU. PyTorch's device API, so that device-agnostic programs run.

``tc.device("cpu")``, ``t.device``, ``t.cpu()``, ``t.to("cpu")``, ``device=`` on every factory,
``tc.cuda.is_available()`` (False) … all work; asking for any other device raises one clear error.
"""

from __future__ import annotations

import os
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


class _Cudnn:
    """``tc.backends.cudnn``: never available; its switches (benchmark, deterministic, enabled, allow_tf32) are
    kept so that scripts setting them run, and change nothing (there is no cuDNN on the CPU)."""

    def __init__(self) -> None:
        self.benchmark = False
        self.deterministic = False
        self.enabled = True
        self.allow_tf32 = True

    def is_available(self) -> bool:
        """False: no cuDNN here."""
        return False

    def __repr__(self) -> str:
        return "<tc.backends.cudnn: not available>"


class _Backends:
    """``tc.backends.mps``, ``tc.backends.cuda`` and ``tc.backends.cudnn``: not available."""

    def __init__(self) -> None:
        self.mps = _NoAccelerator("mps")
        self.cuda = _NoAccelerator("cuda")
        self.cudnn = _Cudnn()


backends = _Backends()


# What scripts set about threads and determinism. numpy's BLAS picks its own threads (set
# OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before starting Python to change them), so the count is
# recorded and reported, not applied; every op here is deterministic on the CPU already.
_settings = {"num_threads": os.cpu_count() or 1, "deterministic": False}


def set_num_threads(n: int) -> None:
    """Record the thread count PyTorch would use (numpy's BLAS threads are set by OPENBLAS_NUM_THREADS instead)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expects a positive integer, got {n!r}")
    _settings["num_threads"] = n


def get_num_threads() -> int:
    """The count given to set_num_threads (the number of CPUs until then)."""
    return int(_settings["num_threads"])


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Accepted as PyTorch's switch: every op here is deterministic on the CPU, so nothing changes."""
    if not isinstance(mode, bool):
        raise TypeError(f"use_deterministic_algorithms: mode must be True or False, got {type(mode).__name__}")
    _settings["deterministic"] = mode


def are_deterministic_algorithms_enabled() -> bool:
    """What use_deterministic_algorithms was last given (False until then)."""
    return bool(_settings["deterministic"])
