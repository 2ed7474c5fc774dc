"""Version counters: did an in-place write change a value that a node saved for backward?

PyTorch gives every tensor a version counter, shared with its views, bumped by each in-place
write (``t._version``); a node remembers the versions of what it saved, and backward refuses
a value that changed since. Here the counter belongs to the memory itself, numpy's root array,
so a tensor, its views and its ``detach()`` share it for free; and a node remembers nothing:
each write is stamped with the next creation number (the clock that numbers nodes), so "this
value was written after node n was made" is one comparison, and only for the nodes made before
the latest write (none, in a usual training step: the optimizer writes before the forward).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from tinygrad_course.autograd.graph import next_creation_number

# The creation number of the latest in-place write anywhere; nodes made after it need no check.
last_write = -1
# id(root array) → its Counter, for the arrays that were ever written in place.
_counters: dict[int, Counter] = {}
# How many write stamps a counter keeps, to tell the version a node saw (older ones are dropped).
_KEEP = 16


class Counter:
    """The version of one block of memory: how often it was written, and when (recent stamps)."""

    __slots__ = ("version", "stamps", "_ref")

    def __init__(self, root: np.ndarray) -> None:
        self.version = 0
        self.stamps: list[int] = []
        key = id(root)
        # Forget the counter when the memory goes, so that a new array at the same id starts at 0.
        self._ref = weakref.ref(root, lambda _: _counters.pop(key, None))


def root_of(array: np.ndarray) -> np.ndarray:
    """The array that owns the memory `array` views (the array itself if it owns it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def bump(*arrays: np.ndarray) -> None:
    """Record an in-place write into each array's memory: version + 1, stamped with the clock.

    One call for many arrays (an optimizer step writes every parameter): it runs every step.
    """
    global last_write
    stamp = next_creation_number()
    for array in arrays:
        root = array if array.base is None else root_of(array)
        counter = _counters.get(id(root))
        if counter is None:
            counter = _counters[id(root)] = Counter(root)
        counter.version += 1
        stamps = counter.stamps
        stamps.append(stamp)
        if len(stamps) > 2 * _KEEP:
            del stamps[:-_KEEP]
    last_write = stamp


def version_of(array: np.ndarray) -> int:
    """How many in-place writes `array`'s memory has had (PyTorch's ``t._version``)."""
    counter = _counters.get(id(root_of(array)))
    return 0 if counter is None else counter.version


def check_saved(node: Any) -> None:
    """Raise PyTorch's error if a value `node` saved (or, for a view op, its output) was written after the node was made."""
    values: list[Any] = list(node._saved or ())
    if node._out_data is not None and node._out_data.base is not None:
        values.append(node._out_data)  # a view's value changes when its base is written
    for k, value in enumerate(values):
        if not isinstance(value, np.ndarray):
            continue
        counter = _counters.get(id(root_of(value)))
        if counter is None or not counter.stamps or counter.stamps[-1] < node._seq:
            continue
        later = sum(1 for s in counter.stamps if s > node._seq)
        # stamps older than the kept ones were dropped: then the count of later writes is a lower bound
        dropped = len(counter.stamps) < counter.version and counter.stamps[0] > node._seq
        expected = "an earlier version" if dropped else f"version {counter.version - later}"
        what = "its output" if value is node._out_data else f"saved value {k}"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace "
            f"operation: [{value.dtype} {list(value.shape)}], {what} of {node.name()}, is at version "
            f"{counter.version}; expected {expected} instead. Make a copy (clone()) before writing "
            "in place, or write it after backward()."
        )
