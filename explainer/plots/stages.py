"""The real nets' residual stages as a figure: each block's residual ratio along the trunk, and
how much each stage grows its input, with the nets' scales and with every scale at 1.0."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .sweep import OKABE_ITO, new_figure

SCHEDULE_STYLE = {"real": (OKABE_ITO["blue"], "-", "o"),
                  "all 1.0": (OKABE_ITO["vermillion"], "--", "s")}


def _stage_label(stage) -> str:
    act = "" if stage.activation else ", no act."
    return f"{stage.repeats} × {stage.block}\n@ {stage.scale:g}{act}"


def plot_stage_profile(profile) -> Figure:
    """Left: ||scale·up|| / ||net|| of every block in trunk order, stages shaded apart.
    Right: each stage's growth ||output|| / ||input||. Both for the real schedule and for
    every scale at 1.0; the title states the largest growth of each."""
    names = tuple(SCHEDULE_STYLE)
    fig = new_figure(14, 5.8)
    left, right = fig.subplots(1, 2, width_ratios=(1.6, 1))
    blocks = np.arange(1, len(profile.block_stage) + 1)
    for j, _ in enumerate(profile.stages):
        inside = blocks[profile.block_stage == j]
        if j % 2:
            left.axvspan(inside[0] - 0.5, inside[-1] + 0.5, color="#eeeeee", lw=0)
        left.text(inside.mean(), 1.02, _stage_label(profile.stages[j]), ha="center",
                  va="bottom", fontsize=10, transform=left.get_xaxis_transform())
    for name in names:
        colour, style, marker = SCHEDULE_STYLE[name]
        left.plot(blocks, 100 * profile.residual_ratio[name], color=colour, ls=style,
                  marker=marker, ms=5, lw=2, label=f"scales: {name}")
    left.set_xlabel("block, in trunk order")
    left.set_ylabel("residual ratio ||scale·up|| / ||net|| (%)")
    left.set_xlim(0.5, blocks[-1] + 0.5)
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_ylim(0, None)
    x = np.arange(len(profile.stages))
    for k, name in enumerate(names):
        colour, _, _ = SCHEDULE_STYLE[name]
        bars = right.bar(x + (k - 0.5) * 0.38, profile.growth[name], 0.38, color=colour,
                         hatch="" if k == 0 else "//", edgecolor="white",
                         label=f"stage growth, scales: {name}")
        right.bar_label(bars, fmt="×%.2f", fontsize=9, padding=2)
    right.axhline(1.0, color=OKABE_ITO["black"], lw=1)
    right.set_xticks(x, [_stage_label(s) for s in profile.stages], fontsize=9)
    right.set_ylabel("stage growth ||output|| / ||input||")
    right.set_ylim(0, 1.15 * max(float(profile.growth[n].max()) for n in names))
    # one legend under both panels: inside either it would sit on a curve or a bar
    (lines, line_labels), (bars, bar_labels) = (left.get_legend_handles_labels(),
                                                right.get_legend_handles_labels())
    fig.legend(lines + bars, line_labels + bar_labels, loc="outside lower center", ncol=4,
               frameon=False)
    worst = {n: int(np.argmax(profile.growth[n][:-1])) for n in names}  # the repeated stages
    real, ones = names
    fig.suptitle(
        f"Inception-ResNet-{profile.variant}: with the nets' scales each repeated stage grows "
        f"its input at most ×{profile.growth[real][worst[real]]:.2f}; with every scale at 1.0, "
        f"up to ×{profile.growth[ones][worst[ones]]:.2f} "
        f"({profile.stages[worst[ones]].repeats} × {profile.stages[worst[ones]].block})",
        fontsize=13)
    return fig
