"""scale_explorer without a display: call update() and read the widgets, as a browser would."""

from __future__ import annotations

import io

import ipywidgets as widgets
import numpy as np
import pytest
from PIL import Image

import explainer
from explainer.core.schedule import BLOCK35_SCALE
from explainer.widgets import scale_explorer


def by_class(root, cls):
    found = []
    stack = [root]
    while stack:
        w = stack.pop()
        if cls in getattr(w, "_dom_classes", ()):
            found.append(w)
        stack.extend(getattr(w, "children", ()))
    return found


@pytest.fixture
def explorer(block_v1, x_v1):
    """A fresh explorer per test: tests move its slider, and must not see each other's moves."""
    return scale_explorer(block_v1, x_v1)


def test_contract_widgets_and_classes(explorer):
    view = explorer._repr_mimebundle_()["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == explorer.model_id  # a notebook shows it as one widget
    (slider,) = by_class(explorer, "scale-slider")
    assert isinstance(slider, widgets.FloatSlider)
    assert (slider.min, slider.max, slider.step, slider.value) == (0.0, 1.0, 0.01, 0.17)
    (toggle,) = by_class(explorer, "scale-variant")
    assert isinstance(toggle, widgets.ToggleButtons) and toggle.options == ("v1", "v2")
    (ratio,) = by_class(explorer, "residual-ratio")
    (plot,) = by_class(explorer, "scale-plot")
    (error,) = by_class(explorer, "scale-error")
    assert isinstance(ratio, widgets.HTML) and isinstance(error, widgets.HTML)
    assert isinstance(plot, widgets.Image) and plot.value[:8] == b"\x89PNG\r\n\x1a\n"
    assert error.value == ""


def test_the_input_is_checked_once_at_the_entry(block_v1, x_v1, monkeypatch):
    """scale_explorer checks ``x``; the sweep behind it trusts it (no second check)."""
    import importlib

    from explainer.scaling import sweep as sweep_module

    entry = importlib.import_module("explainer.widgets.scale_explorer")

    calls = []
    for module in (entry, sweep_module):
        real = module.check_block_input
        monkeypatch.setattr(module, "check_block_input",
                            lambda x, c, _real=real, _m=module.__name__: calls.append(_m)
                            or _real(x, c))
    scale_explorer(block_v1, x_v1)
    assert calls == ["explainer.widgets.scale_explorer"]
    with pytest.raises(ValueError, match="channels"):
        scale_explorer(block_v1, np.zeros((1, 4, 4, 320), np.float32))


def test_a_slider_move_checks_its_value_once(explorer, monkeypatch):
    """update() reads the position with check_scale; the sweep does not check it again."""
    from explainer.scaling import sweep as sweep_module
    from explainer.widgets import slider_input

    calls = []
    for module in (slider_input, sweep_module):
        real = module.check_scale
        monkeypatch.setattr(module, "check_scale",
                            lambda v, *a, _real=real, _m=module.__name__, **k: calls.append(_m)
                            or _real(v, *a, **k))
    assert explorer.update(0.42) is True
    assert calls == ["explainer.widgets.slider_input"]
    assert explorer.update("abc") is False and "scale" in explorer.error.value


@pytest.mark.parametrize("scale", [0.0, 0.05, 0.17, 0.42, 1.0])
def test_update_shows_the_sweep_ratio_and_a_new_plot(explorer, block_v1, x_v1, scale):
    before = explorer.image.value
    assert explorer.update(scale) is True
    expected = explainer.scale_sweep(block_v1, x_v1, [scale]).residual_ratio[0]
    assert f"{expected:.4f}" in explorer.ratio.value
    assert explorer.slider.value == scale
    if scale != BLOCK35_SCALE:  # a fresh explorer starts at the block's scale
        assert explorer.image.value != before
    img = Image.open(io.BytesIO(explorer.image.value))
    assert img.size[0] > 300 and np.asarray(img).std() > 0  # a real, non-blank picture
    assert explorer.branch_runs == 1  # moves never run the branches again


def test_moving_the_slider_trait_updates(explorer, block_v1, x_v1):
    explorer.slider.value = 0.33
    expected = explainer.scale_sweep(block_v1, x_v1, [0.33]).residual_ratio[0]
    assert f"{expected:.4f}" in explorer.ratio.value
    sweep = explainer.scale_sweep(block_v1, x_v1, [0.33])
    assert f"{sweep.output_change[0]:.4f}" in explorer.numbers.value
    explorer.text.value = "0.25"
    assert explorer.slider.value == 0.25


@pytest.mark.parametrize("bad", ["abc", float("nan"), 1.5, -0.1, None, [0.2]])
def test_bad_value_shows_a_message_inside_the_widget(explorer, bad):
    explorer.update(0.2)
    shown = explorer.ratio.value
    assert explorer.update(bad) is False
    assert "scale" in explorer.error.value and "expected" in explorer.error.value
    assert explorer.ratio.value == shown and explorer.slider.value == 0.2
    assert explorer.update(0.3) is True and explorer.error.value == ""


def test_variant_toggle_builds_the_other_block_once(block_v1, x_v1):
    app = scale_explorer(block_v1, x_v1)
    app.update(0.3)
    app.toggle.value = "v2"
    assert app.branch_runs == 2 and app.variant == "v2"
    block = explainer.build_block35("v2", scale=0.17, seed=0)
    x = explainer.sample_input("v2", batch=2, size=9, seed=0)
    expected = explainer.scale_sweep(block, x, [0.3]).residual_ratio[0]
    assert f"{expected:.4f}" in app.ratio.value
    app.toggle.value = "v1"
    app.toggle.value = "v2"
    assert app.branch_runs == 2
    v1_ratio = explainer.scale_sweep(block_v1, x_v1, [0.3]).residual_ratio[0]
    app.toggle.value = "v1"
    assert f"{v1_ratio:.4f}" in app.ratio.value


def test_scale_explorer_checks_its_arguments(block_v1):
    with pytest.raises(ValueError, match="x: got 320 channels"):
        scale_explorer(block_v1, np.ones((1, 5, 5, 320), np.float32))
    with pytest.raises(TypeError, match="block: got str"):
        scale_explorer("block", np.ones((1, 5, 5, 256), np.float32))
