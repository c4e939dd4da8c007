"""Broadcasting explained axis by axis, checked against numpy.broadcast_shapes and against what
numpy and TensorFlow really do; the shape parser, property-tested; the scale-shape catalogue."""

from __future__ import annotations

import builtins
import json
import math
import tracemalloc

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import explainer
from explainer.broadcasting.catalogue import format_catalogue
from explainer.broadcasting.rule import RULE_EQUAL, RULE_MISMATCH, RULE_MISSING, RULE_STRETCH
from explainer.broadcasting.shapes import MAX_ELEMENTS, as_shape, parse_dims, parse_shape

UP = (2, 35, 35, 256)
small_shapes = st.lists(st.integers(0, 4), max_size=5).map(tuple)
pairs = st.one_of(st.tuples(small_shapes, small_shapes),
                  mutually_broadcastable_shapes(num_shapes=2, max_dims=5, max_side=4)
                  .map(lambda s: tuple(s.input_shapes)))


def numpy_rule(a, b):
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs)
def test_rule_agrees_with_numpy_and_tensorflow(pair):
    a, b = pair
    e = explainer.explain_broadcast(a, b)
    assert e.result_shape == numpy_rule(a, b)
    assert e.agrees, str(e)
    assert len(e.axes) == max(len(a), len(b))
    assert e.compatible == (e.failing_axis is None)
    for x in e.axes:
        assert x.rule in (RULE_EQUAL, RULE_STRETCH, RULE_MISSING, RULE_MISMATCH)
        assert (x.result is None) == (x.rule == RULE_MISMATCH)


big_dims = st.one_of(st.integers(0, 3), st.integers(10**4, 10**9))


@settings(max_examples=300, deadline=None)
@given(st.lists(big_dims, min_size=1, max_size=4).map(tuple),
       st.lists(st.sampled_from([0, 1]), max_size=4))
def test_huge_shapes_are_explained_without_allocating(a, ones):
    b = tuple(1 if keep else d for d, keep in zip(a[len(a) - len(ones):], ones, strict=False))
    if math.prod(max(d, 1) for d in a) > MAX_ELEMENTS:
        with pytest.raises(ValueError, match="a: shape .* spans .* elements; numpy and"):
            explainer.explain_broadcast(a, b)
        return
    tracemalloc.start()
    e = explainer.explain_broadcast(a, b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 2**20
    assert e.result_shape == numpy_rule(a, b) and e.agrees


def test_the_example_from_the_far_too_large_clarification():
    e = explainer.explain_broadcast("(100000, 100000, 64)", "(64,)")
    assert e.result_shape == (100000, 100000, 64) and e.agrees
    bad = explainer.explain_broadcast("(100000, 100000, 64)", "(63,)")
    assert bad.result_shape is None and bad.failing_axis == 2
    assert "(100000,100000,64) (63,)" in bad.numpy.error
    assert "[100000,100000,64] vs. [63]" in bad.tensorflow.error


def test_per_channel_explanation_axis_by_axis():
    e = explainer.explain_broadcast(UP, (256,))
    assert e.result_shape == UP and e.failing_axis is None and e.failing_axes == ()
    assert [x.rule for x in e.axes] == [RULE_MISSING] * 3 + [RULE_EQUAL]
    assert [x.b for x in e.axes] == [None, None, None, 256]
    assert e.numpy.ok and e.tensorflow.ok and e.numpy.shape == UP == e.tensorflow.shape
    text = str(e)
    assert "result shape (2, 35, 35, 256)" in text and "agree: yes" in text


def test_mismatch_reports_the_failing_axis_and_the_real_error_texts():
    e = explainer.explain_broadcast(UP, (2,))
    assert e.result_shape is None and e.failing_axis == 3 and not e.compatible
    with pytest.raises(ValueError) as np_err:
        np.ones(UP, np.float32) * np.ones(2, np.float32)
    assert e.numpy.error == f"ValueError: {np_err.value}"
    with pytest.raises(tf.errors.InvalidArgumentError) as tf_err:
        tf.zeros(UP) * tf.zeros((2,))
    # TensorFlow's own text, without its empty trailing "name: " field
    assert str(tf_err.value).endswith(" name: ")
    assert e.tensorflow.error == f"InvalidArgumentError: {str(tf_err.value)[:-len(' name: ')]}"
    assert "{{function_node" not in e.tensorflow.message
    assert "Incompatible shapes" in e.tensorflow.message
    assert "axis 3" in e.reason and "256 vs 2" in e.reason
    assert e.numpy.message in str(e)


def test_stretch_and_several_mismatches():
    e = explainer.explain_broadcast((5, 1, 3), (4, 7))
    assert [x.rule for x in e.axes] == [RULE_MISSING, RULE_STRETCH, RULE_MISMATCH]
    assert e.axes[1].stretched == "a" and e.axes[1].result == 4
    e2 = explainer.explain_broadcast((2, 3), (4, 5))
    assert e2.failing_axes == (0, 1) and e2.failing_axis == 1  # rightmost, met first


def test_inputs_can_be_text_arrays_tensors_and_scalars():
    assert explainer.explain_broadcast("(N, 256)", "[256]", N=3).result_shape == (3, 256)
    assert explainer.explain_broadcast(np.ones((2, 1)), tf.ones(3)).result_shape == (2, 3)
    assert explainer.explain_broadcast(0.17, "2x3").result_shape == (2, 3)
    assert as_shape(tf.TensorShape([4, 5])) == (4, 5)
    with pytest.raises(TypeError, match=r"a: got the number 256; write \(256,\)"):
        explainer.explain_broadcast(256, (3,))
    with pytest.raises(ValueError, match="b: got"):
        explainer.explain_broadcast((3,), "(3")
    with pytest.raises(ValueError, match="unknown shape"):
        as_shape(tf.TensorSpec([None, 3]), "a")
    with pytest.raises(TypeError, match="a: got object"):
        explainer.explain_broadcast(object(), (3,))
    with pytest.raises(ValueError, match="a: got"):
        explainer.explain_broadcast((2, -1), (3,))


def test_to_dict_is_json():
    doc = json.loads(json.dumps(explainer.explain_broadcast(UP, (2,)).to_dict()))
    assert doc["result_shape"] is None and doc["failing_axis"] == 3 and doc["agrees"]
    assert doc["numpy"]["error"].startswith("ValueError")


# ---- the parser ---------------------------------------------------------------------------

shapes = st.lists(st.integers(0, 10**6), max_size=8).map(tuple)
space = st.sampled_from(["", " ", "  "])


@settings(max_examples=2000, deadline=None)
@given(shapes, space, st.sampled_from(["paren", "bracket", "x", "bare"]))
def test_parser_round_trips(shape, pad, style):
    if style == "paren":
        inner = f",{pad}".join(map(str, shape))
        text = f"({pad}{inner}{',' if len(shape) == 1 else ''}{pad})"
    elif style == "bracket":
        text = "[" + f"{pad},{pad}".join(map(str, shape)) + "]"
    elif style == "x":
        if not shape:
            text = "()"
        else:
            text = f"{pad}x{pad}".join(map(str, shape))
    else:
        text = str(shape)
    assert parse_shape(text) == shape


@settings(max_examples=1000, deadline=None)
@given(shapes, st.lists(st.booleans(), max_size=8))
def test_named_dims_are_bound_by_the_caller(shape, use_name):
    names = {f"D{i}": d for i, d in enumerate(shape)}
    tokens = [f"D{i}" if i < len(use_name) and use_name[i] else str(d)
              for i, d in enumerate(shape)]
    assert parse_shape("(" + ", ".join(tokens) + ",)" if tokens else "()", **names) == shape


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=30))
def test_parser_returns_a_shape_or_a_value_error(text):
    try:
        shape = parse_shape(text, N=2)
    except ValueError as err:
        assert "got" in str(err) and "expected" in str(err) or "not bound" in str(err)
    else:
        assert all(isinstance(d, int) and d >= 0 for d in shape)


@pytest.mark.parametrize("text", ["(2,,3)", "(2,3", "2.5", "-1", "(M,)", "", "  ", "((2,3))",
                                  "2 3", "1e3", "9" * 30, "__import__('os').system('true')",
                                  "(2,35)]", "[2;3]", "{2,3}"])
def test_malformed_shapes_are_value_errors(text, monkeypatch):
    def no_eval(*args):
        raise AssertionError("parse_shape called eval")

    monkeypatch.setattr(builtins, "eval", no_eval)
    with pytest.raises(ValueError, match="shape: got"):
        parse_shape(text, N=2)


def test_parser_examples_and_type_errors():
    assert parse_shape("(2, 35, 35, 256)") == UP == parse_shape("[2,35,35,256]")
    assert parse_shape("2x35x35x256") == UP == parse_shape("(N, 35, 35, 256)", N=2)
    assert parse_shape("()") == () and parse_shape("(256,)") == (256,) == parse_shape("256")
    with pytest.raises(TypeError, match="shape: got tuple"):
        parse_shape((2, 3))
    with pytest.raises(ValueError, match="N: got -1"):
        parse_shape("(N,)", N=-1)
    assert parse_dims("N=2, C = 256") == {"N": 2, "C": 256} and parse_dims("") == {}
    with pytest.raises(ValueError, match="dims: got 'C=abc'"):
        parse_dims("N=2, C=abc")


# ---- the catalogue ------------------------------------------------------------------------

def test_catalogue_right_and_wrong_scale_shapes():
    entries = {e.label: e for e in explainer.scale_shape_catalogue(N=2, H=35, W=35, C=256)}
    for label in ("Python scalar", "0-d tensor", "per-channel (C,)", "(1, 1, 1, C)",
                  "per-sample (N, 1, 1, 1)"):
        assert entries[label].correct and entries[label].verdict == "correct"
        assert entries[label].explanation.result_shape == UP
    assert entries["per-channel (C,)"].scale_shape == (256,)
    assert entries["per-sample (N, 1, 1, 1)"].lines_up_with == ("N",)
    for label in ("mistake: (N,)", "mistake: (H,)", "mistake: (C, 1)"):
        e = entries[label]
        assert not e.correct and e.explanation.result_shape is None
        assert e.verdict.startswith("fails loudly")
    assert entries["mistake: (N,)"].lines_up_with == ("C",)
    assert entries["mistake: (C, 1)"].lines_up_with == ("W",)
    assert "fails loudly: C is 256, the scale has 2" in format_catalogue(list(entries.values()))
    # a failing row says it has no result, not Python's "None"
    row = next(line for line in format_catalogue(list(entries.values())).splitlines()
               if line.startswith("mistake: (N,)"))
    assert "no result" in row and "None" not in row


def test_catalogue_mistakes_go_silent_when_sizes_coincide():
    entries = {e.label: e for e in explainer.scale_shape_catalogue(N=8, H=8, W=8, C=8)}
    assert entries["mistake: (N,)"].explanation.result_shape == (8, 8, 8, 8)
    assert entries["mistake: (N,)"].verdict == "silently scales along C instead of N"
    assert not entries["mistake: (C, 1)"].correct
    with pytest.raises(TypeError, match="N: got"):
        explainer.scale_shape_catalogue(N="2")
