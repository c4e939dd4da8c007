"""The notebook scale explorer's figure: the sweep's curves and three histograms, drawn once;
a slider move redraws only the marker and two histograms over the saved background."""

from __future__ import annotations

from ..plots.sweep import MovingSweep, draw_histograms, draw_sweep, hist_range, new_figure
from .images import rgb_png


class ScaleFrame:
    """The explorer's figure: drawn once, then only its moving artists are redrawn."""

    def __init__(self, sweep, dpi: int = 80):
        self.sweep = sweep
        fig = new_figure(12, 6.6, dpi=dpi)
        grid = fig.add_gridspec(2, 3, height_ratios=(1.15, 1))
        ax_curve = fig.add_subplot(grid[0, :])
        hist_axes = [fig.add_subplot(grid[1, i]) for i in range(3)]
        curve = draw_sweep(ax_curve, sweep, choice_labels=False)
        ax_curve.legend(loc="upper left", frameon=False, ncol=2, fontsize=10)
        ax_curve.set_title(f"block35 {sweep.spec.variant}: what the scale does "
                           f"(input {tuple(sweep.net.shape)})")
        hists = draw_histograms(hist_axes, sweep, sweep.spec.scale, bins=60,
                                value_range=hist_range(sweep, (0.0, 1.0)))
        self.moving = MovingSweep(fig, sweep, curve, hists)
        self.fig = fig

    def render(self, scale: float, values: dict) -> bytes:
        """A PNG of the figure with the marker and histograms at ``scale``."""
        return rgb_png(self.moving.rgba(scale, values))
