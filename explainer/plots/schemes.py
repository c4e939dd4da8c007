"""block35's fixed scalar beside ReZero, SkipInit and LayerScale, each at its starting value."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .sweep import OKABE_ITO, _style, new_figure

METRICS = (("residual_ratio", "residual ratio ||s·up|| / ||net||", OKABE_ITO["blue"], ""),
           ("output_change", "output change", OKABE_ITO["vermillion"], "//"))


def plot_scale_schemes(schemes: dict) -> Figure:
    """Grouped bars from 0, in percent: the residual ratio and the output change of each
    scheme. ``schemes`` maps a label to a one-scale :class:`~explainer.ScaleSweep` (the scheme
    at its starting value); each bar carries its value."""
    if not schemes:
        raise ValueError("schemes: got none; expected {label: scale_sweep(...)} entries")
    labels = list(schemes)
    values = {key: np.array([100 * float(schemes[k][key][0]) for k in labels])
              for key, *_ in METRICS}
    fig = new_figure(13, 5.2)
    ax = fig.add_subplot()
    rows = np.arange(len(labels))
    width = 0.38
    for i, (key, name, colour, hatch) in enumerate(METRICS):
        bars = ax.bar(rows + (i - 0.5) * width, values[key], width, color=colour, hatch=hatch,
                      edgecolor="white", label=name)
        ax.bar_label(bars, [f"{v:.1f}" for v in values[key]], fontsize=11, padding=2)
    ax.set_xticks(rows, labels)
    ax.set_ylim(0, 1.2 * max(float(v.max()) for v in values.values()) or 1.0)
    ax.set_ylabel("percent (%)")
    ax.legend(frameon=False, loc="upper left")
    _style(ax)
    fig.suptitle("Each scheme at its starting value, on block35's own branches: how big the "
                 "residual is and how far the output moves", fontsize=13)
    return fig
