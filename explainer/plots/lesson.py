"""The line ``net = relu(net + scale * up)`` as pictures of one channel, on one colour scale."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..core.validate import check_positive_int
from .sweep import CURVES, draw_sweep, new_figure

LINE_TERMS = (("net", "net (the shortcut)"), ("scaled_up", "scale * up (the residual)"),
              ("net_sum", "net + scale * up"), ("net_out", "net_out = relu(...)"))


def plot_line_terms(trace, channel: int | None = None, image: int = 0) -> Figure:
    """``net``, ``scale * up``, their sum and ``net_out`` of one channel of one image, side
    by side on one shared colour scale (cividis, readable with colour-vision deficiencies), so
    their sizes compare at a glance. ``channel`` defaults to the one where ``scale * up``
    varies most."""
    image = check_positive_int("image", image, minimum=0)
    if image >= trace["net"].shape[0]:
        raise ValueError(f"image: got {image}; expected 0 to {trace['net'].shape[0] - 1}")
    terms = {name: trace[name].value[image] for name, _ in LINE_TERMS}
    channels = terms["net"].shape[-1]
    if channel is None:
        channel = int(np.argmax(terms["scaled_up"].reshape(-1, channels).std(axis=0)))
    channel = check_positive_int("channel", channel, minimum=0)
    if channel >= channels:
        raise ValueError(f"channel: got {channel}; expected 0 to {channels - 1}")
    maps = {name: t[..., channel] for name, t in terms.items()}
    lo = min(float(m.min()) for m in maps.values())
    hi = max(float(m.max()) for m in maps.values())
    fig = new_figure(15, 4.4)
    axes = fig.subplots(1, len(LINE_TERMS))
    for ax, (name, title) in zip(axes, LINE_TERMS, strict=True):
        shown = ax.imshow(maps[name], cmap="cividis", vmin=lo, vmax=hi)
        ax.set_title(f"{title}\nrange {maps[name].min():.2f} to {maps[name].max():.2f}",
                     fontsize=12)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=list(axes), shrink=0.85, label="value (activation units)")
    spread = float(np.ptp(maps["scaled_up"]) / max(np.ptp(maps["net"]), 1e-12))
    fig.suptitle(f"channel {channel} of the block's own tensors, one colour scale: scale * up "
                 f"spans {spread:.0%} of net's range (over all channels ||scale*up|| / ||net|| "
                 f"= {trace.residual_ratio:.1%})", fontsize=13)
    return fig


def plot_residual_ratio(sweep, scale: float | None = None) -> Figure:
    """The start's one picture: only the residual ratio ||s·up|| / ||net|| against the scale,
    with the real nets' scales and the paper's band (notebook 03 draws all three curves)."""
    scale = sweep.spec.scale if scale is None else scale
    at, top = sweep.at(scale), sweep.at(float(sweep.scales.max()))
    fig = new_figure(10, 5.5)
    ax = fig.add_subplot()
    draw_sweep(ax, sweep, scale, curves=CURVES[:1])
    fig.suptitle(f"At s = {scale:g} the residual is {at['residual_ratio']:.1%} of the shortcut; "
                 f"it grows in proportion to s, to {top['residual_ratio']:.1%} at "
                 f"s = {float(sweep.scales.max()):g}", fontsize=13)
    return fig
