"""PyTorch's CPU orders among equal elements, replayed with numpy and Python (for mode, nanmedian, unique).

mode and nanmedian return an *index* as well as a value, and unique decides which NaN and which
zero (±0) come out; where equal values leave a choice, PyTorch's CPU kernels choose by the order
in which C++'s std::sort / std::nth_element leave the elements, which is not a stable order. The
functions here replay libstdc++'s algorithms (the library of PyTorch's Linux builds) only for
the rows where that order decides the answer; everything else is numpy.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

# The replay: introsort, introselect, the heap-sort fallback and the final insertion sort, step for
# step on a Python list, so that the same index comes out. `less` is the kernel's comparator; NaN
# compares false with everything, as in C++.

_THRESHOLD = 16  # libstdc++'s _S_threshold


def std_sort(v: list[Any], less: Any) -> None:
    """Sort v in place exactly as libstdc++'s std::sort(v.begin(), v.end(), less) does."""
    n = len(v)
    if n > 1:
        _introsort_loop(v, 0, n, 2 * (n.bit_length() - 1), less)
        _final_insertion_sort(v, 0, n, less)


def std_nth_element(v: list[Any], nth: int, less: Any) -> None:
    """Partially sort v in place exactly as libstdc++'s std::nth_element(v.begin(), v.begin() + nth, v.end(), less)."""
    n = len(v)
    if n == 0 or nth == n:
        return
    first, last, depth = 0, n, 2 * (n.bit_length() - 1)
    while last - first > 3:
        if depth == 0:
            _heap_select(v, first, nth + 1, last, less)
            v[first], v[nth] = v[nth], v[first]
            return
        depth -= 1
        cut = _partition_pivot(v, first, last, less)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(v, first, last, less)


def _introsort_loop(v: list[Any], first: int, last: int, depth: int, less: Any) -> None:
    while last - first > _THRESHOLD:
        if depth == 0:  # partial_sort(first, last, last): heap sort
            _heap_select(v, first, last, last, less)
            _sort_heap(v, first, last, less)
            return
        depth -= 1
        cut = _partition_pivot(v, first, last, less)
        _introsort_loop(v, cut, last, depth, less)
        last = cut


def _partition_pivot(v: list[Any], first: int, last: int, less: Any) -> int:
    mid = first + (last - first) // 2
    a, b, c = first + 1, mid, last - 1  # the median of three moves to first, the pivot
    if less(v[a], v[b]):
        pick = b if less(v[b], v[c]) else c if less(v[a], v[c]) else a
    else:
        pick = a if less(v[a], v[c]) else c if less(v[b], v[c]) else b
    v[first], v[pick] = v[pick], v[first]
    lo, hi, pivot = first + 1, last, v[first]
    while True:  # the unguarded partition (bounds kept here: a NaN can break C++'s sentinels)
        while lo < last and less(v[lo], pivot):
            lo += 1
        hi -= 1
        while hi > first and less(pivot, v[hi]):
            hi -= 1
        if not lo < hi:
            return lo
        v[lo], v[hi] = v[hi], v[lo]
        lo += 1


def _final_insertion_sort(v: list[Any], first: int, last: int, less: Any) -> None:
    if last - first > _THRESHOLD:
        _insertion_sort(v, first, first + _THRESHOLD, less)
        for i in range(first + _THRESHOLD, last):
            _linear_insert(v, i, first, less)
    else:
        _insertion_sort(v, first, last, less)


def _insertion_sort(v: list[Any], first: int, last: int, less: Any) -> None:
    for i in range(first + 1, last):
        if less(v[i], v[first]):
            v[first:i + 1] = [v[i]] + v[first:i]
        else:
            _linear_insert(v, i, first, less)


def _linear_insert(v: list[Any], i: int, first: int, less: Any) -> None:
    val = v[i]
    while i > first and less(val, v[i - 1]):
        v[i] = v[i - 1]
        i -= 1
    v[i] = val


def _adjust_heap(v: list[Any], first: int, hole: int, length: int, value: Any, less: Any) -> None:
    top = second = hole
    while second < (length - 1) // 2:
        second = 2 * (second + 1)
        if less(v[first + second], v[first + second - 1]):
            second -= 1
        v[first + hole] = v[first + second]
        hole = second
    if length % 2 == 0 and second == (length - 2) // 2:
        second = 2 * (second + 1)
        v[first + hole] = v[first + second - 1]
        hole = second - 1
    parent = (hole - 1) // 2  # push_heap
    while hole > top and less(v[first + parent], value):
        v[first + hole] = v[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    v[first + hole] = value


def _pop_heap(v: list[Any], first: int, last: int, result: int, less: Any) -> None:
    value = v[result]
    v[result] = v[first]
    _adjust_heap(v, first, 0, last - first, value, less)


def _heap_select(v: list[Any], first: int, middle: int, last: int, less: Any) -> None:
    length = middle - first
    if length >= 2:  # make_heap
        for parent in range((length - 2) // 2, -1, -1):
            _adjust_heap(v, first, parent, length, v[first + parent], less)
    for i in range(middle, last):
        if less(v[i], v[first]):
            _pop_heap(v, first, middle, i, less)


def _sort_heap(v: list[Any], first: int, last: int, less: Any) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(v, first, last, last, less)


def _first_less(a: tuple[Any, int], b: tuple[Any, int]) -> bool:
    return a[0] < b[0]


def mode_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, indices) of PyTorch's CPU mode of each row of a 2-D array (rows of length ≥ 1).

    PyTorch sorts (value, index) pairs by value with std::sort, then scans the runs of equal
    values: the first longest run wins (the smallest of the most frequent values), and its
    index is that of the run's last pair. Rows whose answer the order of equal elements decides
    (a NaN, or a repeated mode in a row longer than 16, where std::sort is not stable) replay
    libstdc++'s sort; the others are computed at once with numpy (there the order is stable).
    """
    rows, n = a.shape
    srt = np.sort(a, axis=1)
    pos = np.arange(n)
    end = np.ones(a.shape, dtype=bool)
    end[:, :-1] = srt[:, :-1] != srt[:, 1:]  # NaN != NaN: each NaN is a run of its own
    start = np.ones(a.shape, dtype=bool)
    start[:, 1:] = end[:, :-1]
    begin = np.maximum.accumulate(np.where(start, pos, 0), axis=1)
    freq = np.where(end, pos - begin + 1, 0)
    best = np.argmax(freq, axis=1)
    values = srt[np.arange(rows), best]
    indices = np.where(a == values[:, None], pos, -1).max(axis=1)
    nans = np.isnan(a).any(axis=1) if a.dtype.kind in "fc" else np.zeros(rows, dtype=bool)
    replay = nans | ((n > _THRESHOLD) & (freq.max(axis=1, initial=0) > 1))
    for r in np.nonzero(replay)[0]:
        pairs = list(zip(a[r].tolist(), range(n)))
        std_sort(pairs, _first_less)
        mode, index, run, longest = pairs[0][0], 0, 0, 0
        for i in range(n):
            run += 1
            if i == n - 1 or pairs[i][0] != pairs[i + 1][0]:
                if run > longest:
                    mode, index, longest = pairs[i][0], pairs[i][1], run
                run = 0
        values[r], indices[r] = mode, index
    return values, indices.astype(np.int64)


def _key_value_less(a: tuple[Any, int], b: tuple[Any, int]) -> bool:
    """PyTorch's KeyValueCompAsc: by value, NaN after every number."""
    return (a[0] == a[0] and b[0] != b[0]) or a[0] < b[0]


# Up to this many elements `sort_order` replays PyTorch's unstable sort (a Python loop); beyond, a stable sort.
REPLAY_LIMIT = 65536


def sort_order(a: np.ndarray) -> np.ndarray:
    """The order in which PyTorch's CPU sort (stable=False) leaves a 1-D float array: libstdc++'s std::sort.

    It differs from a stable order only among NaNs and among equal values, which matters where
    equal values can be told apart (−0.0 and 0.0) or each is its own group (NaN, for unique):
    those arrays of up to REPLAY_LIMIT elements are replayed, the others sorted stably by numpy.
    """
    if a.dtype.kind == "f" and a.size <= REPLAY_LIMIT:
        zeros = np.signbit(a[a == 0])
        if np.isnan(a).any() or (zeros.any() and not zeros.all()):
            pairs = list(zip(a.tolist(), range(a.size)))
            std_sort(pairs, _key_value_less)
            return np.fromiter((p[1] for p in pairs), dtype=np.int64, count=a.size)
    return np.argsort(a, kind="stable")


def _never_less(a: Any, b: Any) -> bool:
    return False


@functools.lru_cache(maxsize=256)
def all_nan_median_index(n: int) -> int:
    """The index PyTorch's CPU nanmedian(dim) returns for a row of n NaNs (n ≥ 1).

    Its kernel runs std::nth_element to position (n − #NaN − 1) / 2, which is 0 in C++ for an
    all-NaN row, with a comparator under which NaNs are all equivalent: the index is wherever
    libstdc++'s introselect leaves the first element (0, 0, 0, 2, 2, 3, 5, … for n = 1, 2, …).
    """
    v = list(range(n))
    std_nth_element(v, 0, _never_less)
    return v[0]
