"""safetensors files: flat ``{name: Tensor}`` dicts that PyTorch, JAX and Hugging Face read.

`save_safetensors` writes with the ``safetensors`` package's numpy API (``safetensors.numpy.save``),
so a file is byte for byte what ``safetensors.numpy.save_file`` writes for the same arrays and
metadata. It adds one metadata entry, ``"tinygrad_course.crc32"``: a CRC-32 of every tensor's
name, dtype, shape and bytes (in name order), which `load_safetensors` checks, so a damaged file
raises instead of loading wrong numbers (safetensors itself has no checksum). Files from
elsewhere have no such entry and load unchecked.

`load_safetensors` bounds everything by the file's size: the 8-byte header length is checked
against it before the header is read, and the ``safetensors`` package checks that the tensors
cover the data exactly. Every problem with a file, the package's own errors included, raises
`CheckpointError`. ``tc.save(state_dict, "model.safetensors")`` and
``tc.load("model.safetensors")`` come here by the suffix.
"""

from __future__ import annotations

import inspect
import io
import json
import os
import zlib
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np
import safetensors.numpy

from tinygrad_course.serialization import CheckpointError, _fspath, atomic_write
from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor.creation import from_numpy

CHECKSUM_KEY = "tinygrad_course.crc32"
MAX_HEADER = 100 * 1024 * 1024  # the safetensors package's own limit on the JSON header

# The dtypes a Tensor may have, by their safetensors names.
DTYPES = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8), "I16": np.dtype(np.int16),
    "I32": np.dtype(np.int32), "I64": np.dtype(np.int64), "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32), "F64": np.dtype(np.float64),
}
_CODES = {dtype: code for code, dtype in DTYPES.items()}


def _arrays(tensors: Any, op: str) -> dict[str, np.ndarray]:
    """The flat dict as native-order, C-contiguous arrays; TypeError naming any other value."""
    if not isinstance(tensors, Mapping):
        raise TypeError(
            f"{op}: safetensors holds a flat dict {{name: Tensor}}, got a {type(tensors).__name__}; "
            "save other objects as an .npz: tc.save(obj, 'checkpoint.npz')"
        )
    out = {}
    for key, value in tensors.items():
        if not isinstance(key, str):
            raise TypeError(f"{op}: the key {key!r} is a {type(key).__name__}; safetensors names are str")
        if key == "__metadata__":
            raise TypeError(f"{op}: the name '__metadata__' is reserved by the safetensors format")
        if isinstance(value, Tensor):
            array = value._array
        elif isinstance(value, np.ndarray):
            array = value
        else:
            raise TypeError(
                f"{op}: {key!r} is a {type(value).__name__}, not a Tensor; safetensors holds a flat dict "
                "{name: Tensor} only: save nested objects (optimizer state, dicts, lists, numbers) as an "
                ".npz: tc.save(obj, 'checkpoint.npz')"
            )
        native = array.dtype.newbyteorder("=")
        if native not in _CODES:
            raise TypeError(f"{op}: {key!r} has the dtype {array.dtype}; accepted: {', '.join(map(str, _CODES))}")
        array = array.astype(native, copy=False)
        # safetensors reads the raw memory: it must be C-contiguous (ascontiguousarray would make 0-d 1-d)
        out[key] = array if array.flags.c_contiguous else array.copy(order="C")
    return out


def checksum(arrays: Mapping[str, np.ndarray]) -> str:
    """CRC-32 (8 hex digits) of each array's name, dtype, shape and bytes, in name order."""
    crc = 0
    for name in sorted(arrays):
        array = arrays[name]
        crc = zlib.crc32(json.dumps([name, _CODES[array.dtype], list(array.shape)]).encode(), crc)
        crc = zlib.crc32(array.reshape(-1).view(np.uint8), crc)
    return f"{crc:08x}"


def _serialize(tensors: Any, metadata: Mapping[str, str] | None, checksum_: bool, op: str) -> bytes:
    arrays = _arrays(tensors, op)
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in
                                                        metadata.items()):
            raise TypeError(f"{op}: metadata must be a dict of str to str, got {metadata!r}")
        if CHECKSUM_KEY in metadata:
            raise ValueError(f"{op}: the metadata key {CHECKSUM_KEY!r} is reserved for the checksum")
    meta = dict(metadata or {})
    if checksum_:
        meta[CHECKSUM_KEY] = checksum(arrays)
    return safetensors.numpy.save(arrays, metadata=meta or None)


def save_safetensors(tensors: Mapping[str, Any], f: str | os.PathLike[str] | BinaryIO,
                     metadata: Mapping[str, str] | None = None, *, checksum: bool = True) -> None:
    """Write a flat ``{name: Tensor}`` dict (numpy arrays too) as a safetensors file.

    `f` is a path (written atomically, like `tc.save`: temporary file, fsync, rename) or an open
    binary file. `metadata` is the format's free ``{str: str}`` header entry. With `checksum`
    (the default) the metadata also gets ``"tinygrad_course.crc32"``, checked on loading. Dtypes
    are kept (0-d tensors too); requires_grad is not stored. Anything else than a flat dict of
    tensors raises TypeError naming the key, before anything is written.
    """
    data = _serialize(tensors, metadata, checksum, "save_safetensors")
    if hasattr(f, "write"):
        f.write(data)
        return
    atomic_write(f, lambda out: out.write(data), "save_safetensors")


def load_safetensors(f: str | os.PathLike[str] | BinaryIO) -> dict[str, Tensor]:
    """Read a safetensors file into ``{name: Tensor}`` (in name order, requires_grad False, dtypes kept).

    `f` is a path or an open binary file. A truncated, corrupted, foreign or hostile file raises
    `CheckpointError` (a ValueError) naming the problem; memory stays bounded by the file's size.
    Tensors of dtypes a Tensor cannot have (bfloat16, uint16, complex, …) raise it too: convert
    them before saving (in PyTorch, ``.float()``).
    """
    if hasattr(f, "read"):
        name = getattr(f, "name", "<file object>")
        path = name if isinstance(name, str) else "<file object>"
        fail = _failer(path)
        data = _read_checked(f, fail, whole=True)
        header = _header(data[8 : 8 + int.from_bytes(data[:8], "little")], fail)
        try:
            arrays = safetensors.numpy.load(data)
        except Exception as err:  # the package's own errors (SafetensorError, …), whatever their kind
            raise fail(f"{type(err).__name__}: {err}") from err
        return _tensors(arrays, header.get("__metadata__"), fail)
    path = _fspath(f, "load_safetensors")
    fail = _failer(path)
    with open(path, "rb") as opened:
        _header(_read_checked(opened, fail, whole=False)[8:], fail)  # early, bounded, named errors
    try:
        # The package reads the file once more (its own checks; pread: no copy of the whole file).
        with safetensors.safe_open(path, framework="np", **_BACKEND) as st:
            metadata = st.metadata()
            arrays = {name: st.get_tensor(name) for name in st.keys()}
    except Exception as err:
        raise fail(f"{type(err).__name__}: {err}") from err
    return _tensors(arrays, metadata, fail)


# safetensors >= 0.7 can read with pread(2) instead of mmap: no SIGBUS if the file shrinks meanwhile.
_BACKEND = {"backend": "pread"} if "backend" in inspect.signature(safetensors.numpy.load_file).parameters else {}


def _failer(path: str) -> Any:
    def fail(why: str) -> CheckpointError:
        return CheckpointError(f"load: {path!r} is not a valid safetensors file: {why}")

    return fail


def _read_checked(f: BinaryIO, fail: Any, whole: bool) -> bytes:
    """The 8-byte length and the header (`whole`: and the data too), the length checked against
    the file's size before anything else is read."""
    start = f.tell()
    size = f.seek(0, io.SEEK_END) - start
    f.seek(start)
    head = f.read(8)
    if len(head) < 8:
        raise fail(f"it has {size} bytes, fewer than the 8 of the header length")
    n = int.from_bytes(head, "little")
    if n > size - 8 or n > MAX_HEADER:
        raise fail(f"its header length {n} exceeds the {size - 8} bytes after it (or the 100 MiB limit)")
    data = head + f.read((size if whole else n + 8) - 8)  # bounded by the size measured above
    if len(data) != (size if whole else n + 8):
        raise fail("the file changed size while being read")
    return data


def _tensors(arrays: dict[str, np.ndarray], metadata: Any, fail: Any) -> dict[str, Tensor]:
    """Check dtypes and the checksum, then wrap the arrays (each its own writable copy)."""
    for name, array in arrays.items():
        if array.dtype not in _CODES:
            raise fail(f"tensor {name!r} has the dtype {array.dtype}, which a Tensor cannot have")
    expected = metadata.get(CHECKSUM_KEY) if isinstance(metadata, dict) else None
    if expected is not None and checksum(arrays) != expected:
        raise fail(f"checksum mismatch ({CHECKSUM_KEY} {expected!r}): the file was damaged after it was written")
    return {
        name: from_numpy(arrays[name] if arrays[name].flags.writeable else arrays[name].copy())
        for name in sorted(arrays)
    }


def _header(raw: bytes, fail: Any) -> dict[str, Any]:
    """The JSON header, checked for dtypes a Tensor can have."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except Exception as err:  # bad UTF-8, bad JSON, nesting too deep
        raise fail(f"its header is not JSON ({type(err).__name__}: {err})") from err
    if not isinstance(header, dict):
        raise fail(f"its header is a JSON {type(header).__name__}, not an object")
    meta = header.get("__metadata__")
    if meta is not None and not (isinstance(meta, dict) and all(isinstance(v, str) for v in meta.values())):
        raise fail("its __metadata__ is not an object of strings")
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            raise fail(f"the header entry {name!r} is not an object")
        dtype = entry.get("dtype")
        if dtype not in DTYPES:
            raise fail(
                f"tensor {name!r} has the dtype {dtype!r}, which a tinygrad_course Tensor cannot have "
                f"(accepted: {', '.join(DTYPES)}); convert it before saving (in PyTorch: .float())"
            )
    return header
