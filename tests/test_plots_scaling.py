"""Scaling figures: Figures with labelled axes, the real choices marked, honest histograms."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.figure import Figure

import explainer
from explainer.plots import plot_block_diagram, plot_depth_profile, plot_histograms, plot_sweep
from explainer.plots.sweep import fast_counts


@pytest.fixture(scope="module")
def sweep(block_v1, x_v1):
    return explainer.scale_sweep(block_v1, x_v1, np.round(np.linspace(0, 1, 51), 2))


def labelled(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    for ax in fig.axes:
        assert ax.get_xlabel() and ax.get_ylabel(), ax
    png = io.BytesIO()
    fig.savefig(png, format="png")
    assert png.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def texts(fig: Figure) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text")))


def test_sweep_figure_marks_real_choices_and_paper_band(sweep):
    fig = plot_sweep(sweep, scale=0.17)
    labelled(fig)
    words = texts(fig)
    for value, name in ((0.10, "block17"), (0.17, "block35"), (0.20, "block8")):
        assert f"{value:.2f} {name}" in words
    at = sweep.at(0.17)
    assert f"{at['residual_ratio']:.1%}" in fig.get_suptitle()  # the title states the numbers
    ax = fig.axes[0]
    assert "exactly 0" in fig.get_suptitle()  # the title says why the flips jump near s = 0
    band = [p for p in ax.patches if p.get_label().startswith("Szegedy et al. 2016")]
    assert len(band) == 1
    assert band[0].get_x() == pytest.approx(0.1) and band[0].get_width() == pytest.approx(0.2)
    (curve,) = [ln for ln in ax.get_lines() if ln.get_label().startswith("residual ratio")]
    np.testing.assert_allclose(curve.get_ydata(), 100 * sweep.residual_ratio)  # in percent


def test_histograms_count_every_unit(sweep):
    fig = plot_histograms(sweep, scale=0.5)
    labelled(fig)
    assert [ax.get_title() for ax in fig.axes] == [
        "net (the shortcut)", "scale · up (the residual)", "net_out = f(net + scale · up)"]
    for ax in fig.axes:
        (stairs,) = [p for p in ax.patches]
        assert stairs.get_data().values.sum() == sweep.net.size
        assert ax.get_yscale() == "log"


def test_residual_ratio_figure_is_the_ratio_alone(sweep):
    from explainer.plots import plot_residual_ratio

    fig = plot_residual_ratio(sweep, scale=0.3)
    labelled(fig)
    ax = fig.axes[0]
    curves = [line for line in ax.lines if len(line.get_xdata()) == len(sweep)]
    assert len(curves) == 1  # only the ratio: notebook 03 draws the other two
    assert np.allclose(curves[0].get_ydata(), 100 * sweep["residual_ratio"])
    assert f"{sweep.at(0.3)['residual_ratio']:.1%} of the shortcut" in fig._suptitle.get_text()


def test_depth_profile_figure():
    x = explainer.sample_input("v1", size=4, seed=1)
    profile = explainer.depth_profile("v1", 2, [1.0, 0.17, 0.0], x=x)
    fig = plot_depth_profile(profile)
    labelled(fig)
    # narrow ranges on linear axes; the gradient bars start at 0
    assert fig.axes[0].get_yscale() == "linear" and fig.axes[1].get_yscale() == "linear"
    assert fig.axes[2].get_yscale() == "linear" and fig.axes[2].get_ylim()[0] == 0
    assert "2 x block35 v1" in fig.get_suptitle()


@pytest.mark.parametrize(("variant", "mixed", "channels"), [("v1", 96, 256), ("v2", 128, 320)])
def test_block_diagram_has_shapes_on_edges(variant, mixed, channels):
    fig = plot_block_diagram(variant)
    assert isinstance(fig, Figure)
    words = texts(fig)
    for shape in (f"(N,35,35,{channels})", f"(N,35,35,{mixed})", "(N,35,35,32)"):
        assert shape in words
    if variant == "v2":
        assert "(N,35,35,48)" in words and "(N,35,35,64)" in words
    assert "scale * up" in words and "Conv2d_0c_3x3" in words
    fig.savefig(io.BytesIO(), format="png")


def test_fast_counts_equal_numpy_histogram():
    rng = np.random.default_rng(0)
    values = rng.normal(size=10_000).astype(np.float32)
    values[:3] = [-2.0, 2.0, 5.0]  # both edges, and one value outside the range
    counts = fast_counts(values, 40, (-2.0, 2.0))
    expected, _ = np.histogram(values, bins=40, range=(-2.0, 2.0))
    np.testing.assert_array_equal(counts, expected)


def test_no_pyplot_figures_left_open(sweep):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_sweep(sweep)
    plot_histograms(sweep)
    assert plt.get_fignums() == before
