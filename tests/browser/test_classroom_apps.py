"""``make classroom`` as a teacher runs it (loopback, a small pool), one server for the module:

- the terminal shows the URL, then a flushed ``ready: N seats (...)`` line once every seat
  answers; a seat whose kernel dies is replaced and announced ready again;
- every seat answers a student (all at once), and the used seats' refills start
  ``refill_spacing`` apart, announced by ``refilled:`` lines;
- it exposes the apps only: no REST API for kernels or files, and a kernel's websocket takes
  widget messages but runs no code;
- in Chromium: both apps pass axe-core (no serious or critical violation), a keyboard alone
  walks each app, a closed tab's kernel is culled while an open one keeps answering, and
  the pages ask nothing from the network.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from accessibility import axe_violations
from browser_support import ROOT, start_classroom, stop_group

# The console's shared-module version warnings (webpack module federation: an extension asks
# for a shared package in a range compiled into its remoteEntry.*.js), in their two forms:
# "Unsatisfied version 4.2.5 from _JUPYTERLAB.CORE_OUTPUT of shared singleton module
# @jupyterlab/rendermime (required ^4.5.10)", and "No satisfying version (^4.5.10) of shared
# module @jupyterlab/outputarea found in shared scope default. Available versions: 4.2.5 ..."
UNSATISFIED = re.compile(r"Unsatisfied version (\S+) from \S+ of shared singleton module "
                         r"(\S+) \(required (\S+)\)")
NO_SATISFYING = re.compile(r"No satisfying version \((\S+)\) of shared module (\S+) found in "
                           r"shared scope \S+\s+Available versions: (\S+)")
# a compiled consume: ("default","@jupyterlab/rendermime",!1,[1,4,5,10] is ^4.5.10
CONSUME = re.compile(r'"default","(@[^"]+)",(?:!?[01],)?\[1,(\d+),(\d+),(\d+)\]')

POOL, SPACING_S, CULL_IDLE_S, CULL_INTERVAL_S = 2, 2.0, 6, 2
# a page must connect to its kernel within CULL_IDLE_S of the render (Chromium under load:
# seconds), or the kernel is culled before it is used
LOAD_MS = 120_000
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    args = (f"--VoilaKernelManager.fill_delay=0 "
            f"--ClassroomKernelManager.refill_spacing={SPACING_S} "
            f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_S} "
            f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}")
    room = start_classroom(tmp_path_factory.mktemp("classroom"), f"POOL={POOL}",
                           "APP=scale_explorer", f"VOILA_ARGS={args}")
    try:
        room.wait_for_line(r"^ready: ", timeout=240)
        yield room
    finally:
        stop_group(room.process)


def _render(url: str, app: str = "scale_explorer") -> str:
    with urllib.request.urlopen(f"{url}/voila/render/{app}.ipynb", timeout=120) as page:
        assert page.status == 200
        return page.read().decode()


def test_the_terminal_shows_the_url_then_the_seats(classroom):
    out = classroom.stdout()
    assert f"{classroom.url}/voila/render/scale_explorer.ipynb" in out
    assert "this machine only" in out  # loopback: no URL for the room, no QR code
    ready = classroom.wait_for_line(r"^ready: ", timeout=1)
    assert re.match(rf"ready: {POOL} seats \(scale_explorer {POOL}\) holding \d+\.\d GB, "
                    r"\d+ s after the server started$", ready), ready
    assert len(classroom.kernels()) == POOL


def test_a_dead_seat_is_replaced(classroom):
    seen = len(classroom.lines)
    victim = classroom.kernels()[0]
    victim.kill()
    classroom.wait_for_line(r"^replacing a seat of scale_explorer", timeout=60, after=seen)
    classroom.wait_for_line(rf"^ready: {POOL} seats", timeout=120, after=seen)
    alive = classroom.kernels()
    assert len(alive) == POOL and victim.pid not in {k.pid for k in alive}


def test_every_seat_answers_and_refills_are_spaced(classroom):
    seen = len(classroom.lines)
    before = {k.pid for k in classroom.kernels()}
    with ThreadPoolExecutor(POOL) as students:  # the whole pool taken at once
        pages = list(students.map(lambda _: _render(classroom.url), range(POOL)))
    assert all("application/vnd.jupyter.widget-view+json" in p for p in pages)
    log = classroom.log.read_text()
    assert log.count("Using pre-heated kernel") >= POOL
    classroom.wait_for_line(r"^refilled: 1 seat \(scale_explorer 1\)", timeout=120, after=seen)
    classroom.wait_for_line(rf"^ready: {POOL} seats", timeout=120, after=seen)
    refills = sorted(k.create_time() for k in classroom.kernels() if k.pid not in before)
    assert len(refills) == POOL, refills
    assert refills[1] - refills[0] >= SPACING_S - 0.5  # asked for together, started apart


def _kernel_socket(url: str, kernel_id: str):
    """A kernel websocket as Voilà's page opens it: the v1 subprotocol (the server refuses
    a socket without it: tests/test_classroom_guards.py)."""
    from websockets.sync.client import connect

    ws = url.replace("http://", "ws://")
    return connect(f"{ws}/api/kernels/{kernel_id}/channels?session_id={uuid.uuid4()}",
                   subprotocols=["v1.kernel.websocket.jupyter.org"], open_timeout=30)


def _message(msg_type: str, content: dict) -> bytes:
    """A shell message in the v1 protocol's frame: the part count, the offsets, the parts."""
    header = {"msg_id": uuid.uuid4().hex, "username": "student", "session": uuid.uuid4().hex,
              "msg_type": msg_type, "version": "5.3", "date": "2026-01-01T00:00:00Z"}
    parts = [b"shell"] + [json.dumps(part).encode() for part in (header, {}, {}, content)]
    offsets = [8 * (len(parts) + 2)]
    for part in parts:
        offsets.append(offsets[-1] + len(part))
    return b"".join(n.to_bytes(8, "little") for n in [len(parts) + 1, *offsets]) + \
        b"".join(parts)


def _msg_type(frame: bytes) -> str:
    """The message type in a v1 frame's header."""
    offsets = [int.from_bytes(frame[8 * i:8 * (i + 1)], "little") for i in (2, 3)]
    return json.loads(frame[offsets[0]:offsets[1]])["msg_type"]


def test_it_serves_apps_and_runs_no_code(classroom, tmp_path):
    for method, path in (("POST", "/api/kernels"), ("GET", "/api/kernels"),
                         ("GET", "/api/contents"), ("GET", "/api/terminals"),
                         ("GET", "/voila/files/scale_explorer.ipynb"),
                         ("GET", "/lab"), ("GET", "/tree")):
        request = urllib.request.Request(classroom.url + path, method=method, data=b"" if
                                         method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code in (403, 404, 405), (method, path, refused.value.code)
    page = _render(classroom.url)
    kernel_id = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page).group(1)
    marker = tmp_path / "ran"
    with _kernel_socket(classroom.url, kernel_id) as socket:
        socket.send(_message("execute_request", {
            "code": f"open({str(marker)!r}, 'w').write('code ran')", "silent": False,
            "store_history": False, "user_expressions": {}, "allow_stdin": False,
            "stop_on_error": True}))
        socket.send(_message("kernel_info_request", {}))
        replies = []
        deadline = time.monotonic() + 30
        while "kernel_info_reply" not in replies and time.monotonic() < deadline:
            replies.append(_msg_type(socket.recv(timeout=30)))
    assert "kernel_info_reply" in replies  # the socket works: allowed messages get answers
    assert "execute_reply" not in replies and "execute_input" not in replies, replies
    time.sleep(1)
    assert not marker.exists(), "a student's websocket ran code in the kernel"


def _tab_to(page, selector: str, presses: int = 40):
    """Press Tab until the focused element matches ``selector``; return its locator."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return page.locator(":focus")
    raise AssertionError(f"Tab never reached {selector}")


def _open(browser, url: str, app: str, requests: list[str], console: list[str] | None = None):
    def route(r):
        requests.append(r.request.url)
        if r.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            r.continue_()
        else:
            r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    if console is not None:
        page.on("console", lambda msg: console.append(msg.text))
    page.goto(f"{url}/voila/render/{app}.ipynb", timeout=LOAD_MS)
    return context, page


def test_scale_app_accessible_and_keyboard_only(browser, classroom):
    from playwright.sync_api import expect

    requests: list[str] = []
    context, page = _open(browser, classroom.url, "scale_explorer", requests)
    try:
        handle = page.locator(".scale-slider .noUi-handle").first
        handle.wait_for(state="visible", timeout=LOAD_MS)
        expect(handle).to_have_attribute("aria-label", "scale s")
        image = page.locator("img.scale-plot").first
        expect(image).to_have_attribute("title", re.compile(r"residual ratio \d+\.\d % of the "
                                                            r"shortcut"))
        assert axe_violations(page) == []
        readout = page.locator(".scale-slider .widget-readout").first
        finding = page.locator(".scale-finding").first
        _tab_to(page, ".noUi-handle")
        page.keyboard.press("ArrowRight")
        expect(readout).to_have_text("0.18")
        expect(finding).to_contain_text("s\u00a0=\u00a00.18")
        expect(image).to_have_attribute("title", re.compile(r"at s = 0\.18"))
        _tab_to(page, ".scale-variant button:not(.mod-active)")
        page.keyboard.press("Space")
        expect(finding).to_contain_text("block35 v2")
        _tab_to(page, ".scale-text input")
        page.keyboard.type("0.5")
        page.keyboard.press("Enter")
        expect(readout).to_have_text("0.50")
        expect(finding).to_contain_text("block35 v2: at s\u00a0=\u00a00.50")
    finally:
        context.close()
    assert [u for u in requests if not u.startswith(("http://127.0.0.1", "ws://127.0.0.1",
                                                     "data:", "blob:"))] == []


def test_the_console_warns_only_of_voilas_own_versions(browser, classroom):
    """Every version warning in the console of an app's page (``Unsatisfied version 4.2.5 ...
    (required ^4.5.10)``) is one that Voilà's own widget manager declares, and the README's
    Classroom section names each: the project's widget pins (jupyterlab_widgets) ask for
    nothing newer than the JupyterLab packages Voilà's page provides. With
    jupyterlab_widgets 3.0.17 (ipywidgets 8.1.9) its extension asked for ^4.6.2 (9 lines)."""
    from importlib.metadata import version

    console: list[str] = []
    context, page = _open(browser, classroom.url, "scale_explorer", [], console)
    try:
        page.locator(".scale-slider .noUi-handle").first.wait_for(state="visible",
                                                                   timeout=LOAD_MS)
    finally:
        context.close()
    found = _mismatches(console)
    voilas = _voila_widget_manager_ranges()
    ours = sorted(f"{module} {provided} (required {required})"
                  for module, provided, required in found if (module, required) not in voilas)
    assert not ours, ("the project's widget front end asks for packages newer than Voilà's "
                      f"page provides: {ours}")
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Classroom"):readme.index("## Requirements")]
    if found:
        count = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen")[len(found)]
        assert f"shows {count} warnings" in section and f"Voilà {version('voila')}" in section
        for _, provided, required in found:
            assert provided in section and f"`{required}`" in section, (provided, required)
    else:  # Voilà came aligned: the README must stop explaining warnings that are gone
        assert "Unsatisfied version" not in section


def _mismatches(console: list[str]) -> set[tuple[str, str, str]]:
    """``(module, provided, required)`` of every version warning in ``console``; a line that
    names a version problem in another form fails, so that none goes unseen."""
    found = set()
    for line in console:
        if hit := UNSATISFIED.search(line):
            found.add((hit.group(2), hit.group(1), hit.group(3)))
        elif hit := NO_SATISFYING.search(line):
            found.add((hit.group(2), hit.group(3), hit.group(1)))
        else:
            assert "satisf" not in line.lower(), f"a version warning in an unknown form: {line}"
    return found


def _voila_widget_manager_ranges() -> set[tuple[str, str]]:
    """``(module, range)`` for every shared package Voilà's own widget manager
    (``@voila-dashboards/widgets-manager8``, in Voilà's wheel) asks for, read from its
    installed bundle, as the page the server sends loads it."""
    from jupyter_core.paths import jupyter_path

    bundles = [path for folder in jupyter_path("voila", "labextensions")
               for path in Path(folder).glob(
                   "@voila-dashboards/widgets-manager8/static/remoteEntry.*.js")]
    assert bundles, "Voilà's widgets-manager8 bundle is not installed"
    return {(name, f"^{major}.{minor}.{patch}")
            for name, major, minor, patch in CONSUME.findall(bundles[0].read_text())}


def test_broadcast_app_accessible_and_keyboard_only(browser, classroom):
    from playwright.sync_api import expect

    import explainer

    context, page = _open(browser, classroom.url, "broadcast_playground", [])
    try:
        result = page.locator(".broadcast-result textarea").first
        result.wait_for(state="attached", timeout=LOAD_MS)
        diagram = page.locator("img.broadcast-diagram").first
        expect(diagram).to_have_attribute("title", re.compile("result \\(2, 35, 35, 256\\)"))
        assert axe_violations(page) == []
        _tab_to(page, ".shape-b input")
        page.keyboard.press("Control+A")
        page.keyboard.type("(3,)")
        page.keyboard.press("Enter")
        expected = explainer.explain_broadcast_numpy("(N, H, W, C)", "(3,)", N=2, H=35, W=35,
                                                     C=256)
        expect(page.locator(".broadcast-error").first).to_contain_text(expected.reason)
        expect(diagram).to_have_attribute("title", re.compile("incompatible"))
        _tab_to(page, ".broadcast-preset select")
        page.keyboard.press("ArrowDown")  # a closed <select> takes the next entry
        expect(result).to_have_value(re.compile(r"=> result shape \(2, 35, 35, 256\)"))
    finally:
        context.close()


def test_closed_tab_is_culled_open_tab_answers(browser, classroom):
    from playwright.sync_api import expect

    def opened():
        context, page = _open(browser, classroom.url, "scale_explorer", [])
        page.locator(".scale-slider .noUi-handle").first.wait_for(state="visible",
                                                                   timeout=LOAD_MS)
        kernel = re.search(r'"kernelId":\s*"([0-9a-f-]{36})"', page.content()).group(1)
        return context, page, kernel

    def kernel_ids() -> set[str]:
        found = set()
        for proc in classroom.kernels():
            hit = re.search(r"kernel-([0-9a-f-]{36})\.json", " ".join(proc.cmdline()))
            if hit:
                found.add(hit.group(1))
        return found

    closing, _, closed_kernel = opened()
    staying, page, open_kernel = opened()
    try:
        assert {closed_kernel, open_kernel} <= kernel_ids()
        closing.close()
        deadline = time.monotonic() + CULL_IDLE_S + CULL_INTERVAL_S + 30  # 2 shared cores
        while closed_kernel in kernel_ids() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert closed_kernel not in kernel_ids(), "the closed tab's kernel is still alive"
        assert open_kernel in kernel_ids(), "the open tab's kernel was culled"
        readout = page.locator(".scale-slider .widget-readout").first
        start = float(readout.inner_text().strip())
        page.locator(".scale-slider .noUi-handle").first.focus()
        page.keyboard.press("ArrowRight")
        expect(readout).to_have_text(f"{start + 0.01:.2f}")
    finally:
        staying.close()
