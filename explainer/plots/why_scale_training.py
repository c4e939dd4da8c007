"""Figures of what the scale does to training (:mod:`.why_scale` re-exports them):

    plot_reparametrisation(a, b)  two runs' curves on top of each other (scale=s against
                                  scale=1, up_init=s, up_lr=s**2)
    plot_decomposition(results)   scale 1, scale s, a small start, a slow step at the arms' depth

Four lines per panel at most, told apart by colour (Okabe-Ito), dash and marker, set slightly
apart along x where they would coincide; the legend below the panels, never over data.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter, ScalarFormatter

from ..scaling.why_scale.findings import NO_ARMS, decomposition_summary
from .sweep import OKABE_ITO, new_figure

ARM_STYLE = {"scale 1": (OKABE_ITO["vermillion"], "-", "o"),
             "scale s": (OKABE_ITO["blue"], "--", "s"),
             "a small start": (OKABE_ITO["orange"], ":", "^"),
             "a slow step": (OKABE_ITO["green"], "-.", "D")}


def legend_below(fig, handles, ncol: int | None = None, title: str | None = None) -> None:
    """One legend for the whole figure, below the panels (outside every axes)."""
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol or len(handles),
               fontsize=10, title=title, frameon=False)


def plot_decomposition(results):
    """At the arms' depth: how many seeds trained at each learning rate, for scale 1, scale s,
    a small start (scale 1, up_init = s) and a slow step (scale 1, up_lr = s**2); one panel
    per s (rows) and width (columns), four lines per panel, set slightly apart along x.
    A ValueError when the file has no arms."""
    values = results.arm_values()
    if not values or results.arm_depth() is None:
        raise ValueError(f"results: {NO_ARMS}")
    fig = new_figure(1.5 + 4.6 * len(results.widths), 1.6 + 3.2 * len(values))
    axes = fig.subplots(len(values), len(results.widths), sharex=True, sharey=True,
                        squeeze=False)
    lrs = np.asarray(results.lrs)
    handles = {}
    for i, s in enumerate(values):
        fates = results.arm_fates(s)
        for w, width in enumerate(results.widths):
            ax = axes[i, w]
            for n, (kind, f) in enumerate(fates.items()):
                colour, style, marker = ARM_STYLE[kind]
                trained = (f[w] == "trained").sum(axis=-1)
                x = lrs * 1.06 ** (n - (len(fates) - 1) / 2)
                label = {"scale 1": "scale 1", "scale s": "scale s",
                         "a small start": "a small start (scale 1, up_init s)",
                         "a slow step": "a slow step (scale 1, up_lr s\u00b2)"}[kind]
                lift = 0.07 * (n - (len(fates) - 1) / 2)  # equal counts: lines side by side
                ax.plot(x, trained + lift, color=colour, ls=style, marker=marker, lw=2, ms=8)
                handles.setdefault(kind, Line2D([], [], color=colour, ls=style, marker=marker,
                                                lw=2, ms=8, label=label))
            ax.set_xscale("log")
            ax.set_xticks(lrs, [f"{x:g}" for x in lrs])
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_yticks(range(len(results.seeds) + 1))
            ax.set_ylim(-0.3, len(results.seeds) + 0.3)
            ax.set_title(f"s = {s:g}, width {width}", fontsize=12)
        axes[i, 0].set_ylabel(f"seeds that trained (of {len(results.seeds)};\nlines set "
                              "slightly apart)")
    for ax in axes[-1]:
        ax.set_xlabel("learning rate (log)")
    legend_below(fig, list(handles.values()), ncol=2)
    fig.suptitle(decomposition_summary(results).replace(": at", ":\nat", 1)
                 .replace("; at width", ";\nat width"), fontsize=12)
    return fig


def _relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    """The largest |a - b| / |a| over the steps both measured (NaN if none)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b) & (a != 0)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.abs(a[ok]))) if ok.any() else float("nan")


def plot_reparametrisation(scaled, moved, plain=None):
    """Two runs on top of each other: ``scaled`` (scale=s) as a thick solid line, ``moved``
    (scale=1, up_init=s, up_lr=s**2, or any other pair) as a thin dashed line with markers;
    optionally ``plain`` (scale=1) in grey for contrast. Panels: loss, the last block's dead
    fraction, and its residual ratio ||scale*up|| / ||net|| (what the block adds, the same
    for both forms; the gradient norms are not: they are taken with respect to different
    weights, ``W`` and ``s*W``). The title gives the largest relative gap in the loss."""
    runs = [(scaled, OKABE_ITO["blue"], "-", None, 4.0, f"scale {scaled.scale:g}"),
            (moved, OKABE_ITO["vermillion"], "--", "o", 1.6,
             f"scale {moved.scale:g}, up_init {getattr(moved, 'up_init', 1.0):g}, "
             f"up_lr {getattr(moved, 'up_lr', 1.0):g}")]
    if plain is not None:
        runs.append((plain, OKABE_ITO["grey"], ":", "s", 1.6, f"scale {plain.scale:g}"))
    fig = new_figure(12.5, 4.6)
    axes = fig.subplots(1, 3)
    handles = []
    for run, colour, style, marker, lw, label in runs:
        for ax, values in zip(axes, (run.loss, 100 * np.asarray(run.dead_fraction),
                                     run.residual_ratio), strict=True):
            ax.plot(values, color=colour, ls=style, marker=marker, markevery=3, ms=5, lw=lw)
        handles.append(Line2D([], [], color=colour, ls=style, marker=marker, lw=lw, ms=5,
                              label=label))
    for ax, name in zip(axes, ("training loss", "last block's outputs = 0 (%)",
                               "last block's ||scale*up|| / ||net|| (log)"), strict=True):
        ax.set_xlabel("step")
        ax.set_ylabel(name)
    axes[2].set_yscale("log")
    axes[2].yaxis.set_major_formatter(ScalarFormatter())
    legend_below(fig, handles)
    gap = _relative_gap(scaled.loss, moved.loss)
    steps = int(np.isfinite(np.asarray(scaled.loss, float)).sum())
    title = (f"Depth {scaled.depth}, width {scaled.width}, lr {scaled.lr:g}: the two runs' loss "
             f"differs by at most {gap:.1e} (relative) over {steps} steps")
    if plain is not None:
        title += (f";\nplain scale 1's loss differs from the first by up to "
                  f"{_relative_gap(scaled.loss, plain.loss):.2f} (relative)")
    fig.suptitle(title, fontsize=12)
    return fig

