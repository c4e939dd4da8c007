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
from pathlib import Path

from ..exercises.core import REGISTRY
from ..exercises.render import notebook_exercises
from .block_page import block_page
from .broadcast_page import broadcast_page
from .compact import compact_page
from .exercise_page import EXERCISE_CSS, exercise_data, exercise_form, grader_script
from .freeze import count_figures, figures_with_alt, freeze_widgets
from .index_page import ANSWERS_PAGE, APP_PAGES, COURSE_PAGES, ROUTES, index_page
from .lessons import PACKAGE_NOTEBOOKS, Page, default_notebooks, learning_goals, title_of
from .page_style import NOTEBOOK_PAGE_CSS
from .questions_page import questions_page
from .why_scale_page import why_scale_page
from .worksheet_page import answers_page, worksheet_page

PAGE_BYTES = 2**20  # a page a class downloads at once: at most 1 MB
PAGE_MARGIN = 65_536  # for the exercise grader and the styles added below

__all__ = ["ANSWERS_PAGE", "APP_PAGES", "COURSE_PAGES", "PACKAGE_NOTEBOOKS", "ROUTES", "Page",
           "build", "default_notebooks", "export", "index_page", "learning_goals", "main",
           "title_of", "write_apps", "write_course_pages"]

# TensorFlow's C++ start-up lines (oneDNN, CUDA) go to the build's stderr, not onto the page
KERNEL_QUIET = "--IPKernelApp.capture_fd_output=False"
EMPTY_SCRIPT = re.compile(r'<script src="">\s*</script>')
NOTEBOOK_LINK = re.compile(r'href="([A-Za-z0-9_]+)\.ipynb"')


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

    exercises_as_questions(nb)
    freeze_widgets(nb)
    figures_with_alt(nb)
    exporter = HTMLExporter(template_name="lab", mathjax_url="", require_js_url="",
                            mermaid_js_url="", mermaid_layout_elk_js_url="",
                            embed_images=True)
    body, _ = exporter.from_notebook_node(nb)
    body = EMPTY_SCRIPT.sub("", body)
    body = NOTEBOOK_LINK.sub(r'href="\1.html"', body)  # a lesson's link to a lesson: its page
    body = compact_page(body)  # the same figures in fewer bytes
    if len(body.encode()) > PAGE_BYTES - PAGE_MARGIN:  # still over: 256 colours a figure
        body = compact_page(body, colours=256)
    head = NOTEBOOK_PAGE_CSS
    if notebook and notebook_exercises(notebook):
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


def write_apps(outdir: Path) -> list[Path]:
    """Write the static apps of :data:`APP_PAGES` into ``outdir``; return their paths. The
    scale page runs the real Keras block (TensorFlow loads here)."""
    from .scale_page import scale_page  # defers matplotlib and the Keras block

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
