"""The site's index: the lessons in order, the apps, the questions and the worksheet, and what
each route through the course needs (:data:`ROUTES`)."""

from __future__ import annotations

import html

from .lessons import Page, _inline

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
