"""Fixtures for the browser tests: Chromium through Playwright, JupyterLab, Voilà, screenshots.

House rule: without Chromium (or Playwright) these tests skip with the reason, except under CI
(``CI=true``), where a missing browser is a failure. A failing test saves a full-page
screenshot to ``test-artifacts/<test name>.png`` (every test does with
``BROWSER_TEST_SCREENSHOTS=all``, to look at the pages).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    NOTEBOOKS,
    ROOT,
    jupyterlab,
    voila,
)

ACTION_TIMEOUT_MS = 60_000  # every Playwright wait is bounded by this unless it says otherwise


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        return f"the playwright Python package is not importable ({err})"
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        return (f"Debian's Chromium is not installed at {CHROMIUM} "
                "(apt-get install chromium; never `playwright install`)")
    return None


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    ours = [item for item in items if here in Path(str(item.fspath)).parents]
    for item in ours:
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session: a skip where it is missing, a failure on CI."""
    reason = _missing_browser()
    if reason and _on_ci():
        pytest.fail(f"CI=true but the browser tests cannot run: {reason}")
    if reason:
        pytest.skip(f"browser tests need Chromium: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _loopback_only(route) -> None:
    url = route.request.url
    if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "file:")):
        route.continue_()
    else:  # CDN fonts, news, update checks: the classroom may be offline
        route.abort()


@pytest.fixture
def page(browser, request) -> Iterator:
    """A fresh page at projector size that may only talk to loopback; screenshot on failure."""
    context = browser.new_context(viewport={"width": 1366, "height": 900},
                                  device_scale_factor=1)
    context.route("**/*", _loopback_only)
    pg = context.new_page()
    pg.set_default_timeout(ACTION_TIMEOUT_MS)
    console: list[str] = []
    pg.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    pg.console_messages = console
    try:
        yield pg
    finally:
        report = getattr(request.node, "report_call", None)
        failed = report is not None and report.failed
        if failed or os.environ.get("BROWSER_TEST_SCREENSHOTS") == "all":
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            try:
                pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                (ARTIFACTS / f"{name}.console.txt").write_text("\n".join(console))
            except Exception as err:  # the page may be gone; the test's own error matters more
                print(f"screenshot failed: {err}")
        context.close()


# The served notebook 03 ends with its slider cell, 04 with its playground cell: the browser
# tests Run All (JupyterLab) or render (Voila, which runs every cell first) and then drive the
# widget; the later sections (03: depth, the nets' schedule, folding, schemes; 04: dtypes and
# the exercises) would only add their run time, and test_notebooks runs them all.
SERVED_THROUGH = {"03_residual_scaling.ipynb": "explainer.widgets.scale_explorer(",
                  "04_broadcasting.ipynb": "explainer.widgets.broadcast_playground("}


@pytest.fixture(scope="session")
def served_notebooks(tmp_path_factory) -> Path:
    """A copy of notebooks/ that the servers serve (autosave never touches the repository),
    each notebook of :data:`SERVED_THROUGH` cut after the cell that holds its marker."""
    import nbformat

    folder = tmp_path_factory.mktemp("served-notebooks")
    for path in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(path, folder / path.name)
    for name, marker in SERVED_THROUGH.items():
        nb = nbformat.read(folder / name, as_version=4)
        last = next(i for i, c in enumerate(nb.cells) if marker in c.source)
        nb.cells = nb.cells[:last + 1]
        nbformat.write(nb, folder / name)
    return folder


@pytest.fixture(scope="module")  # one module uses it: the server and its kernel stop after it
def lab_server(served_notebooks, tmp_path_factory):
    with jupyterlab(served_notebooks, tmp_path_factory.mktemp("lab")) as server:
        yield server


@pytest.fixture(scope="session")
def voila_server(served_notebooks, tmp_path_factory):
    with voila(served_notebooks, tmp_path_factory.mktemp("voila")) as server:
        yield server


@pytest.fixture(scope="session")
def static_site(tmp_path_factory, notebook_runs):
    """The static site of every notebook (``explainer.site.build``), built
    once for the session from the session's notebook runs (each notebook executed once):
    ``(folder, {notebook stem: Page})``."""
    from explainer.site import build as site

    executed = {}
    if NOTEBOOKS.resolve() == (ROOT / "notebooks").resolve():  # the runs are of these
        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            run = notebook_runs.get(path.name)
            assert run.error is None, run.error
            executed[path.name] = (run.stored_cells(), run.seconds)
    outdir = tmp_path_factory.mktemp("html")
    pages = site.build(outdir, NOTEBOOKS, executed=executed)
    return outdir, {p.notebook.stem: p for p in pages}
