"""The broadcast playground of notebook 04 in the Voilà app: an incompatible pair of shapes
shows the explanation and the libraries' error message inside the widget, never a traceback.
The expected texts come from ``explainer.explain_broadcast`` run in the test process."""

from __future__ import annotations

import pytest
from browser_support import NOTEBOOKS

import explainer

NOTEBOOK = "04_broadcasting.ipynb"
SHAPE_A, SHAPE_B = "(2, 35, 35, 256)", "(35,)"  # the last axis mismatches: 256 vs 35
RUN_TIMEOUT_MS = 240_000
UPDATE_TIMEOUT_MS = 30_000


def test_incompatible_shapes_explain_and_show_the_error_without_traceback(page, voila_server):
    from playwright.sync_api import expect

    if not (NOTEBOOKS / NOTEBOOK).exists():
        pytest.fail(f"notebooks/{NOTEBOOK} is missing: the playground test needs it")
    expected = explainer.explain_broadcast(SHAPE_A, SHAPE_B)
    assert expected.result_shape is None, "the test needs an incompatible pair"
    page.goto(f"{voila_server.url}/voila/render/{NOTEBOOK}")
    shape_a = page.locator(".shape-a input").first
    shape_b = page.locator(".shape-b input").first
    shape_a.wait_for(state="visible", timeout=RUN_TIMEOUT_MS)
    result = page.locator(".broadcast-result textarea").first
    error = page.locator(".broadcast-error").first
    expect(result).not_to_have_value(str(expected))  # not already showing the answer
    for box, text in ((shape_a, SHAPE_A), (shape_b, SHAPE_B)):
        box.fill(text)
        box.press("Enter")  # the Text widgets commit on Enter (continuous_update=False)
    result.scroll_into_view_if_needed()  # so that a screenshot shows the widget's answer
    expect(result).to_have_value(str(expected), timeout=UPDATE_TIMEOUT_MS)
    for line in (expected.numpy.message, expected.tensorflow.message):
        expect(error).to_contain_text(line.strip(), timeout=UPDATE_TIMEOUT_MS)
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert "There was an error when executing" not in body  # Voilà's cell-error banner
    assert page.locator(".jp-OutputArea-output[data-mime-type*='error']").count() == 0
