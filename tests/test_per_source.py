"""The answer per source: each real spelling of the line, run, with the dispatch it really has.

facenet's `net += scale * up` goes through float.__mul__ -> NotImplemented -> tf.Tensor.__rmul__;
tf-models' current `scaled_up = up * scale`, Keras' `inputs[0] + inputs[1] * self.scale` and
timm's `out * self.scale + x` call the tensor's own __mul__. The SGD half of the fold: one step
moves the block's effective projection weights scale**2 as far as the folded block's.
"""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer.answer import explain_block
from explainer.core.weights import block_weights
from explainer.ports import legacy_sources
from explainer.ports import spellings as sp
from explainer.scaling.folding import fold_training_step

EXPECTED_LINES = {
    "facenet": ("net += scale * up",),
    "tf-models": ("scaled_up = up * scale", "if activation_fn == tf.nn.relu6:",
                  "# Use clip_by_value to simulate bandpass activation.",
                  "scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)", "net += scaled_up"),
    "keras": ("return inputs[0] + inputs[1] * self.scale",),
    "timm": ("out = out * self.scale + x",),
}


@pytest.fixture(scope="module")
def found():
    return {s.source: s for s in sp.spellings(0.17)}


def test_each_source_is_read_from_its_own_text(found):
    for source, lines in EXPECTED_LINES.items():
        if found[source].skipped:
            pytest.skip(found[source].skipped)
        assert found[source].lines == lines == sp.source_lines(source)


def test_the_dispatch_is_the_one_each_spelling_has(found):
    facenet = found["facenet"]
    assert facenet.notimplemented and facenet.left == "float"
    assert facenet.calls == ("tf.Tensor.__rmul__", "tf.Tensor.__add__")
    assert "float.__mul__ returns NotImplemented, so Python calls tf.Tensor.__rmul__" in \
        facenet.dispatch
    for source in ("tf-models", "keras"):
        s = found[source]
        assert not s.notimplemented and s.left == "tf.Tensor"
        assert s.calls == ("tf.Tensor.__mul__", "tf.Tensor.__add__"), s
        assert "no NotImplemented step" in s.dispatch
    for s in (found["facenet"], found["tf-models"], found["keras"]):
        assert s.ops == ("Mul", "AddV2") and s.equals_block
    timm = found["timm"]
    if timm.skipped:
        pytest.skip(timm.skipped)
    assert not timm.notimplemented and timm.calls == ("torch.Tensor.__mul__",
                                                      "torch.Tensor.__add__")
    assert timm.ops == ("aten::mul", "aten::add") and timm.equals_block


def test_the_dispatch_follows_the_text(monkeypatch):
    """A planted change of the stored v2 text (`scale * up` in place of `up * scale`) changes
    the reported dispatch: it is computed from the text, not written down."""
    text = legacy_sources.ORIGINALS["v2"]
    monkeypatch.setitem(legacy_sources.ORIGINALS, "v2",
                        text.replace("scaled_up = up * scale", "scaled_up = scale * up"))
    planted = sp.spelling("tf-models")
    assert planted.lines[0] == "scaled_up = scale * up"
    assert planted.notimplemented and planted.calls[0] == "tf.Tensor.__rmul__"


def test_the_v2_answer_adds_the_v2_code_line_under_the_headline():
    v2 = explain_block("v2", size=5)
    v1 = explain_block("v1", size=5)
    assert len(v2.lines) == 6 and len(v1.lines) == 5
    line = v2.lines[2]
    assert "`scaled_up = up * scale`" in line and "tf.Tensor.__mul__" in line
    assert "no NotImplemented step" in line and "bit for bit: True" in line
    # the headline answer stays the question's own line
    assert "float.__mul__ returns NotImplemented, so Python calls tf.Tensor.__rmul__" in \
        v2.lines[1]
    assert not any("scaled_up = up * scale" in x for x in v1.lines)


def test_one_sgd_step_slows_the_projection_by_scale_squared():
    lesson = explainer.lesson_setup()
    before = block_weights(lesson.block)
    step = fold_training_step(lesson.block)
    assert step.forward_max_diff < 1e-5  # the fold is exact for the forward pass
    assert step.up_ratio == pytest.approx(0.17 ** 2, rel=1e-3)
    assert step.branch_ratio == pytest.approx(1.0, rel=1e-3)
    after = block_weights(lesson.block)
    assert all(np.array_equal(before[k], after[k]) for k in before)  # the block is left as is
    other = fold_training_step(explainer.build_block35("v1", scale=0.5), lr=0.05)
    assert other.up_ratio == pytest.approx(0.25, rel=1e-3)
    answer = explain_block("v1", size=5)  # the lesson's block: same seed, same scale
    assert f"measured: scale·W moved {step.up_ratio:.4f} times" in answer.lines[4]
    assert "for the forward pass it equals" in answer.lines[4]
    assert "learning by scale² = 0.0289" in answer.lines[4]


def test_fold_training_step_refuses_a_bad_learning_rate():
    block = explainer.lesson_setup().block
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="lr: got"):
            fold_training_step(block, lr=bad)
    with pytest.raises(TypeError, match="lr: got"):
        fold_training_step(block, lr="fast")
