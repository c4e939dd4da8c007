"""The static classroom's own pages, built once per test session (the scale page runs the
real Keras block at every slider position: seconds, so every test file shares one build):
``index.html`` with the apps' links, ``scale_explorer.html`` and
``broadcast_playground.html``. The lessons' pages come from the site build of the browser
tests (tests/browser/test_static_html.py)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from explainer.site.build import index_page, write_apps, write_course_pages


@cache
def app_site() -> Path:
    """A folder holding the index (no lessons), the static apps and the course's pages (the
    questions, the worksheet, the answers)."""
    folder = Path(tempfile.mkdtemp(prefix="classroom-pages-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    write_apps(folder)
    write_course_pages(folder)
    (folder / "index.html").write_text(index_page([], apps=True), encoding="utf-8")
    return folder
