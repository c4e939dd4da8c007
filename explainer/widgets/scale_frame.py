"""The notebook scale explorer's figure: the sweep's curves and three histograms, drawn once;
a slider move redraws only the marker and two histograms over the saved background."""

from __future__ import annotations

import numpy as np

from ..plots.sweep import (
    draw_histograms,
    draw_sweep,
    hist_range,
    histogram_values,
    move_histograms,
    move_sweep_marker,
    new_figure,
)
from .images import rgb_png


class ScaleFrame:
    """The explorer's figure: drawn once, then only its moving artists are redrawn."""

    def __init__(self, sweep, dpi: int = 80):
        self.sweep = sweep
        fig = new_figure(12, 6.6, dpi=dpi)
        grid = fig.add_gridspec(2, 3, height_ratios=(1.15, 1))
        ax_curve = fig.add_subplot(grid[0, :])
        hist_axes = [fig.add_subplot(grid[1, i]) for i in range(3)]
        scale = sweep.spec.scale
        self.curve = draw_sweep(ax_curve, sweep, choice_labels=False)
        ax_curve.legend(loc="upper left", frameon=False, ncol=2, fontsize=10)
        ax_curve.set_title(f"block35 {sweep.spec.variant}: what the scale does "
                           f"(input {tuple(sweep.net.shape)})")
        self.hists = draw_histograms(hist_axes, sweep, scale, bins=60,
                                     value_range=hist_range(sweep, (0.0, 1.0)))
        self.animated = [self.curve["line"], *self.curve["dots"].values(),
                         self.hists["scaled_up"], self.hists["net_out"]]
        for artist in self.animated:
            artist.set_animated(True)
        fig.canvas.draw()  # lays out and draws the static parts once
        fig.set_layout_engine("none")  # keep that layout: the background stays valid
        self.background = fig.canvas.copy_from_bbox(fig.bbox)
        self.fig = fig

    def render(self, scale: float, values: dict) -> bytes:
        """A PNG of the figure with the marker and histograms at ``scale``."""
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        move_sweep_marker(self.curve, values, scale)
        move_histograms(self.hists, histogram_values(self.sweep, scale))
        for artist in self.animated:
            artist.axes.draw_artist(artist)
        return rgb_png(np.asarray(canvas.buffer_rgba()))
