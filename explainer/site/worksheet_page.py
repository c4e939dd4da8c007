"""For the teacher: a printable worksheet (``worksheet.html``: every exercise of the course with
space to answer, one lesson per printed page) and a separate answers page (``answers.html``,
each answer computed now by running the package), which no student page links to.

Both are made from the exercise registry (the one place a question is written,
:mod:`explainer.exercises.render`); the lesson titles are the notebooks' own headings.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from ..exercises import solution
from ..exercises.core import REGISTRY
from ..exercises.render import notebook_exercises
from .lessons import default_notebooks, title_of
from .page_style import STATIC_CSS

ANSWER_LINES = 3  # ruled lines under each question on paper

PRINT_CSS = """
.lesson { border-top: 2px solid #555; margin-top: 1.2em; }
.lesson ol > li { margin: 0.7em 0; }
.form { color: #333; font-size: 16px; }
.answer-space { border-bottom: 1px solid #777; height: 2em; }
.answer { background: #f2f2f2; padding: 0.2em 0.5em; font-family: monospace; }
@media print {
  nav, .screen-only { display: none; }
  body { font-size: 12pt; max-width: none; margin: 0; color: #000; }
  h1 { font-size: 18pt; } h2 { font-size: 15pt; }
  .lesson { border: 0; margin: 0; break-after: page; page-break-after: always;
            break-inside: avoid; }
  .lesson:last-of-type { break-after: auto; page-break-after: auto; }
  .answer-space { height: 1.6em; }
  a { color: #000; text-decoration: none; }
}
@page { size: A4; margin: 16mm; }
"""


def _inline(text: str) -> str:
    """Markdown `code` and **bold** as HTML, everything else escaped."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def lessons(notebooks: Path | None = None) -> list[tuple[str, str]]:
    """``[(notebook stem, title)]`` of every notebook with exercises, in the path's order;
    the title is the notebook's first heading when the notebook is at hand."""
    import nbformat

    folder = Path(notebooks) if notebooks is not None else default_notebooks()
    found = []
    for stem in sorted({e.notebook for e in REGISTRY.values()}):
        path = folder / f"{stem}.ipynb"
        title = title_of(nbformat.read(path, as_version=4), stem) if path.is_file() else stem
        found.append((stem, title))
    return found


def _page(title: str, intro: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{STATIC_CSS}{PRINT_CSS}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<main>
<h1>{html.escape(title)}</h1>
{intro}
{body}
</main>
</body></html>
"""


def worksheet_page(notebooks: Path | None = None) -> str:
    """Every exercise with ruled space to answer, one lesson per printed page."""
    sections = []
    for stem, title in lessons(notebooks):
        items = "".join(
            f'<li id="q-{html.escape(e.name)}"><b><code>{html.escape(e.name)}</code></b> '
            f'{_inline(e.question)} <span class="form">({html.escape(e.expects)})</span>'
            + '<div class="answer-space"></div>' * ANSWER_LINES + "</li>"
            for e in notebook_exercises(stem))
        sections.append(f'<section class="lesson" aria-labelledby="h-{stem}">'
                        f'<h2 id="h-{stem}">{html.escape(title)}</h2>'
                        f'<p class="screen-only">Check your answers on the lesson\'s page: '
                        f'<a href="{stem}.html">{html.escape(stem)}.html</a> grades each one in '
                        f"the browser.</p><ol>{items}</ol></section>")
    intro = ('<p class="screen-only">Print this page (Ctrl+P, or the browser\'s menu): each '
             "lesson's exercises come on a sheet of their own, with lines to answer on. "
             "Nothing to install: a browser prints it.</p>")
    return _page("Worksheet: the exercises of the block35 explainer", intro, "".join(sections))


def answers_page(notebooks: Path | None = None) -> str:
    """Each exercise's answer, computed now by running the package (TensorFlow loads)."""
    sections = []
    for stem, title in lessons(notebooks):
        items = "".join(
            f"<li><b><code>{html.escape(e.name)}</code></b> {_inline(e.question)}<br>"
            f'<span class="answer">{html.escape(solution(e.name))}</span></li>'
            for e in notebook_exercises(stem))
        sections.append(f'<section class="lesson" aria-labelledby="h-{stem}">'
                        f'<h2 id="h-{stem}">{html.escape(title)}</h2><ol>{items}</ol>'
                        "</section>")
    intro = ("<p>For the teacher: the answers, computed by running the package when these "
             "pages were built (<code>explainer.exercises.solution</code>). No student page "
             "links here; the lesson pages grade answers themselves, so the answers are in "
             "their source too (practice, not an exam).</p>")
    return _page("Answers to the worksheet (for the teacher)", intro, "".join(sections))
