"""`python -m explainer star` and `python -m explainer broadcast A B`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tensorflow as tf
from cli_support import run_cli_without_tensorflow, run_here


def test_broadcast_compatible():
    out = run_here("broadcast", "(2,35,35,256)", "(256,)")
    assert out.returncode == 0, out.stderr
    assert "=> result shape (2, 35, 35, 256)" in out.stdout
    assert "missing counts as 1" in out.stdout and "agree: yes" in out.stdout
    assert out.stderr == ""


def test_broadcast_incompatible_is_an_answer_with_the_real_errors_and_exit_1():
    out = run_here("broadcast", "(2,35,35,256)", "(2,)")
    assert out.returncode == 1  # cmp's convention: 1 = "they do not broadcast", not a crash
    with pytest.raises(ValueError) as np_err:
        np.ones((2, 35, 35, 256), np.float32) * np.ones(2, np.float32)
    with pytest.raises(tf.errors.InvalidArgumentError) as tf_err:
        tf.zeros((2, 35, 35, 256)) * tf.zeros(2)
    assert str(np_err.value).strip() in out.stdout
    assert "Incompatible shapes: [2,35,35,256] vs. [2]" in str(tf_err.value)
    assert "Incompatible shapes: [2,35,35,256] vs. [2]" in out.stdout
    assert out.stderr == "" and "error:" not in out.stdout
    assert "axis 3" in out.stdout and "256 vs 2" in out.stdout
    assert "do not broadcast" in out.stdout
    help_text = run_here("broadcast", "--help").stdout
    assert "1 when they do not" in " ".join(help_text.split())


def test_broadcast_of_big_shapes_says_what_the_budget_is():
    out = run_here("broadcast", "(2,35,35,256)", "(4000,35,35,256)")
    assert out.returncode == 1 and "too big to allocate" not in out.stdout
    assert "allocated only up to 4,194,304 elements" in out.stdout


@pytest.mark.parametrize(("args", "fragment"), [
    (["(2,3", "(3,)"], "argument a: got '(2,3'; brackets do not match"),
    (["(2,3)", "abc"], "b: got 'abc'; the name 'abc' is not bound"),
    (["(N,3)", "(3,)", "--dims", "N=x"], "dims: got 'N=x'"),
    (["(2,3)"], "the following arguments are required: b"),
])
def test_broadcast_malformed_is_one_line_before_tensorflow(args, fragment):
    out = run_cli_without_tensorflow("broadcast", *args)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert fragment in lines[0]


def test_broadcast_json_and_named_dims():
    out = run_here("broadcast", "(N,H,W,C)", "(N,1,1,1)", "--dims", "N=4,H=5,W=5,C=8", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["result_shape"] == [4, 5, 5, 8] and doc["agrees"] and doc["failing_axis"] is None
    assert [a["rule"] for a in doc["axes"]] == ["equal", "1 stretches", "1 stretches",
                                                "1 stretches"]
    bad = run_here("broadcast", "(4,5)", "(3,)", "--json")
    assert bad.returncode == 1 and json.loads(bad.stdout)["failing_axis"] == 1


@pytest.fixture(scope="module")
def star():
    """``star`` run once for the tests that read its text (in this process)."""
    return run_here("star")


def test_star_text(star):
    assert star.returncode == 0, star.stderr
    text = star.stdout
    # the four spellings, each its source's own text, with the dispatch found by running it
    spellings = text.split("1. How Python evaluates")[0]
    for line in ("| net += scale * up", "| scaled_up = up * scale", "| net += scaled_up",
                 "| return inputs[0] + inputs[1] * self.scale", "| out = out * self.scale + x"):
        assert line in spellings, line
    assert "`scale * up`: float.__mul__ returns NotImplemented, so Python calls " \
        "tf.Tensor.__rmul__" in spellings
    assert "`up * scale`: Python calls tf.Tensor.__mul__ directly, the left operand's own " \
        "method (no NotImplemented step)" in spellings
    assert "`inputs[1] * self.scale`: Python calls tf.Tensor.__mul__ directly" in spellings
    assert "float.__mul__(scale, up) -> NotImplemented" in text
    assert "EagerTensor.__rmul__(up, scale)" in text
    assert "tf.math.multiply emits graph op 'Mul'" in text
    assert "computation: Mul -> AddV2 -> Relu" in text
    assert "scaled_up" in text and "ConcatV2" in text
    try:
        v = tf.Variable([1.0, 2.0])
        v += 1.0
    except RuntimeError as err:
        assert str(err) in text
    try:
        tf.constant(0.17, tf.float64) * tf.ones((2, 3))
    except tf.errors.InvalidArgumentError as err:  # TF's text, without its empty "name: "
        assert str(err).rstrip().removesuffix(" name:") in text
        assert str(err).rstrip().endswith("name:") and "name:" not in text
    assert "rebound the name to a new object" in text


def test_star_lists_the_block_in_the_snippets_order(star):
    """The block's layers as the snippet writes them (branch 0, 1, 2, then the line), the same
    order notebook 01 shows, not TensorFlow's graph order."""
    text = star.stdout
    section = text.split("computation ops by layer:")[1].split("\n3. ")[0]
    layers = [line.split()[0] for line in section.strip().splitlines()]
    assert layers[:3] == ["Branch_0__Conv2d_1x1", "Branch_0__Conv2d_1x1__BatchNorm",
                          "Branch_0__Conv2d_1x1__Relu"]
    assert layers[-5:] == ["mixed", "Conv2d_1x1", "scaled_up", "net_sum", "net_out"]
    assert layers.index("Branch_1__Conv2d_0a_1x1") < layers.index("Branch_2__Conv2d_0a_1x1")
    assert len(layers) == len(set(layers)) == 3 * 6 + 5


def test_star_json_and_bad_scale():
    out = run_here("star", "--json", "--scale", "0.5")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["dispatch"]["Python float"]["graph_op"] == "Mul"
    assert doc["dispatch"]["Python float"]["steps"][0]["result"] == "NotImplemented"
    assert doc["tail_compute_ops"] == ["Mul", "AddV2", "Relu"]
    assert doc["gradient"]["d_up_values_on"] == [0.5]
    assert doc["dispatch"]["TF float64 constant"]["error"].startswith("InvalidArgumentError")
    assert [s["source"] for s in doc["spellings"]] == ["facenet", "tf-models", "keras", "timm"]
    assert doc["spellings"][0]["notimplemented"] and not doc["spellings"][1]["notimplemented"]
    bad = run_here("star", "--scale", "abc")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
