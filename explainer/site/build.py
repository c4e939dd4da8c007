"""``python -m explainer.site.build OUTDIR``: every notebook executed and saved as a static page.

Each notebook in ``notebooks/`` is executed headless (nbclient, a fresh ``python3`` kernel),
its widgets are frozen into plain HTML with their figures as real ``<img>`` elements
(:mod:`explainer.site.freeze`), and it is exported with nbconvert to ``OUTDIR/NAME.html``
with every image embedded as a data URI. ``OUTDIR/index.html`` links to each page. The pages
load nothing from the network (no MathJax, require.js or widget scripts), so they read the
same offline, on a weak laptop, or from a USB stick: no kernel, no server.
"""

from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .broadcast_page import broadcast_page
from .compact import compact_page
from .freeze import count_figures, figures_with_alt, freeze_widgets
from .page_style import NOTEBOOK_PAGE_CSS

# TensorFlow's C++ start-up lines (oneDNN, CUDA) go to the build's stderr, not onto the page
KERNEL_QUIET = "--IPKernelApp.capture_fd_output=False"
PACKAGE_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # the checkout's
# the static apps, next to the notebooks' pages: file name -> (link text, what it does)
APP_PAGES = {
    "scale_explorer.html": ("The scale slider", "move the residual scale and see what the "
                            "block does, every position computed when these pages were built"),
    "broadcast_playground.html": ("The broadcasting playground", "type two shapes and see, "
                                  "axis by axis, how they broadcast, computed in the page"),
    "why_scale_explorer.html": ("The why-scale grid", "pick depth, width, scale, learning "
                                "rate and seed for two settings and compare every stored run's "
                                "curves, fate and accuracy"),
    "block_explorer.html": ("The block, tensor by tensor", "click each tensor of block35 v1 "
                            "and v2 for its shape, statistics and channels, and recompute the "
                            "tail relu(net + s * up) at any scale, a number or a vector"),
}
# the course's other pages, linked from the index: file name -> (link text, what it holds);
# answers.html is written beside them and linked from no student page (ANSWERS_PAGE)
COURSE_PAGES = {
    "questions.html": ("Questions a learner brings", "each answered in two lines computed by "
                       "the package, with a link to the lesson section that shows it"),
    "worksheet.html": ("The worksheet", "every exercise with space to answer, one lesson per "
                       "printed page"),
}
ANSWERS_PAGE = "answers.html"
ROUTES = (  # what each way through the course needs
    ("Read the lessons, check every exercise in its page, explore the apps",
     "a browser: nothing to install and no server (open index.html from a folder or a USB "
     "stick, or serve the folder to a class with <code>make classroom-static</code>)"),
    ("Print the worksheet", "a browser"),
    ("Run and change the code in JupyterLab (<code>make lab</code>)",
     "the install: Python with TensorFlow and the project's other libraries"),
    ("The lessons' widgets as live apps for a class (<code>make classroom</code>)",
     "the install, and the machine that serves them"),
    ("Build these pages (<code>make html</code>)",
     "the install: every notebook is executed"),
)
EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')
NOTEBOOK_LINK = re.compile(r'href="([A-Za-z0-9_]+)\.ipynb"')


@dataclass(frozen=True)
class Page:
    """One exported notebook: where it came from, where it went, what it holds."""

    notebook: Path
    html: Path
    title: str
    seconds: float  # execution time of the notebook
    figures: int  # images the executed notebook shows (plots, Image widgets)
    learn: tuple[str, ...] = ()  # the "You will learn" bullets of its first cell


def default_notebooks() -> Path:
    """``./notebooks`` when run from a checkout, else the one next to the package."""
    here = Path.cwd() / "notebooks"
    return here if here.is_dir() else PACKAGE_NOTEBOOKS


def title_of(nb, fallback: str) -> str:
    """The first Markdown heading of the notebook, without its ``#`` marks."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip().replace("`", "")
    return fallback


def learning_goals(nb) -> tuple[str, ...]:
    """The bullet points under "You will learn" in the notebook's first Markdown cell."""
    cells = [c for c in nb.cells if c.cell_type == "markdown"][:1]
    lines = cells[0].source.splitlines() if cells else []
    start = next((i for i, ln in enumerate(lines) if "you will learn" in ln.lower()), None)
    if start is None:
        return ()
    goals: list[str] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            goals.append(stripped[2:].strip())
        elif goals and stripped and line.startswith(" "):  # a bullet wrapped onto this line
            goals[-1] += " " + stripped
        elif goals:  # the list has ended
            break
    return tuple(goals)


def _inline(text: str) -> str:
    """Markdown `code` and **bold** as HTML, everything else escaped."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)


def execute(path: Path, timeout: int = 180):
    """Execute the notebook at ``path`` in a fresh kernel; return it with outputs and widgets.

    The kernel runs in the notebook's folder, without an inherited ``MPLBACKEND`` (so figures
    display through matplotlib's inline backend, as for a learner), and writes what C++
    libraries print to file descriptor 2 to this process's stderr. A failing cell raises
    nbclient's ``CellExecutionError``.
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            store_widget_state=True, extra_arguments=[KERNEL_QUIET],
                            resources={"metadata": {"path": str(path.parent)}})
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    client.execute(env=env)
    return nb


EXERCISE_CALL = re.compile(r"exercises\.(check|solution)\(")
EXERCISE_NAME = re.compile(r"exercises\.check\(\s*[\"'](\w+)[\"']")
EXERCISE_NOTE = ('<div class="static-exercise" style="border-left:6px solid #666;'
                 'padding:0.4em 0.8em">&#9998; <b>Your turn</b>: write your answer in the cell '
                 "above and run it in JupyterLab (<code>make lab</code>) to check it.</div>")


def exercises_as_questions(nb) -> int:
    """Replace the outputs of exercise cells (``explainer.exercises.check(...)``) by a form
    that checks an answer in the page (:func:`explainer.site.exercise_page.exercise_form`):
    a static page shows no verdict on the placeholder answer and no solution. A cell that
    names no known exercise gets a note that asks the question. Returns how many cells were
    changed."""
    from ..exercises.core import REGISTRY
    from .exercise_page import exercise_form

    changed = forms = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and EXERCISE_CALL.search(cell.source):
            named = EXERCISE_NAME.search(cell.source)
            ex = REGISTRY.get(named.group(1)) if named else None
            shown = EXERCISE_NOTE if ex is None else exercise_form(ex.name, ex.expects,
                                                                   forms == 0)
            forms += ex is not None
            cell.outputs = [{"output_type": "display_data", "metadata": {},
                             "data": {"text/html": shown,
                                      "text/plain": "(exercise: check it on the page)"}}]
            changed += 1
    return changed


def export(nb, nav: str = "", notebook: str | None = None) -> str:
    """The executed notebook as one self-contained HTML page (widgets frozen in place,
    exercises shown as questions). With the ``notebook``'s stem, its exercises are checked
    in the page (their rules computed now: TensorFlow loads)."""
    from nbconvert import HTMLExporter

    from ..exercises.render import notebook_exercises

    exercises_as_questions(nb)
    freeze_widgets(nb)
    figures_with_alt(nb)
    exporter = HTMLExporter(template_name="lab", mathjax_url="", require_js_url="",
                            mermaid_js_url="", mermaid_layout_elk_js_url="",
                            embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    body = EMPTY_SCRIPT.sub("", body)
    body = NOTEBOOK_LINK.sub(r'href="\1.html"', body)  # a lesson's link to a lesson: its page
    body = compact_page(body)  # the same figures in fewer bytes: every page under 1 MB
    head = NOTEBOOK_PAGE_CSS
    if notebook and notebook_exercises(notebook):
        from .exercise_page import EXERCISE_CSS, exercise_data, grader_script

        head += "\n" + EXERCISE_CSS
        body = body.replace("</body>", grader_script(exercise_data(notebook)) + "\n</body>", 1)
    body = body.replace("</head>", head + "\n</head>", 1)
    return re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + nav, body, count=1)


def _nav(pages: list[tuple[str, str]], i: int) -> str:
    links = ['<a href="index.html">&larr; all notebooks</a>']
    if i > 0:
        links.append(f'<a href="{pages[i - 1][0]}">previous: {html.escape(pages[i - 1][1])}</a>')
    if i + 1 < len(pages):
        links.append(f'<a href="{pages[i + 1][0]}">next: {html.escape(pages[i + 1][1])}</a>')
    return f'<nav class="static-nav">{"".join(links)}</nav>'


def index_page(pages: list[Page], apps: bool = False) -> str:
    """The index: one link per notebook, in the path's order, with its figure count, and
    (``apps``) one per static app of :data:`APP_PAGES`."""
    def goals(page: Page) -> str:
        if not page.learn:
            return ""
        return "<ul>" + "".join(f"<li>{_inline(g)}</li>" for g in page.learn) + "</ul>"

    app_links = "".join(f'<li><a class="app-link" href="{name}">{html.escape(text)}</a>: '
                        f"{html.escape(what)}.</li>" for name, (text, what) in APP_PAGES.items())
    app_list = f'<h2>Apps</h2>\n<ul class="app-index">{app_links}</ul>' if apps else ""
    if apps:
        course = "".join(f'<li><a class="course-link" href="{name}">{html.escape(text)}</a>: '
                         f"{html.escape(what)}.</li>" for name, (text, what)
                         in COURSE_PAGES.items())
        routes = "".join(f'<tr><th scope="row">{way}</th><td>{needs}</td></tr>'
                         for way, needs in ROUTES)
        app_list += (f'\n<h2>Questions and the worksheet</h2>\n<ul class="course-index">'
                     f"{course}</ul>\n<h2>What each route needs</h2>\n"
                     f'<table class="routes"><thead><tr><th scope="col">route</th>'
                     f'<th scope="col">needs</th></tr></thead><tbody>{routes}</tbody></table>')
    items = "\n".join(
        f'<li><a class="notebook-link" href="{html.escape(p.html.name)}">'
        f"{html.escape(p.title)}</a> <small>({html.escape(p.notebook.name)}, "
        f"{p.figures} figure{'s' if p.figures != 1 else ''})</small>{goals(p)}</li>"
        for p in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>block35 explainer: the notebooks</title>
<style>
body {{ font: 20px/1.5 "DejaVu Sans", sans-serif; max-width: 60em; margin: 2em auto;
       padding: 0 1em; color: #111; }}
a {{ color: #005A8C; }} ol > li {{ margin: 1em 0; }} small {{ color: #555; }}
a:focus {{ outline: 3px solid #E69F00; outline-offset: 2px; }}
ul {{ font-size: 17px; margin: 0.3em 0; }} ul li {{ margin: 0.15em 0; }}
code {{ background: #f2f2f2; padding: 0 0.2em; }}
table.routes {{ border-collapse: collapse; font-size: 17px; }}
table.routes th, table.routes td {{ border: 1px solid #999; padding: 0.3em 0.6em;
                                    text-align: left; vertical-align: top; }}
</style></head>
<body>
<main>
<h1>What does <code>*</code> do in <code>net += scale * up</code>?</h1>
<p>The block35 explainer, executed and saved as static pages: read them in this order.
Every number and figure was produced by running the real block; no kernel is needed to read
them, nor to check the exercises (each lesson's page grades its own).
</p>
<ol class="notebook-index">
{items}
</ol>
{app_list}
</main>
</body></html>
"""


def write_apps(outdir: Path) -> list[Path]:
    """Write the static apps of :data:`APP_PAGES` into ``outdir``; return their paths. The
    scale page runs the real Keras block (TensorFlow loads here)."""
    from .block_page import block_page
    from .scale_page import scale_page  # defers matplotlib and the Keras block
    from .why_scale_page import why_scale_page

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in (("scale_explorer.html", scale_page),
                       ("broadcast_playground.html", broadcast_page),
                       ("why_scale_explorer.html", why_scale_page),
                       ("block_explorer.html", block_page)):
        (outdir / name).write_text(make(), encoding="utf-8")
        written.append(outdir / name)
    return written


def write_course_pages(outdir: Path, notebooks: Path | None = None) -> list[Path]:
    """Write :data:`COURSE_PAGES` and :data:`ANSWERS_PAGE` into ``outdir`` (the answers and
    the questions' answers are computed now: TensorFlow loads)."""
    from .questions_page import questions_page
    from .worksheet_page import answers_page, worksheet_page

    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in (("questions.html", questions_page), ("worksheet.html", worksheet_page),
                       (ANSWERS_PAGE, answers_page)):
        (outdir / name).write_text(make(notebooks), encoding="utf-8")
        written.append(outdir / name)
    return written


def build(outdir: Path, notebooks: Path | None = None, only: list[str] | None = None,
          timeout: int = 180, apps: bool = False, executed: dict | None = None) -> list[Page]:
    """Execute and export the notebooks into ``outdir`` with an ``index.html``.

    Args:
        outdir: the folder to write (created if missing).
        notebooks: the folder of ``*.ipynb`` files (default: :func:`default_notebooks`).
        only: file names or stems to export (default: all, in name order).
        timeout: seconds allowed per cell.
        apps: also write the static apps (:data:`APP_PAGES`, :func:`write_apps`).
        executed: notebooks already executed elsewhere, ``{file name: (notebook, seconds)}``
            (the test session runs each notebook once for all its tests): exported as given.
    """
    import nbformat

    notebooks = Path(notebooks) if notebooks is not None else default_notebooks()
    if not notebooks.is_dir():
        raise ValueError(f"notebooks: got {str(notebooks)!r}; expected a folder of .ipynb files")
    paths = sorted(notebooks.glob("*.ipynb"))
    if only:
        wanted = {Path(name).stem for name in only}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            raise ValueError(f"only: got {sorted(unknown)}; expected names from "
                             f"{[p.name for p in paths]}")
        paths = [p for p in paths if p.stem in wanted]
    if not paths:
        raise ValueError(f"notebooks: {str(notebooks)!r} holds no .ipynb files")
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    titles = [(f"{p.stem}.html", title_of(nbformat.read(p, as_version=4), p.stem))
              for p in paths]
    pages = []
    for i, path in enumerate(paths):
        if executed is not None and path.name in executed:
            nb, seconds = executed[path.name]
        else:
            start = time.perf_counter()
            nb = execute(path, timeout=timeout)
            seconds = time.perf_counter() - start
        figures = count_figures(nb)
        page_html = export(nb, nav=_nav(titles, i), notebook=path.stem)
        target = outdir / titles[i][0]
        target.write_text(page_html, encoding="utf-8")
        pages.append(Page(path, target, titles[i][1], round(seconds, 2), figures,
                          learning_goals(nb)))
    if apps:
        write_apps(outdir)
        write_course_pages(outdir, notebooks)
    (outdir / "index.html").write_text(index_page(pages, apps), encoding="utf-8")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explainer.site.build",
                                     description="Execute every notebook and write static "
                                                 "HTML pages with an index.html.")
    parser.add_argument("outdir", type=Path, help="folder to write, e.g. build/html")
    parser.add_argument("--notebooks", type=Path, default=None,
                        help="folder of notebooks (default: ./notebooks)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help="export only this notebook (repeatable)")
    parser.add_argument("--timeout", type=int, default=180, help="seconds per cell")
    parser.add_argument("--no-apps", dest="apps", action="store_false",
                        help=f"skip the static apps ({', '.join(APP_PAGES)})")
    args = parser.parse_args(argv)
    try:
        pages = build(args.outdir, args.notebooks, args.only, args.timeout, args.apps)
    except ValueError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 - one readable line for a failing notebook
        print(f"{parser.prog}: a notebook failed: {type(err).__name__}: "
              f"{str(err).strip()[-2000:]}", file=sys.stderr)
        return 1
    for page in pages:
        print(f"{page.html}  {page.seconds:6.1f} s  {page.figures} figures  {page.title}")
    if args.apps:
        for name, (text, _) in {**APP_PAGES, **COURSE_PAGES}.items():
            print(f"{args.outdir / name}  {text.lower()}")
        print(f"{args.outdir / ANSWERS_PAGE}  the answers, for the teacher (no page links it)")
    print(f"{args.outdir / 'index.html'}  total {sum(p.seconds for p in pages):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
