"""``make classroom`` in Chromium: a closed tab's kernel is culled within the cull window while
a second, open tab keeps answering; the page asks nothing from a CDN.

The server is started as ``make classroom PORT=<free port>`` with a short cull time
(``VOILA_ARGS``) so the test takes seconds; the real setting is in ``voila.json``.
"""

from __future__ import annotations

import re
import sys
import time

import pytest
from browser_support import ROOT, _serve

CULL_IDLE_S, CULL_INTERVAL_S = 6, 2
APP = "scale_explorer"
LOAD_TIMEOUT_MS = 240_000


def _kernel_ids(server) -> set[str]:
    """Kernel ids of the ipykernel processes the server started (from their cmdline)."""
    import psutil

    found = set()
    for proc in psutil.Process(server.process.pid).children(recursive=True):
        try:
            hit = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(proc.cmdline()))
        except psutil.NoSuchProcess:
            continue
        if hit:
            found.add(hit.group(1))
    return found


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    def argv_for(port: int) -> list[str]:
        args = (f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_S} "
                f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}")
        return ["make", "--no-print-directory", "-o", ".venv/.installed", "classroom",
                f"PORT={port}", "POOL=0", f"VOILA_ARGS={args}", f"PYTHON={sys.executable}"]

    with _serve(argv_for, tmp_path_factory.mktemp("classroom"), "", "/", ROOT) as server:
        yield server


def _open_app(browser, url: str, requests: list[str]):
    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.route("**/*", route)
    page = context.new_page()
    page.goto(f"{url}/voila/render/{APP}.ipynb", timeout=LOAD_TIMEOUT_MS)
    page.locator(".scale-slider .noUi-handle").first.wait_for(state="visible",
                                                               timeout=LOAD_TIMEOUT_MS)
    kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content()).group(1)
    return context, page, kernel


def test_closed_tab_is_culled_open_tab_answers(browser, classroom):
    from playwright.sync_api import expect

    requests: list[str] = []
    closing, _, closed_kernel = _open_app(browser, classroom.url, requests)
    staying, page, open_kernel = _open_app(browser, classroom.url, requests)
    try:
        assert {closed_kernel, open_kernel} <= _kernel_ids(classroom)
        closing.close()
        window = CULL_IDLE_S + CULL_INTERVAL_S + 30  # generous: 2 shared cores
        deadline = time.monotonic() + window
        while closed_kernel in _kernel_ids(classroom) and time.monotonic() < deadline:
            time.sleep(0.5)
        alive = _kernel_ids(classroom)
        assert closed_kernel not in alive, f"closed tab's kernel alive after {window} s"
        assert open_kernel in alive, "the open tab's kernel was culled"
        # the open tab, idle all this time, still answers a slider move
        readout = page.locator(".scale-slider .widget-readout").first
        finding = page.locator(".scale-finding").first
        start = readout.inner_text().strip()
        page.locator(".scale-slider .noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        moved = f"{float(start) + 0.01:.2f}"
        expect(readout).to_have_text(moved, timeout=30_000)
        expect(finding).to_contain_text(f"s\u00a0=\u00a0{moved}", timeout=30_000)
    finally:
        staying.close()
    external = [u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1",
                                                           "data:", "blob:"))]
    assert external == [], f"the classroom page asked the network for {external[:3]}"

