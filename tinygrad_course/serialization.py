"""`save`/`load` of state dicts: one .npz archive with the arrays and a JSON description, no pickle.

The archive (``np.savez``, a zip of ``.npy`` files) holds the arrays as ``a0.npy``, ``a1.npy``,
… and ``__meta__.npy``: a uint8 array with the UTF-8 JSON ``{"format", "version", "root"}``.
``root`` describes the saved object: JSON null/true/false/ints/finite floats/strings stand for
themselves, and a JSON object is always a node ``{"t": kind, ...}``::

    {"t": "dict", "items": [[key, value], ...]}    keys: JSON strings or ints (types kept)
    {"t": "list" | "tuple", "items": [...]}
    {"t": "tensor", "array": "a0", "requires_grad": false}
    {"t": "ndarray", "array": "a1"}      {"t": "scalar", "array": "a2"}   (numpy scalar)
    {"t": "float", "v": "inf" | "-inf" | "nan"}

Loading reads JSON and raw ``.npy`` data only (``allow_pickle=False``), so a file can never run
code. Saving is atomic: a temporary file in the same folder, fsync, then ``os.replace``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import zipfile
from typing import Any, BinaryIO

import numpy as np

from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor.creation import tensor

FORMAT = "tinygrad_course.state"
VERSION = 1
META = "__meta__"
_ARRAY_KINDS = "biufc"  # bool, ints, floats, complex: plain bytes, no Python objects


class CheckpointError(ValueError):
    """`load` was given a file that is not a readable tinygrad_course checkpoint (truncated, corrupted, foreign)."""


def _fspath(path: Any, op: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str or os.PathLike (e.g. pathlib.Path), got {type(path).__name__}")
    result = os.fspath(path)
    if not isinstance(result, str):
        raise TypeError(f"{op}: path must be text, got {type(result).__name__} {result!r}")
    return result


# ----------------------------------------------------------------------------- encoding
class _Encoder:
    """Turns an object into the JSON description and the list of arrays, checking every value."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self._open: set[int] = set()  # ids of the containers being encoded (to catch cycles)

    def _array(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind not in _ARRAY_KINDS:
            raise TypeError(
                f"save: {where} is an array of dtype {array.dtype}, which cannot be saved without pickle; "
                "accepted: bool, integer, floating and complex arrays"
            )
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def encode(self, value: Any, where: str) -> Any:
        if isinstance(value, Tensor):
            return {"t": "tensor", "array": self._array(value._array, where), "requires_grad": bool(value.requires_grad)}
        if isinstance(value, np.ndarray):
            return {"t": "ndarray", "array": self._array(value, where)}
        if isinstance(value, np.generic):  # before float: np.float64 is a float subclass
            return {"t": "scalar", "array": self._array(np.asarray(value), where)}
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            return float(value) if math.isfinite(value) else {"t": "float", "v": repr(float(value))}
        if isinstance(value, str):
            return str(value)
        if isinstance(value, (dict, list, tuple)):
            if id(value) in self._open:
                raise TypeError(f"save: {where} contains itself (a reference cycle), which cannot be saved")
            self._open.add(id(value))
            try:
                return self._container(value, where)
            finally:
                self._open.discard(id(value))
        raise TypeError(
            f"save: {where} is a {type(value).__name__}, which cannot be saved; accepted: Tensors, numpy arrays "
            "and scalars, int, float, bool, None, str, and dicts (str/int keys), lists and tuples of them"
        )

    def _container(self, value: dict[Any, Any] | list[Any] | tuple[Any, ...], where: str) -> dict[str, Any]:
        if isinstance(value, dict):
            items = []
            for key, item in value.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(
                        f"save: {where} has the key {key!r} of type {type(key).__name__}; accepted keys: str and int"
                    )
                key = str(key) if isinstance(key, str) else int(key)
                items.append([key, self.encode(item, f"{where}[{key!r}]")])
            return {"t": "dict", "items": items}
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {"t": kind, "items": [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO) -> None:
    """Write `obj` (a state dict: nested dicts/lists/tuples of Tensors, arrays, numbers, str) to exactly `f`.

    `f` is a path, or an open binary file (``open(p, "wb")``, ``io.BytesIO()``), as PyTorch's.
    To a path it is atomic: the data goes to a temporary file in the same folder, is flushed and
    fsync'ed, and then renamed over the path; on any error the temporary file is removed and an
    existing file is untouched. Unsupported values raise TypeError naming their place
    (``obj['layers'][2]``) before anything is written.
    """
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    text = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=False)
    meta = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **{META: meta}, **encoder.arrays)
        return
    path = _fspath(f, "save")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: the folder {folder!r} of {path!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path!r} is a folder; pass a file path")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never clobber another file; 0o666 lets the umask give the usual permissions.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{META: meta}, **encoder.arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); best effort where folders cannot be opened (Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- decoding
class _Decoder:
    """Rebuilds the object from the JSON description, reading each array once from the archive."""

    def __init__(self, archive: zipfile.ZipFile, path: str) -> None:
        self.archive = archive
        self.path = path
        self.used: set[str] = set()

    def fail(self, why: str) -> CheckpointError:
        return CheckpointError(f"load: {self.path!r} is not a valid tinygrad_course checkpoint: {why}")

    def array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name == META or name in self.used:
            raise self.fail(f"bad array reference {name!r} in the metadata")
        self.used.add(name)
        return _read_npy(self.archive, f"{name}.npy", self)

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise self.fail(f"unexpected {type(node).__name__} in the metadata")
        kind = node.get("t")
        if kind == "dict":
            out = {}
            for pair in self._items(node):
                if (
                    not isinstance(pair, list)
                    or len(pair) != 2
                    or isinstance(pair[0], bool)
                    or not isinstance(pair[0], (str, int))
                ):
                    raise self.fail(f"bad dict item {pair!r} in the metadata")
                out[pair[0]] = self.decode(pair[1])
            return out
        if kind == "list":
            return [self.decode(item) for item in self._items(node)]
        if kind == "tuple":
            return tuple(self.decode(item) for item in self._items(node))
        if kind == "float":
            if node.get("v") not in ("inf", "-inf", "nan"):
                raise self.fail(f"bad float node {node!r}")
            return float(node["v"])
        if kind == "ndarray":
            return self.array(node.get("array"))
        if kind == "scalar":
            array = self.array(node.get("array"))
            if array.shape != ():
                raise self.fail(f"scalar {node.get('array')!r} has shape {array.shape}")
            return array[()]
        if kind == "tensor":
            array = self.array(node.get("array"))
            requires_grad = node.get("requires_grad")
            if not isinstance(requires_grad, bool) or array.dtype.kind not in "biuf":
                raise self.fail(f"bad tensor node {node!r} (array dtype {array.dtype})")
            if requires_grad and array.dtype.kind != "f":
                raise self.fail(f"tensor {node.get('array')!r} of dtype {array.dtype} cannot require grad")
            return tensor(array, requires_grad=requires_grad)
        raise self.fail(f"unknown node kind {kind!r}")

    def _items(self, node: dict[str, Any]) -> list[Any]:
        items = node.get("items")
        if not isinstance(items, list):
            raise self.fail(f"node {node.get('t')!r} without an 'items' list")
        return items


def _read_npy(archive: zipfile.ZipFile, member: str, decoder: _Decoder) -> np.ndarray:
    """Read one .npy member, refusing object dtypes (pickles) from the header before any data."""
    if member not in archive.namelist():
        raise decoder.fail(f"the metadata refers to {member!r}, which the archive lacks")
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            _, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            _, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise decoder.fail(f"{member!r} has the unsupported .npy format version {version}")
    if dtype.hasobject:
        raise decoder.fail(
            f"{member!r} holds pickled Python objects (dtype {dtype}); they are never unpickled, as that could run code"
        )
    if dtype.kind not in _ARRAY_KINDS:
        raise decoder.fail(f"{member!r} has the unsupported dtype {dtype}")
    with archive.open(member) as f:
        array = np.lib.format.read_array(f, allow_pickle=False)
        if f.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise decoder.fail(f"{member!r} has data after its array")
    return array


def load(f: str | os.PathLike[str] | BinaryIO, map_location: Any = None, weights_only: bool | None = None,
         **pickle_load_args: Any) -> Any:
    """Read an object written by `save`: Tensors (dtype and requires_grad kept), arrays, ints as ints, int keys as ints.

    `f` is a path or an open binary file (``io.BytesIO`` too). ``map_location`` may name the
    CPU (there is no other device) and ``weights_only`` is accepted: the format never pickles,
    so every load is "weights only". Raises CheckpointError (a ValueError) naming the problem
    for a truncated, corrupted or foreign file (not an .npz, an .npz without our metadata,
    pickled objects inside); nothing in the file is ever executed. A missing file raises
    FileNotFoundError.
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        device_.check(map_location, "load")
    if pickle_load_args:
        raise TypeError(f"load: unexpected arguments {sorted(pickle_load_args)}; this format has no pickle to configure")
    if hasattr(f, "read"):
        return _load_file(f, getattr(f, "name", "<file object>"))
    path = _fspath(f, "load")
    with open(path, "rb") as opened:
        return _load_file(opened, path)


def _load_file(f: BinaryIO, path: str) -> Any:
    """Check the zip signature, then decode the archive from an open binary file (from where it stands)."""
    start = f.tell()
    head = f.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise CheckpointError(
            f"load: {path!r} is not a tinygrad_course checkpoint: not an .npz (zip) archive (it starts with {head!r})"
        )
    f.seek(start)
    try:
        with zipfile.ZipFile(f) as archive:
            return _load_archive(archive, path)
    except CheckpointError:
        raise
    except Exception as err:  # a damaged zip can fail in many ways (BadZipFile, EOFError, zlib, ...)
        raise CheckpointError(f"load: {path!r} is truncated or corrupted ({type(err).__name__}: {err})") from err


def _load_archive(archive: zipfile.ZipFile, path: str) -> Any:
    decoder = _Decoder(archive, path)
    names = archive.namelist()
    if f"{META}.npy" not in names:
        raise decoder.fail(
            f"no {META} entry (a plain .npz archive with {len(names)} entries, not saved by tinygrad_course.save)"
        )
    raw = _read_npy(archive, f"{META}.npy", decoder)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise decoder.fail(f"{META} must be a 1-d uint8 array, got dtype {raw.dtype} shape {raw.shape}")

    def no_constants(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    meta = json.loads(raw.tobytes().decode("utf-8"), parse_constant=no_constants)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else type(meta).__name__
        raise decoder.fail(f"format {got!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise decoder.fail(f"format version {meta.get('version')!r}; this tinygrad_course reads version {VERSION}")
    if "root" not in meta:
        raise decoder.fail("the metadata has no 'root'")
    obj = decoder.decode(meta["root"])
    extra = sorted(set(names) - {f"{name}.npy" for name in decoder.used} - {f"{META}.npy"})
    if extra:
        raise decoder.fail(f"entries {extra} are not described by the metadata")
    return obj
