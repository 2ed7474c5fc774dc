"""Everyday PyTorch names: as_tensor, logspace, finfo, iinfo, tc.utils.data."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_course as tc

try:
    import torch
except ImportError:  # the torch comparisons below are skipped
    torch = None


def test_as_tensor_shares_what_it_can() -> None:
    x = np.arange(3.0)
    t = tc.as_tensor(x)
    t[0] = 5.0
    assert x[0] == 5.0  # the array's memory, as torch.as_tensor
    assert tc.as_tensor(t) is t and tc.as_tensor(t, dtype=tc.float64) is t
    converted = tc.as_tensor(x, dtype=tc.float32)
    converted[1] = 7.0
    assert converted.dtype == tc.float32 and x[1] == 1.0  # another dtype: a copy
    assert tc.as_tensor([1, 2]).dtype == tc.int64 and tc.as_tensor([1.5]).dtype == tc.float32
    assert tc.as_tensor(t, dtype=tc.float32).dtype == tc.float32
    with pytest.raises(TypeError, match="as_tensor: unknown or unsupported dtype"):
        tc.as_tensor(x, dtype="float8")


def test_logspace() -> None:
    np.testing.assert_allclose(tc.logspace(0, 2, 3).numpy(), [1.0, 10.0, 100.0])
    np.testing.assert_allclose(tc.logspace(0, 3, 4, base=2).numpy(), [1.0, 2.0, 4.0, 8.0])
    assert tc.logspace(0, 1, 5).dtype == tc.float32 and tc.logspace(0, 1, 0).shape == (0,)
    assert tc.logspace(0, 1, 5, dtype=tc.float64).dtype == tc.float64
    with pytest.raises(ValueError, match="logspace: steps must be non-negative, got -1"):
        tc.logspace(0, 1, -1)


def test_finfo_and_iinfo_values() -> None:
    f = tc.finfo(tc.float32)
    assert (f.bits, f.eps, f.resolution, f.dtype) == (32, 2.0 ** -23, 1e-06, "float32")
    assert f.max == float(np.finfo(np.float32).max) and f.min == -f.max and f.tiny == f.smallest_normal == 2.0 ** -126
    assert tc.finfo().dtype == "float32" and tc.finfo(tc.complex128).dtype == "float64"
    assert tc.finfo(tc.float16).resolution == 0.001
    i = tc.iinfo(tc.int16)
    assert (i.bits, i.min, i.max, i.dtype) == (16, -32768, 32767, "int16")
    assert (tc.iinfo(tc.uint8).max, tc.iinfo(tc.bool).max) == (255, 1)
    with pytest.raises(TypeError, match="finfo: expected a floating point dtype, got int64"):
        tc.finfo(tc.int64)
    with pytest.raises(TypeError, match="iinfo: expected an integer dtype, got float32"):
        tc.iinfo(tc.float32)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
def test_finfo_iinfo_match_pytorch() -> None:
    pairs = [(tc.float16, torch.float16), (tc.float32, torch.float32), (tc.float64, torch.float64),
             (tc.complex64, torch.complex64)]
    for ours, theirs in pairs:
        a, b = tc.finfo(ours), torch.finfo(theirs)
        for k in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
            assert getattr(a, k) == getattr(b, k), (ours, k)
    for ours, theirs in [(tc.int8, torch.int8), (tc.int32, torch.int32), (tc.int64, torch.int64), (tc.uint8, torch.uint8)]:
        a, b = tc.iinfo(ours), torch.iinfo(theirs)
        assert (a.bits, a.min, a.max, a.dtype) == (b.bits, b.min, b.max, b.dtype)
    np.testing.assert_allclose(tc.logspace(-2, 3, 7, base=3).numpy(), torch.logspace(-2, 3, 7, base=3).numpy(), rtol=1e-6)


def test_utils_data_is_torch_utils_data() -> None:
    from tinygrad_course.utils.data import DataLoader, TensorDataset

    assert tc.utils.data.DataLoader is DataLoader is tc.data.DataLoader
    data = TensorDataset(tc.arange(6.0).reshape(3, 2), tc.arange(3))
    assert [y.tolist() for _, y in DataLoader(data, batch_size=2)] == [[0, 1], [2]]


def test_concat_and_iterable_datasets() -> None:
    from tinygrad_course.utils.data import ConcatDataset, DataLoader, IterableDataset, TensorDataset

    a = TensorDataset(tc.arange(3))
    b = TensorDataset(tc.arange(10, 12))
    both = ConcatDataset([a, b])
    assert len(both) == 5 and both.cumulative_sizes == [3, 5]
    assert [int(both[i][0]) for i in range(5)] == [0, 1, 2, 10, 11] and int(both[-1][0]) == 11
    with pytest.raises(IndexError, match="ConcatDataset: index 5 is out of range for length 5"):
        both[5]
    with pytest.raises(ValueError, match="datasets should not be an empty iterable"):
        ConcatDataset([])

    class Stream(IterableDataset):
        def __iter__(self):
            return iter(tc.arange(7.0))

    batches = [x.tolist() for x in DataLoader(Stream(), batch_size=3)]
    assert batches == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0]]
    assert [x.tolist() for x in DataLoader(Stream(), batch_size=3, drop_last=True)] == batches[:2]
    with pytest.raises(ValueError, match="IterableDataset: expected unspecified shuffle option"):
        DataLoader(Stream(), shuffle=True)


def test_script_boilerplate_runs() -> None:
    # Lines that training scripts written for PyTorch start with.
    before = tc.get_num_threads()
    tc.set_num_threads(2)
    assert tc.get_num_threads() == 2
    tc.set_num_threads(before)
    with pytest.raises(ValueError, match="set_num_threads: expects a positive integer, got 0"):
        tc.set_num_threads(0)
    tc.use_deterministic_algorithms(True)
    assert tc.are_deterministic_algorithms_enabled()
    tc.use_deterministic_algorithms(False)
    tc.backends.cudnn.benchmark = True
    tc.backends.cudnn.deterministic = True
    assert tc.backends.cudnn.is_available() is False
    tc.backends.cudnn.benchmark = tc.backends.cudnn.deterministic = False
    model = tc.nn.Linear(3, 2)
    assert tc.compile(model) is model and tc.compile(mode="max-autotune")(model) is model
    with pytest.raises(TypeError, match="compile: expected a module or a function, got int"):
        tc.compile(3)
    size = tc.Size([2, 3, 4])
    assert size == (2, 3, 4) and size.numel() == 24 and tc.zeros(2, 3, 4).shape == size
    assert repr(size) == "tc.Size([2, 3, 4])"
