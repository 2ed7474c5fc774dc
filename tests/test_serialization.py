"""save/load: exact round trips, exact paths, atomic writes, and refusal of foreign or damaged files."""

from __future__ import annotations

import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinygrad_course as tc
from tinygrad_course import optim, serialization
from tinygrad_course.serialization import CheckpointError, load, save


def roundtrip(obj, tmp_path):
    save(obj, tmp_path / "ckpt")
    return load(tmp_path / "ckpt")


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_tensors_keep_dtype_shape_values_and_requires_grad(dtype, tmp_path):
    data = (np.arange(12).reshape(3, 4) % 3).astype(dtype)
    floating = np.dtype(dtype).kind == "f"
    out = roundtrip(
        {"t": tc.tensor(data, requires_grad=floating), "z": tc.tensor(data[:0]), "s": tc.tensor(data[1, 2])}, tmp_path
    )
    assert isinstance(out["t"], tc.Tensor) and out["t"].dtype == dtype and out["t"].requires_grad == floating
    assert np.array_equal(out["t"]._array, data) and out["t"].is_leaf
    assert out["z"].shape == (0, 4) and out["s"].shape == () and out["s"].item() == data[1, 2]


def test_arrays_scalars_and_python_values_round_trip_with_their_types(tmp_path):
    rng = np.random.default_rng(0)
    obj = {
        "f64": rng.standard_normal((2, 3)),
        "fortran": np.asfortranarray(rng.standard_normal((3, 2))),
        "view": np.arange(10.0)[::3],
        "u8": np.arange(5, dtype=np.uint8),
        "c": np.array([1 + 2j, -1j]),
        "np32": np.float32(1.5),
        "np64": np.int64(-7),
        "ints": [0, -3, 2**70],
        "floats": (0.1, 1e-300, -0.0, math.inf, -math.inf),
        "flags": [True, False, None],
        "text": "η ∇C 🙂",
    }
    out = roundtrip(obj, tmp_path)
    for key in ("f64", "fortran", "view", "u8", "c"):
        assert type(out[key]) is np.ndarray and out[key].dtype == obj[key].dtype and np.array_equal(out[key], obj[key])
    assert type(out["np32"]) is np.float32 and out["np32"] == 1.5
    assert type(out["np64"]) is np.int64 and out["np64"] == -7
    assert out["ints"] == [0, -3, 2**70] and all(type(v) is int for v in out["ints"])
    assert out["floats"] == (0.1, 1e-300, 0.0, math.inf, -math.inf) and math.copysign(1, out["floats"][2]) == -1
    assert out["flags"] == [True, False, None] and out["text"] == "η ∇C 🙂"
    assert math.isnan(roundtrip({"x": math.nan}, tmp_path)["x"])


def test_nesting_and_int_keys_keep_their_types(tmp_path):
    obj = {
        "state": {0: {"step": 3, "exp_avg": tc.zeros(2)}, 1: {}},
        "1": "str key",
        1: "int key",
        "groups": [{"params": [0, 1], "betas": (0.9, 0.999)}],
        "empty": {"l": [], "t": (), "d": {}},
    }
    out = roundtrip(obj, tmp_path)
    assert list(out) == ["state", "1", 1, "groups", "empty"]
    assert out["1"] == "str key" and out[1] == "int key"
    assert list(out["state"]) == [0, 1] and out["state"][0]["step"] == 3
    assert out["groups"] == [{"params": [0, 1], "betas": (0.9, 0.999)}]
    assert out["empty"] == {"l": [], "t": (), "d": {}}


def test_writes_exactly_the_given_path_str_or_pathlib(tmp_path):
    save({"a": 1}, tmp_path / "model")
    save({"a": 2}, str(tmp_path / "model.pt"))
    assert sorted(os.listdir(tmp_path)) == ["model", "model.pt"]
    assert load(str(tmp_path / "model")) == {"a": 1} and load(tmp_path / "model.pt") == {"a": 2}
    save({"a": 3}, tmp_path / "model")  # overwrite
    assert load(tmp_path / "model") == {"a": 3}
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "model").st_mode & 0o777 == 0o666 & ~umask  # a normal file's permissions


def test_file_is_a_plain_npz_with_json_metadata(tmp_path):
    save({"w": tc.ones(3)}, tmp_path / "c")
    with np.load(tmp_path / "c", allow_pickle=False) as npz:
        meta = json.loads(npz["__meta__"].tobytes())
        assert meta["format"] == "tinygrad_course.state" and meta["version"] == 1
        assert np.array_equal(npz[meta["root"]["items"][0][1]["array"]], np.ones(3, np.float32))


def _fail_midway(*args, **kwargs):
    f = args[0]
    f.write(b"PK\x03\x04 half a zip")
    raise OSError("disk full")


@pytest.mark.parametrize("where", ["savez", "replace", "interrupt"])
def test_failed_save_keeps_the_old_file_and_leaves_no_temp_file(where, tmp_path, monkeypatch):
    save({"version": "old"}, tmp_path / "ckpt")
    if where == "savez":
        monkeypatch.setattr(serialization.np, "savez", _fail_midway)
    elif where == "replace":
        monkeypatch.setattr(serialization.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("rename failed")))
    else:
        monkeypatch.setattr(serialization.os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises((OSError, KeyboardInterrupt)):
        save({"version": "new"}, tmp_path / "ckpt")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt"]
    assert load(tmp_path / "ckpt") == {"version": "old"}


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"layers": [1, 2, {3}]}, r"save: obj\['layers'\]\[2\] is a set, which cannot be saved; accepted: Tensors"),
        (
            {"w": np.array([object()], dtype=object)},
            r"obj\['w'\] is an array of dtype object, which cannot be saved without pickle",
        ),
        ({"f": lambda: 0}, r"obj\['f'\] is a function"),
        ({1.5: 0}, r"save: obj has the key 1.5 of type float; accepted keys: str and int"),
        ({"a": {True: 0}}, r"obj\['a'\] has the key True of type bool"),
        ([{"x": (1, b"raw")}], r"obj\[0\]\['x'\]\[1\] is a bytes"),
    ],
)
def test_unsupported_objects_raise_type_error_naming_the_path_before_writing(obj, match, tmp_path):
    with pytest.raises(TypeError, match=match):
        save(obj, tmp_path / "ckpt")
    assert os.listdir(tmp_path) == []


def test_cycles_and_bad_paths_are_type_errors(tmp_path):
    loop = {"a": []}
    loop["a"].append(loop)
    with pytest.raises(TypeError, match=r"save: obj\['a'\]\[0\] contains itself"):
        save(loop, tmp_path / "x")
    with pytest.raises(TypeError, match=r"save: path must be a str or os.PathLike"):
        save({}, 42)
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=r"save: the folder '.*nowhere' of '.*nowhere/x' does not exist"):
        save({}, tmp_path / "nowhere" / "x")
    with pytest.raises(IsADirectoryError, match=r"save: '.*' is a folder; pass a file path"):
        save({}, tmp_path)
    assert os.listdir(tmp_path) == []


def _reject(path, match):
    with pytest.raises(CheckpointError, match=match) as info:
        load(path)
    assert isinstance(info.value, ValueError)


def test_truncated_and_corrupted_files_are_rejected(tmp_path):
    save({"w": np.full(1000, 7.0), "n": 1}, tmp_path / "good")
    raw = (tmp_path / "good").read_bytes()
    for cut in (len(raw) // 2, len(raw) - 10, 30):
        (tmp_path / "cut").write_bytes(raw[:cut])
        _reject(tmp_path / "cut", r"load: '.*cut' is truncated or corrupted \(BadZipFile")
    spot = raw.index(np.float64(7.0).tobytes() * 4) + 3
    (tmp_path / "flipped").write_bytes(raw[:spot] + bytes([raw[spot] ^ 0xFF]) + raw[spot + 1 :])
    _reject(tmp_path / "flipped", r"truncated or corrupted \(BadZipFile: Bad CRC-32")
    (tmp_path / "empty").write_bytes(b"")
    _reject(tmp_path / "empty", r"not an .npz \(zip\) archive \(it starts with b''\)")


def test_foreign_files_are_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("just some text\n")
    _reject(
        tmp_path / "notes.txt", r"load: '.*notes.txt' is not a tinygrad_course checkpoint: not an .npz \(zip\) archive"
    )
    np.save(tmp_path / "array.npy", np.ones(3))
    _reject(tmp_path / "array.npy", r"not an .npz \(zip\) archive \(it starts with b'\\x93NUM'\)")
    np.savez(tmp_path / "plain.npz", weights=np.ones(3))
    _reject(
        tmp_path / "plain.npz",
        r"no __meta__ entry \(a plain .npz archive with 1 entries, not saved by tinygrad_course.save\)",
    )
    for meta, match in [
        ({"format": "other", "version": 1, "root": None}, r"format 'other', expected 'tinygrad_course.state'"),
        (
            {"format": "tinygrad_course.state", "version": 99, "root": None},
            r"format version 99; this tinygrad_course reads version 1",
        ),
        (
            {"format": "tinygrad_course.state", "version": 1, "root": {"t": "exec", "code": "1"}},
            r"unknown node kind 'exec'",
        ),
        (
            {"format": "tinygrad_course.state", "version": 1, "root": {"t": "ndarray", "array": "a9"}},
            r"refers to 'a9.npy', which the archive lacks",
        ),
    ]:
        np.savez(tmp_path / "fake.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
        _reject(tmp_path / "fake.npz", match)
    save({"x": 1}, tmp_path / "extra")
    with zipfile.ZipFile(tmp_path / "extra", "a") as archive:
        archive.writestr("smuggled.npy", b"")
    _reject(tmp_path / "extra", r"entries \['smuggled.npy'\] are not described by the metadata")


class _Payload:
    """Unpickling this would create the marker file: the test checks that it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_object_arrays_are_refused_without_running_them(tmp_path):
    marker = tmp_path / "pwned"
    meta = {"format": "tinygrad_course.state", "version": 1, "root": {"t": "ndarray", "array": "a0"}}
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(str(marker))
    np.savez(tmp_path / "evil.npz", __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), a0=payload)
    _reject(tmp_path / "evil.npz", r"'a0.npy' holds pickled Python objects \(dtype object\); they are never unpickled")
    assert not marker.exists()
    with np.load(tmp_path / "evil.npz", allow_pickle=True) as npz:  # the payload is real
        npz["a0"]
    assert marker.exists()


def test_optimizer_state_comes_back_keyed_by_int(tmp_path):
    w = tc.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.Adam([w])
    (w * w).sum().backward()
    opt.step()
    out = roundtrip(opt.state_dict(), tmp_path)
    assert list(out["state"]) == [0] and out["state"][0]["step"] == 1 and type(out["state"][0]["step"]) is int
    assert out["param_groups"][0]["betas"] == (0.9, 0.999)
    assert Path(tmp_path / "ckpt").is_file()


# ----------------------------------------------------------------------------- hardening (issue 15)
def _zip(members):
    """A zip archive from (name, method, crc, uncompressed size, raw data) tuples, written by hand."""
    import struct

    body, central = b"", b""
    for name, method, crc, usize, raw in members:
        name = name.encode()
        head = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(raw), usize, len(name), 0)
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(raw), usize, len(name), 0, 0, 0, 0, 0,
            len(body),
        ) + name
        body += head + name + raw
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), len(body), 0)
    return body + central + end


def _npy_header(dtype, shape):
    buf = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                              "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _meta_member(root):
    import io
    import zlib

    buf = io.BytesIO()
    text = json.dumps({"format": "tinygrad_course.state", "version": 1, "root": root}).encode()
    np.lib.format.write_array(buf, np.frombuffer(text, np.uint8))
    raw = buf.getvalue()
    return ("__meta__.npy", 0, zlib.crc32(raw), len(raw), raw)


def _bomb(path, gib=1):
    """A real tinygrad_course checkpoint (~1 MiB) whose a0.npy deflates to `gib` GiB of float64 zeros."""
    import zlib

    header = _npy_header(np.float64, (gib << 27,))
    zeros = bytes(1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = comp.compress(header) + comp.flush(zlib.Z_FULL_FLUSH)
    chunk = comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH)  # the dictionary is reset: chunks repeat
    assert comp.compress(zeros) + comp.flush(zlib.Z_FULL_FLUSH) == chunk
    stream = first + chunk * (gib << 10) + comp.flush()
    crc = zlib.crc32(header)
    for _ in range(gib << 10):
        crc = zlib.crc32(zeros, crc)
    root = {"t": "tensor", "array": "a0", "requires_grad": False}
    path.write_bytes(_zip([_meta_member(root), ("a0.npy", 8, crc, len(header) + (gib << 30), stream)]))


def test_a_zip_bomb_is_refused_before_inflating(tmp_path):
    import tracemalloc
    import zlib

    _bomb(tmp_path / "bomb.npz")
    size = (tmp_path / "bomb.npz").stat().st_size
    assert size < 1.1 * 2**20
    with zipfile.ZipFile(tmp_path / "bomb.npz") as archive:  # it is a real bomb: a valid deflate stream
        assert archive.getinfo("a0.npy").file_size > 2**30
        with archive.open("a0.npy") as member:
            assert len(member.read(1 << 22)) == 1 << 22
    tracemalloc.start()
    try:
        _reject(tmp_path / "bomb.npz", r"'a0.npy' is compressed \(zip method 8\).*zip bomb")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    # a stored member claiming more bytes than the file holds, or a .npy header claiming a huge shape
    root = {"t": "tensor", "array": "a0", "requires_grad": False}
    header = _npy_header(np.float64, (1 << 27,))
    raw = header + bytes(64)
    lying = _zip([_meta_member(root), ("a0.npy", 0, zlib.crc32(raw), len(raw), raw)])
    (tmp_path / "claims.npz").write_bytes(lying)
    tracemalloc.start()
    try:
        _reject(tmp_path / "claims.npz", r"'a0.npy' claims shape \(134217728,\) of float64 \(1073741824 bytes\), "
                r"but holds 64 bytes")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 * 2**20
    oversize = bytearray(lying)
    cd = lying.rindex(b"PK\x01\x02")
    oversize[cd + 24 : cd + 28] = (2**31).to_bytes(4, "little")  # the central directory's uncompressed size
    (tmp_path / "oversize.npz").write_bytes(bytes(oversize))
    _reject(tmp_path / "oversize.npz", r"'a0.npy' is stored with \d+ bytes but claims 2147483648")


def test_a_compressed_archive_of_ours_is_refused(tmp_path):
    save({"w": tc.ones(3)}, tmp_path / "c.npz")
    with zipfile.ZipFile(tmp_path / "c.npz") as src, zipfile.ZipFile(tmp_path / "z.npz", "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    _reject(tmp_path / "z.npz", r"is compressed \(zip method 8\)")


@pytest.mark.parametrize("name", ["ckpt.npz", "model.safetensors"])
def test_saving_over_a_file_keeps_its_permission_bits(name, tmp_path):
    save({"w": tc.ones(2)}, tmp_path / name)
    for mode in (0o600, 0o640, 0o444):
        os.chmod(tmp_path / name, mode)
        save({"w": tc.zeros(2)}, tmp_path / name)
        assert os.stat(tmp_path / name).st_mode & 0o7777 == mode
        assert np.array_equal(load(tmp_path / name)["w"]._array, np.zeros(2, np.float32))
    assert os.listdir(tmp_path) == [name]


@pytest.mark.parametrize("name", ["ckpt.npz", "model.safetensors"])
def test_a_symlinked_path_is_written_through(name, tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    save({"w": tc.ones(2)}, target)
    link = tmp_path / f"link-{name}"
    link.symlink_to(target)
    save({"w": tc.full((2,), 5.0)}, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert np.array_equal(load(target)["w"]._array, [5.0, 5.0]) and np.array_equal(load(link)["w"]._array, [5, 5])
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "real" / "new.npz")
    save({"w": 1}, dangling)
    assert dangling.is_symlink() and load(tmp_path / "real" / "new.npz") == {"w": 1}
    assert sorted(os.listdir(tmp_path / "real")) == [name, "new.npz"]


def test_the_next_save_removes_temp_files_of_killed_saves_but_not_live_ones(tmp_path):
    import fcntl
    import subprocess
    import sys
    import time

    save({"v": 0}, tmp_path / "ckpt")
    stale = tmp_path / ".ckpt.0123456789ab.tmp"
    stale.write_bytes(b"PK half")
    other = [tmp_path / ".ckpt.tmp", tmp_path / ".ckpt2.0123456789ab.tmp", tmp_path / ".ckpt.0123456789ab.tmp.x"]
    for path in other:
        path.write_bytes(b"not ours")
    live = tmp_path / ".ckpt.fedcba987654.tmp"
    with open(live, "wb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # what a save in progress holds
        save({"v": 1}, tmp_path / "ckpt")
        assert live.exists() and not stale.exists() and all(p.exists() for p in other)
    # a save killed (SIGKILL) while writing: its temporary file stays until the next save
    script = (
        "import os, time, tinygrad_course as tc\n"
        "from tinygrad_course import serialization\n"
        "serialization.os.fsync = lambda fd: (print('writing', flush=True), time.sleep(60))\n"
        f"tc.save({{'v': 2}}, {str(tmp_path / 'ckpt')!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
    finally:
        proc.kill()
        proc.wait()
    left = sorted(p.name for p in tmp_path.glob(".ckpt.*.tmp") if p != live)
    assert len(left) == 1, left
    time.sleep(0.01)
    save({"v": 3}, tmp_path / "ckpt")
    assert sorted(p.name for p in tmp_path.glob(".ckpt.*.tmp")) == [], "the killed save's and the live one's"
    assert load(tmp_path / "ckpt") == {"v": 3}


def test_loading_a_safetensors_file_as_npz_says_so(tmp_path):
    save({"w": tc.ones(2)}, tmp_path / "m.safetensors")
    os.rename(tmp_path / "m.safetensors", tmp_path / "m.bin")
    _reject(tmp_path / "m.bin", r"it looks like a safetensors file: name it \*.safetensors or pass format='safetensors'")
    assert np.array_equal(load(tmp_path / "m.bin", format="safetensors")["w"]._array, [1, 1])
