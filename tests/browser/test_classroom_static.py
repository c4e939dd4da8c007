"""The static scale page in Chromium, offline: ArrowRight on the slider shows the frame that
the real block computed for the next scale."""

from __future__ import annotations

import pytest

from explainer.core.lesson import lesson_setup
from explainer.site.scale_page import scale_page


@pytest.fixture(scope="module")
def static_page(tmp_path_factory):
    path = tmp_path_factory.mktemp("static") / "scale_explorer.html"
    path.write_text(scale_page(), encoding="utf-8")
    return path


def _expected(variant: str, scale: float) -> dict:
    from explainer.scaling.sweep import scale_sweep

    setup = lesson_setup(variant)
    return scale_sweep(setup.block, setup.x, [scale]).at(scale)


def test_arrow_right_shows_the_next_frame(page, static_page):
    from playwright.sync_api import expect

    page.goto(static_page.as_uri())
    slider = page.locator("#scale")
    expect(page.locator("#readout")).to_have_text("0.17")
    slider.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#readout")).to_have_text("0.18")
    v1 = _expected("v1", 0.18)
    expect(page.locator("#finding")).to_contain_text(
        f"at s = 0.18 the residual is {100 * v1['residual_ratio']:.1f} % of the shortcut")
    expect(page.locator("#numbers")).to_contain_text(f"{v1['residual_ratio']:.4f}")
    marker_018 = page.locator("#line").evaluate("e => parseFloat(e.style.left)")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#readout")).to_have_text("0.19")
    assert page.locator("#line").evaluate("e => parseFloat(e.style.left)") > marker_018
    page.locator("input[name=variant][value=v2]").check()
    v2 = _expected("v2", 0.19)
    expect(page.locator("#finding")).to_contain_text("block35 v2: at s = 0.19")
    expect(page.locator("#numbers")).to_contain_text(f"{v2['residual_ratio']:.4f}")
    assert page.evaluate("document.body.dataset.frame") == "v2:0.19"
