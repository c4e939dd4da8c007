"""Where the scale can be folded: the relative error of each fold of ``fold_cases``."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..scaling.folding import HOLDS_BELOW
from .sweep import OKABE_ITO, _style, new_figure


def plot_fold_cases(cases, holds_below: float | None = None) -> Figure:
    """One dot per fold: ||folded - original|| / ||original|| on a log axis (the values span
    many decades), blue where the fold holds, vermillion where it breaks, and the threshold
    under which float32 results count as equal."""
    if holds_below is None:
        holds_below = HOLDS_BELOW
    names = [c.name for c in cases][::-1]
    errors = np.array([c.relative_error for c in cases][::-1])
    colours = [OKABE_ITO["blue"] if c.holds else OKABE_ITO["vermillion"] for c in cases][::-1]
    fig = new_figure(13, 0.55 * len(cases) + 1.8)
    ax = fig.add_subplot()
    rows = np.arange(len(cases))
    shown = np.maximum(errors, 1e-12)  # an exact 0 sits at the axis' left end
    ax.scatter(shown, rows, s=120, c=colours, zorder=3)  # dots, not bars: a log axis has no 0
    ax.set_yticks(rows, names)
    ax.grid(axis="y", color="#dddddd")
    ax.set_xscale("log")
    ax.set_xlim(shown.min() / 10, 1000 * max(float(errors.max()), holds_below))
    for y, e in zip(rows, errors, strict=True):
        ax.annotate(f"{e:.1e} " + ("holds" if e < holds_below else "breaks"),
                    (max(e, 1e-12), y), xytext=(10, 0), textcoords="offset points",
                    va="center", fontsize=11)
    ax.axvline(holds_below, color=OKABE_ITO["black"], lw=1.2, ls="--")
    ax.text(holds_below, 1.01, f" equal within float32: < {holds_below:g}",
            transform=ax.get_xaxis_transform(), ha="left", va="bottom", fontsize=11)
    ax.set_xlabel("relative error ||folded − original|| / ||original|| (log scale)")
    _style(ax)
    broken = sum(not c.holds for c in cases)
    fig.suptitle(f"Folding the scale elsewhere: {len(cases) - broken} of {len(cases)} folds "
                 f"hold, {broken} break", fontsize=13)
    return fig
