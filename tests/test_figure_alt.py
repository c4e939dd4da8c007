"""A figure's text alternative comes from its own titles (with their numbers), and the static
pages put it into the figure's ``alt``."""

import nbformat
import pytest
from matplotlib.figure import Figure

from explainer.plots import describe_figure
from explainer.plots.describe import PREFIX
from explainer.site.freeze import FIGURE_TEXT, figures_with_alt


def test_description_is_the_titles_or_what_is_plotted_against_what():
    fig = Figure()
    left, right = fig.subplots(1, 2)
    fig.suptitle("the residual is 8.9%\nof the shortcut")
    left.set_title("ratio at s = 0.17")
    right.set_xlabel("scale")
    right.set_ylabel("flips (%)")
    assert describe_figure(fig) == ("Figure: the residual is 8.9% of the shortcut; "
                                    "ratio at s = 0.17; flips (%) against scale")
    with pytest.raises(TypeError, match="fig: got str"):
        describe_figure("a figure")


def test_static_pages_give_described_figures_an_alt_and_leave_others():
    nb = nbformat.v4.new_notebook()
    described = nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo=", "text/plain": "Figure: ratio 8.9% at s = 0.17"})
    other = nbformat.v4.new_output("display_data", data={
        "image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"})
    nb.cells = [nbformat.v4.new_code_cell(outputs=[described, other])]
    assert FIGURE_TEXT == PREFIX  # the export reads what the kernel's formatter writes
    assert figures_with_alt(nb) == 1
    html = nb.cells[0].outputs[0]["data"]["text/html"]
    assert 'alt="ratio 8.9% at s = 0.17"' in html and "base64,iVBORw0KGgo=" in html
    assert "image/png" in nb.cells[0].outputs[1]["data"]  # left for nbconvert
