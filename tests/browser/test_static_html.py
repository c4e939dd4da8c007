"""The static site (``python -m explainer.site.build``) in Chromium, with the network cut off: the
index links to every notebook, each page shows its figures as decoded images, and every lesson
page passes axe-core."""

from __future__ import annotations

import pytest
from accessibility import axe_violations
from browser_support import MAX_PAGE_BYTES, NOTEBOOKS

PAGES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
MIN_FIGURE_WIDTH_PX = 150  # a figure, not an icon, at a 1366 px wide window
# Pages that must show at least this many figures: the sweep plot, the slider's plot,
# the broadcast diagram. Every page must show as many as its executed notebook holds.
MIN_FIGURES = {"00_start_here": 1, "03_residual_scaling": 1, "04_broadcasting": 1}


def _offline(page) -> list[str]:
    """Record every request that is not to a local file or a data URI."""
    remote: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:"))
            else remote.append(r.url))
    return remote


def test_index_links_to_every_notebook(page, static_site):
    outdir, pages = static_site
    assert PAGES, f"no notebooks in {NOTEBOOKS}"
    remote = _offline(page)
    page.goto((outdir / "index.html").as_uri())
    links = page.locator("a.notebook-link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert hrefs == [f"{name}.html" for name in PAGES]
    for i, name in enumerate(PAGES):  # each link opens its page
        page.locator("a.notebook-link").nth(i).click()
        page.wait_for_load_state("load")
        assert page.url.endswith(f"/{name}.html")
        assert page.title() and page.locator(".jp-Notebook").count() == 1
        page.go_back()
    assert sum(p.figures for p in pages.values()) >= 1
    assert remote == []


@pytest.mark.parametrize("name", PAGES)
def test_page_shows_its_figures(page, static_site, name):
    outdir, pages = static_site
    remote = _offline(page)
    page.goto((outdir / f"{name}.html").as_uri())
    page.wait_for_load_state("load")
    images = page.evaluate("""() => Array.from(document.images).map(i => ({
        ok: i.complete && i.naturalWidth > 0, width: i.getBoundingClientRect().width,
        data: i.src.startsWith('data:image/'), alt: i.alt}))""")
    assert len(images) == pages[name].figures, "as many figures as the executed notebook"
    assert len(images) >= MIN_FIGURES.get(name, 0), f"{name}: the page lacks its figures"
    assert all(i["data"] for i in images), "every figure is embedded in the page"
    assert all(i["ok"] for i in images), f"{name}: some figures do not decode: {images}"
    narrow = [i["width"] for i in images if i["width"] < MIN_FIGURE_WIDTH_PX]
    assert not narrow, f"{name}: figures drawn narrower than {MIN_FIGURE_WIDTH_PX} px: {narrow}"
    # every figure's text alternative is made from it (its titles and their numbers), not
    # nbconvert's "No description has been provided for this image" nor a bare "figure"
    generic = [i["alt"] for i in images
               if i["alt"] in ("", "figure") or "No description" in i["alt"]]
    assert not generic, f"{name}: figures without a description: {generic}"
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "interactive only" not in body  # every widget was frozen into static HTML
    assert remote == []


def _exercises_checked_in_page(page, name: str) -> list[str]:
    """Each exercise of the lesson has its form, and the page grades its computed solution
    "Right" and a word "Not yet", with the words of explainer.exercises.check."""
    from explainer.exercises import check, solution
    from explainer.exercises.render import notebook_exercises

    wanted = [e.name for e in notebook_exercises(name)] if name != "index" else []
    forms = page.eval_on_selector_all(".page-exercise", "f => f.map(x => x.dataset.exercise)")
    if forms != wanted:
        return [f"exercise forms {forms}, expected {wanted}"]
    problems = []
    for ex in wanted:
        right = "b" if ex == "start_star" else solution(ex)
        for answer in (right, "a word"):
            got = page.evaluate("([n, t]) => window.checkExercise(n, t)", [ex, answer])
            verdict = check(ex, answer)
            if got != {"ok": bool(verdict), "message": str(verdict)}:
                problems.append(f"{ex} {answer!r}: page {got}, Python {verdict}")
        problems += [] if check(ex, right) else [f"{ex}: the solution is not graded right"]
    return problems


def test_every_lesson_page_is_accessible(page, static_site):
    """axe-core on the session's static site (every lesson executed once, the index): no
    serious or critical violation (contrast of code and output text, links told apart from
    text by more than colour); each page at most 1 MB; each lesson checks its exercises in
    the page (window.checkExercise, as explainer.exercises.check)."""
    outdir, pages = static_site
    found = {}
    for name in ["index", *sorted(pages)]:
        page.goto((outdir / f"{name}.html").as_uri())
        page.wait_for_load_state("load")
        problems = axe_violations(page)
        size = (outdir / f"{name}.html").stat().st_size
        problems += [f"{size:,} bytes, over 1 MB"] if size > MAX_PAGE_BYTES else []
        # a frozen widget's figure (the scale explorer, the broadcasting diagram) says its
        # numbers: its alt text is the widget's, not a placeholder
        widget_alts = page.eval_on_selector_all(".static-image img", "i => i.map(x => x.alt)")
        problems += [f"placeholder alt: {a!r}" for a in widget_alts if a == "figure"]
        problems += _exercises_checked_in_page(page, name)
        if problems:
            found[name] = problems
    assert found == {}
