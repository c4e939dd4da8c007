"""The residual-scale slider of notebook 03, driven by the keyboard in JupyterLab and in Voilà.

The value the page must show is computed here, in the test process, with the package's own
``explainer.scale_sweep`` on the lesson's block and input (``explainer.lesson_setup()``), which
the notebook uses too.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pytest
from browser_support import NOTEBOOKS

import explainer

NOTEBOOK = "03_residual_scaling.ipynb"
RUN_ALL_TIMEOUT_MS = 240_000  # the whole notebook runs first (about 10-30 s on 2 cores)
UPDATE_TIMEOUT_MS = 30_000


@lru_cache(maxsize=1)
def _block_and_input():
    source = (NOTEBOOKS / NOTEBOOK).read_text()
    assert "explainer.lesson_setup()" in source and "scale_explorer(block, x)" in source, (
        f"{NOTEBOOK} must give the slider the lesson's block and input")
    lesson = explainer.lesson_setup()
    return lesson.block, lesson.x


def expected_ratio_text(scale: float) -> str:
    """``f"{ratio:.4f}"`` for the notebook's block and input at ``scale``."""
    block, x = _block_and_input()
    return f"{explainer.scale_sweep(block, x, [scale]).residual_ratio[0]:.4f}"


def _start_value(block) -> float:
    return round(min(max(block.residual_spec.scale, 0.0), 1.0), 2)


def check_slider_moves(page) -> None:
    """The slider starts at the block's scale; one ArrowRight moves it by 0.01 and the
    displayed residual ratio follows, to the package's value at the new scale."""
    from playwright.sync_api import expect

    handle = page.locator(".scale-slider .noUi-handle").first
    handle.wait_for(state="visible", timeout=RUN_ALL_TIMEOUT_MS)
    ratio = page.locator(".residual-ratio").first
    readout = page.locator(".scale-slider .widget-readout").first
    start = _start_value(_block_and_input()[0])
    before, after = expected_ratio_text(start), expected_ratio_text(round(start + 0.01, 2))
    assert before != after, "the test needs a move that changes the fourth decimal"
    expect(readout).to_have_text(f"{start:.2f}", timeout=UPDATE_TIMEOUT_MS)
    expect(ratio).to_contain_text(before, timeout=UPDATE_TIMEOUT_MS)
    plot = page.locator(".scale-plot").first
    plot_before = plot.get_attribute("src")
    handle.focus()
    page.keyboard.press("ArrowRight")
    expect(readout).to_have_text(f"{start + 0.01:.2f}", timeout=UPDATE_TIMEOUT_MS)
    expect(ratio).to_contain_text(after, timeout=UPDATE_TIMEOUT_MS)
    assert before not in ratio.inner_text()
    expect(plot).not_to_have_attribute("src", plot_before or "", timeout=UPDATE_TIMEOUT_MS)
    expect(page.locator(".scale-error").first).to_have_text("")


@pytest.fixture(scope="module", autouse=True)
def _notebook_present():
    if not (NOTEBOOKS / NOTEBOOK).exists():
        pytest.fail(f"notebooks/{NOTEBOOK} is missing: the slider tests need it")


def test_jupyterlab_run_all_then_keyboard_moves_the_slider(page, lab_server):
    from playwright.sync_api import expect

    page.goto(f"{lab_server.url}/lab/tree/{NOTEBOOK}?token={lab_server.token}&reset")
    # The notebook's own indicator says idle too early: wait for the kernel in the status bar.
    expect(page.locator("#jp-main-statusbar")).to_contain_text(
        re.compile(r"Python 3 \(ipykernel\) \| Idle"), timeout=120_000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
    check_slider_moves(page)
    # the widgets' extension (jupyterlab_widgets, pinned for Voilà's older page) asks for
    # nothing this JupyterLab lacks: no "Unsatisfied version" / "No satisfying version" line
    assert [line for line in page.console_messages if "satisf" in line.lower()] == []


def test_voila_app_keyboard_moves_the_slider(page, voila_server):
    page.goto(f"{voila_server.url}/voila/render/{NOTEBOOK}")
    check_slider_moves(page)
    # an app, not a notebook: no code cells on the page
    assert page.locator(".jp-CodeCell .jp-InputArea, .cm-editor").count() == 0
    assert "scale_explorer(" not in page.inner_text("body")
