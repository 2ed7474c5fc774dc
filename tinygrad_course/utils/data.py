"""``torch.utils.data``'s names, so ``from tinygrad_course.utils.data import DataLoader`` works as in PyTorch.

The classes live in `tinygrad_course.data` (data sets, mini-batches 𝓑, random_split).
"""

from tinygrad_course.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)

__all__ = ["ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "Subset", "TensorDataset", "default_collate",
           "random_split"]
