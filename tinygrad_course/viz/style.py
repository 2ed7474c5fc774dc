"""Colours, flags and labels of the renderer: one log-scale ramp of gradient magnitude.

Every gradient is measured relative to the loss gradient, r = ‖∂C/∂x‖ / ‖∂C/∂C‖ (the seed of
backward, 1 for a scalar loss). The ramp has one colour per decade of r from 1e-4 to 1e4, a
"cold" colour below (vanishing) and a "hot" one above (exploding). Node fills and edge colours
both come from it, so a picture has a single legend.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np

# r < VANISHING: the gradient has (almost) vanished; r ≥ EXPLODING: it has exploded.
VANISHING = 1e-4
EXPLODING = 1e4

COLD = "#1a1f5c"  # below 1e-4: vanishing
HOT = "#8e0b3a"  # at or above 1e4: exploding
# One colour per decade [1e-4, 1e-3), …, [1e3, 1e4): blue (small) → green (≈ loss) → red (big).
DECADES = ["#3b4cc0", "#4a7bd0", "#3fa7c9", "#3dbb8f", "#8cc63f", "#e3c832", "#f39c2f", "#e8562a"]
RAMP = [COLD, *DECADES, HOT]
GREY = "#d9d9d9"  # no gradient flows here (requires_grad=False)
MAGENTA = "#ff00ff"  # NaN or Inf
NEUTRAL = "#ffffff"  # gradient not known (yet)
PALETTE = frozenset([*RAMP, GREY, MAGENTA, NEUTRAL])
# Fills dark enough to need white text.
DARK = frozenset([COLD, DECADES[0], DECADES[1], HOT, MAGENTA])
EDGE_UNKNOWN = "#555555"


def ramp_index(ratio: float) -> int:
    """Index into RAMP of the relative magnitude r: 0 below 1e-4, 9 at or above 1e4, else 1 + ⌊log₁₀ r⌋ + 4."""
    if ratio < VANISHING:
        return 0
    if ratio >= EXPLODING:
        return len(RAMP) - 1
    return 1 + min(int(math.floor(math.log10(ratio))) + 4, len(DECADES) - 1)


class GradLook:
    """How one gradient looks: fill/edge colour, pen width, flag and CSS class.

    Args:
        grad: the gradient array, or None when none flows / none is known.
        known: whether backward has (so far) reached this place.
        reference: ‖∂C/∂C‖, the magnitude every gradient is compared with.
    """

    def __init__(self, grad: np.ndarray | None, known: bool, reference: float) -> None:
        self.norm: float | None = None
        self.maxabs: float | None = None
        self.flag = ""
        self.finite = True
        if not known:
            self.colour, self.css, self.penwidth = NEUTRAL, "unknown", 1.0
            return
        if grad is None:
            self.colour, self.css, self.penwidth = GREY, "nograd", 1.0
            return
        g = np.asarray(grad, dtype=np.float64)
        self.finite = bool(np.all(np.isfinite(g)))
        if not self.finite:
            self.colour, self.css, self.penwidth, self.flag = MAGENTA, "nan", 3.0, "NaN/Inf gradient"
            return
        self.norm = float(np.linalg.norm(g.ravel()))
        self.maxabs = float(np.max(np.abs(g))) if g.size else 0.0
        k = ramp_index(self.norm / reference)
        self.colour = RAMP[k]
        self.penwidth = 1.0 + 0.4 * k
        self.css = "grad"
        if k == 0:
            self.css, self.flag = "vanishing", "▼ vanishing"
        elif k == len(RAMP) - 1:
            self.css, self.flag = "exploding", "▲ exploding"


def fmt(x: float) -> str:
    """A short number: 4 significant digits, scientific outside [1e-3, 1e4)."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x).replace("inf", "Inf").replace("nan", "NaN")
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.4g}"
    return f"{x:.2e}"


def data_summary(data: np.ndarray) -> str:
    """The value itself when it has ≤ 4 elements, else mean and standard deviation."""
    if data.size == 0:
        return "empty"
    if data.dtype.kind == "b":
        return f"{int(data.sum())} true of {data.size}" if data.size > 4 else str(data.tolist())
    if data.size <= 4:
        if data.ndim == 0:
            return fmt(float(data))
        return "[" + ", ".join(fmt(float(v)) for v in data.ravel()) + "]"
    d = data.astype(np.float64, copy=False)
    return f"μ={fmt(float(np.mean(d)))} σ={fmt(float(np.std(d)))}"


def full_stats(name: str, data: np.ndarray | None, missing: str = "not known") -> str:
    """Tooltip line: shape, dtype, min/max/mean/std/norm and NaN/Inf counts (or `missing`)."""
    if data is None:
        return f"{name}: {missing}"
    parts = [f"{name}: shape {tuple(data.shape)} {data.dtype}"]
    if data.size and data.dtype.kind in "fiu":
        d = data.astype(np.float64, copy=False)
        finite = d[np.isfinite(d)]
        if finite.size:
            parts.append(
                f"min {fmt(float(finite.min()))}, max {fmt(float(finite.max()))}, mean {fmt(float(finite.mean()))}, "
                f"std {fmt(float(finite.std()))}, ‖·‖ {fmt(float(np.linalg.norm(finite)))}"
            )
        n_nan, n_inf = int(np.isnan(d).sum()), int(np.isinf(d).sum())
        if n_nan or n_inf:
            parts.append(f"{n_nan} NaN, {n_inf} Inf")
    return "; ".join(parts)


def grad_line(look: GradLook) -> str:
    """‖grad‖ and max|grad|, or what is known instead."""
    if look.css == "unknown":
        return ""
    if look.css == "nograd":
        return "no grad"
    if not look.finite:
        return "grad has NaN/Inf"
    return f"‖grad‖={fmt(look.norm or 0.0)} max|grad|={fmt(look.maxabs or 0.0)}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with control characters (NUL, newline, tab, …) written out as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def html_text(text: str) -> str:
    """`text` safe inside an HTML-like DOT label: escaped, control characters spelled out.

    (Graphviz's HTML lexer also rejects a cell whose whole text is "]": that one becomes an entity.)
    """
    escaped = html.escape(printable(text), quote=True)
    return "&#93;" if escaped == "]" else escaped


def dot_text(text: str) -> str:
    """`text` safe inside a quoted DOT string: control characters spelled out, backslashes doubled.

    (Graphviz reads ``\\l``, ``\\N`` … as escapes, and a trailing backslash would swallow the quote.)
    """
    return printable(text).replace("\\", "\\\\")


def html_label(rows: list[tuple[str, bool]], colour: str) -> str:
    """An HTML-like DOT label: one row per (text, bold) pair; text is escaped here."""
    cells = []
    for text, bold in rows:
        body = html_text(text) or "&#160;"  # Graphviz rejects an empty <b></b>
        if bold:
            body = f"<b>{body}</b>"
        if colour in DARK:
            body = f'<font color="white">{body}</font>'
        cells.append(f"<tr><td>{body}</td></tr>")
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + "".join(cells) + "</table>>"


def text_label(rows: list[tuple[str, bool]]) -> str:
    """A plain-text label (for the WebAssembly Graphviz, which has no HTML labels)."""
    return "\n".join(dot_text(text) for text, _ in rows)


def legend_rows() -> list[tuple[str, str]]:
    """(colour, meaning) for every colour the renderer uses, ramp first."""
    rows = [(COLD, "< 1e-4  vanishing")]
    for k, colour in enumerate(DECADES):
        rows.append((colour, f"1e{k - 4}…1e{k - 3}"))
    rows.append((HOT, "≥ 1e4  exploding"))
    rows += [(MAGENTA, "NaN / Inf"), (GREY, "no grad"), (NEUTRAL, "not known yet")]
    return rows


def legend_html(caption: str, per_row: int = 7) -> str:
    """The legend as an HTML-like graph label: the caption, then the colour swatches, `per_row` to a row."""
    rows = legend_rows()
    lines = []
    for start in range(0, len(rows), per_row):
        cells = "".join(
            f'<td bgcolor="{colour}" border="1" width="14"> </td><td align="left">{html_text(text)}</td>'
            for colour, text in rows[start : start + per_row]
        )
        lines.append(f"<tr>{cells}</tr>")
    n = 2 * per_row
    head = f'<tr><td colspan="{n}" align="left"><b>{html_text(caption)}</b></td></tr>' if caption else ""
    return (
        '<<table border="0" cellborder="0" cellspacing="2" cellpadding="2">'
        f"{head}"
        f'<tr><td colspan="{n}" align="left">colour, pen width: ‖∂C/∂x‖ relative to the loss gradient ‖∂C/∂C‖</td></tr>'
        + "".join(lines)
        + "</table>>"
    )


def node_colour_attrs(colour: str) -> dict[str, Any]:
    """fillcolor and, for dark fills, white text."""
    attrs: dict[str, Any] = {"fillcolor": colour}
    if colour in DARK:
        attrs["fontcolor"] = "white"
    return attrs
