"""The static scale page (every slider position computed at build time by the real block) and
exercises shown as questions on static pages."""

from __future__ import annotations

import json
import re

import nbformat
import numpy as np
import pytest
from classroom_pages import app_site

from explainer.core.lesson import lesson_setup
from explainer.scaling.numpy_sweep import SLIDER_SCALES
from explainer.site.build import EXERCISE_NOTE, exercises_as_questions, index_page

MAX_PAGE_BYTES = 2**20  # a page a class downloads at once: 1 MB at most


@pytest.fixture(scope="module")
def page() -> str:
    return (app_site() / "scale_explorer.html").read_text(encoding="utf-8")


def _frames(page: str) -> dict:
    table = re.search(r'<script type="application/json" id="frames">(.*?)</script>', page, re.S)
    return json.loads(table.group(1))


def test_page_is_small_offline_and_keyboard_operable(page):
    assert len(page.encode()) <= MAX_PAGE_BYTES
    assert not re.search(r'(src|href)="(https?:)?//', page), "the page must load nothing"
    assert re.search(r'<input type="range" id="scale" min="0" max="100" step="1"', page)
    assert 'aria-label="residual scale s' in page
    assert page.count("<script") == 2  # the frames table and the few lines that show them


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_every_frame_is_the_real_block_at_that_scale(page, variant):
    from explainer.scaling.sweep import scale_sweep

    frames = _frames(page)[variant]["frames"]
    assert [f["scale"] for f in frames] == [f"{s:.2f}" for s in SLIDER_SCALES]
    setup = lesson_setup(variant)
    sweep = scale_sweep(setup.block, setup.x, SLIDER_SCALES)
    for name in sweep.names:
        shown = np.array([f["values"][name] for f in frames])
        np.testing.assert_allclose(shown, sweep[name], rtol=0, atol=1e-8, err_msg=name)
    at_018 = frames[18]
    ratio = sweep.residual_ratio[18]
    assert f"at s = 0.18 the residual is {100 * ratio:.1f} % of the shortcut" \
        in at_018["finding"]
    assert f"{ratio:.4f}" in at_018["numbers"]
    xs = [f["x"] for f in frames]
    assert xs == sorted(xs) and 0 < xs[0] < xs[-1] < 100  # the marker moves left to right


def test_index_links_the_scale_page():
    assert 'href="scale_explorer.html"' in index_page([], apps=True)
    assert "scale_explorer.html" not in index_page([])


def test_exercise_cells_show_questions_not_verdicts():
    nb = nbformat.v4.new_notebook()
    check = nbformat.v4.new_code_cell('explainer.exercises.check("scale_ratio", 0.5)')
    unknown = nbformat.v4.new_code_cell('explainer.exercises.check("no_such_one", 0.5)')
    check.outputs = [nbformat.v4.new_output("display_data", data={
        "text/html": "<b>✘ Not yet</b> the answer is 0.15", "text/plain": "Not yet"})]
    plain = nbformat.v4.new_code_cell("1 + 1")
    plain.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "2"},
                                            execution_count=1)]
    nb.cells = [check, plain, unknown]
    assert exercises_as_questions(nb) == 2
    shown = json.dumps(nb.cells[0].outputs)
    assert "Not yet" not in shown and "0.15" not in shown
    form = nb.cells[0].outputs[0]["data"]["text/html"]
    assert 'data-exercise="scale_ratio"' in form and '<input id="answer-scale_ratio"' in form
    assert "answers are in this page's source" in form  # practice, not an exam
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "2"
    assert nb.cells[2].outputs[0]["data"]["text/html"] == EXERCISE_NOTE


def test_embedded_figures_shrink_without_changing_a_pixel():
    import base64
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    from explainer.site.compact import compact_page, compact_png

    fig, ax = plt.subplots(figsize=(6, 3), dpi=100)
    ax.plot(np.linspace(0, 1, 200) ** 2)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")  # RGBA, zlib level 6, as the lessons' figures
    plt.close(fig)
    png = buffer.getvalue()
    smaller = compact_png(png)
    assert len(smaller) < len(png)
    assert (np.asarray(Image.open(io.BytesIO(smaller)).convert("RGBA"))
            == np.asarray(Image.open(io.BytesIO(png)))).all()
    page = f'<img alt="x" src="data:image/png;base64,{base64.b64encode(png).decode()}">'
    assert len(compact_page(page)) < len(page) and compact_page(page).startswith('<img alt="x"')
    assert compact_png(b"not a png") == b"not a png"
    # a page over budget: at most 256 colours a figure, the same size and shapes
    rich = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(rich).save(out, "PNG")
    fewer = Image.open(io.BytesIO(compact_png(out.getvalue(), colours=256))).convert("RGB")
    assert fewer.size == (80, 60) and len(fewer.getcolors(256) or ()) > 0
    assert compact_png(out.getvalue()) != compact_png(out.getvalue(), colours=256)
