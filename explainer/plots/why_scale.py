"""Figures of the "why scale" experiment, drawn from a results file (:mod:`..scaling.
why_scale.results`). Every title states what the numbers in the figure show, computed from them.

    plot_growth(results)          the mechanism: growth of the stream and step-0 gradient vs depth
    plot_edges(results)           stability edge per depth x width x scale, median (range) of seeds
    plot_death_steps(results)     the step at which each run died, per scale and depth
    plot_accuracy(results)        test accuracy at the shared rate and at each one's best rate
    plot_curves(results, ...)     loss and dead units per step, one panel per scale, every seed
    plot_decomposition(results)   scale 1, scale s, a small start, a slow step at the arms' depth
    plot_reparametrisation(a, b)  two runs' curves on top of each other (scale=s against
                                  scale=1, up_init=s, up_lr=s**2)

Readable on a projector: at most a handful of lines per panel (small multiples instead of one
crowded panel), lines told apart by colour (Okabe-Ito), dash and marker, legends outside the
panels (never over data), the chance level drawn in black.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import NullFormatter, ScalarFormatter

from ..scaling.why_scale.findings import (
    MOSTLY_DEAD,
    MOSTLY_DEAD_VERDICT,
    accuracy_comparison,
    counts_text,
    edge_text,
    verdict,
)
from ..scaling.why_scale.trunk_args import scale_label
from .sweep import OKABE_ITO, new_figure
from .why_scale_training import (  # noqa: F401 (re-exported: figures.plot_decomposition, ...)
    legend_below,
    plot_decomposition,
    plot_reparametrisation,
)

SCALE_STYLE = {"1": (OKABE_ITO["vermillion"], "-", "o"), "0.3": (OKABE_ITO["orange"], "--", "s"),
               "0.17": (OKABE_ITO["blue"], "-", "D"), "0.1": (OKABE_ITO["sky"], "-.", "v"),
               "rezero": (OKABE_ITO["green"], ":", "^"),
               "layerscale": (OKABE_ITO["purple"], "--", "P")}
SEED_STYLE = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"))
EDGE_GREY = "#bdbdbd"  # the edge lies below the grid
EDGE_BLUES = ("#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#2171b5", "#08519c", "#08306b")
CHANCE = 0.1  # ten digits


def _style(scale) -> tuple[str, str, str]:
    return SCALE_STYLE.get(scale_label(scale), (OKABE_ITO["black"], "-", "o"))


def _index(results, label: str) -> int | None:
    labels = [scale_label(s) for s in results.scales]
    return labels.index(label) if label in labels else None


def plot_growth(results):
    """Left: ||net after the last block|| / ||net before block 1|| at step 0 against depth;
    right: the step-0 gradient norm of all blocks' weights. One line per scale (median over
    seeds, the widest width); scales whose lines are identical (LayerScale starts at 0.1)
    share one line, and the lines are set slightly apart along x so none hides another."""
    growth, grads = results.step0("growth"), results.step0("grad_norm")
    w = len(results.widths) - 1
    fig = new_figure(11.5, 5.0)
    axes = fig.subplots(1, 2)
    curves = {}  # label -> (scale, growth medians, gradient medians)
    for j, scale in enumerate(results.scales):
        g, r = np.median(growth[:, w, j], axis=-1), np.median(grads[:, w, j], axis=-1)
        same = [k for k, (_, g2, r2) in curves.items()
                if np.allclose(g, g2, rtol=1e-6) and np.allclose(r, r2, rtol=1e-6)]
        if same:
            curves[f"{same[0]} = {scale_label(scale)}"] = curves.pop(same[0])
        else:
            curves[scale_label(scale)] = (scale, g, r)
    spread = 0.08 * (max(results.depths) - min(results.depths) or 1)
    handles = []
    for n, (label, (scale, g, r)) in enumerate(curves.items()):
        colour, style, marker = _style(scale)
        x = np.asarray(results.depths, float) + (n - (len(curves) - 1) / 2) * spread / len(curves)
        for ax, values in zip(axes, (g, r), strict=True):
            ax.plot(x, values, color=colour, ls=style, marker=marker, lw=2, ms=8)
        handles.append(Line2D([], [], color=colour, ls=style, marker=marker, lw=2, ms=8,
                              label=label))
    for ax, label in zip(axes, ("||net_L|| / ||net_0|| at step 0",
                                "||gradient|| of all blocks at step 0 (log)"), strict=True):
        ax.set_xlabel("depth (residual blocks)")
        ax.set_ylabel(label)
        ax.set_xticks(results.depths)
    axes[1].set_yscale("log")
    axes[1].yaxis.set_major_formatter(ScalarFormatter())
    axes[1].yaxis.set_minor_formatter(NullFormatter())
    legend_below(fig, handles, title="scale (lines set slightly apart along x)")
    one, small = _index(results, "1"), _index(results, "0.1")
    if one is None or small is None:
        title = f"The stream at initialisation, width {results.widths[w]}"
    else:
        deep = len(results.depths) - 1
        g1, g0 = (float(np.median(growth[deep, w, j])) for j in (one, small))
        r1, r0 = (float(np.median(grads[deep, w, j])) for j in (one, small))
        title = (f"At depth {results.depths[deep]} (width {results.widths[w]}), scale 1's stream "
                 f"grows x{g1:.1f} through the blocks (0.1: x{g0:.2f}), and its first gradient "
                 f"is {r1 / r0:.0f}x larger")
    fig.suptitle(title, fontsize=12.5)
    return fig


def edge_title(results) -> str:
    """Where scale 1's median edge sits against the smaller constant scales'."""
    median, _, _ = results.edge_summary()
    one = _index(results, "1")
    small = [j for j in (_index(results, x) for x in ("0.3", "0.17", "0.1")) if j is not None]
    if one is None or not small:
        return "Stability edge per depth, width and scale"
    lower = higher = same = 0
    for d, w in np.ndindex(median.shape[:2]):
        best = max(median[d, w, j] for j in small)
        lower += median[d, w, one] < best
        higher += median[d, w, one] > best
        same += median[d, w, one] == best
    return (f"Scale 1's median edge is lower than the smaller scales' best in {lower} of\n"
            f"{median.shape[0] * median.shape[1]} depth x width cells, equal in {same}, "
            f"higher in {higher}")


def plot_edges(results):
    """One annotated heatmap per depth: width x scale, the median edge over seeds (colour) and
    its range (text). '< lr': even the smallest learning rate failed."""
    median, low, high = results.edge_summary()
    lrs = results.lrs
    fig = new_figure(1.2 + 1.3 * len(results.scales),
                     1.9 + 0.6 * len(results.depths) * (len(results.widths) + 1))
    axes = fig.subplots(len(results.depths), 1, squeeze=False)[:, 0]
    picks = np.linspace(0, len(EDGE_BLUES) - 2, len(lrs)).round().astype(int)
    picks[-1] = len(EDGE_BLUES) - 2  # the largest rate: dark enough for white text
    cmap = ListedColormap([EDGE_GREY, *(EDGE_BLUES[i] for i in picks)])
    for d, ax in enumerate(axes):
        level = np.zeros(median.shape[1:])
        for k, lr in enumerate(lrs):
            level[median[d] >= lr] = k + 1
        ax.imshow(level, cmap=cmap, vmin=0, vmax=len(lrs), aspect="auto")
        for (w, j), value in np.ndenumerate(median[d]):
            span = edge_text(value, lrs) if low[d, w, j] == high[d, w, j] else \
                f"{edge_text(value, lrs)}\n({edge_text(low[d, w, j], lrs)} to " \
                f"{edge_text(high[d, w, j], lrs)})"
            ax.text(j, w, span, ha="center", va="center", fontsize=11, fontweight="bold",
                    color="white" if level[w, j] >= len(lrs) - 1 else "black")
        ax.set_yticks(range(len(results.widths)), [f"width {w}" for w in results.widths])
        ax.set_xticks(range(len(results.scales)), [scale_label(s) for s in results.scales])
        ax.set_title(f"depth {results.depths[d]}", fontsize=12)
    axes[-1].set_xlabel("residual scale")
    fig.suptitle(f"{edge_title(results)}\n(largest of lr {', '.join(f'{x:g}' for x in lrs)} "
                 f"that trained, with every smaller one; '<{lrs[0]:g}': none did, "
                 f"'>={lrs[-1]:g}':\nall did; median and range over {len(results.seeds)} seeds)",
                 fontsize=11.5)
    return fig


def plot_death_steps(results):
    """Each run that died as a dot at the step it died, per scale (x) and depth (marker),
    every learning rate and seed together."""
    fig = new_figure(9.5, 5.0)
    ax = fig.add_subplot()
    markers = ("o", "s", "D", "^", "v")
    shades = (OKABE_ITO["sky"], OKABE_ITO["blue"], OKABE_ITO["black"], OKABE_ITO["orange"])
    counts, handles = {}, []
    for d, depth in enumerate(results.depths):
        steps = results.death_steps(depth=depth)
        offset = (d - (len(results.depths) - 1) / 2) * 0.22
        style = dict(marker=markers[d % len(markers)], color=shades[d % len(shades)])
        for j, label in enumerate(steps):
            values = steps[label]
            counts[label] = counts.get(label, 0) + len(values)
            jitter = np.linspace(-0.06, 0.06, len(values)) if len(values) > 1 else [0.0]
            ax.scatter(np.full(len(values), j + offset) + jitter, values, s=36, zorder=3,
                       **style)
        handles.append(Line2D([], [], ls="", ms=7, label=f"depth {depth}", **style))
    labels = [scale_label(s) for s in results.scales]
    ax.set_xticks(range(len(labels)), [f"{x}\n({counts.get(x, 0)} died)" for x in labels])
    ax.set_xlabel("residual scale (runs that died, all depths, widths, rates, seeds)")
    ax.set_ylabel("step at which the run died")
    ax.set_ylim(-1, results.config.steps)
    legend_below(fig, handles)
    medians = {label: float(np.median(steps)) for label, steps in
               results.death_steps().items() if steps}
    title = f"{sum(counts.values())} of {len(results.grid_runs)} runs died"
    if medians:
        most, soonest = max(counts, key=counts.get), min(medians, key=medians.get)
        latest = max(medians, key=medians.get)
        title += (f"; most at scale {most} ({counts[most]}); soonest at scale {soonest} "
                  f"(median step {medians[soonest]:g}), latest at {latest} "
                  f"(median {medians[latest]:g})")
    fig.suptitle(title, fontsize=12.5)
    return fig


def _accuracy_title(results) -> str:
    """The answer's counts, short enough for a title."""
    found = accuracy_comparison(results)
    if found is None:
        return "Test accuracy per depth, width and scale"
    n = sum(found["at_lr"].values())
    return (f"Does the scale cost accuracy? Against scale 1 in the same cell ({n} comparisons),"
            f" a smaller\nconstant scale is, at lr {found['lr']:g}: "
            f"{counts_text(found['at_lr'])};\nat its own best rate: "
            f"{counts_text(found['at_best'])}")


def plot_accuracy(results, lr: float | None = None):
    """Test accuracy, top row at one learning rate (default the shared one), bottom row each
    setting at its own best rate of the grid: mean over seeds as bars, the seeds' range as
    whiskers, one panel per depth, bars per width, the chance level (0.1) as a black line."""
    lr = results.shared_lr() if lr is None else lr
    rows = [("at lr " + f"{lr:g}", results.accuracy_at(lr)),
            ("at each one's best lr", results.best_accuracy()[:3])]
    n = len(results.depths)
    fig = new_figure(1.0 + 4.0 * n, 7.8)
    axes = fig.subplots(2, n, sharey=True, squeeze=False)
    x = np.arange(len(results.scales))
    bar = 0.8 / len(results.widths)
    colours = (OKABE_ITO["sky"], OKABE_ITO["blue"], OKABE_ITO["orange"])
    hatches = ("", "//", "..")
    for r, (name, (mean, low, high)) in enumerate(rows):
        for d, ax in enumerate(axes[r]):
            for w in range(len(results.widths)):
                pos = x + (w - (len(results.widths) - 1) / 2) * bar
                m = np.nan_to_num(mean[d, w])
                err = np.nan_to_num(np.stack([mean[d, w] - low[d, w], high[d, w] - mean[d, w]]))
                err = np.clip(err, 0, None)  # equal seeds: the mean's rounding, not a range
                ax.bar(pos, m, bar, yerr=err, capsize=3, color=colours[w % 3],
                       hatch=hatches[w % 3], edgecolor="black", lw=0.6)
            ax.axhline(CHANCE, color=OKABE_ITO["black"], lw=2, ls="--", zorder=4)
            ax.set_xticks(x, [scale_label(s) for s in results.scales], rotation=30)
            ax.set_title(f"depth {results.depths[d]}, {name}")
        axes[r, 0].set_ylabel(f"test accuracy\n{name}")
    axes[0, 0].set_ylim(0, 1.05)
    handles = [Patch(facecolor=colours[w % 3], hatch=hatches[w % 3], edgecolor="black",
                     label=f"width {width}") for w, width in enumerate(results.widths)]
    handles.append(Line2D([], [], color=OKABE_ITO["black"], lw=2, ls="--",
                          label=f"chance ({CHANCE:g})"))
    legend_below(fig, handles)
    fig.suptitle(_accuracy_title(results) + f"\n(after {results.config.steps} steps; bars: "
                 f"mean of {len(results.seeds)} seeds, whiskers: their range)", fontsize=11.5)
    return fig


def plot_curves(results, depth: int, width: int, lr: float):
    """Training loss (top row) and the last block's dead fraction (bottom row) per step: one
    column per scale, one line per seed (told apart by dash and marker)."""
    n = len(results.scales)
    fig = new_figure(2.4 * n + 1.0, 6.6)
    axes = fig.subplots(2, n, sharex=True, sharey="row", squeeze=False)
    fates = {}
    for j, scale in enumerate(results.scales):
        colour, _, _ = _style(scale)
        label = scale_label(scale)
        for n_seed, seed in enumerate(results.seeds):
            run = results.get(depth, width, scale, lr, seed)
            fates.setdefault(label, []).append(run.fate)
            style, marker = SEED_STYLE[n_seed % len(SEED_STYLE)]
            kw = dict(color=colour, ls=style, marker=marker, markevery=10, ms=5, lw=1.6)
            axes[0, j].plot(run.loss, **kw)
            axes[1, j].plot(100 * run.dead_fraction, **kw)
        died = fates[label].count("died") + fates[label].count("diverged")
        mostly = sum(verdict(results.get(depth, width, scale, lr, seed)) == MOSTLY_DEAD_VERDICT
                     for seed in results.seeds)
        axes[0, j].set_title(f"scale {label}: {died} of {len(results.seeds)} failed"
                             + (f",\n{mostly} trained >={MOSTLY_DEAD:.0%} zeros" if mostly
                                else ""), fontsize=11)
        axes[1, j].axhline(99, color=OKABE_ITO["black"], lw=1, ls=(0, (1, 2)))
        axes[1, j].set_xlabel("step")
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_ylabel("training loss (log)")
    axes[1, 0].set_ylabel("last block's outputs = 0 (%)")
    axes[1, 0].set_ylim(0, 101)
    handles = [Line2D([], [], color=OKABE_ITO["black"], ls=SEED_STYLE[i % len(SEED_STYLE)][0],
                      marker=SEED_STYLE[i % len(SEED_STYLE)][1], label=f"seed {seed}")
               for i, seed in enumerate(results.seeds)]
    handles.append(Line2D([], [], color=OKABE_ITO["black"], lw=1, ls=(0, (1, 2)),
                          label="99 %: the line of 'died'"))
    legend_below(fig, handles)
    died = [f"scale {k} in {v.count('died')} of {len(v)} seeds" for k, v in fates.items()
            if "died" in v]
    fig.suptitle(f"Depth {depth}, width {width}, lr {lr:g}, batch {results.config.batch}: "
                 + ("died: " + ", ".join(died) if died else "no run died")
                 + "\n(lines end where a run stopped)", fontsize=12)
    return fig
