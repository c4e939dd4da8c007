"""The broadcasting diagram: one box per axis, right-aligned, coloured by the rule applied."""

from __future__ import annotations

import io

from matplotlib.figure import Figure
from matplotlib.legend_handler import HandlerTuple
from matplotlib.patches import Patch, Rectangle

from ..broadcasting.rule import (
    RULE_EQUAL,
    RULE_MISMATCH,
    RULE_MISSING,
    RULE_STRETCH,
    BroadcastExplanation,
)
from ..core.validate import check_positive_int
from .sweep import new_figure

MAX_DPI = 1000  # a diagram is a few inches wide: 1000 dpi is already a poster

# Okabe-Ito colours (colour-blind safe), with the text colour that reads on each
RULE_COLOURS = {RULE_EQUAL: ("#0072B2", "white"), RULE_STRETCH: ("#E69F00", "black"),
                RULE_MISSING: ("#56B4E9", "black"), RULE_MISMATCH: ("#D55E00", "white")}


MIN_WIDTH_IN = 10.0  # 800 px at the 80 dpi of broadcast_diagram_png: readable when projected


def _box(ax, x: float, y: float, text: str, rule: str, missing: bool = False,
         zoom: float = 1.0) -> None:
    face, ink = RULE_COLOURS[rule]
    if missing:
        ax.add_patch(Rectangle((x + 0.06, y + 0.08), 0.88, 0.84, facecolor="white",
                               edgecolor=face, linestyle="--", linewidth=1.6))
        ink = "#444444"
    else:
        ax.add_patch(Rectangle((x + 0.06, y + 0.08), 0.88, 0.84, facecolor=face,
                               edgecolor="black", linewidth=0.8))
    size = zoom * (12 if len(text) <= 4 else max(6, 12 - (len(text) - 4) * 1.2))
    ax.text(x + 0.5, y + 0.5, text, ha="center", va="center", fontsize=size, color=ink,
            fontweight="bold" if not missing else "normal")


def broadcast_diagram(explanation: BroadcastExplanation, dpi: int = 100) -> Figure:
    """Rows a, b and result; one column per aligned axis, coloured by its rule.

    A missing axis is a dashed box reading "(1)"; a size 1 that stretches reads "1→n"; the
    result of a mismatched axis is a vermillion "✗".
    """
    if not isinstance(explanation, BroadcastExplanation):
        raise TypeError(f"explanation: got {type(explanation).__name__}; expected the "
                        "BroadcastExplanation that explain_broadcast() returns")
    dpi = check_positive_int("dpi", dpi, maximum=MAX_DPI)
    e = explanation
    n = len(e.axes)
    width = max(MIN_WIDTH_IN, min(16.0, 2.2 + 1.0 * max(n, 1)))
    fig = Figure(figsize=(width, 3.6), dpi=dpi)
    ax = fig.add_axes((0.0, 0.17, 1.0, 0.72))
    left = 1.4
    units = left + max(n, 1) + 0.2
    ax.set_xlim(0, units)
    zoom = min(1.6, width / units)  # boxes wider than an inch get larger text
    ax.set_ylim(0, 3.4)
    for i, x in enumerate(e.axes):
        ax.text(left + i + 0.5, 3.15, f"axis {x.axis}", ha="center", va="center", fontsize=11,
                color="#444444")
    ax.axis("off")
    rows = (("a", 2, lambda x: x.a, "a"), ("b", 1, lambda x: x.b, "b"))
    for label, y, get, side in rows:
        ax.text(left - 0.15, y + 0.5, label, ha="right", va="center", fontsize=14)
        for i, x in enumerate(e.axes):
            size = get(x)
            if size is None:
                _box(ax, left + i, y, "(1)", x.rule, missing=True, zoom=zoom)
            elif x.rule == RULE_STRETCH and x.stretched == side:
                _box(ax, left + i, y, f"1\u2192{x.result}", x.rule, zoom=zoom)
            else:
                _box(ax, left + i, y, str(size), x.rule, zoom=zoom)
    ax.text(left - 0.15, 0.5, "result", ha="right", va="center", fontsize=14)
    for i, x in enumerate(e.axes):
        _box(ax, left + i, 0, "\u2717" if x.result is None else str(x.result), x.rule,
             zoom=zoom)
    if n == 0:
        ax.text(left + 0.5, 1.5, "both are scalars: result ()", ha="left", va="center",
                fontsize=12)
    outcome = (f"\u2192 {e.result_shape}" if e.compatible
               else f"\u2192 error: axis {e.failing_axis} mismatches")
    fig.suptitle(f"{e.a} * {e.b}  {outcome}", fontsize=14, y=0.97)
    used = [r for r in RULE_COLOURS if any(x.rule == r for x in e.axes)] or [RULE_EQUAL]
    handles, labels = [], []
    for rule in used:
        filled = Patch(facecolor=RULE_COLOURS[rule][0], edgecolor="black")
        if rule == RULE_MISSING:  # as drawn: a dashed empty box where the axis is absent,
            dashed = Patch(facecolor="white", edgecolor=RULE_COLOURS[rule][0],  # filled below
                           linestyle="--", linewidth=1.6)
            handles.append((dashed, filled))
            labels.append(f"{rule} (dashed: the absent axis; filled: that axis elsewhere)")
        else:
            handles.append(filled)
            labels.append(rule)
    fig.legend(handles, labels, loc="lower center", ncol=len(used), fontsize=12,
               frameon=False, handler_map={tuple: HandlerTuple(ndivide=None, pad=0.3)})
    return fig


def figure_png(fig: Figure, dpi: int | None = None) -> bytes:
    """Render a figure to PNG bytes with the Agg canvas (no pyplot, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


def broadcast_diagram_png(explanation: BroadcastExplanation, dpi: int = 80) -> bytes:
    """:func:`broadcast_diagram` as PNG bytes (for an ipywidgets ``Image``)."""
    return figure_png(broadcast_diagram(explanation, dpi=dpi))


def plot_keep_mask(written, meant) -> Figure:
    """The factor each (image, channel) pair gets from a per-image scale, as computed two ways
    (arrays of shape (N, H, W, C) after multiplying a tensor of ones): left what was written,
    right what was meant. Black is 0 (dropped), white is 1 (kept); each cell is labelled."""
    import numpy as np

    maps = {"written: keep * up  (keep shape (N,))": np.asarray(written)[:, 0, 0, :],
            "meant: keep[:, None, None, None] * up": np.asarray(meant)[:, 0, 0, :]}
    fig = new_figure(12, 5.6)
    axes = fig.subplots(1, 2)
    for ax, (title, grid) in zip(axes, maps.items(), strict=True):
        ax.imshow(grid, cmap="gray", vmin=0, vmax=1)
        for (row, col), value in np.ndenumerate(grid):
            ax.text(col, row, f"{value:g}", ha="center", va="center", fontsize=11,
                    color="white" if value < 0.5 else "black")
        ax.set_title(title, fontsize=13)
        ax.set_xlabel("channel (C axis)", fontsize=12)
        ax.set_ylabel("image (N axis)", fontsize=12)
        ax.set_xticks(range(grid.shape[1]))
        ax.set_yticks(range(grid.shape[0]))
    grid = maps[next(iter(maps))]
    image_0 = np.asarray(written)[0]
    dropped = [int(c) for c in np.flatnonzero(np.all(grid == 0, axis=0))]
    fig.suptitle(f"N == C, so (N,) silently meets the channel axis: image 0 keeps "
                 f"{np.count_nonzero(image_0) / image_0.size:.0%} of its values, and every "
                 f"image loses channel(s) {dropped}", fontsize=13)
    return fig
