"""safetensors: exact round trips, byte-identical files, and refusal of damaged or hostile files (CheckpointError only)."""

from __future__ import annotations

import io
import json
import os
import time

import numpy as np
import pytest
import safetensors.numpy

import tinygrad_course as tc
from tinygrad_course import nn
from tinygrad_course.serialization import (
    CHECKSUM_KEY,
    CheckpointError,
    checksum,
    load,
    load_safetensors,
    save,
    save_safetensors,
)

DTYPES = [np.float16, np.float32, np.float64, np.uint8, np.int8, np.int16, np.int32, np.int64, np.bool_]


def sample():
    rng = np.random.default_rng(0)
    out = {f"t_{np.dtype(d).name}": tc.tensor((rng.standard_normal((2, 3)) * 5).astype(d)) for d in DTYPES}
    out["scalar"] = tc.tensor(np.int64(-7))  # 0-d, like bn.num_batches_tracked
    out["scalar_f"] = tc.tensor(np.float32(np.nan))
    out["empty"] = tc.zeros(0, 4)
    out["view"] = tc.tensor(np.arange(24.0).reshape(4, 6)).T[::2]  # not contiguous
    out["grad"] = tc.randn(3, requires_grad=True)
    return out


def same(a, b):
    """Same names, dtypes, shapes and bytes (NaN included)."""
    return sorted(a) == sorted(b) and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k]._array.tobytes() == b[k]._array.tobytes()
        for k in b
    )


def test_round_trip_keeps_names_dtypes_shapes_and_bits(tmp_path):
    obj = sample()
    save_safetensors(obj, tmp_path / "m.safetensors")
    out = load_safetensors(tmp_path / "m.safetensors")
    assert same(out, obj) and list(out) == sorted(obj)
    assert all(isinstance(t, tc.Tensor) and not t.requires_grad and t.is_leaf for t in out.values())
    assert out["scalar"].shape == () and out["scalar"].item() == -7
    out["t_float32"] += 1  # writable, not a view of anything shared
    assert np.array_equal(load_safetensors(str(tmp_path / "m.safetensors"))["t_float32"]._array, obj["t_float32"]._array)


def test_save_and_load_choose_safetensors_by_suffix_or_format(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    sd = model.state_dict()
    save(sd, tmp_path / "model.safetensors")
    save(sd, str(tmp_path / "model.SAFETENSORS"))
    raw = (tmp_path / "model.safetensors").read_bytes()
    assert raw == (tmp_path / "model.SAFETENSORS").read_bytes() and raw[8:9] == b"{"
    assert same(load(tmp_path / "model.safetensors"), sd) and sd["1.num_batches_tracked"].shape == ()
    fresh = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    fresh.load_state_dict(load(tmp_path / "model.safetensors"), strict=True)
    assert same(fresh.state_dict(), sd)
    buf = io.BytesIO()
    save(sd, buf)  # file objects: .npz unless told
    assert buf.getvalue()[:2] == b"PK"
    buf = io.BytesIO()
    save(sd, buf, format="safetensors")
    assert buf.getvalue() == raw
    buf.seek(0)
    assert same(load(buf, format="safetensors"), sd)
    save(sd, tmp_path / "model.npz", format="npz")
    with pytest.raises(ValueError, match=r"save: unknown format 'pt'; accepted: npz, safetensors"):
        save(sd, tmp_path / "x", format="pt")


def test_files_are_byte_identical_to_the_packages(tmp_path):
    obj = sample()
    arrays = {k: np.ascontiguousarray(v._array) if v.ndim else v._array for k, v in obj.items()}
    save_safetensors(obj, tmp_path / "ours.safetensors", checksum=False)
    safetensors.numpy.save_file(arrays, tmp_path / "theirs.safetensors")
    assert (tmp_path / "ours.safetensors").read_bytes() == (tmp_path / "theirs.safetensors").read_bytes()
    save_safetensors(obj, tmp_path / "ours.safetensors")  # the default: one metadata entry, the checksum
    safetensors.numpy.save_file(arrays, tmp_path / "theirs.safetensors", metadata={CHECKSUM_KEY: checksum(arrays)})
    assert (tmp_path / "ours.safetensors").read_bytes() == (tmp_path / "theirs.safetensors").read_bytes()
    # With more metadata entries the package writes them in a random (hash map) order, even for itself:
    # the same header as JSON and the same bytes after it.
    meta = {"framework": "tinygrad_course", "epoch": "3"}
    save_safetensors(obj, tmp_path / "meta.safetensors", metadata=meta)
    safetensors.numpy.save_file(arrays, tmp_path / "meta2.safetensors", metadata={**meta, CHECKSUM_KEY: checksum(arrays)})
    ours, theirs = (tmp_path / "meta.safetensors").read_bytes(), (tmp_path / "meta2.safetensors").read_bytes()
    n = int.from_bytes(ours[:8], "little")
    assert ours[:8] == theirs[:8] and ours[8 + n :] == theirs[8 + n :]
    assert json.loads(ours[8 : 8 + n]) == json.loads(theirs[8 : 8 + n])
    back = safetensors.numpy.load_file(tmp_path / "ours.safetensors")  # the package reads ours
    assert all(np.array_equal(back[k], arrays[k], equal_nan=True) and back[k].dtype == arrays[k].dtype for k in arrays)
    assert same(load_safetensors(tmp_path / "theirs.safetensors"), obj)
    safetensors.numpy.save_file(arrays, tmp_path / "plain.safetensors")  # no checksum: loads unchecked
    assert same(load_safetensors(tmp_path / "plain.safetensors"), obj)


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"opt": {"state": {}}}, r"save_safetensors: 'opt' is a dict, not a Tensor; safetensors holds a flat dict "
         r"\{name: Tensor\} only: save nested objects .* as an .npz: tc.save\(obj, 'checkpoint.npz'\)"),
        ({"w": tc.ones(1), "layers": [tc.ones(1)]}, r"'layers' is a list, not a Tensor"),
        ({"step": 3}, r"'step' is a int, not a Tensor"),
        ({0: tc.ones(1)}, r"the key 0 is a int; safetensors names are str"),
        ({"__metadata__": tc.ones(1)}, r"'__metadata__' is reserved"),
        ({"c": np.ones(2, np.complex128)}, r"'c' has the dtype complex128; accepted: bool, uint8.*complex64"),
        ([tc.ones(1)], r"safetensors holds a flat dict \{name: Tensor\}, got a list"),
    ],
)
def test_anything_but_a_flat_dict_of_tensors_is_a_type_error_before_writing(obj, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        save(obj, tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []
    with pytest.raises(TypeError, match=r"metadata must be a dict of str to str"):
        save_safetensors({}, tmp_path / "m.safetensors", metadata={"epoch": 3})


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    from tinygrad_course import serialization

    save({"w": tc.ones(2)}, tmp_path / "m.safetensors")
    monkeypatch.setattr(serialization.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        save({"w": tc.zeros(2)}, tmp_path / "m.safetensors")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert np.array_equal(load(tmp_path / "m.safetensors")["w"]._array, [1, 1])


def _header_file(path, header, data=b"", length=None):
    raw = json.dumps(header).encode()
    path.write_bytes((len(raw) if length is None else length).to_bytes(8, "little") + raw + data)
    return path


@pytest.mark.parametrize(
    ("header", "data", "length", "match"),
    [
        ({}, b"", 2**63, r"header length 9223372036854775808 exceeds the 2 bytes after it"),
        ({}, b"", 2**20, r"header length 1048576 exceeds"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, None, r"SafetensorError"),
        ({"w": {"dtype": "F32", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, b"\0" * 8, None, r"SafetensorError"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}, b"\0" * 8, None, r"SafetensorError"),
        ({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None,
         r"tensor 'w' has the dtype 'BF16', which a tinygrad_course Tensor cannot have .*\.float\(\)"),
        ({"w": {"dtype": "U16", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4, None, r"dtype 'U16'"),
        ({"w": [1, 2]}, b"", None, r"the header entry 'w' is not an object"),
        ({"__metadata__": {"a": 1}}, b"", None, r"its __metadata__ is not an object of strings"),
        ([1, 2], b"", None, r"its header is a JSON list, not an object"),
        ({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
          "__metadata__": {CHECKSUM_KEY: "00000000"}}, b"\0" * 4, None, r"checksum mismatch"),
    ],
)
def test_hostile_files_raise_checkpoint_error(header, data, length, match, tmp_path):
    path = _header_file(tmp_path / "bad.safetensors", header, data, length)
    for source in (path, io.BytesIO(path.read_bytes())):
        with pytest.raises(CheckpointError, match=match):
            load(source, format="safetensors")


def test_short_and_foreign_files_raise_checkpoint_error(tmp_path):
    for raw, match in [(b"", r"it has 0 bytes, fewer than the 8"), (b"\x02\0\0\0\0\0\0\0{", r"exceeds"),
                       (b"\x02\0\0\0\0\0\0\0{x", r"its header is not JSON"), (b"\x02\0\0\0\0\0\0\0\xff\xfe", r"not JSON")]:
        (tmp_path / "f.safetensors").write_bytes(raw)
        with pytest.raises(CheckpointError, match=match):
            load(tmp_path / "f.safetensors")
    save({"w": tc.ones(2)}, tmp_path / "m.npz")
    with pytest.raises(CheckpointError, match=r"exceeds"):
        load(tmp_path / "m.npz", format="safetensors")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.safetensors")


# ----------------------------------------------------------------------------- fault campaign
def _campaign(raw, path, fmt, original, trials, seed):
    """Flip a random byte (random nonzero XOR) or truncate, `trials` times: count the outcomes."""
    rng = np.random.default_rng(seed)
    counts = {"CheckpointError": 0, "original": 0}
    for trial in range(trials):
        data = bytearray(raw)
        if trial % 4 == 3:
            data = data[: int(rng.integers(0, len(raw)))]
        else:
            at = int(rng.integers(0, len(raw)))
            data[at] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(data))
        try:
            out = load(path, format=fmt)
        except CheckpointError:
            counts["CheckpointError"] += 1
            continue
        assert same(out, original), f"trial {trial}: a damaged {fmt} file loaded different data"
        counts["original"] += 1
    return counts


def _small_state():
    tc.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    return model.state_dict()


@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_fault_campaign_gives_checkpoint_error_or_the_original(fmt, tmp_path):
    state = _small_state()
    save(state, tmp_path / "good", format=fmt)
    raw = (tmp_path / "good").read_bytes()
    start = time.perf_counter()
    counts = _campaign(raw, tmp_path / "bad", fmt, {k: state[k] for k in sorted(state)}, 1000, seed=15)
    assert sum(counts.values()) == 1000 and counts["CheckpointError"] > 500, counts
    assert time.perf_counter() - start < 10
    print(fmt, len(raw), "bytes", counts)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["safetensors", "npz"])
def test_fault_campaign_bigger(fmt, tmp_path):
    tc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    state = model.state_dict()
    save(state, tmp_path / "good", format=fmt)
    counts = _campaign((tmp_path / "good").read_bytes(), tmp_path / "bad", fmt, dict(sorted(state.items())), 5000, 16)
    assert sum(counts.values()) == 5000, counts


def test_loading_is_no_slower_than_npz(tmp_path):
    state = {f"l{i}.weight": tc.randn(256, 256) for i in range(16)} | {f"l{i}.bias": tc.randn(256) for i in range(16)}
    save(state, tmp_path / "m.safetensors")
    save(state, tmp_path / "m.npz")

    def best(path):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            load(path)
            times.append(time.perf_counter() - start)
        return min(times)

    st, npz = best(tmp_path / "m.safetensors"), best(tmp_path / "m.npz")
    print(f"load 4 MiB: safetensors {st * 1e3:.2f} ms, npz {npz * 1e3:.2f} ms")
    assert st < 1.5 * npz  # a margin for a noisy machine; measured about 0.8x


def test_complex64_round_trips_and_complex128_is_refused(tmp_path) -> None:
    """complex64 is a safetensors dtype ("C64"); complex128 is not, and gets a clear error before writing."""
    z = tc.tensor([1 + 2j, 3 - 1j])
    tc.save_safetensors({"z": z}, tmp_path / "z.safetensors")
    back = tc.load_safetensors(tmp_path / "z.safetensors")["z"]
    assert back.dtype == tc.complex64 and np.array_equal(back.numpy(), z.numpy())
    with pytest.raises(TypeError, match="'w' has the dtype complex128"):
        tc.save_safetensors({"w": z.to(tc.complex128)}, tmp_path / "w.safetensors")
    assert not (tmp_path / "w.safetensors").exists()
    saved = tmp_path / "c.pt"
    tc.save({"z": z.to(tc.complex128).requires_grad_()}, saved)
    loaded = tc.load(saved)["z"]
    assert loaded.dtype == tc.complex128 and loaded.requires_grad
