"""Figures for residual scaling: the sweep, the three histograms, the depth profile.

Each ``plot_*`` returns a :class:`matplotlib.figure.Figure` on an Agg canvas (no pyplot state,
no ``show``). The ``draw_*`` helpers draw into given axes and return the artists that change
with the scale, so the slider can move them without redrawing the rest.
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..core.schedule import REAL_SCALES
from ..core.validate import check_positive_int, check_scale

# Okabe-Ito, safe for the common colour-vision deficiencies
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
             "purple": "#CC79A7", "grey": "#999999"}
# The real nets' scales (facenet v1 and slim v2 agree), read from their code, smallest first.
REAL_CHOICES = tuple(sorted((scale, block) for block, scale in REAL_SCALES.items()))
PAPER_BAND = (0.1, 0.3)  # Szegedy et al. 2016, section 3.3
CURVES = (("residual_ratio", "residual ratio ||s·up|| / ||net||", OKABE_ITO["blue"], "-"),
          ("output_change", "output change ||f(net+s·up) − f(net)|| / ||f(net)||",
           OKABE_ITO["vermillion"], "--"),
          ("relu_flips", "units whose on/off state differs from s = 0", OKABE_ITO["green"],
           ":"))
FONT = {"axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 11,
        "ytick.labelsize": 11, "legend.fontsize": 10}


def new_figure(width: float, height: float, dpi: int = 100) -> Figure:
    """A Figure on its own Agg canvas, with projector-size fonts."""
    import matplotlib

    with matplotlib.rc_context(FONT):
        fig = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax) -> None:
    ax.tick_params(labelsize=FONT["xtick.labelsize"])
    ax.xaxis.label.set_size(FONT["axes.labelsize"])
    ax.yaxis.label.set_size(FONT["axes.labelsize"])
    ax.title.set_size(FONT["axes.titlesize"])


def mark_choices(ax, labels: bool = True) -> None:
    """Shade the paper's 0.1–0.3 band and draw the real nets' scales as thin lines, named on
    ticks above the axes (outside the plot: no curve or marker line crosses a name), or with
    ``labels=False`` in the legend."""
    ax.axvspan(*PAPER_BAND, color=OKABE_ITO["yellow"], alpha=0.25, lw=0,
               label="Szegedy et al. 2016: 0.1–0.3")
    summary = "real nets: " + ", ".join(f"{v:.2f} {n}" for v, n in REAL_CHOICES)
    # one collection for the three marks (not three lines: the axes stays readable)
    ax.vlines([v for v, _ in REAL_CHOICES], 0, 1, transform=ax.get_xaxis_transform(),
              colors=OKABE_ITO["grey"], lw=1, linestyles=(0, (2, 2)),
              label=None if labels else summary)
    if labels:
        top = ax.secondary_xaxis("top")
        top.set_xticks([v for v, _ in REAL_CHOICES],
                       [f"{v:.2f} {n}" for v, n in REAL_CHOICES], rotation=90, fontsize=10,
                       color="#444444")
        top.tick_params(length=4, color=OKABE_ITO["grey"])


def draw_sweep(ax, sweep, scale: float | None = None, choice_labels: bool = True,
               curves: tuple = CURVES) -> dict:
    """The curves (in %; default all three of :data:`CURVES`) against scale, with the real
    choices marked (labelled on the lines, or with ``choice_labels=False`` in the legend);
    returns the moving parts: ``{"line": vertical line, "dots": {metric: marker}}`` at
    ``scale``."""
    order = np.argsort(sweep.scales)
    xs = sweep.scales[order]
    mark_choices(ax, labels=choice_labels)
    dots = {}
    for key, label, colour, style in curves:
        ax.plot(xs, 100 * sweep[key][order], color=colour, ls=style, lw=2.2, label=label)
        (dots[key],) = ax.plot([], [], "o", color=colour, ms=7, zorder=5)
    line = ax.axvline(np.nan, color=OKABE_ITO["black"], lw=1.2)
    ax.set_xlabel("residual scale s (dimensionless)")
    ax.set_ylabel("percent (%)")
    ax.set_xlim(xs[0], xs[-1])
    top = max(float(np.nanmax(100 * sweep[key])) for key, *_ in curves)
    ax.set_ylim(0, 1.45 * top if top > 0 else 1.0)  # room for the legend above the curves
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    _style(ax)
    parts = {"line": line, "dots": dots}
    if scale is not None:
        move_sweep_marker(parts, sweep.at(scale), scale)
    return parts


def move_sweep_marker(parts: dict, values: dict, scale: float) -> None:
    """Put the vertical line and the dots of :func:`draw_sweep` at ``scale``."""
    parts["line"].set_xdata([scale, scale])
    for key, dot in parts["dots"].items():
        dot.set_data([scale], [100 * values[key]])


def plot_sweep(sweep, scale: float | None = None) -> Figure:
    """Residual ratio, output change and ReLU flips against scale, the real nets' choices and
    the paper's band marked; the title gives the numbers at ``scale`` (default the block's)."""
    scale = sweep.spec.scale if scale is None else scale
    at = sweep.at(scale)
    fig = new_figure(10, 6.4)
    ax = fig.add_subplot()
    # the real nets' scales go in the legend: names rotated above the axes crowd the title
    draw_sweep(ax, sweep, scale, choice_labels=False)
    fig.suptitle(f"At scale {scale:g} the residual is {at['residual_ratio']:.1%} of the "
                 f"shortcut, the output moves {at['output_change']:.1%}, "
                 f"{at['relu_flips']:.1%} of units flip" + flips_reason(sweep), fontsize=13)
    return fig


def flips_reason(sweep) -> str:
    """Why the flips curve jumps at the first scale above 0, measured: a unit whose ``net``
    is exactly 0 (a ReLU output) turns on for any s > 0 where ``up`` > 0. Empty when the
    sweep has no activation or no positive scale."""
    positive = np.sort(sweep.scales[sweep.scales > 0])
    if sweep.activation is None or positive.size == 0:
        return ""
    first = float(positive[0])
    zero = sweep.net == 0
    switched = float(np.mean(zero & (sweep.up > 0)))
    return (f"\n{np.mean(zero):.0%} of net is exactly 0 (a ReLU's output): any s > 0 turns "
            f"on those where up > 0 ({switched:.1%} of units), so the flips are "
            f"{sweep.at(first)['relu_flips']:.1%} already at s = {first:g}")


def hist_range(sweep, scales=(0.0, 1.0)) -> tuple[float, float]:
    """One value range that holds net, scale·up and net_out for the given scales."""
    lo, hi = float(sweep.net.min()), float(sweep.net.max())
    for s in scales:
        for arr in (sweep.scaled_up(s), sweep.net_out(s)):
            lo, hi = min(lo, float(arr.min())), max(hi, float(arr.max()))
    return lo, hi


MAX_BINS = 100_000  # more bins than pixels across any screen
HIST_PANELS = (("net", "net (the shortcut)", OKABE_ITO["grey"]),
               ("scaled_up", "scale · up (the residual)", OKABE_ITO["blue"]),
               ("net_out", "net_out = f(net + scale · up)", OKABE_ITO["vermillion"]))


def histogram_values(sweep, scale: float) -> dict:
    """The three tensors the histograms show at ``scale``, flattened. ``scale`` comes checked
    (the block's own, :func:`plot_histograms`' check, or a slider position the widget read)."""
    parts = sweep._tail(scale)
    return {"net": sweep.net.ravel(), "scaled_up": parts["scaled_up"].ravel(),
            "net_out": parts["net_out"].ravel()}


def draw_histograms(axes, sweep, scale: float, bins: int = 80,
                    value_range: tuple[float, float] | None = None) -> dict:
    """Histograms (count, log scale) of net, scale·up and net_out, one per axis; returns
    ``{"edges": bin edges, name: stairs artist}`` so :func:`move_histograms` can update them."""
    lo, hi = value_range or hist_range(sweep, (0.0, max(1.0, abs(scale))))
    edges = np.linspace(lo, hi, bins + 1)
    values = histogram_values(sweep, scale)
    parts = {"edges": edges, "bins": bins, "range": (lo, hi)}
    for ax, (key, title, colour) in zip(axes, HIST_PANELS, strict=True):
        counts, _ = np.histogram(values[key], bins=bins, range=(lo, hi))
        parts[key] = ax.stairs(counts, edges, fill=True, color=colour, alpha=0.85)
        ax.set_yscale("log")
        ax.set_ylim(0.8, values[key].size * 1.5)
        ax.set_xlim(lo, hi)
        ax.set_title(title)
        ax.set_xlabel("value (activation units)")
        ax.set_ylabel("count of units")
        _style(ax)
    return parts


def move_histograms(parts: dict, values: dict, keys=("scaled_up", "net_out")) -> None:
    """Refill the stairs of :func:`draw_histograms` from new ``values`` (same bins)."""
    for key in keys:
        parts[key].set_data(fast_counts(values[key], parts["bins"], parts["range"]))


class MovingSweep:
    """A figure of :func:`draw_sweep` and :func:`draw_histograms` whose marker and two
    histograms move with the scale: the static rest is drawn once and kept as a background,
    and :meth:`rgba` redraws only the moving artists over it (a slider's frame)."""

    def __init__(self, fig: Figure, sweep, curve: dict, hists: dict):
        self.fig, self.sweep, self.curve, self.hists = fig, sweep, curve, hists
        self.animated = [curve["line"], *curve["dots"].values(), hists["scaled_up"],
                         hists["net_out"]]
        for artist in self.animated:
            artist.set_animated(True)
        fig.canvas.draw()  # lay out and draw the static parts once
        fig.set_layout_engine("none")  # keep that layout: the saved background stays valid
        self.background = fig.canvas.copy_from_bbox(fig.bbox)

    def rgba(self, scale: float, values: dict) -> np.ndarray:
        """The figure's pixels with the marker and histograms at ``scale`` (``values``: the
        sweep's metrics there)."""
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        move_sweep_marker(self.curve, values, scale)
        move_histograms(self.hists, histogram_values(self.sweep, scale))
        for artist in self.animated:
            artist.axes.draw_artist(artist)
        return np.asarray(canvas.buffer_rgba())


def fast_counts(values: np.ndarray, bins: int, value_range: tuple[float, float]) -> np.ndarray:
    """``np.histogram(values, bins, range)[0]`` by one float32 pass and ``bincount`` (about
    4x faster on a 35x35x256 tensor); values outside the range are dropped, as there."""
    lo, hi = value_range
    pos = np.floor((values - np.float32(lo)) * np.float32(bins / (hi - lo))).astype(np.int64)
    pos[values == np.float32(hi)] = bins - 1  # the last bin includes its right edge
    return np.bincount(np.clip(pos, -1, bins) + 1, minlength=bins + 2)[1:-1]


def plot_histograms(sweep, scale: float | None = None, bins: int = 80) -> Figure:
    """Histograms of ``net``, ``scale * up`` and ``net_out`` at ``scale`` (default the
    block's), on one value axis, so their widths compare at a glance."""
    bins = check_positive_int("bins", bins, maximum=MAX_BINS)
    scale = sweep.spec.scale if scale is None else check_scale(scale)
    fig = new_figure(13, 4.4)
    axes = fig.subplots(1, 3, sharex=True)
    draw_histograms(axes, sweep, scale, bins)
    up_std = float(np.std(sweep._tail(scale)["scaled_up"], dtype=np.float64))
    net_std = float(np.std(sweep.net, dtype=np.float64))
    fig.suptitle(f"scale {scale:g}: scale·up has std {up_std:.3g} beside net's {net_std:.3g} "
                 f"({up_std / net_std:.1%})", fontsize=13)
    return fig


def _value_axis(ax, values: np.ndarray) -> None:
    """Log scale only where the values span more than a factor of 30; otherwise linear."""
    positive = values[values > 0]
    if positive.size and positive.max() / positive.min() > 30:
        ax.set_yscale("log")


def plot_depth_profile(profile) -> Figure:
    """Activation std and norm after each block of the stack, one line per scale, and the
    input-gradient norm per scale as bars from 0 (log axes only for ranges over 30x)."""
    fig = new_figure(14, 4.8)
    ax_std, ax_norm, ax_grad = fig.subplots(1, 3)
    colours = list(OKABE_ITO.values())[1:]
    blocks = np.arange(profile.depth + 1)
    for i, s in enumerate(profile.scales):
        kw = {"color": colours[i % len(colours)], "marker": "o", "lw": 2, "label": f"s = {s:g}",
              "ls": ("-", "--", ":", "-.")[i % 4]}
        ax_std.plot(blocks, profile.std[i], **kw)
        ax_norm.plot(blocks, profile.norm[i], **kw)
    labels = [f"{s:g}" for s in profile.scales]
    bars = ax_grad.bar(labels, profile.grad_norm,
                       color=[colours[i % len(colours)] for i in range(len(profile.scales))])
    ax_grad.bar_label(bars, [f"{g:.3g}" for g in profile.grad_norm], fontsize=11)
    for ax, ylabel, values in ((ax_std, "std of activations (units)", profile.std),
                               (ax_norm, "L2 norm of activations (units)", profile.norm)):
        ax.set_xlabel("block (0 = stack input)")
        ax.set_ylabel(ylabel)
        ax.set_xticks(blocks)
        _value_axis(ax, np.asarray(values, dtype=float))
        ax.legend(frameon=False)
        _style(ax)
    ax_std.set_title("std after each block")
    ax_norm.set_title("norm after each block")
    ax_grad.set_ylim(0, 1.15 * float(np.max(profile.grad_norm)))
    ax_grad.set_xlabel("residual scale s")
    ax_grad.set_ylabel("||d sum(out) / d input|| (units)")
    ax_grad.set_title("input-gradient norm")
    _style(ax_grad)
    growth = ", ".join(f"{g:.2f}x at s = {s:g}" for s, g in
                       zip(profile.scales, profile.std[:, -1] / profile.std[:, 0],
                           strict=True))
    fig.suptitle(f"{profile.depth} x block35 {profile.variant}: std after the last block vs "
                 f"input: {growth}", fontsize=13)
    return fig
