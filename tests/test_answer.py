"""Each statement of the plain-words answer is checked against what TensorFlow really does."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

import explainer
from explainer.answer import explain_block


def test_numbers_in_the_answer_come_from_the_trace():
    ans = explain_block("v1", scale=0.17, batch=1, size=35, seed=0)
    text = str(ans)
    tr = ans.trace
    assert f"{tr.residual_ratio:.4f}" in text
    assert f"{tr['up'].l2 / tr['net'].l2:.4f}" in text
    assert "(1, 35, 35, 256)" in text and f"{35 * 35 * 256:,} elements" in text
    assert np.isclose(ans.ratio_at_scale_1 * 0.17, tr.residual_ratio, rtol=1e-5)
    assert len(ans.lines) == 5


def test_the_operator_claims_hold():
    up = tf.ones((1, 2, 2, 3))
    assert float.__mul__(0.17, up) is NotImplemented
    assert isinstance(type(up).__rmul__(up, 0.17), tf.Tensor)
    assert not hasattr(type(up), "__iadd__")
    net = up
    alias = net
    net += 0.17 * up
    assert alias is not net and float(alias[0, 0, 0, 0]) == 1.0


def test_one_mul_between_the_projection_and_the_add(block_v1):
    """The whole block's graph: exactly one Mul that is not BatchNorm's arithmetic, and it
    sits between the projection's BiasAdd and the residual AddV2 (scale * up)."""
    fn = tf.function(lambda t: block_v1(t, training=False))
    graph = fn.get_concrete_function(tf.TensorSpec([1, 5, 5, 256], tf.float32)).graph
    ops = graph.get_operations()
    muls = [op for op in ops if op.type == "Mul" and "BatchNorm" not in op.name]
    assert len(muls) == 1, [op.name for op in muls]
    (mul,) = muls
    assert "scaled_up" in mul.name
    inputs = {t.op.type for t in mul.inputs}
    assert "BiasAdd" in inputs  # up, the projection's output
    consumers = [c.type for c in mul.outputs[0].consumers()]
    assert consumers == ["AddV2"]  # net + scale * up
    types = [op.type for op in ops]
    assert "Relu" in types and "ConcatV2" in types


def test_relu6_answer_says_clipped():
    ans = explain_block("v1", activation="relu6", size=5)
    assert ans.ratio_at_scale_1 is None and "clipped to [-6, 6]" in str(ans)
    assert explainer.build_block35(activation="relu6").get_layer("scaled_up").clip


def test_activation_is_read_as_the_block_reads_it():
    """'RELU6' builds a clipping block: the answer must say clipped and name relu6."""
    ans = explain_block("v1", activation="RELU6", size=5)
    text = str(ans)
    assert ans.ratio_at_scale_1 is None and "clipped to [-6, 6]" in text
    assert "RELU6" not in text and "(relu6)" in text
    assert ans.trace.spec.activation == "relu6"
