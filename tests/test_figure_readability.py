"""Figures a learner can read: on every lesson figure of ``explainer.plots``, no legend covers
plotted data and no axes holds more than 8 lines.

"Plotted data" is what an axes draws in its data coordinates: line vertices (and points along
each segment), markers, bars, histogram stairs and scatter points; reference lines drawn in
axes coordinates (``axhline`` / ``axvline`` spans) are not data. A legend covers data when a
data point falls inside the legend's box on the rendered figure. ``plots/why_scale.py`` and
``plots/why_scale_training.py`` (notebook 06's figures) are left to their own tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import Collection
from matplotlib.patches import Rectangle

import explainer
from explainer import plots
from explainer.ports.check import PortCheck

MAX_LINES = 8


def data_points(ax) -> np.ndarray:
    """Display coordinates of everything ``ax`` plots in data coordinates."""
    points = []
    for line in ax.get_lines():
        if line.get_transform() != ax.transData or not line.get_visible():
            continue  # axhline / axvline: a reference span, drawn in axes coordinates
        xy = np.column_stack(line.get_data()).astype(float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if len(xy) > 1 and line.get_linestyle() not in ("None", "none", ""):
            steps = np.linspace(0, 1, 12)[:, None, None]
            xy = (xy[:-1] + steps * (xy[1:] - xy[:-1])).reshape(-1, 2)  # along each segment
        points.append(ax.transData.transform(xy) if len(xy) else np.empty((0, 2)))
    for patch in ax.patches:
        if patch.get_transform().contains_branch(ax.transData) and patch.get_visible():
            if patch.get_label().startswith("Szegedy"):  # a shaded band, not data
                continue
            verts = patch.get_path().vertices
            points.append(patch.get_transform().transform(verts))
    for coll in ax.collections:
        if isinstance(coll, Collection) and len(coll.get_offsets()):
            points.append(coll.get_offset_transform().transform(coll.get_offsets()))
    return np.concatenate(points) if points else np.empty((0, 2))


def covered(fig) -> list[str]:
    """Each (legend, axes) pair where a legend's box holds a data point of that axes."""
    if not hasattr(fig.canvas, "get_renderer"):  # a bare Figure: give it an Agg canvas
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    bad = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            pts = data_points(ax)
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1) & (pts[:, 1] > box.y0)
                      & (pts[:, 1] < box.y1)) if len(pts) else np.zeros(0, bool)
            if inside.any():
                labels = [t.get_text() for t in legend.get_texts()][:2]
                bad.append(f"legend {labels} covers {int(inside.sum())} data points of axes "
                           f"{ax.get_title()!r}")
    return bad


def crowded(fig) -> list[str]:
    return [f"axes {ax.get_title()!r} holds {len(ax.get_lines())} lines"
            for ax in fig.axes if len(ax.get_lines()) > MAX_LINES]


@pytest.fixture(scope="module")
def lesson_figures():
    """Every lesson figure, built from the package's own (small) computations."""
    block = explainer.lesson_setup().block
    small = explainer.sample_input("v1", batch=1, size=9, seed=0)  # quick; same figures
    sweep = explainer.scale_sweep(block, small, np.linspace(0, 1, 101))
    up = np.ones((2, 1, 1, 2), np.float32)
    figures = {
        "plot_residual_ratio": plots.plot_residual_ratio(sweep, scale=0.17),
        "plot_sweep": plots.plot_sweep(sweep, scale=0.17),
        "plot_histograms": plots.plot_histograms(sweep, scale=0.17),
        "plot_line_terms": plots.plot_line_terms(explainer.trace(block, small)),
        "plot_depth_profile": plots.plot_depth_profile(
            explainer.depth_profile("v1", 3, [1.0, 0.17, 0.0], x=small)),
        "plot_stage_profile": plots.plot_stage_profile(
            explainer.stage_profile("v1", size=3, seed=1, max_repeats=1)),
        "plot_fold_cases": plots.plot_fold_cases(explainer.fold_cases(block, small)),
        "plot_block_diagram": plots.plot_block_diagram("v1"),
        "plot_scale_schemes": plots.plot_scale_schemes({
            "block35: s = 0.17": explainer.scale_sweep(block, small, [0.17]),
            "ReZero: α = 0.01": explainer.scale_sweep(block, small, [0.01], activation=None)}),
        "plot_keep_mask": plots.plot_keep_mask(np.ones((2, 1, 1, 1)) * up,
                                               np.ones((2, 1, 1, 2))),
        # a port figure: the differences one finds (slim tensor by tensor, one exact 0)
        "plot_port_differences": plots.plot_port_differences({
            "slim": PortCheck("ours", "slim", {"tower_conv": 1.2e-7, "mixed": 2.4e-7,
                                               "up": 4.8e-7, "net_out": 0.0}),
            "ONNX": PortCheck("ours", "onnx", {"net_out": 4.8e-7}),
            "PyTorch": PortCheck("ours", "torch", {"net_out": 2.4e-7})}),
    }
    for a, b in (("()", "(1, 35, 35, 256)"), ("(2, 35, 35, 256)", "(256, 1)"),
                 ("(4, 5)", "(3,)")):
        figures[f"broadcast_diagram {a} {b}"] = plots.broadcast_diagram(
            explainer.explain_broadcast(a, b))
    return figures


def test_every_lesson_plot_function_is_checked(lesson_figures):
    public = {name for name in dir(plots) if name.startswith("plot_")} | {"broadcast_diagram"}
    checked = {name.split(" ")[0] for name in lesson_figures}
    assert public <= checked, public - checked


def test_no_legend_covers_data_and_no_axes_is_crowded(lesson_figures):
    bad = {name: covered(fig) + crowded(fig) for name, fig in lesson_figures.items()}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_the_check_fails_on_a_legend_over_data():
    """A legend placed on the curve, and nine lines in one axes, are both caught."""
    fig = plots.plot_sweep.__globals__["new_figure"](6, 4)
    ax = fig.add_subplot()
    xs = np.linspace(0, 1, 50)
    for k in range(9):
        ax.plot(xs, xs * (k + 1), label=f"line {k}")
    ax.legend(loc="center")
    assert covered(fig) and crowded(fig)


def test_the_broadcast_legend_shows_missing_as_drawn():
    """The "missing counts as 1" entry is a dashed white box (the absent axis) beside the
    filled one (that axis in the other operand and the result), as the diagram draws them."""
    fig = plots.broadcast_diagram(explainer.explain_broadcast("()", "(1, 35, 35, 256)"))
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    (legend,) = fig.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["missing counts as 1 (dashed: the absent axis; filled: that axis elsewhere)"]
    boxes = legend.findobj(Rectangle)
    dashed = [b for b in boxes if b._dash_pattern[1] is not None]
    solid = [b for b in boxes if b._dash_pattern[1] is None]
    assert len(dashed) == 1 and dashed[0].get_facecolor()[:3] == (1.0, 1.0, 1.0)
    assert len(solid) == 1 and solid[0].get_facecolor()[:3] == dashed[0].get_edgecolor()[:3]
