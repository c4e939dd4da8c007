"""Figures of the "why scale" experiment, drawn from a results file (:mod:`..scaling.
why_scale_results`). Every title states what the numbers in the figure show, computed from them.

    plot_stability(results)      largest stable learning rate, width x scale (annotated)
    plot_fates(results)          every run: trained / died / diverged, with its test accuracy
    plot_curves(results)         loss and dead fraction per step at one shared learning rate
    plot_step0_gradients(results)  gradient norm per block at step 0, against scale
    plot_accuracy(results)       best test accuracy per width and scale
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import ListedColormap

from ..scaling.trunk import scale_label
from .sweep import OKABE_ITO, new_figure

SCALE_STYLE = {"1": (OKABE_ITO["vermillion"], "-"), "0.3": (OKABE_ITO["orange"], "--"),
               "0.17": (OKABE_ITO["blue"], "-"), "0.1": (OKABE_ITO["sky"], "-."),
               "rezero": (OKABE_ITO["green"], ":"), "layerscale": (OKABE_ITO["purple"], "--")}
WIDTH_COLOURS = (OKABE_ITO["sky"], OKABE_ITO["blue"], OKABE_ITO["black"])
FATE_COLOURS = {"trained": OKABE_ITO["sky"], "died": OKABE_ITO["grey"],
                "diverged": OKABE_ITO["vermillion"]}


def _style_of(scale) -> tuple[str, str]:
    return SCALE_STYLE.get(scale_label(scale), (OKABE_ITO["black"], "-"))


def stability_title(results) -> str:
    """At the widest width: scale 1's largest stable learning rate beside the best scale's."""
    stable = np.where(np.isnan(results.stability_map()), 0.0, results.stability_map())
    labels = [scale_label(s) for s in results.scales]
    width, row = results.widths[-1], stable[-1]
    best = [labels[j] for j in np.flatnonzero(row == row.max())]
    if "1" not in labels:
        return f"Width {width}: scales {', '.join(best)} train at the largest learning rate"
    one = row[labels.index("1")]
    if one == row.max():
        return (f"Width {width}: scale 1 is as stable as any scale here "
                f"(trains up to lr {one:g})")
    word = "scales" if len(best) > 1 else "scale"
    return (f"Width {width}: scale 1 trains only up to lr {one:g}; "
            f"{word} {', '.join(best)} up to {row.max():g}")


def plot_stability(results):
    """Heatmap width x scale of the largest learning rate that trained (no death, no
    divergence, nor at any smaller rate), each cell annotated with its number."""
    stable = results.stability_map()
    lrs = np.array(results.lrs)
    fig = new_figure(2.0 + 1.45 * len(results.scales), 1.6 + 0.9 * len(results.widths))
    ax = fig.add_subplot()
    level = np.full(stable.shape, -1.0)
    for k, lr in enumerate(lrs):
        level[np.isclose(stable, lr)] = k
    colours = [OKABE_ITO["grey"]] + [c for c in ("#deebf7", "#9ecae1", "#4292c6", "#08519c",
                                                 "#08306b", "#041a3a")][: len(lrs)]
    ax.imshow(level + 1, cmap=ListedColormap(colours), vmin=0, vmax=len(lrs), aspect="auto")
    for (i, j), value in np.ndenumerate(stable):
        text = "none" if math.isnan(value) else f"{value:g}"
        dark = not math.isnan(value) and level[i, j] >= len(lrs) / 2
        ax.text(j, i, text, ha="center", va="center", fontsize=15, fontweight="bold",
                color="white" if dark else "black")
    ax.set_xticks(range(len(results.scales)), [scale_label(s) for s in results.scales])
    ax.set_yticks(range(len(results.widths)), [str(w) for w in results.widths])
    ax.set_xlabel("residual scale")
    ax.set_ylabel("trunk width (channels)")
    ax.set_title(f"{stability_title(results)}\n(largest of lr {', '.join(f'{x:g}' for x in lrs)}"
                 f" that trained {results.config.steps} steps; 'none': even {lrs[0]:g} failed)",
                 fontsize=12)
    return fig


def plot_fates(results):
    """One panel per width: scale x learning rate, coloured by fate, annotated with the test
    accuracy (or "died" / "diverged" and the step)."""
    fate = results.fate()
    n = len(results.widths)
    fig = new_figure(4.2 * n + 0.6, 1.2 + 0.55 * len(results.scales))
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    codes = {f: k for k, f in enumerate(FATE_COLOURS)}
    cmap = ListedColormap(list(FATE_COLOURS.values()))
    for i, (ax, width) in enumerate(zip(axes, results.widths, strict=True)):
        grid = np.vectorize(codes.get)(fate[i])
        ax.imshow(grid, cmap=cmap, vmin=0, vmax=len(codes) - 1, aspect="auto")
        for (j, k), f in np.ndenumerate(fate[i]):
            run = results.get(width, results.scales[j], results.lrs[k])
            text = (f"{run.test_accuracy:.2f}" if f == "trained" else
                    f"died@{run.died_step}" if f == "died" else f"NaN@{run.diverged_step}")
            ax.text(k, j, text, ha="center", va="center", fontsize=10.5,
                    color="white" if f == "diverged" else "black")
        ax.set_xticks(range(len(results.lrs)), [f"{x:g}" for x in results.lrs])
        ax.set_yticks(range(len(results.scales)), [scale_label(s) for s in results.scales])
        ax.set_xlabel("learning rate")
        ax.set_title(f"width {width}")
    axes[0].set_ylabel("residual scale")
    counts = {f: int((fate == f).sum()) for f in FATE_COLOURS}
    fig.suptitle(f"{counts['trained']} runs trained, {counts['died']} died, "
                 f"{counts['diverged']} diverged (cells: test accuracy, or the step it failed)",
                 fontsize=13)
    return fig


def plot_curves(results, lr: float | None = None):
    """Loss (top) and dead fraction of the last block (bottom) per step, one column per width,
    one line per scale, at one shared learning rate (default :meth:`shared_lr`)."""
    lr = results.shared_lr() if lr is None else lr
    n = len(results.widths)
    fig = new_figure(4.4 * n + 0.4, 6.4)
    axes = fig.subplots(2, n, sharex=True, squeeze=False)
    died = []
    for i, width in enumerate(results.widths):
        for scale in results.scales:
            run = results.get(width, scale, lr)
            colour, style = _style_of(scale)
            label = scale_label(scale)
            axes[0, i].plot(run.loss, color=colour, ls=style, lw=2, label=label)
            axes[1, i].plot(100 * run.dead_fraction, color=colour, ls=style, lw=2, label=label)
            if not run.stable:
                died.append(f"{label}@{width}")
        axes[0, i].set_title(f"width {width}")
        axes[0, i].set_yscale("log")
        axes[1, i].axhline(99, color=OKABE_ITO["black"], lw=1, ls=(0, (1, 2)))
        axes[1, i].set_ylim(0, 101)
        axes[1, i].set_xlabel("step")
    axes[0, 0].set_ylabel("training loss (log)")
    axes[1, 0].set_ylabel("last block's outputs = 0 (%)")
    axes[0, -1].legend(title="scale", loc="upper right", ncol=2, fontsize=10)
    failed = ("failed (scale@width): " + ", ".join(died)) if died else "every scale trained"
    fig.suptitle(f"{dead_first_title(results, lr)}\n{results.config.optimizer} lr {lr:g}; "
                 f"dotted: the paper's 'died' line (99 %); {failed}", fontsize=12.5)
    return fig


def dead_first_title(results, lr: float, level: float = 0.9) -> str:
    """Which scale's last block first reaches ``level`` zeros at each width, at ``lr``."""
    firsts = []
    for width in results.widths:
        steps = {}
        for scale in results.scales:
            dead = results.get(width, scale, lr).dead_fraction
            hit = np.flatnonzero(np.nan_to_num(dead) >= level)
            if hit.size:
                steps[scale_label(scale)] = int(hit[0])
        if steps:
            first = min(steps.values())
            firsts.append({k for k, v in steps.items() if v == first})
        else:
            firsts.append(set())
    common = set.intersection(*firsts) if firsts else set()
    pct = f"{100 * level:.0f} %"
    if common:
        return (f"Scale {', '.join(sorted(common))}: the last block is first to reach {pct} "
                "zeros, at every width")
    if not any(firsts):
        return f"No scale's last block reaches {pct} zeros at this learning rate"
    return f"The first scale to reach {pct} dead units differs by width"


def plot_step0_gradients(results):
    """Gradient norm of each block's weights at step 0 (the initialised trunk), bars per block
    grouped by scale, one panel per width, log scale."""
    n = len(results.widths)
    fig = new_figure(4.4 * n + 0.4, 4.3)
    axes = fig.subplots(1, n, sharey=True, squeeze=False)[0]
    depth = results.config.depth
    shades = [OKABE_ITO[c] for c in ("sky", "blue", "green", "orange", "purple", "black")]
    ratios = []
    for ax, width in zip(axes, results.widths, strict=True):
        norms = results.step0_grad_norm(width)
        x = np.arange(len(results.scales))
        bar = 0.8 / depth
        for b in range(depth):
            ax.bar(x + (b - (depth - 1) / 2) * bar, norms[:, b], bar,
                   color=shades[b % len(shades)], label=f"block {b + 1}")
        ax.set_xticks(x, [scale_label(s) for s in results.scales], rotation=30)
        ax.set_yscale("log")
        ax.set_title(f"width {width}")
        ax.set_xlabel("residual scale")
        labels = [scale_label(s) for s in results.scales]
        if "1" in labels and "0.1" in labels:
            ratios.append(norms[labels.index("1")].mean() / norms[labels.index("0.1")].mean())
    axes[0].set_ylabel("||gradient|| of the block's weights")
    axes[-1].legend(fontsize=10)
    finding = (f": scale 1 starts with {min(ratios):.0f}–{max(ratios):.0f}x the gradient of "
               "scale 0.1") if ratios else ""
    fig.suptitle(f"Gradient norm per block at step 0{finding}", fontsize=13)
    return fig


def plot_accuracy(results):
    """Best test accuracy over the learning rates that trained, per scale (bars per width),
    each bar annotated; missing bars: no learning rate trained."""
    acc = results.test_accuracy()
    fig = new_figure(2.0 + 1.5 * len(results.scales), 4.6)
    ax = fig.add_subplot()
    x = np.arange(len(results.scales))
    bar = 0.8 / len(results.widths)
    for i, width in enumerate(results.widths):
        pos = x + (i - (len(results.widths) - 1) / 2) * bar
        ax.bar(pos, acc[i], bar, color=WIDTH_COLOURS[i % len(WIDTH_COLOURS)],
               label=f"width {width}")
        for p, v in zip(pos, acc[i], strict=True):
            if np.isfinite(v):
                ax.text(p, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=9.5,
                        rotation=90)
    ax.set_xticks(x, [scale_label(s) for s in results.scales])
    ax.set_ylim(0, 1.18)
    ax.set_xlabel("residual scale")
    ax.set_ylabel("test accuracy (360 digits)")
    ax.legend(loc="upper center", ncol=len(results.widths), fontsize=10)
    mean = np.nanmean(acc, axis=0)  # over widths
    labels = [scale_label(s) for s in results.scales]
    top, low = int(np.nanargmax(mean)), int(np.nanargmin(mean))
    fig.suptitle(f"After {results.config.steps} steps, averaged over widths: scale "
                 f"{labels[top]} is most accurate ({mean[top]:.2f}), scale {labels[low]} "
                 f"least ({mean[low]:.2f})", fontsize=13)
    return fig
