"""The static classroom in Chromium, served over loopback by the class's own static server
(``explainer.classroom.static_server``), with the network cut off:

- ``window.broadcastShape`` of the static playground agrees with numpy on 1,200 random pairs
  (ranks 0-6, sizes from {1, 2, 3, 35, 256}, in every shape notation) and with the Python
  explainer's words, axis by axis; malformed text is refused as the Python parser refuses it;
- every page is at most 1 MB, loads nothing from elsewhere and passes axe-core (no serious or
  critical violation); the index links each page by a relative ``….html``;
- the keyboard alone works both apps (the scale page's frames are the real block's)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from accessibility import axe_violations
from browser_support import MAX_PAGE_BYTES
from classroom_pages import app_site

from explainer.broadcasting.rule import explain_broadcast_numpy
from explainer.broadcasting.shapes import parse_shape
from explainer.classroom.static_server import make_server, serve_in_thread
from explainer.core.lesson import lesson_setup
from explainer.site.build import ANSWERS_PAGE, APP_PAGES, COURSE_PAGES

# every page `make classroom-static` serves beside the lessons
PAGES = ("index.html", *APP_PAGES, *COURSE_PAGES, ANSWERS_PAGE)
SIZES = (1, 2, 3, 35, 256)
PAIRS = 1200
MALFORMED = ["", " ", "(", ")", "(2, 35", "2, 35)", "[2, 35)", "((2,))", "(2)(3)", "2,,3",
             "(,)", ",", "(2, , 3)", "(-1,)", "-1", "1.5", "(2.0, 3)", "2x", "x3", "2 x x 3",
             "N", "(N, 256)", "(2, C)", "abc", "0x", "1e3", "(2; 3)", "2 3", "(2 3)",
             "99999999999999999999999", "(4611686018427387905,)", "(2,35]", "[", "()()",
             "(2,)" + ",", "２", "(\u0663,)", "(2,\u00a0", "'(2, 3)'", "{2, 3}", "<2>"]


@pytest.fixture(scope="module")
def site():
    """The apps' pages and the index, served by the static classroom server on loopback."""
    server = make_server(app_site(), "127.0.0.1", 0)
    serve_in_thread(server)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _remote(page) -> list[str]:
    asked: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:"))
            else asked.append(r.url))
    return asked


def _text(shape: tuple[int, ...], rng: random.Random) -> str:
    """Shape text in one of the notations the parser reads."""
    style = rng.randrange(4)
    if style == 1 and shape:
        return "[" + ",".join(map(str, shape)) + "]"
    if style == 2 and shape:
        return " x ".join(map(str, shape)) if rng.random() < 0.5 else "x".join(map(str, shape))
    if style == 3 and len(shape) == 1:
        return f" {shape[0]} "
    return str(shape)


def _pairs(n: int) -> list[tuple[str, str]]:
    rng = random.Random(21)
    pairs = []
    for i in range(n):
        a = tuple(rng.choice(SIZES) for _ in range(rng.randint(0, 6)))
        if i % 2:  # half drawn apart (mostly incompatible), half derived (mostly compatible)
            b = tuple(rng.choice(SIZES) for _ in range(rng.randint(0, 6)))
        else:
            b = tuple(1 if rng.random() < 0.4 else d for d in a[rng.randint(0, len(a)):])
            b = (rng.choice(SIZES),) * rng.randint(0, 6 - len(b)) + b if rng.random() < 0.3 \
                else b
        pairs.append((_text(a, rng), _text(b, rng)))
    return pairs


def _numpy(a: str, b: str) -> str | None:
    try:
        return str(tuple(np.broadcast_shapes(parse_shape(a), parse_shape(b))))
    except ValueError:
        return None


def test_broadcast_shape_agrees_with_numpy_and_the_explainer(page, site):
    pairs = _pairs(PAIRS)
    bad = [(m, "(256,)") for m in MALFORMED] + [("(2, 35)", m) for m in MALFORMED]
    page.goto(f"{site}/broadcast_playground.html")
    got = page.evaluate("""pairs => pairs.map(([a, b]) => { const e = broadcastExplain(a, b);
        return {shape: broadcastShape(a, b), axes: e.axes.map(x => x.text),
                reason: e.reason || null}; })""", pairs + bad)
    compatible = 0
    for (a, b), js in zip(pairs, got[:len(pairs)], strict=True):
        expected = explain_broadcast_numpy(a, b)
        shape = _numpy(a, b)
        assert js["axes"] == [x.text for x in expected.axes], (a, b, js)
        if shape is not None:
            compatible += 1
            assert js["shape"] == shape == str(expected.result_shape), (a, b, js)
        else:
            assert js["shape"] == f"incompatible: {expected.reason}", (a, b, js)
            assert js["reason"] == expected.reason
    assert 0.3 * PAIRS < compatible < 0.8 * PAIRS  # both outcomes well covered
    for (a, b), js in zip(bad, got[len(pairs):], strict=True):
        with pytest.raises(ValueError):
            explain_broadcast_numpy(a, b)  # Python refuses it too
        assert not js["shape"].startswith("("), (a, b, js)
        assert js["shape"].startswith(("a: ", "b: ")), (a, b, js)
    assert page.evaluate("broadcastShape('(2,35,35,256)', '(3,)')").startswith("incompatible")


@pytest.mark.parametrize("name", PAGES)
def test_page_is_small_offline_and_accessible(page, site, name):
    remote = _remote(page)
    page.goto(f"{site}/{name}")
    page.wait_for_load_state("load")
    size = page.evaluate("new TextEncoder().encode(document.documentElement.outerHTML).length")
    assert size <= MAX_PAGE_BYTES, f"{name}: {size:,} bytes"
    assert (app_site() / name).stat().st_size <= MAX_PAGE_BYTES
    assert axe_violations(page) == []
    assert remote == []


def test_index_links_each_page_relatively(page, site):
    page.goto(f"{site}/")
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    assert set(hrefs) >= {"scale_explorer.html", "broadcast_playground.html"}
    assert all(h.endswith(".html") and "/" not in h for h in hrefs), hrefs
    page.locator("a.app-link[href='broadcast_playground.html']").click()
    page.wait_for_load_state("load")
    assert page.url == f"{site}/broadcast_playground.html"


def _expected(variant: str, scale: float) -> dict:
    from explainer.scaling.sweep import scale_sweep

    setup = lesson_setup(variant)
    return scale_sweep(setup.block, setup.x, [scale]).at(scale)


def test_scale_page_by_keyboard_shows_the_real_blocks_frames(page, site):
    from playwright.sync_api import expect

    page.goto(f"{site}/scale_explorer.html")
    expect(page.locator("#readout")).to_have_text("0.17")
    page.keyboard.press("Tab")  # the back link
    page.keyboard.press("Tab")  # the slider
    assert page.evaluate("document.activeElement.id") == "scale"
    page.keyboard.press("ArrowRight")
    expect(page.locator("#readout")).to_have_text("0.18")
    v1 = _expected("v1", 0.18)
    expect(page.locator("#finding")).to_contain_text(
        f"at s = 0.18 the residual is {100 * v1['residual_ratio']:.1f} % of the shortcut")
    expect(page.locator("#numbers")).to_contain_text(f"{v1['residual_ratio']:.4f}")
    expect(page.locator("#figure")).to_have_attribute(
        "alt", f"{_alt_start('v1')} The marker: block35 v1: at s = 0.18 the residual is "
        f"{100 * v1['residual_ratio']:.1f} % of the shortcut, the output moves "
        f"{100 * v1['output_change']:.1f} %.")
    marker_018 = page.locator("#line").evaluate("e => parseFloat(e.style.left)")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#readout")).to_have_text("0.19")
    assert page.locator("#line").evaluate("e => parseFloat(e.style.left)") > marker_018
    page.keyboard.press("Tab")  # the variant radios: arrows pick v2
    page.keyboard.press("ArrowRight")
    v2 = _expected("v2", 0.19)
    expect(page.locator("#finding")).to_contain_text("block35 v2: at s = 0.19")
    expect(page.locator("#numbers")).to_contain_text(f"{v2['residual_ratio']:.4f}")
    assert page.evaluate("document.body.dataset.frame") == "v2:0.19"


def _alt_start(variant: str) -> str:
    from explainer.scaling.findings import curves_alt
    from explainer.scaling.numpy_sweep import SLIDER_SCALES
    from explainer.scaling.sweep import scale_sweep

    setup = lesson_setup(variant)
    return curves_alt(scale_sweep(setup.block, setup.x, SLIDER_SCALES))


def test_broadcast_page_by_keyboard(page, site):
    from playwright.sync_api import expect

    page.goto(f"{site}/broadcast_playground.html")
    result = page.locator("#result")
    expect(result).to_have_text("a * b has shape (2, 35, 35, 256)")
    page.keyboard.press("Tab")  # the back link
    page.keyboard.press("Tab")  # the catalogue
    assert page.evaluate("document.activeElement.id") == "preset"
    for _ in range(6):  # down to "mistake: (N,)"
        page.keyboard.press("ArrowDown")
    expect(page.locator("#shape-b")).to_have_value("(2,)")
    expected = explain_broadcast_numpy("(2, 35, 35, 256)", "(2,)")
    expect(result).to_have_text(f"incompatible: {expected.reason}")
    page.keyboard.press("Tab")  # shape a
    page.keyboard.press("Tab")  # shape b
    assert page.evaluate("document.activeElement.id") == "shape-b"
    page.keyboard.press("Control+A")
    page.keyboard.type("(35, 1, 256)")
    expect(result).to_have_text("a * b has shape (2, 35, 35, 256)")
    lines = page.locator("#axes li").all_inner_texts()
    assert lines == [f"axis {x.axis}: {x.text}" for x in
                     explain_broadcast_numpy("(2, 35, 35, 256)", "(35, 1, 256)").axes]
    assert page.evaluate("document.body.dataset.result") == "(2, 35, 35, 256)"
