"""The original tf-slim block35 runs on TF 2.21: only the listed changes, a reversible shim,
its own graph, and outputs equal to the numpy oracle."""

from __future__ import annotations

import difflib

import numpy as np
import pytest
import tensorflow as tf
from tensorflow.python.framework import ops
from tensorflow.python.framework import tensor as tensor_lib

import explainer
from explainer import legacy
from explainer.core import reference
from explainer.core.weight_tables import seeded_weights, weight_shapes
from explainer.ports.translation import original_errors, translation_table


@pytest.fixture(scope="module")
def runs(x_v1, x_v2):
    """One slim run per variant and activation at scale 0.17, seed 0."""
    xs = {"v1": x_v1, "v2": x_v2}
    return {(v, a): legacy.run_slim_block35(xs[v], v, 0.17, a, seed=0)
            for v in ("v1", "v2") for a in ("relu", "relu6", None)}


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_ported_text_differs_from_the_original_only_by_the_listed_changes(variant):
    original, ported = legacy.ORIGINALS[variant], legacy.ported_source(variant)
    changes = legacy.changes_for(variant)
    assert changes and all(c.old in original and c.old not in ported for c in changes)
    removed = [line for line in difflib.ndiff(original.splitlines(), ported.splitlines())
               if line.startswith("- ")]
    touched = [line for line in original.splitlines() if any(c.old in line for c in changes)]
    assert [line[2:] for line in removed] == touched  # no other line differs
    undone = ported
    for change in reversed(changes):
        undone = undone.replace(change.new, change.old)
    assert undone == original
    # the block's arithmetic is untouched
    line = "net += scale * up" if variant == "v1" else "net += scaled_up"
    assert line in original and line in ported


@pytest.mark.parametrize(("variant", "errors"), [
    ("v1", ["ModuleNotFoundError: No module named 'tensorflow.contrib'",
            "AttributeError: module 'tensorflow' has no attribute 'variable_scope'",
            "must have rank 0"]),
    ("v2", ["AttributeError: module 'tensorflow' has no attribute 'contrib'",
            "AttributeError: module 'tensorflow' has no attribute 'variable_scope'"]),
])
def test_every_change_is_needed(variant, errors):
    stages = original_errors(variant)
    assert [s[1] for s in stages][-1] == "runs"
    assert len(stages) == len(errors) + 1
    for (_, got), expected in zip(stages, errors, strict=False):
        assert expected in got


def test_shim_is_narrow_and_reversible():
    assert "Tensor" not in vars(ops)  # TF 2.21 as installed
    with legacy.ops_tensor_shim() as added:
        assert added and ops.Tensor is tensor_lib.Tensor
    assert "Tensor" not in vars(ops)
    with pytest.raises(RuntimeError), legacy.ops_tensor_shim():
        raise RuntimeError("boom")
    assert "Tensor" not in vars(ops)  # removed on error too
    sentinel = object()
    ops.Tensor = sentinel  # someone else's alias is left alone
    try:
        with legacy.ops_tensor_shim() as added:
            assert not added and ops.Tensor is sentinel
        assert ops.Tensor is sentinel
    finally:
        del ops.Tensor


def test_slim_batch_norm_fails_without_the_shim():
    rows = {r.old: r for r in translation_table()}
    row = rows["slim.batch_norm(x, ...)  # on TF 2.21"]
    assert "ops' has no attribute 'Tensor'" in row.old_result
    assert row.new_result.endswith(":0") and not row.agree


@pytest.mark.parametrize("variant", ["v1", "v2"])
@pytest.mark.parametrize("activation", ["relu", "relu6", None])
def test_slim_outputs_equal_the_numpy_oracle(runs, variant, activation, x_v1, x_v2):
    run = runs[(variant, activation)]
    x = {"v1": x_v1, "v2": x_v2}[variant]
    oracle = reference.block_forward(x, seeded_weights(variant, 0), variant, 0.17, activation,
                                     intermediates=True)
    # the oracle clips scale*up for relu6 (as ours does); at scale 0.17 the clip never bites
    assert np.max(np.abs(0.17 * run.outputs["up"])) < 6.0
    assert list(run.outputs) == list(explainer.TRACE_NAMES)
    for name in explainer.TRACE_NAMES:
        assert run.outputs[name].shape == oracle[name].shape
        np.testing.assert_allclose(run.outputs[name], oracle[name], atol=1e-5, err_msg=name)


def test_variables_are_the_seeded_non_trivial_ones(runs):
    run = runs[("v2", "relu")]
    assert list(run.variables) == list(weight_shapes("v2"))
    for name, value in seeded_weights("v2", 0).items():
        np.testing.assert_array_equal(run.variables[name], value)
    for scope in ("Branch_0/Conv2d_1x1", "Branch_2/Conv2d_0c_3x3"):
        assert np.abs(run.variables[f"{scope}/BatchNorm/beta"]).min() > 0
        assert np.abs(run.variables[f"{scope}/BatchNorm/moving_mean"]).min() > 0
        assert not np.allclose(run.variables[f"{scope}/BatchNorm/moving_variance"], 1.0)
    assert np.abs(run.variables["Conv2d_1x1/biases"]).max() > 0


def test_graph_ops_are_the_snippets(runs):
    v1, v2 = runs[("v1", "relu")], runs[("v2", "relu6")]
    assert v1.graph_names["tower_conv1_1"] == "Block35/Branch_1/Conv2d_0b_3x3/Relu:0"
    assert v1.graph_names["scaled_up"] == "Block35/mul:0"  # scale * up
    assert v1.graph_names["net_sum"] == "Block35/add:0"  # net += ...
    assert v2.graph_names["scaled_up"].startswith("Block35/clip_by_value")  # tf-models' clip
    assert runs[("v1", None)].graph_names["net_out"] == "Block35/add:0"


def test_relu6_clip_is_the_original_behaviour(x_v1, x_v2):
    """facenet v1 has no clip; tf-models v2 clips scale*up to [-6, 6] for relu6 only."""
    v1 = legacy.run_slim_block35(x_v1, "v1", 20.0, "relu6")
    assert np.max(np.abs(v1.outputs["scaled_up"])) > 6.0
    np.testing.assert_allclose(v1.outputs["scaled_up"], 20.0 * v1.outputs["up"], rtol=1e-6)
    v2 = legacy.run_slim_block35(x_v2, "v2", 20.0, "relu6")
    assert np.max(np.abs(v2.outputs["scaled_up"])) == pytest.approx(6.0)
    v2_relu = legacy.run_slim_block35(x_v2, "v2", 20.0, "relu")
    assert np.max(np.abs(v2_relu.outputs["scaled_up"])) > 6.0


def test_the_slim_graph_leaves_eager_keras_alone(x_v1, block_v1, runs):
    assert tf.executing_eagerly()
    before = explainer.forward(block_v1, x_v1)
    legacy.run_slim_block35(x_v1, "v1")
    assert tf.executing_eagerly()
    assert not tf.compat.v1.get_default_graph().get_operations()
    np.testing.assert_array_equal(explainer.forward(block_v1, x_v1), before)
    np.testing.assert_allclose(runs[("v1", "relu")].net_out, before, atol=1e-5)


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"x": np.zeros((1, 5, 5, 320), np.float32)}, ValueError, "x: got 320 channels"),
    ({"variant": "v3"}, ValueError, "variant: got 'v3'"),
    ({"activation": "tanh"}, ValueError, "activation: got 'tanh'"),
    ({"scale": "big"}, TypeError, "scale: got 'big'"),
    ({"seed": -1}, ValueError, "seed: got -1"),
    ({"weights": [1, 2]}, TypeError, "weights: got list"),
    ({"weights": {"Conv2d_1x1/biases": np.zeros(256)}}, ValueError, "weights: missing"),
])
def test_bad_input_names_the_argument(x_v1, kwargs, error, fragment):
    args = {"x": x_v1, **kwargs}
    with pytest.raises(error, match=fragment.replace("(", r"\(")):
        legacy.run_slim_block35(**args)


def test_translation_table_rows_are_executed():
    rows = translation_table(seed=0)
    by_old = {r.old: r for r in rows}
    # the recorded error is the one TF 2.21 raises right now
    a = tf.ones([1, 2, 2, 3])
    with pytest.raises(ValueError) as err:
        tf.concat(3, [a, a])
    concat = by_old["tf.concat(3, [a, a])"]
    assert concat.old_result == f"ValueError: {str(err.value).splitlines()[0]}"
    assert concat.new_result == "(1, 2, 2, 6)" and not concat.agree
    for old in ("tf.variable_scope('Branch_0')", "tf.GraphKeys.TRAINABLE_VARIABLES",
                "tf.Session()", "tf.placeholder(tf.float32, [None, 35, 35, 256])"):
        name = old.split("(")[0].split(".")[1]
        assert by_old[old].old_result == \
            f"AttributeError: module 'tensorflow' has no attribute '{name}'"
        assert "Error" not in by_old[old].new_result and not by_old[old].agree
    assert by_old["tf.variable_scope('Branch_0')"].new_result == "Branch_0/w:0"
    numeric = [r for r in rows if "max |diff|" in r.new_result]
    assert len(numeric) == 6
    clip_rows = [r for r in numeric if "relu6" in r.old]
    assert [r.agree for r in clip_rows] == [False, True]  # facenet v1 has no clip; v2 clips
    assert all(r.agree for r in numeric if r not in clip_rows)
    assert "net_out" in clip_rows[0].new_result and "bites at" in clip_rows[0].note


def test_misshapen_weights_name_the_variable(x_v1):
    weights = seeded_weights("v1", 0)
    weights["Conv2d_1x1/biases"] = np.zeros(320, np.float32)
    with pytest.raises(ValueError, match=r"weights\['Conv2d_1x1/biases'\]: got shape \(320,\)"):
        legacy.run_slim_block35(x_v1, "v1", weights=weights)


# ------------------------------------------------- block17 and block8: the same treatment
@pytest.mark.parametrize("kind", ["block17", "block8"])
@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_block17_and_block8_texts_change_only_by_the_listed_changes(kind, variant):
    original = legacy.ORIGINALS_BY_BLOCK[kind][variant]
    ported = legacy.ported_source(variant, block=kind)
    changes = legacy.changes_for(variant, kind)
    assert changes and all(c.old in original and c.old not in ported for c in changes)
    removed = [line[2:] for line in difflib.ndiff(original.splitlines(), ported.splitlines())
               if line.startswith("- ")]
    assert removed == [line for line in original.splitlines()
                       if any(c.old in line for c in changes)]
    k = 7 if kind == "block17" else 3
    assert f"def {kind}(net, scale=1.0, activation_fn=tf.nn.relu" in original
    assert f"[1, {k}]" in original and f"[{k}, 1]" in original
    assert ("scaled_up = tf.clip_by_value(scaled_up, -6.0, 6.0)" in original) == (variant == "v2")
    assert f"{kind} (TF1)" in legacy.source_diff(variant, kind)


@pytest.mark.parametrize(("variant", "errors"), [
    ("v1", ["No module named 'tensorflow.contrib'", "no attribute 'variable_scope'",
            "must have rank 0"]),
    ("v2", ["no attribute 'contrib'", "no attribute 'variable_scope'"]),
])
def test_every_change_is_needed_for_block17(variant, errors):
    stages = original_errors(variant, "block17")
    assert [s[1] for s in stages][-1] == "runs" and len(stages) == len(errors) + 1
    for (_, got), expected in zip(stages, errors, strict=False):
        assert expected in got
