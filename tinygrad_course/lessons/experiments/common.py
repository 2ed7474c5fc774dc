"""What every experiment shares: the output folder, the results table, the JSON file, the plots."""

from __future__ import annotations

import contextlib
import json
import math
import os
import pathlib
import secrets
from collections.abc import Sequence
from typing import Any

INSTALL_PLOTS = "pip install tinygrad_course[examples]"


class OutputDirError(OSError):
    """The output folder cannot be created or written to."""


def prepare_out_dir(out_dir: str | os.PathLike[str]) -> pathlib.Path:
    """Create `out_dir` if needed and prove it is writable (a probe file), before any work starts."""
    path = pathlib.Path(out_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OutputDirError(
            f"cannot write results to {str(path)!r}: {reason}; pass a writable folder with --out DIR"
        ) from err
    return path


def pyplot() -> Any | None:
    """matplotlib.pyplot on the non-interactive Agg backend, or None (with a note) if matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        print(f"plots skipped: matplotlib is not installed (to draw them: {INSTALL_PLOTS})")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: pathlib.Path, files: list[pathlib.Path], tight: bool = True) -> None:
    """Write `fig` as a PNG to `path` atomically (temporary file, then rename), close it, and record the path."""
    if tight:
        fig.tight_layout()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fig.clf()
    import matplotlib.pyplot as plt

    plt.close(fig)
    files.append(path)


def atomic_write(path: pathlib.Path, data: bytes | str) -> pathlib.Path:
    """Write `data` to `path` whole or not at all: a temporary file beside it, then a rename over it."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return path


def _clean(value: Any) -> Any:
    """JSON-safe copy: numpy numbers become Python numbers, NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(out_dir: pathlib.Path, name: str, data: dict[str, Any], files: list[pathlib.Path]) -> pathlib.Path:
    """Write ``<out_dir>/<name>.json`` atomically (temporary file, then rename) and record it in `files`."""
    path = atomic_write(out_dir / f"{name}.json", json.dumps(_clean(data), indent=2) + "\n")
    files.append(path)
    return path


def format_cell(value: Any) -> str:
    """A table cell: floats with 4 significant digits (scientific when tiny or huge), None as '—'."""
    if value is None:
        return "—"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a plain-text table with right-aligned columns under a title."""
    cells = [[format_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    print(title)
    print("  " + "  ".join(h.rjust(w) for h, w in zip(headers, widths)))
    print("  " + "  ".join("-" * w for w in widths))
    for row in cells:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)))
    print()


# One look per series, so that no series hides under another (and each reads in grey print):
# (linestyle, marker) pairs, all distinct. Use with markevery to keep long series light.
SERIES_STYLES = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ("-", "v"), ("--", "x"), ("-.", "P"), (":", "*")]


def series_style(k: int, n_points: int = 0, marks: int = 8) -> dict[str, Any]:
    """Keyword arguments for the k-th series of a plot: its linestyle, marker and (for long series) markevery."""
    linestyle, marker = SERIES_STYLES[k % len(SERIES_STYLES)]
    style: dict[str, Any] = {"linestyle": linestyle, "marker": marker, "ms": 5}
    if n_points > marks:
        # staggered, so that the markers of series lying on top of each other stay apart
        step = max(1, n_points // marks)
        style["markevery"] = (min(k * step // len(SERIES_STYLES), n_points - 1), step)
    return style
