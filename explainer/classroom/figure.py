"""The scale app's figure, projector-sized, and the drawing of every slider frame ahead.

:class:`ClassroomFigure` draws the curves over the scale and three histograms once; a frame
at one scale then redraws only the marker and two histograms over the saved background, and
is stored as a 64-colour palette PNG (about 35 KB, a third of the RGB PNG: less for the server
to relay to 30 students on every move).

:func:`draw_all_frames` draws the 101 slider positions of v1 and v2 into the shared frame
folder (:mod:`.frame_cache`) before a class arrives (``make classroom`` runs it), so that a
student's kernel only reads files and never imports matplotlib::

    python -m explainer.classroom.figure [v1] [v2]
"""

from __future__ import annotations

import io
import sys

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from tqdm.auto import tqdm

from ..core.validate import check_variant
from ..plots.sweep import OKABE_ITO, MovingSweep, draw_histograms, draw_sweep, hist_range
from ..scaling.numpy_sweep import SLIDER_SCALES, numpy_scale_sweep
from .frame_cache import SharedFrames, check_cache_root

APP_FONT = {"axes.titlesize": 17, "axes.labelsize": 16, "xtick.labelsize": 15,
            "ytick.labelsize": 15, "legend.fontsize": 15}
PALETTE_COLOURS = 64  # the figure's few colours and their anti-aliased edges


# colours a frame must show exactly (the octree averages its buckets: white came out 254)
EXACT_COLOURS = np.array([(255, 255, 255), (0, 0, 0)]
                         + [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5))
                            for c in OKABE_ITO.values()])
SNAP_DISTANCE = 4  # a palette entry this close (per channel) to an exact colour becomes it


def palette_png(rgba: np.ndarray, colours: int = PALETTE_COLOURS) -> bytes:
    """A palette PNG of an RGBA image: ``colours`` colours chosen by Pillow's fast octree, no
    dithering (flat plot colours stay flat), entries next to white, black or an Okabe-Ito
    colour set to that colour exactly, zlib level 6."""
    image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
    quantized = image.quantize(colours, method=Image.Quantize.FASTOCTREE,
                               dither=Image.Dither.NONE)
    palette = np.array(quantized.getpalette()[:3 * colours], dtype=int).reshape(-1, 3)
    gaps = np.abs(palette[:, None, :] - EXACT_COLOURS[None, :, :]).max(axis=2)
    nearest = gaps.argmin(axis=1)
    snap = gaps[np.arange(len(palette)), nearest] <= SNAP_DISTANCE
    palette[snap] = EXACT_COLOURS[nearest[snap]]
    quantized.putpalette(palette.astype(np.uint8).ravel().tolist())
    buffer = io.BytesIO()
    quantized.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


class ClassroomFigure:
    """The app's figure (curves over the scale, three histograms) for one variant's sweep:
    the static parts are drawn once, :meth:`render` redraws the marker and two histograms."""

    def __init__(self, sweep, width: float = 12.4, dpi: int = 100):
        self.sweep = sweep
        with matplotlib.rc_context(APP_FONT):
            fig = Figure(figsize=(width, 7.2), dpi=dpi, layout="constrained")
            FigureCanvasAgg(fig)
            grid = fig.add_gridspec(2, 3, height_ratios=(1.25, 1))
            ax_curve = fig.add_subplot(grid[0, :])
            hist_axes = [fig.add_subplot(grid[1, i]) for i in range(3)]
            self.curve = draw_sweep(ax_curve, sweep, choice_labels=False)
            self.hists = draw_histograms(hist_axes, sweep, sweep.spec.scale, bins=60,
                                         value_range=hist_range(sweep, (0.0, 1.0)))
        for ax in (ax_curve, *hist_axes):  # draw_* set the notebook sizes: projector sizes here
            ax.tick_params(labelsize=APP_FONT["xtick.labelsize"])
            ax.xaxis.label.set_size(APP_FONT["axes.labelsize"])
            ax.yaxis.label.set_size(APP_FONT["axes.labelsize"])
            ax.title.set_size(APP_FONT["axes.titlesize"])
        ax_curve.set_ylabel("percent (%)")
        ax_curve.set_title(f"block35 {sweep.spec.variant}: residual ratio, output change and "
                           "flipped units against the scale s", loc="left")
        self.moving = MovingSweep(fig, sweep, self.curve, self.hists)
        self.fig = fig

    def render(self, scale: float, values: dict) -> bytes:
        """A palette PNG of the figure with the marker and the histograms at ``scale``
        (``values``: the sweep's metrics there)."""
        return palette_png(self.moving.rgba(scale, values))


def draw_all_frames(variants=("v1", "v2"), progress: bool = True) -> int:
    """Draw every slider position's frame of ``variants`` that the shared folder lacks;
    return how many were drawn (0 when all were there, or when the folder is not writable)."""
    drawn = 0
    for variant in variants:
        sweep = numpy_scale_sweep(variant, SLIDER_SCALES)
        shared = SharedFrames(sweep)
        missing = [i for i in range(len(SLIDER_SCALES)) if not shared.has(i)]
        if not missing:
            continue
        figure = ClassroomFigure(sweep)
        for index in tqdm(missing, desc=f"slider frames {variant}", unit="frame",
                          disable=not progress, file=sys.stdout):
            scale = float(SLIDER_SCALES[index])
            values = sweep.values_at(index)
            drawn += shared.put(index, figure.render(scale, values))
    return drawn


def main(argv: list[str] | None = None) -> int:
    """``python -m explainer.classroom.figure [VARIANT ...]``: draw the missing frames of the
    variants named (default v1 and v2)."""
    variants = tuple(argv if argv is not None else sys.argv[1:]) or ("v1", "v2")
    try:
        variants = tuple(check_variant(v) for v in variants)
        root = check_cache_root()
    except ValueError as err:
        print(f"python -m explainer.classroom.figure: error: {err}", file=sys.stderr)
        return 2
    count = draw_all_frames(variants)
    print(f"slider frames drawn: {count}; folder: {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
