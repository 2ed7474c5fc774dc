"""Dataset, TensorDataset, Subset, DataLoader and random_split: coverage of epochs, order, batch sizes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


def index_dataset(n: int) -> TensorDataset:
    """Sample i is (i as a float row, i as a label): batches show which samples they hold."""
    return TensorDataset(tc.arange(float(n)).reshape(n, 1), tc.arange(n))


def labels_of(loader: DataLoader) -> list[list[int]]:
    return [batch[1].tolist() for batch in loader]


@pytest.mark.parametrize("batch_size", [1, 3, 7, 20, 25])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_exactly_once_per_epoch(batch_size, shuffle):
    loader = DataLoader(index_dataset(20), batch_size=batch_size, shuffle=shuffle)
    for _ in range(3):  # three epochs, each a full pass
        seen = [i for batch in labels_of(loader) for i in batch]
        assert sorted(seen) == list(range(20))


def test_unshuffled_order_is_the_dataset_order():
    assert labels_of(DataLoader(index_dataset(5), batch_size=2)) == [[0, 1], [2, 3], [4]]


def test_inputs_and_targets_stay_paired():
    for x, y in DataLoader(index_dataset(10), batch_size=4, shuffle=True):
        assert x.shape == (len(y), 1)
        assert x._array[:, 0].tolist() == [float(v) for v in y.tolist()]


def test_shuffled_order_is_reproducible_under_manual_seed_and_changes_between_epochs():
    loader = DataLoader(index_dataset(30), batch_size=8, shuffle=True)
    tc.manual_seed(5)
    first, second = labels_of(loader), labels_of(loader)
    tc.manual_seed(5)
    assert labels_of(loader) == first
    assert labels_of(loader) == second
    assert first != second  # a fresh permutation every epoch
    assert first != labels_of(DataLoader(index_dataset(30), batch_size=8))  # and not the plain order


def test_own_generator_gives_reproducible_order_independent_of_global_seed():
    orders = []
    for global_seed in (1, 2):
        tc.manual_seed(global_seed)
        loader = DataLoader(index_dataset(12), batch_size=5, shuffle=True, generator=np.random.default_rng(7))
        orders.append(labels_of(loader))
    assert orders[0] == orders[1]


def test_last_partial_batch_kept_or_dropped():
    kept = DataLoader(index_dataset(20), batch_size=7)
    dropped = DataLoader(index_dataset(20), batch_size=7, drop_last=True)
    assert [len(b) for b in labels_of(kept)] == [7, 7, 6]
    assert [len(b) for b in labels_of(dropped)] == [7, 7]
    assert (len(kept), len(dropped)) == (3, 2)
    exact = DataLoader(index_dataset(21), batch_size=7, drop_last=True)
    assert [len(b) for b in labels_of(exact)] == [7, 7, 7]
    assert len(DataLoader(index_dataset(5), batch_size=7, drop_last=True)) == 0


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, None])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=rf"DataLoader: batch_size must be a positive int, got {batch_size!r}"):
        DataLoader(index_dataset(4), batch_size=batch_size)


def test_bad_flags_and_generator():
    with pytest.raises(TypeError, match="DataLoader: shuffle must be True or False, got str"):
        DataLoader(index_dataset(4), shuffle="yes")
    with pytest.raises(TypeError, match="DataLoader: generator must be a tc.Generator or a numpy.random.Generator, got int"):
        DataLoader(index_dataset(4), generator=3)
    with pytest.raises(ValueError, match="num_workers option should be a non-negative integer"):
        DataLoader(index_dataset(4), num_workers=-1)
    with pytest.raises(NotImplementedError, match="custom sampler"):
        DataLoader(index_dataset(4), sampler=[0, 1, 2, 3])
    with pytest.raises(TypeError, match="dataset must have __len__ and __getitem__, got int"):
        DataLoader(5)


def test_tensor_dataset_rows_and_length():
    x = tc.arange(12.0).reshape(4, 3)
    y = tc.tensor([10, 11, 12, 13])
    data = TensorDataset(x, y)
    assert len(data) == 4
    row, label = data[2]
    assert row.tolist() == [6.0, 7.0, 8.0] and label.item() == 12
    batch_x, batch_y = data.__getitems__([3, 0])
    assert batch_x.tolist() == [[9.0, 10.0, 11.0], [0.0, 1.0, 2.0]] and batch_y.tolist() == [13, 10]


def test_tensor_dataset_wraps_numpy_arrays_without_copying():
    array = np.zeros((3, 2))
    data = TensorDataset(array)
    assert data.tensors[0]._array is array


def test_tensor_dataset_length_mismatch_names_both_lengths():
    with pytest.raises(
        ValueError, match=r"tensor 0 has 5 samples \(shape \(5, 2\)\) but tensor 1 has 4 \(shape \(4,\)\)"
    ):
        TensorDataset(tc.zeros(5, 2), tc.zeros(4))
    with pytest.raises(ValueError, match="needs at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match=r"tensor 1 is 0-d"):
        TensorDataset(tc.zeros(2), tc.tensor(1.0))
    with pytest.raises(TypeError, match="argument 0: expected Tensors \\(or numpy arrays\\), got list"):
        TensorDataset([1, 2, 3])


class Squares(Dataset):
    """A plain map-style data set without __getitems__: the loader collates sample by sample."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int) -> tuple[tc.Tensor, int]:
        return tc.tensor([float(i), float(i * i)]), i


def test_custom_dataset_is_collated_sample_by_sample():
    batches = list(DataLoader(Squares(), batch_size=4))
    x, y = batches[0]
    assert x.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 4.0], [3.0, 9.0]]
    assert y.tolist() == [0, 1, 2, 3] and y.dtype == np.int64
    assert batches[1][1].tolist() == [4, 5]


def test_base_dataset_says_what_to_implement():
    with pytest.raises(NotImplementedError, match="must implement __getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="must implement __len__"):
        len(Dataset())


def test_default_collate_kinds_and_refusal():
    assert default_collate([1.5, 2.5]).tolist() == [1.5, 2.5]
    assert default_collate([{"a": 1}, {"a": 2}])["a"].tolist() == [1, 2]
    assert default_collate([np.ones(2), np.zeros(2)]).shape == (2, 2)
    with pytest.raises(TypeError, match="cannot batch samples of type str"):
        default_collate(["a", "b"])


def test_random_split_partitions_reproducibly():
    data = index_dataset(10)
    tc.manual_seed(0)
    parts = random_split(data, [6, 4])
    assert [len(p) for p in parts] == [6, 4]
    members = [sorted(labels_of(DataLoader(p, batch_size=10))[0]) for p in parts]
    assert sorted(members[0] + members[1]) == list(range(10))
    assert not set(members[0]) & set(members[1])
    tc.manual_seed(0)
    again = random_split(data, [6, 4])
    assert list(again[0].indices) == list(parts[0].indices)
    own = [list(random_split(data, [6, 4], generator=np.random.default_rng(3))[0].indices) for _ in range(2)]
    assert own[0] == own[1]


def test_random_split_fractions_hand_out_the_remainder_first():
    assert [len(p) for p in random_split(index_dataset(10), [0.33, 0.33, 0.34])] == [4, 3, 3]


def test_random_split_bad_lengths():
    with pytest.raises(
        ValueError, match=r"lengths \[6, 3\] must be non-negative and sum to the length of the dataset \(10\)"
    ):
        random_split(index_dataset(10), [6, 3])
    with pytest.raises(ValueError, match=r"fractions \[0.5, 0.6\] must each be in \[0, 1\] and sum to 1"):
        random_split(index_dataset(10), [0.5, 0.6])
    with pytest.raises(ValueError, match=r"fractions \[5, 0.5\] must each be in \[0, 1\]"):
        random_split(index_dataset(10), [5, 0.5])
    with pytest.raises(TypeError, match="all ints or all fractions, got \\['a'\\]"):
        random_split(index_dataset(10), ["a"])
    with pytest.raises(ValueError, match="lengths is empty"):
        random_split(index_dataset(10), [])


def test_subset_items_and_batches_follow_its_indices():
    subset = Subset(index_dataset(10), [7, 2, 5])
    assert len(subset) == 3
    assert subset[1][1].item() == 2
    assert labels_of(DataLoader(subset, batch_size=2)) == [[7, 2], [5]]
    nested = Subset(Subset(Squares(), [5, 4, 3]), [2, 0])  # no __getitems__ at the bottom
    assert nested.__getitems__([0, 1])[1].tolist() == [3, 5]


def test_pytorch_loader_arguments_and_generators():
    # What training scripts pass to torch's DataLoader runs here unchanged: workers and pinning
    # only change speed; a tc.Generator (torch.Generator) fixes the shuffle like a numpy one.
    data = index_dataset(10)
    kwargs = dict(batch_size=4, shuffle=True, num_workers=2, pin_memory=True, persistent_workers=True,
                  prefetch_factor=2, drop_last=False)
    a = [y.tolist() for _, y in DataLoader(data, generator=tc.Generator().manual_seed(3), **kwargs)]
    b = [y.tolist() for _, y in DataLoader(data, generator=tc.Generator().manual_seed(3), **kwargs)]
    assert a == b and sorted(sum(a, [])) == list(range(10)) and [len(x) for x in a] == [4, 4, 2]
    parts = random_split(data, [7, 3], generator=tc.Generator().manual_seed(1))
    again = random_split(data, [7, 3], generator=tc.Generator().manual_seed(1))
    assert list(parts[0].indices) == list(again[0].indices) and len(parts[1]) == 3
