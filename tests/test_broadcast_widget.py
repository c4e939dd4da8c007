"""The broadcast diagram and the playground widget, driven without a display."""

from __future__ import annotations

import html

import numpy as np
import pytest
import tensorflow as tf
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import explainer
from explainer.broadcasting.rule import RULE_MISMATCH, RULE_MISSING
from explainer.broadcasting.shapes import parse_shape
from explainer.plots import broadcast_diagram, broadcast_diagram_png
from explainer.plots.broadcast import RULE_COLOURS
from explainer.widgets import broadcast_playground

PNG = b"\x89PNG\r\n\x1a\n"


def boxes(fig: Figure) -> list[Rectangle]:
    return [p for p in fig.axes[0].patches if isinstance(p, Rectangle)]


def test_diagram_has_one_box_per_axis_and_row_coloured_by_rule():
    e = explainer.explain_broadcast((2, 35, 35, 256), (256, 1))
    fig = broadcast_diagram(e)
    rects = boxes(fig)
    assert len(rects) == 3 * len(e.axes)
    result_row = sorted((r for r in rects if r.get_y() < 1), key=lambda r: r.get_x())
    for rect, axis in zip(result_row, e.axes, strict=True):
        assert to_hex(rect.get_facecolor()) == RULE_COLOURS[axis.rule][0].lower()
    assert to_hex(result_row[e.failing_axis].get_facecolor()) == \
        RULE_COLOURS[RULE_MISMATCH][0].lower()
    missing = [r for r in rects if r.get_linestyle() == "--"]
    assert len(missing) == sum(x.rule == RULE_MISSING for x in e.axes) == 2
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "1\u2192256" in texts and "\u2717" in texts
    assert "error: axis 2" in fig._suptitle.get_text()


def test_diagram_png_and_bad_input():
    png = broadcast_diagram_png(explainer.explain_broadcast((), ()))
    assert png.startswith(PNG)
    with pytest.raises(TypeError, match="explanation: got tuple"):
        broadcast_diagram((2, 3))


def test_playground_classes_and_initial_state():
    p = broadcast_playground()
    assert p.preset.index == 0 and p.preset.label == "type your own"
    classes = {c for w in (p.shape_a, p.shape_b, p.result, p.error) for c in w._dom_classes}
    assert {"shape-a", "shape-b", "broadcast-result", "broadcast-error"} <= classes
    assert "broadcast-diagram" in p.image._dom_classes
    assert p.explanation.result_shape == (2, 35, 35, 256)
    assert p.result.value == str(p.explanation) and p.error.value == ""
    assert bytes(p.image.value).startswith(PNG)
    assert p.last_update_ms is not None and p.last_update_ms > 0


def test_incompatible_shapes_show_the_libraries_own_errors():
    p = broadcast_playground()
    p.shape_a.value = "(2, 35, 35, 256)"
    p.shape_b.value = "(2,)"
    with pytest.raises(ValueError) as np_err:
        np.ones((2, 35, 35, 256), np.float32) * np.ones(2, np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError) as tf_err:
        tf.zeros((2, 35, 35, 256)) * tf.zeros(2)
    assert html.escape(str(np_err.value).strip()) in p.error.value
    assert "Incompatible shapes: [2,35,35,256] vs. [2]" in str(tf_err.value)
    assert html.escape("Incompatible shapes: [2,35,35,256] vs. [2]") in p.error.value
    assert "Traceback" not in p.error.value
    assert p.explanation.failing_axis == 3 and "mismatch" in p.result.value
    assert bytes(p.image.value).startswith(PNG)


def test_malformed_shapes_show_a_sentence_and_never_raise():
    p = broadcast_playground()
    p.shape_b.value = "(2,3"
    with pytest.raises(ValueError) as err:
        parse_shape("(2,3")
    assert html.escape(str(err.value).replace("shape:", "b:", 1)) in p.error.value
    assert p.explanation is None and p.result.value == "" and bytes(p.image.value) == b""
    p.dims.value = "N=two"
    assert "dims: got" in p.error.value
    p.dims.value = "N=2, H=35, W=35, C=256"
    p.shape_b.value = "(C,)"
    assert p.error.value == "" and p.explanation.result_shape == (2, 35, 35, 256)


def test_presets_button_and_update():
    p = broadcast_playground()
    label, shape = next(o for o in p.preset.options if o[0].startswith("per-sample"))
    calls = []
    p.result.observe(lambda change: calls.append(change["new"]), names="value")
    p.preset.value = shape
    assert p.shape_b.value == "(2, 1, 1, 1)" and p.explanation.b == (2, 1, 1, 1)
    assert len(calls) == 1  # one update for the two shape changes
    p.shape_a.value = "(3, 1)"
    p.shape_b.value = "(1, 4)"
    p.button.click()
    assert p.explanation.result_shape == (3, 4)
    assert p.update().result_shape == (3, 4)
    diagram = bytes(p.image.value)
    p.shape_b.value = "(2, 9)"
    assert bytes(p.image.value) != diagram and p.explanation.result_shape is None
    p.shape_b.value = "(1, 4)"
    assert bytes(p.image.value) == diagram  # the same pair draws the same picture
