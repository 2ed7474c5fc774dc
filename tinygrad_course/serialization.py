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
code, and its memory is bounded by the file's size: members must be stored uncompressed (as
``np.savez`` writes them; a compressed member could be a zip bomb), and each ``.npy`` header must
describe exactly the bytes its member holds. Saving is atomic: a temporary file
``.{name}.{hex}.tmp`` in the same folder, fsync, then ``os.replace``; a symlinked path is written
through (the link stays a link), an existing file keeps its permission bits, and the temporary
files of killed saves to the same path are removed by the next save.

Paths ending in ``.safetensors`` (or ``format="safetensors"``) use the safetensors format
instead: flat ``{name: tensor}`` dicts only (`save_safetensors`, `load_safetensors`, below).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import os
import re
import secrets
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there, which protects live saves
    fcntl = None  # type: ignore[assignment]

import numpy as np
import safetensors
import safetensors.numpy

from tinygrad_course.tensor import Tensor
from tinygrad_course.tensor import device as device_
from tinygrad_course.tensor.creation import from_numpy, tensor

FORMAT = "tinygrad_course.state"
VERSION = 1
META = "__meta__"
_ARRAY_KINDS = "biufc"  # bool, ints, floats, complex: plain bytes, no Python objects
FORMATS = ("npz", "safetensors")


class CheckpointError(ValueError):
    """`load` was given a file that is not a readable tinygrad_course checkpoint (truncated, corrupted, foreign)."""


def _fspath(path: Any, op: str) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{op}: path must be a str or os.PathLike (e.g. pathlib.Path), got {type(path).__name__}")
    result = os.fspath(path)
    if not isinstance(result, str):
        raise TypeError(f"{op}: path must be text, got {type(result).__name__} {result!r}")
    return result


def _format(f: Any, format: str | None, op: str) -> str:  # noqa: A002 - the keyword's name
    """The file format: `format` when given, else by the path's suffix (file objects: npz)."""
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"{op}: unknown format {format!r}; accepted: {', '.join(FORMATS)}")
        return format
    if isinstance(f, (str, os.PathLike)) and os.fspath(f).lower().endswith(".safetensors"):
        return "safetensors"
    return "npz"


# ----------------------------------------------------------------------------- atomic writes
def atomic_write(f: Any, write: Callable[[BinaryIO], None], op: str) -> None:
    """Write a file at path `f` with `write(binary_file)`, all or nothing.

    The data goes to ``.{name}.{hex}.tmp`` in the target's folder, is flushed and fsync'ed, then
    renamed over the target. A symlink is followed (the link stays, its target gets the data); an
    existing file's permission bits are kept; abandoned temporary files of the same target (from
    killed saves) are removed first. On any error the temporary file is removed and an existing
    file is untouched.
    """
    path = _fspath(f, op)
    target = os.path.realpath(path)  # through symlinks (a chain, or a dangling one, too)
    folder = os.path.dirname(target)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{op}: the folder {folder!r} of {path!r} does not exist")
    if os.path.isdir(target):
        raise IsADirectoryError(f"{op}: {path!r} is a folder; pass a file path")
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    name = os.path.basename(target)
    _remove_abandoned_temps(folder, name)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    # O_EXCL: never clobber another file. A new file gets 0o666 less the umask, as usual; over an
    # existing file the temporary file starts with no more than its bits (never readable by more).
    mode = 0o666 if old is None else stat.S_IMODE(old.st_mode) & 0o666
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    closed = False
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until renamed: marks the file as a live save's
        if old is not None:
            _copy_owner_and_mode(fd, old)
        with os.fdopen(fd, "wb", closefd=False) as out:
            write(out)
            out.flush()
            os.fsync(fd)
        if fcntl is None:  # Windows cannot rename an open file
            os.close(fd)
            closed = True
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    finally:
        if not closed:
            os.close(fd)
    _fsync_folder(folder)


def _copy_owner_and_mode(fd: int, old: os.stat_result) -> None:
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
        with contextlib.suppress(OSError):  # best effort: only root may give a file away
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _remove_abandoned_temps(folder: str, name: str) -> None:
    """Remove ``.{name}.{12 hex}.tmp`` files left by killed saves, never one a live save holds.

    A live save holds an exclusive ``flock`` on its temporary file until the rename; the lock
    goes with the process, so a file that can be locked was abandoned. (Without ``fcntl``, on
    Windows, a live save's file is open, and an open file cannot be deleted.)
    """
    pattern = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{12}}\.tmp")
    try:
        entries = [e.name for e in os.scandir(folder) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for entry in entries:
        stale = os.path.join(folder, entry)
        if fcntl is None:
            with contextlib.suppress(OSError):
                os.unlink(stale)
            continue
        try:
            fd = os.open(stale, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue  # gone already, or a symlink: not ours
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live save is writing it
            with contextlib.suppress(OSError):
                os.unlink(stale)
        finally:
            os.close(fd)


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


def save(obj: Any, f: str | os.PathLike[str] | BinaryIO, format: str | None = None) -> None:  # noqa: A002
    """Write `obj` (a state dict: nested dicts/lists/tuples of Tensors, arrays, numbers, str) to exactly `f`.

    `f` is a path, or an open binary file (``open(p, "wb")``, ``io.BytesIO()``), as PyTorch's.
    To a path it is atomic: the data goes to a temporary file in the same folder, is flushed and
    fsync'ed, and then renamed over the path; on any error the temporary file is removed and an
    existing file is untouched. A symlink is written through, and an existing file keeps its
    permission bits. Unsupported values raise TypeError naming their place
    (``obj['layers'][2]``) before anything is written.

    The format is an .npz archive, or safetensors for a path ending in ``.safetensors`` (or with
    ``format="safetensors"``): then `obj` must be a flat ``{name: Tensor}`` dict.
    """
    if _format(f, format, "save") == "safetensors":
        save_safetensors(obj, f)
        return
    encoder = _Encoder()
    root = encoder.encode(obj, "obj")
    text = json.dumps({"format": FORMAT, "version": VERSION, "root": root}, allow_nan=False)
    meta = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    if hasattr(f, "write"):
        np.savez(f, **{META: meta}, **encoder.arrays)
        return
    atomic_write(f, lambda out: np.savez(out, **{META: meta}, **encoder.arrays), "save")


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
            if not isinstance(requires_grad, bool) or array.dtype.kind not in "biufc":
                raise self.fail(f"bad tensor node {node!r} (array dtype {array.dtype})")
            if requires_grad and array.dtype.kind not in "fc":
                raise self.fail(f"tensor {node.get('array')!r} of dtype {array.dtype} cannot require grad")
            return tensor(array, requires_grad=requires_grad)
        raise self.fail(f"unknown node kind {kind!r}")

    def _items(self, node: dict[str, Any]) -> list[Any]:
        items = node.get("items")
        if not isinstance(items, list):
            raise self.fail(f"node {node.get('t')!r} without an 'items' list")
        return items


def _read_npy(archive: zipfile.ZipFile, member: str, decoder: _Decoder) -> np.ndarray:
    """Read one .npy member, refusing object dtypes (pickles) from the header before any data.

    The header must describe exactly the bytes the member holds, so no array larger than the
    (uncompressed, size-checked) member is ever allocated.
    """
    try:
        info = archive.getinfo(member)
    except KeyError:
        raise decoder.fail(f"the metadata refers to {member!r}, which the archive lacks") from None
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise decoder.fail(f"{member!r} has the unsupported .npy format version {version}")
        header_size = f.tell()
    if dtype.hasobject:
        raise decoder.fail(
            f"{member!r} holds pickled Python objects (dtype {dtype}); they are never unpickled, as that could run code"
        )
    if dtype.kind not in _ARRAY_KINDS:
        raise decoder.fail(f"{member!r} has the unsupported dtype {dtype}")
    if header_size + math.prod(shape) * dtype.itemsize != info.file_size:
        raise decoder.fail(
            f"{member!r} claims shape {shape} of {dtype} ({math.prod(shape) * dtype.itemsize} bytes), "
            f"but holds {info.file_size - header_size} bytes of data"
        )
    with archive.open(info) as f:
        array = np.lib.format.read_array(f, allow_pickle=False)
        if f.read(1):  # reading to the end also makes zipfile check the CRC-32
            raise decoder.fail(f"{member!r} has data after its array")
    return array


def _check_sizes(archive: zipfile.ZipFile, size: int, decoder: _Decoder) -> None:
    """Refuse compressed members (a zip bomb inflates a small file to any size; `save` never
    compresses) and members that claim more bytes than the file has, before reading any."""
    total = 0
    for info in archive.infolist():
        if info.compress_type != zipfile.ZIP_STORED:
            raise decoder.fail(
                f"{info.filename!r} is compressed (zip method {info.compress_type}); tinygrad_course checkpoints "
                "are stored uncompressed, and a compressed member could inflate without bound (a zip bomb)"
            )
        if info.file_size != info.compress_size:
            raise decoder.fail(f"{info.filename!r} is stored with {info.compress_size} bytes but claims {info.file_size}")
        total += info.file_size
        if total > size:
            raise decoder.fail(f"its members claim more bytes than the file's {size}")


def load(f: str | os.PathLike[str] | BinaryIO, map_location: Any = None, weights_only: bool | None = None,
         format: str | None = None, **pickle_load_args: Any) -> Any:  # noqa: A002
    """Read an object written by `save`: Tensors (dtype and requires_grad kept), arrays, ints as ints, int keys as ints.

    `f` is a path or an open binary file (``io.BytesIO`` too). ``map_location`` may name the
    CPU (there is no other device) and ``weights_only`` is accepted: the format never pickles,
    so every load is "weights only". Raises CheckpointError (a ValueError) naming the problem
    for a truncated, corrupted or foreign file (not an .npz, an .npz without our metadata,
    pickled objects inside); nothing in the file is ever executed. A missing file raises
    FileNotFoundError.

    A path ending in ``.safetensors`` (or ``format="safetensors"``, for file objects too) is read
    as a safetensors file: a flat ``{name: Tensor}`` dict comes back.
    """
    if map_location is not None and not callable(map_location) and not isinstance(map_location, dict):
        device_.check(map_location, "load")
    if pickle_load_args:
        raise TypeError(f"load: unexpected arguments {sorted(pickle_load_args)}; this format has no pickle to configure")
    if _format(f, format, "load") == "safetensors":
        return load_safetensors(f)
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
        hint = ""
        if head and (head + f.read(5))[8:9] == b"{":
            hint = "; it looks like a safetensors file: name it *.safetensors or pass format='safetensors'"
        raise CheckpointError(
            f"load: {path!r} is not a tinygrad_course checkpoint: not an .npz (zip) archive "
            f"(it starts with {head!r}){hint}"
        )
    size = f.seek(0, os.SEEK_END) - start
    f.seek(start)
    try:
        with zipfile.ZipFile(f) as archive:
            return _load_archive(archive, path, size)
    except CheckpointError:
        raise
    except Exception as err:  # a damaged zip can fail in many ways (BadZipFile, EOFError, zlib, ...)
        raise CheckpointError(f"load: {path!r} is truncated or corrupted ({type(err).__name__}: {err})") from err


def _load_archive(archive: zipfile.ZipFile, path: str, size: int) -> Any:
    decoder = _Decoder(archive, path)
    _check_sizes(archive, size, decoder)
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


# ----------------------------------------------------------------------------- safetensors
# safetensors files: flat ``{name: Tensor}`` dicts that PyTorch, JAX and Hugging Face read.
#
# `save_safetensors` writes with the ``safetensors`` package's numpy API (``safetensors.numpy.save``),
# so a file is byte for byte what ``safetensors.numpy.save_file`` writes for the same arrays and
# metadata. It adds one metadata entry, ``"tinygrad_course.crc32"``: a CRC-32 of every tensor's
# name, dtype, shape and bytes (in name order), which `load_safetensors` checks, so a damaged file
# raises instead of loading wrong numbers (safetensors itself has no checksum). Files from
# elsewhere have no such entry and load unchecked.
#
# `load_safetensors` bounds everything by the file's size: the 8-byte header length is checked
# against it before the header is read, and the ``safetensors`` package checks that the tensors
# cover the data exactly. Every problem with a file, the package's own errors included, raises
# `CheckpointError`. ``tc.save(state_dict, "model.safetensors")`` and
# ``tc.load("model.safetensors")`` come here by the suffix.

CHECKSUM_KEY = "tinygrad_course.crc32"
MAX_HEADER = 100 * 1024 * 1024  # the safetensors package's own limit on the JSON header

# The dtypes a Tensor may have, by their safetensors names.
DTYPES = {
    "BOOL": np.dtype(np.bool_), "U8": np.dtype(np.uint8), "I8": np.dtype(np.int8), "I16": np.dtype(np.int16),
    "I32": np.dtype(np.int32), "I64": np.dtype(np.int64), "F16": np.dtype(np.float16),
    "F32": np.dtype(np.float32), "F64": np.dtype(np.float64), "C64": np.dtype(np.complex64),
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
