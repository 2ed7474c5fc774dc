"""The on-disk cache of generated data sets: one .npz per set of arguments, written atomically.

The folder is `cache_dir` when given, else ``$TINYGRAD_COURSE_CACHE``, else
``$XDG_CACHE_HOME/tinygrad_course``, else ``~/.cache/tinygrad_course``. A file is named by a hash
of the JSON of its arguments and also stores that JSON, so a file is only ever read back for
exactly the arguments that made it; an unreadable or mismatched file is regenerated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import secrets
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np

_KEY = "__key__"


def default_cache_dir() -> pathlib.Path:
    """The cache folder used when none is passed (see the module docstring for the lookup order)."""
    explicit = os.environ.get("TINYGRAD_COURSE_CACHE")
    if explicit:
        return pathlib.Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = pathlib.Path(xdg).expanduser() if xdg else pathlib.Path.home() / ".cache"
    return base / "tinygrad_course"


def cache_key(arguments: dict[str, Any]) -> str:
    """Canonical JSON of the arguments (sorted keys): what a cached file is keyed by."""
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"))


def cache_path(name: str, arguments: dict[str, Any], cache_dir: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """``<cache_dir>/<name>-<first 16 hex digits of sha256(key)>.npz``."""
    folder = default_cache_dir() if cache_dir is None else pathlib.Path(cache_dir)
    digest = hashlib.sha256(cache_key(arguments).encode("utf-8")).hexdigest()[:16]
    return folder / f"{name}-{digest}.npz"


def _read(path: pathlib.Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays stored at `path` if it exists, is readable and was made for `key`; else None."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            stored = archive[_KEY].tobytes().decode("utf-8") if _KEY in archive.files else None
            if stored != key:
                return None
            return {name: archive[name] for name in archive.files if name != _KEY}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # truncated or foreign: make it again


def _write(path: pathlib.Path, key: str, arrays: dict[str, np.ndarray]) -> None:
    """np.savez to a temporary file in the same folder, then os.replace: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **{_KEY: np.frombuffer(key.encode("utf-8"), dtype=np.uint8)}, **arrays)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def cached(
    name: str,
    arguments: dict[str, Any],
    make: Callable[[], dict[str, np.ndarray]],
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> dict[str, np.ndarray]:
    """The arrays `make()` returns for these arguments, read from the cache if present, else made and stored.

    A cache folder that cannot be written is not an error: a warning says so and the data are
    returned uncached.
    """
    if not use_cache:
        return make()
    key = cache_key(arguments)
    path = cache_path(name, arguments, cache_dir)
    found = _read(path, key)
    if found is not None:
        return found
    arrays = make()
    try:
        _write(path, key, arrays)
    except OSError as err:
        warnings.warn(f"{name}: could not write the cache file {path} ({err}); continuing uncached", stacklevel=3)
    return arrays
