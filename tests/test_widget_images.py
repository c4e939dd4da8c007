"""Widget images are shown at a fixed CSS width, so pages never stretch (and blur) them."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

import explainer
from explainer.widgets.images import png_size, show_png


def test_png_size_and_density():
    fig = explainer.plots.broadcast_diagram(explainer.explain_broadcast("(2,3)", "(3,)"), dpi=50)
    from explainer.plots.broadcast import figure_png

    png = figure_png(fig)
    w, h = png_size(png)
    assert (w, h) == (round(fig.get_figwidth() * 50), round(fig.get_figheight() * 50))
    image = widgets.Image(format="png")
    show_png(image, png, density=2.0)
    assert image.value == png and image.width == str(round(w / 2))


def test_not_a_png_is_refused():
    with pytest.raises(ValueError, match="png: got bytes that are not a PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_playground_and_explorer_images_have_a_width(block_v1):
    pg = explainer.widgets.broadcast_playground()
    assert int(pg.image.width) > 100
    x = explainer.sample_input("v1", batch=1, size=6)
    ex = explainer.widgets.scale_explorer(block_v1, x)
    ex.update(0.3)
    assert int(ex.image.width) == png_size(ex.image.value)[0]
