"""Data sets and mini-batches (PyTorch's ``torch.utils.data`` names): the lecture's 𝓑.

    >>> import tinygrad_course as tc
    >>> from tinygrad_course.data import DataLoader, TensorDataset
    >>> x, y = tc.arange(10.0).reshape(5, 2), tc.arange(5)
    >>> [b[1].tolist() for b in DataLoader(TensorDataset(x, y), batch_size=2)]
    [[0, 1], [2, 3], [4]]

SGD replaces the cost C = (1/|𝒟|) Σ_{x∈𝒟} c(x) by its average over a mini-batch 𝓑 of M_𝓑
samples drawn at random. `DataLoader(shuffle=True)` draws a fresh permutation of 𝒟 every epoch
and cuts it into batches, so every sample is used exactly once per epoch. The permutations come
from the package's seeded generator (or the one passed), so ``manual_seed`` makes them
reproducible.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from tinygrad_course.tensor import Tensor, stack
from tinygrad_course.tensor import random as _random
from tinygrad_course.tensor.creation import from_numpy, tensor


class Dataset:
    """A map-style data set: subclass it with ``__getitem__(i)`` (one sample) and ``__len__``.

    A subclass may add ``__getitems__(indices)`` returning a whole, already collated batch; the
    DataLoader then uses it instead of fetching samples one by one.
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")


def _as_tensor(value: Any, where: str) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        return from_numpy(value)
    raise TypeError(f"{where}: expected Tensors (or numpy arrays), got {type(value).__name__}")


class TensorDataset(Dataset):
    """Samples are rows of tensors that share their first dimension: ``dataset[i] = (x[i], y[i], …)``."""

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        """Wrap the tensors (numpy arrays are wrapped without copying); all must have the same length."""
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        self.tensors = tuple(_as_tensor(t, f"TensorDataset: argument {i}") for i, t in enumerate(tensors))
        for i, t in enumerate(self.tensors):
            if t.ndim == 0:
                raise ValueError(
                    f"TensorDataset: tensor {i} is 0-d (shape ()); every tensor needs a first (sample) dimension"
                )
        first = self.tensors[0].shape[0]
        for i, t in enumerate(self.tensors[1:], start=1):
            if t.shape[0] != first:
                raise ValueError(
                    f"TensorDataset: size mismatch between tensors: tensor 0 has {first} samples "
                    f"(shape {self.tensors[0].shape}) but tensor {i} has {t.shape[0]} (shape {t.shape})"
                )

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        """The i-th row of every tensor."""
        return tuple(t[index] for t in self.tensors)

    def __getitems__(self, indices: Sequence[int] | np.ndarray) -> tuple[Tensor, ...]:
        """A whole batch at once: every tensor indexed by the index array (one gather each)."""
        index = np.asarray(indices, dtype=np.int64)
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        """Keep a reference to `dataset` and the index list (no data are copied)."""
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[index])]

    def __getitems__(self, indices: Sequence[int] | np.ndarray) -> Any:
        """A batch: delegated to the parent's ``__getitems__`` when it has one."""
        mapped = self.indices[np.asarray(indices, dtype=np.int64)]
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is not None:
            return getitems(mapped)
        return default_collate([self.dataset[int(i)] for i in mapped])

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Several data sets one after the other: sample i is taken from the data set that index falls in."""

    def __init__(self, datasets: Sequence[Dataset]) -> None:
        """Keep the data sets and their cumulative sizes (at least one data set, none iterable-style)."""
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError("ConcatDataset: absolute value of index should not exceed dataset length")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = 0 if k == 0 else self.cumulative_sizes[k - 1]
        return self.datasets[k][index - start]


class IterableDataset(Dataset):
    """An iterable-style data set: subclass it with ``__iter__`` yielding samples (a stream, no indexing).

    The DataLoader batches the samples in the order they come; shuffling is the stream's job.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__()")


def default_collate(samples: list[Any]) -> Any:
    """Stack a list of samples into a batch: Tensors and arrays are stacked along a new dim 0,
    numbers become a 1-d tensor, and tuples/lists/dicts are collated field by field."""
    first = samples[0]
    if isinstance(first, Tensor):
        return stack(samples)
    if isinstance(first, np.ndarray):
        return from_numpy(np.stack(samples))
    if isinstance(first, (bool, np.bool_)):
        return tensor(np.array(samples, dtype=bool))
    if isinstance(first, numbers.Integral):
        return tensor(np.array(samples, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return tensor([float(s) for s in samples])
    if isinstance(first, tuple | list):
        return type(first)(default_collate([s[k] for s in samples]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    raise TypeError(
        f"default_collate: cannot batch samples of type {type(first).__name__}; "
        "accepted: Tensor, ndarray, numbers, and tuples/lists/dicts of them (or pass collate_fn)"
    )


class DataLoader:
    """Mini-batches of a data set: ``for x, y in DataLoader(dataset, batch_size=32, shuffle=True)``.

    Each epoch (each ``iter``) visits every sample exactly once: in order, or, with `shuffle`,
    in a fresh random permutation drawn from `generator` (default: the package's generator, so
    ``manual_seed`` fixes the order). The last batch is smaller when batch_size does not divide
    the data set; `drop_last` drops it instead.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        sampler: Any = None,
        batch_sampler: Any = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], Any] | None = None,
        generator: Any = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ) -> None:
        """Check the arguments (ValueError/TypeError naming the bad one) and keep them.

        PyTorch's positional order. Batches are made in this process: num_workers, pin_memory,
        timeout, worker_init_fn, prefetch_factor, persistent_workers and in_order are accepted
        (checked as PyTorch checks them) and change nothing but speed in PyTorch either; custom
        `sampler`/`batch_sampler` objects are not supported (a clear error).
        """
        if sampler is not None or batch_sampler is not None:
            raise NotImplementedError("DataLoader: custom sampler/batch_sampler are not supported; use shuffle=True "
                                      "(a fresh permutation per epoch) or index a Subset")
        if isinstance(num_workers, bool) or not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be a non-negative integer, got {num_workers!r}")
        if timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        for name, flag in (("shuffle", shuffle), ("drop_last", drop_last)):
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} must be True or False, got {type(flag).__name__} ({flag!r})")
        generator = _numpy_generator(generator, "DataLoader")
        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True")
        elif not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must have __len__ and __getitem__, got {type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        """Batches per epoch: ⌈N / batch_size⌉, or ⌊N / batch_size⌋ with drop_last."""
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        generator = self.generator if self.generator is not None else _random.generator()
        return generator.permutation(n)

    def __iter__(self) -> Iterator[Any]:
        """The batches of one epoch (the permutation is drawn when iteration starts)."""
        if isinstance(self.dataset, IterableDataset):
            yield from self._stream_batches()
            return
        order = self._order()
        getitems = getattr(self.dataset, "__getitems__", None) if self.collate_fn is None else None
        collate = self.collate_fn or default_collate
        for k in range(len(self)):
            indices = order[k * self.batch_size : (k + 1) * self.batch_size]
            if getitems is not None:
                yield getitems(indices)
            else:
                yield collate([self.dataset[int(i)] for i in indices])

    def _stream_batches(self) -> Iterator[Any]:
        """The batches of an IterableDataset: batch_size samples at a time, in the stream's order."""
        collate = self.collate_fn or default_collate
        batch: list[Any] = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)


def _numpy_generator(generator: Any, where: str) -> np.random.Generator | None:
    """The numpy stream behind `generator`: a tc.Generator (PyTorch's torch.Generator), a numpy Generator, or None."""
    if generator is None or isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, _random.Generator):
        return generator._rng
    raise TypeError(f"{where}: generator must be a tc.Generator or a numpy.random.Generator, got {type(generator).__name__}")


def random_split(
    dataset: Dataset, lengths: Sequence[int | float], generator: Any = None
) -> list[Subset]:
    """Split `dataset` at random into non-overlapping Subsets of the given lengths.

    `lengths` are counts summing to len(dataset), or fractions summing to 1 (floored, with the
    remainder handed out one by one from the first subset on, like PyTorch).
    """
    n = len(dataset)
    values = list(lengths)
    if not values:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        counts = [int(v) for v in values]
        if any(c < 0 for c in counts) or sum(counts) != n:
            raise ValueError(
                f"random_split: lengths {counts} must be non-negative and sum to the length of the dataset ({n})"
            )
    elif all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        if any(not 0 <= v <= 1 for v in values) or not math.isclose(sum(values), 1.0, abs_tol=1e-9):
            raise ValueError(f"random_split: fractions {values} must each be in [0, 1] and sum to 1")
        counts = [int(math.floor(n * v)) for v in values]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    else:
        raise TypeError(f"random_split: lengths must be all ints or all fractions, got {values!r}")
    generator = _numpy_generator(generator, "random_split")
    permutation = (generator if generator is not None else _random.generator()).permutation(n)
    offsets = np.cumsum([0, *counts])
    return [Subset(dataset, permutation[offsets[i] : offsets[i + 1]]) for i in range(len(counts))]
